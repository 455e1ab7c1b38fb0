//! Counts read at every scrape of `/metrics`, and the readiness probe: only
//! counts, never listing text.

use super::{Result, Store};

/// Current figures for the gauges of `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GaugeCounts {
    /// Findings by verdict.
    pub findings: Vec<(String, i64)>,
    /// Flagged findings waiting for a decision (`review_state = 'pending'`).
    pub review_backlog: i64,
    /// Notices (one per listing in a batch) by state.
    pub notices: Vec<(String, i64)>,
}

impl Store {
    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, |db| db.ping().await)
    }

    /// Findings by verdict, the review backlog and notices by state.
    pub async fn gauge_counts(&self) -> Result<GaugeCounts> {
        dispatch!(self, |db| db.gauge_counts().await)
    }
}
