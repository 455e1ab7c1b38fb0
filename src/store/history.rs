//! Storage for scan history: the listings each completed scan left behind
//! (`scan_listings`), and the lists that compare two scans of a platform.
//! The comparison itself (what the lists mean, verdict deltas) is in
//! [`crate::history`].

use super::{Result, ScanRecord, Store};
use crate::domain::Verdict;

/// Entries per list of a comparison at most; more are counted, not listed.
pub const DIFF_LIST_CAP: usize = 5000;

/// A listing in a comparison of two scans.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DiffListing {
    pub listing_id: i64,
    pub item_id: String,
    pub title: String,
    pub seller: Option<String>,
    pub url: Option<String>,
    /// Its verdict in the earlier scan (`None`: not recorded, i.e. online
    /// and not flagged, or not judged yet).
    pub verdict_before: Option<String>,
    /// Its verdict by the later scan (`None`: not judged).
    pub verdict_after: Option<String>,
    /// `online` or `gone` by the later scan.
    pub state_after: String,
    pub gone_at: Option<String>,
    pub first_seen_at: String,
    /// First seen after the earlier scan ended (set by [`crate::history::diff`]).
    pub new_listing: bool,
}

/// A certificate whose status or expiry changed between two scans, with
/// the platform's listings that cite it or are matched to it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CertChange {
    pub cert_no: String,
    /// `status` or `expires_on`.
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub changed_at: String,
    /// Listings of the platform citing or matched to it now.
    pub listings: i64,
    /// Up to ten of them: (listing id, item id).
    pub examples: Vec<(i64, String)>,
}

/// What one list of a comparison holds, and whether it was cut at
/// [`DIFF_LIST_CAP`] (`total` counts all of them).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DiffList<T> {
    pub total: i64,
    pub truncated: bool,
    pub entries: Vec<T>,
}

/// The lists comparing scan `a` with a later scan `b` of the same platform.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DiffLists {
    pub new_flagged: DiffList<DiffListing>,
    pub resolved: DiffList<DiffListing>,
    pub gone: DiffList<DiffListing>,
    pub certificates: DiffList<CertChange>,
    /// Listings flagged and online at the end of each scan, by verdict.
    pub flagged_before: Vec<(String, i64)>,
    pub flagged_after: Vec<(String, i64)>,
}

/// The two ends of a comparison, as the queries need them.
#[derive(Debug, Clone, Copy)]
pub struct DiffScope<'a> {
    pub platform: &'a str,
    pub a: i64,
    pub b: i64,
    /// When each scan ended (RFC 3339): certificate changes in `(a_end, b_end]` count.
    pub a_end: &'a str,
    pub b_end: &'a str,
}

/// The flagged verdicts, as a JSON array to bind.
pub(crate) fn flagged_json() -> String {
    let v: Vec<&str> = Verdict::ALL
        .into_iter()
        .filter(|v| v.is_flagged())
        .map(Verdict::as_str)
        .collect();
    serde_json::to_string(&v).unwrap_or_else(|_| "[]".into())
}

impl Store {
    /// Records the listings of a completed scan's platform as the scan left
    /// them: those it saw, those flagged and online, and those that went gone
    /// since it started. Run once the scan's listings are matched and its
    /// notices verified (which may mark listings gone); running it again
    /// replaces the record.
    pub async fn record_scan_listings(&self, scan_id: i64) -> Result<u64> {
        dispatch!(self, |db| db.record_scan_listings(scan_id).await)
    }

    /// Scans, newest first: of one platform or all, up to `limit`.
    pub async fn scans(&self, platform: Option<&str>, limit: i64) -> Result<Vec<ScanRecord>> {
        dispatch!(self, |db| db.scans(platform, limit).await)
    }

    /// Platforms that have scans, by name.
    pub async fn scan_platforms(&self) -> Result<Vec<String>> {
        dispatch!(self, |db| db.scan_platforms().await)
    }

    /// The latest completed scan of the same platform before `scan_id`
    /// whose listings were recorded.
    pub async fn previous_recorded_scan(&self, scan_id: i64) -> Result<Option<ScanRecord>> {
        dispatch!(self, |db| db.previous_recorded_scan(scan_id).await)
    }

    /// The lists comparing scan `a` with the later scan `b` (both recorded).
    pub async fn scan_diff_lists(&self, scope: DiffScope<'_>) -> Result<DiffLists> {
        dispatch!(self, |db| db.scan_diff_lists(scope).await)
    }
}
