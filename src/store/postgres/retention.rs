//! PostgreSQL statements for `store::retention`: what the front in `../retention.rs` dispatches to, beside the SQLite ones in `../sqlite/retention.rs`.

use super::PgStore;
use crate::domain::Verdict;
use crate::store::retention::*;
use crate::store::{Ctx, Result};
use chrono::{DateTime, Utc};

/// The bodies a page keeps whatever its age: the latest page of any
/// listing, a notice's evidence, and every item page of a listing that is
/// flagged, has a decision, is or was under notice, or is a relist.
/// `$1` cutoff, `$2`/`$3` the (fetched_at, id) to start after (`$2` NULL:
/// from the first), `$4` the flagged verdicts.
macro_rules! prunable {
    () => {
        "p.pruned_at IS NULL AND p.fetched_at < $1 \
     AND (p.fetched_at, p.id) > (COALESCE($2::timestamptz, '-infinity'::timestamptz), $3::bigint) \
     AND NOT EXISTS (SELECT 1 FROM listings l WHERE l.page_id = p.id) \
     AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.evidence_page_id = p.id) \
     AND NOT EXISTS (SELECT 1 FROM notice_events e WHERE e.page_id = p.id) \
     AND NOT (p.item_id IS NOT NULL AND EXISTS (SELECT 1 FROM listings l LEFT JOIN findings f ON f.listing_id = l.id \
       WHERE l.platform = p.platform AND l.item_id = p.item_id AND ( \
         f.verdict = ANY($4) \
         OR EXISTS (SELECT 1 FROM decisions d WHERE d.listing_id = l.id) \
         OR EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = l.id) \
         OR EXISTS (SELECT 1 FROM relists r WHERE r.listing_id = l.id))))"
    };
}

fn flagged() -> Vec<&'static str> {
    Verdict::ALL
        .into_iter()
        .filter(|v| v.is_flagged())
        .map(Verdict::as_str)
        .collect()
}

/// SQLite reads a negative LIMIT as none; PostgreSQL refuses it (NULL is none).
fn limit_or_all(limit: i64) -> Option<i64> {
    (limit >= 0).then_some(limit)
}

#[derive(sqlx::FromRow)]
struct PrunedRow {
    id: i64,
    bytes: i64,
    fetched_at: DateTime<Utc>,
}

impl PgStore {
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
        let cutoff = super::instant(cutoff, "retention cutoff")?;
        // The first batch starts after ("", 0), which SQLite compares as
        // text (before every stamp): no lower bound here.
        let after_at = if after.0.trim().is_empty() {
            None
        } else {
            Some(super::instant(&after.0, "retention position")?)
        };
        let mut rows: Vec<PrunedRow> = if dry_run {
            sqlx::query_as(concat!(
                "SELECT p.id, octet_length(p.body_gz)::bigint AS bytes, p.fetched_at FROM pages p WHERE ",
                prunable!(),
                " ORDER BY p.fetched_at, p.id LIMIT $5"
            ))
            .bind(cutoff)
            .bind(after_at)
            .bind(after.1)
            .bind(flagged())
            .bind(limit_or_all(limit))
            .fetch_all(&self.pool)
            .await
            .ctx("finding pages to prune")?
        } else {
            // Chosen and emptied in one statement, the chosen rows locked
            // (FOR UPDATE): a second pruner waits, then skips the pages the
            // first emptied (pruned_at is checked again on the new row). The
            // length is the body's before it is emptied. MATERIALIZED: the
            // choice is made once (a subquery in FROM may be rescanned, and
            // a rescan skips the rows this statement already updated and
            // takes more than `limit`: seen).
            let now = super::instant(now, "retention time")?;
            sqlx::query_as(concat!(
                "WITH c AS MATERIALIZED (SELECT p.id, octet_length(p.body_gz)::bigint AS bytes FROM pages p WHERE ",
                prunable!(),
                " ORDER BY p.fetched_at, p.id LIMIT $5 FOR UPDATE OF p) \
                 UPDATE pages SET body_gz = ''::bytea, pruned_at = $6 FROM c \
                 WHERE pages.id = c.id AND pages.pruned_at IS NULL \
                 RETURNING pages.id, c.bytes, pages.fetched_at"
            ))
            .bind(cutoff)
            .bind(after_at)
            .bind(after.1)
            .bind(flagged())
            .bind(limit_or_all(limit))
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .ctx("pruning pages")?
        };
        // RETURNING has no order: the batch's last page is the greatest.
        rows.sort_by_key(|r| (r.fetched_at, r.id));
        Ok(PageBatch {
            pages: rows.len() as u64,
            bytes: rows.iter().map(|r| r.bytes.max(0) as u64).sum(),
            next: rows.last().map(|r| (super::stamp(r.fetched_at), r.id)),
        })
    }

    /// Pages fetched before `cutoff` whose bodies are still kept.
    pub async fn old_pages_kept(&self, cutoff: &str) -> Result<i64> {
        let cutoff = super::instant(cutoff, "retention cutoff")?;
        sqlx::query_scalar("SELECT COUNT(*) FROM pages WHERE pruned_at IS NULL AND fetched_at < $1")
            .bind(cutoff)
            .fetch_one(&self.pool)
            .await
            .ctx("counting old pages")
    }

    /// When a page's body was pruned, if it was (`None` also for no page).
    pub async fn page_pruned_at(&self, page_id: i64) -> Result<Option<String>> {
        let at: Option<Option<DateTime<Utc>>> =
            sqlx::query_scalar("SELECT pruned_at FROM pages WHERE id = $1")
                .bind(page_id)
                .fetch_optional(&self.pool)
                .await
                .ctx("reading a page")?;
        Ok(at.flatten().map(super::stamp))
    }

    /// Scans whose recorded listings are older than `cutoff` (by their end),
    /// except the latest recorded scan of each platform, which the next scan
    /// is compared with.
    pub async fn snapshots_before(&self, cutoff: &str) -> Result<Vec<i64>> {
        let cutoff = super::instant(cutoff, "retention cutoff")?;
        sqlx::query_scalar(
            "SELECT id FROM scans s WHERE snapshot = 'kept' AND COALESCE(finished_at, started_at) < $1 \
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
        sqlx::query_scalar("SELECT COUNT(*) FROM scan_listings WHERE scan_id = $1")
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
            "DELETE FROM scan_listings WHERE scan_id = $1 AND listing_id IN \
             (SELECT listing_id FROM scan_listings WHERE scan_id = $1 LIMIT $2)",
        )
        .bind(scan_id)
        .bind(limit_or_all(limit))
        .execute(&mut *tx)
        .await
        .ctx("pruning a scan's listings")?
        .rows_affected();
        if (n as i64) < limit {
            sqlx::query("UPDATE scans SET snapshot = 'pruned' WHERE id = $1")
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
        let cutoff = super::instant(cutoff, "retention cutoff")?;
        sqlx::query_as(
            "SELECT s.id, c.n FROM scans s \
             CROSS JOIN LATERAL (SELECT COUNT(*) AS n FROM frontier f WHERE f.scan_id = s.id) c \
             WHERE s.state IN ('completed', 'completed_with_errors', 'failed') AND s.finished_at < $1 \
             AND c.n > 0 ORDER BY s.id",
        )
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await
        .ctx("finding finished frontiers")
    }

    /// Deletes up to `limit` frontier entries of a finished scan.
    pub async fn prune_frontier_batch(&self, scan_id: i64, limit: i64) -> Result<u64> {
        let n = sqlx::query(
            "DELETE FROM frontier WHERE id IN (SELECT id FROM frontier WHERE scan_id = $1 LIMIT $2)",
        )
        .bind(scan_id)
        .bind(limit_or_all(limit))
        .execute(&self.pool)
        .await
        .ctx("pruning a frontier")?
        .rows_affected();
        Ok(n)
    }

    /// Returns free pages to the file system when the database was created
    /// with `auto_vacuum = INCREMENTAL`; otherwise SQLite reuses them for
    /// new pages and this does nothing. True when it ran.
    ///
    /// PostgreSQL: a plain `VACUUM (ANALYZE)` of the tables retention
    /// empties (pages and their out-of-line bodies, scan_listings,
    /// frontier): their space becomes reusable and empty pages at the end
    /// of a table go back to the file system, without the exclusive lock of
    /// `VACUUM FULL`. Always runs (true). Outside a transaction, as VACUUM
    /// must be.
    pub async fn incremental_vacuum(&self) -> Result<bool> {
        sqlx::raw_sql("VACUUM (ANALYZE) pages, scan_listings, frontier")
            .execute(&self.pool)
            .await
            .ctx("vacuuming pruned tables")?;
        Ok(true)
    }
}
