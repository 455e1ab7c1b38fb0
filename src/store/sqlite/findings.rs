//! SQLite statements for `store::findings`: what the front in `../findings.rs` dispatches to.

use super::SqliteStore;
use crate::domain::Verdict;
use crate::store::findings::*;
use crate::store::{Ctx, Result, StoreError};
use sqlx::{QueryBuilder, Sqlite};
use std::collections::HashMap;

/// Writes the findings of one match run.
pub(crate) struct MatchRunWriter {
    store: SqliteStore,
    run_id: i64,
    as_of: String,
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
    cert_numbers: String,
    category_code: Option<String>,
    verdict: String,
    confidence: f64,
    matched_cert: Option<String>,
    reasons: String,
    seller: Option<String>,
    shop_url: Option<String>,
    fetched_at: Option<String>,
    sha256: Option<String>,
}

impl SqliteStore {
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
            "INSERT INTO catalog_state (one, fingerprint, judged_at) VALUES (1, ?, ?) \
             ON CONFLICT (one) DO UPDATE SET fingerprint = excluded.fingerprint, judged_at = excluded.judged_at",
        )
        .bind(fingerprint)
        .bind(self.now_rfc3339())
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
            "INSERT INTO judged_state (one, cert_history_through, judged_at) VALUES (1, ?, ?) \
             ON CONFLICT (one) DO UPDATE SET cert_history_through = excluded.cert_history_through, \
             judged_at = excluded.judged_at",
        )
        .bind(mark)
        .bind(self.now_rfc3339())
        .execute(&self.pool)
        .await
        .ctx("recording the judged state")?;
        Ok(())
    }

    /// Closes match runs whose process died: running, with no heartbeat
    /// for [`MATCH_RUN_STALE`]. Returns how many were closed.
    pub async fn close_stale_match_runs(&self) -> Result<u64> {
        let now = self.now();
        let stale = crate::store::stamp_rfc3339(now - MATCH_RUN_STALE);
        Ok(sqlx::query(
            "UPDATE match_runs SET state = 'interrupted', finished_at = ? \
             WHERE state = 'running' AND COALESCE(heartbeat_at, started_at) < ?",
        )
        .bind(crate::store::stamp_rfc3339(now))
        .bind(stale)
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
        sqlx::query_as(
            "SELECT id, state, started_at, finished_at FROM match_runs ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("listing match runs")
    }

    pub async fn begin_match_run(
        &self,
        as_of: chrono::NaiveDate,
        platform: Option<&str>,
    ) -> Result<MatchRunWriter> {
        self.close_stale_match_runs().await?;
        let now = self.now_rfc3339();
        let run_id: i64 = sqlx::query_scalar(
            "INSERT INTO match_runs (started_at, as_of, platform, state, heartbeat_at) \
             VALUES (?, ?, ?, 'running', ?) RETURNING id",
        )
        .bind(&now)
        .bind(as_of.to_string())
        .bind(platform)
        .bind(&now)
        .fetch_one(&self.pool)
        .await
        .ctx("recording the match run")?;
        Ok(MatchRunWriter {
            store: self.clone(),
            run_id,
            as_of: as_of.to_string(),
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
             WHERE l.id > ? AND (? IS NULL OR l.platform = ?) \
             AND (? = 0 OR f.verdict NOT IN ('compliant', 'not_in_scope')) ORDER BY l.id LIMIT ?",
        )
        .bind(after_id)
        .bind(platform)
        .bind(platform)
        .bind(flagged_only)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("reading findings")?;
        rows.into_iter()
            .map(|r| {
                let id = r.id;
                let corrupt = |what, e: &dyn std::fmt::Display| StoreError::Corrupt {
                    what,
                    detail: format!("listing {id}: {e}"),
                };
                Ok(ExportRow {
                    listing_id: id,
                    platform: r.platform,
                    item_id: r.item_id,
                    url: r.url,
                    title: r.title,
                    brand: r.brand,
                    model: r.model,
                    cert_numbers: serde_json::from_str(&r.cert_numbers)
                        .map_err(|e| corrupt("finding numbers", &e))?,
                    category_code: r.category_code,
                    verdict: Verdict::parse(&r.verdict)
                        .ok_or_else(|| corrupt("verdict", &r.verdict))?,
                    confidence: r.confidence,
                    matched_cert: r.matched_cert,
                    reasons: serde_json::from_str(&r.reasons)
                        .map_err(|e| corrupt("finding reasons", &e))?,
                    seller: r.seller,
                    shop_url: r.shop_url,
                    captured_at: r.fetched_at,
                    evidence_sha256: r.sha256,
                })
            })
            .collect()
    }

    /// Current count of findings per verdict.
    pub async fn verdict_counts(&self, platform: Option<&str>) -> Result<Vec<(Verdict, i64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT f.verdict, COUNT(*) FROM findings f JOIN listings l ON l.id = f.listing_id \
             WHERE (? IS NULL OR l.platform = ?) GROUP BY f.verdict",
        )
        .bind(platform)
        .bind(platform)
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

impl MatchRunWriter {
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Stores a batch of findings; a changed or first verdict is added to history.
    pub async fn write(&self, batch: &[FindingWrite]) -> Result<()> {
        let now = self.store.now_rfc3339();
        let mut tx = self
            .store
            .write_tx()
            .await
            .ctx("starting the findings batch")?;
        for chunk in batch.chunks(BATCH) {
            let mut qb: QueryBuilder<Sqlite> =
                QueryBuilder::new("SELECT listing_id, verdict FROM findings WHERE listing_id IN (");
            let mut sep = qb.separated(", ");
            for w in chunk {
                sep.push_bind(w.listing_id);
            }
            qb.push(")");
            let old: HashMap<i64, String> = qb
                .build_query_as::<(i64, String)>()
                .fetch_all(&mut *tx)
                .await
                .ctx("reading previous verdicts")?
                .into_iter()
                .collect();
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO findings (listing_id, verdict, confidence, matched_cert, cert_numbers, category_code, brand, model, \
                 reasons, as_of, run_id, matched_at, review_state, queued_at, platform) ",
            );
            qb.push_values(chunk, |mut b, w| {
                let f = &w.finding;
                b.push_bind(w.listing_id)
                    .push_bind(f.verdict.as_str())
                    .push_bind(f.confidence as f64)
                    .push_bind(&f.matched_cert)
                    .push_bind(
                        serde_json::to_string(&f.cert_numbers).unwrap_or_else(|_| "[]".into()),
                    )
                    .push_bind(&f.category_code)
                    .push_bind(&f.brand)
                    .push_bind(&f.model)
                    .push_bind(serde_json::to_string(&f.reasons).unwrap_or_else(|_| "[]".into()))
                    .push_bind(&self.as_of)
                    .push_bind(self.run_id)
                    .push_bind(&now)
                    .push_bind(f.verdict.is_flagged().then_some("pending"))
                    .push_bind(f.verdict.is_flagged().then_some(&now))
                    .push("(SELECT platform FROM listings WHERE id = ")
                    .push_bind_unseparated(w.listing_id)
                    .push_unseparated(")");
            });
            qb.push(
                " ON CONFLICT(listing_id) DO UPDATE SET verdict = excluded.verdict, confidence = excluded.confidence, \
                 matched_cert = excluded.matched_cert, cert_numbers = excluded.cert_numbers, category_code = excluded.category_code, \
                 brand = excluded.brand, model = excluded.model, reasons = excluded.reasons, as_of = excluded.as_of, \
                 run_id = excluded.run_id, matched_at = excluded.matched_at, platform = excluded.platform, \
                 review_state = CASE WHEN excluded.review_state IS NULL THEN NULL \
                   WHEN findings.verdict = excluded.verdict AND findings.review_state IS NOT NULL THEN findings.review_state \
                   ELSE 'pending' END, \
                 queued_at = CASE WHEN excluded.review_state IS NULL THEN NULL \
                   WHEN findings.verdict = excluded.verdict AND findings.review_state IS NOT NULL THEN findings.queued_at \
                   ELSE excluded.queued_at END, \
                 decision_id = CASE WHEN findings.verdict = excluded.verdict THEN findings.decision_id ELSE NULL END",
            );
            qb.build().execute(&mut *tx).await.ctx("storing findings")?;
            let changed: Vec<(&FindingWrite, Option<&String>)> = chunk
                .iter()
                .map(|w| (w, old.get(&w.listing_id)))
                .filter(|(w, o)| o.is_none_or(|o| o != w.finding.verdict.as_str()))
                .collect();
            if !changed.is_empty() {
                let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                    "INSERT INTO finding_history (listing_id, run_id, old_verdict, new_verdict, changed_at) ",
                );
                qb.push_values(changed, |mut b, (w, o)| {
                    b.push_bind(w.listing_id)
                        .push_bind(self.run_id)
                        .push_bind(o.cloned())
                        .push_bind(w.finding.verdict.as_str())
                        .push_bind(&now);
                });
                qb.build()
                    .execute(&mut *tx)
                    .await
                    .ctx("recording verdict history")?;
            }
        }
        sqlx::query("UPDATE match_runs SET heartbeat_at = ? WHERE id = ?")
            .bind(&now)
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
        sqlx::query(
            "UPDATE match_runs SET state = 'completed', finished_at = ?, listings = ?, by_verdict = ? WHERE id = ?",
        )
        .bind(self.store.now_rfc3339())
        .bind(listings as i64)
        .bind(serde_json::Value::Object(by).to_string())
        .bind(self.run_id)
        .execute(&self.store.pool)
        .await
        .ctx("closing the match run")?;
        Ok(())
    }
}

const BATCH: usize = 500;
