//! PostgreSQL statements for `store::report`: what the front in `../report.rs` dispatches to, beside the SQLite ones in `../sqlite/report.rs`.
//!
//! The window's bounds (`YYYY-MM-DDTHH:MM:SS`, UTC) become instants: a
//! stamp at `start` is in, one at `end` is out, as SQLite's text comparison
//! has it. SQLite's `SUM(cond)` is `COUNT(*) FILTER (WHERE cond)`, and its
//! NULLs-first ascending order is spelt `NULLS FIRST`.

use super::{PgStore, stamp};
use crate::store::report::*;
use crate::store::{Ctx, Result, StoreError};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Listings seen by a scan or feed in the window, by some record: an item
/// page captured then, or a first or last sighting then. `$1` end, `$2` start.
const CHECKED: &str = "SELECT l.platform, \
       (SELECT h.new_verdict FROM finding_history h WHERE h.listing_id = l.id AND h.changed_at < $1 \
        ORDER BY h.changed_at DESC, h.id DESC LIMIT 1) AS verdict, \
       f.category_code, COUNT(*) AS listings \
     FROM listings l LEFT JOIN findings f ON f.listing_id = l.id \
     WHERE (l.first_seen_at >= $2 AND l.first_seen_at < $1) \
        OR (l.last_seen_at >= $2 AND l.last_seen_at < $1) \
        OR EXISTS (SELECT 1 FROM pages p WHERE p.platform = l.platform AND p.item_id = l.item_id \
                   AND p.kind = 'item' AND p.fetched_at >= $2 AND p.fetched_at < $1) \
     GROUP BY 1, 2, 3 ORDER BY 1, 2 NULLS FIRST, 3 NULLS FIRST";

/// Listings whose verdict became a flagged one (from none or an unflagged one).
const NEWLY_FLAGGED: &str = "SELECT l.platform, COUNT(DISTINCT h.listing_id) FROM finding_history h \
     JOIN listings l ON l.id = h.listing_id \
     WHERE h.changed_at >= $1 AND h.changed_at < $2 \
     AND h.new_verdict NOT IN ('compliant', 'not_in_scope') \
     AND (h.old_verdict IS NULL OR h.old_verdict IN ('compliant', 'not_in_scope')) \
     GROUP BY l.platform ORDER BY l.platform";

/// Per seller: listings confirmed, with a notice overdue, relisted, or not
/// verified as removed.
const SELLERS: &str = "SELECT l.platform, l.seller, \
       COUNT(*) FILTER (WHERE f.review_state = 'confirmed') AS confirmed, \
       COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = l.id \
                                      AND n.state IN ('overdue', 'still_online'))) AS overdue, \
       COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = l.id \
                                      AND n.state = 'relisted')) AS relisted, \
       COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = l.id \
                                      AND n.state <> 'removed_verified')) AS under_notice \
     FROM listings l LEFT JOIN findings f ON f.listing_id = l.id \
     WHERE ($1::text IS NULL OR l.platform = $1) \
     AND (f.review_state = 'confirmed' OR EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = l.id)) \
     GROUP BY l.platform, l.seller ORDER BY l.platform, l.seller NULLS FIRST";

/// A bound of a [`MonthWindow`] (UTC, `YYYY-MM-DDTHH:MM:SS`) as an instant.
fn bound(text: &str) -> Result<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S")
        .map(|t| t.and_utc())
        .or_else(|_| super::instant(text, "month window"))
        .map_err(|_| StoreError::Corrupt {
            what: "month window",
            detail: text.to_string(),
        })
}

#[derive(sqlx::FromRow)]
struct RemovalRow {
    platform: String,
    issued_at: DateTime<Utc>,
    removed_at: DateTime<Utc>,
}

impl PgStore {
    /// The raw figures of the month `w` (see [`MonthFigures`]).
    pub async fn month_figures(&self, w: &MonthWindow) -> Result<MonthFigures> {
        let (start, end) = (bound(&w.start)?, bound(&w.end)?);
        let next_first_day = super::day(&w.next_first_day, "month window")?;
        let scans = sqlx::query_as(
            "SELECT platform, COUNT(*) FROM scans WHERE started_at >= $1 AND started_at < $2 \
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
            overdue: self.overdue_by(next_first_day).await?,
            relisted: self.relisted_in(start, end).await?,
        })
    }

    async fn newly_flagged(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(NEWLY_FLAGGED)
            .bind(start)
            .bind(end)
            .fetch_all(&self.pool)
            .await
            .ctx("counting newly flagged listings")
    }

    async fn month_decisions(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<(String, String, i64)>> {
        sqlx::query_as(
            "SELECT l.platform, d.action, COUNT(*) FROM decisions d JOIN listings l ON l.id = d.listing_id \
             WHERE d.decided_at >= $1 AND d.decided_at < $2 \
             AND d.id = (SELECT MAX(d2.id) FROM decisions d2 WHERE d2.listing_id = d.listing_id \
                         AND d2.decided_at >= $1 AND d2.decided_at < $2) \
             GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await
        .ctx("counting the month's decisions")
    }

    async fn issued_batches(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<IssuedBatch>> {
        let rows: Vec<IssuedBatch> = sqlx::query_as(
            "SELECT b.platform, b.number, COUNT(n.id) AS listings, \
             COUNT(*) FILTER (WHERE n.state = 'removed_verified') AS removed_now \
             FROM notice_batches b LEFT JOIN notices n ON n.batch_id = b.id \
             WHERE b.issued_at >= $1 AND b.issued_at < $2 GROUP BY b.id ORDER BY b.platform, b.id",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await
        .ctx("reading the month's notices")?;
        Ok(rows)
    }

    async fn verified_removals(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<VerifiedRemoval>> {
        let rows: Vec<RemovalRow> = sqlx::query_as(
            "SELECT b.platform, b.issued_at, n.state_at AS removed_at \
             FROM notices n JOIN notice_batches b ON b.id = n.batch_id \
             WHERE n.state = 'removed_verified' AND n.state_at >= $1 AND n.state_at < $2 \
             ORDER BY b.platform, n.id",
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
                issued_at: stamp(r.issued_at),
                removed_at: stamp(r.removed_at),
            })
            .collect())
    }

    async fn overdue_by(&self, next_first_day: NaiveDate) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT b.platform, COUNT(DISTINCT n.listing_id) FROM notices n JOIN notice_batches b ON b.id = n.batch_id \
             WHERE n.state IN ('overdue', 'still_online') AND b.deadline < $1 GROUP BY 1 ORDER BY 1",
        )
        .bind(next_first_day)
        .fetch_all(&self.pool)
        .await
        .ctx("counting overdue notices")
    }

    async fn relisted_in(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT b.platform, COUNT(DISTINCT n.listing_id) FROM notices n JOIN notice_batches b ON b.id = n.batch_id \
             WHERE n.state = 'relisted' AND n.state_at >= $1 AND n.state_at < $2 GROUP BY 1 ORDER BY 1",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.pool)
        .await
        .ctx("counting relisted notices")
    }
}

impl PgStore {
    /// Every seller (of `platform`, or all) with a confirmed finding or a notice.
    pub async fn seller_counts(&self, platform: Option<&str>) -> Result<Vec<SellerCounts>> {
        // PostgreSQL stores no NUL: a platform with one matches nothing.
        if platform.is_some_and(|p| p.contains('\0')) {
            return Ok(Vec::new());
        }
        let rows: Vec<SellerCounts> = sqlx::query_as(SELLERS)
            .bind(platform)
            .fetch_all(&self.pool)
            .await
            .ctx("counting sellers' findings and notices")?;
        Ok(rows)
    }
}
