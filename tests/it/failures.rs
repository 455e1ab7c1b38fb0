//! A failed scan never looks like a good one, and nothing is silently wrong
//! after a crash. Each situation runs from the command line, as cron or an
//! operator would: a closed port, a host name that resolves to a private
//! address, robots.txt answering 5xx, a marketplace that stops answering
//! mid-scan, a resume after the marketplace moved, an empty certificate
//! database; and `kill -9` at many points of a certificate import.

use crate::support::{root, text};
use cccwatch::domain::RunState;
use cccwatch::market::{Market, MarketConfig};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The binary in `dir`, with fast retries so that failures end quickly.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cccwatch"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("CCCWATCH__DATABASE__URL")
        .env_remove("RUST_LOG")
        .env("CCCWATCH__CRAWL__RETRY_MIN_SECS", "0.05")
        .env("CCCWATCH__CRAWL__RETRY_MAX_SECS", "0.2")
        .env("CCCWATCH__CRAWL__ROBOTS_RETRY_SECS", "0.2")
        .env("CCCWATCH__CRAWL__TIMEOUT_SECS", "2");
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("run cccwatch")
}

/// `scan --platform demo --base-url BASE` on `db`.
fn scan_demo(dir: &Path, db: &str, base: &str) -> Command {
    command(
        dir,
        &["--db", db, "scan", "--platform", "demo", "--base-url", base],
    )
}

/// A folder with the shipped demo platform file, and its database URL.
fn workdir() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("config/platforms")).unwrap();
    std::fs::copy(
        root().join("config/platforms/demo.toml"),
        dir.path().join("config/platforms/demo.toml"),
    )
    .unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    (dir, db)
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The stored state and message of scan `id`.
async fn scan_state(db: &str, id: i64) -> (RunState, String) {
    let store = cccwatch::store::Store::open(db).await.unwrap();
    let s = store.scan(id).await.unwrap().unwrap();
    (s.state, s.message.unwrap_or_default())
}

mod scan_outcomes {
    use super::*;

    #[tokio::test]
    async fn a_closed_port_fails_at_once_and_says_connection_refused() {
        let (dir, db) = workdir();
        let port = closed_port();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let o = scan_demo(dir.path(), &db, &base)
            .output()
            .expect("run cccwatch");
        let t = text(&o);
        assert_eq!(o.status.code(), Some(5), "{t}");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
        assert!(t.contains("scan 1 of demo: failed 失败"), "{t}");
        assert!(
            t.contains(&format!("robots.txt 无法获取：连接被拒绝 127.0.0.1:{port}")),
            "{t}"
        );
        assert!(t.contains("0 skipped by robots.txt"), "{t}");
        assert!(!t.contains("completed"), "{t}");
        let (state, message) = scan_state(&db, 1).await;
        assert_eq!(state, RunState::Failed);
        assert!(message.contains("平台无法访问"), "{message}");
        assert!(message.contains("连接被拒绝"), "{message}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_name_that_resolves_to_a_private_address_is_refused_at_once() {
        let (dir, db) = workdir();
        // The shipped file allows private addresses (the demo runs locally);
        // a real platform's does not.
        let path = dir.path().join("config/platforms/demo.toml");
        let file = std::fs::read_to_string(&path).unwrap().replace(
            "allow_private_addresses = true",
            "allow_private_addresses = false",
        );
        std::fs::write(&path, file).unwrap();
        let market = Market::start(MarketConfig {
            items: 50,
            ..MarketConfig::default()
        })
        .await
        .unwrap();
        let port = market
            .base_url()
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_string();
        let base = format!("http://localhost:{port}");
        let started = Instant::now();
        let o = scan_demo(dir.path(), &db, &base)
            .output()
            .expect("run cccwatch");
        let t = text(&o);
        assert_eq!(o.status.code(), Some(5), "{t}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "refused at once, not after retries: {:?}",
            started.elapsed()
        );
        assert!(t.contains("地址为内网或特殊地址"), "{t}");
        assert!(!t.contains("robots.txt 无法获取"), "{t}");
        assert!(market.requests().is_empty(), "nothing reached the server");
        market.shutdown().await;
    }

    #[test]
    fn a_bad_platform_file_exits_78_from_scan_and_adapter_check() {
        let (dir, db) = workdir();
        std::fs::write(
            dir.path().join("config/platforms/bad.toml"),
            "name = \"bad\"\nbase_url = \"http://x\"\n[search]\nurl = \"{base}/?q={keyword}\"\ncard = \"li[\"\nitem_link = \"a@href\"\n",
        )
        .unwrap();
        let o = run(dir.path(), &["--db", &db, "scan", "--platform", "bad"]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(78), "{t}");
        assert!(t.contains("bad.toml") && t.contains("search.card"), "{t}");
        let o = run(dir.path(), &["adapter", "check"]);
        assert_eq!(o.status.code(), Some(78), "{}", text(&o));
        // A platform that does not exist names the ones there.
        let o = run(dir.path(), &["--db", &db, "scan", "--platform", "nope"]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(78), "{t}");
        assert!(t.contains("demo"), "{t}");
    }

    /// A server that answers every request with `status`.
    fn answering(status: u16) -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in l.incoming() {
                let Ok(mut s) = stream else { continue };
                std::thread::spawn(move || {
                    use std::io::{Read, Write};
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf);
                    let _ = write!(
                        s,
                        "HTTP/1.1 {status} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn robots_txt_answering_5xx_holds_the_crawl_and_is_reported() {
        let (dir, db) = workdir();
        let port = answering(500);
        let base = format!("http://127.0.0.1:{port}");
        let o = scan_demo(dir.path(), &db, &base)
            .output()
            .expect("run cccwatch");
        let t = text(&o);
        assert_eq!(o.status.code(), Some(5), "{t}");
        assert!(
            t.contains(&format!(
                "robots.txt 无法获取：HTTP 状态 500 127.0.0.1:{port}"
            )),
            "{t}"
        );
        assert!(t.contains("0 skipped by robots.txt"), "{t}");
        let (state, _) = scan_state(&db, 1).await;
        assert_eq!(state, RunState::Failed);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_few_pages_failing_end_completed_with_errors_and_exit_4() {
        let (dir, db) = workdir();
        // Every 25th request answers 503 and no page is tried twice.
        let market = Market::start(MarketConfig {
            items: 200,
            small_pages: true,
            unavailable_every: 25,
            ..MarketConfig::default()
        })
        .await
        .unwrap();
        let base = market.base_url();
        let o = scan_demo(dir.path(), &db, &base)
            .env("CCCWATCH__CRAWL__MAX_ATTEMPTS", "1")
            .output()
            .expect("run cccwatch");
        let t = text(&o);
        assert_eq!(o.status.code(), Some(4), "{t}");
        assert!(
            t.contains("completed_with_errors 已完成（部分页面失败）"),
            "{t}"
        );
        assert!(t.contains("× HTTP 状态 503"), "{t}");
        let (state, message) = scan_state(&db, 1).await;
        assert_eq!(state, RunState::CompletedWithErrors);
        assert!(message.contains("个失败"), "{message}");
        market.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_marketplace_that_stops_answering_mid_scan_fails_the_scan_loudly() {
        let (dir, db) = workdir();
        let market = Market::start(MarketConfig {
            items: 400,
            small_pages: true,
            ..MarketConfig::default()
        })
        .await
        .unwrap();
        let base = market.base_url();
        let child = scan_demo(dir.path(), &db, &base)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while market.requests().len() < 40 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        market.shutdown().await;
        let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        let t = text(&o);
        assert_eq!(o.status.code(), Some(5), "{t}");
        assert!(t.contains("failed 失败"), "{t}");
        assert!(t.contains("连接被拒绝"), "{t}");
        assert!(t.contains("failed pages by reason"), "{t}");
        let (state, message) = scan_state(&db, 1).await;
        assert_eq!(state, RunState::Failed);
        assert!(message.contains("crawl.max_failed_share"), "{message}");
        // Listings missing from the failed pages are not recorded as taken down.
        let store = cccwatch::store::Store::open(&db).await.unwrap();
        let s = store.scan(1).await.unwrap().unwrap();
        assert_eq!(s.listings_gone, 0, "{s:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn resume_after_the_marketplace_moved_follows_it_and_warns_of_an_empty_certdb() {
        let (dir, db) = workdir();
        let config = MarketConfig {
            items: 300,
            small_pages: true,
            latency: Duration::from_millis(5),
            ..MarketConfig::default()
        };
        let first = Market::start(config.clone()).await.unwrap();
        let old = first.base_url();
        let child = scan_demo(dir.path(), &db, &old)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while first.requests().len() < 30 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Stopped as systemd stops it: SIGTERM, pages in flight finish.
        // The shell's own `kill`: no procps needed on a minimal CI image.
        Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", child.id())])
            .status()
            .unwrap();
        let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        let t = text(&o);
        assert_eq!(o.status.code(), Some(3), "{t}");
        assert!(
            t.contains("证书库为空"),
            "the empty certificate database is said: {t}"
        );
        first.shutdown().await;

        // The marketplace comes back on another port.
        let second = Market::start(config).await.unwrap();
        let new = second.base_url();
        let o = run(
            dir.path(),
            &["--db", &db, "scan", "--resume", "--base-url", &new],
        );
        let t = text(&o);
        assert_eq!(o.status.code(), Some(0), "{t}");
        let from = old.trim_end_matches('/');
        let to = new.trim_end_matches('/');
        assert!(
            t.contains("saved pages moved from") && t.contains(from) && t.contains(to),
            "{t}"
        );
        assert!(t.contains("completed 已完成"), "{t}");
        assert!(t.contains("证书库为空"), "{t}");
        let (state, message) = scan_state(&db, 1).await;
        assert_eq!(state, RunState::Completed);
        assert!(message.contains("证书库为空"), "{message}");
        second.shutdown().await;
    }
}

mod crash_safety {
    use super::*;
    use std::collections::BTreeMap;

    const CERTS: usize = 20_000;

    fn cert_no(i: usize) -> String {
        format!("2021010201{i:06}")
    }

    /// A certificate export of `CERTS` rows, all with `status`.
    fn export(path: &Path, status: &str) {
        let mut w = csv::Writer::from_path(path).unwrap();
        w.write_record([
            "证书编号",
            "证书状态",
            "产品类别代码",
            "产品名称",
            "规格型号",
            "认证委托人名称",
            "生产者名称",
            "生产企业名称",
            "颁证日期",
            "证书到期日期",
        ])
        .unwrap();
        for i in 0..CERTS {
            w.write_record([
                cert_no(i),
                status.to_string(),
                "0201".into(),
                "转换器".into(),
                format!("ZH-{i}"),
                format!("测试电器{i}有限公司"),
                format!("测试电器{i}有限公司"),
                format!("测试电器{i}有限公司"),
                "2023-01-01".into(),
                "2028-01-01".into(),
            ])
            .unwrap();
        }
        w.flush().unwrap();
    }

    /// One listing per certificate, citing it.
    fn listings(path: &Path) {
        let mut out = String::new();
        for i in 0..CERTS {
            let line = serde_json::json!({
                "platform": "t",
                "item_id": i.to_string(),
                "title": format!("转换器 ZH-{i} 3C证书 {}", cert_no(i)),
                "model": format!("ZH-{i}"),
            });
            out.push_str(&line.to_string());
            out.push('\n');
        }
        std::fs::write(path, out).unwrap();
    }

    /// Verdicts by item, as `findings export` writes them (the command
    /// opens the database as any command would, finishing pending work).
    fn verdicts(dir: &Path, db: &str, out: &str) -> (BTreeMap<String, String>, String) {
        let o = run(
            dir,
            &[
                "--db", db, "findings", "export", "--format", "jsonl", "--out", out,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let map = std::fs::read_to_string(dir.join(out))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["item_id"].as_str().unwrap().to_string(),
                    v["verdict"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        (map, text(&o))
    }

    fn copy_db(from: &Path, to: &Path) {
        for ext in ["", "-wal", "-shm"] {
            let f = PathBuf::from(format!("{}{ext}", from.display()));
            if f.exists() {
                std::fs::copy(&f, format!("{}{ext}", to.display())).unwrap();
            }
        }
    }

    /// Findings after a killed import, brought up to date by the next
    /// command, must be exactly what a full re-match gives.
    fn check_after_kill(dir: &Path, db_path: &Path, label: &str) -> bool {
        let db = format!("sqlite://{}", db_path.display());
        let (after, said) = verdicts(dir, &db, &format!("{label}-after.jsonl"));
        let caught_up = said.contains("re-judged");
        let o = run(dir, &["--db", &db, "match"]);
        assert!(o.status.success(), "{}", text(&o));
        let (full, _) = verdicts(dir, &db, &format!("{label}-full.jsonl"));
        let wrong: Vec<_> = full
            .iter()
            .filter(|(k, v)| after.get(*k) != Some(v))
            .take(5)
            .collect();
        assert!(
            wrong.is_empty(),
            "{label}: listings judged on stale certificates after the kill (item, right verdict): {wrong:?}"
        );
        // Importing the same file again (what an operator does after a
        // crash) ends with every listing on a suspended certificate.
        let o = run(dir, &["--db", &db, "certdb", "import", "suspend.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        let (again, _) = verdicts(dir, &db, &format!("{label}-again.jsonl"));
        assert_eq!(again.len(), CERTS, "{label}");
        assert!(
            again.values().all(|v| v == "suspended"),
            "{label}: {:?}",
            again.iter().find(|(_, v)| *v != "suspended")
        );
        caught_up
    }

    #[test]
    fn kill_9_at_any_point_of_an_import_leaves_no_verdict_on_stale_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        export(&d.join("valid.csv"), "有效");
        export(&d.join("suspend.csv"), "暂停");
        listings(&d.join("listings.jsonl"));
        let base = d.join("base.db");
        let db = format!("sqlite://{}", base.display());
        for args in [
            &["certdb", "import", "valid.csv"][..],
            &["ingest", "listings.jsonl"][..],
            &["match"][..],
        ] {
            let mut all = vec!["--db", db.as_str()];
            all.extend_from_slice(args);
            let o = run(d, &all);
            assert!(o.status.success(), "{args:?}: {}", text(&o));
        }
        let (before, _) = verdicts(d, &db, "before.jsonl");
        assert_eq!(before.len(), CERTS);
        assert!(before.values().all(|v| v != "suspended"));

        // How long a whole import takes, to spread the kills over it.
        let timed = d.join("timed.db");
        copy_db(&base, &timed);
        let started = Instant::now();
        let o = run(
            d,
            &[
                "--db",
                &format!("sqlite://{}", timed.display()),
                "certdb",
                "import",
                "suspend.csv",
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let whole = started.elapsed();
        let (after, _) = verdicts(d, &format!("sqlite://{}", timed.display()), "timed.jsonl");
        assert!(after.values().all(|v| v == "suspended"), "{after:?}");

        // kill -9 at many moments of the import.
        const POINTS: u32 = 8;
        for k in 1..=POINTS {
            let path = d.join(format!("kill{k}.db"));
            copy_db(&base, &path);
            let mut child = command(
                d,
                &[
                    "--db",
                    &format!("sqlite://{}", path.display()),
                    "certdb",
                    "import",
                    "suspend.csv",
                ],
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
            std::thread::sleep(whole * k / (POINTS + 1));
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
            check_after_kill(d, &path, &format!("kill{k}"));
        }

        // The exact moments that matter, every time: after the certificates
        // are committed and before any listing is re-judged; after the
        // listings are re-judged and before that is recorded.
        for point in ["certdb.import.committed", "rejudge.certs.findings_written"] {
            let path = d.join(format!("{point}.db"));
            copy_db(&base, &path);
            let o = command(
                d,
                &[
                    "--db",
                    &format!("sqlite://{}", path.display()),
                    "certdb",
                    "import",
                    "suspend.csv",
                ],
            )
            .env(cccwatch::crash::VAR, point)
            .output()
            .unwrap();
            assert!(!o.status.success(), "{point}: the process crashed");
            let caught_up = check_after_kill(d, &path, point);
            assert!(
                caught_up,
                "{point}: the next command said it re-judged the pending listings"
            );
        }
    }

    #[tokio::test]
    async fn a_match_run_whose_process_died_is_closed_as_interrupted() {
        use cccwatch::clock::ManualClock;
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(
            chrono::DateTime::parse_from_rfc3339("2026-11-20T01:00:00Z")
                .unwrap()
                .to_utc(),
        ));
        let store = cccwatch::store::Store::open(&format!(
            "sqlite://{}",
            dir.path().join("t.db").display()
        ))
        .await
        .unwrap()
        .with_clock(clock.clone());
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        // A run whose process is killed: never finished.
        let dead = store.begin_match_run(day, None).await.unwrap().run_id();
        clock.advance(chrono::Duration::minutes(2));
        assert_eq!(
            store.close_stale_match_runs().await.unwrap(),
            0,
            "still fresh"
        );
        clock.advance(cccwatch::store::MATCH_RUN_STALE);
        // The next run closes it.
        let next = store.begin_match_run(day, None).await.unwrap();
        next.finish(0, &[]).await.unwrap();
        let runs = store.match_runs(10).await.unwrap();
        let state = |id: i64| runs.iter().find(|r| r.0 == id).unwrap().1.clone();
        assert_eq!(state(dead), "interrupted");
        assert_eq!(state(runs[0].0), "completed");
    }
}
