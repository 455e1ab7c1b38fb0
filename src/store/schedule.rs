//! Storage for the operate stage: platform scan locks that hold across
//! processes, which cron times each scheduled job has handled, and the
//! record of every job run.

use super::{Result, Store};
use crate::domain::RunState;
use serde::Serialize;

/// Who holds a platform's scan lock (a row of `scan_locks`).
#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct LockHolder {
    pub platform: String,
    pub owner: String,
    pub purpose: String,
    pub scan_id: Option<i64>,
    pub acquired_ms: i64,
    pub heartbeat_ms: i64,
}

/// One run of a scheduled job (or of "run now").
#[derive(Debug, Clone, Serialize)]
pub struct JobRun {
    pub id: i64,
    pub job: String,
    /// `schedule`, `catch_up` or `manual`.
    pub trigger: String,
    pub planned_at: Option<String>,
    pub requested_by: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// Any of the six, `skipped` included.
    pub state: RunState,
    pub scan_ids: Vec<i64>,
    pub message: Option<String>,
    pub heartbeat_ms: i64,
}

/// How a run starts.
#[derive(Debug, Clone)]
pub struct NewJobRun<'a> {
    pub job: &'a str,
    pub trigger: &'a str,
    pub planned_at: Option<String>,
    pub requested_by: Option<&'a str>,
    /// `running`, or `skipped` for a run recorded as not started (it is
    /// then finished at once).
    pub state: RunState,
    pub message: Option<&'a str>,
    pub now_ms: i64,
}

impl Store {
    /// Takes `platform`'s scan lock for `owner`, or says who holds it. A
    /// lock whose heartbeat is older than `stale_before_ms` is taken over.
    pub async fn try_lock_platform(
        &self,
        platform: &str,
        owner: &str,
        purpose: &str,
        now_ms: i64,
        stale_before_ms: i64,
    ) -> Result<std::result::Result<(), LockHolder>> {
        dispatch!(self, |db| {
            db.try_lock_platform(platform, owner, purpose, now_ms, stale_before_ms)
                .await
        })
    }

    /// Takes over a lock from `dead_owner` (a process known to have
    /// exited); false when someone else has taken it meanwhile.
    pub async fn take_over_platform_lock(
        &self,
        platform: &str,
        dead_owner: &str,
        owner: &str,
        purpose: &str,
        now_ms: i64,
    ) -> Result<bool> {
        dispatch!(self, |db| {
            db.take_over_platform_lock(platform, dead_owner, owner, purpose, now_ms)
                .await
        })
    }

    /// Renews a lock this owner holds; false when it no longer holds it.
    pub async fn renew_platform_lock(
        &self,
        platform: &str,
        owner: &str,
        scan_id: Option<i64>,
        now_ms: i64,
    ) -> Result<bool> {
        dispatch!(self, |db| {
            db.renew_platform_lock(platform, owner, scan_id, now_ms)
                .await
        })
    }

    /// Releases a lock this owner holds (nothing if it lost it).
    pub async fn unlock_platform(&self, platform: &str, owner: &str) -> Result<()> {
        dispatch!(self, |db| db.unlock_platform(platform, owner).await)
    }

    /// Every lock held now (stale ones included), by platform.
    pub async fn platform_locks(&self) -> Result<Vec<LockHolder>> {
        dispatch!(self, |db| db.platform_locks().await)
    }

    /// The last cron time `job` handled (RFC 3339), if it has run before.
    pub async fn job_last_planned(&self, job: &str) -> Result<Option<String>> {
        dispatch!(self, |db| db.job_last_planned(job).await)
    }

    pub async fn set_job_last_planned(&self, job: &str, at: &str) -> Result<()> {
        dispatch!(self, |db| db.set_job_last_planned(job, at).await)
    }

    /// Records the start of a run (or a skipped one, with its reason).
    pub async fn start_job_run(&self, run: &NewJobRun<'_>) -> Result<i64> {
        dispatch!(self, |db| db.start_job_run(run).await)
    }

    /// Notes the scans a run works on and that it is alive.
    pub async fn touch_job_run(&self, id: i64, scan_ids: &[i64], now_ms: i64) -> Result<()> {
        dispatch!(self, |db| db.touch_job_run(id, scan_ids, now_ms).await)
    }

    pub async fn finish_job_run(
        &self,
        id: i64,
        state: RunState,
        scan_ids: &[i64],
        message: Option<&str>,
    ) -> Result<()> {
        dispatch!(self, |db| db
            .finish_job_run(id, state, scan_ids, message)
            .await)
    }

    /// Runs still marked running whose heartbeat stopped before
    /// `stale_before_ms` (their process died): marked interrupted.
    pub async fn close_abandoned_job_runs(&self, stale_before_ms: i64) -> Result<u64> {
        dispatch!(self, |db| db
            .close_abandoned_job_runs(stale_before_ms)
            .await)
    }

    /// The latest runs, of one job or all, newest first.
    pub async fn job_runs(&self, job: Option<&str>, limit: i64) -> Result<Vec<JobRun>> {
        dispatch!(self, |db| db.job_runs(job, limit).await)
    }

    /// One run by its number.
    pub async fn job_run(&self, id: i64) -> Result<Option<JobRun>> {
        dispatch!(self, |db| db.job_run(id).await)
    }
}
