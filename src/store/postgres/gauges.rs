//! PostgreSQL statements for `store::gauges`: what the front in `../gauges.rs` dispatches to.

use super::PgStore;
use crate::store::gauges::*;
use crate::store::{Ctx, Result};

impl PgStore {
    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .ctx("answering a readiness probe")?;
        Ok(())
    }

    /// Findings by verdict, the review backlog and notices by state.
    pub async fn gauge_counts(&self) -> Result<GaugeCounts> {
        let findings = sqlx::query_as(
            "SELECT verdict, COUNT(*) FROM findings GROUP BY verdict ORDER BY verdict",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("counting findings by verdict")?;
        let review_backlog =
            sqlx::query_scalar("SELECT COUNT(*) FROM findings WHERE review_state = 'pending'")
                .fetch_one(&self.pool)
                .await
                .ctx("counting the review backlog")?;
        let notices =
            sqlx::query_as("SELECT state, COUNT(*) FROM notices GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await
                .ctx("counting notices by state")?;
        Ok(GaugeCounts {
            findings,
            review_backlog,
            notices,
        })
    }
}
