//! Extract stage: the platform adapter file (`config/platforms/NAME.toml`).
//!
//! A platform is described by data, not code: where its search pages are,
//! which keywords to search per product group, how fast it may be fetched,
//! and where each field sits on its pages (CSS selectors for HTML platforms,
//! JSON Pointers for JSON APIs). This module reads and checks those files;
//! [`super::Adapter`] compiles them. `docs/adapters.md` explains the format.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One platform adapter, as written in its TOML file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlatformConfig {
    /// Short name; must equal the file name without `.toml`.
    pub name: String,
    /// Name shown to users (Chinese), e.g. "京东".
    #[serde(default)]
    pub label: String,
    /// Scheme and host the URL templates start from (`{base}`).
    pub base_url: String,
    /// Other hosts of the same platform; redirects may only go to these or the base host.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// `html` (CSS selectors) or `json` (JSON Pointers).
    #[serde(default)]
    pub format: Format,
    /// Allow fetching private, loopback or link-local addresses (demo and tests only).
    #[serde(default)]
    pub allow_private_addresses: bool,
    /// `obey` (default) or `override`; override needs `legal_basis`.
    #[serde(default)]
    pub robots: RobotsPolicy,
    /// The written legal basis for ignoring robots.txt; logged with every such fetch.
    #[serde(default)]
    pub legal_basis: String,
    #[serde(default)]
    pub politeness: Politeness,
    /// Seed keywords per product group.
    #[serde(default)]
    pub keywords: BTreeMap<String, Vec<String>>,
    pub search: SearchConfig,
    #[serde(default)]
    pub item: ItemConfig,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Html,
    Json,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum RobotsPolicy {
    #[default]
    Obey,
    Override,
}

/// How hard one platform's hosts may be fetched.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Politeness {
    /// Requests per second per host (0 = unlimited; only for local benchmarks).
    pub requests_per_second: f64,
    /// Requests allowed at once above the steady rate.
    pub burst: u32,
    /// Requests in flight at once per host.
    pub concurrency: usize,
}

impl Default for Politeness {
    fn default() -> Self {
        Politeness {
            requests_per_second: 1.0,
            burst: 1,
            concurrency: 2,
        }
    }
}

/// Search result pages.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// URL template with `{base}`, `{keyword}` (URL-encoded), `{page}` and
    /// `{offset}` (results before this page: (page − first_page) × page_size).
    pub url: String,
    #[serde(default = "one")]
    pub first_page: u32,
    /// Results per page, for `{offset}` (e.g. 44 on Taobao, 60 on Tmall).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// Result pages per keyword at most (the `--max-pages` flag overrides).
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// One result card (HTML: CSS selector; JSON: pointer to the array of cards).
    pub card: Selectors,
    /// The item link inside a card (`css@href`, or a pointer).
    #[serde(default)]
    pub item_link: Selectors,
    /// The item ID inside a card (e.g. `@data-sku`); otherwise taken from the link with `item.id_pattern`.
    #[serde(default)]
    pub item_id: Selectors,
    /// The next-page link (`css@href`, or a pointer); without it pages are counted up to `max_pages`.
    #[serde(default)]
    pub next_page: Selectors,
    /// Listing fields read from the card itself (used when item pages are not fetched).
    #[serde(default)]
    pub fields: FieldSelectors,
}

/// Item pages.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ItemConfig {
    /// Fetch item pages (`false`: listings come from result cards only).
    #[serde(default = "yes")]
    pub fetch: bool,
    /// Regular expression on the item URL whose first group is the item ID.
    #[serde(default)]
    pub id_pattern: Option<String>,
    /// Canonical item URL template with `{base}` and `{id}`.
    #[serde(default)]
    pub url: Option<String>,
    /// Text that means the listing was taken down (e.g. "该商品已下架").
    #[serde(default)]
    pub gone_markers: Vec<String>,
    #[serde(default)]
    pub fields: FieldSelectors,
    #[serde(default)]
    pub spec: SpecConfig,
}

impl Default for ItemConfig {
    fn default() -> Self {
        ItemConfig {
            fetch: true,
            id_pattern: None,
            url: None,
            gone_markers: Vec::new(),
            fields: FieldSelectors::default(),
            spec: SpecConfig::default(),
        }
    }
}

/// Where each listing field is. Every field is optional.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct FieldSelectors {
    pub title: Selectors,
    pub price: Selectors,
    pub seller: Selectors,
    pub shop_url: Selectors,
    pub brand: Selectors,
    pub model: Selectors,
    pub cert_no: Selectors,
    pub description: Selectors,
    pub category: Selectors,
}

impl FieldSelectors {
    /// (field name, selectors) in display order.
    pub fn named(&self) -> [(&'static str, &Selectors); 9] {
        [
            ("title", &self.title),
            ("price", &self.price),
            ("seller", &self.seller),
            ("shop_url", &self.shop_url),
            ("brand", &self.brand),
            ("model", &self.model),
            ("cert_no", &self.cert_no),
            ("description", &self.description),
            ("category", &self.category),
        ]
    }
}

/// The spec table: rows of label → value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct SpecConfig {
    /// HTML: selectors of `dl`, `table`, `tr` or row elements (`li` with `label：value`,
    /// value in a `title` attribute when present). JSON: pointers to arrays or objects.
    pub rows: Selectors,
    /// JSON only: pointer to the label inside one array element (default `/name`).
    pub label: Option<String>,
    /// JSON only: pointer to the value inside one array element (default `/value`).
    pub value: Option<String>,
}

/// One selector or a list of alternatives tried in order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(from = "OneOrMany")]
pub struct Selectors(pub Vec<String>);

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrMany> for Selectors {
    fn from(v: OneOrMany) -> Self {
        match v {
            OneOrMany::One(s) if s.trim().is_empty() => Selectors(Vec::new()),
            OneOrMany::One(s) => Selectors(vec![s]),
            OneOrMany::Many(v) => {
                Selectors(v.into_iter().filter(|s| !s.trim().is_empty()).collect())
            }
        }
    }
}

impl Selectors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}
fn default_max_pages() -> u32 {
    20
}

/// A platform file that cannot be used, with the file and key.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error("cannot read platform file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("platform file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("platform file {path}: key `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("no platform `{name}` in {dir} (files there: {available})")]
    Unknown {
        name: String,
        dir: PathBuf,
        available: String,
    },
}

impl PlatformConfig {
    /// Reads one platform file.
    pub fn from_file(path: &Path) -> Result<PlatformConfig, AdapterError> {
        let text = std::fs::read_to_string(path).map_err(|source| AdapterError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses the text of a platform file; `path` is for messages.
    pub fn from_toml(text: &str, path: &Path) -> Result<PlatformConfig, AdapterError> {
        toml::from_str(text).map_err(|e| AdapterError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', " "),
        })
    }

    /// All search keywords, de-duplicated, in file order per group.
    pub fn all_keywords(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for words in self.keywords.values() {
            for w in words {
                if !out.contains(w) {
                    out.push(w.clone());
                }
            }
        }
        out
    }

    /// The product group a keyword belongs to, if it is a seed keyword.
    pub fn group_of(&self, keyword: &str) -> Option<&str> {
        self.keywords
            .iter()
            .find(|(_, words)| words.iter().any(|w| w == keyword))
            .map(|(g, _)| g.as_str())
    }
}

/// Loads every `*.toml` in `dir`, sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<(PathBuf, PlatformConfig)>, AdapterError> {
    let entries = std::fs::read_dir(dir).map_err(|source| AdapterError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| PlatformConfig::from_file(&p).map(|c| (p, c)))
        .collect()
}
