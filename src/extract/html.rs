//! Extract stage: HTML pages through CSS selectors (scraper).
//!
//! A selector is `css`, `css@attr` (an attribute of the matched element) or
//! `@attr` (an attribute of the card itself). `scraper::Html` is not `Send`:
//! every function here parses and extracts synchronously and returns owned data.

use super::config::{FieldSelectors, PlatformConfig, Selectors};
use super::text::{clean, clean_label, price, split_label_value, truncate};
use super::{AdapterError, Card, Fields, ItemPage, SearchPage};
use scraper::{ElementRef, Html, Selector};
use std::path::Path;
use url::Url;

/// One compiled alternative.
#[derive(Debug)]
struct Sel {
    css: Option<Selector>,
    attr: Option<String>,
}

/// Alternatives for one key, tried in order.
#[derive(Debug, Default)]
struct SelList {
    key: String,
    alts: Vec<Sel>,
}

#[derive(Debug)]
pub(super) struct HtmlRules {
    card: SelList,
    item_link: SelList,
    item_id: SelList,
    next_page: SelList,
    card_fields: Vec<(&'static str, SelList)>,
    item_fields: Vec<(&'static str, SelList)>,
    spec: SelList,
}

const DESCRIPTION_MAX: usize = 4000;

impl HtmlRules {
    pub(super) fn compile(c: &PlatformConfig, path: &Path) -> Result<HtmlRules, AdapterError> {
        Ok(HtmlRules {
            card: compile("search.card", &c.search.card, path)?,
            item_link: compile("search.item_link", &c.search.item_link, path)?,
            item_id: compile("search.item_id", &c.search.item_id, path)?,
            next_page: compile("search.next_page", &c.search.next_page, path)?,
            card_fields: compile_fields("search.fields", &c.search.fields, path)?,
            item_fields: compile_fields("item.fields", &c.item.fields, path)?,
            spec: compile("item.spec.rows", &c.item.spec.rows, path)?,
        })
    }

    pub(super) fn search_page(&self, body: &str, page_url: &Url) -> SearchPage {
        let doc = Html::parse_document(body);
        let root = doc.root_element();
        let mut out = SearchPage::default();
        let mut link_seen = false;
        let mut id_seen = false;
        for card_el in self.card.all(root) {
            let link = self
                .item_link
                .first(card_el)
                .and_then(|l| resolve(page_url, &l));
            let item_id = self.item_id.first(card_el);
            link_seen |= link.is_some();
            id_seen |= item_id.is_some();
            let mut fields = extract_fields(card_el, &self.card_fields, &mut Vec::new());
            absolute_shop_url(&mut fields, page_url);
            out.cards.push(Card {
                link,
                item_id,
                fields,
            });
        }
        out.next = self
            .next_page
            .first(root)
            .and_then(|l| resolve(page_url, &l));
        if out.cards.is_empty() {
            out.unmatched.push(self.card.key.clone());
        } else {
            for (seen, list) in [(link_seen, &self.item_link), (id_seen, &self.item_id)] {
                if !seen && !list.alts.is_empty() {
                    out.unmatched.push(list.key.clone());
                }
            }
            for (name, list) in &self.card_fields {
                if out.cards.iter().all(|c| c.fields.get(name).is_none()) {
                    out.unmatched.push(list.key.clone());
                }
            }
        }
        if out.next.is_none() && !self.next_page.alts.is_empty() {
            out.unmatched.push(self.next_page.key.clone());
        }
        out
    }

    pub(super) fn item_page(&self, body: &str, page_url: &Url) -> ItemPage {
        let doc = Html::parse_document(body);
        let root = doc.root_element();
        let mut unmatched = Vec::new();
        let mut fields = extract_fields(root, &self.item_fields, &mut unmatched);
        absolute_shop_url(&mut fields, page_url);
        fields.spec = spec_rows(root, &self.spec);
        if fields.spec.is_empty() && !self.spec.alts.is_empty() {
            unmatched.push(self.spec.key.clone());
        }
        ItemPage {
            fields,
            gone: false,
            unmatched,
        }
    }
}

fn absolute_shop_url(fields: &mut Fields, page_url: &Url) {
    if let Some(shop) = fields.shop_url.take() {
        fields.shop_url = resolve(page_url, &shop).or(Some(shop));
    }
}

impl SelList {
    /// Every element matched by the first alternative that matches any.
    fn all<'a>(&self, scope: ElementRef<'a>) -> Vec<ElementRef<'a>> {
        for alt in &self.alts {
            let found: Vec<ElementRef<'a>> = match &alt.css {
                Some(css) => scope.select(css).collect(),
                None => vec![scope],
            };
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }

    /// The first non-empty value (text or attribute) of any alternative.
    fn first(&self, scope: ElementRef<'_>) -> Option<String> {
        self.alts.iter().find_map(|alt| {
            let mut candidates: Box<dyn Iterator<Item = ElementRef<'_>>> = match &alt.css {
                Some(css) => Box::new(scope.select(css)),
                None => Box::new(std::iter::once(scope)),
            };
            candidates.find_map(|el| value_of(el, alt.attr.as_deref()))
        })
    }
}

fn value_of(el: ElementRef<'_>, attr: Option<&str>) -> Option<String> {
    let v = match attr {
        Some(a) => clean(el.value().attr(a)?),
        None => clean(&el.text().collect::<String>()),
    };
    (!v.is_empty()).then_some(v)
}

fn extract_fields(
    scope: ElementRef<'_>,
    rules: &[(&'static str, SelList)],
    unmatched: &mut Vec<String>,
) -> Fields {
    let mut f = Fields::default();
    for (name, list) in rules {
        match list.first(scope) {
            Some(v) => f.set(name, normalise_field(name, v)),
            None => unmatched.push(list.key.clone()),
        }
    }
    f
}

fn normalise_field(name: &str, v: String) -> String {
    match name {
        "price" => price(&v).unwrap_or(v),
        "description" => truncate(v, DESCRIPTION_MAX),
        _ => v,
    }
}

/// The spec table from every element matched by the first matching alternative.
fn spec_rows(root: ElementRef<'_>, list: &SelList) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for el in list.all(root) {
        match el.value().name() {
            "dl" => dl_rows(el, &mut out),
            "table" | "tbody" | "thead" => {
                for tr in el.select(tr_selector()) {
                    row_cells(tr, &mut out);
                }
            }
            "tr" => row_cells(el, &mut out),
            _ => line_row(el, &mut out),
        }
    }
    out.retain(|(l, v)| !l.is_empty() && !v.is_empty());
    out
}

fn dl_rows(dl: ElementRef<'_>, out: &mut Vec<(String, String)>) {
    let mut label: Option<String> = None;
    for child in dl.child_elements() {
        match child.value().name() {
            "dt" => label = Some(clean_label(&child.text().collect::<String>())),
            "dd" => {
                if let Some(l) = label.take() {
                    out.push((l, cell_value(child)));
                }
            }
            _ => {}
        }
    }
}

/// A row of cells: label, value (and again label, value for four-column tables).
fn row_cells(tr: ElementRef<'_>, out: &mut Vec<(String, String)>) {
    let cells: Vec<ElementRef<'_>> = tr
        .child_elements()
        .filter(|c| matches!(c.value().name(), "th" | "td"))
        .collect();
    if cells.len() == 1 {
        line_row(cells[0], out);
        return;
    }
    for pair in cells.chunks(2) {
        if let [l, v] = pair {
            out.push((clean_label(&l.text().collect::<String>()), cell_value(*v)));
        }
    }
}

/// `label：value` in one element; a `title` attribute holds the full value.
fn line_row(el: ElementRef<'_>, out: &mut Vec<(String, String)>) {
    let text = clean(&el.text().collect::<String>());
    let Some((label, value)) = split_label_value(&text) else {
        return;
    };
    let value = el
        .value()
        .attr("title")
        .map(clean)
        .filter(|t| !t.is_empty())
        .unwrap_or(value);
    out.push((label, value));
}

fn cell_value(el: ElementRef<'_>) -> String {
    el.value()
        .attr("title")
        .map(clean)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| clean(&el.text().collect::<String>()))
}

fn tr_selector() -> &'static Selector {
    static TR: std::sync::OnceLock<Selector> = std::sync::OnceLock::new();
    TR.get_or_init(|| Selector::parse("tr").expect("static selector"))
}

fn resolve(base: &Url, link: &str) -> Option<String> {
    let link = link.trim();
    if link.is_empty() || link.starts_with("javascript:") || link == "#" {
        return None;
    }
    base.join(link).ok().map(|u| u.to_string())
}

fn compile(key: &str, sels: &Selectors, path: &Path) -> Result<SelList, AdapterError> {
    let alts = sels
        .0
        .iter()
        .enumerate()
        .map(|(i, s)| {
            compile_one(s).map_err(|message| {
                // One of several alternatives: say which (from 1, as people count).
                let at = if sels.0.len() > 1 {
                    format!("{key}[{}]", i + 1)
                } else {
                    key.to_string()
                };
                super::invalid(path, &at, message)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SelList {
        key: key.to_string(),
        alts,
    })
}

fn compile_fields(
    prefix: &str,
    f: &FieldSelectors,
    path: &Path,
) -> Result<Vec<(&'static str, SelList)>, AdapterError> {
    f.named()
        .into_iter()
        .filter(|(_, s)| !s.is_empty())
        .map(|(name, s)| Ok((name, compile(&format!("{prefix}.{name}"), s, path)?)))
        .collect()
}

/// `css`, `css@attr` or `@attr`.
fn compile_one(s: &str) -> Result<Sel, String> {
    let (css, attr) = match s.rsplit_once('@') {
        Some((css, attr)) if is_attr_name(attr) => (css.trim(), Some(attr.to_string())),
        _ => (s.trim(), None),
    };
    if css.is_empty() {
        return match attr {
            Some(a) => Ok(Sel {
                css: None,
                attr: Some(a),
            }),
            None => Err("empty selector".into()),
        };
    }
    let css = super::css_error::parse(css)
        .map_err(|why| format!("`{s}` is not a valid CSS selector: {why}"))?;
    Ok(Sel {
        css: Some(css),
        attr,
    })
}

fn is_attr_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(spec: &[&str]) -> SelList {
        compile(
            "item.spec.rows",
            &Selectors(spec.iter().map(|s| s.to_string()).collect()),
            Path::new("t.toml"),
        )
        .unwrap()
    }

    fn rows(html: &str, spec: &[&str]) -> Vec<(String, String)> {
        let doc = Html::parse_document(html);
        spec_rows(doc.root_element(), &rules(spec))
    }

    #[test]
    fn spec_layouts() {
        let dl = "<dl class=s><dt>品牌</dt><dd>公牛</dd><dt>型号：</dt><dd> GN-B3 </dd></dl>";
        assert_eq!(
            rows(dl, &["dl.s"]),
            vec![
                ("品牌".into(), "公牛".into()),
                ("型号".into(), "GN-B3".into())
            ]
        );
        let table = "<table class=s><tr><th>品牌</th><td>公牛</td><th>型号</th><td>GN-B3</td></tr>\
                     <tr><td colspan=2>包装清单</td></tr></table>";
        assert_eq!(
            rows(table, &["table.s"]),
            vec![
                ("品牌".into(), "公牛".into()),
                ("型号".into(), "GN-B3".into())
            ]
        );
        let li = "<ul id=J_AttrUL><li title=\"&nbsp;公牛插座旗舰\">品牌:&nbsp;公牛插…</li>\
                  <li>型号：GN-B3</li><li>无冒号</li></ul>";
        assert_eq!(
            rows(li, &["#J_AttrUL li"]),
            vec![
                ("品牌".into(), "公牛插座旗舰".into()),
                ("型号".into(), "GN-B3".into())
            ]
        );
    }

    #[test]
    fn selector_syntax() {
        assert!(compile_one("a.x@href").unwrap().attr.as_deref() == Some("href"));
        assert!(compile_one("@data-sku").unwrap().css.is_none());
        let quoted = compile_one("a[href$='@x']").unwrap();
        assert!(quoted.css.is_some() && quoted.attr.is_none());
        assert!(compile_one("div[").is_err());
        assert!(compile_one("").is_err());
    }
}
