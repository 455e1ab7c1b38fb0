//! Extract stage: turns fetched pages into result cards and listings.
//!
//! In: the decoded text of a search or item page and the platform's adapter
//! ([`config::PlatformConfig`], compiled into an [`Adapter`]). Out:
//! [`SearchPage`] (item links, next page) or [`ItemPage`] (listing fields and
//! the spec table), each naming the selectors that matched nothing so an
//! adapter that no longer fits its platform is noticed, not silently empty.

pub mod config;
mod css_error;
mod html;
mod json;
pub mod labels;
mod text;

pub use config::{AdapterError, Format, PlatformConfig, RobotsPolicy};
pub use labels::PlatformLabels;

use crate::domain::Listing;
use regex::Regex;
use std::path::Path;
use url::Url;

/// Listing fields found on a page or a result card.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Fields {
    pub title: Option<String>,
    pub price: Option<String>,
    pub seller: Option<String>,
    pub shop_url: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub cert_no: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    /// The spec table, label → value, in page order.
    pub spec: Vec<(String, String)>,
}

impl Fields {
    fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            "title" => &mut self.title,
            "price" => &mut self.price,
            "seller" => &mut self.seller,
            "shop_url" => &mut self.shop_url,
            "brand" => &mut self.brand,
            "model" => &mut self.model,
            "cert_no" => &mut self.cert_no,
            "description" => &mut self.description,
            _ => &mut self.category,
        };
        *slot = Some(value);
    }

    /// The value of a field by its adapter name.
    pub fn get(&self, name: &str) -> Option<&str> {
        match name {
            "title" => self.title.as_deref(),
            "price" => self.price.as_deref(),
            "seller" => self.seller.as_deref(),
            "shop_url" => self.shop_url.as_deref(),
            "brand" => self.brand.as_deref(),
            "model" => self.model.as_deref(),
            "cert_no" => self.cert_no.as_deref(),
            "description" => self.description.as_deref(),
            "category" => self.category.as_deref(),
            _ => None,
        }
    }
}

/// One result card of a search page.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Card {
    /// Absolute item URL as linked (tracking parameters still on).
    pub link: Option<String>,
    pub item_id: Option<String>,
    pub fields: Fields,
}

/// What a search page yields.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SearchPage {
    pub cards: Vec<Card>,
    /// Absolute URL of the next result page.
    pub next: Option<String>,
    /// Adapter keys whose selectors matched nothing on this page.
    pub unmatched: Vec<String>,
}

/// What an item page yields.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ItemPage {
    pub fields: Fields,
    /// The page says the listing was taken down (one of `item.gone_markers`).
    pub gone: bool,
    pub unmatched: Vec<String>,
}

/// A platform adapter, checked and compiled; cheap to share between threads.
#[derive(Debug)]
pub struct Adapter {
    pub config: PlatformConfig,
    base: Url,
    id_pattern: Option<Regex>,
    rules: Rules,
}

#[derive(Debug)]
enum Rules {
    Html(html::HtmlRules),
    Json(json::JsonRules),
}

/// Tracking and session parameters dropped from every URL.
const TRACKING_PARAMS: &[&str] = &[
    "spm",
    "scm",
    "ref",
    "_t",
    "t",
    "pvid",
    "abbucket",
    "abtest",
    "ns",
    "from",
    "source",
    "tracelog",
    "trackinfo",
    "fbclid",
    "gclid",
    "ali_refid",
    "ali_trackid",
    "sku_properties",
    "bi",
    "lsm",
    "utm",
];

impl Adapter {
    /// Reads, checks and compiles `path`; the platform name must equal the file stem.
    pub fn from_file(path: &Path) -> Result<Adapter, AdapterError> {
        let config = PlatformConfig::from_file(path)?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if !stem.is_empty() && config.name != stem {
            return Err(invalid(
                path,
                "name",
                format!(
                    "is `{}` but the file is {stem}.toml; they must be equal",
                    config.name
                ),
            ));
        }
        Adapter::new(config, path)
    }

    /// Checks and compiles a configuration; `path` is only for messages.
    pub fn new(config: PlatformConfig, path: &Path) -> Result<Adapter, AdapterError> {
        let base = check_common(&config, path)?;
        let id_pattern = match &config.item.id_pattern {
            Some(p) => Some(compile_id_pattern(p, path)?),
            None => None,
        };
        let rules = match config.format {
            Format::Html => Rules::Html(html::HtmlRules::compile(&config, path)?),
            Format::Json => Rules::Json(json::JsonRules::compile(&config, path)?),
        };
        Ok(Adapter {
            config,
            base,
            id_pattern,
            rules,
        })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Replaces the base URL (the demo marketplace's port is only known at run time).
    pub fn with_base_url(mut self, base: &str) -> Result<Adapter, AdapterError> {
        self.base = parse_base(base, Path::new(&self.config.name))?;
        self.config.base_url = base.to_string();
        Ok(self)
    }

    /// Hosts (`host:port`) that belong to this platform: the base URL's and
    /// those in `hosts` (written `item.jd.com`, `item.jd.com:443` or as a URL;
    /// without a port, the base URL's scheme decides it).
    pub fn hosts(&self) -> Vec<String> {
        let mut hosts = vec![host_key(&self.base)];
        for h in &self.config.hosts {
            let written = if h.contains("://") {
                h.clone()
            } else {
                format!("{}://{h}", self.base.scheme())
            };
            if let Ok(u) = Url::parse(&written) {
                let key = host_key(&u);
                if !hosts.contains(&key) {
                    hosts.push(key);
                }
            }
        }
        hosts
    }

    /// Whether the search URL takes a keyword (a site without search is walked
    /// through its listing pages once).
    pub fn searches_keywords(&self) -> bool {
        self.config.search.url.contains("{keyword}")
    }

    /// URL of result page `page` for `keyword`.
    pub fn search_url(&self, keyword: &str, page: u32) -> String {
        let kw: String = url::form_urlencoded::byte_serialize(keyword.as_bytes()).collect();
        let s = &self.config.search;
        let offset = page.saturating_sub(s.first_page) * s.page_size.unwrap_or(0);
        self.fill(&s.url)
            .replace("{keyword}", &kw)
            .replace("{page}", &page.to_string())
            .replace("{offset}", &offset.to_string())
    }

    fn fill(&self, template: &str) -> String {
        template.replace("{base}", self.base.as_str().trim_end_matches('/'))
    }

    /// Parses a search page. `page_url` resolves relative links.
    pub fn search_page(&self, body: &str, page_url: &Url) -> SearchPage {
        match &self.rules {
            Rules::Html(r) => r.search_page(body, page_url),
            Rules::Json(r) => r.search_page(body, page_url),
        }
    }

    /// Parses an item page.
    pub fn item_page(&self, body: &str, page_url: &Url) -> ItemPage {
        let mut page = match &self.rules {
            Rules::Html(r) => r.item_page(body, page_url),
            Rules::Json(r) => r.item_page(body, page_url),
        };
        page.gone = self
            .config
            .item
            .gone_markers
            .iter()
            .any(|m| !m.is_empty() && body.contains(m.as_str()));
        page
    }

    /// The item ID of a card: its own ID field, else `item.id_pattern` on its link.
    pub fn card_item_id(&self, card: &Card) -> Option<String> {
        card.item_id
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| card.link.as_deref().and_then(|l| self.item_id_of(l)))
    }

    /// The item ID in a URL, by `item.id_pattern`.
    pub fn item_id_of(&self, url: &str) -> Option<String> {
        let re = self.id_pattern.as_ref()?;
        let caps = re.captures(url)?;
        caps.get(1).map(|m| m.as_str().to_string())
    }

    /// The URL an item is fetched from: the `item.url` template with its ID,
    /// else the link without tracking parameters and fragment.
    pub fn canonical_item_url(&self, id: Option<&str>, link: Option<&str>) -> Option<String> {
        if let (Some(t), Some(id)) = (&self.config.item.url, id) {
            let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
            return Some(self.fill(t).replace("{id}", &id));
        }
        link.and_then(|l| Url::parse(l).ok())
            .map(|u| canonical_url(&u))
    }

    /// A listing from what was extracted. The certificate number, when read
    /// from its own selector, joins the spec table so the matcher sees it.
    pub fn listing(&self, item_id: &str, url: Option<String>, fields: Fields) -> Listing {
        let mut params = fields.spec;
        if let Some(no) = fields.cert_no.filter(|n| !n.is_empty())
            && !params.iter().any(|(_, v)| v == &no)
        {
            params.push(("3C证书编号".into(), no));
        }
        Listing {
            platform: self.config.name.clone(),
            item_id: item_id.to_string(),
            url,
            title: fields.title.unwrap_or_default(),
            brand: fields.brand,
            model: fields.model,
            params,
            description: fields.description,
            seller: fields.seller,
            shop_url: fields.shop_url,
            price: fields.price,
            category: fields.category,
        }
    }
}

/// `host:port` as used for politeness keys.
pub fn host_key(u: &Url) -> String {
    match (u.host_str(), u.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

/// A URL without fragment and tracking parameters, remaining parameters sorted.
pub fn canonical_url(u: &Url) -> String {
    let mut u = u.clone();
    u.set_fragment(None);
    let mut pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !is_tracking(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

fn is_tracking(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    TRACKING_PARAMS.contains(&k.as_str()) || k.starts_with("utm_")
}

fn invalid(path: &Path, key: &str, message: String) -> AdapterError {
    AdapterError::Invalid {
        path: path.to_path_buf(),
        key: key.to_string(),
        message,
    }
}

fn parse_base(base: &str, path: &Path) -> Result<Url, AdapterError> {
    let u = Url::parse(base)
        .map_err(|e| invalid(path, "base_url", format!("`{base}` is not a URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(invalid(
            path,
            "base_url",
            format!("`{base}` must be an http(s) URL with a host"),
        ));
    }
    Ok(u)
}

fn check_common(c: &PlatformConfig, path: &Path) -> Result<Url, AdapterError> {
    if c.name.is_empty()
        || !c
            .name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
    {
        return Err(invalid(
            path,
            "name",
            format!("`{}` must be letters, digits, '-' or '_'", c.name),
        ));
    }
    let base = parse_base(&c.base_url, path)?;
    for h in &c.hosts {
        let written = if h.contains("://") {
            h.clone()
        } else {
            format!("{}://{h}", base.scheme())
        };
        if Url::parse(&written)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .is_none()
        {
            return Err(invalid(path, "hosts", format!("`{h}` is not a host name")));
        }
    }
    if c.robots == RobotsPolicy::Override && c.legal_basis.trim().chars().count() < 10 {
        return Err(invalid(
            path,
            "legal_basis",
            "robots = \"override\" needs a written legal basis (at least 10 characters)".into(),
        ));
    }
    let p = &c.politeness;
    if !(p.requests_per_second >= 0.0 && p.requests_per_second <= 1000.0) {
        return Err(invalid(
            path,
            "politeness.requests_per_second",
            "must be between 0 and 1000".into(),
        ));
    }
    if p.concurrency == 0 || p.concurrency > 256 {
        return Err(invalid(
            path,
            "politeness.concurrency",
            "must be between 1 and 256".into(),
        ));
    }
    if p.burst == 0 {
        return Err(invalid(
            path,
            "politeness.burst",
            "must be at least 1".into(),
        ));
    }
    if !c.search.url.contains("{keyword}") && !c.keywords.is_empty() {
        return Err(invalid(
            path,
            "search.url",
            "must contain {keyword} when [keywords] are given".into(),
        ));
    }
    if c.search.url.contains("{offset}") && c.search.page_size.unwrap_or(0) == 0 {
        return Err(invalid(
            path,
            "search.page_size",
            "is needed (results per page) when search.url uses {offset}".into(),
        ));
    }
    if c.search.card.is_empty() {
        return Err(invalid(path, "search.card", "is required".into()));
    }
    if c.item.fetch && c.search.item_link.is_empty() && c.item.url.is_none() {
        return Err(invalid(
            path,
            "search.item_link",
            "is required when item pages are fetched (or set item.url)".into(),
        ));
    }
    if let Some(t) = &c.item.url
        && !t.contains("{id}")
    {
        return Err(invalid(path, "item.url", "must contain {id}".into()));
    }
    Ok(base)
}

fn compile_id_pattern(p: &str, path: &Path) -> Result<Regex, AdapterError> {
    let re = Regex::new(p).map_err(|e| invalid(path, "item.id_pattern", e.to_string()))?;
    if re.captures_len() < 2 {
        return Err(invalid(
            path,
            "item.id_pattern",
            "needs one group ( ... ) around the ID".into(),
        ));
    }
    Ok(re)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_hosts_get_the_base_scheme_port() {
        let mut c = PlatformConfig::from_toml(
            "name = \"x\"\nbase_url = \"https://search.jd.com\"\nhosts = [\"item.jd.com\", \"http://m.jd.com\", \"a.jd.com:8443\"]\n\
             [search]\nurl = \"{base}/s?k={keyword}\"\ncard = \"li\"\nitem_link = \"a@href\"\n",
            Path::new("x.toml"),
        )
        .unwrap();
        let a = Adapter::new(c.clone(), Path::new("x.toml")).unwrap();
        assert_eq!(
            a.hosts(),
            [
                "search.jd.com:443",
                "item.jd.com:443",
                "m.jd.com:80",
                "a.jd.com:8443"
            ]
        );
        c.hosts = vec!["not a host/".into()];
        assert!(
            Adapter::new(c, Path::new("x.toml"))
                .unwrap_err()
                .to_string()
                .contains("`hosts`")
        );
    }

    #[test]
    fn search_urls_count_pages_or_results() {
        let text = "name = \"x\"\nbase_url = \"https://s.example\"\n\
                    [search]\nurl = \"{base}/search?q={keyword}&s={offset}&p={page}\"\npage_size = 44\n\
                    card = \"li\"\nitem_link = \"a@href\"\n";
        let c = PlatformConfig::from_toml(text, Path::new("x.toml")).unwrap();
        let a = Adapter::new(c.clone(), Path::new("x.toml")).unwrap();
        assert_eq!(
            a.search_url("电 水壶", 1),
            "https://s.example/search?q=%E7%94%B5+%E6%B0%B4%E5%A3%B6&s=0&p=1"
        );
        assert_eq!(
            a.search_url("插座", 3),
            "https://s.example/search?q=%E6%8F%92%E5%BA%A7&s=88&p=3"
        );
        let mut c = c;
        c.search.page_size = None;
        let e = Adapter::new(c, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`search.page_size`"), "{e}");
    }

    #[test]
    fn robots_override_needs_a_written_legal_basis() {
        let text = "name = \"x\"\nbase_url = \"https://x.example\"\nrobots = \"override\"\n\
                    [search]\nurl = \"{base}/s?k={keyword}\"\ncard = \"li\"\nitem_link = \"a@href\"\n";
        let c = PlatformConfig::from_toml(text, Path::new("x.toml")).unwrap();
        let e = Adapter::new(c.clone(), Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.toml") && e.contains("`legal_basis`"), "{e}");
        let mut c = c;
        c.legal_basis = "《电子商务法》第八十一条；市监函〔2026〕12号授权".into();
        assert!(Adapter::new(c, Path::new("x.toml")).is_ok());
        let bad = PlatformConfig::from_toml(
            &text.replace("robots = \"override\"", "robots = \"ignore\""),
            Path::new("x.toml"),
        );
        assert!(bad.unwrap_err().to_string().contains("x.toml"));
    }

    #[test]
    fn canonical_url_drops_tracking_and_fragment() {
        let u = Url::parse("http://h/item/1.html?spm=a.b&utm_source=x&b=2&a=1#comments").unwrap();
        assert_eq!(canonical_url(&u), "http://h/item/1.html?a=1&b=2");
        let u = Url::parse("http://h/item/1.html?_t=123").unwrap();
        assert_eq!(canonical_url(&u), "http://h/item/1.html");
    }
}
