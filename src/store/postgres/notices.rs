//! PostgreSQL statements for `store::notices`: what the front in `../notices.rs` dispatches to, beside the SQLite ones in `../sqlite/notices.rs`.
//!
//! Concurrency: SQLite's `BEGIN IMMEDIATE` serialised every writer. Here
//! the methods that read notices and then write them (issuing a batch,
//! verification, replies, relists) first take the transaction-scoped
//! advisory lock [`NOTICE_LOCK`]: two processes issuing for the same
//! platform cannot list the same findings twice nor draw the same
//! `(year, seq)`, and two passes cannot record the same transition twice or
//! deadlock on notices locked in different orders. Those writers are few and
//! short. Scraped or imported text (a platform's reply, item IDs in it) is
//! written without NUL characters, which PostgreSQL text cannot hold.

use super::review::append_audit;
use super::{PgStore, clean, stamp};
use crate::store::notices::*;
use crate::store::{Ctx, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};

/// The advisory lock key of notice writers (`cccnotic` in ASCII).
const NOTICE_LOCK: i64 = 0x6363_636e_6f74_6963;

/// Whether a key to look up holds a NUL: PostgreSQL stores none (text
/// cannot hold U+0000), so such a key matches nothing (and cannot be bound).
fn unmatchable(key: &str) -> bool {
    key.contains('\0')
}

async fn lock(conn: &mut PgConnection, key: i64, what: &'static str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(key)
        .execute(&mut *conn)
        .await
        .ctx(what)?;
    Ok(())
}

const CANDIDATES: &str = "SELECT l.id AS listing_id, d.id AS decision_id, l.platform, l.item_id, l.url, \
     l.seller, l.shop_url, l.title, COALESCE(f.brand, l.brand) AS brand, COALESCE(f.model, l.model) AS model, \
     f.cert_numbers::text AS cert_numbers, f.verdict, f.matched_cert, c.status AS cert_status, \
     c.status_changed_on AS cert_status_date, c.expires_on AS cert_expires_on, f.reasons::text AS reasons, \
     d.measure, l.page_id, p.sha256 AS evidence_sha256, p.fetched_at AS captured_at \
     FROM findings f JOIN listings l ON l.id = f.listing_id JOIN decisions d ON d.id = f.decision_id \
     LEFT JOIN certificates c ON c.cert_no = COALESCE(f.matched_cert, f.cert_numbers->>0) \
     LEFT JOIN pages p ON p.id = l.page_id \
     WHERE f.review_state = 'confirmed' AND f.platform = $1 \
     AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = f.listing_id AND n.decision_id = f.decision_id) \
     ORDER BY l.id";

#[derive(sqlx::FromRow)]
struct CandidateRow {
    listing_id: i64,
    decision_id: i64,
    platform: String,
    item_id: String,
    url: Option<String>,
    seller: Option<String>,
    shop_url: Option<String>,
    title: String,
    brand: Option<String>,
    model: Option<String>,
    cert_numbers: String,
    verdict: String,
    matched_cert: Option<String>,
    cert_status: Option<String>,
    cert_status_date: Option<NaiveDate>,
    cert_expires_on: Option<NaiveDate>,
    reasons: String,
    measure: Option<String>,
    page_id: Option<i64>,
    evidence_sha256: Option<String>,
    captured_at: Option<DateTime<Utc>>,
}

impl CandidateRow {
    fn into_row(self) -> Result<NoticeRow> {
        let id = self.listing_id;
        let json = |text: &str, what: &'static str| -> Result<Vec<String>> {
            serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
                what,
                detail: format!("listing {id}: {e}"),
            })
        };
        Ok(NoticeRow {
            cert_numbers: json(&self.cert_numbers, "finding numbers")?,
            reasons: json(&self.reasons, "finding reasons")?,
            listing_id: id,
            decision_id: self.decision_id,
            platform: self.platform,
            item_id: self.item_id,
            url: self.url,
            seller: self.seller,
            shop_url: self.shop_url,
            title: self.title,
            brand: self.brand,
            model: self.model,
            verdict: self.verdict,
            matched_cert: self.matched_cert,
            cert_status: self.cert_status,
            cert_status_date: self.cert_status_date.map(super::day_text),
            cert_expires_on: self.cert_expires_on.map(super::day_text),
            measure: self.measure,
            page_id: self.page_id,
            evidence_sha256: self.evidence_sha256,
            captured_at: self.captured_at.map(stamp),
        })
    }
}

async fn candidates(conn: &mut PgConnection, platform: &str) -> Result<Vec<NoticeRow>> {
    if unmatchable(platform) {
        return Ok(Vec::new());
    }
    sqlx::query_as::<_, CandidateRow>(CANDIDATES)
        .bind(platform)
        .fetch_all(&mut *conn)
        .await
        .ctx("reading confirmed findings")?
        .into_iter()
        .map(CandidateRow::into_row)
        .collect()
}

#[derive(sqlx::FromRow)]
struct BatchRow {
    id: i64,
    platform: String,
    year: i64,
    seq: i64,
    number: String,
    issued_at: DateTime<Utc>,
    issued_by: String,
    deadline: NaiveDate,
    listings: i64,
    folder: Option<String>,
}

impl From<BatchRow> for NoticeBatch {
    fn from(r: BatchRow) -> NoticeBatch {
        NoticeBatch {
            id: r.id,
            platform: r.platform,
            year: r.year,
            seq: r.seq,
            number: r.number,
            issued_at: stamp(r.issued_at),
            issued_by: r.issued_by,
            deadline: super::day_text(r.deadline),
            listings: r.listings,
            folder: r.folder,
        }
    }
}

const BATCH_COLUMNS: &str =
    "id, platform, year, seq, number, issued_at, issued_by, deadline, listings, folder";

impl PgStore {
    /// Confirmed findings of a platform that no notice has listed yet (for
    /// the decision they stand on).
    pub async fn notice_candidates(&self, platform: &str) -> Result<Vec<NoticeRow>> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .ctx("reading confirmed findings")?;
        candidates(&mut conn, platform).await
    }

    /// Issues a batch of every candidate of `platform` in one transaction:
    /// the next number of `year` in the register (`number` makes the text
    /// from the sequence), the listings, and the audit entry. `None` when
    /// there is nothing to notice.
    pub async fn issue_notice_batch(
        &self,
        platform: &str,
        year: i32,
        deadline: chrono::NaiveDate,
        issued_by: &str,
        number: impl Fn(i64) -> String,
    ) -> Result<Option<(NoticeBatch, Vec<NoticeRow>)>> {
        // A platform with a NUL has no candidates: nothing is issued.
        let issued_by = clean(issued_by);
        let mut tx = self.write_tx().await.ctx("issuing a notice")?;
        // Serialises issuers: candidates and MAX(seq) + 1 are read under it,
        // so no finding is listed twice and no (year, seq) is drawn twice.
        lock(&mut tx, NOTICE_LOCK, "issuing a notice").await?;
        let rows = candidates(&mut tx, platform).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let seq: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM notice_batches WHERE year = $1",
        )
        .bind(i64::from(year))
        .fetch_one(&mut *tx)
        .await
        .ctx("numbering a notice")?;
        let number = clean(&number(seq)).into_owned();
        let now = self.now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO notice_batches (platform, year, seq, number, issued_at, issued_by, deadline, listings) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(platform)
        .bind(i64::from(year))
        .bind(seq)
        .bind(&number)
        .bind(now)
        .bind(issued_by.as_ref())
        .bind(deadline)
        .bind(rows.len() as i64)
        .fetch_one(&mut *tx)
        .await
        .map_err(|source| match source.as_database_error().map(|d| d.is_unique_violation()) {
            Some(true) => StoreError::Exists {
                what: "notice number",
                key: number.clone(),
            },
            _ => StoreError::Query {
                what: "issuing a notice",
                source,
            },
        })?;
        let listing_ids: Vec<i64> = rows.iter().map(|r| r.listing_id).collect();
        let decision_ids: Vec<i64> = rows.iter().map(|r| r.decision_id).collect();
        sqlx::query(
            "INSERT INTO notices (batch_id, listing_id, decision_id, state, state_at) \
             SELECT $1, t.listing_id, t.decision_id, 'issued', $4 \
             FROM UNNEST($2::bigint[], $3::bigint[]) WITH ORDINALITY AS t(listing_id, decision_id, ord) \
             ORDER BY t.ord",
        )
        .bind(id)
        .bind(&listing_ids)
        .bind(&decision_ids)
        .bind(now)
        .execute(&mut *tx)
        .await
        .ctx("issuing a notice")?;
        append_audit(
            self.now(),
            &mut tx,
            &issued_by,
            "notice.issue",
            Some(&format!("notice:{number}")),
            &serde_json::json!({
                "platform": platform,
                "deadline": deadline.to_string(),
                "listings": listing_ids,
            }),
        )
        .await?;
        tx.commit().await.ctx("issuing a notice")?;
        let batch = NoticeBatch {
            id,
            platform: platform.to_string(),
            year: year as i64,
            seq,
            number,
            issued_at: stamp(now),
            issued_by: issued_by.into_owned(),
            deadline: deadline.to_string(),
            listings: rows.len() as i64,
            folder: None,
        };
        Ok(Some((batch, rows)))
    }

    /// Records where a batch's files were written.
    pub async fn set_notice_folder(&self, batch_id: i64, folder: &str) -> Result<()> {
        sqlx::query("UPDATE notice_batches SET folder = $1 WHERE id = $2")
            .bind(clean(folder).as_ref())
            .bind(batch_id)
            .execute(&self.pool)
            .await
            .ctx("recording a notice folder")?;
        Ok(())
    }

    pub async fn notice_batches(&self, platform: Option<&str>) -> Result<Vec<NoticeBatch>> {
        if platform.is_some_and(unmatchable) {
            return Ok(Vec::new());
        }
        let rows: Vec<BatchRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {BATCH_COLUMNS} FROM notice_batches \
             WHERE ($1::text IS NULL OR platform = $1) ORDER BY id DESC"
        )))
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("listing notices")?;
        Ok(rows.into_iter().map(NoticeBatch::from).collect())
    }
}

/// States of a notice whose outcome is not settled.
macro_rules! open_states {
    () => {
        "('issued', 'acknowledged', 'still_online', 'overdue')"
    };
}

/// The notices a pass looks at: `$1` is the platform or NULL.
macro_rules! in_scope {
    () => {
        "n.batch_id IN (SELECT id FROM notice_batches WHERE $1::text IS NULL OR platform = $1)"
    };
}

/// Moves the notices that `$cond` selects (over notices `n` and their
/// listing `l`) to state `$5`, each with its note, evidence page and time,
/// and records an event for each, in notice order: one statement.
/// Parameters: `$1` platform or NULL, `$2` now, `$3` scan or NULL, `$4`
/// today, `$5` the new state.
macro_rules! transition {
    ($note:literal, $page:literal, $at:literal, $cond:expr) => {
        concat!(
            "WITH picked AS (SELECT n.id, ",
            $note,
            " AS note, ",
            $page,
            " AS page_id, ",
            $at,
            " AS at FROM notices n JOIN listings l ON l.id = n.listing_id WHERE ",
            in_scope!(),
            " AND ",
            $cond,
            "), moved AS (UPDATE notices n SET state = $5, state_at = p.at, verify_note = p.note, \
             evidence_page_id = p.page_id, verified_scan_id = COALESCE($3, n.verified_scan_id) \
             FROM picked p WHERE n.id = p.id RETURNING n.id, p.note, p.page_id) \
             INSERT INTO notice_events (notice_id, at, state, note, scan_id, page_id, listing_id, actor) \
             SELECT m.id, $2, $5, m.note, $3, m.page_id, NULL, 'system' FROM moved m \
             WHERE $4::date IS NOT NULL ORDER BY m.id"
        )
    };
}

/// A removed listing seen online again under its own ID.
const REINSTATED: &str = transition!(
    "'same_id_online'",
    "l.page_id",
    "$2::timestamptz",
    "n.state = 'removed_verified' AND l.state = 'online' AND l.last_seen_at > n.state_at"
);

/// A listing under notice that is gone.
const REMOVED: &str = transition!(
    "CASE l.gone_how WHEN 'absent' THEN 'not_in_results' ELSE 'page_gone' END",
    "CASE l.gone_how WHEN 'absent' THEN NULL ELSE l.page_id END",
    "COALESCE(l.gone_at, $2)",
    concat!("n.state IN ", open_states!(), " AND l.state = 'gone'")
);

/// Online after the batch's deadline.
const OVERDUE: &str = transition!(
    "'online_after_deadline'",
    "l.page_id",
    "$2::timestamptz",
    "n.state IN ('issued', 'acknowledged', 'still_online') AND l.state = 'online' \
     AND n.batch_id IN (SELECT id FROM notice_batches WHERE deadline < $4)"
);

/// Seen online by this scan, deadline not passed.
const STILL_ONLINE: &str = transition!(
    "'online'",
    "l.page_id",
    "$2::timestamptz",
    "n.state IN ('issued', 'acknowledged') AND l.state = 'online' AND l.last_scan_id = $3"
);

#[derive(sqlx::FromRow)]
struct RelistRow {
    notice_id: i64,
    old_listing: i64,
    old_brand: Option<String>,
    old_model: Option<String>,
    new_listing: i64,
    new_item_id: String,
    new_brand: Option<String>,
    new_model: Option<String>,
}

impl PgStore {
    /// Item IDs and URLs of a platform's listings under notice (open, or
    /// removed within [`RECHECK_REMOVED_DAYS`]), for a scan to re-check.
    pub async fn listings_under_notice(
        &self,
        platform: &str,
    ) -> Result<Vec<(String, Option<String>)>> {
        if unmatchable(platform) {
            return Ok(Vec::new());
        }
        // `>=`: SQLite compares its bound, written `...+00:00`, as text with
        // the stored `...Z` stamps, which keeps a removal at the bound itself.
        let since = self.now() - chrono::Duration::days(RECHECK_REMOVED_DAYS);
        sqlx::query_as(concat!(
            "SELECT DISTINCT l.item_id, l.url FROM notices n JOIN listings l ON l.id = n.listing_id \
             WHERE l.platform = $1 AND (n.state IN ",
            open_states!(),
            " OR (n.state = 'removed_verified' AND n.state_at >= $2)) ORDER BY l.item_id, l.url"
        ))
        .bind(platform)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .ctx("reading listings under notice")
    }

    /// Re-checks every open notice in `scope` against what the scans saw:
    /// a listing gone is `removed_verified` (with the page or scan that shows
    /// it); one seen online is `still_online`, or `overdue` once the batch's
    /// deadline has passed; a removed one seen online again is `relisted`.
    /// Each change is recorded as a notice event. Returns what changed.
    pub async fn verify_notices(&self, scope: VerifyScope<'_>) -> Result<NoticeCheck> {
        if scope.platform.is_some_and(unmatchable) {
            return Ok(NoticeCheck::default());
        }
        let now = self.now();
        let platform = scope.platform;
        let mut tx = self.write_tx().await.ctx("verifying notices")?;
        // One pass at a time: each transition reads and moves notices.
        lock(&mut tx, NOTICE_LOCK, "verifying notices").await?;
        let mut check = NoticeCheck::default();
        if let (Some(scan_id), true) = (scope.scan_id, scope.absent_means_removed) {
            // Not in the results of a complete scan that cannot open item pages: gone.
            sqlx::query(concat!(
                "UPDATE listings SET state = 'gone', gone_how = 'absent', gone_at = $2 \
                 WHERE state = 'online' AND (last_scan_id IS NULL OR last_scan_id < $3) \
                 AND id IN (SELECT n.listing_id FROM notices n WHERE n.state IN ",
                open_states!(),
                " AND ",
                in_scope!(),
                ")"
            ))
            .bind(platform)
            .bind(now)
            .bind(scan_id)
            .execute(&mut *tx)
            .await
            .ctx("verifying notices")?;
        }
        let mut step = async |select: &'static str, state: &'static str| -> Result<u64> {
            Ok(sqlx::query(select)
                .bind(platform)
                .bind(now)
                .bind(scope.scan_id)
                .bind(scope.today)
                .bind(state)
                .execute(&mut *tx)
                .await
                .ctx("verifying notices")?
                .rows_affected())
        };
        check.reinstated = step(REINSTATED, "relisted").await?;
        check.removed = step(REMOVED, "removed_verified").await?;
        check.overdue = step(OVERDUE, "overdue").await?;
        if scope.scan_id.is_some() {
            check.still_online = step(STILL_ONLINE, "still_online").await?;
        }
        if check != NoticeCheck::default() {
            append_audit(
                self.now(),
                &mut tx,
                "system",
                "notice.verify",
                scope.platform.map(|p| format!("platform:{p}")).as_deref(),
                &serde_json::json!({
                    "date": scope.today.to_string(), "scan": scope.scan_id, "removed": check.removed,
                    "still_online": check.still_online, "overdue": check.overdue,
                    "reinstated": check.reinstated,
                }),
            )
            .await?;
        }
        tx.commit().await.ctx("verifying notices")?;
        Ok(check)
    }

    /// Newer online listings of the same seller or shop as a listing whose
    /// removal was verified (or that was already relisted), for the caller
    /// to compare brand and model.
    pub async fn relist_candidates(&self, platform: &str) -> Result<Vec<RelistCandidate>> {
        if unmatchable(platform) {
            return Ok(Vec::new());
        }
        let rows: Vec<RelistRow> = sqlx::query_as(
            "SELECT n.id AS notice_id, o.id AS old_listing, COALESCE(fo.brand, o.brand) AS old_brand, \
                    COALESCE(fo.model, o.model) AS old_model, c.id AS new_listing, c.item_id AS new_item_id, \
                    COALESCE(fc.brand, c.brand) AS new_brand, COALESCE(fc.model, c.model) AS new_model \
             FROM notices n JOIN notice_batches b ON b.id = n.batch_id \
             JOIN listings o ON o.id = n.listing_id \
             JOIN listings c ON c.platform = o.platform AND c.id <> o.id AND c.state = 'online' \
                  AND c.first_seen_at > b.issued_at \
                  AND ((o.seller IS NOT NULL AND o.seller <> '' AND c.seller = o.seller) \
                    OR (o.shop_url IS NOT NULL AND o.shop_url <> '' AND c.shop_url = o.shop_url)) \
             LEFT JOIN findings fo ON fo.listing_id = o.id LEFT JOIN findings fc ON fc.listing_id = c.id \
             WHERE b.platform = $1 AND n.state IN ('removed_verified', 'relisted') \
             AND NOT EXISTS (SELECT 1 FROM relists r WHERE r.notice_id = n.id AND r.listing_id = c.id) \
             AND NOT EXISTS (SELECT 1 FROM notices n2 WHERE n2.listing_id = c.id) \
             ORDER BY n.id, c.id",
        )
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("looking for relists")?;
        Ok(rows
            .into_iter()
            .map(|r| RelistCandidate {
                notice_id: r.notice_id,
                old_listing: r.old_listing,
                old_brand: r.old_brand,
                old_model: r.old_model,
                new_listing: r.new_listing,
                new_item_id: r.new_item_id,
                new_brand: r.new_brand,
                new_model: r.new_model,
            })
            .collect())
    }

    /// Records relists (notice, new listing): the notice becomes `relisted`
    /// and the new listing's finding is raised to the top of the queue.
    pub async fn record_relists(&self, found: &[(i64, i64)], scan_id: Option<i64>) -> Result<u64> {
        if found.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let mut tx = self.write_tx().await.ctx("recording relists")?;
        lock(&mut tx, NOTICE_LOCK, "recording relists").await?;
        let notice_ids: Vec<i64> = found.iter().map(|f| f.0).collect();
        let listing_ids: Vec<i64> = found.iter().map(|f| f.1).collect();
        // ON CONFLICT DO NOTHING skips pairs already recorded and repeats
        // within `found`; RETURNING says which were new.
        let inserted: Vec<(i64, i64)> = sqlx::query_as(
            "INSERT INTO relists (notice_id, listing_id, detected_at, scan_id) \
             SELECT t.notice_id, t.listing_id, $3, $4 \
             FROM UNNEST($1::bigint[], $2::bigint[]) WITH ORDINALITY AS t(notice_id, listing_id, ord) \
             ORDER BY t.ord ON CONFLICT (notice_id, listing_id) DO NOTHING \
             RETURNING notice_id, listing_id",
        )
        .bind(&notice_ids)
        .bind(&listing_ids)
        .bind(now)
        .bind(scan_id)
        .fetch_all(&mut *tx)
        .await
        .ctx("recording relists")?;
        // The new pairs in the order given (the first of any repeat).
        let mut fresh: HashSet<(i64, i64)> = inserted.into_iter().collect();
        let added: Vec<(i64, i64)> = found.iter().filter(|p| fresh.remove(p)).copied().collect();
        let n = added.len() as u64;
        if n > 0 {
            let a_notices: Vec<i64> = added.iter().map(|p| p.0).collect();
            let a_listings: Vec<i64> = added.iter().map(|p| p.1).collect();
            sqlx::query(
                "UPDATE notices SET state = 'relisted', state_at = $1, verify_note = 'new_listing', \
                 verified_scan_id = $2 WHERE id = ANY($3)",
            )
            .bind(now)
            .bind(scan_id)
            .bind(&a_notices)
            .execute(&mut *tx)
            .await
            .ctx("recording relists")?;
            sqlx::query(
                "INSERT INTO notice_events (notice_id, at, state, note, scan_id, page_id, listing_id, actor) \
                 SELECT t.notice_id, $3, 'relisted', 'new_listing', $4, NULL, t.listing_id, 'system' \
                 FROM UNNEST($1::bigint[], $2::bigint[]) WITH ORDINALITY AS t(notice_id, listing_id, ord) \
                 ORDER BY t.ord",
            )
            .bind(&a_notices)
            .bind(&a_listings)
            .bind(now)
            .bind(scan_id)
            .execute(&mut *tx)
            .await
            .ctx("recording a notice event")?;
            // A listing relisting several notices keeps the note of the
            // last one, as the SQLite loop leaves it.
            sqlx::query(
                "UPDATE findings f SET priority = GREATEST(f.priority, $3), \
                 priority_note = '疑似重新上架：' || s.number || ' 已下架商品 ' || s.item_id \
                 FROM (SELECT DISTINCT ON (t.listing_id) t.listing_id, b.number, l.item_id \
                       FROM UNNEST($1::bigint[], $2::bigint[]) WITH ORDINALITY AS t(notice_id, listing_id, ord) \
                       JOIN notices n ON n.id = t.notice_id JOIN notice_batches b ON b.id = n.batch_id \
                       JOIN listings l ON l.id = n.listing_id \
                       ORDER BY t.listing_id, t.ord DESC) s \
                 WHERE f.listing_id = s.listing_id",
            )
            .bind(&a_notices)
            .bind(&a_listings)
            .bind(RELIST_PRIORITY)
            .execute(&mut *tx)
            .await
            .ctx("recording relists")?;
            append_audit(
                self.now(),
                &mut tx,
                "system",
                "notice.relist",
                None,
                &serde_json::json!({"scan": scan_id, "relists": found}),
            )
            .await?;
        }
        tx.commit().await.ctx("recording relists")?;
        Ok(n)
    }
}

impl PgStore {
    /// Confirmed findings awaiting a notice, per platform.
    pub async fn notice_candidate_counts(&self) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT f.platform, COUNT(*) FROM findings f WHERE f.review_state = 'confirmed' \
             AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = f.listing_id AND n.decision_id = f.decision_id) \
             GROUP BY f.platform ORDER BY f.platform NULLS FIRST",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("counting confirmed findings awaiting a notice")
    }

    /// Platforms that have been sent notices.
    pub async fn notice_platforms(&self) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT DISTINCT platform FROM notice_batches ORDER BY platform")
            .fetch_all(&self.pool)
            .await
            .ctx("listing noticed platforms")
    }

    /// The listings of a batch with their notice state: (listing id, item id, state).
    pub async fn notice_states(&self, batch_id: i64) -> Result<Vec<(i64, String, String)>> {
        sqlx::query_as(
            "SELECT n.listing_id, l.item_id, n.state FROM notices n JOIN listings l ON l.id = n.listing_id \
             WHERE n.batch_id = $1 ORDER BY n.listing_id",
        )
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading notice states")
    }
}

#[derive(sqlx::FromRow)]
struct OutcomeRow {
    id: i64,
    number: String,
    platform: String,
    issued_at: DateTime<Utc>,
    deadline: NaiveDate,
    listings: i64,
    state: String,
    state_at: DateTime<Utc>,
}

impl PgStore {
    /// Each batch's outcome so far, newest first.
    pub async fn notice_outcomes(&self, platform: Option<&str>) -> Result<Vec<BatchOutcome>> {
        if platform.is_some_and(unmatchable) {
            return Ok(Vec::new());
        }
        let rows: Vec<OutcomeRow> = sqlx::query_as(
            "SELECT b.id, b.number, b.platform, b.issued_at, b.deadline, b.listings, n.state, n.state_at \
             FROM notice_batches b JOIN notices n ON n.batch_id = b.id \
             WHERE ($1::text IS NULL OR b.platform = $1) ORDER BY b.id DESC, n.id",
        )
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("reading notice outcomes")?;
        let mut out: Vec<(i64, BatchOutcome, Vec<f64>)> = Vec::new();
        for r in rows {
            if out.last().is_none_or(|(last, _, _)| *last != r.id) {
                out.push((
                    r.id,
                    BatchOutcome {
                        number: r.number,
                        platform: r.platform,
                        issued_at: stamp(r.issued_at),
                        deadline: super::day_text(r.deadline),
                        listings: r.listings,
                        removed: 0,
                        overdue: 0,
                        relisted: 0,
                        open: 0,
                        removal_rate: 0.0,
                        median_days_to_removal: None,
                    },
                    Vec::new(),
                ));
            }
            let (_, o, days) = out.last_mut().expect("just pushed");
            match r.state.as_str() {
                "removed_verified" => {
                    o.removed += 1;
                    days.extend(days_between(&o.issued_at, &stamp(r.state_at)));
                }
                "overdue" | "still_online" => o.overdue += 1,
                "relisted" => o.relisted += 1,
                _ => o.open += 1,
            }
        }
        Ok(out
            .into_iter()
            .map(|(_, mut o, days)| {
                o.removal_rate = o.removed as f64 / o.listings.max(1) as f64;
                o.median_days_to_removal = median(days);
                o
            })
            .collect())
    }
}

#[derive(sqlx::FromRow)]
struct LineRow {
    notice_id: i64,
    listing_id: i64,
    item_id: String,
    url: Option<String>,
    title: String,
    seller: Option<String>,
    state: String,
    state_at: DateTime<Utc>,
    verify_note: Option<String>,
    evidence_page_id: Option<i64>,
    verified_scan_id: Option<i64>,
    ack_at: Option<String>,
    ack_text: Option<String>,
    ack_by: Option<String>,
    ack_source: Option<String>,
    relists: String,
}

#[derive(sqlx::FromRow)]
struct StepRow {
    number: String,
    batch_id: i64,
    at: DateTime<Utc>,
    state: String,
    note: Option<String>,
    scan_id: Option<i64>,
    page_id: Option<i64>,
    listing_id: Option<i64>,
    actor: String,
}

impl PgStore {
    pub async fn notice_batch(&self, id: i64) -> Result<Option<NoticeBatch>> {
        let row: Option<BatchRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {BATCH_COLUMNS} FROM notice_batches WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("listing notices")?;
        Ok(row.map(NoticeBatch::from))
    }

    /// The listings of a batch with their state, reply and relists.
    pub async fn notice_lines(&self, batch_id: i64) -> Result<Vec<NoticeLine>> {
        // Relists in the order of the new listing (SQLite's json_group_array
        // follows its (notice_id, listing_id) index, i.e. the same order).
        let rows: Vec<LineRow> = sqlx::query_as(
            "SELECT n.id AS notice_id, l.id AS listing_id, l.item_id, l.url, l.title, l.seller, n.state, \
             n.state_at, n.verify_note, n.evidence_page_id, n.verified_scan_id, n.ack_at, n.ack_text, \
             n.ack_by, n.ack_source, \
             COALESCE((SELECT json_agg(json_build_array(r.listing_id, rl.item_id) ORDER BY r.listing_id, r.id) \
                       FROM relists r JOIN listings rl ON rl.id = r.listing_id WHERE r.notice_id = n.id), \
                      '[]'::json)::text AS relists \
             FROM notices n JOIN listings l ON l.id = n.listing_id WHERE n.batch_id = $1 ORDER BY n.id",
        )
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading a notice batch")?;
        rows.into_iter()
            .map(|r| {
                let relists: Vec<(i64, String)> =
                    serde_json::from_str(&r.relists).map_err(|e| StoreError::Corrupt {
                        what: "relists",
                        detail: e.to_string(),
                    })?;
                Ok(NoticeLine {
                    notice_id: r.notice_id,
                    listing_id: r.listing_id,
                    item_id: r.item_id,
                    url: r.url,
                    title: r.title,
                    seller: r.seller,
                    state: r.state,
                    state_at: stamp(r.state_at),
                    verify_note: r.verify_note,
                    evidence_page_id: r.evidence_page_id,
                    verified_scan_id: r.verified_scan_id,
                    ack_at: r.ack_at,
                    ack_text: r.ack_text,
                    ack_by: r.ack_by,
                    ack_source: r.ack_source,
                    relists,
                })
            })
            .collect()
    }

    /// Every notice step of a listing (as noticed, or as a relist), oldest first.
    pub async fn notice_steps(&self, listing_id: i64) -> Result<Vec<NoticeStep>> {
        let rows: Vec<StepRow> = sqlx::query_as(
            "SELECT b.number, b.id AS batch_id, e.at, e.state, e.note, e.scan_id, e.page_id, e.listing_id, e.actor \
             FROM notice_events e JOIN notices n ON n.id = e.notice_id JOIN notice_batches b ON b.id = n.batch_id \
             WHERE n.listing_id = $1 OR e.listing_id = $1 ORDER BY e.id",
        )
        .bind(listing_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading notice history")?;
        Ok(rows
            .into_iter()
            .map(|r| NoticeStep {
                number: r.number,
                batch_id: r.batch_id,
                at: stamp(r.at),
                state: r.state,
                note: r.note,
                scan_id: r.scan_id,
                page_id: r.page_id,
                listing_id: r.listing_id,
                actor: r.actor,
            })
            .collect())
    }

    /// Records a platform's replies to batch `batch_id` in one transaction.
    /// A notice still `issued` becomes `acknowledged`; later states stay
    /// (the scans decide them). Returns per reply whether it was refused.
    pub async fn record_acks(
        &self,
        batch_id: i64,
        acks: &[Ack],
        by: &str,
        source: &str,
    ) -> Result<Vec<Option<AckRefused>>> {
        let now = self.now();
        let now_text = stamp(now);
        let (by, source) = (clean(by), clean(source));
        let mut tx = self.write_tx().await.ctx("recording replies")?;
        lock(&mut tx, NOTICE_LOCK, "recording replies").await?;
        // An item ID with a NUL names no stored listing.
        let items: Vec<String> = acks
            .iter()
            .filter(|a| !unmatchable(&a.item_id))
            .map(|a| a.item_id.clone())
            .collect();
        let ids: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
            "SELECT l.item_id, n.id FROM notices n JOIN listings l ON l.id = n.listing_id \
             WHERE n.batch_id = $1 AND l.item_id = ANY($2) ORDER BY n.id DESC",
        )
        .bind(batch_id)
        .bind(&items)
        .fetch_all(&mut *tx)
        .await
        .ctx("recording replies")?
        .into_iter()
        .collect();
        let mut out = Vec::with_capacity(acks.len());
        let mut recorded = Vec::new();
        // Per notice the last reply's fields (a later reply overwrites an
        // earlier one, as one UPDATE per reply would); an event per reply.
        let mut last: HashMap<i64, (String, String)> = HashMap::new();
        let (mut ev_ids, mut ev_notes) = (Vec::new(), Vec::new());
        for a in acks {
            let Some(&id) = ids.get(&a.item_id) else {
                out.push(Some(AckRefused::NotInBatch));
                continue;
            };
            let text = clean(&a.text).into_owned();
            let at =
                a.at.as_deref()
                    .map_or_else(|| now_text.clone(), |t| clean(t).into_owned());
            ev_ids.push(id);
            ev_notes.push(format!("平台回复：{text}"));
            last.insert(id, (at, text));
            recorded.push(&a.item_id);
            out.push(None);
        }
        if !recorded.is_empty() {
            let mut u_ids = Vec::with_capacity(last.len());
            let mut u_ats = Vec::with_capacity(last.len());
            let mut u_texts = Vec::with_capacity(last.len());
            for (id, (at, text)) in last {
                u_ids.push(id);
                u_ats.push(at);
                u_texts.push(text);
            }
            sqlx::query(
                "UPDATE notices n SET ack_at = u.at, ack_text = u.text, ack_by = $4, ack_source = $5, \
                 state = CASE n.state WHEN 'issued' THEN 'acknowledged' ELSE n.state END, \
                 state_at = CASE n.state WHEN 'issued' THEN $6 ELSE n.state_at END \
                 FROM UNNEST($1::bigint[], $2::text[], $3::text[]) AS u(id, at, text) WHERE n.id = u.id",
            )
            .bind(&u_ids)
            .bind(&u_ats)
            .bind(&u_texts)
            .bind(by.as_ref())
            .bind(source.as_ref())
            .bind(now)
            .execute(&mut *tx)
            .await
            .ctx("recording replies")?;
            sqlx::query(
                "INSERT INTO notice_events (notice_id, at, state, note, scan_id, page_id, listing_id, actor) \
                 SELECT t.id, $3, 'acknowledged', t.note, NULL, NULL, NULL, $4 \
                 FROM UNNEST($1::bigint[], $2::text[]) WITH ORDINALITY AS t(id, note, ord) ORDER BY t.ord",
            )
            .bind(&ev_ids)
            .bind(&ev_notes)
            .bind(now)
            .bind(by.as_ref())
            .execute(&mut *tx)
            .await
            .ctx("recording a notice event")?;
            let number: String =
                sqlx::query_scalar("SELECT number FROM notice_batches WHERE id = $1")
                    .bind(batch_id)
                    .fetch_one(&mut *tx)
                    .await
                    .ctx("recording replies")?;
            append_audit(
                self.now(),
                &mut tx,
                &by,
                "notice.reply",
                Some(&format!("notice:{number}")),
                &serde_json::json!({"source": source, "items": recorded}),
            )
            .await?;
        }
        tx.commit().await.ctx("recording replies")?;
        Ok(out)
    }
}

#[derive(sqlx::FromRow)]
struct PeriodRow {
    platform: String,
    month: String,
    issued_at: DateTime<Utc>,
    state: String,
    state_at: DateTime<Utc>,
}

impl PgStore {
    /// Each platform's notices grouped by month of issue (local time is the
    /// caller's concern: months are cut at UTC+8).
    pub async fn platform_performance(&self) -> Result<Vec<PlatformPeriod>> {
        // Asia/Shanghai has kept UTC+8 all year since 1991: SQLite's '+8 hours'.
        let rows: Vec<PeriodRow> = sqlx::query_as(
            "SELECT b.platform, to_char(b.issued_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month, \
             b.issued_at, n.state, n.state_at \
             FROM notice_batches b JOIN notices n ON n.batch_id = b.id ORDER BY 1, 2, b.id, n.id",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading platform performance")?;
        let mut out: Vec<(PlatformPeriod, Vec<f64>)> = Vec::new();
        for r in rows {
            if out
                .last()
                .is_none_or(|(p, _)| p.platform != r.platform || p.month != r.month)
            {
                out.push((
                    PlatformPeriod {
                        platform: r.platform.clone(),
                        month: r.month.clone(),
                        listings: 0,
                        removed: 0,
                        overdue: 0,
                        relisted: 0,
                        removal_rate: 0.0,
                        median_days_to_removal: None,
                    },
                    Vec::new(),
                ));
            }
            let (p, days) = out.last_mut().expect("just pushed");
            p.listings += 1;
            match r.state.as_str() {
                "removed_verified" => {
                    p.removed += 1;
                    days.extend(days_between(&stamp(r.issued_at), &stamp(r.state_at)));
                }
                "overdue" => p.overdue += 1,
                "relisted" => p.relisted += 1,
                _ => {}
            }
        }
        Ok(out
            .into_iter()
            .map(|(mut p, days)| {
                p.removal_rate = p.removed as f64 / p.listings.max(1) as f64;
                p.median_days_to_removal = median(days);
                p
            })
            .collect())
    }
}
