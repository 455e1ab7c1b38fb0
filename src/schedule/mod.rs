//! Operate stage: the scheduler that runs scans unattended.
//!
//! Jobs come from `[[schedule.jobs]]`: which platforms, which keyword sets,
//! a cron expression in a time zone (`Asia/Shanghai` by default). On each
//! tick the scheduler compares the clock with the last cron time each job
//! handled (kept in the database): a due job runs once, a job due many times
//! over (the server was down) also runs once, and a job whose previous run
//! is still going is skipped and says so. Each platform is scanned under a
//! lock in the database ([`ScanLock`]), so nothing else scans it at the same
//! time; a run that reaches its deadline stops cleanly and the next run
//! resumes the unfinished scan. Shutdown is a [`CancellationToken`]; runs are
//! tracked so it waits for them. The clock is a trait so tests can drive it.

use crate::config::{JobSettings, Settings};
use crate::crawl::fetch::Fetcher;
use crate::domain::RunState;
use crate::extract::Adapter;
use crate::progress::Progress;
use crate::scan::lock::{LockTiming, ScanLock, describe_holder};
use crate::scan::{LoopSettings, ScanError, ScanPlan, ScanRunner, start_scan};
use crate::store::{JobRun, NewJobRun, Store, StoreError};
use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// A job of the settings does not parse (the configuration's check
    /// reports these before anything runs).
    #[error(transparent)]
    Job(#[from] JobError),
    #[error("no scheduled job `{0}` (see `cccwatch schedule list`)")]
    NoSuchJob(String),
    #[error("job `{0}` is running already")]
    Busy(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub use crate::clock::{Clock, ManualClock, SystemClock};

pub use crate::jobs::{Due, Job, JobError, LATE_AFTER, MISSED_COUNT_CAP, PRUNE_JOB, parse_jobs};

/// Why a run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Schedule,
    CatchUp,
    Manual,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch_up",
            Trigger::Manual => "manual",
        }
    }
}

/// What one tick did, per job.
#[derive(Debug, Clone, PartialEq)]
pub enum TickAction {
    /// First time the job was seen: its cron times count from now on.
    Baseline { job: String },
    Started {
        job: String,
        run_id: i64,
        trigger: Trigger,
        /// Cron times this run stands for (more than one after downtime).
        due: u32,
    },
    Skipped {
        job: String,
        run_id: i64,
        reason: String,
    },
}

/// A "run now" request from the web app.
#[derive(Debug)]
pub struct RunRequest {
    pub job: String,
    pub by: String,
    pub reply: tokio::sync::oneshot::Sender<Result<i64, String>>,
}

/// How a job run ended, per platform.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PlatformResult {
    pub platform: String,
    pub scan_id: Option<i64>,
    /// The scan's end (`completed`, `completed_with_errors`, `interrupted`
    /// or `failed`), or `skipped` when the platform was locked.
    pub state: RunState,
    pub note: Option<String>,
}

/// Runs jobs. Shared by the loop in `serve`, "run now" and tests.
pub struct Scheduler {
    store: Store,
    settings: Arc<Settings>,
    fetcher: Arc<Fetcher>,
    clock: Arc<dyn Clock>,
    jobs: Vec<Arc<Job>>,
    running: Arc<Mutex<HashSet<String>>>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Scheduler {
    pub fn new(
        store: Store,
        settings: Arc<Settings>,
        fetcher: Arc<Fetcher>,
        clock: Arc<dyn Clock>,
        shutdown: CancellationToken,
    ) -> Result<Scheduler, ScheduleError> {
        let jobs = parse_jobs(&settings.schedule)?
            .into_iter()
            .map(Arc::new)
            .collect();
        Ok(Scheduler {
            store,
            settings,
            fetcher,
            clock,
            jobs,
            running: Arc::default(),
            tasks: TaskTracker::new(),
            shutdown,
        })
    }

    pub fn jobs(&self) -> &[Arc<Job>] {
        &self.jobs
    }

    fn timing(&self) -> LockTiming {
        LockTiming::from_settings(&self.settings.schedule)
    }

    /// Closes runs left "running" by a process that died.
    pub async fn recover(&self) -> Result<u64, ScheduleError> {
        let stale =
            self.store.now().timestamp_millis() - self.timing().stale_after.as_millis() as i64;
        Ok(self.store.close_abandoned_job_runs(stale).await?)
    }

    /// Looks at the clock once and starts what is due.
    pub async fn tick(&self) -> Result<Vec<TickAction>, ScheduleError> {
        let now = self.clock.now();
        let mut actions = Vec::new();
        for job in &self.jobs {
            let name = job.name();
            let last = self
                .store
                .job_last_planned(name)
                .await?
                .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
                .map(|t| t.with_timezone(&Utc));
            let Some(last) = last else {
                self.store
                    .set_job_last_planned(name, &now.to_rfc3339())
                    .await?;
                actions.push(TickAction::Baseline { job: name.into() });
                continue;
            };
            let Some(due) = job.due(last, now) else {
                continue;
            };
            // Handled from here on, whether it runs or is skipped.
            self.store
                .set_job_last_planned(name, &due.latest.to_rfc3339())
                .await?;
            let trigger = if due.count > 1 || now - due.latest > LATE_AFTER {
                Trigger::CatchUp
            } else {
                Trigger::Schedule
            };
            let planned = Some(due.latest.to_rfc3339());
            match self.spawn(job.clone(), trigger, planned, None, due).await? {
                Ok(run_id) => actions.push(TickAction::Started {
                    job: name.into(),
                    run_id,
                    trigger,
                    due: due.count,
                }),
                Err((run_id, reason)) => actions.push(TickAction::Skipped {
                    job: name.into(),
                    run_id,
                    reason,
                }),
            }
        }
        Ok(actions)
    }

    /// Starts `job` now, for `by`. Refused while it is running.
    pub async fn run_now(&self, job: &str, by: &str) -> Result<i64, ScheduleError> {
        let j = self
            .jobs
            .iter()
            .find(|j| j.name() == job)
            .ok_or_else(|| ScheduleError::NoSuchJob(job.into()))?
            .clone();
        let due = Due {
            count: 1,
            latest: self.clock.now(),
        };
        match self.spawn(j, Trigger::Manual, None, Some(by), due).await? {
            Ok(id) => Ok(id),
            Err(_) => Err(ScheduleError::Busy(job.into())),
        }
    }

    /// Starts a run in the background, or records a skipped one.
    async fn spawn(
        &self,
        job: Arc<Job>,
        trigger: Trigger,
        planned_at: Option<String>,
        by: Option<&str>,
        due: Due,
    ) -> Result<Result<i64, (i64, String)>, ScheduleError> {
        let name = job.name().to_string();
        let busy = !self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.clone());
        let now_ms = self.store.now().timestamp_millis();
        if busy {
            let reason =
                "上一次运行尚未结束，本次跳过 (the previous run is still going)".to_string();
            let id = self
                .store
                .start_job_run(&NewJobRun {
                    job: &name,
                    trigger: trigger.as_str(),
                    planned_at,
                    requested_by: by,
                    state: RunState::Skipped,
                    message: Some(&reason),
                    now_ms,
                })
                .await?;
            tracing::warn!(job = %name, "skipped: the previous run is still going");
            crate::monitoring::job_run_ended(&name, RunState::Skipped);
            return Ok(Err((id, reason)));
        }
        let missed = (due.count > 1).then(|| {
            format!(
                "错过 {}{} 次计划运行（服务停止期间），补运行一次",
                due.count,
                if due.count >= MISSED_COUNT_CAP {
                    "+"
                } else {
                    ""
                }
            )
        });
        let id = match self
            .store
            .start_job_run(&NewJobRun {
                job: &name,
                trigger: trigger.as_str(),
                planned_at,
                requested_by: by,
                state: RunState::Running,
                message: missed.as_deref(),
                now_ms,
            })
            .await
        {
            Ok(id) => id,
            Err(e) => {
                self.running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&name);
                return Err(e.into());
            }
        };
        tracing::info!(job = %name, run = id, trigger = trigger.as_str(), due = due.count, "job started");
        // A runner per run: it loads the certificate database when its
        // first scan is matched, so a run sees the latest import. The
        // fetcher (politeness, robots.txt) is shared.
        let runner = ScanRunner::new(
            self.store.clone(),
            (*self.settings).clone(),
            self.fetcher.clone(),
            LoopSettings {
                max_attempts: self.settings.crawl.max_attempts,
                ..LoopSettings::default()
            },
        )
        .with_role(crate::scan::cluster::Role::Schedule);
        let mut ctx = RunContext {
            store: self.store.clone(),
            settings: self.settings.clone(),
            runner,
            shutdown: self.shutdown.clone(),
            timing: self.timing(),
            started: self.clock.now(),
        };
        // Frees the job's slot however the task ends, a panic included.
        let guard = RunningGuard {
            set: self.running.clone(),
            job: name.clone(),
        };
        self.tasks.spawn(async move {
            let _guard = guard;
            let run = async {
                if job.prune {
                    execute_prune(&ctx, &job, id).await
                } else {
                    execute(&ctx, &job, id, missed).await.map(|_| ())
                }
            };
            match std::panic::AssertUnwindSafe(run).catch_unwind().await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(job = %job.name(), run = id, "job failed: {e}"),
                Err(_) => tracing::error!(job = %job.name(), run = id, "a job task ended abnormally: it panicked"),
            }
            ctx.runner.leave().await;
        });
        Ok(Ok(id))
    }

    /// Waits for every run started so far to end.
    pub async fn wait_idle(&self) {
        self.tasks.close();
        self.tasks.wait().await;
        self.tasks.reopen();
    }

    /// The loop of `serve`: ticks when a job is due (at least every 30 s),
    /// answers "run now" requests, and returns when shutdown is cancelled,
    /// after the runs in progress have stopped.
    pub async fn run(self: Arc<Self>, mut requests: mpsc::Receiver<RunRequest>) {
        match self.recover().await {
            Ok(0) => {}
            Ok(n) => tracing::warn!("{n} job run(s) of a process that stopped marked interrupted"),
            Err(e) => tracing::error!("checking for abandoned job runs: {e}"),
        }
        if self.jobs.is_empty() {
            tracing::info!("no scheduled jobs ([[schedule.jobs]] in the configuration)");
        }
        while !self.shutdown.is_cancelled() {
            if let Err(e) = self.tick().await {
                tracing::error!("scheduler tick: {e}");
            }
            let now = self.clock.now();
            let wait = self
                .jobs
                .iter()
                .filter_map(|j| j.next_after(now))
                .map(|t| (t - now).to_std().unwrap_or_default())
                .min()
                .unwrap_or(Duration::from_secs(30))
                .clamp(Duration::from_millis(200), Duration::from_secs(30));
            tokio::select! {
                _ = tokio::time::sleep(wait + Duration::from_millis(20)) => {}
                _ = self.shutdown.cancelled() => {}
                Some(req) = requests.recv() => {
                    let out = self.run_now(&req.job, &req.by).await.map_err(|e| e.to_string());
                    let _ = req.reply.send(out);
                }
            }
        }
        tracing::info!("scheduler stopping: waiting for runs in progress to save their frontier");
        self.tasks.close();
        self.tasks.wait().await;
    }
}

struct RunningGuard {
    set: Arc<Mutex<HashSet<String>>>,
    job: String,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.job);
    }
}

/// What a run needs, detached from the scheduler.
struct RunContext {
    store: Store,
    settings: Arc<Settings>,
    runner: ScanRunner,
    shutdown: CancellationToken,
    timing: LockTiming,
    started: DateTime<Utc>,
}

/// The platforms a job covers: its list, or every file in `crawl.platforms_dir`.
pub fn job_platforms(job: &JobSettings, platforms_dir: &Path) -> Vec<String> {
    if !job.platforms.is_empty() {
        return job.platforms.clone();
    }
    let mut names: Vec<String> = std::fs::read_dir(platforms_dir)
        .map(|rd| {
            rd.filter_map(|e| {
                let path = e.ok()?.path();
                (path.extension()? == "toml")
                    .then(|| path.file_stem()?.to_str().map(str::to_string))?
            })
            .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The keywords a job searches on a platform: the named keyword sets
/// (the platform's `[keywords]` groups) plus its own words; empty means
/// the platform's seed keywords.
pub fn job_keywords(job: &JobSettings, adapter: &Adapter) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    for g in &job.groups {
        let set = adapter.config.keywords.get(g).ok_or_else(|| {
            format!(
                "keyword set `{g}` is not in the platform's [keywords] (it has: {})",
                adapter
                    .config
                    .keywords
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        words.extend(set.iter().cloned());
    }
    words.extend(job.keywords.iter().cloned());
    let mut seen = HashSet::new();
    words.retain(|w| !w.trim().is_empty() && seen.insert(w.clone()));
    Ok(words)
}

/// Runs one job: each platform under its lock, concurrently; resumes a
/// platform's unfinished scan instead of starting a new one.
async fn execute(
    ctx: &RunContext,
    job: &Job,
    run_id: i64,
    note: Option<String>,
) -> Result<Vec<PlatformResult>, ScheduleError> {
    let deadline = job.deadline(ctx.started);
    // Stop at shutdown or at the deadline, whichever comes first.
    let stop = ctx.shutdown.child_token();
    let stopper = deadline.map(|d| {
        let wait = (d - ctx.started).to_std().unwrap_or_default();
        tokio::spawn(cancel_after(wait, stop.clone()))
    });
    let platforms = job_platforms(&job.settings, &ctx.settings.crawl.platforms_dir);
    let scan_ids = Arc::new(Mutex::new(Vec::<i64>::new()));
    let runs = platforms.iter().map(|p| {
        let stop = &stop;
        let scan_ids = scan_ids.clone();
        async move {
            let result = scan_platform(ctx, job, p, run_id, stop, &scan_ids).await;
            result.unwrap_or_else(|e| PlatformResult {
                platform: p.clone(),
                scan_id: None,
                state: RunState::Failed,
                note: Some(e),
            })
        }
    });
    let results = futures_util::future::join_all(runs).await;
    if let Some(stopper) = stopper {
        stopper.abort();
    }
    let ids = scan_ids.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let state = overall_state(&results);
    let mut message: Vec<String> = note.into_iter().collect();
    for r in &results {
        if r.state != RunState::Completed {
            let state = match crate::scan::outcome::ScanEnd::from_state(r.state) {
                Some(end) => end.label_zh(),
                None if r.state == RunState::Skipped => "已跳过",
                None => r.state.as_str(),
            };
            message.push(format!(
                "{}：{}{}",
                r.platform,
                state,
                r.note
                    .as_deref()
                    .map(|n| format!(" — {n}"))
                    .unwrap_or_default()
            ));
        }
    }
    if state == RunState::Interrupted && ctx.shutdown.is_cancelled() {
        message.push("服务停止，扫描已保存，下次运行时继续".into());
    } else if let Some(d) = deadline.filter(|_| state == RunState::Interrupted) {
        message.push(format!(
            "到达截止时间 {}，扫描已保存，下次运行时继续",
            d.with_timezone(&job.tz).format("%Y-%m-%d %H:%M")
        ));
    }
    let message = (!message.is_empty()).then(|| message.join("；"));
    ctx.store
        .finish_job_run(run_id, state, &ids, message.as_deref())
        .await?;
    tracing::info!(job = %job.name(), run = run_id, state = state.as_str(), scans = ?ids, "job ended");
    crate::monitoring::job_run_ended(job.name(), state);
    Ok(results)
}

/// Cancels `stop` after `wait`: a job's deadline.
async fn cancel_after(wait: Duration, stop: CancellationToken) {
    if stop
        .run_until_cancelled(tokio::time::sleep(wait))
        .await
        .is_some()
    {
        tracing::info!("job deadline reached: stopping its scans");
        stop.cancel();
    }
}

/// Applies the retention policy and records what it removed.
async fn execute_prune(ctx: &RunContext, job: &Job, run_id: i64) -> Result<(), ScheduleError> {
    let (state, message) = match crate::retention::prune(
        &ctx.store,
        &ctx.settings.retention,
        ctx.store.now(),
    )
    .await
    {
        Ok(r) => (
            RunState::Completed,
            format!(
                "清理页面正文 {} 个（{:.1} MB），保留仍需作为证据的旧页面 {} 个；清理扫描记录 {} 次",
                r.pages_pruned,
                r.bytes_freed as f64 / 1_048_576.0,
                r.pages_kept,
                r.scans_pruned
            ),
        ),
        Err(e) => (RunState::Failed, format!("清理失败：{e}")),
    };
    ctx.store
        .finish_job_run(run_id, state, &[], Some(&message))
        .await?;
    tracing::info!(job = %job.name(), run = run_id, state = state.as_str(), "{message}");
    crate::monitoring::job_run_ended(job.name(), state);
    Ok(())
}

/// completed when every platform completed; skipped when every platform was
/// locked; interrupted when one was stopped; failed when one failed; completed
/// with errors when one had failed pages; else completed.
fn overall_state(results: &[PlatformResult]) -> RunState {
    let all = |s: RunState| results.iter().all(|r| r.state == s);
    let any = |s: RunState| results.iter().any(|r| r.state == s);
    if results.is_empty() {
        RunState::Failed
    } else if all(RunState::Completed) {
        RunState::Completed
    } else if all(RunState::Skipped) {
        RunState::Skipped
    } else if any(RunState::Interrupted) {
        RunState::Interrupted
    } else if any(RunState::Failed) {
        RunState::Failed
    } else if any(RunState::CompletedWithErrors) {
        RunState::CompletedWithErrors
    } else {
        RunState::Completed
    }
}

async fn scan_platform(
    ctx: &RunContext,
    job: &Job,
    platform: &str,
    run_id: i64,
    stop: &CancellationToken,
    scan_ids: &Mutex<Vec<i64>>,
) -> Result<PlatformResult, String> {
    let adapter = crate::scan::load_platform(&ctx.settings.crawl.platforms_dir, platform)
        .map_err(|e| e.to_string())?;
    let adapter = Arc::new(adapter);
    let purpose = format!("schedule {}", job.name());
    let lock = match ScanLock::acquire(&ctx.store, platform, &purpose, ctx.timing, stop)
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(lock) => lock,
        Err(holder) => {
            let why = describe_holder(&holder);
            tracing::warn!(%platform, "skipped: {why}");
            return Ok(PlatformResult {
                platform: platform.into(),
                scan_id: None,
                state: RunState::Skipped,
                note: Some(why),
            });
        }
    };
    let result = scan_locked(ctx, job, &adapter, &lock, run_id, scan_ids).await;
    lock.release().await;
    result
}

/// Runs the platform's scan on the lock's token: the run's stop, or the
/// lock taken over by another process.
async fn scan_locked(
    ctx: &RunContext,
    job: &Job,
    adapter: &Arc<Adapter>,
    lock: &ScanLock,
    run_id: i64,
    scan_ids: &Mutex<Vec<i64>>,
) -> Result<PlatformResult, String> {
    let platform = adapter.name().to_string();
    let store = &ctx.store;
    let resumed = store
        .unfinished_scans(Some(&platform))
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .next_back();
    let scan_id = match resumed {
        Some(s) => {
            crate::scan::rebase_frontier(store, adapter, s.id)
                .await
                .map_err(|e| e.to_string())?;
            s.id
        }
        None => {
            let keywords = job_keywords(&job.settings, adapter)?;
            let plan = ScanPlan {
                keywords,
                max_pages: job.settings.max_pages,
                as_of: ctx.started.with_timezone(&job.tz).date_naive(),
            };
            start_scan(store, adapter, &plan)
                .await
                .map_err(|e| e.to_string())?
        }
    };
    lock.set_scan(scan_id).await;
    let ids = {
        let mut ids = scan_ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.push(scan_id);
        ids.clone()
    };
    let _ = store
        .touch_job_run(run_id, &ids, store.now().timestamp_millis())
        .await;
    // Keep the run's heartbeat going with the lock's.
    let beat = {
        let (store, every) = (store.clone(), ctx.timing.renew_every);
        let ids = ids.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let _ = store
                    .touch_job_run(run_id, &ids, store.now().timestamp_millis())
                    .await;
            }
        })
    };
    let outcome = ctx
        .runner
        .run(adapter.clone(), scan_id, lock.token(), &Progress::hidden())
        .await;
    beat.abort();
    Ok(match outcome {
        Ok(o) => PlatformResult {
            platform,
            scan_id: Some(scan_id),
            state: o.end.state(),
            note: o.scan.message.clone(),
        },
        Err(ScanError::Store(e)) => PlatformResult {
            platform,
            scan_id: Some(scan_id),
            state: RunState::Failed,
            note: Some(e.to_string()),
        },
        Err(e) => PlatformResult {
            platform,
            scan_id: Some(scan_id),
            state: RunState::Failed,
            note: Some(e.to_string()),
        },
    })
}

/// One line per job for `schedule list` and the web page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobStatus {
    pub name: String,
    /// `scan`, or `prune` for the built-in retention job.
    pub kind: &'static str,
    pub cron: String,
    pub time_zone: String,
    pub platforms: Vec<String>,
    pub groups: Vec<String>,
    pub max_pages: Option<u32>,
    pub deadline: Option<String>,
    /// Local time of the next run.
    pub next_run: Option<String>,
    pub last_run: Option<JobRun>,
    pub running: bool,
}

/// The status of every job at `now`.
pub async fn status(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Vec<JobStatus>, ScheduleError> {
    let jobs = parse_jobs(&settings.schedule)?;
    let mut out = Vec::new();
    for job in jobs {
        let runs = store.job_runs(Some(job.name()), 1).await?;
        let last_run = runs.into_iter().next();
        let s = &job.settings;
        let deadline = [
            s.max_duration.as_ref().map(|d| format!("最长 {d}")),
            s.stop_at.as_ref().map(|t| format!("{t} 前停止")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
        out.push(JobStatus {
            name: s.name.clone(),
            kind: if job.prune { "prune" } else { "scan" },
            cron: s.cron.clone(),
            time_zone: job.tz.name().to_string(),
            platforms: if job.prune {
                Vec::new()
            } else {
                job_platforms(s, &settings.crawl.platforms_dir)
            },
            groups: s.groups.clone(),
            max_pages: s.max_pages,
            deadline: (!deadline.is_empty()).then(|| deadline.join("，")),
            next_run: job.next_after(now).map(|t| {
                t.with_timezone(&job.tz)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            }),
            running: last_run
                .as_ref()
                .is_some_and(|r| r.state == RunState::Running),
            last_run,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ScheduleSettings;

    fn job(cron: &str) -> Job {
        Job::new(
            &JobSettings {
                name: "nightly".into(),
                cron: cron.into(),
                ..JobSettings::default()
            },
            "Asia/Shanghai",
        )
        .unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn cron_times_are_local_to_the_time_zone() {
        let j = job("30 1 * * *");
        // 01:30 in Shanghai is 17:30 UTC the day before.
        assert_eq!(
            j.next_after(utc("2026-11-29T12:00:00Z")),
            Some(utc("2026-11-29T17:30:00Z"))
        );
    }

    #[test]
    fn due_counts_the_missed_times_and_keeps_the_latest() {
        let j = job("30 1 * * *");
        assert_eq!(
            j.due(utc("2026-11-29T17:30:00Z"), utc("2026-11-30T17:29:59Z")),
            None
        );
        let d = j
            .due(utc("2026-11-29T17:30:00Z"), utc("2026-11-30T17:30:00Z"))
            .unwrap();
        assert_eq!((d.count, d.latest), (1, utc("2026-11-30T17:30:00Z")));
        // Down for three nights.
        let d = j
            .due(utc("2026-11-26T17:30:00Z"), utc("2026-11-30T02:00:00Z"))
            .unwrap();
        assert_eq!((d.count, d.latest), (3, utc("2026-11-29T17:30:00Z")));
    }

    #[test]
    fn seconds_are_allowed_for_short_intervals() {
        let j = job("*/5 * * * * *");
        let d = j
            .due(utc("2026-11-29T00:00:00Z"), utc("2026-11-29T00:00:12Z"))
            .unwrap();
        assert_eq!((d.count, d.latest), (2, utc("2026-11-29T00:00:10Z")));
    }

    #[test]
    fn a_deadline_is_the_earlier_of_duration_and_clock_time() {
        let mut s = JobSettings {
            name: "nightly".into(),
            cron: "30 1 * * *".into(),
            max_duration: Some("5h".into()),
            stop_at: Some("06:30".into()),
            ..JobSettings::default()
        };
        let j = Job::new(&s, "Asia/Shanghai").unwrap();
        // Started 01:30 Shanghai: 06:30 local (22:30 UTC) comes before 06:30 + 0.
        let start = utc("2026-11-29T17:30:00Z");
        assert_eq!(j.deadline(start), Some(utc("2026-11-29T22:30:00Z")));
        s.max_duration = Some("2h".into());
        let j = Job::new(&s, "Asia/Shanghai").unwrap();
        assert_eq!(j.deadline(start), Some(utc("2026-11-29T19:30:00Z")));
        s.max_duration = None;
        s.stop_at = None;
        assert_eq!(Job::new(&s, "Asia/Shanghai").unwrap().deadline(start), None);
    }

    #[test]
    fn bad_jobs_are_named() {
        let base = JobSettings {
            name: "weekly".into(),
            cron: "0 2 * * 0".into(),
            ..JobSettings::default()
        };
        let cases = [
            (
                JobSettings {
                    cron: "0 25 * * *".into(),
                    ..base.clone()
                },
                "cron expression `0 25 * * *`",
            ),
            (
                JobSettings {
                    time_zone: Some("Mars/Olympus".into()),
                    ..base.clone()
                },
                "Mars/Olympus",
            ),
            (
                JobSettings {
                    max_duration: Some("five hours".into()),
                    ..base.clone()
                },
                "max_duration",
            ),
            (
                JobSettings {
                    stop_at: Some("25:00".into()),
                    ..base.clone()
                },
                "stop_at",
            ),
        ];
        for (s, wanted) in cases {
            let e = Job::new(&s, "Asia/Shanghai").unwrap_err().to_string();
            assert!(
                e.contains(wanted) && e.contains("weekly") || e.contains(wanted),
                "{e}"
            );
        }
        let twice = ScheduleSettings {
            jobs: vec![base.clone(), base],
            ..ScheduleSettings::default()
        };
        assert!(
            parse_jobs(&twice)
                .unwrap_err()
                .to_string()
                .contains("two jobs")
        );
    }

    #[test]
    fn the_overall_state_of_a_run() {
        use RunState::*;
        let r = |state: RunState| PlatformResult {
            platform: "p".into(),
            scan_id: None,
            state,
            note: None,
        };
        let overall =
            |states: &[RunState]| overall_state(&states.iter().map(|&s| r(s)).collect::<Vec<_>>());
        assert_eq!(overall(&[Completed, Completed]), Completed);
        assert_eq!(overall(&[Skipped, Skipped]), Skipped);
        assert_eq!(overall(&[Completed, Interrupted]), Interrupted);
        assert_eq!(overall(&[Completed, Failed]), Failed);
        assert_eq!(
            overall(&[Completed, CompletedWithErrors]),
            CompletedWithErrors
        );
        assert_eq!(overall(&[CompletedWithErrors, Failed]), Failed);
        assert_eq!(overall(&[Completed, Skipped]), Completed);
        assert_eq!(overall(&[]), Failed);
    }
}
