//! The CCC catalog as data (`certdb/catalog.toml`): every product of the
//! official catalog with its code, official description and exclusions, the
//! words sellers use for it, the words that name its accessories and
//! look-alikes, and the product kinds outside the catalog. In: the file
//! (TOML, or the older CSV layout). Out: a [`Catalog`] that reads a text
//! (title, category path, spec value) into [`TextScope`]: which product it
//! names, or which positive reason puts it outside the catalog, or nothing.
//! How those readings combine with a listing's other signals is the
//! matcher's rule ([`crate::matching::scope`]).

use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};

/// One catalog product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CatalogEntry {
    pub code: String,
    pub name: String,
    pub group: String,
    /// The official category (大类).
    pub category: String,
    /// A summary of the official description.
    pub description: String,
    /// A summary of what the official texts exclude.
    pub excluded: String,
    pub keywords: Vec<String>,
    pub exclusions: Vec<String>,
    /// Words of platform category paths that name the product.
    pub categories: Vec<String>,
    /// Keywords whose goods are in the catalog or not depending on what
    /// titles rarely say (material, supply voltage): listings named by them
    /// are judged as this product with scope uncertain, for review.
    pub doubtful: Vec<String>,
}

impl CatalogEntry {
    /// Whether two entries are one product: the same code, or toys (2202
    /// and the sub-codes 2203–2206 that older certificates carry).
    pub fn same_product(&self, other: &CatalogEntry) -> bool {
        let toy = |e: &CatalogEntry| {
            matches!(e.code.as_str(), "2202" | "2203" | "2204" | "2205" | "2206")
        };
        self.code == other.code || (toy(self) && toy(other))
    }
}

/// A kind of goods outside the catalog and the words that name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct OutsideKind {
    pub kind: String,
    pub words: Vec<String>,
}

/// Words that make a catalog word the modifier of something else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AccessoryWords {
    /// Parts, accessories and consumables (`内胆`, `保护盖`, `滤网`).
    pub words: Vec<String>,
    /// "For / compatible with" markers (`适用于`, `兼容`).
    pub compat: Vec<String>,
    /// Words that make a whole title an accessory's wherever they stand
    /// (`配件`, `零件`), unless a "with" word (`送`, `带`) comes before.
    pub anywhere: Vec<String>,
    /// Devices that other goods are made for (`手机`, `ipad`, `电脑`): a
    /// title whose product word is one of these sells something else when
    /// one of [`AccessoryWords::of_hosts`] follows it closely (`手机臂包`) or
    /// a word of goods outside the catalog comes straight after it
    /// (`手机话筒`).
    pub hosts: Vec<String>,
    /// What is sold for a host device, when it follows the device's word
    /// across at most four characters (`保护套`, `支架`, `读卡器`).
    pub of_hosts: Vec<String>,
    /// Words of `of_hosts` that make the device the goods' remote control
    /// (`手机远程`): the device is then not what is sold, and another
    /// product the title names is (`智能插头 … 手机远程`).
    pub controls: Vec<String>,
    /// How the names of parts, accessories and look-alike goods end (`垫`,
    /// `管`, `罩`, `架`): a word of two to four Chinese characters that
    /// stands right after a product word (across spaces only) and ends in
    /// one of these names what is sold, the product word saying what it is
    /// for (`电磁炉 防滑垫`, `洗衣机进水管`, `空调 铜管`). Words the catalog
    /// reads itself, and extras (words starting with 送 赠 带 含 配:
    /// `带遥控器`), do not count.
    pub tails: Vec<String>,
    /// Words that end like a part but describe the product (`面板`, `全套`).
    pub not_tails: Vec<String>,
    /// Words saying the goods run on fuel or by hand (`煤油`, `木炭`, `不插电`,
    /// `手摇`). A title naming a product of one of `unpowered_groups` with
    /// such a word names a non-electric version of it (`煤油取暖器`,
    /// `手摇 洗衣机`), outside the catalog. A keyword that holds the word is
    /// not affected. (The shipped list leaves gas words out: gas water
    /// heaters and hobs are catalog products of their own.)
    pub unpowered: Vec<String>,
    /// The product groups (`group` of `[[product]]`) that the catalog covers
    /// only when powered by mains electricity (`家用电器`).
    pub unpowered_groups: Vec<String>,
}

/// What catalog products have in common (power, children, vehicles, gas):
/// a title with none of these words and no other signal is outside the
/// catalog; one with them is for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct HintWords {
    pub words: Vec<String>,
    /// Words that hold a hint but say nothing of the kind (`有机` food,
    /// `刷机` a service, `电信` a carrier): a hint inside one does not count.
    pub not: Vec<String>,
    /// Names of makers of catalog products, for titles that give only a
    /// maker and a model (`莱克 M12 MAX 无线 手持`).
    pub makers: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CatalogMeta {
    title: String,
    version: String,
    sources: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct CatalogFile {
    catalog: CatalogMeta,
    product: Vec<CatalogEntry>,
    accessories: AccessoryWords,
    hints: HintWords,
    outside: Vec<OutsideKind>,
}

/// An error in a catalog file, with where it is.
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
    #[error("{0}")]
    Toml(String),
    #[error("{key}: {message}")]
    Field { key: String, message: String },
}

/// What one text says about scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextScope<'a> {
    /// It names a catalog product (`keyword`, as written in the text).
    Product {
        entry: &'a CatalogEntry,
        keyword: String,
        /// A product word outside the catalog that the text names too
        /// (keyword-stuffed titles): the reading is then uncertain.
        rival: Option<(String, String)>,
        /// The keyword is one of the product's `doubtful` words: whether such
        /// goods are in the catalog depends on what titles rarely say.
        doubtful: bool,
        /// The text also names an accessory of a catalog product (the word
        /// that shows it: `冰箱底座 … 冰箱` gives `底座`).
        accessory: Option<String>,
    },
    /// It names an accessory, part or look-alike of a catalog product.
    Accessory {
        entry: &'a CatalogEntry,
        keyword: String,
        /// The word that shows it (`内胆`, `插座保护盖`, `适用于`).
        marker: String,
    },
    /// It names goods of a kind outside the catalog.
    Outside { kind: String, word: String },
    /// It names nothing the catalog knows either way.
    Silent,
}

/// The pattern kinds in one automaton.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pat {
    Keyword(usize),
    Exclusion(usize),
    Accessory,
    Compat,
    Outside(usize),
    Hint,
    NotHint,
    Anywhere,
    OfHost,
    Unpowered,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
    outside: Vec<OutsideKind>,
    accessories: AccessoryWords,
    hints: HintWords,
    title: String,
    version: String,
    sources: Vec<String>,
    patterns: AhoCorasick,
    kinds: Vec<Pat>,
    category_patterns: AhoCorasick,
    category_entry: Vec<usize>,
    /// `[accessories] tails` and `not_tails`, folded and lowercase.
    tails: Vec<String>,
    not_tails: Vec<String>,
    /// `[hints] makers`, folded, and an automaton over them.
    makers: Vec<String>,
    maker_patterns: AhoCorasick,
    fingerprint: String,
}

const EMBEDDED_CATALOG: &str = include_str!("../../certdb/catalog.toml");

/// Characters that may stand between a product word and the accessory word
/// it is part of (`电饭煲 原装 内胆`, `风扇の罩`, `电饭锅4L内胆`).
const GAP_FILLERS: &[&str] = &[
    "的", "原装", "原厂", "专用", "通用", "配套", "替换", "更换", "备用", "款", "型", "用", "上",
];

impl Catalog {
    /// Builds the matcher. An exclusion word that is also some product's
    /// keyword is dropped: the longest keyword already routes such titles.
    pub fn new(entries: Vec<CatalogEntry>) -> Self {
        Self::build(
            entries,
            Vec::new(),
            AccessoryWords::default(),
            HintWords::default(),
            CatalogMeta::default(),
        )
    }

    fn build(
        entries: Vec<CatalogEntry>,
        outside: Vec<OutsideKind>,
        accessories: AccessoryWords,
        hints: HintWords,
        meta: CatalogMeta,
    ) -> Self {
        let lower = crate::text::simplify::fold_scope;
        let all_keywords: std::collections::HashSet<String> = entries
            .iter()
            .flat_map(|e| e.keywords.iter().map(|k| lower(k)))
            .collect();
        let mut pats: Vec<String> = Vec::new();
        let mut kinds: Vec<Pat> = Vec::new();
        let mut push = |p: String, k: Pat| {
            if !p.is_empty() {
                pats.push(p);
                kinds.push(k);
            }
        };
        for (i, e) in entries.iter().enumerate() {
            for k in &e.keywords {
                push(lower(k), Pat::Keyword(i));
            }
            for x in e
                .exclusions
                .iter()
                .filter(|x| !all_keywords.contains(&lower(x)))
            {
                push(lower(x), Pat::Exclusion(i));
            }
        }
        for w in &accessories.words {
            push(lower(w), Pat::Accessory);
        }
        for w in &accessories.compat {
            push(lower(w), Pat::Compat);
        }
        for w in &accessories.anywhere {
            push(lower(w), Pat::Anywhere);
        }
        for w in &accessories.of_hosts {
            push(lower(w), Pat::OfHost);
        }
        for w in &accessories.unpowered {
            push(lower(w), Pat::Unpowered);
        }
        for (i, o) in outside.iter().enumerate() {
            for w in o.words.iter().filter(|w| !all_keywords.contains(&lower(w))) {
                push(lower(w), Pat::Outside(i));
            }
        }
        for w in &hints.words {
            push(lower(w), Pat::Hint);
        }
        for w in &hints.not {
            push(lower(w), Pat::NotHint);
        }
        let (mut cats, mut cat_entry) = (Vec::new(), Vec::new());
        for (i, e) in entries.iter().enumerate() {
            for c in e.categories.iter().chain(&e.keywords) {
                cats.push(lower(c));
                cat_entry.push(i);
            }
        }
        let build = |p: &[String]| {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(p)
                .expect("catalog patterns build")
        };
        let fingerprint = fingerprint(&entries, &outside, &accessories, &hints);
        let folded = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|w| lower(w.trim()))
                .filter(|w| !w.is_empty())
                .collect()
        };
        let makers = folded(&hints.makers);
        Catalog {
            maker_patterns: build(&makers),
            makers,
            tails: folded(&accessories.tails),
            not_tails: folded(&accessories.not_tails),
            patterns: build(&pats),
            kinds,
            category_patterns: build(&cats),
            category_entry: cat_entry,
            entries,
            outside,
            accessories,
            hints,
            title: meta.title,
            version: meta.version,
            sources: meta.sources,
            fingerprint,
        }
    }

    /// A catalog from its parts (tests and tools; files go through
    /// [`Catalog::from_toml`]).
    pub fn from_parts(
        entries: Vec<CatalogEntry>,
        outside: Vec<OutsideKind>,
        accessories: AccessoryWords,
        hints: HintWords,
    ) -> Self {
        Self::build(entries, outside, accessories, hints, CatalogMeta::default())
    }

    /// The catalog shipped in `certdb/catalog.toml`.
    pub fn embedded() -> Self {
        Self::from_toml(EMBEDDED_CATALOG).expect("certdb/catalog.toml is valid")
    }

    /// Reads a catalog file: TOML (`catalog.toml`), or the older CSV layout
    /// (`code,name,group,keywords,exclusions`) for bureaus' edited copies.
    pub fn from_path(path: &std::path::Path) -> Result<Self, CatalogError> {
        let bytes = std::fs::read(path).map_err(|e| CatalogError::Row {
            line: 0,
            message: format!("cannot open {}: {e}", path.display()),
        })?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            return Ok(Self::new(Self::read_csv(&bytes[..])?));
        }
        let text = String::from_utf8(bytes).map_err(|e| CatalogError::Row {
            line: 0,
            message: format!("{} is not UTF-8: {e}", path.display()),
        })?;
        Self::from_toml(&text)
    }

    /// Parses and validates the TOML layout.
    pub fn from_toml(text: &str) -> Result<Self, CatalogError> {
        let file: CatalogFile =
            toml::from_str(text).map_err(|e| CatalogError::Toml(e.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        for (i, p) in file.product.iter().enumerate() {
            let key = |f: &str| format!("product[{i}] ({}).{f}", p.code);
            if p.code.len() != 4 || !p.code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CatalogError::Field {
                    key: key("code"),
                    message: format!("must be 4 digits, found `{}`", p.code),
                });
            }
            if !seen.insert(p.code.clone()) {
                return Err(CatalogError::Field {
                    key: key("code"),
                    message: "appears twice".into(),
                });
            }
            if p.keywords.iter().all(|k| k.trim().is_empty()) {
                return Err(CatalogError::Field {
                    key: key("keywords"),
                    message: "a product needs at least one keyword".into(),
                });
            }
            if let Some(blank) = p
                .keywords
                .iter()
                .chain(&p.exclusions)
                .chain(&p.categories)
                .chain(&p.doubtful)
                .position(|k| k.trim().is_empty())
            {
                return Err(CatalogError::Field {
                    key: key("keywords"),
                    message: format!("word {} is empty", blank + 1),
                });
            }
        }
        // A control word does nothing unless it is read as a host's word.
        if let Some(w) = file
            .accessories
            .controls
            .iter()
            .find(|c| !file.accessories.of_hosts.contains(c))
        {
            return Err(CatalogError::Field {
                key: "accessories.controls".into(),
                message: format!("`{w}` must also be in accessories.of_hosts"),
            });
        }
        if let Some(g) = file
            .accessories
            .unpowered_groups
            .iter()
            .find(|g| !file.product.iter().any(|p| &p.group == *g))
        {
            return Err(CatalogError::Field {
                key: "accessories.unpowered_groups".into(),
                message: format!("no [[product]] has group `{g}`"),
            });
        }
        let mut products = file.product;
        for p in &mut products {
            for list in [
                &mut p.keywords,
                &mut p.exclusions,
                &mut p.categories,
                &mut p.doubtful,
            ] {
                for w in list.iter_mut() {
                    *w = w.trim().to_string();
                }
            }
        }
        Ok(Self::build(
            products,
            file.outside,
            file.accessories,
            file.hints,
            file.catalog,
        ))
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
                ..CatalogEntry::default()
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

    pub fn outside_kinds(&self) -> &[OutsideKind] {
        &self.outside
    }

    pub fn accessories(&self) -> &AccessoryWords {
        &self.accessories
    }

    pub fn hints(&self) -> &HintWords {
        &self.hints
    }

    /// The first word in `text` that catalog products have in common
    /// (`[hints]`), if any.
    /// A hint inside a word of `[hints] not` (`有机`, `刷机`) does not count.
    pub fn hint_in(&self, text: &str) -> Option<String> {
        let text = crate::text::simplify::fold_scope(text);
        let hits: Vec<(Pat, usize, usize)> = self
            .patterns
            .find_overlapping_iter(&text)
            .map(|m| (self.kinds[m.pattern().as_usize()], m.start(), m.end()))
            .filter(|&(k, ..)| matches!(k, Pat::Hint | Pat::NotHint | Pat::Unpowered))
            .collect();
        // `非电动`, `不插电`: the `电` inside says the goods are not electric.
        hits.iter()
            .find(|&&(k, s, e)| {
                k == Pat::Hint
                    && !hits.iter().any(|&(k2, s2, e2)| {
                        matches!(k2, Pat::NotHint | Pat::Unpowered) && s2 <= s && e <= e2
                    })
            })
            .map(|&(_, s, e)| text[s..e].to_string())
    }

    /// Every pattern of the catalog found in folded `text`: (kind, start, end).
    fn hits(&self, text: &str) -> Vec<(Pat, usize, usize)> {
        self.patterns
            .find_overlapping_iter(text)
            .map(|m| (self.kinds[m.pattern().as_usize()], m.start(), m.end()))
            .collect()
    }

    /// A title-wide accessory word (`替换`, `配件`, `维修`) in a text that
    /// names no catalog product (`推车 轮子 替换` under 婴儿推车), unless the
    /// word it stands in announces an extra (`送安装配件`): such a text sells
    /// a part, and whatever names the product (the category path, a spec
    /// field, the model) says what it is for. Other accessory words are not
    /// enough there: titles that name the product in words the catalog does
    /// not know describe it with them (`旋钮 开关`, `胶囊 奶茶机`, `底座`).
    pub fn part_named(&self, text: &str) -> Option<String> {
        let text = crate::text::simplify::fold_scope(text);
        let hits = self.hits(&text);
        // `送安装配件`: a gift anywhere earlier in its word.
        let announced = |s: usize| {
            extra_before(&text, s).is_some()
                || text[..s]
                    .chars()
                    .rev()
                    .take_while(|c| !c.is_whitespace())
                    .any(|c| matches!(c, '送' | '赠'))
        };
        hits.iter()
            .find(|&&(k, s, e)| k == Pat::Anywhere && !inside_keyword(&hits, s, e) && !announced(s))
            .map(|&(_, s, e)| text[s..e].to_string())
    }

    /// A maker of catalog products (`[hints] makers`) that `text` names as
    /// a word of its own (`莱克 M12`, `威力XPB100`: a model may follow
    /// straight on), when the text has no accessory, "for" or title-wide
    /// accessory word (`莱克 M12 滤网` sells a filter).
    pub fn maker_in(&self, text: &str) -> Option<String> {
        if self.makers.is_empty() {
            return None;
        }
        let text = crate::text::simplify::fold_scope(text);
        let accessory = self.hits(&text).iter().any(|&(k, ..)| {
            matches!(
                k,
                Pat::Accessory | Pat::Compat | Pat::Anywhere | Pat::OfHost
            )
        });
        if accessory {
            return None;
        }
        self.maker_patterns
            .find_overlapping_iter(&text)
            .find(|m| {
                let before = text[..m.start()].chars().next_back();
                let after = text[m.end()..].chars().next();
                let word = &text[m.start()..m.end()];
                // A Latin name must end at a word's end (`tcl`, not `tclx`).
                let latin = word
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric());
                word_edge(before)
                    && after.is_none_or(|c| !(is_han(c) || latin && c.is_ascii_alphanumeric()))
            })
            .map(|m| self.makers[m.pattern().as_usize()].clone())
    }

    /// The catalog's title, version and sources, as the file states them.
    pub fn about(&self) -> (&str, &str, &[String]) {
        (&self.title, &self.version, &self.sources)
    }

    /// A hash of everything that decides scope: when it changes, stored
    /// findings may be out of date.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Reads a title (or a description, or a spec value). Among the catalog
    /// words it names, those that an exclusion phrase covers, that an
    /// accessory word follows (`电饭煲内胆`, `风扇 原装 罩`), that a "for"
    /// marker follows (`手机通用`), that an accessory word standing as a word
    /// of its own precedes (`防尘罩 电饭锅`), or that a title-wide accessory
    /// word (`配件`) accompanies are modifiers. A bare word makes the text name
    /// that product (the longest, then the one nearest the end: Chinese
    /// titles put the product noun last), unless the same product is also a
    /// modifier (`电饭煲内胆 … 美的电饭煲`: the second names what it fits).
    /// With only modifiers it names an accessory, as it does when a fuel or
    /// hand-power word goes with a mains-only product (`煤油取暖器`); with no
    /// catalog word, an outside kind's word puts it outside the catalog.
    pub fn read_text(&self, text: &str) -> TextScope<'_> {
        let text = crate::text::simplify::fold_scope(text);
        let hits = self.hits(&text);
        // The last word of a Chinese compound is what it is: an exclusion
        // phrase that ends in another product's keyword names that product
        // (`冰箱玩具` is a toy, `玩具收纳箱` is not), so it excludes nothing.
        let headed = |x: usize, hs: usize, he: usize| {
            hits.iter().any(|&(k, ks, ke)| {
                matches!(k, Pat::Keyword(e) if !self.same_product(x, e)) && ke == he && ks >= hs
            })
        };
        let hits: Vec<(Pat, usize, usize)> = hits
            .iter()
            .copied()
            .filter(|&(k, hs, he)| !matches!(k, Pat::Exclusion(x) if headed(x, hs, he)))
            .collect();
        let covering_exclusion = |s: usize, e: usize| {
            hits.iter().find_map(|&(k, hs, he)| match k {
                Pat::Exclusion(_) if hs <= s && e <= he => Some(text[hs..he].to_string()),
                _ => None,
            })
        };
        // A title-wide accessory word (`配件`) not announced as an extra.
        let anywhere = hits
            .iter()
            .find(|&&(k, s, _)| {
                k == Pat::Anywhere
                    // `带配件`, `送配件`; not `安全带 配件`
                    && !text[..s]
                        .chars()
                        .rev()
                        .take_while(|c| !c.is_whitespace())
                        .take(2)
                        .any(|c| WITH_MARKERS.contains(&c))
            })
            .map(|&(_, s, e)| text[s..e].to_string());
        let mut bare: Vec<(usize, usize, usize, usize)> = Vec::new(); // (len, end, entry, start)
        let mut modified: Vec<(usize, usize, usize, String)> = Vec::new();
        // Products named inside a word of goods outside the catalog.
        let mut covered: Vec<usize> = Vec::new();
        for &(kind, s, e) in &hits {
            let Pat::Keyword(entry) = kind else { continue };
            let longer = |want: fn(Pat) -> bool| {
                hits.iter()
                    .any(|&(k, hs, he)| want(k) && hs <= s && e <= he && he - hs > e - s)
            };
            // Another keyword decides instead; a longer word of goods
            // outside the catalog (`空调被` around `空调`) puts it outside.
            if longer(|k| matches!(k, Pat::Keyword(_))) {
                continue;
            }
            // Unless that word is an extra (`送手机壳`): it then says nothing
            // of what is sold.
            let outside_around = hits.iter().find(|&&(k, hs, he)| {
                matches!(k, Pat::Outside(_)) && hs <= s && e <= he && he - hs > e - s
            });
            if let Some(&(_, hs, _)) = outside_around {
                if extra_before(&text, hs).is_none() {
                    covered.push(entry);
                }
                continue;
            }
            // Another product's word right after it is the head of the
            // compound (`迷你冰箱玩具` is a toy, `空调插座` a socket).
            let head_after = hits.iter().any(|&(k, hs, he)| {
                matches!(k, Pat::Keyword(x) if !self.same_product(x, entry)) && hs == e && he > e
            });
            if head_after {
                continue;
            }
            let marker = covering_exclusion(s, e)
                .or_else(|| anywhere.clone())
                .or_else(|| extra_before(&text, s))
                .or_else(|| self.accessory_after(&text, &hits, s, e))
                .or_else(|| compat_after(&text, &hits, e))
                .or_else(|| own_exclusion_near(&text, &hits, entry, s, e))
                .or_else(|| self.part_after(&text, &hits, e))
                .or_else(|| accessory_before(&text, &hits, s));
            match marker {
                Some(m) => modified.push((entry, s, e, m)),
                None => bare.push((e - s, e, entry, s)),
            }
        }
        // When the title opens with an accessory of a product (`电饭煲内胆 …
        // 美的电饭煲`), naming that product again only says what it fits.
        // (Any product named after a leading accessory was tried, 2026-12-07:
        // it cost held-out recall on the real titles.)
        let first_bare = bare.iter().map(|&(_, _, _, s)| s).min();
        let heads: Vec<usize> = modified
            .iter()
            .filter(|&&(_, s, ..)| first_bare.is_none_or(|b| s < b))
            .map(|&(m, ..)| m)
            .chain(covered.iter().copied())
            .collect();
        let mut candidates: Vec<(usize, usize, usize, usize)> = bare
            .into_iter()
            .filter(|&(_, _, entry, _)| !heads.iter().any(|&m| self.same_product(m, entry)))
            .collect();
        // Longest first, then nearest the end; among equals the last named.
        candidates.reverse();
        candidates.sort_by_key(|&(len, end, ..)| std::cmp::Reverse((len, end)));
        // A host device that the title sells something for (`手机支架`)
        // makes the title that accessory's. When the device is only the
        // goods' remote control (`手机远程`, `[accessories] controls`),
        // another product named bare is what is sold (`智能插头 … 手机远程`).
        let mut host_accessory = None;
        let mut best = None;
        for (len, end, entry, start) in candidates {
            let Some(marker) = self.sold_for_host(&text, &hits, start, end) else {
                best = Some((len, end, entry, start));
                break;
            };
            let controls = self
                .accessories
                .controls
                .iter()
                .any(|c| lower_eq(c, &marker));
            host_accessory = host_accessory.or(Some((entry, start, end, marker)));
            if !controls {
                break;
            }
        }
        if best.is_none()
            && let Some((entry, s, e, marker)) = host_accessory
        {
            return TextScope::Accessory {
                entry: &self.entries[entry],
                keyword: text[s..e].to_string(),
                marker,
            };
        }
        let modified = modified.into_iter().next();
        let outside_word = |after: usize| {
            hits.iter()
                .filter(|&&(k, s, e)| {
                    matches!(k, Pat::Outside(_))
                        && s >= after
                        // `推车 … 送凉席雨罩`: a gift is not a rival.
                        && extra_before(&text, s).is_none()
                        && !hits.iter().any(|&(k2, s2, e2)| {
                            matches!(k2, Pat::Keyword(_)) && s2 <= s && e <= e2
                        })
                })
                .max_by_key(|&&(_, s, e)| (e - s, e))
                .map(|&(k, s, e)| match k {
                    Pat::Outside(i) => (self.outside[i].kind.clone(), text[s..e].to_string()),
                    _ => unreachable!("filtered to outside words"),
                })
        };
        if let Some((_, end, entry, start)) = best {
            // `煤油取暖器`, `手摇 洗衣机`: a non-electric version of a product
            // the catalog covers only when it runs on mains electricity.
            if let Some(marker) = self.unpowered_in(&text, &hits, entry) {
                return TextScope::Accessory {
                    entry: &self.entries[entry],
                    keyword: text[start..end].to_string(),
                    marker,
                };
            }
            return TextScope::Product {
                entry: &self.entries[entry],
                keyword: text[start..end].to_string(),
                rival: outside_word(end),
                doubtful: self.entries[entry]
                    .doubtful
                    .iter()
                    .any(|d| lower_eq(d, &text[start..end])),
                accessory: modified.as_ref().map(|(.., m)| m.clone()),
            };
        }
        if let Some((entry, s, e, marker)) = modified {
            return TextScope::Accessory {
                entry: &self.entries[entry],
                keyword: text[s..e].to_string(),
                marker,
            };
        }
        match outside_word(0) {
            Some((kind, word)) => TextScope::Outside { kind, word },
            None => TextScope::Silent,
        }
    }

    /// When the product word `start..end` is a host device (`手机`), what the
    /// title sells for it: a word of [`AccessoryWords::of_hosts`] right after
    /// it (across sizes, numbers and up to four characters of description:
    /// `手机臂包`, `ipad蓝牙鼠标`, `手机桌面懒人支架`), or a word of goods
    /// outside the catalog straight after it (`手机话筒`, `笔记本电脑键盘`).
    /// Further away after it such words are often the device's own features
    /// (`笔记本电脑 背光键盘`), so they do not decide; before it, either kind
    /// names what is sold (`蓝牙音箱手机…`, `屏幕总成 … 手机`).
    fn sold_for_host(
        &self,
        text: &str,
        hits: &[(Pat, usize, usize)],
        start: usize,
        end: usize,
    ) -> Option<String> {
        let keyword = &text[start..end];
        if !self.accessories.hosts.iter().any(|h| lower_eq(h, keyword)) {
            return None;
        }
        // Goods named before the device (`蓝牙音箱手机…`, `运动耳机 适用
        // iphone`, `屏幕总成 … 手机`): titles name what they sell first and
        // what it is for after; a gift or a built-in part (`送耳机`) does
        // not count.
        let before = hits
            .iter()
            .filter(|&&(k, s, e)| {
                matches!(k, Pat::Outside(_) | Pat::OfHost)
                    && e <= start
                    && !inside_keyword(hits, s, e)
                    && extra_before(text, s).is_none()
            })
            .min_by_key(|&&(_, s, _)| s)
            .map(|&(_, s, e)| text[s..e].to_string());
        if before.is_some() {
            return before;
        }
        hits.iter()
            .filter(|&&(k, s, e)| {
                s >= end
                    && !inside_keyword(hits, s, e)
                    && match k {
                        Pat::Outside(_) => s == end,
                        Pat::OfHost => {
                            s - end <= 12
                                && (is_gap(&text[end..s]) || is_short_modifier(&text[end..s]))
                        }
                        _ => false,
                    }
            })
            .min_by_key(|&&(_, s, _)| s)
            .map(|&(_, s, e)| text[s..e].to_string())
    }

    /// The word right after a product word, across spaces only, when it
    /// names a part or accessory by how it ends (`[accessories] tails`:
    /// `电磁炉 防滑垫`, `洗衣机进水管`): two to four Chinese characters,
    /// not a catalog word, not one of `not_tails` (`面板`), not an extra
    /// (`带遥控器`), not a count of the product's own parts (`四头`).
    fn part_after(&self, text: &str, hits: &[(Pat, usize, usize)], end: usize) -> Option<String> {
        if self.tails.is_empty() {
            return None;
        }
        let rest = &text[end..];
        let start = end + (rest.len() - rest.trim_start().len());
        let word: String = text[start..].chars().take_while(|&c| is_han(c)).collect();
        let n = word.chars().count();
        // `送遥控器` is an extra; `四头`, `三键`, `双头` count the product's
        // own burners, gangs or outlets.
        if !(2..=4).contains(&n)
            || word.starts_with(['送', '赠', '带', '含', '配'])
            || word.starts_with(COUNT_WORDS)
        {
            return None;
        }
        let stop = start + word.len();
        let names_product = hits
            .iter()
            .any(|&(k, s, e)| matches!(k, Pat::Keyword(_)) && s < stop && e > start);
        if names_product || self.not_tails.iter().any(|w| word.ends_with(w.as_str())) {
            return None;
        }
        self.tails
            .iter()
            .any(|t| word.ends_with(t.as_str()))
            .then_some(word)
    }

    /// A word of `[accessories] unpowered` in the title, outside any catalog
    /// keyword, when `entry` belongs to one of `unpowered_groups`.
    fn unpowered_in(
        &self,
        text: &str,
        hits: &[(Pat, usize, usize)],
        entry: usize,
    ) -> Option<String> {
        let group = &self.entries[entry].group;
        if !self.accessories.unpowered_groups.contains(group) {
            return None;
        }
        hits.iter()
            .find(|&&(k, s, e)| k == Pat::Unpowered && !inside_keyword(hits, s, e))
            .map(|&(_, s, e)| text[s..e].to_string())
    }

    /// Whether two entries (by index) are one product.
    fn same_product(&self, a: usize, b: usize) -> bool {
        a == b || self.entries[a].same_product(&self.entries[b])
    }

    /// An accessory word right after a product word: adjacent, or across a
    /// short gap of sizes, numbers and filler words.
    fn accessory_after(
        &self,
        text: &str,
        hits: &[(Pat, usize, usize)],
        start: usize,
        end: usize,
    ) -> Option<String> {
        let keyword = &text[start..end];
        hits.iter()
            .filter(|&&(k, s, e)| {
                k == Pat::Accessory
                    && s >= end
                    && s - end <= 12
                    // `减速电机/电机`: a catalog word is not its own accessory,
                    // nor is its head word said again.
                    && !inside_keyword(hits, s, e)
                    && !keyword.ends_with(&text[s..e])
            })
            .filter(|&&(_, s, _)| {
                is_gap(&text[end..s])
                    || is_short_modifier(&text[end..s])
                        && !hits.iter().any(|&(k, ks, ke)| {
                            matches!(k, Pat::Keyword(_)) && ks >= end && ke <= s
                        })
            })
            .min_by_key(|&&(_, s, _)| s)
            .map(|&(_, s, e)| text[s..e].to_string())
    }
}

/// An accessory word standing as a word of its own before a product word
/// (`蕾丝 盖布 防尘罩 电饭锅`, `9V 电池 … 玩具 用`): titles name what they
/// sell first. Inside a longer word it is part of a name (`胶囊咖啡机`,
/// `架子鼓`), and a single character (`罩`) is too loose to say.
fn accessory_before(text: &str, hits: &[(Pat, usize, usize)], start: usize) -> Option<String> {
    hits.iter()
        .filter(|&&(k, s, e)| {
            k == Pat::Accessory
                && e <= start
                && text[s..e].chars().count() >= 2
                && word_edge(text[..s].chars().next_back())
                && word_edge(text[e..].chars().next())
                && !inside_keyword(hits, s, e)
                && extra_before(text, s).is_none()
        })
        .min_by_key(|&&(_, s, _)| s)
        .map(|&(_, s, e)| text[s..e].to_string())
}

/// Whether a word may start or end next to `c` (the text's edge, a space
/// or punctuation).
fn word_edge(c: Option<char>) -> bool {
    c.is_none_or(|c| c.is_whitespace() || ",，/|【】[]()（）+·、:：".contains(c))
}

/// Whether the span `s..e` lies inside a catalog keyword.
fn inside_keyword(hits: &[(Pat, usize, usize)], s: usize, e: usize) -> bool {
    hits.iter()
        .any(|&(k, ks, ke)| matches!(k, Pat::Keyword(_)) && ks <= s && e <= ke)
}

/// A "for" marker right after a product word (`手机通用`, `ipad平板专用`):
/// the item is made for that product.
fn compat_after(text: &str, hits: &[(Pat, usize, usize)], end: usize) -> Option<String> {
    hits.iter()
        .filter(|&&(k, s, e)| {
            k == Pat::Compat
                && s >= end
                && s - end <= 6
                // `底盒通用暗盒`: a universal box, not one made for a 底盒;
                // `适配器` is a product, not the marker `适配`.
                && !hits
                    .iter()
                    .any(|&(k2, s2, _)| matches!(k2, Pat::Keyword(_)) && s2 == e)
                && !inside_keyword(hits, s, e)
        })
        .filter(|&&(_, s, _)| {
            text[end..s]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c.is_whitespace())
        })
        .min_by_key(|&&(_, s, _)| s)
        .map(|&(_, s, e)| text[s..e].to_string())
}

/// A CJK ideograph (the characters Chinese words are made of).
fn is_han(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

/// The product's own exclusion word right after its keyword (`插座` +
/// `配件`), or overlapping it.
fn own_exclusion_near(
    text: &str,
    hits: &[(Pat, usize, usize)],
    entry: usize,
    s: usize,
    e: usize,
) -> Option<String> {
    hits.iter()
        .filter(|&&(k, hs, he)| {
            k == Pat::Exclusion(entry)
                // overlapping it, not inside it (`电子宠物` holds `宠物`)
                && ((hs < e && he > s && !(s <= hs && he <= e))
                    || (hs >= e
                        && hs - e <= 12
                        && (is_gap(&text[e..hs]) || is_short_modifier(&text[e..hs]))))
        })
        .map(|&(_, hs, he)| text[hs..he].to_string())
        .next()
}

/// Numerals that open a count of a product's own parts (`四头`, `三键`,
/// `双头`, `两位`), which describes the product rather than naming a part.
const COUNT_WORDS: &[char] = &[
    '一', '二', '两', '三', '四', '五', '六', '七', '八', '九', '十', '单', '双', '多', '几',
];

/// Words that join a product to what comes with it (`电饭煲送内胆`,
/// `风扇带遥控器`): an accessory word after one of them is an extra, not
/// what is sold.
const WITH_MARKERS: &[char] = &[
    '送', '赠', '带', '含', '配', '加', '和', '及', '+', '&', '套',
];

/// A product word announced as what comes with the goods (`书桌（送灯+风扇）`,
/// `散热器带风扇`, `赠插座`): a gift or a built-in part, not what is sold.
/// `带`, `含` and `配` count right before the word; `送` and `赠` also across
/// a short list of other extras (`送灯+风扇`). `送风…` is an appliance's
/// air supply, not a gift.
fn extra_before(text: &str, s: usize) -> Option<String> {
    let before: Vec<char> = text[..s].chars().rev().take(5).collect();
    let first = *before.first()?;
    if matches!(first, '带' | '含' | '配') {
        return Some(first.to_string());
    }
    for (i, &c) in before.iter().enumerate() {
        if c.is_whitespace() || "，,/|【】[]()（）".contains(c) {
            return None;
        }
        if matches!(c, '送' | '赠') {
            let next = match i {
                0 => text[s..].chars().next(),
                _ => Some(before[i - 1]),
            };
            let air = c == '送' && next == Some('风');
            return (!air).then(|| c.to_string());
        }
    }
    None
}

/// A few words of description between a product word and an accessory word
/// (`手机懒人支架`, `空调挂机罩`, `电饭煲 不粘内胆`): at most four characters
/// besides spaces, none of them a "with" marker or a separator.
fn is_short_modifier(between: &str) -> bool {
    let n = between.chars().filter(|c| !c.is_whitespace()).count();
    (1..=4).contains(&n)
        && between
            .chars()
            .all(|c| !WITH_MARKERS.contains(&c) && !",，/|【】[]()（）".contains(c))
}

/// Whether the text between a product word and an accessory word is only
/// spaces, sizes, numbers and filler words.
fn is_gap(between: &str) -> bool {
    let mut rest = between.trim();
    while !rest.is_empty() {
        if let Some(f) = GAP_FILLERS.iter().find(|f| rest.starts_with(**f)) {
            rest = &rest[f.len()..];
            continue;
        }
        let c = rest.chars().next().expect("not empty");
        if c.is_ascii_alphanumeric() || c.is_whitespace() || matches!(c, '.' | '-' | '/' | '+') {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        return false;
    }
    true
}

fn lower_eq(word: &str, folded_lower: &str) -> bool {
    crate::text::simplify::fold_scope(word) == folded_lower
}

/// The version of the reading rules (this file and src/matching/scope.rs).
/// It is part of the fingerprint, so an upgrade whose rules read titles
/// differently re-judges stored listings as a catalog edit does. Change it
/// with any change that can move a scope decision.
const READING_RULES: &str = "2026-12-07 round 6: spec fields naming an accessory or the machine the goods fit; a category agreeing with or refuting the title; accessory words before the product; fuel and hand power";

/// SHA-256 over the scope-deciding content, in a stable order.
fn fingerprint(
    entries: &[CatalogEntry],
    outside: &[OutsideKind],
    acc: &AccessoryWords,
    hints: &HintWords,
) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let mut feed = |tag: &str, items: &[String]| {
        h.update(tag.as_bytes());
        for i in items {
            h.update(i.as_bytes());
            h.update([0]);
        }
        h.update([1]);
    };
    feed("r", &[READING_RULES.to_string()]);
    for e in entries {
        feed("p", std::slice::from_ref(&e.code));
        feed("k", &e.keywords);
        feed("x", &e.exclusions);
        feed("c", &e.categories);
        feed("d", &e.doubtful);
    }
    for o in outside {
        feed("o", std::slice::from_ref(&o.kind));
        feed("w", &o.words);
    }
    feed("a", &acc.words);
    feed("f", &acc.compat);
    feed("y", &acc.anywhere);
    feed("t", &acc.hosts);
    feed("u", &acc.of_hosts);
    feed("m", &acc.controls);
    feed("e", &acc.tails);
    feed("z", &acc.not_tails);
    feed("g", &acc.unpowered);
    feed("q", &acc.unpowered_groups);
    feed("h", &hints.words);
    feed("n", &hints.not);
    feed("m", &hints.makers);
    hex::encode(&h.finalize()[..12])
}

impl Catalog {
    /// Reads a platform category path (`家用电器>生活电器>电风扇`): the
    /// product its last naming segment names, or an accessory category
    /// (`配件`), or an outside kind.
    pub fn read_category(&self, path: &str) -> TextScope<'_> {
        let levels: Vec<&str> = path
            .split(['>', '|', '›', '»', '\\'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        // `开关配件`, `玩具乐器>轨道/助力>轨道配件`: a level of parts makes
        // the product an earlier level (or the same one) names their host.
        let mut parts: Option<String> = None;
        for level in levels.iter().rev() {
            let text = crate::text::simplify::fold_scope(level);
            parts = parts.or_else(|| {
                self.accessories
                    .anywhere
                    .iter()
                    .map(|w| crate::text::simplify::fold_scope(w))
                    .find(|w| !w.is_empty() && text.contains(w.as_str()))
            });
            let Some(found) = self.read_level(level, &text) else {
                continue;
            };
            return match (found, parts) {
                (TextScope::Product { entry, keyword, .. }, Some(marker)) => TextScope::Accessory {
                    entry,
                    keyword,
                    marker,
                },
                (found, _) => found,
            };
        }
        TextScope::Silent
    }

    /// One level of a category path. Its `/`-joined siblings share the
    /// level (`电水壶/热水瓶`), so a catalog product among them (by its
    /// words, or by a category word of a sibling the words leave silent)
    /// beats a sibling outside the catalog.
    fn read_level(&self, level: &str, folded: &str) -> Option<TextScope<'_>> {
        let mut outside = None;
        for sibling in level.split('/').map(str::trim).filter(|s| !s.is_empty()) {
            match self.read_text(sibling) {
                TextScope::Silent => {
                    if let Some(found) =
                        self.category_word(&crate::text::simplify::fold_scope(sibling))
                    {
                        return Some(found);
                    }
                }
                found @ TextScope::Outside { .. } => outside = outside.or(Some(found)),
                found => return Some(found),
            }
        }
        // Category words that hold a `/` themselves (`电动/遥控玩具`).
        outside.or_else(|| self.category_word(folded))
    }

    /// The longest category word (`[[product]] categories`) in a folded
    /// level, as the product it names.
    fn category_word(&self, folded: &str) -> Option<TextScope<'_>> {
        self.category_patterns
            .find_iter(folded)
            .max_by_key(|m| m.end() - m.start())
            .map(|m| TextScope::Product {
                entry: &self.entries[self.category_entry[m.pattern().as_usize()]],
                keyword: folded[m.start()..m.end()].to_string(),
                rival: None,
                doubtful: false,
                accessory: None,
            })
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
            ..CatalogEntry::default()
        }
    }

    fn catalog() -> Catalog {
        Catalog::build(
            vec![
                entry("0201", &["插座", "插线板", "排插"], &["插座保护盖"]),
                entry("0718", &["电饭煲"], &[]),
                entry("0717", &["电热水壶"], &["水壶刷"]),
                entry("0702", &["风扇", "扇"], &["折扇", "扇贝"]),
                entry("0703", &["空调"], &[]),
                entry("1606", &["手机", "智能手机", "iphone"], &[]),
                entry("0401", &["减速电机"], &[]),
            ],
            vec![
                OutsideKind {
                    kind: "服装".into(),
                    words: vec!["T恤".into(), "空调被".into()],
                },
                OutsideKind {
                    kind: "数码配件".into(),
                    words: vec!["手机壳".into()],
                },
                OutsideKind {
                    kind: "音响耳机".into(),
                    words: vec!["耳机".into(), "蓝牙音箱".into()],
                },
            ],
            AccessoryWords {
                words: vec!["内胆".into(), "罩".into(), "收纳盒".into(), "电机".into()],
                compat: vec!["适用于".into(), "通用".into()],
                anywhere: vec!["配件".into()],
                hosts: vec!["手机".into(), "iphone".into()],
                of_hosts: vec!["支架".into(), "臂包".into(), "远程".into()],
                controls: vec!["远程".into()],
                ..AccessoryWords::default()
            },
            HintWords {
                words: vec!["电".into(), "机".into(), "儿童".into()],
                not: vec!["有机".into(), "刷机".into()],
                makers: vec!["莱克".into(), "tcl".into()],
            },
            CatalogMeta::default(),
        )
    }

    /// Toys are one product (2202); certificates still carry 2203–2206.
    /// Asserts how the catalog reads each title (`in:0702`, `acc:0718`; toy
    /// sub-codes read as 2202).
    fn assert_reads(c: &Catalog, cases: &[(&str, &str)]) {
        for (title, want) in cases {
            assert_eq!(toy_as_2202(code(c.read_text(title))), *want, "{title}");
        }
    }

    fn toy_as_2202(code: String) -> String {
        match code.as_str() {
            "in:2203" | "in:2204" | "in:2205" | "in:2206" => "in:2202".into(),
            _ => code,
        }
    }

    fn code(s: TextScope<'_>) -> String {
        match s {
            TextScope::Product { entry, .. } => format!("in:{}", entry.code),
            TextScope::Accessory { entry, .. } => format!("acc:{}", entry.code),
            TextScope::Outside { kind, .. } => format!("out:{kind}"),
            TextScope::Silent => "silent".into(),
        }
    }

    #[test]
    fn products_accessories_lookalikes_and_outside_goods() {
        let c = catalog();
        let cases = [
            ("公牛插座 GN-H3050", "in:0201"),
            ("儿童插座保护盖 防触电", "acc:0201"),
            ("美的电饭煲内胆 原装", "acc:0718"),
            ("美的电饭煲 原装 内胆 4L", "acc:0718"),
            ("苏泊尔电饭煲 4L 家用 送内胆", "in:0718"),
            ("适用于美的电饭煲 不粘内胆", "acc:0718"),
            ("304不锈钢内胆电热水壶", "in:0717"),
            ("艾美特塔扇 家用静音", "in:0702"),
            ("落地扇 遥控", "in:0702"),
            ("中国风折扇 男士", "acc:0702"),
            ("风扇罩 防护网", "acc:0702"),
            ("夏季空调被 纯棉", "out:服装"),
            ("纯棉T恤", "out:服装"),
            ("手机壳 硅胶", "out:数码配件"),
            ("排插收纳盒", "acc:0201"),
            ("风扇通用 遥控器", "acc:0702"),
            ("空调通用插座 16A", "in:0201"),
            ("电饭煲内胆 不粘 美的电饭煲 4L", "acc:0718"),
            ("风扇 电池 配件 通用", "acc:0702"),
            ("落地扇 家用 送配件", "in:0702"),
            ("理发剪刀", "silent"),
            ("学习桌 儿童 (送灯+风扇)", "acc:0702"),
            ("散热器带风扇 暖气片", "acc:0702"),
            ("艾美特落地扇 送遥控器", "in:0702"),
            ("带灯落地扇", "in:0702"),
            ("下送风空调 3匹", "in:0703"),
            ("落地扇 送风扇罩", "in:0702"),
            // A host device names what the goods are for.
            ("跑步臂包 iphone7 手机臂包", "acc:1606"),
            ("手机桌面懒人支架", "acc:1606"),
            ("手机T恤 图案", "acc:1606"),
            ("华为 p30 手机 全网通 送支架", "in:1606"),
            ("小米 手机 纯棉T恤 抽奖", "in:1606"),
            ("小米 8 智能手机 64G", "in:1606"),
            // Goods named before the device are what is sold.
            ("运动蓝牙耳机 适用iphone oppo", "acc:1606"),
            ("无线蓝牙音箱手机低音炮", "acc:1606"),
            ("送耳机 华为 p30 手机", "in:1606"),
            ("懒人支架 床头 手机", "acc:1606"),
            // A product's head word said again is not its accessory.
            ("160w小型齿轮减速电机/电机/马达", "in:0401"),
            // Only hosts: a fan with a stand is a fan.
            ("落地扇 支架 加高", "in:0702"),
        ];
        for (title, want) in cases {
            assert_eq!(code(c.read_text(title)), want, "{title}");
        }
    }

    #[test]
    fn hints_are_what_catalog_products_share() {
        let c = catalog();
        assert_eq!(c.hint_in("儿童理发剪刀").as_deref(), Some("儿童"));
        assert_eq!(c.hint_in("理发剪刀"), None);
        // A hint inside a word that is not one does not count.
        assert_eq!(c.hint_in("有机空心菜 200g"), None);
        assert_eq!(c.hint_in("vivo 刷机 救砖"), None);
        assert_eq!(c.hint_in("有机 电动 榨汁"), Some("电".into()));
    }

    #[test]
    fn a_product_word_beside_an_outside_word_is_a_rival() {
        let c = catalog();
        match c.read_text("插座 T恤") {
            TextScope::Product { rival, .. } => {
                assert_eq!(rival, Some(("服装".into(), "t恤".into())))
            }
            other => panic!("{other:?}"),
        }
        // A gift is no rival.
        match c.read_text("插座 送T恤") {
            TextScope::Product { rival, .. } => assert_eq!(rival, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn makers_are_read_as_words_of_their_own_in_titles_without_accessories() {
        assert_finds(
            Catalog::maker_in,
            &[
                ("莱克 魔洁 M12 MAX 无线 手持", Some("莱克")),
                ("威力XPB100-1088S双桶半自动10公斤", Some("威力")),
                ("【旗舰】惠而浦 WM-TD252W 平板", Some("惠而浦")),
                ("TCL 55寸 全面屏", Some("tcl")),
                // A filter for the maker's machine, not the machine.
                ("莱克 M12 滤网 替换", None),
                ("莱克 M12 适用 吸头", None),
                // Inside a longer word or name.
                ("完美的礼物 X200", None),
                ("tclx 1234", None),
                ("海尔兄弟 动画 贴纸", None),
            ],
        );
    }

    #[test]
    fn a_title_naming_no_product_names_a_part_by_its_title_wide_word() {
        assert_finds(
            Catalog::part_named,
            &[
                ("推车 轮子 防滑套 替换 4只", Some("替换")),
                ("开关 内部 接线端子 压板 维修", Some("维修")),
                ("三轮车 护栏 零配件", Some("零配件")),
                // `加` is no gift: an add-on part is a part.
                ("推车加装配件 挂钩", Some("配件")),
                // An extra announced anywhere in its word is no part.
                ("储水速热8升 上出水 送安装配件 包邮", None),
                // Plain accessory words describe products named in words the
                // catalog does not know.
                ("复古 陶瓷 旋钮 灯控 铜 明装", None),
                ("电摩卡壶 插电 意式 分体 底座", None),
            ],
        );
    }

    /// Asserts what `find` returns for each title with the embedded catalog.
    fn assert_finds(find: fn(&Catalog, &str) -> Option<String>, cases: &[(&str, Option<&str>)]) {
        let c = Catalog::embedded();
        for (title, want) in cases {
            assert_eq!(find(&c, title).as_deref(), *want, "{title}");
        }
    }

    #[test]
    fn embedded_catalog_reads_what_follows_a_product_word() {
        let c = Catalog::embedded();
        for (title, want) in [
            // A part named by how it ends, right after the product word.
            ("电磁炉 防滑垫 隔热垫 硅胶 耐高温", "acc:0711"),
            ("电热水器 加长杆 镁棒 通用", "acc:0706"),
            ("洗衣机进水管 加长 全自动 通用", "acc:0705"),
            ("空调 铜管 连接管 1.5匹 保温", "acc:0703"),
            // Product forms and features are not parts.
            ("公牛 插座 面板 86型 五孔 墙壁", "in:0201"),
            ("美的 电风扇 带遥控器 落地扇 家用", "in:0702"),
            ("九阳 电饭煲 家用 4L 智能预约", "in:0718"),
            // An accessory named first: the product said again is what it fits.
            ("冰箱底座 托架 可移动 滑轮 冰箱 通用", "acc:0701"),
            // The last word of a compound is what it is: a toy fridge is a toy.
            ("迷你冰箱玩具 过家家 仿真 小家电", "in:2202"),
            ("仿真洗衣机玩具 可转动 电动 过家家", "in:2202"),
            ("公牛 空调插座 16A 86型", "in:0201"),
            // A count of the product's own parts is a feature, not a part.
            ("电灶 四头 独立式 带烤箱 落地", "in:0715"),
            ("Aqara 智能墙壁开关 三键 零火", "in:0202"),
            // The phone is the goods' remote control, not what is sold.
            ("智能插头 WiFi 手机远程 定时", "in:0201"),
            ("手机远程 遥控 支架 自拍", "acc:1606"),
            // Hong Kong and Taiwan titles, in traditional characters.
            ("雙門 雪櫃 一級能效 HK行貨", "in:0701"),
            ("電飯煲 3公升 HK行貨", "in:0718"),
        ] {
            let got = match c.read_text(title) {
                TextScope::Silent => "silent".to_string(),
                other => toy_as_2202(code(other)),
            };
            assert_eq!(got, want, "{title}");
        }
        // An accessory category of a product: its accessories.
        assert_eq!(
            code(c.read_category("家装建材>电工电料>开关配件")),
            "acc:0202"
        );
        assert_eq!(
            code(c.read_category("玩具乐器>轨道/助力>轨道配件")),
            "acc:2202"
        );
        assert_eq!(
            code(c.read_category("玩具乐器>遥控/电动>遥控车")),
            "in:2202"
        );
        // Siblings of one level: a catalog product beats one outside it.
        assert_eq!(
            code(c.read_category("家用电器>厨房小电>电水壶/热水瓶")),
            "in:0717"
        );
    }

    #[test]
    fn category_paths_name_the_product_from_the_end() {
        let c = catalog();
        assert_eq!(code(c.read_category("家用电器>生活电器>风扇")), "in:0702");
        assert_eq!(code(c.read_category("家用电器>插座")), "in:0201");
        assert_eq!(code(c.read_category("配件>插座保护盖")), "acc:0201");
        assert_eq!(code(c.read_category("服饰>T恤")), "out:服装");
        assert_eq!(code(c.read_category("居家日用>收纳")), "silent");
    }

    #[test]
    fn exclusions_that_are_keywords_are_dropped() {
        let c = Catalog::new(vec![
            entry("0807", &["电视电源适配器"], &[]),
            entry("0907", &["电源适配器"], &["电视电源适配器"]),
        ]);
        assert_eq!(code(c.read_text("电视电源适配器 12V")), "in:0807");
    }

    #[test]
    fn embedded_catalog_loads_and_covers_the_official_list() {
        let c = Catalog::embedded();
        for code in [
            "0201", "0202", "0204", "0206", "0717", "0718", "0719", "2201", "2202", "2207",
        ] {
            assert!(c.entry(code).is_some(), "catalog lacks {code}");
        }
        assert!(!c.fingerprint().is_empty());
    }

    /// Words are matched inside others: a word of the built-in lists must
    /// not sit inside the names of the devices themselves (`app` in `apple`
    /// once made every iPad an accessory of itself).
    #[test]
    fn embedded_catalog_reads_device_titles_as_devices() {
        let c = Catalog::embedded();
        for (title, want) in [
            ("Apple/苹果iPadmini4 7.9英寸 wifi 平板电脑 128G", "in:0902"),
            (
                "【6期免息】apple/苹果 iphone x 移动联通电信全网通",
                "in:1606",
            ),
            ("华为 P30 手机 全网通 送耳机 送手机壳", "in:1606"),
            (
                "手机壳 适用华为p30 硅胶防摔",
                "out:手机电脑数码配件（非电源）",
            ),
            (
                "小米电视 4A 55英寸 4K超高清 智能网络液晶平板电视",
                "in:0808",
            ),
            ("苹果x手机桌面懒人支架 床头 宿舍", "acc:1606"),
            ("无线蓝牙音箱手机低音炮 户外便携", "acc:1606"),
            ("有机空心菜 200g/份", "silent:None"),
        ] {
            let got = match c.read_text(title) {
                TextScope::Silent => format!("silent:{:?}", c.hint_in(title)),
                other => code(other),
            };
            assert_eq!(got, want, "{title}");
        }
        assert_eq!(c.hint_in("有机空心菜 200g/份"), None);
    }

    #[test]
    fn bad_files_name_the_key() {
        let err = Catalog::from_toml("[[product]]\ncode = \"07\"\nkeywords = [\"x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("product[0] (07).code"), "{err}");
        let err = Catalog::from_toml("[[product]]\ncode = \"0701\"\nkeywords = []\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("keywords"), "{err}");
        let err = Catalog::from_toml("[[product]]\ncode = \"0701\"\nkeyword = [\"x\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("keyword"), "{err}");
        let err = Catalog::from_toml(
            "[[product]]\ncode = \"0701\"\nkeywords = [\"a\"]\n[[product]]\ncode = \"0701\"\nkeywords = [\"b\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("appears twice"), "{err}");
        let err = Catalog::from_toml(
            "[[product]]\ncode = \"0701\"\nkeywords = [\"a\"]\n[accessories]\nof_hosts = [\"支架\"]\ncontrols = [\"远程\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("accessories.controls")
                && err.contains("远程")
                && err.contains("of_hosts"),
            "{err}"
        );
        let err = Catalog::from_toml(
            "[[product]]\ncode = \"0701\"\ngroup = \"家用电器\"\nkeywords = [\"a\"]\n[accessories]\nunpowered = [\"手摇\"]\nunpowered_groups = [\"家电\"]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("accessories.unpowered_groups") && err.contains("家电"),
            "{err}"
        );
    }

    #[test]
    fn an_accessory_named_as_a_word_before_the_product_is_what_is_sold() {
        assert_reads(
            &Catalog::embedded(),
            &[
                ("蕾丝 盖布 防尘罩 电饭锅 家用 田园", "acc:0718"),
                ("9V 方形 电池 6F22 电子琴 话筒 玩具 用 4粒", "acc:2202"),
                // Inside a longer word it is part of the product's name.
                ("胶囊咖啡机 家用 全自动 Essenza Mini", "in:0717"),
                ("儿童 架子鼓 电子 初学 敲打 玩具", "in:2202"),
            ],
        );
    }

    #[test]
    fn fuel_and_hand_power_make_an_appliance_a_non_electric_version() {
        let c = Catalog::embedded();
        assert_reads(
            &c,
            &[
                ("煤油取暖器 日本 Corona 燃油 室内", "acc:0707"),
                ("手摇 洗衣机 迷你 不插电 露营", "acc:0705"),
                ("取暖器 家用 节能 速热", "in:0707"),
                // Toys are toys with or without power.
                ("不插电 积木 玩具 儿童", "in:2202"),
            ],
        );
        // `电` inside `非电动` is no hint of an electric product.
        assert_eq!(c.hint_in("冷萃咖啡瓶 玻璃 浸泡 1L 非电动"), None);
        assert_eq!(c.hint_in("电动 三轮车"), Some("电".into()));
    }

    #[test]
    fn the_fingerprint_follows_the_words() {
        let a = Catalog::new(vec![entry("0201", &["插座"], &[])]);
        let b = Catalog::new(vec![entry("0201", &["插座", "排插"], &[])]);
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(
            a.fingerprint(),
            Catalog::new(vec![entry("0201", &["插座"], &[])]).fingerprint()
        );
    }
}
