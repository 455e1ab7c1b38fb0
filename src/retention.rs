//! Retention: what `[retention]` says to let go of, run by `cccwatch prune`
//! and nightly by the scheduler. In: the store, the settings and the time;
//! out: a [`PruneReport`] of what was (or, in a dry run, would be) removed.
//!
//! - Raw pages older than `pages_days` lose their body (the row stays:
//!   URL, time, status, headers, length, SHA-256), unless a page is still
//!   evidence: the latest page of any listing, a notice's evidence, or any
//!   item page of a listing that is flagged, has a decision, is or was under
//!   notice, or is a relist. The evidence page then says the body was pruned.
//! - Listings recorded per scan older than `scan_history_days` are deleted
//!   (the scan keeps its figures; the latest recorded scan of each platform
//!   is kept, for the next comparison).
//! - Frontier entries of scans that completed or failed more than
//!   `frontier_days` ago are deleted (interrupted scans keep theirs).
//!
//! Each batch of `batch_size` rows is its own short transaction.

use crate::config::RetentionSettings;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Duration, SecondsFormat, Utc};

/// What a prune removed, or would remove.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    /// Pages fetched before this lose their bodies (`None`: pages kept forever).
    pub pages_before: Option<String>,
    pub pages_pruned: u64,
    /// Compressed bytes of the bodies dropped.
    pub bytes_freed: u64,
    /// Pages older than the cutoff whose bodies stay (still evidence).
    pub pages_kept: u64,
    pub scan_history_before: Option<String>,
    /// Scans whose recorded listings were deleted, and the rows.
    pub scans_pruned: u64,
    pub scan_rows_deleted: u64,
    pub frontier_before: Option<String>,
    pub frontier_rows_deleted: u64,
    /// Whether free space went back to the file system (`auto_vacuum = INCREMENTAL`);
    /// otherwise SQLite reuses it for new pages.
    pub vacuumed: bool,
}

fn cutoff(now: DateTime<Utc>, days: i64) -> Option<String> {
    (days > 0).then(|| (now - Duration::days(days)).to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Prunes what the settings say may go.
pub async fn prune(
    store: &Store,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Result<PruneReport, StoreError> {
    run(store, settings, now, false).await
}

/// What [`prune`] would remove, changing nothing.
pub async fn dry_run(
    store: &Store,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Result<PruneReport, StoreError> {
    run(store, settings, now, true).await
}

async fn run(
    store: &Store,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<PruneReport, StoreError> {
    let stamp = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let batch = settings.batch_size.max(1);
    let mut r = PruneReport {
        dry_run,
        pages_before: cutoff(now, settings.pages_days),
        scan_history_before: cutoff(now, settings.scan_history_days),
        frontier_before: cutoff(now, settings.frontier_days),
        ..Default::default()
    };
    if let Some(before) = r.pages_before.clone() {
        let old = store.old_pages_kept(&before).await?.max(0) as u64;
        let mut after = (String::new(), 0i64);
        loop {
            let b = store
                .prune_pages_batch(&before, &after, batch, dry_run, &stamp)
                .await?;
            r.pages_pruned += b.pages;
            r.bytes_freed += b.bytes;
            match b.next {
                Some(next) if b.pages as i64 == batch => after = next,
                _ => break,
            }
            tokio::task::yield_now().await;
        }
        r.pages_kept = old.saturating_sub(r.pages_pruned);
    }
    if let Some(before) = r.scan_history_before.clone() {
        for scan_id in store.snapshots_before(&before).await? {
            r.scans_pruned += 1;
            if dry_run {
                r.scan_rows_deleted += store.snapshot_rows(scan_id).await?.max(0) as u64;
                continue;
            }
            loop {
                let n = store.prune_snapshot_batch(scan_id, batch).await?;
                r.scan_rows_deleted += n;
                if (n as i64) < batch {
                    break;
                }
            }
        }
    }
    if let Some(before) = r.frontier_before.clone() {
        for (scan_id, rows) in store.finished_frontiers(&before).await? {
            if dry_run {
                r.frontier_rows_deleted += rows.max(0) as u64;
                continue;
            }
            loop {
                let n = store.prune_frontier_batch(scan_id, batch).await?;
                r.frontier_rows_deleted += n;
                if (n as i64) < batch {
                    break;
                }
            }
        }
    }
    if !dry_run {
        r.vacuumed = store.incremental_vacuum().await?;
    }
    tracing::info!(
        dry_run,
        pages = r.pages_pruned,
        bytes = r.bytes_freed,
        kept = r.pages_kept,
        scans = r.scans_pruned,
        scan_rows = r.scan_rows_deleted,
        frontier = r.frontier_rows_deleted,
        "retention"
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_days_means_no_cutoff() {
        let now = DateTime::parse_from_rfc3339("2026-11-29T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(cutoff(now, 0), None);
        assert_eq!(
            cutoff(now, 1095).as_deref(),
            Some("2023-11-30T00:00:00.000Z")
        );
    }
}
