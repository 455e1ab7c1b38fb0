//! Several processes on one PostgreSQL database (`cccwatch worker`, issue
//! 18): three workers execute the scan `cccwatch scan` created; the one
//! sending the marketplace's requests is killed with `kill -9` mid-scan.
//! The scan completes, every item is stored exactly once, and the host's
//! quota held at the server for the whole cluster. A scan whose own
//! process is killed is adopted by a worker and finished.

use crate::support::{demo_config, max_per_second, pg_database, raw_i64};
use cccwatch::market::{Market, MarketConfig};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Requests per second the platform file allows (burst 1).
const QUOTA: usize = 25;

/// A config folder: the demo platform at `market` with quota [`QUOTA`]
/// (burst 1), the database at `db_url`, short cluster leases.
fn config_dir(dir: &Path, market: &Market, db_url: &str) -> std::path::PathBuf {
    demo_config(
        dir,
        market,
        db_url,
        QUOTA as f64,
        Some(1),
        "[cluster]\nlease_secs = 3\nrenew_secs = 1\npoll_ms = 200\nhandover_ms = 1000\n",
    )
}

/// A marketplace of `items` items on small pages (no removed ones), its
/// config folder (see [`config_dir`]) and the database migrated.
async fn marketplace_and_config(
    dir: &Path,
    items: usize,
    db_url: &str,
) -> (Market, std::path::PathBuf) {
    let market = Market::start(MarketConfig {
        items,
        small_pages: true,
        removed_share: 0.0,
        latency: Duration::from_millis(5),
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let config = config_dir(dir, &market, db_url);
    let migrated = Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .args(["--config", config.to_str().unwrap(), "db", "migrate"])
        .output()
        .unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    (market, config)
}

fn cccwatch(config: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .args(["--config", config.to_str().unwrap(), "--no-progress", "-v"])
        .args(args)
        .env_remove("CCCWATCH__DATABASE__URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The pid of the process holding `host`'s lease (`machine:pid:...`).
async fn lease_holder(url: &str, host: &str) -> Option<u32> {
    let store = cccwatch::store::Store::open(url).await.unwrap();
    let leases = store
        .host_leases(store.now().timestamp_millis() - 3_000)
        .await
        .unwrap();
    store.close().await;
    leases
        .into_iter()
        .find(|l| l.host == host)
        .and_then(|l| l.owner.split(':').nth(1)?.parse().ok())
}

async fn live_workers(url: &str) -> usize {
    let store = cccwatch::store::Store::open(url).await.unwrap();
    let now = store.now().timestamp_millis();
    let n = store
        .workers(now)
        .await
        .unwrap()
        .iter()
        .filter(|w| w.role == "worker" && w.stopped_ms.is_none() && w.heartbeat_ms > now - 3_000)
        .count();
    store.close().await;
    n
}

fn output(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn stop(mut child: Child) -> (Option<i32>, String) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    output(child)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_share_a_scan_and_a_kill_9_loses_nothing() {
    let Some(pg) = pg_database("workers::three_workers").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The database exists and is migrated before four processes open it.
    let (market, config) = marketplace_and_config(dir.path(), 400, &pg.url).await;
    let host = market.base_url().trim_start_matches("http://").to_string();
    let mut workers: Vec<Child> = (0..3).map(|_| cccwatch(&config, &["worker"])).collect();
    let t = Instant::now();
    while live_workers(&pg.url).await < 3 {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "workers did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // `worker list --json` shows the three, alive, with their pids.
    let listed = Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "worker",
            "list",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let view: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let mut alive: Vec<i64> = view["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["role"] == "worker" && p["state"] == "alive")
        .map(|p| p["pid"].as_i64().unwrap())
        .collect();
    let mut pids: Vec<i64> = workers.iter().map(|w| i64::from(w.id())).collect();
    pids.sort_unstable();
    alive.sort_unstable();
    assert_eq!(alive, pids, "{view}");
    let scan = cccwatch(
        &config,
        &[
            "scan",
            "--platform",
            "demo",
            "--as-of",
            "2026-11-28",
            "--max-pages",
            "3",
        ],
    );
    let scan_pid = scan.id();

    // Kill the worker that sends the marketplace's requests, once it has
    // committed a good part of the pages.
    let t = Instant::now();
    let killed_at = loop {
        assert!(t.elapsed() < Duration::from_secs(60), "no progress");
        let pages = raw_i64(&pg.url, "SELECT COUNT(*) FROM pages")
            .await
            .unwrap_or(0);
        if pages >= 150
            && let Some(pid) = lease_holder(&pg.url, &host).await
        {
            assert_ne!(
                pid, scan_pid,
                "with workers alive, `scan` leaves the crawl to them"
            );
            let Some(i) = workers.iter().position(|w| w.id() == pid) else {
                panic!("the lease holder {pid} is none of the workers");
            };
            let mut victim = workers.remove(i);
            victim.kill().unwrap(); // SIGKILL
            victim.wait().unwrap();
            break market.started().elapsed().as_millis() as u64;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // The scan completes without the killed worker, and says so as always.
    let t = Instant::now();
    let mut scan = scan;
    while scan.try_wait().unwrap().is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the scan did not complete"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (code, text) = output(scan);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("completed"), "{text}");
    assert!(text.contains("findings ("), "the scan was matched: {text}");

    // Every item stored exactly once: one item page each, one listing each.
    let url = &pg.url;
    assert_every_item_once(url, 200).await;
    // The quota held at the server for the whole cluster, and before the
    // kill the cluster used it.
    let at: Vec<u64> = market.requests().iter().map(|r| r.at_ms).collect();
    let worst = max_per_second(&at);
    assert!(
        worst <= QUOTA,
        "{worst} requests in one second with a quota of {QUOTA}/s for the cluster"
    );
    let before: Vec<u64> = at.iter().copied().filter(|t| *t < killed_at).collect();
    let span = (before[before.len() - 1] - before[0]) as f64 / 1000.0;
    let rate = (before.len() - 1) as f64 / span;
    assert!(
        rate >= 0.9 * QUOTA as f64,
        "the cluster used {rate:.1} requests/s of {QUOTA}"
    );

    // The others stop on SIGTERM, handing back what they hold.
    for w in workers {
        let (code, text) = stop(w);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("worker stopped"), "{text}");
    }
    let store = cccwatch::store::Store::open(url).await.unwrap();
    assert!(
        store.host_leases(1).await.unwrap().is_empty(),
        "leases released"
    );
    store.close().await;
    market.shutdown().await;
}

/// The scan completed once and stored every item exactly once: one item
/// page each, one listing each, every frontier entry done; at least `min`
/// items.
async fn assert_every_item_once(url: &str, min: i64) {
    let twice = raw_i64(
        url,
        "SELECT COUNT(*) FROM (SELECT item_id FROM pages WHERE kind = 'item' \
         GROUP BY item_id HAVING COUNT(*) > 1) d",
    )
    .await;
    assert_eq!(twice, Some(0), "an item page was stored twice");
    let items = raw_i64(
        url,
        "SELECT COUNT(DISTINCT item_id) FROM pages WHERE kind = 'item'",
    )
    .await
    .unwrap();
    let listings = raw_i64(url, "SELECT COUNT(*) FROM listings").await.unwrap();
    let done = raw_i64(
        url,
        "SELECT COUNT(*) FROM frontier WHERE kind = 'item' AND state = 'done'",
    )
    .await
    .unwrap();
    assert!(items >= min, "{items} items");
    assert_eq!((listings, done), (items, items));
    assert_eq!(
        raw_i64(
            url,
            "SELECT COUNT(*) FROM frontier WHERE state IN ('pending', 'inflight')"
        )
        .await,
        Some(0)
    );
    assert_eq!(
        raw_i64(url, "SELECT COUNT(*) FROM scans WHERE state = 'completed'").await,
        Some(1)
    );
}

/// The process that started a scan (its coordinator) is killed with
/// `kill -9` mid-scan, with a worker alive: the worker finds the scan
/// without a coordinator (its lock held by a dead process of this machine),
/// adopts it, finishes it and matches it. Nothing is stored twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_adopts_a_scan_whose_coordinator_was_killed() {
    let Some(pg) = pg_database("workers::adopt_orphan").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (market, config) = marketplace_and_config(dir.path(), 300, &pg.url).await;
    // The scan starts alone: with no worker alive it crawls itself.
    let mut scan = cccwatch(
        &config,
        &["scan", "--platform", "demo", "--as-of", "2026-11-28"],
    );
    let t = Instant::now();
    loop {
        assert!(t.elapsed() < Duration::from_secs(60), "no progress");
        let pages = raw_i64(&pg.url, "SELECT COUNT(*) FROM pages")
            .await
            .unwrap_or(0);
        if pages >= 60 {
            break;
        }
        assert!(
            scan.try_wait().unwrap().is_none(),
            "the scan ended before it could be killed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scan.kill().unwrap(); // SIGKILL: no hand-over, the lock stays behind
    scan.wait().unwrap();
    assert_eq!(
        raw_i64(
            &pg.url,
            "SELECT COUNT(*) FROM scans WHERE state = 'running'"
        )
        .await,
        Some(1),
        "the killed scan is left running"
    );

    let worker = cccwatch(&config, &["worker"]);
    let t = Instant::now();
    while raw_i64(
        &pg.url,
        "SELECT COUNT(*) FROM scans WHERE state = 'completed'",
    )
    .await
    .unwrap_or(0)
        < 1
    {
        assert!(
            t.elapsed() < Duration::from_secs(120),
            "the worker did not finish the orphaned scan"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let url = &pg.url;
    assert_every_item_once(url, 150).await;
    assert!(
        raw_i64(url, "SELECT COUNT(*) FROM findings")
            .await
            .unwrap_or(0)
            > 0,
        "the adopted scan was matched"
    );
    let (code, text) = stop(worker);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("worker stopped"), "{text}");
    market.shutdown().await;
}

/// The 定时任务 page lists the processes with what they do and the host
/// leases; a running scan's page names who crawls it; `/metrics` counts
/// them. A process's text is shown as text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_and_metrics_show_the_processes_and_their_leases() {
    use cccwatch::scan::cluster::{ClusterTiming, Member, Role};
    let w = crate::support::seeded(30).await;
    let timing = ClusterTiming {
        renew_every: Duration::from_millis(200),
        ..ClusterTiming::default()
    };
    let member = Member::join(&w.store, Role::Worker, timing, None)
        .await
        .unwrap();
    let scan_id = w
        .store
        .create_scan(
            "demo",
            chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
            &[],
            1,
            &[],
        )
        .await
        .unwrap();
    member.set_doing(Some(scan_id), Some("扫描 <b>x</b>".into()));
    assert!(
        member
            .lease_host("shop.example:443", scan_id)
            .await
            .unwrap()
            .is_some()
    );
    tokio::time::sleep(Duration::from_millis(600)).await; // a heartbeat carries what it does
    let (base, _stop) =
        crate::support::start(&w.store, &w.brands, crate::support::web_settings()).await;
    let c = crate::support::logged_in(&base, "zhao").await;
    let page = c
        .get(format!("{base}/schedule"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(member.id()), "{page}");
    assert!(
        page.contains("工作进程") && page.contains("运行中"),
        "{page}"
    );
    assert!(page.contains("shop.example:443"), "{page}");
    assert!(
        (page.contains("扫描 &#60;b&#62;x") || page.contains("扫描 &lt;b&gt;x"))
            && !page.contains("<b>x</b>"),
        "{page}"
    );
    let scan = c
        .get(format!("{base}/scans/{scan_id}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        scan.contains("正在抓取本次扫描的进程") && scan.contains(member.id()),
        "{scan}"
    );
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("cccwatch_cluster_processes{role=\"worker\",state=\"alive\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "cccwatch_host_lease{{host=\"shop.example:443\",process=\"{}\"}} 1",
            member.id()
        )),
        "{metrics}"
    );
    member.leave().await;
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("cccwatch_host_lease{"), "{metrics}");
    assert!(
        metrics.contains("cccwatch_cluster_processes{role=\"worker\",state=\"stopped\"} 1"),
        "{metrics}"
    );
}
