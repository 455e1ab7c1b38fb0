//! Storage for crawling: scan records, the frontier, and pages kept as
//! evidence. Everything one fetched page changes (its evidence, the listing,
//! new frontier entries, the entry's own state and the scan's counters) is
//! written in one transaction, so a killed scan resumes exactly where its
//! last commit left it.

use super::{ListingCounts, ListingWrite, Result, Store, StoreError};
use crate::domain::RunState;
use chrono::NaiveDate;

/// A scan as stored.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ScanRecord {
    pub id: i64,
    pub platform: String,
    /// Any state but `skipped`.
    pub state: RunState,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub as_of: String,
    pub keywords: Vec<String>,
    pub max_pages: i64,
    pub pages_fetched: i64,
    pub pages_failed: i64,
    pub pages_retried: i64,
    pub robots_skipped: i64,
    pub requests: i64,
    pub listings_new: i64,
    pub listings_changed: i64,
    pub listings_unchanged: i64,
    pub listings_gone: i64,
    pub match_run_id: Option<i64>,
    /// Verdict → count, as stored.
    pub findings: Option<serde_json::Value>,
    pub message: Option<String>,
    /// Whether the listings it left were recorded for comparisons: `None`,
    /// `kept` or `pruned` (see [`Store::record_scan_listings`]).
    pub snapshot: Option<String>,
}

/// A frontier entry handed to a worker.
#[derive(Debug, Clone)]
pub struct FrontierEntry {
    pub id: i64,
    pub kind: EntryKind,
    pub key: String,
    pub url: String,
    pub keyword: Option<String>,
    pub page: Option<i64>,
    pub card: Option<String>,
    pub attempts: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Search,
    Item,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Search => "search",
            EntryKind::Item => "item",
        }
    }
}

/// A new frontier entry.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub kind: EntryKind,
    /// `host:port` of `url` ([`crate::extract::host_key`]): whose lease covers it.
    pub host: String,
    pub key: String,
    pub url: String,
    pub keyword: Option<String>,
    pub page: Option<i64>,
    pub card: Option<String>,
}

/// `host:port` of a URL, as entries and host leases name hosts ("" when
/// the URL does not parse).
pub fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| crate::extract::host_key(&u))
        .unwrap_or_default()
}

/// A fetched page to keep as evidence.
#[derive(Debug, Clone)]
pub struct PageWrite {
    pub item_id: Option<String>,
    pub kind: EntryKind,
    pub url: String,
    pub final_url: String,
    pub fetched_at: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub encoding: Option<String>,
    pub body_gz: Vec<u8>,
    pub body_len: usize,
    pub sha256: String,
}

/// What happened to one frontier entry.
#[derive(Debug, Clone)]
pub enum EntryUpdate {
    /// A search page: its evidence, the items and next page it led to, and
    /// listings read from its cards when item pages are not fetched.
    Search {
        page: PageWrite,
        found: Vec<NewEntry>,
        listings: Vec<ListingWrite>,
    },
    /// An item page with its listing.
    Item {
        page: PageWrite,
        listing: Box<ListingWrite>,
    },
    /// A listing that is gone (404/410 or a take-down page).
    Gone {
        page: PageWrite,
        platform: String,
        item_id: String,
    },
    /// Fetch again later.
    Retry {
        next_at_ms: i64,
        error: String,
        status: Option<u16>,
    },
    /// Given up on.
    Failed { error: String, status: Option<u16> },
    /// robots.txt forbids it.
    Robots,
}

/// One entry's result plus the requests it cost.
#[derive(Debug, Clone)]
pub struct EntryResult {
    pub entry_id: i64,
    pub update: EntryUpdate,
    pub requests: u32,
}

/// What a batch of results changed.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    pub listings: ListingCounts,
    pub gone: u64,
    pub queued: u64,
    /// Results dropped: their entries were no longer held by the writer.
    pub lost: u64,
}

/// Who claims frontier entries: a registered process (`workers.id`) and
/// the hosts it may send requests to now (its host leases); `None` is any
/// host (a process alone on its database).
#[derive(Debug, Clone, Copy)]
pub struct Claimant<'a> {
    pub owner: &'a str,
    pub hosts: Option<&'a [String]>,
}

/// Counts of frontier entries by state.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FrontierCounts {
    pub pending: i64,
    pub inflight: i64,
    pub done: i64,
    pub gone: i64,
    pub failed: i64,
    pub robots: i64,
}

impl FrontierCounts {
    pub fn total(&self) -> i64 {
        self.pending + self.inflight + self.done + self.gone + self.failed + self.robots
    }
    pub fn open(&self) -> i64 {
        self.pending + self.inflight
    }
}

/// Evidence of one page, without the body.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PageMeta {
    pub id: i64,
    pub scan_id: i64,
    pub platform: String,
    pub item_id: Option<String>,
    pub kind: String,
    pub url: String,
    pub final_url: String,
    pub fetched_at: String,
    pub status: i64,
    pub headers: Vec<(String, String)>,
    pub encoding: Option<String>,
    pub body_len: i64,
    pub sha256: String,
}

impl EntryUpdate {
    /// The page this result keeps as evidence.
    pub(crate) fn page(&self) -> Option<&PageWrite> {
        match self {
            EntryUpdate::Search { page, .. }
            | EntryUpdate::Item { page, .. }
            | EntryUpdate::Gone { page, .. } => Some(page),
            _ => None,
        }
    }

    /// (state, HTTP status, error, next attempt) of the frontier entry.
    pub(crate) fn entry_state(&self) -> (&'static str, Option<u16>, Option<&str>, Option<i64>) {
        match self {
            EntryUpdate::Search { page, .. } | EntryUpdate::Item { page, .. } => {
                ("done", Some(page.status), None, None)
            }
            EntryUpdate::Gone { page, .. } => ("gone", Some(page.status), None, None),
            EntryUpdate::Retry {
                next_at_ms,
                error,
                status,
            } => ("pending", *status, Some(error), Some(*next_at_ms)),
            EntryUpdate::Failed { error, status } => ("failed", *status, Some(error), None),
            EntryUpdate::Robots => ("robots", None, None, None),
        }
    }
}

/// The results of entries still held (`held`: their IDs, read under the
/// batch's write lock): all of them without a copy in the usual case.
pub(super) fn keep_held<'a>(
    results: &'a [EntryResult],
    held: &[i64],
) -> (std::borrow::Cow<'a, [EntryResult]>, u64) {
    if held.len() == results.len() {
        return (std::borrow::Cow::Borrowed(results), 0);
    }
    let held: std::collections::HashSet<i64> = held.iter().copied().collect();
    let kept: Vec<EntryResult> = results
        .iter()
        .filter(|r| held.contains(&r.entry_id))
        .cloned()
        .collect();
    let lost = (results.len() - kept.len()) as u64;
    if lost > 0 {
        tracing::warn!(
            lost,
            "results dropped: their entries were handed back (a lease lapsed) and are fetched again"
        );
    }
    (std::borrow::Cow::Owned(kept), lost)
}

impl Store {
    /// Starts a scan record and seeds its frontier in one transaction.
    pub async fn create_scan(
        &self,
        platform: &str,
        as_of: NaiveDate,
        keywords: &[String],
        max_pages: u32,
        seeds: &[NewEntry],
    ) -> Result<i64> {
        dispatch!(self, |db| {
            db.create_scan(platform, as_of, keywords, max_pages, seeds)
                .await
        })
    }

    pub async fn scan(&self, id: i64) -> Result<Option<ScanRecord>> {
        dispatch!(self, |db| db.scan(id).await)
    }

    /// Scans that did not finish (running when killed, or interrupted), oldest first.
    pub async fn unfinished_scans(&self, platform: Option<&str>) -> Result<Vec<ScanRecord>> {
        dispatch!(self, |db| db.unfinished_scans(platform).await)
    }

    /// Marks a scan running again and returns to the queue the entries left
    /// in flight by processes no longer alive (no heartbeat since
    /// `live_after_ms`, stopped, or never registered): entries that live
    /// workers hold stay theirs.
    pub async fn reopen_scan(&self, id: i64, live_after_ms: i64) -> Result<u64> {
        dispatch!(self, |db| db.reopen_scan(id, live_after_ms).await)
    }

    /// Ends a scan: `completed`, `completed_with_errors`, `interrupted` or
    /// `failed`, with a message. Unless completed, entries left in flight go
    /// back to the queue.
    pub async fn finish_scan(&self, id: i64, state: RunState, message: Option<&str>) -> Result<()> {
        dispatch!(self, |db| db.finish_scan(id, state, message).await)
    }

    /// Records the match run of a scan and its findings by verdict.
    pub async fn set_scan_findings(
        &self,
        id: i64,
        run_id: i64,
        by_verdict: &serde_json::Value,
    ) -> Result<()> {
        dispatch!(self, |db| db
            .set_scan_findings(id, run_id, by_verdict)
            .await)
    }

    /// Takes up to `limit` due entries of a running scan (items before
    /// result pages) on the claimant's hosts and marks them in flight, held
    /// by the claimant. Concurrent claimants never get the same entry.
    pub async fn claim_entries(
        &self,
        scan_id: i64,
        who: &Claimant<'_>,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<FrontierEntry>> {
        dispatch!(self, |db| db
            .claim_entries(scan_id, who, now_ms, limit)
            .await)
    }

    /// When the next pending entry falls due (unix ms), if any is pending.
    /// Entries not yet finished (pending or in flight): ID, URL, key.
    pub async fn open_entries(&self, scan_id: i64) -> Result<Vec<(i64, String, String)>> {
        dispatch!(self, |db| db.open_entries(scan_id).await)
    }

    /// Rewrites open entries' URLs and keys (a moved platform) in one
    /// transaction. An entry whose new key is already in the frontier is
    /// the same page: the stale copy is dropped. Returns entries rewritten.
    pub async fn rebase_entries(
        &self,
        scan_id: i64,
        rewrites: &[(i64, String, String)],
    ) -> Result<u64> {
        dispatch!(self, |db| db.rebase_entries(scan_id, rewrites).await)
    }

    /// The pending entry due first: when (ms) and the error of its last
    /// attempt, if it is a retry. What a waiting scan is waiting for.
    pub async fn next_retry(&self, scan_id: i64) -> Result<Option<(i64, Option<String>)>> {
        dispatch!(self, |db| db.next_retry(scan_id).await)
    }

    pub async fn frontier_counts(&self, scan_id: i64) -> Result<FrontierCounts> {
        dispatch!(self, |db| db.frontier_counts(scan_id).await)
    }

    /// Entries that failed for good, with their errors.
    pub async fn failed_entries(
        &self,
        scan_id: i64,
        limit: i64,
    ) -> Result<Vec<(String, Option<i64>, String)>> {
        dispatch!(self, |db| db.failed_entries(scan_id, limit).await)
    }

    /// Writes a batch of results in one transaction, with a few multi-row
    /// statements rather than several per page. Only results of entries
    /// `owner` still holds are written: an entry handed back meanwhile (its
    /// lease lapsed, another process may fetch it) is dropped and counted in
    /// [`Applied::lost`], so no page or listing is stored twice.
    pub async fn apply_results(
        &self,
        scan_id: i64,
        platform: &str,
        owner: &str,
        results: &[EntryResult],
    ) -> Result<Applied> {
        dispatch!(self, |db| db
            .apply_results(scan_id, platform, owner, results)
            .await)
    }

    /// Every page kept for an item, oldest first.
    pub async fn item_pages(&self, platform: Option<&str>, item_id: &str) -> Result<Vec<PageMeta>> {
        dispatch!(self, |db| db.item_pages(platform, item_id).await)
    }

    /// The gzip body of a page.
    pub async fn page_body_gz(&self, page_id: i64) -> Result<Vec<u8>> {
        dispatch!(self, |db| db.page_body_gz(page_id).await)
    }

    /// Number of listings of a platform by state (online, gone).
    pub async fn listing_states(&self, platform: &str) -> Result<Vec<(String, i64)>> {
        dispatch!(self, |db| db.listing_states(platform).await)
    }
}

/// A frontier row, as both backends read it.
#[derive(sqlx::FromRow)]
pub(crate) struct EntryRow {
    id: i64,
    kind: String,
    key: String,
    url: String,
    keyword: Option<String>,
    page: Option<i64>,
    card: Option<String>,
    attempts: i64,
}

impl EntryRow {
    pub(crate) fn into_entry(self) -> Result<FrontierEntry> {
        let kind = match self.kind.as_str() {
            "item" => EntryKind::Item,
            "search" => EntryKind::Search,
            other => {
                return Err(StoreError::Corrupt {
                    what: "frontier kind",
                    detail: other.to_string(),
                });
            }
        };
        Ok(FrontierEntry {
            id: self.id,
            kind,
            key: self.key,
            url: self.url,
            keyword: self.keyword,
            page: self.page,
            card: self.card,
            attempts: self.attempts,
        })
    }
}
