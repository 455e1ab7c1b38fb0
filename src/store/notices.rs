//! Notice storage: which confirmed findings await a notice, notice batches
//! with their numbers, and the rows a batch lists.

use super::review::append_audit;
use super::{Ctx, Result, Store, StoreError, now_rfc3339};
use serde::Serialize;
use sqlx::Row;

/// One listing of a notice: everything the platform needs to find and judge it.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeRow {
    pub listing_id: i64,
    pub decision_id: i64,
    pub platform: String,
    pub item_id: String,
    pub url: Option<String>,
    pub seller: Option<String>,
    pub shop_url: Option<String>,
    pub title: String,
    pub brand: Option<String>,
    pub model: Option<String>,
    /// Certificate numbers the listing cites.
    pub cert_numbers: Vec<String>,
    pub verdict: String,
    pub matched_cert: Option<String>,
    pub cert_status: Option<String>,
    pub cert_status_date: Option<String>,
    pub cert_expires_on: Option<String>,
    pub reasons: Vec<String>,
    pub measure: Option<String>,
    pub page_id: Option<i64>,
    pub evidence_sha256: Option<String>,
    pub captured_at: Option<String>,
}

/// A batch as stored.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeBatch {
    pub id: i64,
    pub platform: String,
    pub year: i64,
    pub seq: i64,
    pub number: String,
    pub issued_at: String,
    pub issued_by: String,
    pub deadline: String,
    pub listings: i64,
    pub folder: Option<String>,
}

const CANDIDATES: &str = "SELECT l.id, d.id, l.platform, l.item_id, l.url, l.seller, l.shop_url, l.title, \
     COALESCE(f.brand, l.brand), COALESCE(f.model, l.model), f.cert_numbers, f.verdict, f.matched_cert, \
     c.status, c.status_changed_on, c.expires_on, f.reasons, d.measure, l.page_id, p.sha256, p.fetched_at \
     FROM findings f JOIN listings l ON l.id = f.listing_id JOIN decisions d ON d.id = f.decision_id \
     LEFT JOIN certificates c ON c.cert_no = COALESCE(f.matched_cert, json_extract(f.cert_numbers, '$[0]')) \
     LEFT JOIN pages p ON p.id = l.page_id \
     WHERE f.review_state = 'confirmed' AND f.platform = ? \
     AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = f.listing_id AND n.decision_id = f.decision_id) \
     ORDER BY l.id";

fn notice_row(r: &sqlx::sqlite::SqliteRow) -> Result<NoticeRow> {
    let id: i64 = r.get(0);
    let json = |i: usize, what: &'static str| -> Result<Vec<String>> {
        serde_json::from_str(r.get::<&str, _>(i)).map_err(|e| StoreError::Corrupt {
            what,
            detail: format!("listing {id}: {e}"),
        })
    };
    Ok(NoticeRow {
        listing_id: id,
        decision_id: r.get(1),
        platform: r.get(2),
        item_id: r.get(3),
        url: r.get(4),
        seller: r.get(5),
        shop_url: r.get(6),
        title: r.get(7),
        brand: r.get(8),
        model: r.get(9),
        cert_numbers: json(10, "finding numbers")?,
        verdict: r.get(11),
        matched_cert: r.get(12),
        cert_status: r.get(13),
        cert_status_date: r.get(14),
        cert_expires_on: r.get(15),
        reasons: json(16, "finding reasons")?,
        measure: r.get(17),
        page_id: r.get(18),
        evidence_sha256: r.get(19),
        captured_at: r.get(20),
    })
}

impl Store {
    /// Confirmed findings of a platform that no notice has listed yet (for
    /// the decision they stand on).
    pub async fn notice_candidates(&self, platform: &str) -> Result<Vec<NoticeRow>> {
        let rows = sqlx::query(CANDIDATES)
            .bind(platform)
            .fetch_all(&self.pool)
            .await
            .ctx("reading confirmed findings")?;
        rows.iter().map(notice_row).collect()
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
        let rows: Vec<NoticeRow> = sqlx::query(CANDIDATES)
            .bind(platform)
            .fetch_all(&mut *tx)
            .await
            .ctx("reading confirmed findings")?
            .iter()
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
        let now = now_rfc3339();
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
        let rows = sqlx::query(
            "SELECT id, platform, year, seq, number, issued_at, issued_by, deadline, listings, folder \
             FROM notice_batches WHERE (? IS NULL OR platform = ?) ORDER BY id DESC",
        )
        .bind(platform)
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("listing notices")?;
        Ok(rows
            .iter()
            .map(|r| NoticeBatch {
                id: r.get(0),
                platform: r.get(1),
                year: r.get(2),
                seq: r.get(3),
                number: r.get(4),
                issued_at: r.get(5),
                issued_by: r.get(6),
                deadline: r.get(7),
                listings: r.get(8),
                folder: r.get(9),
            })
            .collect())
    }
}

/// What a verification pass changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NoticeCheck {
    /// Listings under notice now gone (404/410/take-down page).
    pub removed: u64,
    /// Still online after the deadline.
    pub overdue: u64,
    /// Back online after their removal was verified.
    pub reinstated: u64,
}

impl Store {
    /// Re-checks every open notice (of `platform`, or all) against what
    /// the scans saw: a listing gone is `removed_verified`; one still online
    /// after the batch's deadline (`today` past it) is `overdue`; a removed
    /// one seen online again is `relisted`. Returns what changed.
    pub async fn verify_notices(
        &self,
        platform: Option<&str>,
        today: chrono::NaiveDate,
    ) -> Result<NoticeCheck> {
        let now = now_rfc3339();
        let today = today.to_string();
        let mut tx = self.write_tx().await.ctx("verifying notices")?;
        let reinstated = sqlx::query(
            "UPDATE notices SET state = 'relisted', state_at = ? WHERE state = 'removed_verified' \
             AND listing_id IN (SELECT id FROM listings WHERE state = 'online' AND last_seen_at > notices.state_at) \
             AND batch_id IN (SELECT id FROM notice_batches WHERE ? IS NULL OR platform = ?)",
        )
        .bind(&now)
        .bind(platform)
        .bind(platform)
        .execute(&mut *tx)
        .await
        .ctx("verifying notices")?
        .rows_affected();
        let removed = sqlx::query(
            "UPDATE notices SET state = 'removed_verified', \
             state_at = COALESCE((SELECT gone_at FROM listings l WHERE l.id = notices.listing_id), ?) \
             WHERE state IN ('issued', 'acknowledged', 'overdue', 'still_online') \
             AND listing_id IN (SELECT id FROM listings WHERE state = 'gone') \
             AND batch_id IN (SELECT id FROM notice_batches WHERE ? IS NULL OR platform = ?)",
        )
        .bind(&now)
        .bind(platform)
        .bind(platform)
        .execute(&mut *tx)
        .await
        .ctx("verifying notices")?
        .rows_affected();
        let overdue = sqlx::query(
            "UPDATE notices SET state = 'overdue', state_at = ? WHERE state IN ('issued', 'acknowledged', 'still_online') \
             AND listing_id IN (SELECT id FROM listings WHERE state = 'online') \
             AND batch_id IN (SELECT id FROM notice_batches WHERE deadline < ? AND (? IS NULL OR platform = ?))",
        )
        .bind(&now)
        .bind(&today)
        .bind(platform)
        .bind(platform)
        .execute(&mut *tx)
        .await
        .ctx("verifying notices")?
        .rows_affected();
        let check = NoticeCheck {
            removed,
            overdue,
            reinstated,
        };
        if check != NoticeCheck::default() {
            append_audit(
                &mut tx,
                "system",
                "notice.verify",
                platform.map(|p| format!("platform:{p}")).as_deref(),
                &serde_json::json!({"date": today, "removed": removed, "overdue": overdue, "reinstated": reinstated}),
            )
            .await?;
        }
        tx.commit().await.ctx("verifying notices")?;
        Ok(check)
    }

    /// The listings of a batch with their notice state: (listing id, item id, state).
    pub async fn notice_states(&self, batch_id: i64) -> Result<Vec<(i64, String, String)>> {
        sqlx::query_as(
            "SELECT n.listing_id, l.item_id, n.state FROM notices n JOIN listings l ON l.id = n.listing_id \
             WHERE n.batch_id = ? ORDER BY n.listing_id",
        )
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading notice states")
    }
}

/// How a platform answered one batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchOutcome {
    pub number: String,
    pub platform: String,
    pub issued_at: String,
    pub deadline: String,
    pub listings: i64,
    pub removed: i64,
    pub overdue: i64,
    pub relisted: i64,
    /// Issued or acknowledged, deadline not passed.
    pub open: i64,
    /// Removed (verified) over listed.
    pub removal_rate: f64,
    /// Median days from issue to verified removal, when any was removed.
    pub median_days_to_removal: Option<f64>,
}

impl Store {
    /// Each batch's outcome so far, newest first.
    pub async fn notice_outcomes(&self, platform: Option<&str>) -> Result<Vec<BatchOutcome>> {
        type Row = (i64, String, String, String, String, i64, String, String);
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
        for (id, number, platform, issued_at, deadline, listings, state, state_at) in rows {
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
                    if let (Ok(a), Ok(b)) = (
                        chrono::DateTime::parse_from_rfc3339(&o.issued_at),
                        chrono::DateTime::parse_from_rfc3339(&state_at),
                    ) {
                        days.push(((b - a).num_seconds().max(0) as f64) / 86_400.0);
                    }
                }
                "overdue" | "still_online" => o.overdue += 1,
                "relisted" => o.relisted += 1,
                _ => o.open += 1,
            }
        }
        Ok(out
            .into_iter()
            .map(|(_, mut o, mut days)| {
                o.removal_rate = if o.listings > 0 {
                    o.removed as f64 / o.listings as f64
                } else {
                    0.0
                };
                days.sort_by(f64::total_cmp);
                o.median_days_to_removal = match days.len() {
                    0 => None,
                    n if n % 2 == 1 => Some(days[n / 2]),
                    n => Some((days[n / 2 - 1] + days[n / 2]) / 2.0),
                };
                o
            })
            .collect())
    }
}
