//! SQLite statements for `store::schedule`: what the front in `../schedule.rs` dispatches to.

use super::SqliteStore;
use crate::domain::RunState;
use crate::store::schedule::*;
use crate::store::{Ctx, Result};

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    job: String,
    trigger: String,
    planned_at: Option<String>,
    requested_by: Option<String>,
    started_at: String,
    finished_at: Option<String>,
    state: RunState,
    scan_ids: String,
    message: Option<String>,
    heartbeat_ms: i64,
}

impl From<RunRow> for JobRun {
    fn from(r: RunRow) -> JobRun {
        JobRun {
            id: r.id,
            job: r.job,
            trigger: r.trigger,
            planned_at: r.planned_at,
            requested_by: r.requested_by,
            started_at: r.started_at,
            finished_at: r.finished_at,
            state: r.state,
            scan_ids: serde_json::from_str(&r.scan_ids).unwrap_or_default(),
            message: r.message,
            heartbeat_ms: r.heartbeat_ms,
        }
    }
}

macro_rules! run_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, job, trigger, planned_at, requested_by, started_at, finished_at, \
             state, scan_ids, message, heartbeat_ms FROM job_runs ",
            $rest
        )
    };
}

impl SqliteStore {
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
        let mut tx = self.write_tx().await.ctx("taking a scan lock")?;
        let taken = sqlx::query(
            "INSERT INTO scan_locks (platform, owner, purpose, scan_id, acquired_ms, heartbeat_ms) \
             VALUES (?, ?, ?, NULL, ?, ?) \
             ON CONFLICT (platform) DO UPDATE SET owner = excluded.owner, purpose = excluded.purpose, \
               scan_id = NULL, acquired_ms = excluded.acquired_ms, heartbeat_ms = excluded.heartbeat_ms \
             WHERE scan_locks.heartbeat_ms < ? OR scan_locks.owner = excluded.owner",
        )
        .bind(platform)
        .bind(owner)
        .bind(purpose)
        .bind(now_ms)
        .bind(now_ms)
        .bind(stale_before_ms)
        .execute(&mut *tx)
        .await
        .ctx("taking a scan lock")?
        .rows_affected();
        let result = if taken == 1 {
            Ok(())
        } else {
            let row: LockHolder = sqlx::query_as(
                "SELECT platform, owner, purpose, scan_id, acquired_ms, heartbeat_ms \
                 FROM scan_locks WHERE platform = ?",
            )
            .bind(platform)
            .fetch_one(&mut *tx)
            .await
            .ctx("reading a scan lock")?;
            Err(row)
        };
        tx.commit().await.ctx("committing a scan lock")?;
        Ok(result)
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
        let n = sqlx::query(
            "UPDATE scan_locks SET owner = ?, purpose = ?, scan_id = NULL, acquired_ms = ?, \
               heartbeat_ms = ? WHERE platform = ? AND owner = ?",
        )
        .bind(owner)
        .bind(purpose)
        .bind(now_ms)
        .bind(now_ms)
        .bind(platform)
        .bind(dead_owner)
        .execute(&self.pool)
        .await
        .ctx("taking over a scan lock")?
        .rows_affected();
        Ok(n == 1)
    }

    /// Renews a lock this owner holds; false when it no longer holds it.
    pub async fn renew_platform_lock(
        &self,
        platform: &str,
        owner: &str,
        scan_id: Option<i64>,
        now_ms: i64,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE scan_locks SET heartbeat_ms = ?, scan_id = COALESCE(?, scan_id) \
             WHERE platform = ? AND owner = ?",
        )
        .bind(now_ms)
        .bind(scan_id)
        .bind(platform)
        .bind(owner)
        .execute(&self.pool)
        .await
        .ctx("renewing a scan lock")?
        .rows_affected();
        Ok(n == 1)
    }

    /// Releases a lock this owner holds (nothing if it lost it).
    pub async fn unlock_platform(&self, platform: &str, owner: &str) -> Result<()> {
        sqlx::query("DELETE FROM scan_locks WHERE platform = ? AND owner = ?")
            .bind(platform)
            .bind(owner)
            .execute(&self.pool)
            .await
            .ctx("releasing a scan lock")?;
        Ok(())
    }

    /// Every lock held now (stale ones included), by platform.
    pub async fn platform_locks(&self) -> Result<Vec<LockHolder>> {
        let rows: Vec<LockHolder> = sqlx::query_as(
            "SELECT platform, owner, purpose, scan_id, acquired_ms, heartbeat_ms \
             FROM scan_locks ORDER BY platform",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("listing scan locks")?;
        Ok(rows)
    }

    /// The last cron time `job` handled (RFC 3339), if it has run before.
    pub async fn job_last_planned(&self, job: &str) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT last_planned FROM job_state WHERE job = ?")
            .bind(job)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a job's state")
    }

    pub async fn set_job_last_planned(&self, job: &str, at: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO job_state (job, last_planned) VALUES (?, ?) \
             ON CONFLICT (job) DO UPDATE SET last_planned = excluded.last_planned",
        )
        .bind(job)
        .bind(at)
        .execute(&self.pool)
        .await
        .ctx("saving a job's state")?;
        Ok(())
    }

    /// Records the start of a run (or a skipped one, with its reason).
    pub async fn start_job_run(&self, run: &NewJobRun<'_>) -> Result<i64> {
        let finished = run.state.is_finished().then(|| self.now_rfc3339());
        sqlx::query_scalar(
            "INSERT INTO job_runs (job, trigger, planned_at, requested_by, started_at, finished_at, \
               state, message, heartbeat_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(run.job)
        .bind(run.trigger)
        .bind(&run.planned_at)
        .bind(run.requested_by)
        .bind(self.now_rfc3339())
        .bind(finished)
        .bind(run.state)
        .bind(run.message)
        .bind(run.now_ms)
        .fetch_one(&self.pool)
        .await
        .ctx("recording a job run")
    }

    /// Notes the scans a run works on and that it is alive.
    pub async fn touch_job_run(&self, id: i64, scan_ids: &[i64], now_ms: i64) -> Result<()> {
        sqlx::query("UPDATE job_runs SET scan_ids = ?, heartbeat_ms = ? WHERE id = ?")
            .bind(serde_json::to_string(scan_ids).unwrap_or_else(|_| "[]".into()))
            .bind(now_ms)
            .bind(id)
            .execute(&self.pool)
            .await
            .ctx("updating a job run")?;
        Ok(())
    }

    pub async fn finish_job_run(
        &self,
        id: i64,
        state: RunState,
        scan_ids: &[i64],
        message: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE job_runs SET state = ?, scan_ids = ?, message = ?, finished_at = ? WHERE id = ?",
        )
        .bind(state)
        .bind(serde_json::to_string(scan_ids).unwrap_or_else(|_| "[]".into()))
        .bind(message)
        .bind(self.now_rfc3339())
        .bind(id)
        .execute(&self.pool)
        .await
        .ctx("finishing a job run")?;
        Ok(())
    }

    /// Runs still marked running whose heartbeat stopped before
    /// `stale_before_ms` (their process died): marked interrupted.
    pub async fn close_abandoned_job_runs(&self, stale_before_ms: i64) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE job_runs SET state = 'interrupted', finished_at = ?, \
               message = 'the process running it stopped; the next run resumes its scans' \
             WHERE state = 'running' AND heartbeat_ms < ?",
        )
        .bind(self.now_rfc3339())
        .bind(stale_before_ms)
        .execute(&self.pool)
        .await
        .ctx("closing abandoned job runs")?
        .rows_affected())
    }

    /// The latest runs, of one job or all, newest first.
    pub async fn job_runs(&self, job: Option<&str>, limit: i64) -> Result<Vec<JobRun>> {
        let rows: Vec<RunRow> = sqlx::query_as(run_select!(
            "WHERE (? IS NULL OR job = ?) ORDER BY id DESC LIMIT ?"
        ))
        .bind(job)
        .bind(job)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("listing job runs")?;
        Ok(rows.into_iter().map(JobRun::from).collect())
    }

    /// One run by its number.
    pub async fn job_run(&self, id: i64) -> Result<Option<JobRun>> {
        let row: Option<RunRow> = sqlx::query_as(run_select!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a job run")?;
        Ok(row.map(JobRun::from))
    }
}
