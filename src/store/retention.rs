//! Storage for retention: dropping the bodies of old raw pages that nothing
//! needs as evidence, the listings recorded for old scans, and the frontier
//! of long-finished scans. Work goes in small batches, each its own short
//! write transaction, so a scan or a reviewer never waits long.
//!
//! A pruned page keeps its row (URL, time, status, headers, length,
//! SHA-256, `pruned_at`) so that every reference to it stays valid; only
//! `body_gz` is emptied.

use super::{Result, Store};

/// One batch of pages whose bodies can go.
#[derive(Debug, Clone, Default)]
pub struct PageBatch {
    pub pages: u64,
    pub bytes: u64,
    /// Where the next batch starts: (fetched_at, id) of the last page looked at.
    pub next: Option<(String, i64)>,
}

impl Store {
    /// Empties the bodies of up to `limit` pages fetched before `cutoff`
    /// (RFC 3339) that nothing needs, after `after` (fetched_at, id); with
    /// `dry_run` only counts them.
    pub async fn prune_pages_batch(
        &self,
        cutoff: &str,
        after: &(String, i64),
        limit: i64,
        dry_run: bool,
        now: &str,
    ) -> Result<PageBatch> {
        dispatch!(self, |db| {
            db.prune_pages_batch(cutoff, after, limit, dry_run, now)
                .await
        })
    }

    /// Pages fetched before `cutoff` whose bodies are still kept.
    pub async fn old_pages_kept(&self, cutoff: &str) -> Result<i64> {
        dispatch!(self, |db| db.old_pages_kept(cutoff).await)
    }

    /// When a page's body was pruned, if it was (`None` also for no page).
    pub async fn page_pruned_at(&self, page_id: i64) -> Result<Option<String>> {
        dispatch!(self, |db| db.page_pruned_at(page_id).await)
    }

    /// Scans whose recorded listings are older than `cutoff` (by their end),
    /// except the latest recorded scan of each platform, which the next scan
    /// is compared with.
    pub async fn snapshots_before(&self, cutoff: &str) -> Result<Vec<i64>> {
        dispatch!(self, |db| db.snapshots_before(cutoff).await)
    }

    /// Rows recorded for a scan, for a dry run.
    pub async fn snapshot_rows(&self, scan_id: i64) -> Result<i64> {
        dispatch!(self, |db| db.snapshot_rows(scan_id).await)
    }

    /// Deletes up to `limit` recorded listings of a scan; when none are left
    /// the scan is marked `pruned`. Returns the rows deleted.
    pub async fn prune_snapshot_batch(&self, scan_id: i64, limit: i64) -> Result<u64> {
        dispatch!(self, |db| db.prune_snapshot_batch(scan_id, limit).await)
    }

    /// Scans that ended (completed, with errors or not, or failed) before
    /// `cutoff` and still have frontier entries, with their number.
    /// Interrupted scans keep theirs (they can be resumed).
    pub async fn finished_frontiers(&self, cutoff: &str) -> Result<Vec<(i64, i64)>> {
        dispatch!(self, |db| db.finished_frontiers(cutoff).await)
    }

    /// Deletes up to `limit` frontier entries of a finished scan.
    pub async fn prune_frontier_batch(&self, scan_id: i64, limit: i64) -> Result<u64> {
        dispatch!(self, |db| db.prune_frontier_batch(scan_id, limit).await)
    }

    /// Returns free pages to the file system when the database was created
    /// with `auto_vacuum = INCREMENTAL`; otherwise SQLite reuses them for
    /// new pages and this does nothing. True when it ran.
    pub async fn incremental_vacuum(&self) -> Result<bool> {
        dispatch!(self, |db| db.incremental_vacuum().await)
    }
}
