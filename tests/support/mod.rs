//! Shared by the integration tests (a module of `tests/it`, and of the
//! `observability` and `browser` binaries): a database with certificates,
//! listings crawled from the built-in marketplace (some of them hostile),
//! their findings and one account per role, the workspace served on
//! 127.0.0.1 with a random port, and small helpers for running the binary.
#![allow(dead_code)]

use cccwatch::cert_import::{ImportOptions, import_file};
use cccwatch::certdb::Catalog;
use cccwatch::clock::ShiftedClock;
use cccwatch::config::{NoticeSettings, Settings, WebSettings};
use cccwatch::crawl::fetch::Fetcher;
use cccwatch::domain::Role;
use cccwatch::extract::{Adapter, PlatformConfig, PlatformLabels};
use cccwatch::market::{Market, MarketConfig};
use cccwatch::matching::BrandTable;
use cccwatch::progress::Progress;
use cccwatch::review::auth::hash_password;
use cccwatch::scan::{LoopSettings, ScanPlan, ScanRunner, start_scan};
use cccwatch::store::Store;
use cccwatch::web::{AppState, serve};
use chrono::NaiveDate;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct horse battery";
/// One account per role: (user name, role).
pub const USERS: [(&str, Role); 4] = [
    ("admin", Role::Admin),
    ("boss", Role::Supervisor),
    ("wang", Role::Reviewer),
    ("zhao", Role::Viewer),
];

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// When the seeded world starts: 2026-11-18 09:00 in Beijing. Its clock
/// runs on from there, so no test depends on the date it runs on.
pub const SEEDED_AT: &str = "2026-11-18T01:00:00Z";

pub struct Seeded {
    pub store: Store,
    /// The database's URL (SQLite in `dir`, or PostgreSQL: see [`test_database`]).
    pub url: String,
    /// The PostgreSQL database, dropped with the world.
    pub pg: Option<PgDatabase>,
    /// The store's clock: tests move it to the days their story needs.
    pub clock: Arc<ShiftedClock>,
    pub market: Market,
    pub brands: BrandTable,
    pub dir: tempfile::TempDir,
}

/// Certificates, a crawl of `items` marketplace listings (every 25th
/// hostile), their findings, and the four accounts.
pub async fn seeded(items: usize) -> Seeded {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ShiftedClock::starting_at(SEEDED_AT.parse().unwrap()));
    let (url, pg) = test_database(dir.path(), "seeded").await;
    let store = Store::open(&url).await.unwrap().with_clock(clock.clone());
    let brands =
        BrandTable::read_csv(&std::fs::read(root().join("certdb/brands.csv")).unwrap()[..])
            .unwrap();
    store.replace_brands(&brands).await.unwrap();
    for f in ["certificates.csv", "certificates_update.csv"] {
        import_file(
            &store,
            &root().join("certdb/sample").join(f),
            &ImportOptions::default(),
            &Progress::hidden(),
        )
        .await
        .unwrap();
    }
    let market = Market::start(MarketConfig {
        items,
        small_pages: true,
        hostile_every: 25,
        removed_share: 0.0,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let out = scan(&store, &market).await;
    assert!(out.completed, "the seeding scan completed");
    let hash = hash_password(PASSWORD).unwrap();
    for (name, role) in USERS {
        store
            .add_user(name, &format!("{name} 的姓名"), role, &hash, "test")
            .await
            .unwrap();
    }
    Seeded {
        store,
        url,
        pg,
        clock,
        market,
        brands: BrandTable::new(brands),
        dir,
    }
}

/// Scans `market` with the demo adapter, as of 2026-11-28, politeness off.
pub async fn scan(store: &Store, market: &Market) -> cccwatch::scan::ScanOutcome {
    scan_with(store, market, Vec::new(), true).await
}

/// [`scan`] for `keywords` only (empty: the adapter's), opening item pages
/// or reading the result cards only.
pub async fn scan_with(
    store: &Store,
    market: &Market,
    keywords: Vec<String>,
    fetch_items: bool,
) -> cccwatch::scan::ScanOutcome {
    let path = root().join("config/platforms/demo.toml");
    let mut config = PlatformConfig::from_file(&path).unwrap();
    config.base_url = market.base_url();
    config.politeness.requests_per_second = 0.0;
    config.politeness.concurrency = 8;
    config.item.fetch = fetch_items;
    let adapter = Arc::new(Adapter::new(config, &path).unwrap());
    let plan = ScanPlan {
        keywords,
        max_pages: None,
        as_of: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
    };
    let mut settings = Settings::default();
    settings.crawl.retry_min_secs = 0.05;
    let id = start_scan(store, &adapter, &plan).await.unwrap();
    let fetcher = Arc::new(
        Fetcher::new(settings.crawl.fetch_settings())
            .unwrap()
            .with_clock(store.clock()),
    );
    let runner = ScanRunner::new(store.clone(), settings, fetcher, LoopSettings::default());
    runner
        .run(adapter, id, CancellationToken::new(), &Progress::hidden())
        .await
        .unwrap()
}

/// The bureau's notice settings as `cccwatch init` fills them in (no
/// placeholder left for the demo platform), batches written under `out`,
/// the built-in templates, no PDF.
pub fn notice_settings(out: &Path) -> NoticeSettings {
    NoticeSettings {
        issuer: "梅县市场监督管理局".into(),
        contact: "市场监管科 张三，电话：0753-2188123".into(),
        platform_names: [("demo".to_string(), "演示商城运营有限公司".to_string())].into(),
        templates_dir: out.join("no-templates-here"),
        out_dir: out.to_path_buf(),
        pdf_browser: String::new(),
        ..NoticeSettings::default()
    }
}

/// The shipped platform files' names for people (demo → 演示商城).
pub fn platforms() -> PlatformLabels {
    PlatformLabels::load(&root().join("config/platforms"), &Default::default())
}

/// Web settings for tests: generous login throttling unless asked.
pub fn web_settings() -> WebSettings {
    WebSettings {
        login_attempts_per_minute: 1000,
        ..WebSettings::default()
    }
}

/// Serves the workspace on 127.0.0.1:0; returns its base URL. The server
/// stops when the returned sender is dropped.
pub async fn start(
    store: &Store,
    brands: &BrandTable,
    web: WebSettings,
) -> (String, watch::Sender<bool>) {
    let notices = notice_settings(&std::env::temp_dir().join("cccwatch-test-notices"));
    start_with_notices(store, brands, web, notices).await
}

/// [`start`] with notice settings (where batches are written); platforms
/// are named as the shipped files name them.
pub async fn start_with_notices(
    store: &Store,
    brands: &BrandTable,
    web: WebSettings,
    notices: cccwatch::config::NoticeSettings,
) -> (String, watch::Sender<bool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::with_notices(
        store.clone(),
        web,
        Catalog::embedded(),
        brands.clone(),
        notices,
        platforms(),
    );
    let (tx, mut rx) = watch::channel(false);
    tokio::spawn(async move {
        serve(state, listener, async move {
            let _ = rx.changed().await;
        })
        .await
        .unwrap();
    });
    (format!("http://{addr}"), tx)
}

/// A client that keeps cookies and does not follow redirects.
pub fn web_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The first `name="_csrf" value="…"` of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"_csrf\" value=\"")
        .expect("page has a CSRF field")
        + 20;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

/// A client signed in as `user` (see [`web_login`]).
pub async fn logged_in(base: &str, user: &str) -> reqwest::Client {
    web_login(base, user).await.0
}

/// Signs `user` in (password [`PASSWORD`]); returns the client and a CSRF token.
pub async fn web_login(base: &str, user: &str) -> (reqwest::Client, String) {
    let c = web_client();
    let page = c.get(format!("{base}/login")).send().await.unwrap();
    let page = page.text().await.unwrap();
    let resp = c
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf_of(&page).as_str()),
            ("username", user),
            ("password", PASSWORD),
            ("next", "/queue"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        reqwest::StatusCode::SEE_OTHER,
        "{user} logs in"
    );
    let page = c.get(format!("{base}/account")).send().await.unwrap();
    let csrf = csrf_of(&page.text().await.unwrap());
    (c, csrf)
}

/// Writes `path`: the header and `cert`'s row of the sample export
/// (`certdb/sample/certificates.csv`), its status replaced when given.
pub fn write_cert_row(cert: &str, status: Option<&str>, path: &Path) {
    let raw = std::fs::read(root().join("certdb/sample/certificates.csv")).unwrap();
    let enc = cccwatch::certdb::encoding::detect(&raw, true);
    let text = enc
        .decode(&raw)
        .0
        .trim_start_matches('\u{feff}')
        .to_string();
    let header = text.lines().next().unwrap().to_string();
    let row = text
        .lines()
        .find(|l| l.starts_with(&format!("{cert},")))
        .expect("the certificate's row");
    let mut cells: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(row.as_bytes())
        .records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    if let Some(s) = status {
        cells[1] = s.into();
    }
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(header.split(',')).unwrap();
    w.write_record(&cells).unwrap();
    w.flush().unwrap();
}

/// What a run of the binary printed: its standard output, then its
/// standard error.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Where a test's world is stored: `DIR/t.db`, or with
/// `CCCWATCH_IT_BACKEND=postgres` a PostgreSQL database of its own on the
/// server `CCCWATCH_TEST_PG` names (`.ci/run` runs the suites built on
/// [`seeded`] both ways). The guard drops the PostgreSQL database.
pub async fn test_database(dir: &Path, test: &str) -> (String, Option<PgDatabase>) {
    let postgres = std::env::var("CCCWATCH_IT_BACKEND").is_ok_and(|b| b == "postgres");
    if postgres {
        let pg = pg_database(test)
            .await
            .expect("CCCWATCH_IT_BACKEND=postgres needs CCCWATCH_TEST_PG");
        return (pg.url.clone(), Some(pg));
    }
    (format!("sqlite://{}", dir.join("t.db").display()), None)
}

/// A PostgreSQL database of its own on the server `CCCWATCH_TEST_PG` names,
/// dropped (with its connections) when this is.
pub struct PgDatabase {
    pub url: String,
    admin: String,
    name: String,
}

/// `None`, and a line saying `test` was skipped, without `CCCWATCH_TEST_PG`.
pub async fn pg_database(test: &str) -> Option<PgDatabase> {
    use sqlx::Connection;
    let Some(admin) = std::env::var("CCCWATCH_TEST_PG")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!("skipped: {test} needs CCCWATCH_TEST_PG (a PostgreSQL URL)");
        return None;
    };
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "cccwatch_it_{}_{}",
        std::process::id(),
        SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connecting to CCCWATCH_TEST_PG");
    // One statement each: several in one string run as one transaction,
    // which DROP/CREATE DATABASE refuse.
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
             LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        ),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .expect("creating a test database");
    }
    let (base, _) = admin.split_once('?').unwrap_or((&admin, ""));
    let server = base.rsplit_once('/').map_or(base, |(s, _)| s);
    Some(PgDatabase {
        url: format!("{server}/{name}"),
        admin,
        name,
    })
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // A runtime of its own on a thread of its own: Drop may run inside
        // the test's runtime, which must not be blocked on.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

/// Runs `sql` on the database at `url` (either backend) the way someone
/// with direct access to it would, bypassing the program; rows affected.
pub async fn raw_sql(url: &str, sql: &str) -> Result<u64, sqlx::Error> {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await?;
        Ok(sqlx::raw_sql(sql).execute(&mut c).await?.rows_affected())
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await?;
        Ok(sqlx::raw_sql(sql).execute(&mut c).await?.rows_affected())
    }
}

/// The integer `sql` selects from the database at `url`, if a row comes back.
pub async fn raw_i64(url: &str, sql: &str) -> Option<i64> {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql)
            .fetch_optional(&mut c)
            .await
            .unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql)
            .fetch_optional(&mut c)
            .await
            .unwrap()
    }
}

/// The largest number of requests in any one-second window, from request
/// times in milliseconds (sorted).
pub fn max_per_second(at: &[u64]) -> usize {
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..at.len() {
        while at[hi] - at[lo] >= 1000 {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

/// A config folder for running the binary against the built-in
/// marketplace: `platforms/demo.toml` pointed at `market` with a quota of
/// `requests_per_second` (and `burst`, when given), and `cccwatch.toml`
/// with the database at `db_url`, fast retries and `extra` TOML appended.
/// Returns the path of `cccwatch.toml`.
pub fn demo_config(
    dir: &Path,
    market: &Market,
    db_url: &str,
    requests_per_second: f64,
    burst: Option<u32>,
    extra: &str,
) -> std::path::PathBuf {
    let platforms = dir.join("platforms");
    std::fs::create_dir_all(&platforms).unwrap();
    let mut demo = std::fs::read_to_string(root().join("config/platforms/demo.toml"))
        .unwrap()
        .replace("http://127.0.0.1:8080", &market.base_url())
        .replace(
            "requests_per_second = 50.0",
            &format!("requests_per_second = {requests_per_second:.1}"),
        );
    if let Some(b) = burst {
        demo = demo.replace("burst = 5", &format!("burst = {b}"));
    }
    std::fs::write(platforms.join("demo.toml"), demo).unwrap();
    let config = dir.join("cccwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{db_url}\"\n[crawl]\nplatforms_dir = \"{}\"\nretry_min_secs = 0.05\n{extra}",
            platforms.display()
        ),
    )
    .unwrap();
    config
}
