//! Stage 1b, platform data feeds: JSON Lines that a platform hands over,
//! one listing a line. A bad line is reported with its number and skipped;
//! the rest loads. Listings are upserted by (platform, item_id).

use crate::domain::Listing;
use crate::progress::Progress;
use crate::store::{ListingCounts, ListingWrite, Store, StoreError};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// One line as platforms write it. Unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct FeedRecord {
    platform: Option<String>,
    item_id: Option<Value>,
    url: Option<String>,
    title: Option<String>,
    brand: Option<String>,
    model: Option<String>,
    #[serde(default)]
    params: Option<Value>,
    description: Option<String>,
    seller: Option<String>,
    shop_url: Option<String>,
    price: Option<Value>,
    category: Option<Value>,
}

/// A line that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineError {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Store { path: PathBuf, source: StoreError },
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IngestReport {
    pub lines: u64,
    pub counts: ListingCounts,
    pub errors: Vec<LineError>,
}

/// Parses one feed line into a listing; `default_platform` fills a missing `platform`.
pub fn parse_line(line: &str, default_platform: Option<&str>) -> Result<Listing, String> {
    let rec: FeedRecord = serde_json::from_str(line)
        .map_err(|e| format!("invalid JSON at column {}: {e}", e.column()))?;
    let text = |v: Option<Value>, field: &str| -> Result<Option<String>, String> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(format!(
                "field `{field}` must be a string or a number, found {}",
                kind(&other)
            )),
        }
    };
    let item_id = text(rec.item_id, "item_id")?.ok_or("missing required field `item_id`")?;
    let title = rec
        .title
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or("missing required field `title`")?;
    let platform = rec
        .platform
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .or_else(|| default_platform.map(str::to_string))
        .ok_or("no `platform` in the line and no --platform given")?;
    let category = match rec.category {
        Some(Value::Array(parts)) => Some(
            parts
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(">"),
        ),
        other => text(other, "category")?,
    };
    Ok(Listing {
        platform,
        item_id,
        url: rec.url.filter(|s| !s.trim().is_empty()),
        title,
        brand: rec
            .brand
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        model: rec
            .model
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        params: parse_params(rec.params)?,
        description: rec.description.filter(|s| !s.trim().is_empty()),
        seller: rec.seller.filter(|s| !s.trim().is_empty()),
        shop_url: rec.shop_url.filter(|s| !s.trim().is_empty()),
        price: text(rec.price, "price")?,
        category,
    })
}

/// `params` as an object (label → value) or a list of `[label, value]` pairs.
fn parse_params(v: Option<Value>) -> Result<Vec<(String, String)>, String> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .or_else(|| i.as_number().map(|n| n.to_string()))
                })
                .collect::<Vec<_>>()
                .join("、"),
        ),
        _ => None,
    };
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => Ok(map
            .iter()
            .filter_map(|(k, v)| scalar(v).map(|s| (k.trim().to_string(), s)))
            .collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|pair| match pair.as_array().map(Vec::as_slice) {
                Some([Value::String(k), v]) => scalar(v)
                    .map(|s| (k.clone(), s))
                    .ok_or_else(|| "a `params` value must be text".to_string()),
                _ => {
                    Err("`params` must be an object or a list of [label, value] pairs".to_string())
                }
            })
            .collect(),
        Some(other) => Err(format!(
            "`params` must be an object, found {}",
            kind(&other)
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The hash of a listing's content, to tell changed from unchanged.
pub fn content_hash(l: &Listing) -> String {
    let bytes = serde_json::to_vec(l).unwrap_or_default();
    let d = Sha256::digest(&bytes);
    d[..16].iter().map(|b| format!("{b:02x}")).collect()
}

const BATCH: usize = 1000;

/// Loads a JSONL feed into the store.
pub async fn ingest_file(
    store: &Store,
    path: &Path,
    default_platform: Option<&str>,
    progress: &Progress,
) -> Result<IngestReport, FeedError> {
    let read_err = |source| FeedError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let reader = std::io::BufReader::new(file);
    let mut report = IngestReport::default();
    let mut batch: Vec<ListingWrite> = Vec::with_capacity(BATCH);
    let source = format!("feed:{}", path.display());
    // Reading is synchronous and cheap next to the database work.
    for (i, line) in reader.split(b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let bytes = line.map_err(read_err)?;
        report.lines += 1;
        progress.inc(1);
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t.trim_start_matches('\u{feff}').trim(),
            Err(e) => {
                report.errors.push(LineError {
                    line: line_no,
                    reason: format!("not UTF-8 (byte {})", e.valid_up_to()),
                });
                continue;
            }
        };
        if text.is_empty() {
            report.lines -= 1;
            continue;
        }
        match parse_line(text, default_platform) {
            Ok(listing) => {
                // A later line for the same item is applied after the earlier
                // one (in order, in one transaction): an update with history.
                let hash = content_hash(&listing);
                batch.push(ListingWrite {
                    listing,
                    content_hash: hash,
                });
            }
            Err(reason) => report.errors.push(LineError {
                line: line_no,
                reason,
            }),
        }
        if batch.len() >= BATCH {
            add(
                &mut report.counts,
                store
                    .upsert_listings(&batch, &source)
                    .await
                    .map_err(|source| FeedError::Store {
                        path: path.to_path_buf(),
                        source,
                    })?,
            );
            batch.clear();
        }
    }
    if !batch.is_empty() {
        add(
            &mut report.counts,
            store
                .upsert_listings(&batch, &source)
                .await
                .map_err(|source| FeedError::Store {
                    path: path.to_path_buf(),
                    source,
                })?,
        );
    }
    Ok(report)
}

fn add(total: &mut ListingCounts, c: ListingCounts) {
    total.inserted += c.inserted;
    total.updated += c.updated;
    total.unchanged += c.unchanged;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_line() {
        let l = parse_line(
            r#"{"platform":"jd","item_id":100012,"title":" 公牛插座 ","params":{"品牌":"公牛（BULL）","3C证书编号":"2016010201931890"},"price":39.9,"category":["家用电器","插座"]}"#,
            None,
        )
        .unwrap();
        assert_eq!(l.item_id, "100012");
        assert_eq!(l.title, "公牛插座");
        assert_eq!(l.price.as_deref(), Some("39.9"));
        assert_eq!(l.category.as_deref(), Some("家用电器>插座"));
        assert_eq!(
            l.params[1],
            ("3C证书编号".to_string(), "2016010201931890".to_string())
        );
    }

    #[test]
    fn explains_bad_lines() {
        assert!(
            parse_line(r#"{"item_id":"1"}"#, Some("x"))
                .unwrap_err()
                .contains("title")
        );
        assert!(
            parse_line(r#"{"title":"t"}"#, Some("x"))
                .unwrap_err()
                .contains("item_id")
        );
        assert!(
            parse_line(r#"{"item_id":"1","title":"t"}"#, None)
                .unwrap_err()
                .contains("platform")
        );
        assert!(
            parse_line(r#"{"item_id":"1","title":"t""#, Some("x"))
                .unwrap_err()
                .contains("invalid JSON")
        );
        assert!(
            parse_line(r#"{"item_id":{"a":1},"title":"t"}"#, Some("x"))
                .unwrap_err()
                .contains("item_id")
        );
        assert_eq!(
            parse_line(r#"{"item_id":"1","title":"t"}"#, Some("x"))
                .unwrap()
                .platform,
            "x"
        );
    }
}
