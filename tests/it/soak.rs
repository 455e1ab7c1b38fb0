//! Soak run, CI-sized: the real `cccwatch serve` with a job every five
//! seconds against the demo marketplace for a few minutes
//! (`CCCWATCH_SOAK_SECS`, default 180). Memory and open file descriptors
//! must stay flat, every run must complete (or be skipped because the
//! previous one was still going), `/metrics` must agree with the database,
//! and SIGTERM must stop it cleanly within the bound.
//!
//! Not part of the default `cargo test` (`#[ignore]`): `.ci/run` runs it
//! as a step of its own, `cargo test --locked --release --test it --
//! --ignored soak::`.

use crate::support;

use cccwatch::domain::RunState;
use cccwatch::market::{Market, MarketConfig};
use cccwatch::store::Store;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Sample {
    at: Duration,
    rss_kb: u64,
    fds: usize,
}

fn sample(pid: u32, started: Instant) -> Sample {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    Sample {
        at: started.elapsed(),
        rss_kb,
        fds,
    }
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// The sum of a metric's samples (all label sets) in Prometheus text.
fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a soak run of three minutes: .ci/run runs it as a step of its own"]
async fn serve_runs_a_job_every_few_seconds_and_stays_flat() {
    if cfg!(not(target_os = "linux")) {
        eprintln!("skipped: the soak test reads /proc");
        return;
    }
    let secs: u64 = std::env::var("CCCWATCH_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(180);
    let dir = tempfile::tempdir().unwrap();
    let market = Market::start(MarketConfig {
        items: 300,
        small_pages: true,
        removed_share: 0.0,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let platforms = dir.path().join("platforms");
    std::fs::create_dir_all(&platforms).unwrap();
    let demo = std::fs::read_to_string(support::root().join("config/platforms/demo.toml"))
        .unwrap()
        .replace(
            "base_url = \"http://127.0.0.1:8080\"",
            &format!("base_url = \"{}\"", market.base_url()),
        );
    std::fs::write(platforms.join("demo.toml"), demo).unwrap();
    let db = dir.path().join("soak.db");
    let config = dir.path().join("cccwatch.toml");
    std::fs::write(
        &config,
        format!(
            r#"[database]
url = "sqlite://{db}"
[crawl]
platforms_dir = "{platforms}"
retry_min_secs = 0.05
[web]
bind = "127.0.0.1:0"
[notices]
pdf_browser = ""
[schedule]
lock_stale_secs = 60
lock_renew_secs = 5
[[schedule.jobs]]
name = "soak"
cron = "*/5 * * * * *"
platforms = ["demo"]
keywords = ["插座", "电水壶", "玩具"]
max_pages = 1
"#,
            db = db.display(),
            platforms = platforms.display()
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_cccwatch");
    let import = Command::new(bin)
        .current_dir(support::root())
        .arg("--config")
        .arg(&config)
        .args([
            "--no-progress",
            "certdb",
            "import",
            "certdb/sample/certificates.csv",
        ])
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );

    let mut child = Killer(
        Command::new(bin)
            .current_dir(support::root())
            .arg("--config")
            .arg(&config)
            .args(["--log-format", "json", "serve"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id();
    let mut first = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let at = first.find("http://").expect("serve prints its address") + 7;
    let addr = first[at..].split('/').next().unwrap().to_string();
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();

    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < Duration::from_secs(secs) {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let health = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert!(health.status().is_success());
        samples.push(sample(pid, started));
    }

    // /metrics against the database, at a moment when no run is going.
    let store = Store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let mut agreed = false;
    for _ in 0..60 {
        let before = db_figures(&store).await;
        let metrics = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let after = db_figures(&store).await;
        if before != after || before.running > 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            continue;
        }
        assert_eq!(
            metric_sum(&metrics, "cccwatch_pages_fetched_total") as i64,
            before.fetched,
            "pages fetched: /metrics and the scans table\n{metrics}"
        );
        assert_eq!(
            metric_sum(&metrics, "cccwatch_pages_failed_total") as i64,
            before.failed,
            "pages failed"
        );
        assert_eq!(
            metric_sum(&metrics, "cccwatch_scan_duration_seconds_count") as i64,
            before.scans_finished,
            "scans finished"
        );
        assert_eq!(
            metric_sum(&metrics, "cccwatch_job_runs_total") as i64,
            before.runs_finished,
            "job runs ended"
        );
        agreed = true;
        break;
    }
    assert!(
        agreed,
        "found a quiet moment to compare /metrics with the database"
    );

    // SIGTERM: stops within the bound, cleanly.
    let term = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            term.elapsed() < Duration::from_secs(45),
            "serve stops within 45 s of SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "serve exits 0 after SIGTERM: {status:?}");
    let stop_secs = term.elapsed().as_secs_f64();

    // Every run completed, or was skipped while the previous one went on;
    // one cut short by the shutdown is saved as interrupted.
    let runs = store.job_runs(Some("soak"), 10_000).await.unwrap();
    let count = |s: RunState| runs.iter().filter(|r| r.state == s).count();
    let (completed, skipped, interrupted) = (
        count(RunState::Completed),
        count(RunState::Skipped),
        count(RunState::Interrupted),
    );
    assert_eq!(
        completed + skipped + interrupted,
        runs.len(),
        "no run failed: {:?}",
        runs.iter()
            .filter(|r| {
                ![
                    RunState::Completed,
                    RunState::Skipped,
                    RunState::Interrupted,
                ]
                .contains(&r.state)
            })
            .collect::<Vec<_>>()
    );
    assert!(interrupted <= 1, "only the run cut short by shutdown");
    assert!(
        completed as u64 >= secs / 10,
        "{completed} runs completed in {secs} s"
    );
    assert!(
        store.platform_locks().await.unwrap().is_empty(),
        "locks released"
    );

    // Flat: after warming up, memory grows by less than a fifth (plus 8 MB
    // for allocator noise) and descriptors by at most a few.
    let warm: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.at > Duration::from_secs(secs / 4))
        .collect();
    let half = warm.len() / 2;
    let early = median(warm[..half].iter().map(|s| s.rss_kb).collect());
    let late = median(warm[half..].iter().map(|s| s.rss_kb).collect());
    let fd_min = warm.iter().map(|s| s.fds).min().unwrap();
    let fd_max = warm.iter().map(|s| s.fds).max().unwrap();
    eprintln!(
        "soak: {secs} s, {} runs ({completed} completed, {skipped} skipped, {interrupted} interrupted), \
         RSS median {early} kB → {late} kB, fds {fd_min}–{fd_max}, stopped in {stop_secs:.1} s",
        runs.len()
    );
    assert!(
        late <= early + early / 5 + 8 * 1024,
        "memory grew from {early} kB to {late} kB"
    );
    assert!(
        fd_max - fd_min <= 4,
        "open files went from {fd_min} to {fd_max}"
    );
}

#[derive(Debug, PartialEq)]
struct DbFigures {
    fetched: i64,
    failed: i64,
    scans_finished: i64,
    runs_finished: i64,
    running: usize,
}

async fn db_figures(store: &Store) -> DbFigures {
    let mut f = DbFigures {
        fetched: 0,
        failed: 0,
        scans_finished: 0,
        runs_finished: 0,
        running: 0,
    };
    for id in 1.. {
        let Some(s) = store.scan(id).await.unwrap() else {
            break;
        };
        f.fetched += s.pages_fetched;
        f.failed += s.pages_failed;
        if s.state.is_finished() {
            f.scans_finished += 1;
        }
    }
    let runs = store.job_runs(None, 100_000).await.unwrap();
    f.running = runs.iter().filter(|r| r.state == RunState::Running).count();
    f.runs_finished = (runs.len() - f.running) as i64;
    f
}
