//! PostgreSQL statements for `store::signals`: what the front in `../signals.rs` dispatches to, beside the SQLite ones in `../sqlite/signals.rs`.

use super::PgStore;
use super::certs::{clean_opt, limit};
use super::clean;
use super::review::append_audit;
use crate::store::signals::*;
use crate::store::{Ctx, Result};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct SignalRow {
    id: i64,
    kind: String,
    platform: Option<String>,
    item_id: Option<String>,
    seller: Option<String>,
    brand: Option<String>,
    model: Option<String>,
    brand_key: Option<String>,
    model_key: Option<String>,
    reported_on: Option<NaiveDate>,
    detail: Option<String>,
    weight: i64,
    imported_at: DateTime<Utc>,
    source_file: String,
}

/// The day a window given as RFC 3339 text starts on: SQLite compares
/// `substr(since, 1, 10)` with the stored dates and stamps as text, which
/// is the same as comparing days.
fn since_day(since: &str) -> Result<NaiveDate> {
    let head = since.trim();
    super::day(head.get(..10).unwrap_or(head), "signal window start")
}

impl PgStore {
    /// Stores signals; a row of a file already imported is left alone.
    /// Returns (added, already there).
    pub async fn insert_signals(&self, signals: &[NewSignal], by: &str) -> Result<(u64, u64)> {
        let now = self.now();
        let n = signals.len();
        let mut kinds = Vec::with_capacity(n);
        let mut files = Vec::with_capacity(n);
        let mut rows = Vec::with_capacity(n);
        let mut platforms = Vec::with_capacity(n);
        let mut items = Vec::with_capacity(n);
        let mut sellers = Vec::with_capacity(n);
        let mut brands = Vec::with_capacity(n);
        let mut models = Vec::with_capacity(n);
        let mut brand_keys = Vec::with_capacity(n);
        let mut model_keys = Vec::with_capacity(n);
        let mut reported = Vec::with_capacity(n);
        let mut details = Vec::with_capacity(n);
        let mut weights = Vec::with_capacity(n);
        let mut importers = Vec::with_capacity(n);
        for s in signals {
            kinds.push(clean(&s.kind).into_owned());
            files.push(clean(&s.source_file).into_owned());
            rows.push(s.row_no);
            platforms.push(clean_opt(s.platform.as_deref()));
            items.push(clean_opt(s.item_id.as_deref()));
            sellers.push(clean_opt(s.seller.as_deref()));
            brands.push(clean_opt(s.brand.as_deref()));
            models.push(clean_opt(s.model.as_deref()));
            brand_keys.push(clean_opt(s.brand_key.as_deref()));
            model_keys.push(clean_opt(s.model_key.as_deref()));
            reported.push(
                s.reported_on
                    .as_deref()
                    .map(|d| super::day(d, "signal report date"))
                    .transpose()?,
            );
            details.push(clean(&s.detail).into_owned());
            weights.push(s.weight);
            importers.push(clean(&s.imported_by).into_owned());
        }
        let mut tx = self.write_tx().await.ctx("importing risk signals")?;
        // A row already stored (same file, row and kind) is left alone, as
        // is a repeat within the batch.
        let added = if signals.is_empty() {
            0
        } else {
            sqlx::query(
                "INSERT INTO risk_signals (kind, source_file, row_no, platform, item_id, seller, brand, model, \
                 brand_key, model_key, reported_on, detail, weight, imported_at, imported_by) \
                 SELECT kind, source_file, row_no, platform, item_id, seller, brand, model, brand_key, model_key, \
                        reported_on, detail, weight, $15, imported_by \
                 FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], \
                             $8::text[], $9::text[], $10::text[], $11::date[], $12::text[], $13::bigint[], $14::text[]) \
                      WITH ORDINALITY AS s(kind, source_file, row_no, platform, item_id, seller, brand, model, \
                                           brand_key, model_key, reported_on, detail, weight, imported_by, n) \
                 ORDER BY n \
                 ON CONFLICT (source_file, row_no, kind) DO NOTHING",
            )
            .bind(&kinds)
            .bind(&files)
            .bind(&rows)
            .bind(&platforms)
            .bind(&items)
            .bind(&sellers)
            .bind(&brands)
            .bind(&models)
            .bind(&brand_keys)
            .bind(&model_keys)
            .bind(&reported)
            .bind(&details)
            .bind(&weights)
            .bind(&importers)
            .bind(now)
            .execute(&mut *tx)
            .await
            .ctx("importing risk signals")?
            .rows_affected()
        };
        if added > 0 {
            append_audit(
                now,
                &mut tx,
                by,
                "signals.import",
                signals
                    .first()
                    .map(|s| format!("file:{}", s.source_file))
                    .as_deref(),
                &serde_json::json!({"kind": signals.first().map(|s| s.kind.clone()), "rows": added}),
            )
            .await?;
        }
        tx.commit().await.ctx("importing risk signals")?;
        Ok((added, signals.len() as u64 - added))
    }

    /// Signals reported (or, without a date, imported) after `since`.
    pub async fn active_signals(&self, since: &str) -> Result<Vec<ActiveSignal>> {
        let rows = sqlx::query_as::<_, SignalRow>(
            "SELECT id, kind, platform, item_id, seller, brand, model, brand_key, model_key, reported_on, detail, \
             weight, imported_at, source_file FROM risk_signals \
             WHERE COALESCE(reported_on, (imported_at AT TIME ZONE 'UTC')::date) >= $1 ORDER BY id",
        )
        .bind(since_day(since)?)
        .fetch_all(&self.pool)
        .await
        .ctx("reading risk signals")?;
        Ok(rows
            .into_iter()
            .map(|r| ActiveSignal {
                id: r.id,
                kind: r.kind,
                platform: r.platform,
                item_id: r.item_id,
                seller: r.seller,
                brand: r.brand,
                model: r.model,
                brand_key: r.brand_key,
                model_key: r.model_key,
                reported_on: r.reported_on.map(super::day_text),
                detail: r.detail,
                weight: r.weight,
                imported_at: super::stamp(r.imported_at),
                source_file: r.source_file,
            })
            .collect())
    }

    /// Findings after `after` (by listing), with what priority needs.
    pub async fn priority_page(
        &self,
        platform: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<PriorityRow>> {
        sqlx::query_as(
            "SELECT f.listing_id, l.platform, l.item_id, l.seller, COALESCE(f.brand, l.brand) AS brand, \
             COALESCE(f.model, l.model) AS model, f.priority, f.priority_note AS note, \
             (SELECT '疑似重新上架：' || b.number || ' 已下架商品 ' || lo.item_id FROM relists r \
              JOIN notices n ON n.id = r.notice_id JOIN notice_batches b ON b.id = n.batch_id \
              JOIN listings lo ON lo.id = n.listing_id WHERE r.listing_id = f.listing_id ORDER BY r.id LIMIT 1) AS relist_note \
             FROM findings f JOIN listings l ON l.id = f.listing_id \
             WHERE f.listing_id > $1 AND ($2::text IS NULL OR l.platform = $2) ORDER BY f.listing_id LIMIT $3",
        )
        .bind(after)
        .bind(clean_opt(platform))
        .bind(self::limit(limit))
        .fetch_all(&self.pool)
        .await
        .ctx("reading findings for priority")
    }

    /// Sets (listing, priority, note); returns how many rows were written.
    pub async fn set_priorities(&self, rows: &[(i64, i64, Option<String>)]) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        // SQLite updates row by row, so the last of a listing's repeats
        // stays; one UPDATE ... FROM would take any of them: keep the last.
        let mut last: HashMap<i64, (i64, Option<String>)> = HashMap::with_capacity(rows.len());
        for (id, p, note) in rows {
            last.insert(*id, (*p, clean_opt(note.as_deref())));
        }
        let mut ids: Vec<i64> = last.keys().copied().collect();
        ids.sort_unstable();
        let (priorities, notes): (Vec<i64>, Vec<Option<String>>) =
            ids.iter().map(|id| last[id].clone()).unzip();
        // The rows are locked in listing order first, so that two writers
        // with overlapping lists wait for each other instead of
        // deadlocking (an UPDATE ... FROM locks in join order); then one
        // UPDATE writes them all.
        let mut tx = self.write_tx().await.ctx("setting priorities")?;
        sqlx::query(
            "SELECT listing_id FROM findings WHERE listing_id = ANY($1) ORDER BY listing_id FOR UPDATE",
        )
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .ctx("setting priorities")?;
        sqlx::query(
            "UPDATE findings f SET priority = u.priority, priority_note = u.note \
             FROM UNNEST($1::bigint[], $2::bigint[], $3::text[]) AS u(listing_id, priority, note) \
             WHERE f.listing_id = u.listing_id",
        )
        .bind(&ids)
        .bind(&priorities)
        .bind(&notes)
        .execute(&mut *tx)
        .await
        .ctx("setting priorities")?;
        tx.commit().await.ctx("setting priorities")?;
        Ok(rows.len() as u64)
    }

    /// Brand + model searches and item IDs of a platform's active signals,
    /// for its next scan: (keywords, item IDs).
    pub async fn signal_seeds(
        &self,
        platform: &str,
        since: &str,
    ) -> Result<(Vec<String>, Vec<String>)> {
        let rows: Vec<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT DISTINCT brand, model, CASE WHEN platform = $1 THEN item_id END FROM risk_signals \
             WHERE (platform IS NULL OR platform = $1) \
             AND COALESCE(reported_on, (imported_at AT TIME ZONE 'UTC')::date) >= $2",
        )
        .bind(clean(platform))
        .bind(since_day(since)?)
        .fetch_all(&self.pool)
        .await
        .ctx("reading risk signals")?;
        let mut keywords = Vec::new();
        let mut items = Vec::new();
        for (brand, model, item) in rows {
            if let (Some(b), Some(m)) = (brand, model) {
                keywords.push(format!("{b} {m}"));
            }
            items.extend(item);
        }
        keywords.sort();
        keywords.dedup();
        items.sort();
        items.dedup();
        Ok((keywords, items))
    }
}

impl PgStore {
    /// Pending findings with a priority, highest first (at most `limit`).
    pub async fn leads(&self, platform: Option<&str>, limit: i64) -> Result<Vec<LeadRow>> {
        sqlx::query_as(
            "SELECT f.listing_id, l.platform, l.item_id, l.title, f.priority, f.priority_note AS note \
             FROM findings f JOIN listings l ON l.id = f.listing_id \
             WHERE f.priority > 0 AND f.review_state IN ('pending', 'need_info') AND ($1::text IS NULL OR l.platform = $1) \
             ORDER BY f.priority DESC, f.listing_id LIMIT $2",
        )
        .bind(clean_opt(platform))
        .bind(self::limit(limit))
        .fetch_all(&self.pool)
        .await
        .ctx("reading prioritised findings")
    }
}
