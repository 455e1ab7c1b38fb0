//! SQLite statements for `store::report`: what the front in `../report.rs` dispatches to.

use super::SqliteStore;
use crate::store::report::*;
use crate::store::{Ctx, Result};

/// Listings seen by a scan or feed in the window, by some record: an item
/// page captured then, or a first or last sighting then.
const CHECKED: &str = "SELECT l.platform, \
       (SELECT h.new_verdict FROM finding_history h WHERE h.listing_id = l.id AND h.changed_at < ?1 \
        ORDER BY h.changed_at DESC, h.id DESC LIMIT 1) AS verdict, \
       f.category_code, COUNT(*) AS listings \
     FROM listings l LEFT JOIN findings f ON f.listing_id = l.id \
     WHERE (l.first_seen_at >= ?2 AND l.first_seen_at < ?1) \
        OR (l.last_seen_at >= ?2 AND l.last_seen_at < ?1) \
        OR EXISTS (SELECT 1 FROM pages p WHERE p.platform = l.platform AND p.item_id = l.item_id \
                   AND p.kind = 'item' AND p.fetched_at >= ?2 AND p.fetched_at < ?1) \
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";

/// Listings whose verdict became a flagged one (from none or an unflagged one).
const NEWLY_FLAGGED: &str = "SELECT l.platform, COUNT(DISTINCT h.listing_id) FROM finding_history h \
     JOIN listings l ON l.id = h.listing_id \
     WHERE h.changed_at >= ? AND h.changed_at < ? \
     AND h.new_verdict NOT IN ('compliant', 'not_in_scope') \
     AND (h.old_verdict IS NULL OR h.old_verdict IN ('compliant', 'not_in_scope')) \
     GROUP BY l.platform ORDER BY l.platform";

/// Per seller: listings confirmed, with a notice overdue, relisted, or not
/// verified as removed.
const SELLERS: &str = "SELECT l.platform, l.seller, COALESCE(SUM(f.review_state = 'confirmed'), 0) AS confirmed, \
       SUM(EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = l.id AND n.state IN ('overdue', 'still_online'))) AS overdue, \
       SUM(EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = l.id AND n.state = 'relisted')) AS relisted, \
       SUM(EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = l.id AND n.state <> 'removed_verified')) AS under_notice \
     FROM listings l LEFT JOIN findings f ON f.listing_id = l.id \
     WHERE (?1 IS NULL OR l.platform = ?1) \
     AND (f.review_state = 'confirmed' OR EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = l.id)) \
     GROUP BY l.platform, l.seller ORDER BY l.platform, l.seller";

#[derive(sqlx::FromRow)]
struct DecisionRow {
    platform: String,
    action: String,
    listings: i64,
}

#[derive(sqlx::FromRow)]
struct RemovalRow {
    platform: String,
    issued_at: String,
    removed_at: String,
}

impl SqliteStore {
    /// The raw figures of the month `w` (see [`MonthFigures`]).
    pub async fn month_figures(&self, w: &MonthWindow) -> Result<MonthFigures> {
        let (start, end) = (w.start.as_str(), w.end.as_str());
        let scans = sqlx::query_as(
            "SELECT platform, COUNT(*) FROM scans WHERE started_at >= ? AND started_at < ? \
             GROUP BY platform ORDER BY platform",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await
        .ctx("counting the month's scans")?;
        let checked = sqlx::query_as::<_, CheckedCount>(CHECKED)
            .bind(end)
            .bind(start)
            .fetch_all(&self.pool)
            .await
            .ctx("counting the month's listings")?;
        Ok(MonthFigures {
            scans,
            checked,
            newly_flagged: self.newly_flagged(start, end).await?,
            decisions: self.month_decisions(start, end).await?,
            batches: self.issued_batches(start, end).await?,
            removals: self.verified_removals(start, end).await?,
            overdue: self.overdue_by(&w.next_first_day).await?,
            relisted: self.relisted_in(start, end).await?,
        })
    }

    async fn newly_flagged(&self, start: &str, end: &str) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(NEWLY_FLAGGED)
            .bind(start)
            .bind(end)
            .fetch_all(&self.pool)
            .await
            .ctx("counting newly flagged listings")
    }

    async fn month_decisions(&self, start: &str, end: &str) -> Result<Vec<(String, String, i64)>> {
        let rows: Vec<DecisionRow> = sqlx::query_as(
            "SELECT l.platform, d.action, COUNT(*) AS listings FROM decisions d JOIN listings l ON l.id = d.listing_id \
             WHERE d.decided_at >= ?1 AND d.decided_at < ?2 \
             AND d.id = (SELECT MAX(d2.id) FROM decisions d2 WHERE d2.listing_id = d.listing_id \
                         AND d2.decided_at >= ?1 AND d2.decided_at < ?2) \
             GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await
        .ctx("counting the month's decisions")?;
        Ok(rows
            .into_iter()
            .map(|r| (r.platform, r.action, r.listings))
            .collect())
    }

    async fn issued_batches(&self, start: &str, end: &str) -> Result<Vec<IssuedBatch>> {
        let rows: Vec<IssuedBatch> = sqlx::query_as(
            "SELECT b.platform, b.number, COUNT(n.id) AS listings, \
             COALESCE(SUM(n.state = 'removed_verified'), 0) AS removed_now \
             FROM notice_batches b LEFT JOIN notices n ON n.batch_id = b.id \
             WHERE b.issued_at >= ? AND b.issued_at < ? GROUP BY b.id ORDER BY b.platform, b.id",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await
        .ctx("reading the month's notices")?;
        Ok(rows)
    }

    async fn verified_removals(&self, start: &str, end: &str) -> Result<Vec<VerifiedRemoval>> {
        let rows: Vec<RemovalRow> = sqlx::query_as(
            "SELECT b.platform, b.issued_at, n.state_at AS removed_at FROM notices n JOIN notice_batches b ON b.id = n.batch_id \
             WHERE n.state = 'removed_verified' AND n.state_at >= ? AND n.state_at < ? ORDER BY b.platform, n.id",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await
        .ctx("reading the month's removals")?;
        Ok(rows
            .into_iter()
            .map(|r| VerifiedRemoval {
                platform: r.platform,
                issued_at: r.issued_at,
                removed_at: r.removed_at,
            })
            .collect())
    }

    async fn overdue_by(&self, next_first_day: &str) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT b.platform, COUNT(DISTINCT n.listing_id) FROM notices n JOIN notice_batches b ON b.id = n.batch_id \
             WHERE n.state IN ('overdue', 'still_online') AND b.deadline < ? GROUP BY 1 ORDER BY 1",
        )
        .bind(next_first_day)
        .fetch_all(&self.pool)
        .await
        .ctx("counting overdue notices")
    }

    async fn relisted_in(&self, start: &str, end: &str) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT b.platform, COUNT(DISTINCT n.listing_id) FROM notices n JOIN notice_batches b ON b.id = n.batch_id \
             WHERE n.state = 'relisted' AND n.state_at >= ? AND n.state_at < ? GROUP BY 1 ORDER BY 1",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await
        .ctx("counting relisted notices")
    }
}

impl SqliteStore {
    /// Every seller (of `platform`, or all) with a confirmed finding or a notice.
    pub async fn seller_counts(&self, platform: Option<&str>) -> Result<Vec<SellerCounts>> {
        let rows: Vec<SellerCounts> = sqlx::query_as(SELLERS)
            .bind(platform)
            .fetch_all(&self.pool)
            .await
            .ctx("counting sellers' findings and notices")?;
        Ok(rows)
    }
}
