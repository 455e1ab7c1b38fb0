//! The CCC catalog as data (`certdb/catalog.csv`): which listings are in
//! scope, under which product code. Accessories whose titles contain a
//! catalog word (`插座保护盖`, `电饭煲内胆`) are excluded by exclusion words.

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Serialize;

/// One catalog product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogEntry {
    pub code: String,
    pub name: String,
    pub group: String,
    pub keywords: Vec<String>,
    pub exclusions: Vec<String>,
}

/// An error in a catalog CSV, with its line.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error(
        "not a catalog file: the header must start with `code,name,group,keywords,exclusions`, found `{found}`"
    )]
    Header { found: String },
    #[error("reading CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Whether a listing is in scope, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope<'a> {
    InScope {
        entry: &'a CatalogEntry,
        keyword: String,
    },
    Excluded {
        entry: &'a CatalogEntry,
        keyword: String,
        exclusion: String,
    },
    NoKeyword,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
    keywords: AhoCorasick,
    keyword_entry: Vec<usize>,
    exclusions: AhoCorasick,
    exclusion_entry: Vec<usize>,
}

const EMBEDDED_CATALOG: &str = include_str!("../../certdb/catalog.csv");

impl Catalog {
    /// Builds the matcher. An exclusion word that is also some product's
    /// keyword is dropped: the longest keyword already routes such titles.
    pub fn new(entries: Vec<CatalogEntry>) -> Self {
        let all_keywords: std::collections::HashSet<String> = entries
            .iter()
            .flat_map(|e| e.keywords.iter().map(|k| k.to_lowercase()))
            .collect();
        let (mut kws, mut kw_entry, mut exs, mut ex_entry) = (vec![], vec![], vec![], vec![]);
        for (i, e) in entries.iter().enumerate() {
            for k in &e.keywords {
                kws.push(k.to_lowercase());
                kw_entry.push(i);
            }
            for x in e
                .exclusions
                .iter()
                .filter(|x| !all_keywords.contains(&x.to_lowercase()))
            {
                exs.push(x.to_lowercase());
                ex_entry.push(i);
            }
        }
        let build = |p: &[String]| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(p)
                .expect("catalog patterns build")
        };
        Catalog {
            keywords: build(&kws),
            keyword_entry: kw_entry,
            exclusions: build(&exs),
            exclusion_entry: ex_entry,
            entries,
        }
    }

    /// The catalog shipped in `certdb/catalog.csv`.
    pub fn embedded() -> Self {
        Self::new(Self::read_csv(EMBEDDED_CATALOG.as_bytes()).expect("certdb/catalog.csv is valid"))
    }

    pub fn from_path(path: &std::path::Path) -> Result<Self, CatalogError> {
        let file = std::fs::File::open(path).map_err(|e| CatalogError::Row {
            line: 0,
            message: format!("cannot open {}: {e}", path.display()),
        })?;
        Ok(Self::new(Self::read_csv(file)?))
    }

    pub fn read_csv<R: std::io::Read>(reader: R) -> Result<Vec<CatalogEntry>, CatalogError> {
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
        let headers: Vec<String> = rdr
            .headers()?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_lowercase())
            .collect();
        if headers.len() < 5 || headers[..5] != ["code", "name", "group", "keywords", "exclusions"]
        {
            return Err(CatalogError::Header {
                found: headers.join(","),
            });
        }
        let mut out = Vec::new();
        for rec in rdr.records() {
            let rec = rec?;
            let line = rec.position().map_or(0, |p| p.line());
            let field = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
            let list = |i: usize| -> Vec<String> {
                field(i)
                    .split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            let code = field(0);
            if code.is_empty() && rec.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CatalogError::Row {
                    line,
                    message: format!("`code` must be 4 digits, found `{code}`"),
                });
            }
            let keywords = list(3);
            if keywords.is_empty() {
                return Err(CatalogError::Row {
                    line,
                    message: format!("product {code} has no keywords"),
                });
            }
            out.push(CatalogEntry {
                code,
                name: field(1),
                group: field(2),
                keywords,
                exclusions: list(4),
            });
        }
        Ok(out)
    }

    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    pub fn entry(&self, code: &str) -> Option<&CatalogEntry> {
        self.entries.iter().find(|e| e.code == code)
    }

    /// Decides scope from a listing's title, or its category when the title
    /// names no product. In a category only an exclusion phrase around the
    /// keyword counts (`插线板收纳盒`); a generic word such as `配件` in
    /// `手机配件>充电器` says nothing about the item. Among the
    /// products whose keywords occur, one wins that no exclusion word rules
    /// out: the longest keyword, then the one nearest the end (Chinese titles
    /// put the product noun last). An exclusion rules out its own product's
    /// keywords and any keyword inside the excluded phrase.
    pub fn classify(&self, title: &str, category: Option<&str>) -> Scope<'_> {
        match self.classify_text(title, true) {
            Scope::NoKeyword => match category {
                Some(c) => match self.classify_text(c, false) {
                    Scope::InScope { entry, keyword } => {
                        // The title may still name an accessory of that product.
                        match self.exclusion_in(title) {
                            Some(x) => Scope::Excluded {
                                entry,
                                keyword,
                                exclusion: x,
                            },
                            None => Scope::InScope { entry, keyword },
                        }
                    }
                    other => other,
                },
                None => Scope::NoKeyword,
            },
            found => found,
        }
    }

    fn exclusion_in(&self, title: &str) -> Option<String> {
        let text = crate::matching::normalize::fold_width(title).to_lowercase();
        self.exclusions
            .find(&text)
            .map(|m| text[m.start()..m.end()].to_string())
    }

    fn classify_text(&self, text: &str, with_exclusions: bool) -> Scope<'_> {
        let text = crate::matching::normalize::fold_width(text).to_lowercase();
        let exclusions: Vec<(usize, usize, usize)> = self
            .exclusions
            .find_overlapping_iter(&text)
            .map(|m| {
                (
                    self.exclusion_entry[m.pattern().as_usize()],
                    m.start(),
                    m.end(),
                )
            })
            .collect();
        let mut best: Option<(usize, usize, usize, usize)> = None; // (len, end, entry, start)
        let mut excluded: Option<(usize, usize, usize, usize)> = None; // (entry, kw start, kw end, exclusion idx)
        for m in self.keywords.find_overlapping_iter(&text) {
            let entry = self.keyword_entry[m.pattern().as_usize()];
            let hit = exclusions.iter().position(|&(e, s, en)| {
                (with_exclusions && e == entry) || (s <= m.start() && m.end() <= en)
            });
            match hit {
                Some(x) => {
                    excluded.get_or_insert((entry, m.start(), m.end(), x));
                }
                None => {
                    let cand = (m.end() - m.start(), m.end(), entry, m.start());
                    if best.is_none_or(|b| (cand.0, cand.1) > (b.0, b.1)) {
                        best = Some(cand);
                    }
                }
            }
        }
        if let Some((_, end, entry, start)) = best {
            return Scope::InScope {
                entry: &self.entries[entry],
                keyword: text[start..end].to_string(),
            };
        }
        if let Some((entry, s, e, x)) = excluded {
            let (_, xs, xe) = exclusions[x];
            return Scope::Excluded {
                entry: &self.entries[entry],
                keyword: text[s..e].to_string(),
                exclusion: text[xs..xe].to_string(),
            };
        }
        Scope::NoKeyword
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: &str, keywords: &[&str], exclusions: &[&str]) -> CatalogEntry {
        CatalogEntry {
            code: code.into(),
            name: format!("产品{code}"),
            group: "测试".into(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            exclusions: exclusions.iter().map(|x| x.to_string()).collect(),
        }
    }

    fn catalog() -> Catalog {
        Catalog::new(vec![
            entry(
                "0201",
                &["插座", "插线板", "排插"],
                &["插座保护盖", "插线板收纳盒"],
            ),
            entry("0718", &["电饭煲"], &["内胆"]),
            entry("0717", &["电热水壶"], &["水壶刷"]),
        ])
    }

    impl Catalog {
        fn classify_t(&self, title: &str) -> Scope<'_> {
            self.classify(title, None)
        }
    }

    #[test]
    fn category_names_the_product_and_only_exclusion_phrases_count() {
        let c = catalog();
        assert!(
            matches!(c.classify("GaN 65W 快充头", Some("家用电器>插座")), Scope::InScope { entry, .. } if entry.code == "0201")
        );
        assert!(matches!(
            c.classify("公牛 GN-H3050", Some("配件>插线板收纳盒")),
            Scope::Excluded { .. }
        ));
        assert!(matches!(
            c.classify("儿童插座保护盖", Some("家用电器>插座")),
            Scope::Excluded { .. }
        ));
    }

    #[test]
    fn exclusions_that_are_keywords_are_dropped() {
        let c = Catalog::new(vec![
            entry("0807", &["电视电源适配器"], &[]),
            entry("0907", &["电源适配器"], &["电视电源适配器"]),
        ]);
        assert!(
            matches!(c.classify("电视电源适配器 12V", None), Scope::InScope { entry, .. } if entry.code == "0807")
        );
    }

    #[test]
    fn classifies() {
        let c = catalog();
        assert!(
            matches!(c.classify_t("公牛插座 GN-H3050"), Scope::InScope { entry, .. } if entry.code == "0201")
        );
        assert!(matches!(
            c.classify_t("儿童插座保护盖 防触电"),
            Scope::Excluded { .. }
        ));
        assert!(matches!(
            c.classify_t("美的电饭煲内胆 原装"),
            Scope::Excluded { .. }
        ));
        assert!(
            matches!(c.classify_t("304不锈钢内胆电热水壶"), Scope::InScope { entry, .. } if entry.code == "0717")
        );
        assert!(matches!(c.classify_t("手机壳"), Scope::NoKeyword));
        assert!(matches!(
            c.classify_t("插线板收纳盒"),
            Scope::Excluded { .. }
        ));
    }

    #[test]
    fn embedded_catalog_loads() {
        let c = Catalog::embedded();
        for code in ["0201", "0202", "0717", "0718", "2202", "2203"] {
            assert!(c.entry(code).is_some(), "catalog lacks {code}");
        }
    }
}
