//! Feed storage (act stage, risk feed to platforms): per-platform feed
//! tokens (only their SHA-256 is kept), the deliveries that make the cursor
//! "since the last feed", and the three lists of a platform's feed for a
//! window `[since, until)`: certificates that stopped being valid, findings
//! confirmed, and repeat sellers.

use super::{Result, Store, StoreError};
use crate::domain::{CertStatus, Verdict};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// A feed token as stored (never the token itself).
#[derive(Debug, Clone, Serialize)]
pub struct FeedToken {
    pub id: i64,
    pub platform: String,
    pub name: String,
    pub created_at: String,
    pub created_by: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// Who received a delivery: the cursor of each is separate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedChannel {
    /// A platform's token over HTTP.
    Token,
    /// A staff account reading over HTTP (moves no cursor of a platform).
    Staff,
    /// A file written by `cccwatch feed write`.
    File,
}

impl FeedChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedChannel::Token => "token",
            FeedChannel::Staff => "staff",
            FeedChannel::File => "file",
        }
    }
}

/// A delivery to record.
#[derive(Debug, Clone)]
pub struct FeedDelivery<'a> {
    pub token_id: Option<i64>,
    pub platform: &'a str,
    pub channel: FeedChannel,
    pub requested_by: &'a str,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub counts: serde_json::Value,
}

/// Why a certificate is in the feed.
#[derive(Debug, Clone, Serialize)]
pub struct CertEvent {
    /// suspended | revoked | cancelled | expired
    pub kind: String,
    /// The same in Chinese.
    pub kind_label: String,
    /// When it happened: the import that recorded the change, or the first
    /// day after the expiry date (00:00 UTC).
    pub at: String,
    /// The status (or expiry date) before the change, when recorded.
    pub from: Option<String>,
}

/// A listing on the platform that cites or was matched to a certificate.
#[derive(Debug, Clone, Serialize)]
pub struct CitingListing {
    pub item_id: String,
    pub url: Option<String>,
    pub title: String,
    pub seller: Option<String>,
    /// online | gone
    pub state: String,
    pub verdict: String,
    pub verdict_label: String,
    /// The listing names the number itself (not only matched to it).
    pub cites: bool,
}

/// A certificate that became suspended, revoked, cancelled or expired.
#[derive(Debug, Clone, Serialize)]
pub struct FeedCertificate {
    pub cert_no: String,
    pub status: String,
    pub status_label: String,
    pub product_name: String,
    pub applicant: String,
    pub manufacturer: String,
    pub expires_on: String,
    pub status_changed_on: Option<String>,
    pub status_reason: Option<String>,
    pub events: Vec<CertEvent>,
    pub listings: Vec<CitingListing>,
}

/// A finding of the platform confirmed by a reviewer.
#[derive(Debug, Clone, Serialize)]
pub struct ConfirmedFinding {
    pub item_id: String,
    pub url: Option<String>,
    pub title: String,
    pub seller: Option<String>,
    pub shop_url: Option<String>,
    pub state: String,
    pub verdict: String,
    pub verdict_label: String,
    pub reasons: Vec<String>,
    /// The certificate judged: the matched one, else the first cited.
    pub certificate: Option<String>,
    pub cert_numbers: Vec<String>,
    pub decided_at: String,
    /// take_down | rectify
    pub measure: Option<String>,
    /// 下架 ... in Chinese.
    pub measure_label: Option<String>,
}

/// A seller with two or more confirmed findings, or a notice overdue or relisted.
#[derive(Debug, Clone, Serialize)]
pub struct RepeatSeller {
    pub seller: String,
    pub shop_url: Option<String>,
    pub confirmed: i64,
    pub overdue: i64,
    pub relisted: i64,
}

/// Whether each list was cut at the cap.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct FeedTruncated {
    pub certificates: bool,
    pub confirmed_findings: bool,
    pub repeat_sellers: bool,
}

/// The three lists of a platform's feed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FeedLists {
    pub certificates: Vec<FeedCertificate>,
    pub confirmed_findings: Vec<ConfirmedFinding>,
    pub repeat_sellers: Vec<RepeatSeller>,
    pub truncated: FeedTruncated,
}

/// 暂停, 撤销, ... for a status code (the code itself when unknown).
pub(crate) fn status_label(s: &str) -> String {
    CertStatus::from_db(s).map_or_else(|| s.to_string(), |s| s.label_zh().to_string())
}

pub(crate) fn verdict_label(v: &str) -> String {
    Verdict::parse(v).map_or_else(|| v.to_string(), |v| v.label_zh().to_string())
}

/// Timestamps as stored: RFC 3339, UTC, milliseconds, `Z`; they compare as text.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The expiry dates whose first expired day starts (00:00 UTC) inside
/// `[since, until)`, as an inclusive range; `None` when there are none.
pub fn expiry_dates(since: DateTime<Utc>, until: DateTime<Utc>) -> Option<(NaiveDate, NaiveDate)> {
    let ceil_day = |t: DateTime<Utc>| {
        let d = t.date_naive();
        if t == d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() {
            d
        } else {
            d + chrono::Duration::days(1)
        }
    };
    let lo = ceil_day(since) - chrono::Duration::days(1);
    let hi = ceil_day(until) - chrono::Duration::days(2);
    (lo <= hi).then_some((lo, hi))
}

pub(crate) fn json_list(text: &str, what: &'static str, item: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what,
        detail: format!("listing {item}: {e}"),
    })
}

impl Store {
    /// Stores a new feed token of `platform` (only its hash), with its audit entry.
    pub async fn add_feed_token(
        &self,
        platform: &str,
        name: &str,
        token_hash: &str,
        actor: &str,
    ) -> Result<i64> {
        dispatch!(self, |db| db
            .add_feed_token(platform, name, token_hash, actor)
            .await)
    }

    /// Feed tokens (of `platform`, or all), oldest first.
    pub async fn feed_tokens(&self, platform: Option<&str>) -> Result<Vec<FeedToken>> {
        dispatch!(self, |db| db.feed_tokens(platform).await)
    }

    /// The token with this hash, revoked or not.
    pub async fn feed_token_by_hash(&self, token_hash: &str) -> Result<Option<FeedToken>> {
        dispatch!(self, |db| db.feed_token_by_hash(token_hash).await)
    }

    /// Revokes a token (with its audit entry). Returns the token as it is
    /// now; revoking a revoked token changes nothing.
    pub async fn revoke_feed_token(&self, id: i64, actor: &str) -> Result<FeedToken> {
        dispatch!(self, |db| db.revoke_feed_token(id, actor).await)
    }

    /// Where the last delivery of this kind ended (its `until`), if any.
    pub async fn feed_cursor(
        &self,
        platform: &str,
        channel: FeedChannel,
        token_id: Option<i64>,
    ) -> Result<Option<String>> {
        dispatch!(self, |db| db.feed_cursor(platform, channel, token_id).await)
    }

    /// Records a delivery, and the token's last use, in one transaction.
    pub async fn record_feed_delivery(&self, d: &FeedDelivery<'_>) -> Result<i64> {
        dispatch!(self, |db| db.record_feed_delivery(d).await)
    }

    /// The three lists of `platform`'s feed for `[since, until)`, each cut
    /// at `cap` entries.
    pub async fn feed_lists(
        &self,
        platform: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        cap: usize,
    ) -> Result<FeedLists> {
        dispatch!(self, |db| db.feed_lists(platform, since, until, cap).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn an_expiry_date_counts_on_the_first_day_after_it() {
        // Valid through 10-31: expired from 11-01 00:00, inside a window starting then.
        assert_eq!(
            expiry_dates(t("2026-11-01T00:00:00Z"), t("2026-11-29T04:23:00Z")),
            Some((d("2026-10-31"), d("2026-11-28")))
        );
        // A window starting later that day has missed 10-31's expiry.
        assert_eq!(
            expiry_dates(t("2026-11-01T05:00:00Z"), t("2026-11-29T00:00:00Z")),
            Some((d("2026-11-01"), d("2026-11-27")))
        );
        // Within one day: nothing expires.
        assert_eq!(
            expiry_dates(t("2026-11-29T01:00:00Z"), t("2026-11-29T04:00:00Z")),
            None
        );
    }

    #[test]
    fn stamps_compare_as_text() {
        assert_eq!(
            stamp(t("2026-11-29T12:00:00+08:00")),
            "2026-11-29T04:00:00.000Z"
        );
    }
}

/// A listing matched to (`cites` false) or citing (`cites` true) one of the
/// feed's certificates, as both backends read it.
#[derive(sqlx::FromRow)]
pub(crate) struct CitingRow {
    cert_no: String,
    listing_id: i64,
    item_id: String,
    url: Option<String>,
    title: String,
    seller: Option<String>,
    state: String,
    verdict: String,
    cites: bool,
}

/// The listings of each certificate, from rows ordered by certificate and
/// listing: a listing both matched and citing is one entry.
pub(crate) fn group_citing(rows: Vec<CitingRow>) -> HashMap<String, Vec<CitingListing>> {
    let mut out: HashMap<String, Vec<CitingListing>> = HashMap::new();
    let mut last: Option<(String, i64)> = None;
    for r in rows {
        let key = (r.cert_no, r.listing_id);
        let list = out.entry(key.0.clone()).or_default();
        // Matched and cited: one entry (rows of a listing are adjacent).
        if last.as_ref() == Some(&key) {
            if let Some(prev) = list.last_mut() {
                prev.cites |= r.cites;
            }
            continue;
        }
        list.push(CitingListing {
            item_id: r.item_id,
            url: r.url,
            title: r.title,
            seller: r.seller,
            state: r.state,
            verdict_label: verdict_label(&r.verdict),
            verdict: r.verdict,
            cites: r.cites,
        });
        last = Some(key);
    }
    out
}

/// A repeat seller's counts, as both backends read them.
#[derive(sqlx::FromRow)]
pub(crate) struct SellerRow {
    seller: String,
    shop_url: Option<String>,
    confirmed: i64,
    overdue: i64,
    relisted: i64,
}

/// The first `cap` sellers of rows read with `LIMIT cap + 1`, and whether
/// there were more.
pub(crate) fn repeat_sellers_of(rows: Vec<SellerRow>, cap: usize) -> (Vec<RepeatSeller>, bool) {
    let truncated = rows.len() > cap;
    let out = rows
        .into_iter()
        .take(cap)
        .map(|r| RepeatSeller {
            seller: r.seller,
            shop_url: r.shop_url,
            confirmed: r.confirmed,
            overdue: r.overdue,
            relisted: r.relisted,
        })
        .collect();
    (out, truncated)
}
