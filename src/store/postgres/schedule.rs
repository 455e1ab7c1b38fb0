//! PostgreSQL statements for `store::schedule`: what the front in `../schedule.rs` dispatches to, beside the SQLite ones in `../sqlite/schedule.rs`.
//!
//! The scan locks hold across processes on several machines. SQLite
//! serialises every writer; here each lock operation is one statement on
//! the lock's row: taking is an `INSERT ... ON CONFLICT DO UPDATE ... WHERE`
//! (PostgreSQL inserts, or locks the existing row and tests the condition on
//! its latest version: of two takers at once exactly one wins), renewing and
//! releasing name the holder in their `WHERE`.

use super::PgStore;
use super::clean;
use crate::domain::RunState;
use crate::store::schedule::*;
use crate::store::{Ctx, Result};
use chrono::{DateTime, Utc};

fn ids_json(scan_ids: &[i64]) -> String {
    serde_json::to_string(scan_ids).unwrap_or_else(|_| "[]".into())
}

/// SQLite reads a negative LIMIT as none; PostgreSQL refuses it (NULL is none).
fn limit_or_all(limit: i64) -> Option<i64> {
    (limit >= 0).then_some(limit)
}

const LOCK_SELECT: &str =
    "SELECT platform, owner, purpose, scan_id, acquired_ms, heartbeat_ms FROM scan_locks";

#[derive(sqlx::FromRow)]
struct RunRow {
    id: i64,
    job: String,
    trigger: String,
    planned_at: Option<DateTime<Utc>>,
    requested_by: Option<String>,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
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
            planned_at: r.planned_at.map(super::stamp),
            requested_by: r.requested_by,
            started_at: super::stamp(r.started_at),
            finished_at: r.finished_at.map(super::stamp),
            state: r.state,
            // As SQLite: an unreadable list reads as none.
            scan_ids: serde_json::from_str(&r.scan_ids).unwrap_or_default(),
            message: r.message,
            heartbeat_ms: r.heartbeat_ms,
        }
    }
}

const RUN_SELECT: &str = "SELECT id, job, trigger, planned_at, requested_by, started_at, finished_at, \
     state, scan_ids::text AS scan_ids, message, heartbeat_ms FROM job_runs";

impl PgStore {
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
        let (platform, owner, purpose) = (clean(platform), clean(owner), clean(purpose));
        // Free, stale or already ours: taken in this one statement. When it
        // is not, the holder is read after; if the holder released it in
        // between there is nobody to name, so try again (a few times: each
        // retry means the row changed hands meanwhile).
        for _ in 0..5 {
            let taken = sqlx::query(
                "INSERT INTO scan_locks (platform, owner, purpose, scan_id, acquired_ms, heartbeat_ms) \
                 VALUES ($1, $2, $3, NULL, $4, $4) \
                 ON CONFLICT (platform) DO UPDATE SET owner = EXCLUDED.owner, purpose = EXCLUDED.purpose, \
                   scan_id = NULL, acquired_ms = EXCLUDED.acquired_ms, heartbeat_ms = EXCLUDED.heartbeat_ms \
                 WHERE scan_locks.heartbeat_ms < $5 OR scan_locks.owner = EXCLUDED.owner",
            )
            .bind(platform.as_ref())
            .bind(owner.as_ref())
            .bind(purpose.as_ref())
            .bind(now_ms)
            .bind(stale_before_ms)
            .execute(&self.pool)
            .await
            .ctx("taking a scan lock")?
            .rows_affected();
            if taken == 1 {
                return Ok(Ok(()));
            }
            let row: Option<LockHolder> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{LOCK_SELECT} WHERE platform = $1"
            )))
            .bind(platform.as_ref())
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a scan lock")?;
            if let Some(row) = row {
                return Ok(Err(row));
            }
        }
        // Still changing hands after several tries: report the holder as
        // it is now (someone holds it, or it is free and the caller retries).
        let row: LockHolder = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{LOCK_SELECT} WHERE platform = $1"
        )))
        .bind(platform.as_ref())
        .fetch_one(&self.pool)
        .await
        .ctx("reading a scan lock")?;
        Ok(Err(row))
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
            "UPDATE scan_locks SET owner = $1, purpose = $2, scan_id = NULL, acquired_ms = $3, \
               heartbeat_ms = $3 WHERE platform = $4 AND owner = $5",
        )
        .bind(clean(owner).as_ref())
        .bind(clean(purpose).as_ref())
        .bind(now_ms)
        .bind(clean(platform).as_ref())
        .bind(clean(dead_owner).as_ref())
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
            "UPDATE scan_locks SET heartbeat_ms = $1, scan_id = COALESCE($2, scan_id) \
             WHERE platform = $3 AND owner = $4",
        )
        .bind(now_ms)
        .bind(scan_id)
        .bind(clean(platform).as_ref())
        .bind(clean(owner).as_ref())
        .execute(&self.pool)
        .await
        .ctx("renewing a scan lock")?
        .rows_affected();
        Ok(n == 1)
    }

    /// Releases a lock this owner holds (nothing if it lost it).
    pub async fn unlock_platform(&self, platform: &str, owner: &str) -> Result<()> {
        sqlx::query("DELETE FROM scan_locks WHERE platform = $1 AND owner = $2")
            .bind(clean(platform).as_ref())
            .bind(clean(owner).as_ref())
            .execute(&self.pool)
            .await
            .ctx("releasing a scan lock")?;
        Ok(())
    }

    /// Every lock held now (stale ones included), by platform.
    pub async fn platform_locks(&self) -> Result<Vec<LockHolder>> {
        let rows: Vec<LockHolder> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{LOCK_SELECT} ORDER BY platform"
        )))
        .fetch_all(&self.pool)
        .await
        .ctx("listing scan locks")?;
        Ok(rows)
    }

    /// The last cron time `job` handled (RFC 3339), if it has run before.
    pub async fn job_last_planned(&self, job: &str) -> Result<Option<String>> {
        let at: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT last_planned FROM job_state WHERE job = $1")
                .bind(clean(job).as_ref())
                .fetch_optional(&self.pool)
                .await
                .ctx("reading a job's state")?;
        Ok(at.map(super::stamp))
    }

    pub async fn set_job_last_planned(&self, job: &str, at: &str) -> Result<()> {
        // The scheduler passes `to_rfc3339()` (nanoseconds): kept to the
        // millisecond, cut rather than rounded so that it never moves later.
        let at = super::truncate_ms(super::instant(at, "job_state.last_planned")?);
        sqlx::query(
            "INSERT INTO job_state (job, last_planned) VALUES ($1, $2) \
             ON CONFLICT (job) DO UPDATE SET last_planned = EXCLUDED.last_planned",
        )
        .bind(clean(job).as_ref())
        .bind(at)
        .execute(&self.pool)
        .await
        .ctx("saving a job's state")?;
        Ok(())
    }

    /// Records the start of a run (or a skipped one, with its reason).
    pub async fn start_job_run(&self, run: &NewJobRun<'_>) -> Result<i64> {
        let now = self.now();
        let finished = run.state.is_finished().then_some(now);
        let planned = run
            .planned_at
            .as_deref()
            .map(|p| super::instant(p, "job_runs.planned_at").map(super::truncate_ms))
            .transpose()?;
        sqlx::query_scalar(
            "INSERT INTO job_runs (job, trigger, planned_at, requested_by, started_at, finished_at, \
               state, message, heartbeat_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(clean(run.job).as_ref())
        .bind(run.trigger)
        .bind(planned)
        .bind(run.requested_by.map(clean).as_deref())
        .bind(now)
        .bind(finished)
        .bind(run.state)
        .bind(run.message.map(clean).as_deref())
        .bind(run.now_ms)
        .fetch_one(&self.pool)
        .await
        .ctx("recording a job run")
    }

    /// Notes the scans a run works on and that it is alive.
    pub async fn touch_job_run(&self, id: i64, scan_ids: &[i64], now_ms: i64) -> Result<()> {
        sqlx::query("UPDATE job_runs SET scan_ids = $1::jsonb, heartbeat_ms = $2 WHERE id = $3")
            .bind(ids_json(scan_ids))
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
            "UPDATE job_runs SET state = $1, scan_ids = $2::jsonb, message = $3, finished_at = $4 \
             WHERE id = $5",
        )
        .bind(state)
        .bind(ids_json(scan_ids))
        .bind(message.map(clean).as_deref())
        .bind(self.now())
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
            "UPDATE job_runs SET state = 'interrupted', finished_at = $1, \
               message = 'the process running it stopped; the next run resumes its scans' \
             WHERE state = 'running' AND heartbeat_ms < $2",
        )
        .bind(self.now())
        .bind(stale_before_ms)
        .execute(&self.pool)
        .await
        .ctx("closing abandoned job runs")?
        .rows_affected())
    }

    /// The latest runs, of one job or all, newest first.
    pub async fn job_runs(&self, job: Option<&str>, limit: i64) -> Result<Vec<JobRun>> {
        let job = job.map(clean);
        let rows: Vec<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{RUN_SELECT} WHERE ($1::text IS NULL OR job = $1) ORDER BY id DESC LIMIT $2"
        )))
        .bind(job.as_deref())
        .bind(limit_or_all(limit))
        .fetch_all(&self.pool)
        .await
        .ctx("listing job runs")?;
        Ok(rows.into_iter().map(JobRun::from).collect())
    }

    /// One run by its number.
    pub async fn job_run(&self, id: i64) -> Result<Option<JobRun>> {
        let row: Option<RunRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{RUN_SELECT} WHERE id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .ctx("reading a job run")?;
        Ok(row.map(JobRun::from))
    }
}
