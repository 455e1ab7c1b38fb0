//! Findings: one current finding per listing, a history of verdict changes,
//! match runs, and the rows of `findings export`.

use super::{Db, Result, Store};
use crate::domain::{Finding, Verdict};

/// A finding for the listing with row id `listing_id`.
#[derive(Debug, Clone)]
pub struct FindingWrite {
    pub listing_id: i64,
    pub finding: Finding,
}

/// One line of `findings export`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportRow {
    #[serde(skip)]
    pub listing_id: i64,
    pub platform: String,
    pub item_id: String,
    pub url: Option<String>,
    pub title: String,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub cert_numbers: Vec<String>,
    pub category_code: Option<String>,
    pub verdict: Verdict,
    pub confidence: f64,
    pub matched_cert: Option<String>,
    pub reasons: Vec<String>,
    pub seller: Option<String>,
    pub shop_url: Option<String>,
    /// When the page kept as evidence was fetched (RFC 3339, UTC); `None`
    /// for listings from a data feed.
    pub captured_at: Option<String>,
    /// SHA-256 of that page as fetched.
    pub evidence_sha256: Option<String>,
}

/// A running match run without a heartbeat for this long belongs to a
/// process that died (batches commit every few seconds).
pub const MATCH_RUN_STALE: chrono::Duration = chrono::Duration::minutes(10);

impl Store {
    /// The fingerprint of the catalog the stored findings were judged with.
    pub async fn catalog_fingerprint(&self) -> Result<Option<String>> {
        dispatch!(self, |db| db.catalog_fingerprint().await)
    }

    /// How many findings are stored.
    pub async fn count_findings(&self) -> Result<i64> {
        dispatch!(self, |db| db.count_findings().await)
    }

    /// Records that every listing has been judged with the catalog `fingerprint`.
    pub async fn set_catalog_fingerprint(&self, fingerprint: &str) -> Result<()> {
        dispatch!(self, |db| db.set_catalog_fingerprint(fingerprint).await)
    }

    /// The last certificate change whose listings were re-judged (`None`
    /// before the first record).
    pub async fn certs_judged_through(&self) -> Result<Option<i64>> {
        dispatch!(self, |db| db.certs_judged_through().await)
    }

    /// Records that every certificate change up to `mark` has been judged.
    pub async fn set_certs_judged_through(&self, mark: i64) -> Result<()> {
        dispatch!(self, |db| db.set_certs_judged_through(mark).await)
    }

    /// Closes match runs whose process died: running, with no heartbeat
    /// for [`MATCH_RUN_STALE`]. Returns how many were closed.
    pub async fn close_stale_match_runs(&self) -> Result<u64> {
        dispatch!(self, |db| db.close_stale_match_runs().await)
    }

    /// Match runs, newest first: (id, state, started_at, finished_at).
    pub async fn match_runs(
        &self,
        limit: i64,
    ) -> Result<Vec<(i64, String, String, Option<String>)>> {
        dispatch!(self, |db| db.match_runs(limit).await)
    }

    pub async fn begin_match_run(
        &self,
        as_of: chrono::NaiveDate,
        platform: Option<&str>,
    ) -> Result<MatchRunWriter> {
        match &self.db {
            Db::Sqlite(db) => db
                .begin_match_run(as_of, platform)
                .await
                .map(|w| MatchRunWriter(RunInner::Sqlite(w))),
            Db::Postgres(db) => db
                .begin_match_run(as_of, platform)
                .await
                .map(|w| MatchRunWriter(RunInner::Postgres(w))),
        }
    }

    /// A page of export rows after `after_id` (listing id order).
    pub async fn export_page(
        &self,
        platform: Option<&str>,
        flagged_only: bool,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<ExportRow>> {
        dispatch!(self, |db| {
            db.export_page(platform, flagged_only, after_id, limit)
                .await
        })
    }

    /// Current count of findings per verdict.
    pub async fn verdict_counts(&self, platform: Option<&str>) -> Result<Vec<(Verdict, i64)>> {
        dispatch!(self, |db| db.verdict_counts(platform).await)
    }
}

/// Writes the findings of one match run.
pub struct MatchRunWriter(RunInner);

enum RunInner {
    Sqlite(super::sqlite::MatchRunWriter),
    Postgres(super::postgres::MatchRunWriter),
}

impl MatchRunWriter {
    pub fn run_id(&self) -> i64 {
        match &self.0 {
            RunInner::Sqlite(w) => w.run_id(),
            RunInner::Postgres(w) => w.run_id(),
        }
    }

    /// Writes a batch of findings and their history.
    pub async fn write(&self, batch: &[FindingWrite]) -> Result<()> {
        match &self.0 {
            RunInner::Sqlite(w) => w.write(batch).await,
            RunInner::Postgres(w) => w.write(batch).await,
        }
    }

    /// Closes the run with its totals.
    pub async fn finish(self, listings: u64, by_verdict: &[(Verdict, u64)]) -> Result<()> {
        match self.0 {
            RunInner::Sqlite(w) => w.finish(listings, by_verdict).await,
            RunInner::Postgres(w) => w.finish(listings, by_verdict).await,
        }
    }
}
