//! Observability: `/metrics` parses as Prometheus text and agrees with the
//! database, `/healthz` and `/readyz` (503 once shutdown begins or when the
//! database is gone), the bounded drain, and JSON logs whose fetch events
//! carry the scan ID and the host.
//!
//! Counters are process-wide: only `metrics_agree_with_the_database` scans
//! in this process (the log test runs the binary).

mod support;

use cccwatch::certdb::Catalog;
use cccwatch::market::{Market, MarketConfig};
use cccwatch::matching::BrandTable;
use cccwatch::store::Store;
use cccwatch::web::{AppState, serve};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{root, scan, seeded, start, web_settings};
use tokio::sync::watch;

/// Samples of a Prometheus text exposition: `name{labels}` → value.
/// Panics on a line that is not valid text format.
fn parse_prometheus(text: &str) -> BTreeMap<String, f64> {
    let sample = regex::Regex::new(
        r#"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$"#,
    )
    .unwrap();
    let meta = regex::Regex::new(
        r"^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$",
    )
    .unwrap();
    let mut typed = Vec::new();
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with('#') {
            assert!(meta.is_match(line), "bad comment line: {line}");
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                typed.push(rest.split(' ').next().unwrap().to_string());
            }
            continue;
        }
        let c = sample
            .captures(line)
            .unwrap_or_else(|| panic!("bad sample line: {line}"));
        let name = &c[1];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|b| typed.iter().any(|t| t == b))
            .unwrap_or(name);
        assert!(typed.iter().any(|t| t == base), "no TYPE for {name}");
        let key = line.rsplit_once(' ').unwrap().0.to_string();
        let value: f64 = c[5].parse().unwrap();
        assert!(out.insert(key, value).is_none(), "duplicate sample: {line}");
    }
    out
}

/// Sum of every sample of `name` (all label sets).
fn sum(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| *k == name || k.starts_with(&format!("{name}{{")))
        .map(|(_, v)| v)
        .sum()
}

async fn db_sum(pool: &sqlx::SqlitePool, column: &str) -> f64 {
    let q = format!("SELECT COALESCE(SUM({column}), 0) FROM scans");
    // The column names are the test's own constants.
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(q))
        .fetch_one(pool)
        .await
        .unwrap() as f64
}

async fn db_groups(pool: &sqlx::SqlitePool, sql: &'static str) -> Vec<(String, i64)> {
    sqlx::query_as(sql).fetch_all(pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn metrics_agree_with_the_database() {
    let s = seeded(150).await;
    // A second scan, stopped by nothing: the counters add up over scans.
    let second = scan(&s.store, &s.market).await;
    assert!(second.completed);
    let (base, _stop) = start(&s.store, &s.brands, web_settings()).await;
    let client = reqwest::Client::new();
    // Some requests for the HTTP counters: a pattern route with an ID.
    for id in [1, 2] {
        client
            .get(format!("{base}/listings/{id}"))
            .send()
            .await
            .unwrap();
    }
    client.get(format!("{base}/healthz")).send().await.unwrap();
    let resp = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let body = resp.text().await.unwrap();
    let m = parse_prometheus(&body);

    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite://{}", s.dir.path().join("t.db").display()))
            .await
            .unwrap();
    for (metric, column) in [
        ("cccwatch_pages_fetched_total", "pages_fetched"),
        ("cccwatch_pages_failed_total", "pages_failed"),
        ("cccwatch_pages_retried_total", "pages_retried"),
        ("cccwatch_robots_skipped_total", "robots_skipped"),
        ("cccwatch_requests_total", "requests"),
    ] {
        assert_eq!(
            sum(&m, metric),
            db_sum(&pool, column).await,
            "{metric} against scans.{column}\n{body}"
        );
    }
    assert!(sum(&m, "cccwatch_pages_fetched_total") > 100.0);
    // Fetched pages by status: the item and search pages answered 200.
    assert!(m.contains_key(r#"cccwatch_pages_fetched_total{platform="demo",status="200"}"#));
    assert_eq!(
        m[r#"cccwatch_scan_duration_seconds_count{platform="demo",outcome="completed"}"#],
        2.0
    );
    assert_eq!(m["cccwatch_scans_running"], 0.0);
    assert_eq!(m["cccwatch_database_up"], 1.0);

    // Gauges from the database.
    let verdicts = db_groups(
        &pool,
        "SELECT verdict, COUNT(*) FROM findings GROUP BY verdict",
    )
    .await;
    assert!(!verdicts.is_empty());
    for (v, n) in &verdicts {
        assert_eq!(
            m[&format!("cccwatch_findings{{verdict=\"{v}\"}}")],
            *n as f64,
            "{v}"
        );
    }
    assert_eq!(
        sum(&m, "cccwatch_findings"),
        verdicts.iter().map(|(_, n)| *n as f64).sum::<f64>()
    );
    let backlog: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM findings WHERE review_state = 'pending'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(backlog > 0);
    assert_eq!(m["cccwatch_review_backlog"], backlog as f64);
    let notices = db_groups(&pool, "SELECT state, COUNT(*) FROM notices GROUP BY state").await;
    assert_eq!(
        sum(&m, "cccwatch_notices"),
        notices.iter().map(|(_, n)| *n as f64).sum::<f64>()
    );

    // Web requests by route pattern, never by raw path; no listing text.
    assert!(
        m.keys()
            .any(|k| k.starts_with("cccwatch_http_requests_total")
                && k.contains(r#"route="/listings/{id}""#)),
        "{body}"
    );
    assert!(!body.contains("/listings/1\""), "{body}");
    assert!(m.keys().any(
        |k| k.starts_with("cccwatch_http_requests_total") && k.contains(r#"route="/healthz""#)
    ));
    let titles: Vec<String> = sqlx::query_scalar("SELECT title FROM listings LIMIT 50")
        .fetch_all(&pool)
        .await
        .unwrap();
    for t in titles.iter().filter(|t| t.chars().count() > 3) {
        assert!(!body.contains(t.as_str()), "listing text in /metrics: {t}");
    }
    assert!(!body.contains("<script>"));
}

async fn fresh_store(dir: &tempfile::TempDir) -> Store {
    Store::open(&format!("sqlite://{}", dir.path().join("p.db").display()))
        .await
        .unwrap()
}

/// Serves `store` with a drain of `drain_secs`; the state, the base URL, the
/// shutdown trigger and the server task.
async fn serve_with(
    store: Store,
    drain_secs: u64,
) -> (
    Arc<AppState>,
    String,
    watch::Sender<bool>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let mut web = web_settings();
    web.shutdown_timeout_secs = drain_secs;
    let state = AppState::new(store, web, Catalog::embedded(), BrandTable::embedded());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, mut rx) = watch::channel(false);
    let server = tokio::spawn(serve(state.clone(), listener, async move {
        let _ = rx.changed().await;
    }));
    (state, base, tx, server)
}

#[tokio::test]
async fn readyz_is_503_once_shutdown_begins_and_healthz_stays_ok() {
    let dir = tempfile::tempdir().unwrap();
    let (state, base, stop, server) = serve_with(fresh_store(&dir).await, 30).await;
    let get = |path: &str| reqwest::get(format!("{base}{path}"));
    let h = get("/healthz").await.unwrap();
    assert_eq!(h.status(), 200);
    assert_eq!(h.text().await.unwrap(), "ok");
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    state.begin_shutdown();
    let r = get("/readyz").await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("shutting down"));
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    // The real signal: the server stops and is marked as shutting down.
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn readyz_is_503_when_the_database_does_not_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store = fresh_store(&dir).await;
    let (state, base, _stop, _server) = serve_with(store.clone(), 30).await;
    assert_eq!(
        reqwest::get(format!("{base}/readyz"))
            .await
            .unwrap()
            .status(),
        200
    );
    store.close().await;
    let r = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("database"));
    assert!(!state.is_shutting_down());
    // /metrics still answers, saying the database is down.
    let body = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("cccwatch_database_up 0"), "{body}");
}

#[tokio::test]
async fn shutdown_drops_requests_still_open_after_the_drain_timeout() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let (state, base, stop, server) = serve_with(fresh_store(&dir).await, 1).await;
    // A client that never finishes its request keeps a connection busy.
    let addr = base.trim_start_matches("http://");
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("serve returns within the drain timeout")
        .unwrap()
        .unwrap();
    // It waited for the open request (web.shutdown_timeout_secs = 1), then gave up on it.
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(state.is_shutting_down());
    drop(slow);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_of_fetches_carry_scan_id_and_host() {
    let market = Market::start(MarketConfig {
        items: 40,
        small_pages: true,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let platforms = dir.path().join("platforms");
    std::fs::create_dir(&platforms).unwrap();
    std::fs::copy(
        root().join("config/platforms/demo.toml"),
        platforms.join("demo.toml"),
    )
    .unwrap();
    let config = dir.path().join("cccwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[crawl]\nplatforms_dir = {:?}\nretry_min_secs = 0.05\nretry_max_secs = 0.2\n",
            platforms.display().to_string()
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env_remove("CCCWATCH_CONFIG")
        .args(["--config", config.to_str().unwrap()])
        .args([
            "--db",
            &format!("sqlite://{}", dir.path().join("t.db").display()),
        ])
        .args(["--log-format", "json", "-vv", "--no-progress"])
        .args([
            "scan",
            "--platform",
            "demo",
            "--base-url",
            &market.base_url(),
        ])
        .args([
            "--keywords",
            "插座",
            "--max-pages",
            "1",
            "--as-of",
            "2026-11-28",
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let host = market
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(!events.is_empty(), "no JSON log lines: {stderr}");
    let fetched: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["message"] == "fetched")
        .collect();
    assert!(fetched.len() >= 2, "{stderr}");
    for e in &fetched {
        let span = &e["span"];
        assert_eq!(span["name"], "fetch", "{e}");
        assert_eq!(span["scan_id"], 1, "{e}");
        assert_eq!(span["host"], host.as_str(), "{e}");
        assert_eq!(span["platform"], "demo", "{e}");
    }
    // The scan's own events carry the scan ID too.
    let ended = events
        .iter()
        .find(|e| e["message"] == "scan ended")
        .unwrap_or_else(|| panic!("no `scan ended` event: {stderr}"));
    assert_eq!(ended["span"]["scan_id"], 1, "{ended}");
}
