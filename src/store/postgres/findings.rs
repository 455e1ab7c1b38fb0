//! PostgreSQL statements for `store::findings`: what the front in `../findings.rs` dispatches to, beside the SQLite ones in `../sqlite/findings.rs`.

use super::PgStore;
use super::certs::{clean_json_list, clean_opt, limit};
use super::clean;
use crate::domain::Verdict;
use crate::store::findings::*;
use crate::store::{Ctx, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use std::collections::HashSet;

/// Serialises findings batches across processes
/// (`pg_advisory_xact_lock`): a batch records a verdict change against
/// the verdict stored before it, which SQLite's `BEGIN IMMEDIATE` keeps
/// from racing; here two runs writing the same listing would otherwise both
/// see "no finding yet" (row locks cannot cover rows not yet inserted).
/// Held for one batch statement at a time.
const FINDINGS_LOCK: i64 = 0x6363_6377_6669_6e64; // "cccwfind"

/// Writes the findings of one match run.
pub(crate) struct MatchRunWriter {
    store: PgStore,
    run_id: i64,
    as_of: NaiveDate,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    state: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ExportDbRow {
    id: i64,
    platform: String,
    item_id: String,
    url: Option<String>,
    title: String,
    brand: Option<String>,
    model: Option<String>,
    cert_numbers: Json<Vec<String>>,
    category_code: Option<String>,
    verdict: String,
    confidence: f64,
    matched_cert: Option<String>,
    reasons: Json<Vec<String>>,
    seller: Option<String>,
    shop_url: Option<String>,
    fetched_at: Option<DateTime<Utc>>,
    sha256: Option<String>,
}

impl PgStore {
    /// The fingerprint of the catalog the stored findings were judged with.
    pub async fn catalog_fingerprint(&self) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT fingerprint FROM catalog_state WHERE one = 1")
            .fetch_optional(&self.pool)
            .await
            .ctx("reading the catalog state")
    }

    /// How many findings are stored.
    pub async fn count_findings(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM findings")
            .fetch_one(&self.pool)
            .await
            .ctx("counting findings")
    }

    /// Records that every listing has been judged with the catalog `fingerprint`.
    pub async fn set_catalog_fingerprint(&self, fingerprint: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO catalog_state (one, fingerprint, judged_at) VALUES (1, $1, $2) \
             ON CONFLICT (one) DO UPDATE SET fingerprint = excluded.fingerprint, judged_at = excluded.judged_at",
        )
        .bind(clean(fingerprint))
        .bind(self.now())
        .execute(&self.pool)
        .await
        .ctx("recording the catalog state")?;
        Ok(())
    }

    /// The last certificate change whose listings were re-judged (`None`
    /// before the first record).
    pub async fn certs_judged_through(&self) -> Result<Option<i64>> {
        sqlx::query_scalar("SELECT cert_history_through FROM judged_state WHERE one = 1")
            .fetch_optional(&self.pool)
            .await
            .ctx("reading the judged state")
    }

    /// Records that every certificate change up to `mark` has been judged.
    pub async fn set_certs_judged_through(&self, mark: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO judged_state (one, cert_history_through, judged_at) VALUES (1, $1, $2) \
             ON CONFLICT (one) DO UPDATE SET cert_history_through = excluded.cert_history_through, \
             judged_at = excluded.judged_at",
        )
        .bind(mark)
        .bind(self.now())
        .execute(&self.pool)
        .await
        .ctx("recording the judged state")?;
        Ok(())
    }

    /// Closes match runs whose process died: running, with no heartbeat
    /// for [`MATCH_RUN_STALE`]. Returns how many were closed.
    pub async fn close_stale_match_runs(&self) -> Result<u64> {
        let now = self.now();
        Ok(sqlx::query(
            "UPDATE match_runs SET state = 'interrupted', finished_at = $1 \
             WHERE state = 'running' AND COALESCE(heartbeat_at, started_at) < $2",
        )
        .bind(now)
        .bind(now - MATCH_RUN_STALE)
        .execute(&self.pool)
        .await
        .ctx("closing match runs of dead processes")?
        .rows_affected())
    }

    /// Match runs, newest first: (id, state, started_at, finished_at).
    pub async fn match_runs(
        &self,
        limit: i64,
    ) -> Result<Vec<(i64, String, String, Option<String>)>> {
        let rows = sqlx::query_as::<_, RunRow>(
            "SELECT id, state, started_at, finished_at FROM match_runs ORDER BY id DESC LIMIT $1",
        )
        .bind(self::limit(limit))
        .fetch_all(&self.pool)
        .await
        .ctx("listing match runs")?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    r.state,
                    super::stamp(r.started_at),
                    r.finished_at.map(super::stamp),
                )
            })
            .collect())
    }

    pub async fn begin_match_run(
        &self,
        as_of: chrono::NaiveDate,
        platform: Option<&str>,
    ) -> Result<MatchRunWriter> {
        self.close_stale_match_runs().await?;
        let now = self.now();
        let run_id: i64 = sqlx::query_scalar(
            "INSERT INTO match_runs (started_at, as_of, platform, state, heartbeat_at) \
             VALUES ($1, $2, $3, 'running', $1) RETURNING id",
        )
        .bind(now)
        .bind(as_of)
        .bind(clean_opt(platform))
        .fetch_one(&self.pool)
        .await
        .ctx("recording the match run")?;
        Ok(MatchRunWriter {
            store: self.clone(),
            run_id,
            as_of,
        })
    }

    /// A page of export rows after `after_id` (listing id order).
    pub async fn export_page(
        &self,
        platform: Option<&str>,
        flagged_only: bool,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<ExportRow>> {
        let rows = sqlx::query_as::<_, ExportDbRow>(
            "SELECT l.id, l.platform, l.item_id, l.url, l.title, f.brand, f.model, f.cert_numbers, f.category_code, \
             f.verdict, f.confidence, f.matched_cert, f.reasons, l.seller, l.shop_url, p.fetched_at, p.sha256 \
             FROM findings f JOIN listings l ON l.id = f.listing_id \
             LEFT JOIN pages p ON p.id = l.page_id \
             WHERE l.id > $1 AND ($2::text IS NULL OR l.platform = $2) \
             AND (NOT $3 OR f.verdict NOT IN ('compliant', 'not_in_scope')) ORDER BY l.id LIMIT $4",
        )
        .bind(after_id)
        .bind(clean_opt(platform))
        .bind(flagged_only)
        .bind(self::limit(limit))
        .fetch_all(&self.pool)
        .await
        .ctx("reading findings")?;
        rows.into_iter()
            .map(|r| {
                let verdict = Verdict::parse(&r.verdict).ok_or_else(|| StoreError::Corrupt {
                    what: "verdict",
                    detail: format!("listing {}: {}", r.id, r.verdict),
                })?;
                Ok(ExportRow {
                    listing_id: r.id,
                    platform: r.platform,
                    item_id: r.item_id,
                    url: r.url,
                    title: r.title,
                    brand: r.brand,
                    model: r.model,
                    cert_numbers: r.cert_numbers.0,
                    category_code: r.category_code,
                    verdict,
                    confidence: r.confidence,
                    matched_cert: r.matched_cert,
                    reasons: r.reasons.0,
                    seller: r.seller,
                    shop_url: r.shop_url,
                    captured_at: r.fetched_at.map(super::stamp),
                    evidence_sha256: r.sha256,
                })
            })
            .collect()
    }

    /// Current count of findings per verdict.
    pub async fn verdict_counts(&self, platform: Option<&str>) -> Result<Vec<(Verdict, i64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT f.verdict, COUNT(*) FROM findings f JOIN listings l ON l.id = f.listing_id \
             WHERE ($1::text IS NULL OR l.platform = $1) GROUP BY f.verdict",
        )
        .bind(clean_opt(platform))
        .fetch_all(&self.pool)
        .await
        .ctx("counting findings")?;
        let mut out: Vec<(Verdict, i64)> = rows
            .into_iter()
            .filter_map(|(v, n)| Verdict::parse(&v).map(|v| (v, n)))
            .collect();
        out.sort();
        Ok(out)
    }
}

/// One batch's findings upserted and their verdict changes recorded, in
/// one statement. `old` reads the findings as they were before the
/// statement (every part of it sees the same snapshot), so the history
/// compares with the previous verdict as SQLite's read-then-write does.
const WRITE_FINDINGS: &str = "\
WITH input AS (
    SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::float8[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY
        AS i(listing_id, verdict, confidence, matched_cert, cert_numbers, category_code, brand, model,
             reasons, review_state, n)
), old AS (
    SELECT f.listing_id, f.verdict FROM findings f WHERE f.listing_id = ANY($1)
), up AS (
    INSERT INTO findings (listing_id, verdict, confidence, matched_cert, cert_numbers, category_code, brand, model,
                          reasons, as_of, run_id, matched_at, review_state, queued_at, platform, search_text)
    SELECT i.listing_id, i.verdict, i.confidence, i.matched_cert, i.cert_numbers::jsonb, i.category_code,
           i.brand, i.model, i.reasons::jsonb, $11, $12, $13, i.review_state,
           CASE WHEN i.review_state IS NOT NULL THEN $13::timestamptz END,
           l.platform, CASE WHEN i.review_state IS NOT NULL THEN l.search_text END
    FROM input i LEFT JOIN listings l ON l.id = i.listing_id ORDER BY i.n
    ON CONFLICT (listing_id) DO UPDATE SET verdict = excluded.verdict, confidence = excluded.confidence,
        matched_cert = excluded.matched_cert, cert_numbers = excluded.cert_numbers,
        category_code = excluded.category_code, brand = excluded.brand, model = excluded.model,
        reasons = excluded.reasons, as_of = excluded.as_of, run_id = excluded.run_id,
        matched_at = excluded.matched_at, platform = excluded.platform,
        review_state = CASE WHEN excluded.review_state IS NULL THEN NULL
            WHEN findings.verdict = excluded.verdict AND findings.review_state IS NOT NULL THEN findings.review_state
            ELSE 'pending' END,
        queued_at = CASE WHEN excluded.review_state IS NULL THEN NULL
            WHEN findings.verdict = excluded.verdict AND findings.review_state IS NOT NULL THEN findings.queued_at
            ELSE excluded.queued_at END,
        decision_id = CASE WHEN findings.verdict = excluded.verdict THEN findings.decision_id ELSE NULL END,
        search_text = excluded.search_text
)
INSERT INTO finding_history (listing_id, run_id, old_verdict, new_verdict, changed_at)
SELECT i.listing_id, $12, o.verdict, i.verdict, $13
FROM input i LEFT JOIN old o ON o.listing_id = i.listing_id
WHERE o.verdict IS DISTINCT FROM i.verdict
ORDER BY i.n";

/// Splits a batch where a listing comes again: one upsert may touch a row
/// only once, and SQLite applies repeated rows one after the other.
fn without_repeats(batch: &[FindingWrite]) -> Vec<&[FindingWrite]> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut start = 0;
    for (i, w) in batch.iter().enumerate() {
        if !seen.insert(w.listing_id) {
            out.push(&batch[start..i]);
            start = i;
            seen.clear();
            seen.insert(w.listing_id);
        }
    }
    if start < batch.len() {
        out.push(&batch[start..]);
    }
    out
}

impl MatchRunWriter {
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Stores a batch of findings; a changed or first verdict is added to history.
    pub async fn write(&self, batch: &[FindingWrite]) -> Result<()> {
        let now = self.store.now();
        let mut tx = self
            .store
            .write_tx()
            .await
            .ctx("starting the findings batch")?;
        if !batch.is_empty() {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(FINDINGS_LOCK)
                .execute(&mut *tx)
                .await
                .ctx("waiting for other findings batches")?;
        }
        for part in without_repeats(batch) {
            let n = part.len();
            let mut ids = Vec::with_capacity(n);
            let mut verdicts = Vec::with_capacity(n);
            let mut confidences = Vec::with_capacity(n);
            let mut matched = Vec::with_capacity(n);
            let mut numbers = Vec::with_capacity(n);
            let mut categories = Vec::with_capacity(n);
            let mut brands = Vec::with_capacity(n);
            let mut models = Vec::with_capacity(n);
            let mut reasons = Vec::with_capacity(n);
            let mut states = Vec::with_capacity(n);
            for w in part {
                let f = &w.finding;
                ids.push(w.listing_id);
                verdicts.push(f.verdict.as_str());
                confidences.push(f.confidence as f64);
                matched.push(clean_opt(f.matched_cert.as_deref()));
                numbers.push(clean_json_list(&f.cert_numbers));
                categories.push(clean_opt(f.category_code.as_deref()));
                brands.push(clean_opt(f.brand.as_deref()));
                models.push(clean_opt(f.model.as_deref()));
                reasons.push(clean_json_list(&f.reasons));
                states.push(f.verdict.is_flagged().then_some("pending"));
            }
            sqlx::query(WRITE_FINDINGS)
                .bind(&ids)
                .bind(&verdicts)
                .bind(&confidences)
                .bind(&matched)
                .bind(&numbers)
                .bind(&categories)
                .bind(&brands)
                .bind(&models)
                .bind(&reasons)
                .bind(&states)
                .bind(self.as_of)
                .bind(self.run_id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .ctx("storing findings")?;
        }
        sqlx::query("UPDATE match_runs SET heartbeat_at = $1 WHERE id = $2")
            .bind(now)
            .bind(self.run_id)
            .execute(&mut *tx)
            .await
            .ctx("beating the match run's heartbeat")?;
        tx.commit().await.ctx("committing findings")
    }

    /// Closes the run with its figures.
    pub async fn finish(self, listings: u64, by_verdict: &[(Verdict, u64)]) -> Result<()> {
        let by: serde_json::Map<String, serde_json::Value> = by_verdict
            .iter()
            .map(|(v, n)| (v.as_str().to_string(), (*n).into()))
            .collect();
        // JSON, not JSONB: the object keeps its keys in verdict order.
        sqlx::query(
            "UPDATE match_runs SET state = 'completed', finished_at = $1, listings = $2, by_verdict = $3::json \
             WHERE id = $4",
        )
        .bind(self.store.now())
        .bind(listings as i64)
        .bind(serde_json::Value::Object(by).to_string())
        .bind(self.run_id)
        .execute(&self.store.pool)
        .await
        .ctx("closing the match run")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Finding;

    fn w(id: i64) -> FindingWrite {
        FindingWrite {
            listing_id: id,
            finding: Finding {
                verdict: Verdict::Compliant,
                confidence: 1.0,
                matched_cert: None,
                cert_numbers: vec![],
                category_code: None,
                brand: None,
                model: None,
                reasons: vec![],
            },
        }
    }

    #[test]
    fn a_batch_is_split_where_a_listing_comes_again() {
        let batch: Vec<_> = [1, 2, 3, 2, 4, 1, 1].into_iter().map(w).collect();
        let parts: Vec<Vec<i64>> = without_repeats(&batch)
            .into_iter()
            .map(|p| p.iter().map(|w| w.listing_id).collect())
            .collect();
        assert_eq!(parts, vec![vec![1, 2, 3], vec![2, 4, 1], vec![1]]);
        assert!(without_repeats(&[]).is_empty());
    }
}
