//! The scheduler driven by a hand-set clock against the demo marketplace:
//! due jobs run once, a job still running is not started again, a platform
//! locked by another process is left alone (a stale lock is taken over),
//! missed runs after downtime run once, and a run that reaches its
//! deadline stops cleanly and the next run resumes its scan.

use crate::support;

use cccwatch::config::{JobSettings, Settings};
use cccwatch::crawl::fetch::Fetcher;
use cccwatch::domain::RunState;
use cccwatch::market::{Market, MarketConfig};
use cccwatch::schedule::{ManualClock, Scheduler, TickAction, Trigger};
use cccwatch::store::Store;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

struct Rig {
    store: Store,
    market: Market,
    platforms: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn rig(items: usize) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    let market = Market::start(MarketConfig {
        items,
        small_pages: true,
        removed_share: 0.0,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let platforms = dir.path().join("platforms");
    std::fs::create_dir_all(&platforms).unwrap();
    let r = Rig {
        store,
        market,
        platforms,
        _dir: dir,
    };
    r.platform_rate(0.0);
    r
}

impl Rig {
    /// Writes `demo.toml` pointing at the marketplace, `rps` requests per
    /// second (0: no limit).
    fn platform_rate(&self, rps: f64) {
        let text = std::fs::read_to_string(support::root().join("config/platforms/demo.toml"))
            .unwrap()
            .replace(
                "base_url = \"http://127.0.0.1:8080\"",
                &format!("base_url = \"{}\"", self.market.base_url()),
            )
            .replace(
                "requests_per_second = 50.0",
                &format!("requests_per_second = {rps:.1}"),
            )
            .replace("burst = 5", "burst = 1");
        std::fs::write(self.platforms.join("demo.toml"), text).unwrap();
    }

    fn scheduler(&self, jobs: Vec<JobSettings>, clock: Arc<ManualClock>) -> Scheduler {
        let mut settings = Settings::default();
        settings.crawl.platforms_dir = self.platforms.clone();
        settings.crawl.retry_min_secs = 0.05;
        settings.schedule.jobs = jobs;
        settings.schedule.prune_cron = String::new();
        settings.schedule.lock_renew_secs = 1;
        settings.schedule.lock_stale_secs = 30;
        let fetcher = Arc::new(Fetcher::new(settings.crawl.fetch_settings()).unwrap());
        // No shutdown in these tests.
        let shutdown = CancellationToken::new();
        Scheduler::new(
            self.store.clone(),
            Arc::new(settings),
            fetcher,
            clock,
            shutdown,
        )
        .unwrap()
    }

    async fn scans(&self) -> Vec<(i64, RunState)> {
        let mut out = Vec::new();
        for id in 1..100 {
            if let Some(s) = self.store.scan(id).await.unwrap() {
                out.push((s.id, s.state));
            }
        }
        out
    }
}

fn job(name: &str, cron: &str) -> JobSettings {
    JobSettings {
        name: name.into(),
        cron: cron.into(),
        platforms: vec!["demo".into()],
        keywords: vec!["插座".into()],
        max_pages: Some(1),
        ..JobSettings::default()
    }
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn started(actions: &[TickAction]) -> Vec<(Trigger, u32)> {
    actions
        .iter()
        .filter_map(|a| match a {
            TickAction::Started { trigger, due, .. } => Some((*trigger, *due)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_jobs_run_once_and_missed_runs_catch_up_once() {
    let r = rig(40).await;
    let clock = Arc::new(ManualClock::new(utc("2026-11-29T00:00:30Z")));
    let s = r.scheduler(vec![job("every10", "*/10 * * * *")], clock.clone());

    // First sight: the job counts its times from now on; nothing runs.
    let a = s.tick().await.unwrap();
    assert_eq!(
        a,
        [TickAction::Baseline {
            job: "every10".into()
        }]
    );
    assert!(s.tick().await.unwrap().is_empty());

    // 00:10 passes: it runs once, and a second look starts nothing more.
    clock.set(utc("2026-11-29T00:10:02Z"));
    assert_eq!(started(&s.tick().await.unwrap()), [(Trigger::Schedule, 1)]);
    assert!(s.tick().await.unwrap().is_empty());
    s.wait_idle().await;
    let runs = r.store.job_runs(Some("every10"), 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].state, RunState::Completed, "{:?}", runs[0].message);
    assert_eq!(runs[0].trigger, "schedule");
    assert_eq!(runs[0].scan_ids.len(), 1);
    assert_eq!(
        r.scans().await,
        [(runs[0].scan_ids[0], RunState::Completed)]
    );
    assert!(
        r.store.platform_locks().await.unwrap().is_empty(),
        "the lock is released"
    );

    // The server was down for five hours: 29 cron times passed (00:20 … 05:00); one run.
    clock.set(utc("2026-11-29T05:05:00Z"));
    assert_eq!(started(&s.tick().await.unwrap()), [(Trigger::CatchUp, 29)]);
    assert!(s.tick().await.unwrap().is_empty());
    s.wait_idle().await;
    let runs = r.store.job_runs(Some("every10"), 10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[0].trigger.as_str(), runs[0].state),
        ("catch_up", RunState::Completed)
    );
    assert!(
        runs[0]
            .planned_at
            .as_deref()
            .unwrap()
            .starts_with("2026-11-29T05:00:00")
    );
    assert!(runs[0].message.as_deref().unwrap().contains("29"));
    assert_eq!(r.scans().await.len(), 2);

    // A new scheduler (the server restarted) remembers what was handled.
    let s2 = r.scheduler(vec![job("every10", "*/10 * * * *")], clock.clone());
    assert!(s2.tick().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_runs_are_skipped_and_locked_platforms_left_alone() {
    let r = rig(40).await;
    let clock = Arc::new(ManualClock::new(utc("2026-11-29T00:00:30Z")));
    // Slow enough that the next tick comes while it runs.
    r.platform_rate(8.0);
    let s = r.scheduler(vec![job("nightly", "*/10 * * * *")], clock.clone());
    s.tick().await.unwrap();
    clock.set(utc("2026-11-29T00:10:01Z"));
    assert_eq!(started(&s.tick().await.unwrap()), [(Trigger::Schedule, 1)]);
    clock.set(utc("2026-11-29T00:20:01Z"));
    let a = s.tick().await.unwrap();
    assert!(
        matches!(&a[..], [TickAction::Skipped { reason, .. }] if reason.contains("still going")),
        "{a:?}"
    );
    s.wait_idle().await;
    let runs = r.store.job_runs(Some("nightly"), 10).await.unwrap();
    let states: Vec<RunState> = runs.iter().map(|r| r.state).collect();
    assert_eq!(states, [RunState::Skipped, RunState::Completed]);
    assert_eq!(r.scans().await.len(), 1, "one scan, not two");
    r.platform_rate(0.0);

    // Another process is scanning the platform: the run leaves it alone.
    let now = Utc::now().timestamp_millis();
    r.store
        .try_lock_platform(
            "demo",
            "other-host:4242:1:cccwatch_scan",
            "cccwatch scan",
            now,
            0,
        )
        .await
        .unwrap()
        .unwrap();
    clock.set(utc("2026-11-29T00:30:01Z"));
    assert_eq!(started(&s.tick().await.unwrap()).len(), 1);
    s.wait_idle().await;
    let run = &r.store.job_runs(Some("nightly"), 1).await.unwrap()[0];
    assert_eq!(run.state, RunState::Skipped);
    assert!(
        run.message.as_deref().unwrap().contains("other-host:4242"),
        "{:?}",
        run.message
    );
    assert_eq!(r.scans().await.len(), 1);

    // That process died: its lock goes stale and is taken over.
    sqlx_stale(&r.store, now - 3_600_000).await;
    clock.set(utc("2026-11-29T00:40:01Z"));
    s.tick().await.unwrap();
    s.wait_idle().await;
    let run = &r.store.job_runs(Some("nightly"), 1).await.unwrap()[0];
    assert_eq!(run.state, RunState::Completed, "{:?}", run.message);
    assert_eq!(r.scans().await.len(), 2);
    assert!(r.store.platform_locks().await.unwrap().is_empty());
}

/// Makes the held lock look an hour old (as if its holder died then).
async fn sqlx_stale(store: &Store, at_ms: i64) {
    let holder = &store.platform_locks().await.unwrap()[0];
    // Take it as the dead holder at `at_ms`, which is what a heartbeat
    // would have left behind.
    assert!(
        store
            .renew_platform_lock(&holder.platform, &holder.owner, None, at_ms)
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stops_at_its_deadline_and_the_next_run_resumes_it() {
    let r = rig(60).await;
    r.platform_rate(10.0);
    let clock = Arc::new(ManualClock::new(utc("2026-11-29T00:00:30Z")));
    let mut j = job("window", "0 2 * * *");
    j.keywords = vec!["插座".into(), "电水壶".into(), "玩具".into()];
    j.max_pages = Some(3);
    j.max_duration = Some("2s".into());
    let s = r.scheduler(vec![j], clock.clone());
    let t0 = std::time::Instant::now();
    let id = s.run_now("window", "boss").await.unwrap();
    s.wait_idle().await;
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(20),
        "stopped near the deadline, took {:?}",
        t0.elapsed()
    );
    let run = r.store.job_run(id).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Interrupted, "{:?}", run.message);
    assert_eq!(run.trigger, "manual");
    assert_eq!(run.requested_by.as_deref(), Some("boss"));
    assert!(
        run.message.as_deref().unwrap().contains("截止"),
        "{:?}",
        run.message
    );
    let scan_id = run.scan_ids[0];
    assert_eq!(r.scans().await, [(scan_id, RunState::Interrupted)]);
    let frontier = r.store.frontier_counts(scan_id).await.unwrap();
    assert!(frontier.open() > 0, "work was left for the next run");
    assert!(r.store.platform_locks().await.unwrap().is_empty());

    // The next run picks the same scan up and finishes it.
    r.platform_rate(0.0);
    let id = s.run_now("window", "boss").await.unwrap();
    s.wait_idle().await;
    let run = r.store.job_run(id).await.unwrap().unwrap();
    assert_eq!(run.state, RunState::Completed, "{:?}", run.message);
    assert_eq!(run.scan_ids, [scan_id], "the same scan, resumed");
    assert_eq!(r.scans().await, [(scan_id, RunState::Completed)]);
    assert_eq!(r.store.frontier_counts(scan_id).await.unwrap().open(), 0);

    // "Run now" of a job that is not configured says so.
    let e = s.run_now("nope", "boss").await.unwrap_err().to_string();
    assert!(e.contains("nope"), "{e}");
}

/// The built-in pruning job applies `[retention]` at its cron time and
/// records what it removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retention_policy_is_applied_at_night() {
    let r = rig(20).await;
    let clock = Arc::new(ManualClock::new(utc("2026-11-29T12:00:00Z")));
    let mut settings = Settings::default();
    settings.crawl.platforms_dir = r.platforms.clone();
    settings.schedule.prune_cron = "0 4 * * *".into();
    let fetcher = Arc::new(Fetcher::new(settings.crawl.fetch_settings()).unwrap());
    let shutdown = CancellationToken::new();
    let s = Scheduler::new(
        r.store.clone(),
        Arc::new(settings),
        fetcher,
        clock.clone(),
        shutdown,
    )
    .unwrap();
    assert_eq!(
        s.tick().await.unwrap(),
        [TickAction::Baseline {
            job: "prune".into()
        }]
    );
    // 04:00 in Shanghai is 20:00 UTC.
    clock.set(utc("2026-11-29T20:00:05Z"));
    assert_eq!(started(&s.tick().await.unwrap()), [(Trigger::Schedule, 1)]);
    s.wait_idle().await;
    let run = &r.store.job_runs(Some("prune"), 1).await.unwrap()[0];
    assert_eq!(run.state, RunState::Completed, "{:?}", run.message);
    assert!(
        run.message
            .as_deref()
            .unwrap()
            .contains("清理页面正文 0 个"),
        "{:?}",
        run.message
    );

    // A job may not take its name.
    let mut settings = Settings::default();
    settings.schedule.jobs = vec![job("prune", "0 1 * * *")];
    let e = settings.validate().unwrap_err().to_string();
    assert!(e.contains("prune") && e.contains("built-in"), "{e}");
}

/// `cccwatch scan` under cron: it will not scan a platform another process
/// is scanning (exit 75, naming the holder), and scans it once free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scan_command_respects_the_lock() {
    let r = rig(20).await;
    let db = r._dir.path().join("t.db");
    let now = Utc::now().timestamp_millis();
    r.store
        .try_lock_platform(
            "demo",
            "nightbox:77:abc:schedule_nightly",
            "schedule nightly",
            now,
            0,
        )
        .await
        .unwrap()
        .unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cccwatch"))
            .current_dir(support::root())
            .args(["--no-progress", "--db"])
            .arg(format!("sqlite://{}", db.display()))
            .args([
                "scan",
                "--platform",
                "demo",
                "--keywords",
                "插座",
                "--max-pages",
                "1",
            ])
            .arg("--base-url")
            .arg(r.market.base_url())
            .output()
            .unwrap()
    };
    let out = run();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("nightbox:77"), "{stderr}");
    assert!(r.scans().await.is_empty(), "no scan was started");

    r.store
        .unlock_platform("demo", "nightbox:77:abc:schedule_nightly")
        .await
        .unwrap();
    let out = run();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(r.scans().await.len(), 1);
    assert!(r.store.platform_locks().await.unwrap().is_empty());
}

/// The 定时任务 page under `serve`: every role sees the jobs, the next run,
/// the last run and its result; a supervisor starts a job now (audited),
/// a viewer may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_page_shows_jobs_and_a_supervisor_runs_one_now() {
    use cccwatch::schedule::SystemClock;
    use cccwatch::web::schedule::ScheduleHandle;
    use cccwatch::web::{AppState, serve};
    let s = support::seeded(30).await;
    let platforms = s.dir.path().join("platforms");
    std::fs::create_dir_all(&platforms).unwrap();
    let text = std::fs::read_to_string(support::root().join("config/platforms/demo.toml"))
        .unwrap()
        .replace(
            "base_url = \"http://127.0.0.1:8080\"",
            &format!("base_url = \"{}\"", s.market.base_url()),
        );
    std::fs::write(platforms.join("demo.toml"), text).unwrap();
    let mut settings = Settings::default();
    settings.crawl.platforms_dir = platforms;
    // New Year's Day at 03:00 only: nothing runs unless asked.
    settings.schedule.jobs = vec![job("yearly", "0 3 1 1 *")];
    let settings = Arc::new(settings);
    let fetcher = Arc::new(Fetcher::new(settings.crawl.fetch_settings()).unwrap());
    let stop = CancellationToken::new();
    let scheduler = Arc::new(
        Scheduler::new(
            s.store.clone(),
            settings.clone(),
            fetcher,
            Arc::new(SystemClock),
            stop.clone(),
        )
        .unwrap(),
    );
    let (req_tx, req_rx) = tokio::sync::mpsc::channel(4);
    let looping = tokio::spawn(scheduler.clone().run(req_rx));
    let state = AppState::with_schedule(
        AppState::new(
            s.store.clone(),
            support::web_settings(),
            cccwatch::certdb::Catalog::embedded(),
            s.brands.clone(),
        ),
        ScheduleHandle {
            settings,
            requests: Some(req_tx),
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(state, listener, stop.clone().cancelled_owned()));

    let (viewer, csrf) = support::web_login(&base, "zhao").await;
    let page = viewer
        .get(format!("{base}/schedule"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("yearly") && page.contains("0 3 1 1 *"),
        "{page}"
    );
    assert!(page.contains("-01-01 03:00:00"), "the next run is shown");
    assert!(page.contains("尚未运行"));
    assert!(!page.contains("立即运行"), "a viewer has no run button");
    let refused = viewer
        .post(format!("{base}/schedule/run"))
        .form(&[("_csrf", csrf.as_str()), ("job", "yearly")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);

    let (boss, csrf) = support::web_login(&base, "boss").await;
    let page = boss.get(format!("{base}/schedule")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("立即运行"));
    let resp = boss
        .post(format!("{base}/schedule/run"))
        .form(&[("_csrf", csrf.as_str()), ("job", "yearly")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::SEE_OTHER);
    let to = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/schedule?started="), "{to}");
    scheduler.wait_idle().await;
    let page = boss
        .get(format!("{base}{to}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("已启动运行"), "{page}");
    assert!(
        page.contains("已完成") && page.contains("手动（boss）"),
        "{page}"
    );
    let run = &s.store.job_runs(Some("yearly"), 1).await.unwrap()[0];
    assert_eq!((run.state, run.scan_ids.len()), (RunState::Completed, 1));
    assert!(page.contains(&format!("/scans/{}", run.scan_ids[0])));
    let audit = s.store.audit_page(None, None, 10).await.unwrap();
    assert!(
        format!("{audit:?}").contains("schedule_run_now"),
        "run now is in the audit log"
    );

    // An unknown job is refused with a message.
    let resp = boss
        .post(format!("{base}/schedule/run"))
        .form(&[("_csrf", csrf.as_str()), ("job", "<b>nope</b>")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::CONFLICT);
    let body = resp.text().await.unwrap();
    assert!(body.contains("nope") && !body.contains("<b>nope"), "{body}");

    stop.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(30), looping)
        .await
        .expect("the scheduler stops at shutdown")
        .unwrap();
}
