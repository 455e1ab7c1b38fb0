//! SQLite statements for `store::notices`: what the front in `../notices.rs` dispatches to.

use super::SqliteStore;
use super::review::append_audit;
use crate::store::notices::*;
use crate::store::{Ctx, Result, StoreError};

const CANDIDATES: &str = "SELECT l.id AS listing_id, d.id AS decision_id, l.platform, l.item_id, l.url, \
     l.seller, l.shop_url, l.title, COALESCE(f.brand, l.brand) AS brand, COALESCE(f.model, l.model) AS model, \
     f.cert_numbers, f.verdict, f.matched_cert, c.status AS cert_status, c.status_changed_on AS cert_status_date, \
     c.expires_on AS cert_expires_on, f.reasons, d.measure, l.page_id, p.sha256 AS evidence_sha256, \
     p.fetched_at AS captured_at \
     FROM findings f JOIN listings l ON l.id = f.listing_id JOIN decisions d ON d.id = f.decision_id \
     LEFT JOIN certificates c ON c.cert_no = COALESCE(f.matched_cert, json_extract(f.cert_numbers, '$[0]')) \
     LEFT JOIN pages p ON p.id = l.page_id \
     WHERE f.review_state = 'confirmed' AND f.platform = ? \
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
    cert_status_date: Option<String>,
    cert_expires_on: Option<String>,
    reasons: String,
    measure: Option<String>,
    page_id: Option<i64>,
    evidence_sha256: Option<String>,
    captured_at: Option<String>,
}

fn notice_row(r: CandidateRow) -> Result<NoticeRow> {
    let id = r.listing_id;
    let json = |text: &str, what: &'static str| -> Result<Vec<String>> {
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
            what,
            detail: format!("listing {id}: {e}"),
        })
    };
    Ok(NoticeRow {
        cert_numbers: json(&r.cert_numbers, "finding numbers")?,
        reasons: json(&r.reasons, "finding reasons")?,
        listing_id: id,
        decision_id: r.decision_id,
        platform: r.platform,
        item_id: r.item_id,
        url: r.url,
        seller: r.seller,
        shop_url: r.shop_url,
        title: r.title,
        brand: r.brand,
        model: r.model,
        verdict: r.verdict,
        matched_cert: r.matched_cert,
        cert_status: r.cert_status,
        cert_status_date: r.cert_status_date,
        cert_expires_on: r.cert_expires_on,
        measure: r.measure,
        page_id: r.page_id,
        evidence_sha256: r.evidence_sha256,
        captured_at: r.captured_at,
    })
}

#[derive(sqlx::FromRow)]
struct BatchRow {
    id: i64,
    platform: String,
    year: i64,
    seq: i64,
    number: String,
    issued_at: String,
    issued_by: String,
    deadline: String,
    listings: i64,
    folder: Option<String>,
}

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

impl SqliteStore {
    /// Confirmed findings of a platform that no notice has listed yet (for
    /// the decision they stand on).
    pub async fn notice_candidates(&self, platform: &str) -> Result<Vec<NoticeRow>> {
        let rows: Vec<CandidateRow> = sqlx::query_as(CANDIDATES)
            .bind(platform)
            .fetch_all(&self.pool)
            .await
            .ctx("reading confirmed findings")?;
        rows.into_iter().map(notice_row).collect()
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
        let mut tx = self.write_tx().await.ctx("issuing a notice")?;
        let rows: Vec<NoticeRow> = sqlx::query_as::<_, CandidateRow>(CANDIDATES)
            .bind(platform)
            .fetch_all(&mut *tx)
            .await
            .ctx("reading confirmed findings")?
            .into_iter()
            .map(notice_row)
            .collect::<Result<_>>()?;
        if rows.is_empty() {
            return Ok(None);
        }
        let seq: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM notice_batches WHERE year = ?",
        )
        .bind(year)
        .fetch_one(&mut *tx)
        .await
        .ctx("numbering a notice")?;
        let number = number(seq);
        let now = self.now_rfc3339();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO notice_batches (platform, year, seq, number, issued_at, issued_by, deadline, listings) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(platform)
        .bind(year)
        .bind(seq)
        .bind(&number)
        .bind(&now)
        .bind(issued_by)
        .bind(deadline.to_string())
        .bind(rows.len() as i64)
        .fetch_one(&mut *tx)
        .await
        .map_err(|source| match source.as_database_error().map(|d| d.is_unique_violation()) {
            Some(true) => StoreError::Exists { what: "notice number", key: number.clone() },
            _ => StoreError::Query { what: "issuing a notice", source },
        })?;
        for r in &rows {
            sqlx::query(
                "INSERT INTO notices (batch_id, listing_id, decision_id, state, state_at) VALUES (?, ?, ?, 'issued', ?)",
            )
            .bind(id)
            .bind(r.listing_id)
            .bind(r.decision_id)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .ctx("issuing a notice")?;
        }
        append_audit(
            self.now(),
            &mut tx,
            issued_by,
            "notice.issue",
            Some(&format!("notice:{number}")),
            &serde_json::json!({
                "platform": platform,
                "deadline": deadline.to_string(),
                "listings": rows.iter().map(|r| r.listing_id).collect::<Vec<_>>(),
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
            issued_at: now,
            issued_by: issued_by.to_string(),
            deadline: deadline.to_string(),
            listings: rows.len() as i64,
            folder: None,
        };
        Ok(Some((batch, rows)))
    }

    /// Records where a batch's files were written.
    pub async fn set_notice_folder(&self, batch_id: i64, folder: &str) -> Result<()> {
        sqlx::query("UPDATE notice_batches SET folder = ? WHERE id = ?")
            .bind(folder)
            .bind(batch_id)
            .execute(&self.pool)
            .await
            .ctx("recording a notice folder")?;
        Ok(())
    }

    pub async fn notice_batches(&self, platform: Option<&str>) -> Result<Vec<NoticeBatch>> {
        let rows: Vec<BatchRow> = sqlx::query_as(
            "SELECT id, platform, year, seq, number, issued_at, issued_by, deadline, listings, folder \
             FROM notice_batches WHERE (? IS NULL OR platform = ?) ORDER BY id DESC",
        )
        .bind(platform)
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("listing notices")?;
        Ok(rows
            .into_iter()
            .map(|r| NoticeBatch {
                id: r.id,
                platform: r.platform,
                year: r.year,
                seq: r.seq,
                number: r.number,
                issued_at: r.issued_at,
                issued_by: r.issued_by,
                deadline: r.deadline,
                listings: r.listings,
                folder: r.folder,
            })
            .collect())
    }
}

/// States of a notice whose outcome is not settled.
macro_rules! open_states {
    () => {
        "('issued', 'acknowledged', 'still_online', 'overdue')"
    };
}

/// The notices a pass looks at: `?1` is the platform or NULL.
macro_rules! in_scope {
    () => {
        "n.batch_id IN (SELECT id FROM notice_batches WHERE ?1 IS NULL OR platform = ?1)"
    };
}

/// Selects (notice, note, evidence page, time) over notices `n` and their
/// listing `l`. Parameters: `?1` platform or NULL, `?2` now, `?3` scan or
/// NULL, `?4` today (each is referenced once, so that all four bind).
macro_rules! transition_select {
    ($note:literal, $page:literal, $at:literal, $cond:expr) => {
        concat!(
            "SELECT n.id AS id, ",
            $note,
            " AS note, ",
            $page,
            " AS page_id, ",
            $at,
            " AS at FROM notices n JOIN listings l ON l.id = n.listing_id WHERE ",
            in_scope!(),
            " AND ?2 IS NOT NULL AND coalesce(?3, 0) >= 0 AND ?4 IS NOT NULL AND ",
            $cond
        )
    };
}

/// A removed listing seen online again under its own ID.
const REINSTATED: &str = transition_select!(
    "'same_id_online'",
    "l.page_id",
    "?2",
    "n.state = 'removed_verified' AND l.state = 'online' AND l.last_seen_at > n.state_at"
);

/// A listing under notice that is gone.
const REMOVED: &str = transition_select!(
    "CASE l.gone_how WHEN 'absent' THEN 'not_in_results' ELSE 'page_gone' END",
    "CASE l.gone_how WHEN 'absent' THEN NULL ELSE l.page_id END",
    "COALESCE(l.gone_at, ?2)",
    concat!("n.state IN ", open_states!(), " AND l.state = 'gone'")
);

/// Online after the batch's deadline.
const OVERDUE: &str = transition_select!(
    "'online_after_deadline'",
    "l.page_id",
    "?2",
    "n.state IN ('issued', 'acknowledged', 'still_online') AND l.state = 'online' \
     AND n.batch_id IN (SELECT id FROM notice_batches WHERE deadline < ?4)"
);

/// Seen online by this scan, deadline not passed.
const STILL_ONLINE: &str = transition_select!(
    "'online'",
    "l.page_id",
    "?2",
    "n.state IN ('issued', 'acknowledged') AND l.state = 'online' AND l.last_scan_id = ?3"
);

impl SqliteStore {
    /// Item IDs and URLs of a platform's listings under notice (open, or
    /// removed within [`RECHECK_REMOVED_DAYS`]), for a scan to re-check.
    pub async fn listings_under_notice(
        &self,
        platform: &str,
    ) -> Result<Vec<(String, Option<String>)>> {
        // `+00:00` text, compared as text with the stored stamps: the equal
        // instant is still inside the window (the contract test pins it).
        let since = (self.now() - chrono::Duration::days(RECHECK_REMOVED_DAYS)).to_rfc3339();
        sqlx::query_as(concat!(
            "SELECT DISTINCT l.item_id, l.url FROM notices n JOIN listings l ON l.id = n.listing_id \
             WHERE l.platform = ? AND (n.state IN ",
            open_states!(),
            " OR (n.state = 'removed_verified' AND n.state_at > ?)) ORDER BY l.item_id"
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
        let now = self.now_rfc3339();
        let mut tx = self.write_tx().await.ctx("verifying notices")?;
        let mut check = NoticeCheck::default();
        if let (Some(scan_id), true) = (scope.scan_id, scope.absent_means_removed) {
            // Not in the results of a complete scan that cannot open item pages: gone.
            sqlx::query(concat!(
                "UPDATE listings SET state = 'gone', gone_how = 'absent', gone_at = ?2 \
                 WHERE state = 'online' AND (last_scan_id IS NULL OR last_scan_id < ?3) \
                 AND id IN (SELECT n.listing_id FROM notices n WHERE n.state IN ",
                open_states!(),
                " AND ",
                in_scope!(),
                ")"
            ))
            .bind(scope.platform)
            .bind(&now)
            .bind(scan_id)
            .execute(&mut *tx)
            .await
            .ctx("verifying notices")?;
        }
        check.reinstated = transition(&mut tx, &scope, &now, REINSTATED, "relisted").await?;
        check.removed = transition(&mut tx, &scope, &now, REMOVED, "removed_verified").await?;
        check.overdue = transition(&mut tx, &scope, &now, OVERDUE, "overdue").await?;
        if scope.scan_id.is_some() {
            check.still_online =
                transition(&mut tx, &scope, &now, STILL_ONLINE, "still_online").await?;
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
             WHERE b.platform = ? AND n.state IN ('removed_verified', 'relisted') \
             AND NOT EXISTS (SELECT 1 FROM relists r WHERE r.notice_id = n.id AND r.listing_id = c.id) \
             AND NOT EXISTS (SELECT 1 FROM notices n2 WHERE n2.listing_id = c.id)",
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
        let now = self.now_rfc3339();
        let mut tx = self.write_tx().await.ctx("recording relists")?;
        let mut n = 0;
        for (notice_id, listing_id) in found {
            let added = sqlx::query(
                "INSERT OR IGNORE INTO relists (notice_id, listing_id, detected_at, scan_id) VALUES (?, ?, ?, ?)",
            )
            .bind(notice_id)
            .bind(listing_id)
            .bind(&now)
            .bind(scan_id)
            .execute(&mut *tx)
            .await
            .ctx("recording relists")?
            .rows_affected();
            if added == 0 {
                continue;
            }
            n += 1;
            sqlx::query("UPDATE notices SET state = 'relisted', state_at = ?, verify_note = 'new_listing', verified_scan_id = ? WHERE id = ?")
                .bind(&now)
                .bind(scan_id)
                .bind(notice_id)
                .execute(&mut *tx)
                .await
                .ctx("recording relists")?;
            let event = NoticeEvent {
                notice_id: *notice_id,
                at: &now,
                state: "relisted",
                note: Some("new_listing"),
                scan_id,
                page_id: None,
                listing_id: Some(*listing_id),
                actor: "system",
            };
            insert_event(&mut tx, &event).await?;
            let (number, item): (String, String) = sqlx::query_as(
                "SELECT b.number, l.item_id FROM notices n JOIN notice_batches b ON b.id = n.batch_id \
                 JOIN listings l ON l.id = n.listing_id WHERE n.id = ?",
            )
            .bind(notice_id)
            .fetch_one(&mut *tx)
            .await
            .ctx("recording relists")?;
            sqlx::query(
                "UPDATE findings SET priority = MAX(priority, ?), \
                 priority_note = ? WHERE listing_id = ?",
            )
            .bind(RELIST_PRIORITY)
            .bind(format!("疑似重新上架：{number} 已下架商品 {item}"))
            .bind(listing_id)
            .execute(&mut *tx)
            .await
            .ctx("recording relists")?;
        }
        if n > 0 {
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

/// A notice a transition moves, with its note, evidence page and time.
#[derive(sqlx::FromRow)]
struct Picked {
    id: i64,
    note: String,
    page_id: Option<i64>,
    at: String,
}

/// Moves the notices `select` returns to `state`, each with its note,
/// evidence page and time, and records an event for each.
async fn transition(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    scope: &VerifyScope<'_>,
    now: &str,
    select: &'static str,
    state: &str,
) -> Result<u64> {
    let rows: Vec<Picked> = sqlx::query_as(select)
        .bind(scope.platform)
        .bind(now)
        .bind(scope.scan_id)
        .bind(scope.today.to_string())
        .fetch_all(&mut **tx)
        .await
        .ctx("verifying notices")?;
    for Picked {
        id,
        note,
        page_id,
        at,
    } in &rows
    {
        sqlx::query(
            "UPDATE notices SET state = ?, state_at = ?, verify_note = ?, evidence_page_id = ?, \
             verified_scan_id = COALESCE(?, verified_scan_id) WHERE id = ?",
        )
        .bind(state)
        .bind(at)
        .bind(note)
        .bind(page_id)
        .bind(scope.scan_id)
        .bind(id)
        .execute(&mut **tx)
        .await
        .ctx("verifying notices")?;
        let event = NoticeEvent {
            notice_id: *id,
            at: now,
            state,
            note: Some(note),
            scan_id: scope.scan_id,
            page_id: *page_id,
            listing_id: None,
            actor: "system",
        };
        insert_event(tx, &event).await?;
    }
    Ok(rows.len() as u64)
}

async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    e: &NoticeEvent<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notice_events (notice_id, at, state, note, scan_id, page_id, listing_id, actor) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.notice_id)
    .bind(e.at)
    .bind(e.state)
    .bind(e.note)
    .bind(e.scan_id)
    .bind(e.page_id)
    .bind(e.listing_id)
    .bind(e.actor)
    .execute(&mut **tx)
    .await
    .ctx("recording a notice event")?;
    Ok(())
}

impl SqliteStore {
    /// Confirmed findings awaiting a notice, per platform.
    pub async fn notice_candidate_counts(&self) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT f.platform, COUNT(*) FROM findings f WHERE f.review_state = 'confirmed' \
             AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = f.listing_id AND n.decision_id = f.decision_id) \
             GROUP BY f.platform ORDER BY f.platform",
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
        #[derive(sqlx::FromRow)]
        struct Row {
            listing_id: i64,
            item_id: String,
            state: String,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT n.listing_id, l.item_id, n.state FROM notices n JOIN listings l ON l.id = n.listing_id \
             WHERE n.batch_id = ? ORDER BY n.listing_id",
        )
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading notice states")?;
        Ok(rows
            .into_iter()
            .map(|r| (r.listing_id, r.item_id, r.state))
            .collect())
    }
}

impl SqliteStore {
    /// Each batch's outcome so far, newest first.
    pub async fn notice_outcomes(&self, platform: Option<&str>) -> Result<Vec<BatchOutcome>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: i64,
            number: String,
            platform: String,
            issued_at: String,
            deadline: String,
            listings: i64,
            state: String,
            state_at: String,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT b.id, b.number, b.platform, b.issued_at, b.deadline, b.listings, n.state, n.state_at \
             FROM notice_batches b JOIN notices n ON n.batch_id = b.id \
             WHERE (? IS NULL OR b.platform = ?) ORDER BY b.id DESC, n.id",
        )
        .bind(platform)
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("reading notice outcomes")?;
        let mut out: Vec<(i64, BatchOutcome, Vec<f64>)> = Vec::new();
        for Row {
            id,
            number,
            platform,
            issued_at,
            deadline,
            listings,
            state,
            state_at,
        } in rows
        {
            if out.last().is_none_or(|(last, _, _)| *last != id) {
                out.push((
                    id,
                    BatchOutcome {
                        number,
                        platform,
                        issued_at: issued_at.clone(),
                        deadline,
                        listings,
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
            match state.as_str() {
                "removed_verified" => {
                    o.removed += 1;
                    days.extend(days_between(&o.issued_at, &state_at));
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

impl SqliteStore {
    pub async fn notice_batch(&self, id: i64) -> Result<Option<NoticeBatch>> {
        let b = self.notice_batches(None).await?;
        Ok(b.into_iter().find(|b| b.id == id))
    }

    /// The listings of a batch with their state, reply and relists.
    pub async fn notice_lines(&self, batch_id: i64) -> Result<Vec<NoticeLine>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            notice_id: i64,
            listing_id: i64,
            item_id: String,
            url: Option<String>,
            title: String,
            seller: Option<String>,
            state: String,
            state_at: String,
            verify_note: Option<String>,
            evidence_page_id: Option<i64>,
            verified_scan_id: Option<i64>,
            ack_at: Option<String>,
            ack_text: Option<String>,
            ack_by: Option<String>,
            ack_source: Option<String>,
            relists: String,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT n.id AS notice_id, l.id AS listing_id, l.item_id, l.url, l.title, l.seller, n.state, \
             n.state_at, n.verify_note, n.evidence_page_id, n.verified_scan_id, n.ack_at, n.ack_text, \
             n.ack_by, n.ack_source, \
             (SELECT json_group_array(json_array(r.listing_id, rl.item_id)) FROM relists r \
              JOIN listings rl ON rl.id = r.listing_id WHERE r.notice_id = n.id) AS relists \
             FROM notices n JOIN listings l ON l.id = n.listing_id WHERE n.batch_id = ? ORDER BY n.id",
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
                    state_at: r.state_at,
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
        sqlx::query_as(
            "SELECT b.number, b.id AS batch_id, e.at, e.state, e.note, e.scan_id, e.page_id, e.listing_id, e.actor \
             FROM notice_events e JOIN notices n ON n.id = e.notice_id JOIN notice_batches b ON b.id = n.batch_id \
             WHERE n.listing_id = ?1 OR e.listing_id = ?1 ORDER BY e.id",
        )
        .bind(listing_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading notice history")
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
        let now = self.now_rfc3339();
        let mut tx = self.write_tx().await.ctx("recording replies")?;
        let mut out = Vec::with_capacity(acks.len());
        let mut recorded = Vec::new();
        for a in acks {
            let id: Option<i64> = sqlx::query_scalar(
                "SELECT n.id FROM notices n JOIN listings l ON l.id = n.listing_id \
                 WHERE n.batch_id = ? AND l.item_id = ?",
            )
            .bind(batch_id)
            .bind(&a.item_id)
            .fetch_optional(&mut *tx)
            .await
            .ctx("recording replies")?;
            let Some(id) = id else {
                out.push(Some(AckRefused::NotInBatch));
                continue;
            };
            let at = a.at.clone().unwrap_or_else(|| now.clone());
            sqlx::query(
                "UPDATE notices SET ack_at = ?, ack_text = ?, ack_by = ?, ack_source = ?, \
                 state = CASE state WHEN 'issued' THEN 'acknowledged' ELSE state END, \
                 state_at = CASE state WHEN 'issued' THEN ? ELSE state_at END WHERE id = ?",
            )
            .bind(&at)
            .bind(&a.text)
            .bind(by)
            .bind(source)
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("recording replies")?;
            let note = format!("平台回复：{}", a.text);
            let event = NoticeEvent {
                notice_id: id,
                at: &now,
                state: "acknowledged",
                note: Some(&note),
                scan_id: None,
                page_id: None,
                listing_id: None,
                actor: by,
            };
            insert_event(&mut tx, &event).await?;
            recorded.push(&a.item_id);
            out.push(None);
        }
        if !recorded.is_empty() {
            let number: String =
                sqlx::query_scalar("SELECT number FROM notice_batches WHERE id = ?")
                    .bind(batch_id)
                    .fetch_one(&mut *tx)
                    .await
                    .ctx("recording replies")?;
            append_audit(
                self.now(),
                &mut tx,
                by,
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

impl SqliteStore {
    /// Each platform's notices grouped by month of issue (local time is the
    /// caller's concern: months are cut at UTC+8).
    pub async fn platform_performance(&self) -> Result<Vec<PlatformPeriod>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            platform: String,
            month: String,
            issued_at: String,
            state: String,
            state_at: String,
        }
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT b.platform, strftime('%Y-%m', b.issued_at, '+8 hours') AS month, b.issued_at, n.state, n.state_at \
             FROM notice_batches b JOIN notices n ON n.batch_id = b.id ORDER BY 1, 2",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading platform performance")?;
        let mut out: Vec<(PlatformPeriod, Vec<f64>)> = Vec::new();
        for Row {
            platform,
            month,
            issued_at,
            state,
            state_at,
        } in rows
        {
            if out
                .last()
                .is_none_or(|(p, _)| p.platform != platform || p.month != month)
            {
                out.push((
                    PlatformPeriod {
                        platform: platform.clone(),
                        month: month.clone(),
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
            match state.as_str() {
                "removed_verified" => {
                    p.removed += 1;
                    days.extend(days_between(&issued_at, &state_at));
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

/// One step in a notice's life.
struct NoticeEvent<'a> {
    notice_id: i64,
    at: &'a str,
    state: &'a str,
    note: Option<&'a str>,
    scan_id: Option<i64>,
    page_id: Option<i64>,
    listing_id: Option<i64>,
    actor: &'a str,
}
