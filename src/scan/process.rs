//! Scan stage: what one fetched page means for the frontier.
//!
//! Pure and synchronous (HTML parsing is CPU work and `scraper::Html` is not
//! `Send`): a fetch outcome plus the adapter in, an [`EntryUpdate`] out —
//! the page as evidence (gzip body, SHA-256), the listing or the links it
//! holds, or the retry or failure to record.

use crate::crawl::decode::decode;
use crate::crawl::fetch::{Fetched, Response};
use crate::extract::{Adapter, Card, Fields, canonical_url};
use crate::feed::content_hash;
use crate::store::{EntryKind, EntryUpdate, FrontierEntry, ListingWrite, NewEntry, PageWrite};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::time::Duration;
use url::Url;

/// Limits that shape an entry's fate.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Attempts before a page is given up.
    pub max_attempts: u32,
    /// Result pages per keyword.
    pub max_pages: u32,
}

/// Turns a fetch outcome for `entry` into the update to store.
pub fn process(
    adapter: &Adapter,
    entry: &FrontierEntry,
    fetched: Fetched,
    limits: Limits,
    now_ms: i64,
) -> EntryUpdate {
    match fetched {
        Fetched::Page(resp) => match entry.kind {
            EntryKind::Search => search_update(adapter, entry, resp, limits),
            EntryKind::Item => item_update(adapter, entry, resp),
        },
        Fetched::Gone(resp) => match entry.kind {
            EntryKind::Item => EntryUpdate::Gone {
                page: page_write(entry, &resp, None),
                platform: adapter.name().to_string(),
                item_id: item_id_of(entry),
            },
            EntryKind::Search => EntryUpdate::Failed {
                error: format!("搜索结果页返回 HTTP 状态 {}", resp.status),
                status: Some(resp.status),
            },
        },
        Fetched::Robots => EntryUpdate::Robots,
        Fetched::Retry {
            delay,
            reason,
            status,
        } => {
            if entry.attempts + 1 >= limits.max_attempts as i64 {
                EntryUpdate::Failed {
                    error: format!("{reason}（尝试 {} 次后放弃）", entry.attempts + 1),
                    status,
                }
            } else {
                EntryUpdate::Retry {
                    next_at_ms: now_ms + delay.min(Duration::from_secs(3600)).as_millis() as i64,
                    error: reason,
                    status,
                }
            }
        }
        Fetched::Failed { reason, status } => EntryUpdate::Failed {
            error: reason,
            status,
        },
    }
}

fn item_id_of(entry: &FrontierEntry) -> String {
    entry
        .key
        .strip_prefix("item:")
        .unwrap_or(&entry.key)
        .to_string()
}

fn search_update(
    adapter: &Adapter,
    entry: &FrontierEntry,
    resp: Response,
    limits: Limits,
) -> EntryUpdate {
    let (text, encoding) = decode_body(&resp);
    let page_url = Url::parse(&resp.final_url).unwrap_or_else(|_| adapter.base().clone());
    let result = adapter.search_page(&text, &page_url);
    let mut found = Vec::new();
    let mut listings = Vec::new();
    let mut unusable = 0;
    for card in &result.cards {
        let id = adapter.card_item_id(card);
        let url = adapter.canonical_item_url(id.as_deref(), card.link.as_deref());
        if adapter.config.item.fetch {
            match item_entry(entry, card, id, url) {
                Some(e) => found.push(e),
                None => unusable += 1,
            }
        } else if let Some(id) = id.filter(|_| card.fields.title.is_some()) {
            let listing = adapter.listing(&id, url, card.fields.clone());
            let hash = content_hash(&listing);
            listings.push(ListingWrite {
                listing,
                content_hash: hash,
            });
        } else {
            unusable += 1;
        }
    }
    if result.cards.is_empty() {
        tracing::info!(url = %resp.final_url, keyword = ?entry.keyword, "no result cards on this page");
    }
    if unusable > 0 {
        tracing::warn!(
            url = %resp.final_url,
            cards = result.cards.len(),
            unusable,
            unmatched = ?result.unmatched,
            "result cards without an item link, ID or title (check the adapter with `cccwatch adapter test`)"
        );
    }
    if let Some(next) = next_search(
        adapter,
        entry,
        &result.next,
        !result.cards.is_empty(),
        limits,
    ) {
        found.push(next);
    }
    EntryUpdate::Search {
        page: page_write(entry, &resp, Some(encoding)),
        found,
        listings,
    }
}

fn item_entry(
    entry: &FrontierEntry,
    card: &Card,
    id: Option<String>,
    url: Option<String>,
) -> Option<NewEntry> {
    let url = url?;
    let key = match &id {
        Some(id) => format!("item:{id}"),
        None => format!("url:{url}"),
    };
    Some(NewEntry {
        kind: EntryKind::Item,
        key,
        host: crate::store::host_of(&url),
        url,
        keyword: entry.keyword.clone(),
        page: None,
        card: serde_json::to_string(&card.fields).ok(),
    })
}

fn next_search(
    adapter: &Adapter,
    entry: &FrontierEntry,
    next: &Option<String>,
    had_cards: bool,
    limits: Limits,
) -> Option<NewEntry> {
    let page = entry
        .page
        .unwrap_or(adapter.config.search.first_page as i64);
    let first = adapter.config.search.first_page as i64;
    if page + 1 >= first + limits.max_pages as i64 || !had_cards {
        return None;
    }
    let keyword = entry.keyword.clone().unwrap_or_default();
    let url = match next {
        Some(n) => n.clone(),
        None if adapter.config.search.next_page.is_empty() => {
            adapter.search_url(&keyword, (page + 1) as u32)
        }
        None => return None,
    };
    let canon = Url::parse(&url)
        .map(|u| canonical_url(&u))
        .unwrap_or(url.clone());
    Some(NewEntry {
        kind: EntryKind::Search,
        key: format!("search:{canon}"),
        host: crate::store::host_of(&url),
        url,
        keyword: entry.keyword.clone(),
        page: Some(page + 1),
        card: None,
    })
}

fn item_update(adapter: &Adapter, entry: &FrontierEntry, resp: Response) -> EntryUpdate {
    let (text, encoding) = decode_body(&resp);
    let page_url = Url::parse(&resp.final_url).unwrap_or_else(|_| adapter.base().clone());
    let item = adapter.item_page(&text, &page_url);
    let item_id = item_id_of(entry);
    let page = page_write(entry, &resp, Some(encoding));
    if item.gone {
        return EntryUpdate::Gone {
            page,
            platform: adapter.name().to_string(),
            item_id,
        };
    }
    let card: Fields = entry
        .card
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    let fields = merge(item.fields, card);
    if fields.title.is_none() {
        return EntryUpdate::Failed {
            error: "no title on the item page (selector item.fields.title matched nothing)".into(),
            status: Some(resp.status),
        };
    }
    let listing = adapter.listing(&item_id, Some(entry.url.clone()), fields);
    let hash = content_hash(&listing);
    EntryUpdate::Item {
        page,
        listing: Box::new(ListingWrite {
            listing,
            content_hash: hash,
        }),
    }
}

/// Item page fields, with gaps filled from the result card.
fn merge(mut item: Fields, card: Fields) -> Fields {
    macro_rules! fill {
        ($($f:ident),*) => { $( if item.$f.is_none() { item.$f = card.$f; } )* };
    }
    fill!(
        title,
        price,
        seller,
        shop_url,
        brand,
        model,
        cert_no,
        description,
        category
    );
    item
}

fn decode_body(resp: &Response) -> (String, &'static str) {
    let host = Url::parse(&resp.final_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string));
    let d = decode(&resp.body, resp.header("content-type"), host.as_deref());
    (d.text, d.encoding.name())
}

/// The page as evidence: gzip body and the SHA-256 of the raw bytes.
pub fn page_write(entry: &FrontierEntry, resp: &Response, encoding: Option<&str>) -> PageWrite {
    let mut gz = GzEncoder::new(
        Vec::with_capacity(resp.body.len() / 4 + 64),
        Compression::fast(),
    );
    let _ = gz.write_all(&resp.body);
    let body_gz = gz.finish().unwrap_or_default();
    PageWrite {
        item_id: (entry.kind == EntryKind::Item).then(|| item_id_of(entry)),
        kind: entry.kind,
        url: resp.url.clone(),
        final_url: resp.final_url.clone(),
        fetched_at: resp
            .fetched_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        status: resp.status,
        headers: resp.headers.clone(),
        encoding: encoding.map(str::to_string),
        body_gz,
        body_len: resp.body.len(),
        sha256: sha256_hex(&resp.body),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
