//! Inbound risk signals (sampling results, complaints) and the review
//! priority they give findings.

use super::{Result, Store};
use serde::Serialize;

/// A signal read from a file, before it is stored.
#[derive(Debug, Clone, Serialize)]
pub struct NewSignal {
    pub kind: String,
    pub source_file: String,
    pub row_no: i64,
    pub platform: Option<String>,
    pub item_id: Option<String>,
    pub seller: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub brand_key: Option<String>,
    pub model_key: Option<String>,
    pub reported_on: Option<String>,
    pub detail: String,
    pub weight: i64,
    pub imported_by: String,
}

/// A stored signal that still counts.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ActiveSignal {
    pub id: i64,
    pub kind: String,
    pub platform: Option<String>,
    pub item_id: Option<String>,
    pub seller: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub brand_key: Option<String>,
    pub model_key: Option<String>,
    pub reported_on: Option<String>,
    pub detail: Option<String>,
    pub weight: i64,
    pub imported_at: String,
    pub source_file: String,
}

impl ActiveSignal {
    /// One line for the queue: kind, date and what it says.
    pub fn note(&self) -> String {
        let kind = match self.kind.as_str() {
            "sampling" => "平台抽检不合格",
            "complaint" => "消费者投诉",
            k => k,
        };
        let date = self
            .reported_on
            .as_deref()
            .unwrap_or(&self.imported_at[..10.min(self.imported_at.len())]);
        let detail: String = self
            .detail
            .as_deref()
            .unwrap_or("")
            .chars()
            .take(40)
            .collect();
        if detail.is_empty() {
            format!("{kind}（{date}）")
        } else {
            format!("{kind}（{date}）：{detail}")
        }
    }
}

/// A finding as the priority computation sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PriorityRow {
    pub listing_id: i64,
    pub platform: String,
    pub item_id: String,
    pub seller: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub priority: i64,
    pub note: Option<String>,
    /// Set when the listing is a relist of a removed one.
    pub relist_note: Option<String>,
}

/// A pending finding raised by a relist or a signal.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LeadRow {
    pub listing_id: i64,
    pub platform: String,
    pub item_id: String,
    pub title: String,
    pub priority: i64,
    pub note: Option<String>,
}

impl Store {
    /// Stores signals; a row of a file already imported is left alone.
    /// Returns (added, already there).
    pub async fn insert_signals(&self, signals: &[NewSignal], by: &str) -> Result<(u64, u64)> {
        dispatch!(self, |db| db.insert_signals(signals, by).await)
    }

    /// Signals reported (or, without a date, imported) after `since`.
    pub async fn active_signals(&self, since: &str) -> Result<Vec<ActiveSignal>> {
        dispatch!(self, |db| db.active_signals(since).await)
    }

    /// Findings after `after` (by listing), with what priority needs.
    pub async fn priority_page(
        &self,
        platform: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<PriorityRow>> {
        dispatch!(self, |db| db.priority_page(platform, after, limit).await)
    }

    /// Sets (listing, priority, note); returns how many rows were written.
    pub async fn set_priorities(&self, rows: &[(i64, i64, Option<String>)]) -> Result<u64> {
        dispatch!(self, |db| db.set_priorities(rows).await)
    }

    /// Brand + model searches and item IDs of a platform's active signals,
    /// for its next scan: (keywords, item IDs).
    pub async fn signal_seeds(
        &self,
        platform: &str,
        since: &str,
    ) -> Result<(Vec<String>, Vec<String>)> {
        dispatch!(self, |db| db.signal_seeds(platform, since).await)
    }
    /// Pending findings with a priority, highest first (at most `limit`).
    pub async fn leads(&self, platform: Option<&str>, limit: i64) -> Result<Vec<LeadRow>> {
        dispatch!(self, |db| db.leads(platform, limit).await)
    }
}
