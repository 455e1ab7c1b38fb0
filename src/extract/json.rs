//! Extract stage: JSON APIs and data feeds through JSON Pointers (RFC 6901).
//!
//! `search.card` points at the array of results; the other search keys are
//! pointers inside one result. Item fields point into the item document.
//! The spec table is an array of objects (`item.spec.label` / `.value`
//! pointers inside each, default `/name` and `/value`) or an object.

use super::config::{FieldSelectors, PlatformConfig, Selectors};
use super::text::{clean, price, truncate};
use super::{AdapterError, Card, Fields, ItemPage, SearchPage};
use serde_json::Value;
use std::path::Path;
use url::Url;

#[derive(Debug)]
pub(super) struct JsonRules {
    card: Ptrs,
    item_link: Ptrs,
    item_id: Ptrs,
    next_page: Ptrs,
    card_fields: Vec<(&'static str, Ptrs)>,
    item_fields: Vec<(&'static str, Ptrs)>,
    spec: Ptrs,
    spec_label: String,
    spec_value: String,
}

#[derive(Debug, Default)]
struct Ptrs {
    key: String,
    alts: Vec<String>,
}

impl JsonRules {
    pub(super) fn compile(c: &PlatformConfig, path: &Path) -> Result<JsonRules, AdapterError> {
        let label = c.item.spec.label.clone().unwrap_or_else(|| "/name".into());
        let value = c.item.spec.value.clone().unwrap_or_else(|| "/value".into());
        check_pointer("item.spec.label", &label, path)?;
        check_pointer("item.spec.value", &value, path)?;
        Ok(JsonRules {
            card: ptrs("search.card", &c.search.card, path)?,
            item_link: ptrs("search.item_link", &c.search.item_link, path)?,
            item_id: ptrs("search.item_id", &c.search.item_id, path)?,
            next_page: ptrs("search.next_page", &c.search.next_page, path)?,
            card_fields: fields("search.fields", &c.search.fields, path)?,
            item_fields: fields("item.fields", &c.item.fields, path)?,
            spec: ptrs("item.spec.rows", &c.item.spec.rows, path)?,
            spec_label: label,
            spec_value: value,
        })
    }

    pub(super) fn search_page(&self, body: &str, page_url: &Url) -> SearchPage {
        let mut out = SearchPage::default();
        let Ok(doc) = serde_json::from_str::<Value>(body) else {
            out.unmatched.push("(not JSON)".into());
            return out;
        };
        let cards = self
            .card
            .alts
            .iter()
            .find_map(|p| doc.pointer(p)?.as_array());
        let Some(cards) = cards else {
            out.unmatched.push(self.card.key.clone());
            return out;
        };
        for c in cards {
            let link = self
                .item_link
                .first(c)
                .and_then(|l| page_url.join(&l).ok())
                .map(String::from);
            let item_id = self.item_id.first(c);
            let fields = read_fields(c, &self.card_fields, &mut Vec::new());
            out.cards.push(Card {
                link,
                item_id,
                fields,
            });
        }
        out.next = self
            .next_page
            .first(&doc)
            .and_then(|l| page_url.join(&l).ok())
            .map(String::from);
        out
    }

    pub(super) fn item_page(&self, body: &str, _page_url: &Url) -> ItemPage {
        let mut page = ItemPage::default();
        let Ok(doc) = serde_json::from_str::<Value>(body) else {
            page.unmatched.push("(not JSON)".into());
            return page;
        };
        page.fields = read_fields(&doc, &self.item_fields, &mut page.unmatched);
        page.fields.spec = self.spec_rows(&doc);
        if page.fields.spec.is_empty() && !self.spec.alts.is_empty() {
            page.unmatched.push(self.spec.key.clone());
        }
        page
    }

    fn spec_rows(&self, doc: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for p in &self.spec.alts {
            match doc.pointer(p) {
                Some(Value::Array(rows)) => {
                    for r in rows {
                        let l = r.pointer(&self.spec_label).and_then(scalar);
                        let v = r.pointer(&self.spec_value).and_then(scalar);
                        if let (Some(l), Some(v)) = (l, v) {
                            out.push((l, v));
                        }
                    }
                }
                Some(Value::Object(map)) => {
                    for (l, v) in map {
                        if let Some(v) = scalar(v) {
                            out.push((clean(l), v));
                        }
                    }
                }
                _ => continue,
            }
            if !out.is_empty() {
                break;
            }
        }
        out
    }
}

impl Ptrs {
    fn first(&self, doc: &Value) -> Option<String> {
        self.alts
            .iter()
            .find_map(|p| doc.pointer(p).and_then(scalar))
    }
}

/// A string, number or boolean as text; arrays of those joined with spaces.
fn scalar(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => clean(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) => a.iter().filter_map(scalar).collect::<Vec<_>>().join(" "),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn read_fields(doc: &Value, rules: &[(&'static str, Ptrs)], unmatched: &mut Vec<String>) -> Fields {
    let mut f = Fields::default();
    for (name, p) in rules {
        match p.first(doc) {
            Some(v) => {
                let v = match *name {
                    "price" => price(&v).unwrap_or(v),
                    "description" => truncate(v, 4000),
                    _ => v,
                };
                f.set(name, v)
            }
            None => unmatched.push(p.key.clone()),
        }
    }
    f
}

fn check_pointer(key: &str, p: &str, path: &Path) -> Result<(), AdapterError> {
    if p.is_empty() || p.starts_with('/') {
        Ok(())
    } else {
        Err(super::invalid(
            path,
            key,
            format!("`{p}` is not a JSON Pointer (it must start with '/')"),
        ))
    }
}

fn ptrs(key: &str, s: &Selectors, path: &Path) -> Result<Ptrs, AdapterError> {
    for p in &s.0 {
        check_pointer(key, p, path)?;
    }
    Ok(Ptrs {
        key: key.to_string(),
        alts: s.0.clone(),
    })
}

fn fields(
    prefix: &str,
    f: &FieldSelectors,
    path: &Path,
) -> Result<Vec<(&'static str, Ptrs)>, AdapterError> {
    f.named()
        .into_iter()
        .filter(|(_, s)| !s.is_empty())
        .map(|(name, s)| Ok((name, ptrs(&format!("{prefix}.{name}"), s, path)?)))
        .collect()
}
