//! SQLite statements for `store::retention`: what the front in `../retention.rs` dispatches to.

use super::SqliteStore;
use crate::store::history::flagged_json;
use crate::store::retention::*;
use crate::store::{Ctx, Result};

/// The bodies a page keeps whatever its age: the latest page of any
/// listing, a notice's evidence, and every item page of a listing that is
/// flagged, has a decision, is or was under notice, or is a relist.
macro_rules! prunable {
    () => {
        "p.pruned_at IS NULL AND p.fetched_at < ?1 AND (p.fetched_at, p.id) > (?2, ?3) \
     AND NOT EXISTS (SELECT 1 FROM listings l WHERE l.page_id = p.id) \
     AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.evidence_page_id = p.id) \
     AND NOT EXISTS (SELECT 1 FROM notice_events e WHERE e.page_id = p.id) \
     AND NOT (p.item_id IS NOT NULL AND EXISTS (SELECT 1 FROM listings l LEFT JOIN findings f ON f.listing_id = l.id \
       WHERE l.platform = p.platform AND l.item_id = p.item_id AND ( \
         f.verdict IN (SELECT value FROM json_each(?4)) \
         OR EXISTS (SELECT 1 FROM decisions d WHERE d.listing_id = l.id) \
         OR EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = l.id) \
         OR EXISTS (SELECT 1 FROM relists r WHERE r.listing_id = l.id))))"
    };
}

#[derive(sqlx::FromRow)]
struct PageRow {
    id: i64,
    bytes: i64,
    fetched_at: String,
}

impl SqliteStore {
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
        let select = concat!(
            "SELECT p.id, length(p.body_gz) AS bytes, p.fetched_at FROM pages p WHERE ",
            prunable!(),
            " ORDER BY p.fetched_at, p.id LIMIT ?5"
        );
        let query = || {
            sqlx::query_as::<_, PageRow>(select)
                .bind(cutoff)
                .bind(&after.0)
                .bind(after.1)
                .bind(flagged_json())
                .bind(limit)
        };
        let rows = if dry_run {
            query()
                .fetch_all(&self.pool)
                .await
                .ctx("finding pages to prune")?
        } else {
            // Chosen and emptied in one transaction: nothing can start to
            // point at a page in between.
            let mut tx = self.write_tx().await.ctx("pruning pages")?;
            let rows = query()
                .fetch_all(&mut *tx)
                .await
                .ctx("finding pages to prune")?;
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            sqlx::query(
                "UPDATE pages SET body_gz = x'', pruned_at = ?1 \
                 WHERE id IN (SELECT value FROM json_each(?2)) AND pruned_at IS NULL",
            )
            .bind(now)
            .bind(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()))
            .execute(&mut *tx)
            .await
            .ctx("pruning pages")?;
            tx.commit().await.ctx("committing pruned pages")?;
            rows
        };
        Ok(PageBatch {
            pages: rows.len() as u64,
            bytes: rows.iter().map(|r| r.bytes.max(0) as u64).sum(),
            next: rows.last().map(|r| (r.fetched_at.clone(), r.id)),
        })
    }

    /// Pages fetched before `cutoff` whose bodies are still kept.
    pub async fn old_pages_kept(&self, cutoff: &str) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM pages WHERE pruned_at IS NULL AND fetched_at < ?")
            .bind(cutoff)
            .fetch_one(&self.pool)
            .await
            .ctx("counting old pages")
    }

    /// When a page's body was pruned, if it was (`None` also for no page).
    pub async fn page_pruned_at(&self, page_id: i64) -> Result<Option<String>> {
        let at: Option<Option<String>> =
            sqlx::query_scalar("SELECT pruned_at FROM pages WHERE id = ?")
                .bind(page_id)
                .fetch_optional(&self.pool)
                .await
                .ctx("reading a page")?;
        Ok(at.flatten())
    }

    /// Scans whose recorded listings are older than `cutoff` (by their end),
    /// except the latest recorded scan of each platform, which the next scan
    /// is compared with.
    pub async fn snapshots_before(&self, cutoff: &str) -> Result<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT id FROM scans s WHERE snapshot = 'kept' AND COALESCE(finished_at, started_at) < ? \
             AND id < (SELECT MAX(id) FROM scans s2 WHERE s2.platform = s.platform AND s2.snapshot = 'kept') \
             ORDER BY id",
        )
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await
        .ctx("finding old scan records")
    }

    /// Rows recorded for a scan, for a dry run.
    pub async fn snapshot_rows(&self, scan_id: i64) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM scan_listings WHERE scan_id = ?")
            .bind(scan_id)
            .fetch_one(&self.pool)
            .await
            .ctx("counting a scan's listings")
    }

    /// Deletes up to `limit` recorded listings of a scan; when none are left
    /// the scan is marked `pruned`. Returns the rows deleted.
    pub async fn prune_snapshot_batch(&self, scan_id: i64, limit: i64) -> Result<u64> {
        let mut tx = self.write_tx().await.ctx("pruning a scan's listings")?;
        let n = sqlx::query(
            "DELETE FROM scan_listings WHERE scan_id = ?1 AND listing_id IN \
             (SELECT listing_id FROM scan_listings WHERE scan_id = ?1 LIMIT ?2)",
        )
        .bind(scan_id)
        .bind(limit)
        .execute(&mut *tx)
        .await
        .ctx("pruning a scan's listings")?
        .rows_affected();
        if (n as i64) < limit {
            sqlx::query("UPDATE scans SET snapshot = 'pruned' WHERE id = ?")
                .bind(scan_id)
                .execute(&mut *tx)
                .await
                .ctx("marking a scan's listings pruned")?;
        }
        tx.commit().await.ctx("committing pruned scan listings")?;
        Ok(n)
    }

    /// Scans that ended (completed, with errors or not, or failed) before
    /// `cutoff` and still have frontier entries, with their number.
    /// Interrupted scans keep theirs (they can be resumed).
    pub async fn finished_frontiers(&self, cutoff: &str) -> Result<Vec<(i64, i64)>> {
        sqlx::query_as(
            "SELECT s.id, (SELECT COUNT(*) FROM frontier f WHERE f.scan_id = s.id) AS n FROM scans s \
             WHERE s.state IN ('completed', 'completed_with_errors', 'failed') AND s.finished_at < ? AND n > 0 ORDER BY s.id",
        )
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await
        .ctx("finding finished frontiers")
    }

    /// Deletes up to `limit` frontier entries of a finished scan.
    pub async fn prune_frontier_batch(&self, scan_id: i64, limit: i64) -> Result<u64> {
        let mut tx = self.write_tx().await.ctx("pruning a frontier")?;
        let n = sqlx::query(
            "DELETE FROM frontier WHERE id IN (SELECT id FROM frontier WHERE scan_id = ? LIMIT ?)",
        )
        .bind(scan_id)
        .bind(limit)
        .execute(&mut *tx)
        .await
        .ctx("pruning a frontier")?
        .rows_affected();
        tx.commit().await.ctx("committing a pruned frontier")?;
        Ok(n)
    }

    /// Returns free pages to the file system when the database was created
    /// with `auto_vacuum = INCREMENTAL`; otherwise SQLite reuses them for
    /// new pages and this does nothing. True when it ran.
    pub async fn incremental_vacuum(&self) -> Result<bool> {
        let mode: i64 = sqlx::query_scalar("PRAGMA auto_vacuum")
            .fetch_one(&self.pool)
            .await
            .ctx("reading auto_vacuum")?;
        if mode != 2 {
            return Ok(false);
        }
        sqlx::query("PRAGMA incremental_vacuum")
            .execute(&self.pool)
            .await
            .ctx("incremental vacuum")?;
        Ok(true)
    }
}
