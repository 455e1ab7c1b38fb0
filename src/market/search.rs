//! Keyword search without pre-rendering: the first request for a keyword
//! scans the generated listings once (titles and categories only) and keeps
//! the total and where each result page starts, a few bytes per page;
//! every page is then collected from its start. Relisted listings come
//! after the generated ones.

use super::generate;
use super::state::{ItemRef, Shared};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Keywords kept at most; past that the cache starts again.
const MAX_KEYWORDS: usize = 512;

/// A keyword's matches among the generated listings.
#[derive(Debug)]
pub(crate) struct KeywordIndex {
    total: u64,
    /// Search position of the first match of every page.
    starts: Vec<u64>,
}

#[derive(Default)]
pub(crate) struct SearchCache {
    map: Mutex<HashMap<String, Arc<OnceLock<KeywordIndex>>>>,
}

/// One page of results.
pub(crate) struct SearchPage {
    pub items: Vec<ItemRef>,
    /// Matches in all (generated and relisted).
    pub total: u64,
    pub has_next: bool,
}

/// Whether `keyword` occurs in `text`, ASCII letters compared without case.
pub(crate) fn contains(text: &str, keyword: &str) -> bool {
    let (t, k) = (text.as_bytes(), keyword.as_bytes());
    k.is_empty() || t.windows(k.len()).any(|w| w.eq_ignore_ascii_case(k))
}

fn matches(shared: &Shared, index: u64, keyword: &str) -> bool {
    if keyword.is_empty() {
        return true;
    }
    let core = generate::core(shared.cfg.seed, index);
    contains(core.category, keyword) || contains(&core.title, keyword)
}

impl SearchCache {
    fn index(&self, shared: &Shared, keyword: &str) -> Arc<OnceLock<KeywordIndex>> {
        let cell = {
            let mut map = self.map.lock().expect("lock");
            if map.len() >= MAX_KEYWORDS && !map.contains_key(keyword) {
                map.clear();
            }
            map.entry(keyword.to_string()).or_default().clone()
        };
        cell.get_or_init(|| build(shared, keyword));
        cell
    }
}

fn build(shared: &Shared, keyword: &str) -> KeywordIndex {
    let page_size = shared.cfg.page_size.max(1) as u64;
    let mut total = 0u64;
    let mut starts = Vec::new();
    for p in 0..shared.items() {
        if matches(shared, shared.at_position(p), keyword) {
            if total.is_multiple_of(page_size) {
                starts.push(p);
            }
            total += 1;
        }
    }
    tracing::debug!(keyword, total, "search index built");
    KeywordIndex { total, starts }
}

/// Page `page` (from 1) of the results for `keyword`. Blocking: call it
/// from `spawn_blocking` (a new keyword scans every listing once).
pub(crate) fn page(shared: &Shared, keyword: &str, page: u64) -> SearchPage {
    let cell = shared.search.index(shared, keyword);
    let idx = cell.get().expect("initialised");
    let page_size = shared.cfg.page_size.max(1) as u64;
    let offset = page.saturating_sub(1).saturating_mul(page_size);
    let mut items = Vec::new();
    if offset < idx.total {
        let want = page_size.min(idx.total - offset);
        let mut p = idx.starts[(offset / page_size) as usize];
        while (items.len() as u64) < want && p < shared.items() {
            let index = shared.at_position(p);
            if matches(shared, index, keyword) {
                items.push(Shared::generated(index));
            }
            p += 1;
        }
    }
    let relisted: Vec<ItemRef> = shared
        .relisted()
        .into_iter()
        .filter(|r| matches(shared, r.index, keyword))
        .collect();
    let skip = offset.saturating_sub(idx.total) as usize;
    let room = page_size as usize - items.len();
    items.extend(relisted.iter().skip(skip).take(room));
    let total = idx.total + relisted.len() as u64;
    SearchPage {
        items,
        total,
        has_next: offset.saturating_add(page_size) < total,
    }
}

#[cfg(test)]
mod tests {
    use super::super::MarketConfig;
    use super::*;

    #[test]
    fn pages_partition_the_matches() {
        let cfg = MarketConfig {
            items: 500,
            page_size: 7,
            ..MarketConfig::default()
        };
        let s = Shared::new(cfg, None);
        let expected = (0..500).filter(|&i| matches(&s, i, "插座")).count();
        let mut seen = std::collections::HashSet::new();
        for n in 1.. {
            let pg = page(&s, "插座", n);
            assert_eq!(pg.total as usize, expected);
            assert!(pg.items.iter().all(|r| seen.insert(r.id)));
            if !pg.has_next {
                break;
            }
        }
        assert_eq!(seen.len(), expected);
        assert!(page(&s, "插座", 10_000).items.is_empty());
    }

    #[test]
    fn ascii_is_matched_without_case() {
        assert!(contains("BULL/公牛插座", "bull"));
        assert!(contains("公牛插座", ""));
        assert!(!contains("公牛", "插座"));
    }
}
