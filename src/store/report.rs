//! Report storage: the raw figures of the monthly statistics report and of
//! the seller risk ranking. Everything here is counted per platform (and
//! per seller) from what the other stages recorded; `crate::report` turns
//! it into the tables the bureau files. Time windows are half-open
//! `[start, end)` bounds in UTC, written as `YYYY-MM-DDTHH:MM:SS`: compared
//! as text with the stored RFC 3339 timestamps (UTC, `Z`), a timestamp at
//! `start` is in and one at `end` is out, whatever its fraction digits.

use super::{Result, Store};
use serde::Serialize;

/// A month's window in UTC and its dates (bureau local time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthWindow {
    /// First instant of the month, UTC, `YYYY-MM-DDTHH:MM:SS`.
    pub start: String,
    /// First instant of the next month, UTC, `YYYY-MM-DDTHH:MM:SS`.
    pub end: String,
    /// The first day of the next month (local), `YYYY-MM-DD`: notice
    /// deadlines before it fell within or before the month.
    pub next_first_day: String,
}

/// Listings seen in the month, grouped by their verdict at the end of the
/// month and the current finding's catalog code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct CheckedCount {
    pub platform: String,
    /// `None`: not judged by the end of the month.
    pub verdict: Option<String>,
    pub category_code: Option<String>,
    pub listings: i64,
}

/// A notice batch issued in the month with its listings' current states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct IssuedBatch {
    pub platform: String,
    pub number: String,
    pub listings: i64,
    /// Of its listings, how many are now `removed_verified`.
    pub removed_now: i64,
}

/// A removal verified in the month: when its batch was issued and when the
/// listing was seen gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedRemoval {
    pub platform: String,
    pub issued_at: String,
    pub removed_at: String,
}

/// The raw figures of one month, per platform.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MonthFigures {
    /// Scans started in the month: (platform, scans).
    pub scans: Vec<(String, i64)>,
    pub checked: Vec<CheckedCount>,
    /// Listings that became flagged in the month: (platform, listings).
    pub newly_flagged: Vec<(String, i64)>,
    /// The last decision of the month per listing: (platform, action, listings).
    pub decisions: Vec<(String, String, i64)>,
    pub batches: Vec<IssuedBatch>,
    pub removals: Vec<VerifiedRemoval>,
    /// Notices now overdue whose deadline fell before the month's end: (platform, listings).
    pub overdue: Vec<(String, i64)>,
    /// Notices whose listing was seen online again in the month: (platform, listings).
    pub relisted: Vec<(String, i64)>,
}

/// One seller's record, counted in listings (a listing counts once per column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct SellerCounts {
    pub platform: String,
    /// `None` when the listings name no seller.
    pub seller: Option<String>,
    /// Listings whose current finding is confirmed.
    pub confirmed: i64,
    /// Listings with a notice now overdue (still online after the deadline).
    pub overdue: i64,
    /// Listings with a notice whose listing came back online after removal.
    pub relisted: i64,
    /// Listings with a notice not (or no longer) verified as removed.
    pub under_notice: i64,
}

impl Store {
    /// The raw figures of the month `w` (see [`MonthFigures`]).
    pub async fn month_figures(&self, w: &MonthWindow) -> Result<MonthFigures> {
        dispatch!(self, |db| db.month_figures(w).await)
    }

    /// Every seller (of `platform`, or all) with a confirmed finding or a notice.
    pub async fn seller_counts(&self, platform: Option<&str>) -> Result<Vec<SellerCounts>> {
        dispatch!(self, |db| db.seller_counts(platform).await)
    }
}
