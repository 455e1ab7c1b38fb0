//! `cccwatch worker`: executes the scans that `serve`, `scan` and the
//! scheduler create, beside any number of other workers on any machines
//! sharing one database.
//!
//! In: a [`ScanRunner`] (registered as a worker), the platforms folder, a
//! stop token. Out: crawled pages committed to the scans' frontiers, and
//! scans whose coordinator died seen through to the end. The loop, every
//! `cluster.poll_ms`:
//!
//! 1. returns to the queue what dead processes held ([`Member::reap`](super::cluster::Member::reap));
//! 2. lends a hand with every running scan that has entries due (one task
//!    per scan, [`ScanRunner::help`]): it crawls what it can lease;
//! 3. adopts running scans whose coordinator is gone (their platform lock
//!    is stale or its process exited): takes the lock and runs the scan to
//!    the end, matching included ([`ScanRunner::run`]).
//!
//! On stop (SIGTERM, Ctrl-C) the tasks stop taking work, pages in flight
//! get a grace period, and whatever is still held is handed back.

use super::lock::{LockTiming, ScanLock};
use super::{ScanError, ScanRunner, load_platform};
use crate::extract::Adapter;
use crate::progress::Progress;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What a worker did, when it stops.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct WorkerReport {
    /// Turns taken on scans (a scan may get several).
    pub turns: u64,
    /// Scans adopted from a coordinator that died, and seen through.
    pub adopted: Vec<i64>,
    /// Turns or adoptions that ended in an error (logged).
    pub errors: u64,
}

/// A scan being worked on here, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Task {
    Help(i64),
    Adopt(i64),
}

/// Runs the worker loop until `stop` is cancelled.
pub async fn run(
    runner: Arc<ScanRunner>,
    platforms_dir: PathBuf,
    stop: CancellationToken,
) -> Result<WorkerReport, ScanError> {
    let member = runner.member().await?;
    let timing = member.timing();
    let lock_timing = LockTiming::from_settings(&runner.settings.schedule);
    let mut adapters = Adapters::new(platforms_dir);
    let mut tasks: JoinSet<(Task, Result<(), ScanError>)> = JoinSet::new();
    let mut active: HashSet<i64> = HashSet::new();
    let mut report = WorkerReport::default();
    tracing::info!(id = %member.id(), "worker started: waiting for scans");
    member.set_doing(None, Some("空闲，等待扫描任务".into()));
    while !stop.is_cancelled() {
        while let Some(done) = tasks.try_join_next() {
            finished(done, &mut active, &mut report);
        }
        if let Err(e) = member.reap().await {
            tracing::warn!("looking for dead processes: {e}");
        }
        adopt_orphans(
            &runner,
            &mut adapters,
            lock_timing,
            &stop,
            &mut tasks,
            &mut active,
        )
        .await;
        let now = runner.store.now().timestamp_millis();
        match runner.store.due_scans(now).await {
            Ok(due) => {
                for scan in due {
                    if active.contains(&scan.scan_id) {
                        continue;
                    }
                    let Some(adapter) = adapters.get(&scan.platform) else {
                        continue;
                    };
                    active.insert(scan.scan_id);
                    report.turns += 1;
                    let (runner, stop) = (runner.clone(), stop.clone());
                    tasks.spawn(async move {
                        let out = runner.help(adapter, scan.scan_id, stop).await.map(|_| ());
                        (Task::Help(scan.scan_id), out)
                    });
                }
            }
            Err(e) => tracing::warn!("looking for scans with work: {e}"),
        }
        if active.is_empty() {
            member.set_doing(None, Some("空闲，等待扫描任务".into()));
        }
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = tokio::time::sleep(timing.poll) => {}
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                finished(done, &mut active, &mut report);
            }
        }
    }
    tracing::info!("worker stopping: finishing pages in flight, handing back the rest");
    while let Some(done) = tasks.join_next().await {
        finished(done, &mut active, &mut report);
    }
    Ok(report)
}

fn finished(
    done: Result<(Task, Result<(), ScanError>), tokio::task::JoinError>,
    active: &mut HashSet<i64>,
    report: &mut WorkerReport,
) {
    match done {
        Ok((task, out)) => {
            let (Task::Help(id) | Task::Adopt(id)) = task;
            active.remove(&id);
            match out {
                Ok(()) => {
                    if let Task::Adopt(id) = task {
                        report.adopted.push(id);
                    }
                }
                Err(e) => {
                    report.errors += 1;
                    tracing::error!(scan_id = id, "worker task: {e}");
                }
            }
        }
        Err(e) => {
            report.errors += 1;
            tracing::error!("a worker task ended abnormally: {e}");
        }
    }
}

/// Running scans whose coordinator is gone: their platform lock is free,
/// stale, or held by a process of this machine that exited. Taking the lock
/// makes this worker the coordinator.
async fn adopt_orphans(
    runner: &Arc<ScanRunner>,
    adapters: &mut Adapters,
    timing: LockTiming,
    stop: &CancellationToken,
    tasks: &mut JoinSet<(Task, Result<(), ScanError>)>,
    active: &mut HashSet<i64>,
) {
    let store = &runner.store;
    let running = match store.unfinished_scans(None).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("looking for scans without a coordinator: {e}");
            return;
        }
    };
    let locked: HashSet<String> = match store.platform_locks().await {
        Ok(locks) => {
            let stale_before =
                store.now().timestamp_millis() - timing.stale_after.as_millis() as i64;
            locks
                .into_iter()
                .filter(|l| {
                    l.heartbeat_ms >= stale_before
                        && !crate::scan::lock::holder_is_dead_here(&l.owner)
                })
                .map(|l| l.platform)
                .collect()
        }
        Err(e) => {
            tracing::warn!("reading scan locks: {e}");
            return;
        }
    };
    for scan in running {
        if scan.state != crate::domain::RunState::Running
            || locked.contains(&scan.platform)
            || active.contains(&scan.id)
        {
            continue;
        }
        let Some(adapter) = adapters.get(&scan.platform) else {
            continue;
        };
        let lock =
            match ScanLock::acquire(store, &scan.platform, "cccwatch worker", timing, stop).await {
                Ok(Ok(lock)) => lock,
                Ok(Err(_)) => continue,
                Err(e) => {
                    tracing::warn!(platform = %scan.platform, "taking a scan lock: {e}");
                    continue;
                }
            };
        lock.set_scan(scan.id).await;
        tracing::warn!(scan_id = scan.id, platform = %scan.platform, "adopting a scan whose coordinator is gone: this worker sees it through");
        // A help task on the same scan stops by itself; the adopter crawls too.
        active.insert(scan.id);
        let runner = runner.clone();
        let id = scan.id;
        tasks.spawn(async move {
            let out = runner
                .run(adapter, id, lock.token(), &Progress::hidden())
                .await
                .map(|o| {
                    tracing::info!(
                        scan_id = id,
                        outcome = o.end.state().as_str(),
                        "adopted scan ended"
                    );
                });
            lock.release().await;
            (Task::Adopt(id), out)
        });
    }
}

/// Platform files read once per worker; a platform without a file here is
/// reported once and left to workers that have it.
struct Adapters {
    dir: PathBuf,
    loaded: HashMap<String, Option<Arc<Adapter>>>,
}

impl Adapters {
    fn new(dir: PathBuf) -> Adapters {
        Adapters {
            dir,
            loaded: HashMap::new(),
        }
    }

    fn get(&mut self, platform: &str) -> Option<Arc<Adapter>> {
        self.loaded
            .entry(platform.to_string())
            .or_insert_with(|| match load_platform(&self.dir, platform) {
                Ok(a) => Some(Arc::new(a)),
                Err(e) => {
                    tracing::error!(%platform, "this worker cannot crawl the platform: {e}");
                    None
                }
            })
            .clone()
    }
}
