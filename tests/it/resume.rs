//! A scan killed at any moment (`kill -9`) or stopped with Ctrl-C resumes
//! with `cccwatch scan --resume`: no listing is lost and none that was
//! already stored is fetched again.

use crate::support::demo_config;
use cccwatch::domain::RunState;
use cccwatch::market::{Market, MarketConfig, RequestRecord};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A config folder whose demo platform points at `market` (150 requests a
/// second), with a SQLite database in `dir`.
fn config_dir(dir: &Path, market: &Market) -> std::path::PathBuf {
    let db = format!("sqlite://{}", dir.join("r.db").display());
    demo_config(dir, market, &db, 150.0, None, "")
}

fn spawn_scan(config: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "--no-progress",
            "scan",
            "--platform",
            "demo",
            "--as-of",
            "2026-11-28",
        ])
        .args(extra)
        .env_remove("CCCWATCH__DATABASE__URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Stored listing IDs, read through the library (the scan may be running).
async fn stored_ids(dir: &Path) -> HashSet<String> {
    let store = cccwatch::store::Store::open(&format!("sqlite://{}", dir.join("r.db").display()))
        .await
        .unwrap();
    let ids = store
        .listings_page(&cccwatch::store::ListingFilter::default(), 0, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.listing.item_id)
        .collect();
    store.close().await;
    ids
}

async fn wait_for_listings(dir: &Path, n: usize, child: &mut Child) {
    let t = Instant::now();
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the scan ended before it could be interrupted"
        );
        if dir.join("r.db").exists() && stored_ids(dir).await.len() >= n {
            return;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn item_of(r: &RequestRecord) -> Option<String> {
    let p = r.path_and_query.split(['?', '#']).next()?;
    p.strip_prefix("/item/")?
        .strip_suffix(".html")
        .map(str::to_string)
}

fn finish(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

async fn market() -> Market {
    Market::start(MarketConfig {
        items: 500,
        small_pages: true,
        latency: Duration::from_millis(5),
        ..MarketConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_then_resume_loses_nothing_and_refetches_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let market = market().await;
    let config = config_dir(dir.path(), &market);
    let mut child = spawn_scan(&config, &[]);
    wait_for_listings(dir.path(), 150, &mut child).await;
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    let before = stored_ids(dir.path()).await;
    let seen_before = market.requests().len();
    assert!(
        before.len() >= 150 && before.len() < 480,
        "{} stored at the kill",
        before.len()
    );

    let (code, text) = finish(spawn_scan(&config, &["--resume"]));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("completed"), "{text}");

    let all: HashSet<String> = market.item_ids().into_iter().collect();
    assert_eq!(stored_ids(dir.path()).await, all, "a listing was lost");
    let requests = market.requests();
    for r in &requests[seen_before..] {
        if let Some(id) = item_of(r) {
            assert!(
                !before.contains(&id),
                "item {id} was stored before the kill and fetched again"
            );
        }
    }
    // In-flight pages at the kill may be fetched twice, never more.
    let mut per_item: HashMap<String, usize> = HashMap::new();
    for id in requests.iter().filter_map(item_of) {
        *per_item.entry(id).or_default() += 1;
    }
    assert!(per_item.values().all(|n| *n <= 2));
    assert_eq!(per_item.len(), 500);
    let store =
        cccwatch::store::Store::open(&format!("sqlite://{}", dir.path().join("r.db").display()))
            .await
            .unwrap();
    let scan = store.scan(1).await.unwrap().unwrap();
    assert_eq!(scan.state, RunState::Completed);
    assert!(
        store.scan(2).await.unwrap().is_none(),
        "--resume started a new scan"
    );
    store.close().await;
    market.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_cleanly_and_resume_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let market = market().await;
    let config = config_dir(dir.path(), &market);
    let mut child = spawn_scan(&config, &[]);
    wait_for_listings(dir.path(), 100, &mut child).await;
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let (code, text) = finish(child);
    assert_eq!(code, Some(3), "{text}");
    assert!(
        text.contains("interrupted") && text.contains("--resume"),
        "{text}"
    );
    let store =
        cccwatch::store::Store::open(&format!("sqlite://{}", dir.path().join("r.db").display()))
            .await
            .unwrap();
    let scan = store.scan(1).await.unwrap().unwrap();
    assert_eq!(scan.state, RunState::Interrupted);
    let counts = store.frontier_counts(1).await.unwrap();
    assert_eq!(counts.inflight, 0, "in-flight pages were not saved");
    assert!(counts.pending > 0);
    store.close().await;

    let (code, text) = finish(spawn_scan(&config, &["--resume"]));
    assert_eq!(code, Some(0), "{text}");
    let all: HashSet<String> = market.item_ids().into_iter().collect();
    assert_eq!(stored_ids(dir.path()).await, all);
    market.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_may_open_a_new_database_at_once() {
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("n.db").display());
        let opens = (0..4).map(|_| cccwatch::store::Store::open(&url));
        for s in futures_util::future::join_all(opens).await {
            s.unwrap().close().await;
        }
    }
}
