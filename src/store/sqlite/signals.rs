//! SQLite statements for `store::signals`: what the front in `../signals.rs` dispatches to.

use super::SqliteStore;
use super::review::append_audit;
use crate::store::signals::*;
use crate::store::{Ctx, Result};

impl SqliteStore {
    /// Stores signals; a row of a file already imported is left alone.
    /// Returns (added, already there).
    pub async fn insert_signals(&self, signals: &[NewSignal], by: &str) -> Result<(u64, u64)> {
        let now = self.now_rfc3339();
        let mut tx = self.write_tx().await.ctx("importing risk signals")?;
        let mut added = 0;
        for s in signals {
            added += sqlx::query(
                "INSERT OR IGNORE INTO risk_signals (kind, source_file, row_no, platform, item_id, seller, brand, model, \
                 brand_key, model_key, reported_on, detail, weight, imported_at, imported_by) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&s.kind)
            .bind(&s.source_file)
            .bind(s.row_no)
            .bind(&s.platform)
            .bind(&s.item_id)
            .bind(&s.seller)
            .bind(&s.brand)
            .bind(&s.model)
            .bind(&s.brand_key)
            .bind(&s.model_key)
            .bind(&s.reported_on)
            .bind(&s.detail)
            .bind(s.weight)
            .bind(&now)
            .bind(&s.imported_by)
            .execute(&mut *tx)
            .await
            .ctx("importing risk signals")?
            .rows_affected();
        }
        if added > 0 {
            append_audit(
            self.now(),
                &mut tx,
                by,
                "signals.import",
                signals.first().map(|s| format!("file:{}", s.source_file)).as_deref(),
                &serde_json::json!({"kind": signals.first().map(|s| s.kind.clone()), "rows": added}),
            )
            .await?;
        }
        tx.commit().await.ctx("importing risk signals")?;
        Ok((added, signals.len() as u64 - added))
    }

    /// Signals reported (or, without a date, imported) after `since`.
    pub async fn active_signals(&self, since: &str) -> Result<Vec<ActiveSignal>> {
        sqlx::query_as(
            "SELECT id, kind, platform, item_id, seller, brand, model, brand_key, model_key, reported_on, detail, \
             weight, imported_at, source_file FROM risk_signals \
             WHERE COALESCE(reported_on, imported_at) >= substr(?, 1, 10) ORDER BY id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .ctx("reading risk signals")
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
             WHERE f.listing_id > ?1 AND (?2 IS NULL OR l.platform = ?2) ORDER BY f.listing_id LIMIT ?3",
        )
        .bind(after)
        .bind(platform)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("reading findings for priority")
    }

    /// Sets (listing, priority, note); returns how many rows were written.
    pub async fn set_priorities(&self, rows: &[(i64, i64, Option<String>)]) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write_tx().await.ctx("setting priorities")?;
        for (id, p, note) in rows {
            sqlx::query("UPDATE findings SET priority = ?, priority_note = ? WHERE listing_id = ?")
                .bind(p)
                .bind(note)
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx("setting priorities")?;
        }
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
            "SELECT DISTINCT brand, model, CASE WHEN platform = ?1 THEN item_id END FROM risk_signals \
             WHERE (platform IS NULL OR platform = ?1) AND COALESCE(reported_on, imported_at) >= substr(?2, 1, 10)",
        )
        .bind(platform)
        .bind(since)
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

impl SqliteStore {
    /// Pending findings with a priority, highest first (at most `limit`).
    pub async fn leads(&self, platform: Option<&str>, limit: i64) -> Result<Vec<LeadRow>> {
        sqlx::query_as(
            "SELECT f.listing_id, l.platform, l.item_id, l.title, f.priority, f.priority_note AS note \
             FROM findings f JOIN listings l ON l.id = f.listing_id \
             WHERE f.priority > 0 AND f.review_state IN ('pending', 'need_info') AND (?1 IS NULL OR l.platform = ?1) \
             ORDER BY f.priority DESC, f.listing_id LIMIT ?2",
        )
        .bind(platform)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("reading prioritised findings")
    }
}
