//! State shared by the handlers: configuration, item ids, removals and
//! relistings, counters for fault injection, and the request record.

use super::reqlog::LogWriter;
use super::rng::{hash3, unit};
use super::search::SearchCache;
use super::truth::{self, ItemTruth};
use super::{MarketConfig, Removal, RequestRecord};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

/// Generated listing `i` has id `GENERATED_BASE + i`.
const GENERATED_BASE: u64 = 100_000_000;
/// The k-th relisting has id `RELISTED_BASE + k`.
const RELISTED_BASE: u64 = 1_000_000_000;

const SALT_GBK: u64 = 11;
const SALT_REMOVED: u64 = 12;
const SALT_REMOVED_HOW: u64 = 13;

/// A listing behind an id: its number and the generated index it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ItemRef {
    pub id: u64,
    pub index: u64,
}

pub(crate) struct Shared {
    pub cfg: MarketConfig,
    pub started: Instant,
    removals: RwLock<HashMap<u64, Removal>>,
    /// Generated index behind each relisting, in order.
    relisted: RwLock<Vec<u64>>,
    pub search: SearchCache,
    /// Search order: position p shows index (a·p + b) mod items.
    perm: (u64, u64),
    pub seq: AtomicU64,
    pub item_requests: AtomicU64,
    pub all_requests: AtomicU64,
    pub faults: AtomicU64,
    records: Mutex<Vec<(u64, RequestRecord)>>,
    pub log: Option<LogWriter>,
}

impl Shared {
    pub fn new(cfg: MarketConfig, log: Option<LogWriter>) -> Shared {
        let perm = permutation(cfg.seed, cfg.items as u64);
        Shared {
            cfg,
            started: Instant::now(),
            removals: RwLock::default(),
            relisted: RwLock::default(),
            search: SearchCache::default(),
            perm,
            seq: AtomicU64::new(0),
            item_requests: AtomicU64::new(0),
            all_requests: AtomicU64::new(0),
            faults: AtomicU64::new(0),
            records: Mutex::default(),
            log,
        }
    }

    pub fn items(&self) -> u64 {
        self.cfg.items as u64
    }

    /// The generated index at search position `p`.
    pub fn at_position(&self, p: u64) -> u64 {
        let n = self.items();
        ((self.perm.0 as u128 * p as u128 + self.perm.1 as u128) % n as u128) as u64
    }

    /// The generated listing `index` under its own id.
    pub fn generated(index: u64) -> ItemRef {
        ItemRef {
            id: GENERATED_BASE + index,
            index,
        }
    }

    /// The listing behind `id`, if it is one of this market's.
    pub fn resolve(&self, id: &str) -> Option<ItemRef> {
        if id.is_empty() || id.len() > 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u64 = id.parse().ok()?;
        if n >= RELISTED_BASE {
            let k = usize::try_from(n - RELISTED_BASE).ok()?;
            let index = *self.relisted.read().expect("lock").get(k)?;
            return Some(ItemRef { id: n, index });
        }
        let index = n.checked_sub(GENERATED_BASE)?;
        (index < self.items()).then_some(ItemRef { id: n, index })
    }

    /// The listings relisted so far: (id, generated index).
    pub fn relisted(&self) -> Vec<ItemRef> {
        let list = self.relisted.read().expect("lock");
        list.iter()
            .enumerate()
            .map(|(k, &index)| ItemRef {
                id: RELISTED_BASE + k as u64,
                index,
            })
            .collect()
    }

    pub fn relist(&self, item: ItemRef) -> String {
        let mut list = self.relisted.write().expect("lock");
        list.push(item.index);
        (RELISTED_BASE + list.len() as u64 - 1).to_string()
    }

    pub fn remove(&self, item: ItemRef, how: Removal) {
        self.removals.write().expect("lock").insert(item.id, how);
    }

    pub fn restore(&self, item: ItemRef) {
        self.removals.write().expect("lock").remove(&item.id);
    }

    /// How the listing is removed, if it is.
    pub fn removal(&self, item: ItemRef) -> Option<Removal> {
        if let Some(&how) = self.removals.read().expect("lock").get(&item.id) {
            return Some(how);
        }
        let generated = item.id < RELISTED_BASE;
        let (seed, i) = (self.cfg.seed, item.index);
        if generated && unit(seed, i, SALT_REMOVED) < self.cfg.removed_share {
            let gone = unit(seed, i, SALT_REMOVED_HOW) < 0.5;
            return Some(if gone {
                Removal::Gone
            } else {
                Removal::NotFound
            });
        }
        None
    }

    pub fn is_gbk(&self, index: u64) -> bool {
        unit(self.cfg.seed, index, SALT_GBK) < self.cfg.gbk_share
    }

    pub fn truth(&self, item: ItemRef) -> ItemTruth {
        let gbk = self.is_gbk(item.index);
        let mut t = truth::build(self.cfg.seed, item.index, item.id.to_string(), gbk);
        if self.cfg.hostile_every > 0 && item.index % self.cfg.hostile_every == 1 {
            t.title = format!("{}{}", super::HOSTILE_TITLE_PREFIX, t.title);
        }
        t
    }

    pub fn push_record(&self, seq: u64, record: RequestRecord) {
        if let Some(log) = &self.log {
            log.write(&record);
        }
        self.records.lock().expect("lock").push((seq, record));
    }

    /// Every request so far in order of arrival.
    pub fn records(&self) -> Vec<RequestRecord> {
        let mut all = self.records.lock().expect("lock").clone();
        all.sort_by_key(|(seq, _)| *seq);
        all.into_iter().map(|(_, r)| r).collect()
    }

    pub fn next(counter: &AtomicU64) -> u64 {
        counter.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// (a, b) with a coprime to n, from the seed.
fn permutation(seed: u64, n: u64) -> (u64, u64) {
    if n <= 1 {
        return (1, 0);
    }
    let h = hash3(seed, 0, 99);
    let mut a = (h % n).max(1);
    while gcd(a, n) != 1 {
        a = a % (n - 1) + 1;
    }
    (a, (h >> 32) % n)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_order_is_a_permutation() {
        for n in [1u64, 2, 7, 40, 1000, 3001] {
            let cfg = MarketConfig {
                items: n as usize,
                ..MarketConfig::default()
            };
            let s = Shared::new(cfg, None);
            let mut seen: Vec<u64> = (0..n).map(|p| s.at_position(p)).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn ids_resolve() {
        let s = Shared::new(MarketConfig::default(), None);
        let r = s.resolve(&Shared::generated(17).id.to_string()).unwrap();
        assert_eq!(r.index, 17);
        assert!(s.resolve(&Shared::generated(3000).id.to_string()).is_none());
        assert!(s.resolve("abc").is_none());
        assert!(s.resolve("1000000000").is_none());
        let new = s.relist(r);
        assert_eq!(s.resolve(&new).unwrap().index, 17);
    }
}
