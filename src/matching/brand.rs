//! Brands: the alias table (brand ↔ written names ↔ companies holding its
//! certificates), finding a listing's brand, and deciding whether a company
//! owns a brand. Look-alike brands (`公午` for `公牛`) are recognised so that
//! they are never taken for the real one.

use crate::text::normalize::{company_core, fold_width, is_cjk, name_key};
use aho_corasick::{AhoCorasick, MatchKind};
use std::collections::HashMap;

pub use crate::domain::Brand;

/// An error in a brand alias CSV, with its line.
#[derive(Debug, thiserror::Error)]
pub enum BrandFileError {
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error(
        "not a brand alias table: the header must be `brand,aliases,companies`, found `{found}`"
    )]
    Header { found: String },
    #[error("reading CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// What the matcher knows about a listing's brand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingBrand {
    /// A brand of the alias table, and how the listing wrote it.
    Known { brand: usize, written: String },
    /// A brand name the alias table does not know; `lookalike` is a known
    /// brand it imitates (one character changed or added).
    Unknown {
        written: String,
        lookalike: Option<usize>,
    },
    /// No brand can be identified.
    None,
}

/// Brand field values that mean "no brand".
const NO_BRAND: &[&str] = &[
    "无品牌",
    "无",
    "其他",
    "其它",
    "other",
    "others",
    "oem",
    "通用",
    "不详",
    "无牌",
    "国产",
    "白牌",
    "-",
    "/",
    "none",
    "n/a",
];
/// Words before a brand in a title that mean "for use with", not "made by".
const COMPAT_BEFORE: &[&str] = &[
    "适用于",
    "适用",
    "兼容",
    "适配",
    "配套",
    "for ",
    "替代",
    "代替",
    "替换",
];
/// Words after a brand in a title that mean "the same style as".
const COMPAT_AFTER: &[&str] = &["同款", "专用", "款式", "风格", "平替", "替代"];

/// The alias table, indexed for lookups and title search.
#[derive(Debug, Clone)]
pub struct BrandTable {
    brands: Vec<Brand>,
    by_key: HashMap<String, usize>,
    title_search: Option<AhoCorasick>,
    pattern_brand: Vec<(usize, bool)>,
    company_cores: HashMap<String, Vec<usize>>,
    contained: Option<AhoCorasick>,
    contained_brand: Vec<usize>,
}

impl BrandTable {
    pub fn new(brands: Vec<Brand>) -> Self {
        let mut by_key = HashMap::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_brand = Vec::new();
        let mut contained_patterns: Vec<String> = Vec::new();
        let mut contained_brand = Vec::new();
        let mut company_cores: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, b) in brands.iter().enumerate() {
            for name in b.names() {
                let key = name_key(name);
                if key.is_empty() {
                    continue;
                }
                by_key.entry(key.clone()).or_insert(i);
                let latin = key.is_ascii();
                let pat = fold_width(name).to_lowercase();
                for p in [pat, key.clone()] {
                    if b.title_search
                        && !patterns.contains(&p)
                        && (latin && p.len() >= 2 || !latin && p.chars().count() >= 2)
                    {
                        patterns.push(p);
                        pattern_brand.push((i, latin));
                    }
                }
                if (!latin && key.chars().count() >= 2) || (latin && key.len() >= 3) {
                    contained_patterns.push(key);
                    contained_brand.push(i);
                }
            }
            for c in &b.companies {
                let core = company_core(c);
                if !core.is_empty() {
                    let owners = company_cores.entry(core).or_default();
                    if !owners.contains(&i) {
                        owners.push(i);
                    }
                }
            }
        }
        let build = |pats: &[String]| {
            (!pats.is_empty()).then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(pats)
                    .expect("brand patterns build")
            })
        };
        let overlapping = (!contained_patterns.is_empty())
            .then(|| AhoCorasick::new(&contained_patterns).expect("brand patterns build"));
        BrandTable {
            title_search: build(&patterns),
            contained: overlapping,
            brands,
            by_key,
            pattern_brand,
            company_cores,
            contained_brand,
        }
    }

    /// Reads the alias CSV `brand,aliases,companies` with `|`-separated lists.
    pub fn read_csv<R: std::io::Read>(reader: R) -> Result<Vec<Brand>, BrandFileError> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers: Vec<String> = rdr
            .headers()?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_lowercase())
            .collect();
        if headers.len() < 3
            || headers[0] != "brand"
            || headers[1] != "aliases"
            || headers[2] != "companies"
            || headers.get(3).is_some_and(|h| h != "title_search")
        {
            return Err(BrandFileError::Header {
                found: headers.join(","),
            });
        }
        let mut out = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec?;
            let line = rec.position().map_or(i as u64 + 2, |p| p.line());
            let name = rec.get(0).unwrap_or("").trim();
            if name.is_empty() {
                if rec.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                return Err(BrandFileError::Row {
                    line,
                    message: "column `brand` is empty".into(),
                });
            }
            let list = |i: usize| -> Vec<String> {
                rec.get(i)
                    .unwrap_or("")
                    .split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            let title_search = match rec.get(3).map(|s| s.trim().to_lowercase()) {
                None => true,
                Some(v) if v.is_empty() || v == "yes" || v == "true" => true,
                Some(v) if v == "no" || v == "false" => false,
                Some(v) => {
                    return Err(BrandFileError::Row {
                        line,
                        message: format!("column `title_search` must be yes or no, found `{v}`"),
                    });
                }
            };
            out.push(Brand {
                name: name.to_string(),
                aliases: list(1),
                companies: list(2),
                title_search,
            });
        }
        Ok(out)
    }

    /// The table shipped in `certdb/brands.csv`.
    pub fn embedded() -> Self {
        let brands =
            Self::read_csv(EMBEDDED_BRANDS.as_bytes()).expect("certdb/brands.csv is valid");
        Self::new(brands)
    }

    pub fn brands(&self) -> &[Brand] {
        &self.brands
    }

    pub fn get(&self, i: usize) -> &Brand {
        &self.brands[i]
    }

    pub fn len(&self) -> usize {
        self.brands.len()
    }

    pub fn is_empty(&self) -> bool {
        self.brands.is_empty()
    }

    /// The brand a written name belongs to, exactly (after normalisation).
    pub fn lookup(&self, written: &str) -> Option<usize> {
        self.by_key.get(&name_key(written)).copied()
    }

    /// Identifies a brand from a brand field value such as `BULL/公牛`,
    /// `公牛（BULL）`, `公牛`; `None` when the value means "no brand".
    pub fn identify_field(&self, value: &str) -> ListingBrand {
        let folded = fold_width(value);
        let trimmed = folded.trim();
        if trimmed.is_empty() || NO_BRAND.iter().any(|n| trimmed.eq_ignore_ascii_case(n)) {
            return ListingBrand::None;
        }
        if let Some(b) = self.lookup(trimmed) {
            return ListingBrand::Known {
                brand: b,
                written: trimmed.to_string(),
            };
        }
        let parts: Vec<&str> = trimmed
            .split(|c: char| {
                matches!(c, '/' | '(' | ')' | '【' | '】' | '|' | '、' | '\\' | '丨')
                    || c.is_whitespace()
            })
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        for p in &parts {
            if let Some(b) = self.lookup(p) {
                return ListingBrand::Known {
                    brand: b,
                    written: trimmed.to_string(),
                };
            }
        }
        let lookalike = parts.iter().find_map(|p| self.lookalike(p));
        ListingBrand::Unknown {
            written: trimmed.to_string(),
            lookalike,
        }
    }

    /// Finds the first brand named in a title, skipping "compatible with"
    /// mentions (`适用于小米`, `戴森同款`).
    pub fn find_in_title(&self, title: &str) -> Option<(usize, String)> {
        let ac = self.title_search.as_ref()?;
        let text = fold_width(title).to_lowercase();
        for m in ac.find_iter(&text) {
            let (brand, latin) = self.pattern_brand[m.pattern().as_usize()];
            let before = &text[..m.start()];
            let after = &text[m.end()..];
            if latin
                && (before
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
                    || after
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphanumeric()))
            {
                continue;
            }
            let near_before: String = before
                .chars()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let near_before = near_before.trim_end();
            if COMPAT_BEFORE
                .iter()
                .any(|w| near_before.ends_with(w.trim_end()))
                || COMPAT_AFTER
                    .iter()
                    .any(|w| after.trim_start().starts_with(w))
            {
                continue;
            }
            return Some((brand, text[m.start()..m.end()].to_string()));
        }
        None
    }

    /// A known brand that `written` imitates: same length with one character
    /// changed, or one character added (`公午`→`公牛`, `乐高高`→`乐高`).
    pub fn lookalike(&self, written: &str) -> Option<usize> {
        let key = name_key(written);
        let n = key.chars().count();
        if n < 2 || self.by_key.contains_key(&key) {
            return None;
        }
        let cjk = key.chars().any(is_cjk);
        let min_len = if cjk { 2 } else { 4 };
        let (first, last) = (key.chars().next(), key.chars().next_back());
        self.by_key
            .iter()
            .filter(|(k, _)| {
                // Cheap necessary conditions for an edit distance of one.
                let m = k.chars().count();
                m >= min_len
                    && m.abs_diff(n) <= 1
                    && (k.chars().next() == first || k.chars().next_back() == last)
                    && k.chars().any(is_cjk) == cjk
            })
            .filter(|(k, _)| strsim::levenshtein(k, &key) == 1)
            .map(|(k, &b)| (k.chars().count(), b))
            .max()
            .map(|(_, b)| b)
    }

    /// Brands whose certificates `company` holds: its name equals one of the
    /// brand's companies (legal form ignored), or contains one of its names.
    pub fn owners_of(&self, company: &str) -> Vec<usize> {
        let core = company_core(company);
        let mut owners: Vec<usize> = self.company_cores.get(&core).cloned().unwrap_or_default();
        if let Some(ac) = &self.contained {
            let key = name_key(company);
            for m in ac.find_overlapping_iter(&key) {
                let b = self.contained_brand[m.pattern().as_usize()];
                let pat_latin = key[m.start()..m.end()].is_ascii();
                let boundary_ok = !pat_latin
                    || (!key[..m.start()]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_ascii_alphanumeric())
                        && !key[m.end()..]
                            .chars()
                            .next()
                            .is_some_and(|c| c.is_ascii_alphanumeric()));
                if boundary_ok && !owners.contains(&b) {
                    owners.push(b);
                }
            }
        }
        owners
    }

    /// The listed company of `brand` whose name is most similar to `company`,
    /// with the Jaro–Winkler similarity of their cores (for reasons shown to
    /// reviewers; never used to accept a match).
    pub fn closest_company(&self, brand: usize, company: &str) -> Option<(&str, f64)> {
        let core = company_core(company);
        self.brands[brand]
            .companies
            .iter()
            .map(|c| (c.as_str(), strsim::jaro_winkler(&company_core(c), &core)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

const EMBEDDED_BRANDS: &str = include_str!("../../certdb/brands.csv");

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> BrandTable {
        BrandTable::new(vec![
            Brand {
                name: "公牛".into(),
                aliases: vec!["BULL".into(), "公牛插座".into()],
                companies: vec!["公牛集团股份有限公司".into(), "宁波公牛电器有限公司".into()],
                title_search: true,
            },
            Brand {
                name: "小米".into(),
                aliases: vec!["MI".into(), "米家".into(), "Xiaomi".into()],
                companies: vec!["小米通讯技术有限公司".into()],
                title_search: true,
            },
            Brand {
                name: "乐高".into(),
                aliases: vec!["LEGO".into()],
                companies: vec!["乐高玩具（嘉兴）有限公司".into()],
                title_search: true,
            },
            Brand {
                name: "小熊".into(),
                aliases: vec!["Bear".into()],
                companies: vec!["小熊电器股份有限公司".into()],
                title_search: false,
            },
        ])
    }

    #[test]
    fn identifies_written_forms() {
        let t = table();
        for v in [
            "BULL/公牛",
            "公牛（BULL）",
            "公牛",
            "bull",
            "ＢＵＬＬ",
            "公牛 (BULL)",
        ] {
            assert!(
                matches!(t.identify_field(v), ListingBrand::Known { brand: 0, .. }),
                "{v}"
            );
        }
        assert_eq!(t.identify_field("无品牌"), ListingBrand::None);
        match t.identify_field("公午") {
            ListingBrand::Unknown { lookalike, .. } => assert_eq!(lookalike, Some(0)),
            other => panic!("{other:?}"),
        }
        match t.identify_field("乐高高") {
            ListingBrand::Unknown { lookalike, .. } => assert_eq!(lookalike, Some(2)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            t.identify_field("德力西"),
            ListingBrand::Unknown {
                lookalike: None,
                ..
            }
        ));
    }

    #[test]
    fn title_search_skips_compatible_mentions() {
        let t = table();
        assert_eq!(t.find_in_title("公牛插座 GN-H3050").map(|b| b.0), Some(0));
        assert_eq!(t.find_in_title("适用于小米 电源线 插头"), None);
        assert_eq!(t.find_in_title("小米同款 插线板"), None);
        assert_eq!(
            t.find_in_title("MINI 插座"),
            None,
            "MI must not match inside MINI"
        );
        assert_eq!(
            t.find_in_title("Xiaomi/小米 米家插线板").map(|b| b.0),
            Some(1)
        );
    }

    #[test]
    fn owners_of_companies() {
        let t = table();
        assert_eq!(t.owners_of("宁波公牛电器有限公司"), vec![0]);
        assert_eq!(t.owners_of("公牛集团有限公司"), vec![0]);
        assert_eq!(t.owners_of("慈溪公牛数码科技有限公司"), vec![0]);
        assert!(t.owners_of("宁波公元电器有限公司").is_empty());
        assert_eq!(t.owners_of("乐高玩具(嘉兴)有限公司"), vec![2]);
    }

    #[test]
    fn embedded_table_loads() {
        let t = BrandTable::embedded();
        assert!(t.len() >= 60, "ship at least 60 brands, found {}", t.len());
    }
}
