//! SQLite statements for `store::history`: what the front in `../history.rs` dispatches to.

use super::SqliteStore;
use super::crawl::{ScanRow, scan_select};
use crate::store::history::*;
use crate::store::{Ctx, Result, ScanRecord};

/// The listing columns of a comparison's lists (see [`diff_list`]).
macro_rules! listing_columns {
    () => {
        "l.id AS listing_id, l.item_id, l.title, l.seller, l.url, l.gone_at, l.first_seen_at"
    };
}

impl SqliteStore {
    /// Records the listings of a completed scan's platform as the scan left
    /// them: those it saw, those flagged and online, and those that went gone
    /// since it started. Run once the scan's listings are matched and its
    /// notices verified (which may mark listings gone); running it again
    /// replaces the record.
    pub async fn record_scan_listings(&self, scan_id: i64) -> Result<u64> {
        let mut tx = self.write_tx().await.ctx("recording a scan's listings")?;
        sqlx::query("DELETE FROM scan_listings WHERE scan_id = ?")
            .bind(scan_id)
            .execute(&mut *tx)
            .await
            .ctx("replacing a scan's listings")?;
        let n = sqlx::query(
            "INSERT INTO scan_listings (scan_id, listing_id, state, seen, verdict, matched_cert) \
             SELECT s.id, l.id, l.state, l.last_scan_id IS s.id, f.verdict, f.matched_cert \
             FROM scans s JOIN listings l ON l.platform = s.platform \
             LEFT JOIN findings f ON f.listing_id = l.id \
             WHERE s.id = ?1 AND (l.last_scan_id IS s.id \
               OR (l.state = 'online' AND f.verdict IN (SELECT value FROM json_each(?2))) \
               OR (l.state = 'gone' AND l.gone_at >= s.started_at))",
        )
        .bind(scan_id)
        .bind(flagged_json())
        .execute(&mut *tx)
        .await
        .ctx("recording a scan's listings")?
        .rows_affected();
        sqlx::query("UPDATE scans SET snapshot = 'kept' WHERE id = ?")
            .bind(scan_id)
            .execute(&mut *tx)
            .await
            .ctx("recording a scan's listings")?;
        tx.commit().await.ctx("committing a scan's listings")?;
        Ok(n)
    }

    /// Scans, newest first: of one platform or all, up to `limit`.
    pub async fn scans(&self, platform: Option<&str>, limit: i64) -> Result<Vec<ScanRecord>> {
        let rows: Vec<ScanRow> = sqlx::query_as(scan_select!(
            "WHERE (?1 IS NULL OR platform = ?1) ORDER BY id DESC LIMIT ?2"
        ))
        .bind(platform)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("listing scans")?;
        Ok(rows.into_iter().map(ScanRecord::from).collect())
    }

    /// Platforms that have scans, by name.
    pub async fn scan_platforms(&self) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT DISTINCT platform FROM scans ORDER BY platform")
            .fetch_all(&self.pool)
            .await
            .ctx("listing scanned platforms")
    }

    /// The latest completed scan of the same platform before `scan_id`
    /// whose listings were recorded.
    pub async fn previous_recorded_scan(&self, scan_id: i64) -> Result<Option<ScanRecord>> {
        let row: Option<ScanRow> = sqlx::query_as(scan_select!(
            "WHERE platform = (SELECT platform FROM scans WHERE id = ?1) AND id < ?1 \
             AND state = 'completed' AND snapshot = 'kept' ORDER BY id DESC LIMIT 1"
        ))
        .bind(scan_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("finding the previous scan")?;
        Ok(row.map(ScanRecord::from))
    }

    /// The lists comparing scan `a` with the later scan `b` (both recorded).
    pub async fn scan_diff_lists(&self, scope: DiffScope<'_>) -> Result<DiffLists> {
        Ok(DiffLists {
            new_flagged: self.flagged_since(scope).await?,
            resolved: self.resolved(scope).await?,
            gone: self.gone_between(scope).await?,
            certificates: self.cert_changes_between(scope).await?,
            flagged_before: self.flagged_by_verdict(scope.a).await?,
            flagged_after: self.flagged_by_verdict(scope.b).await?,
        })
    }

    async fn flagged_by_verdict(&self, scan_id: i64) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT verdict, COUNT(*) FROM scan_listings WHERE scan_id = ? AND state = 'online' \
             AND verdict IN (SELECT value FROM json_each(?)) GROUP BY verdict ORDER BY verdict",
        )
        .bind(scan_id)
        .bind(flagged_json())
        .fetch_all(&self.pool)
        .await
        .ctx("counting flagged listings of a scan")
    }

    /// Flagged and online at the end of `b`, and not at the end of `a`.
    async fn flagged_since(&self, s: DiffScope<'_>) -> Result<DiffList<DiffListing>> {
        let sql = concat!(
            "WITH flagged(v) AS (SELECT value FROM json_each(?3)) \
             SELECT ",
            listing_columns!(),
            ", a.verdict AS verdict_before, b.verdict AS verdict_after, b.state AS state_after, \
               COUNT(*) OVER () AS total \
             FROM scan_listings b JOIN listings l ON l.id = b.listing_id \
             LEFT JOIN scan_listings a ON a.scan_id = ?1 AND a.listing_id = b.listing_id \
             WHERE b.scan_id = ?2 AND b.state = 'online' AND b.verdict IN flagged \
             AND NOT (a.listing_id IS NOT NULL AND a.state = 'online' AND a.verdict IN flagged) \
             ORDER BY l.id LIMIT ?4"
        );
        let rows: Vec<DiffRow> = sqlx::query_as(sql)
            .bind(s.a)
            .bind(s.b)
            .bind(flagged_json())
            .bind(DIFF_LIST_CAP as i64)
            .fetch_all(&self.pool)
            .await
            .ctx("listing newly flagged listings")?;
        Ok(diff_list(rows))
    }

    /// Flagged and online at the end of `a`, and not at the end of `b`: gone,
    /// or judged otherwise. What became of each is the latest record of it
    /// in a scan after `a` up to `b`; failing that (re-judged by a
    /// certificate import between scans), its verdict history up to `b`.
    async fn resolved(&self, s: DiffScope<'_>) -> Result<DiffList<DiffListing>> {
        let sql = concat!(
            "WITH flagged(v) AS (SELECT value FROM json_each(?3)), \
             r AS (SELECT a.listing_id, a.verdict AS before, \
               (SELECT sl.state FROM scan_listings sl JOIN scans sc ON sc.id = sl.scan_id \
                 WHERE sl.listing_id = a.listing_id AND sc.platform = ?5 AND sl.scan_id > ?1 AND sl.scan_id <= ?2 \
                 ORDER BY sl.scan_id DESC LIMIT 1) AS last_state, \
               (SELECT sl.verdict FROM scan_listings sl JOIN scans sc ON sc.id = sl.scan_id \
                 WHERE sl.listing_id = a.listing_id AND sc.platform = ?5 AND sl.scan_id > ?1 AND sl.scan_id <= ?2 \
                 ORDER BY sl.scan_id DESC LIMIT 1) AS last_verdict, \
               (SELECT h.new_verdict FROM finding_history h WHERE h.listing_id = a.listing_id AND h.changed_at <= ?6 \
                 ORDER BY h.id DESC LIMIT 1) AS history_verdict \
               FROM scan_listings a LEFT JOIN scan_listings b ON b.scan_id = ?2 AND b.listing_id = a.listing_id \
               WHERE a.scan_id = ?1 AND a.state = 'online' AND a.verdict IN flagged \
               AND NOT (b.listing_id IS NOT NULL AND b.state = 'online' AND b.verdict IN flagged)) \
             SELECT ",
            listing_columns!(),
            ", r.before AS verdict_before, \
               CASE WHEN r.last_verdict IS NOT NULL AND (r.last_state = 'gone' OR r.last_verdict NOT IN flagged) \
                    THEN r.last_verdict ELSE COALESCE(r.history_verdict, r.last_verdict) END AS verdict_after, \
               COALESCE(r.last_state, 'online') AS state_after, COUNT(*) OVER () AS total \
             FROM r JOIN listings l ON l.id = r.listing_id ORDER BY l.id LIMIT ?4"
        );
        let rows: Vec<DiffRow> = sqlx::query_as(sql)
            .bind(s.a)
            .bind(s.b)
            .bind(flagged_json())
            .bind(DIFF_LIST_CAP as i64)
            .bind(s.platform)
            .bind(s.b_end)
            .fetch_all(&self.pool)
            .await
            .ctx("listing resolved listings")?;
        Ok(diff_list(rows))
    }

    /// Listings recorded gone by a scan after `a` up to `b` and not seen
    /// online again by `b`, that were not already gone at `a`.
    async fn gone_between(&self, s: DiffScope<'_>) -> Result<DiffList<DiffListing>> {
        let sql = concat!(
            "WITH r AS (SELECT sl.listing_id, sl.state, sl.verdict, \
               ROW_NUMBER() OVER (PARTITION BY sl.listing_id ORDER BY sl.scan_id DESC) AS k \
               FROM scan_listings sl JOIN scans sc ON sc.id = sl.scan_id \
               WHERE sc.platform = ?3 AND sl.scan_id > ?1 AND sl.scan_id <= ?2) \
             SELECT ",
            listing_columns!(),
            ", a.verdict AS verdict_before, r.verdict AS verdict_after, r.state AS state_after, \
               COUNT(*) OVER () AS total \
             FROM r JOIN listings l ON l.id = r.listing_id \
             LEFT JOIN scan_listings a ON a.scan_id = ?1 AND a.listing_id = r.listing_id \
             WHERE r.k = 1 AND r.state = 'gone' AND a.state IS NOT 'gone' \
             ORDER BY l.id LIMIT ?4"
        );
        let rows: Vec<DiffRow> = sqlx::query_as(sql)
            .bind(s.a)
            .bind(s.b)
            .bind(s.platform)
            .bind(DIFF_LIST_CAP as i64)
            .fetch_all(&self.pool)
            .await
            .ctx("listing listings gone")?;
        Ok(diff_list(rows))
    }

    /// Certificates whose status or expiry an import changed after `a`
    /// ended and before `b` ended, that listings of the platform cite or
    /// are matched to.
    async fn cert_changes_between(&self, s: DiffScope<'_>) -> Result<DiffList<CertChange>> {
        let rows: Vec<CertChangeRow> = sqlx::query_as(
            "WITH changed(cert_no) AS (SELECT DISTINCT cert_no FROM cert_history \
               WHERE field IN ('status', 'expires_on') AND changed_at > ?1 AND changed_at <= ?2), \
             cited AS (SELECT f.matched_cert AS cert_no, f.listing_id FROM findings f \
                 WHERE f.platform = ?3 AND f.matched_cert IN changed \
               UNION SELECT j.value, f.listing_id FROM findings f JOIN json_each(f.cert_numbers) j \
                 WHERE f.platform = ?3 AND f.cert_numbers <> '[]' AND j.value IN changed), \
             per AS (SELECT c.cert_no, COUNT(*) AS n, \
                 (SELECT json_group_array(json_array(x.listing_id, l.item_id)) FROM \
                   (SELECT listing_id FROM cited c2 WHERE c2.cert_no = c.cert_no ORDER BY listing_id LIMIT 10) x \
                   JOIN listings l ON l.id = x.listing_id) AS examples \
               FROM cited c GROUP BY c.cert_no) \
             SELECT h.cert_no, h.field, h.old_value, h.new_value, h.changed_at, per.n AS listings, per.examples, \
               COUNT(*) OVER () AS total \
             FROM cert_history h JOIN per ON per.cert_no = h.cert_no \
             WHERE h.field IN ('status', 'expires_on') AND h.changed_at > ?1 AND h.changed_at <= ?2 \
             ORDER BY h.changed_at, h.cert_no, h.id LIMIT ?4",
        )
        .bind(s.a_end)
        .bind(s.b_end)
        .bind(s.platform)
        .bind(DIFF_LIST_CAP as i64)
        .fetch_all(&self.pool)
        .await
        .ctx("listing certificate changes between scans")?;
        let total = rows.first().map_or(0, |r| r.total);
        let entries = rows
            .into_iter()
            .map(|r| CertChange {
                cert_no: r.cert_no,
                field: r.field,
                old_value: r.old_value,
                new_value: r.new_value,
                changed_at: r.changed_at,
                listings: r.listings,
                examples: serde_json::from_str(r.examples.as_deref().unwrap_or("[]"))
                    .unwrap_or_default(),
            })
            .collect::<Vec<_>>();
        Ok(DiffList {
            total,
            truncated: (entries.len() as i64) < total,
            entries,
        })
    }
}

/// A row of a comparison's listing lists: `listing_columns!()`, then
/// `verdict_before`, `verdict_after`, `state_after`, `total`.
#[derive(sqlx::FromRow)]
struct DiffRow {
    listing_id: i64,
    item_id: String,
    title: String,
    seller: Option<String>,
    url: Option<String>,
    gone_at: Option<String>,
    first_seen_at: String,
    verdict_before: Option<String>,
    verdict_after: Option<String>,
    state_after: String,
    total: i64,
}

#[derive(sqlx::FromRow)]
struct CertChangeRow {
    cert_no: String,
    field: String,
    old_value: Option<String>,
    new_value: Option<String>,
    changed_at: String,
    listings: i64,
    examples: Option<String>,
    total: i64,
}

fn diff_list(rows: Vec<DiffRow>) -> DiffList<DiffListing> {
    let total = rows.first().map_or(0, |r| r.total);
    let entries: Vec<DiffListing> = rows
        .into_iter()
        .map(|r| DiffListing {
            listing_id: r.listing_id,
            item_id: r.item_id,
            title: r.title,
            seller: r.seller,
            url: r.url,
            gone_at: r.gone_at,
            first_seen_at: r.first_seen_at,
            new_listing: false,
            verdict_before: r.verdict_before,
            verdict_after: r.verdict_after,
            state_after: r.state_after,
        })
        .collect();
    DiffList {
        total,
        truncated: (entries.len() as i64) < total,
        entries,
    }
}
