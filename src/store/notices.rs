//! Notice storage: which confirmed findings await a notice, notice batches
//! with their numbers, and the rows a batch lists.

use super::{Result, Store};
use serde::Serialize;

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

/// What a verification pass changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NoticeCheck {
    /// Listings under notice now gone (404/410/take-down page, or no longer
    /// in the results of a complete scan).
    pub removed: u64,
    /// Seen online before the deadline.
    pub still_online: u64,
    /// Still online after the deadline.
    pub overdue: u64,
    /// Back online under the same item ID after their removal was verified.
    pub reinstated: u64,
    /// New listings found to be relists of removed ones.
    pub relisted: u64,
}

/// What a verification pass looks at.
#[derive(Debug, Clone, Copy)]
pub struct VerifyScope<'a> {
    /// One platform, or all.
    pub platform: Option<&'a str>,
    /// The date deadlines are compared with.
    pub today: chrono::NaiveDate,
    /// The complete scan that triggered the pass, if any.
    pub scan_id: Option<i64>,
    /// The scan could not fetch item pages (search cards or a feed only): a
    /// listing under notice it did not see any more counts as removed.
    pub absent_means_removed: bool,
}

/// Removed listings are re-checked for this long after their removal.
pub const RECHECK_REMOVED_DAYS: i64 = 90;

/// A relist candidate: a listing under a verified removal and a newer
/// listing of the same seller or shop.
#[derive(Debug, Clone)]
pub struct RelistCandidate {
    pub notice_id: i64,
    pub old_listing: i64,
    pub old_brand: Option<String>,
    pub old_model: Option<String>,
    pub new_listing: i64,
    pub new_item_id: String,
    pub new_brand: Option<String>,
    pub new_model: Option<String>,
}

/// Queue priority of a listing found to be a relist.
pub const RELIST_PRIORITY: i64 = 100;

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

/// A platform's reply about one listing of a batch.
#[derive(Debug, Clone)]
pub struct Ack {
    pub item_id: String,
    /// What the platform said (e.g. 已下架, 已要求商家整改).
    pub text: String,
    /// When the platform acted, as it says (YYYY-MM-DD or RFC 3339); now when absent.
    pub at: Option<String>,
}

/// Why a reply could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AckRefused {
    /// The batch does not list this item.
    NotInBatch,
}

/// One listing of a batch with everything known about its notice.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeLine {
    pub notice_id: i64,
    pub listing_id: i64,
    pub item_id: String,
    pub url: Option<String>,
    pub title: String,
    pub seller: Option<String>,
    pub state: String,
    pub state_at: String,
    pub verify_note: Option<String>,
    pub evidence_page_id: Option<i64>,
    pub verified_scan_id: Option<i64>,
    pub ack_at: Option<String>,
    pub ack_text: Option<String>,
    pub ack_by: Option<String>,
    pub ack_source: Option<String>,
    /// New listings found to be relists of this one: (listing id, item id).
    pub relists: Vec<(i64, String)>,
}

/// One step in a notice's life, as shown.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NoticeStep {
    pub number: String,
    pub batch_id: i64,
    pub at: String,
    pub state: String,
    pub note: Option<String>,
    pub scan_id: Option<i64>,
    pub page_id: Option<i64>,
    pub listing_id: Option<i64>,
    pub actor: String,
}

/// A platform's record per period: listings noticed, removed, rate, days.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformPeriod {
    pub platform: String,
    /// `YYYY-MM` of issue.
    pub month: String,
    pub listings: i64,
    pub removed: i64,
    pub overdue: i64,
    pub relisted: i64,
    pub removal_rate: f64,
    pub median_days_to_removal: Option<f64>,
}

pub(crate) fn days_between(from: &str, to: &str) -> Option<f64> {
    let a = chrono::DateTime::parse_from_rfc3339(from).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(to).ok()?;
    Some(((b - a).num_seconds().max(0) as f64) / 86_400.0)
}

/// The median, `None` for no values.
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

impl Store {
    /// Confirmed findings of a platform that no notice has listed yet (for
    /// the decision they stand on).
    pub async fn notice_candidates(&self, platform: &str) -> Result<Vec<NoticeRow>> {
        dispatch!(self, |db| db.notice_candidates(platform).await)
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
        dispatch!(self, |db| {
            db.issue_notice_batch(platform, year, deadline, issued_by, number)
                .await
        })
    }

    /// Records where a batch's files were written.
    pub async fn set_notice_folder(&self, batch_id: i64, folder: &str) -> Result<()> {
        dispatch!(self, |db| db.set_notice_folder(batch_id, folder).await)
    }

    pub async fn notice_batches(&self, platform: Option<&str>) -> Result<Vec<NoticeBatch>> {
        dispatch!(self, |db| db.notice_batches(platform).await)
    }
    /// Item IDs and URLs of a platform's listings under notice (open, or
    /// removed within [`RECHECK_REMOVED_DAYS`]), for a scan to re-check.
    pub async fn listings_under_notice(
        &self,
        platform: &str,
    ) -> Result<Vec<(String, Option<String>)>> {
        dispatch!(self, |db| db.listings_under_notice(platform).await)
    }

    /// Re-checks every open notice in `scope` against what the scans saw:
    /// a listing gone is `removed_verified` (with the page or scan that shows
    /// it); one seen online is `still_online`, or `overdue` once the batch's
    /// deadline has passed; a removed one seen online again is `relisted`.
    /// Each change is recorded as a notice event. Returns what changed.
    pub async fn verify_notices(&self, scope: VerifyScope<'_>) -> Result<NoticeCheck> {
        dispatch!(self, |db| db.verify_notices(scope).await)
    }

    /// Newer online listings of the same seller or shop as a listing whose
    /// removal was verified (or that was already relisted), for the caller
    /// to compare brand and model.
    pub async fn relist_candidates(&self, platform: &str) -> Result<Vec<RelistCandidate>> {
        dispatch!(self, |db| db.relist_candidates(platform).await)
    }

    /// Records relists (notice, new listing): the notice becomes `relisted`
    /// and the new listing's finding is raised to the top of the queue.
    pub async fn record_relists(&self, found: &[(i64, i64)], scan_id: Option<i64>) -> Result<u64> {
        dispatch!(self, |db| db.record_relists(found, scan_id).await)
    }
    /// Confirmed findings awaiting a notice, per platform.
    pub async fn notice_candidate_counts(&self) -> Result<Vec<(String, i64)>> {
        dispatch!(self, |db| db.notice_candidate_counts().await)
    }

    /// Platforms that have been sent notices.
    pub async fn notice_platforms(&self) -> Result<Vec<String>> {
        dispatch!(self, |db| db.notice_platforms().await)
    }

    /// The listings of a batch with their notice state: (listing id, item id, state).
    pub async fn notice_states(&self, batch_id: i64) -> Result<Vec<(i64, String, String)>> {
        dispatch!(self, |db| db.notice_states(batch_id).await)
    }
    /// Each batch's outcome so far, newest first.
    pub async fn notice_outcomes(&self, platform: Option<&str>) -> Result<Vec<BatchOutcome>> {
        dispatch!(self, |db| db.notice_outcomes(platform).await)
    }
    pub async fn notice_batch(&self, id: i64) -> Result<Option<NoticeBatch>> {
        dispatch!(self, |db| db.notice_batch(id).await)
    }

    /// The listings of a batch with their state, reply and relists.
    pub async fn notice_lines(&self, batch_id: i64) -> Result<Vec<NoticeLine>> {
        dispatch!(self, |db| db.notice_lines(batch_id).await)
    }

    /// Every notice step of a listing (as noticed, or as a relist), oldest first.
    pub async fn notice_steps(&self, listing_id: i64) -> Result<Vec<NoticeStep>> {
        dispatch!(self, |db| db.notice_steps(listing_id).await)
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
        dispatch!(self, |db| db.record_acks(batch_id, acks, by, source).await)
    }
    /// Each platform's notices grouped by month of issue (local time is the
    /// caller's concern: months are cut at UTC+8).
    pub async fn platform_performance(&self) -> Result<Vec<PlatformPeriod>> {
        dispatch!(self, |db| db.platform_performance().await)
    }
}
