//! `cccwatch bench review`: server time of the review workspace's queue and
//! listing pages on a database with a million findings.

use super::App;
use anyhow::Context;
use cccwatch::cert_import::{ImportOptions, import_file};
use cccwatch::db_url::DbUrl;
use cccwatch::domain::Role;
use cccwatch::matching::brand::BrandTable;
use cccwatch::pipeline::{MatchContext, run_match};
use cccwatch::progress::Progress;
use cccwatch::review::auth;
use cccwatch::review::decision::{DecisionInput, check_allowed};
use cccwatch::review::queue::QueueParams;
use cccwatch::store::{ListingFilter, Store};
use cccwatch::synth::{AS_OF, SynthOptions, generate};
use cccwatch::web::{self, AppState};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Queue and listing page server time at a given number of findings.
    Review(ReviewBench),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  cccwatch bench review --listings 1000000 --dir /tmp/ccc-bench\n\n\
The first run builds DIR/bench.db, or the database --db names (synthetic\n\
certificates and listings, imported, ingested and matched: several minutes\n\
at a million); later runs reuse it. Requests go one at a time to a server\n\
on 127.0.0.1; the figure is the Server-Timing the application reports, and\n\
the time the client saw."
)]
pub struct ReviewBench {
    /// Listings (each gets a finding).
    #[arg(long, default_value_t = 1_000_000)]
    listings: usize,
    /// Certificates in the synthetic export.
    #[arg(long, default_value_t = 100_000)]
    certs: usize,
    /// Working folder (the database is kept for later runs).
    #[arg(long, default_value = "cccwatch-bench")]
    dir: PathBuf,
    /// Requests per kind of page.
    #[arg(long, default_value_t = 40)]
    requests: usize,
    /// Write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub async fn run(app: &App, c: BenchCommand) -> anyhow::Result<ExitCode> {
    match c {
        BenchCommand::Review(b) => review(app, b).await,
    }
}

async fn prepare(app: &App, b: &ReviewBench) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&b.dir)?;
    // `--db` names another database (PostgreSQL, say); else DIR/bench.db.
    let url = match &app.sources.database_url {
        Some(url) => url.clone(),
        None => DbUrl::new(format!("sqlite://{}", b.dir.join("bench.db").display())),
    };
    let store = Store::open(url.expose())
        .await
        .with_context(|| format!("opening {url}"))?;
    let have = store.count_listings(None).await?;
    if have as usize >= b.listings {
        eprintln!("reusing {url} ({have} listings)");
        return Ok(store);
    }
    let data = b.dir.join("data");
    std::fs::create_dir_all(&data)?;
    let opts = SynthOptions {
        certs: b.certs,
        listings: b.listings,
        seed: 7,
    };
    let t = Instant::now();
    let d = data.clone();
    tokio::task::spawn_blocking(move || generate(&opts, &d)).await??;
    eprintln!("generated data in {:.1} s", t.elapsed().as_secs_f64());
    let progress = |unit: &str| Progress::new(None, unit, app.progress);
    let t = Instant::now();
    import_file(
        &store,
        &data.join("certificates.csv"),
        &ImportOptions::default(),
        &progress("rows"),
    )
    .await?;
    eprintln!(
        "imported certificates in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    cccwatch::feed::ingest_file(
        &store,
        &data.join("listings.jsonl"),
        None,
        &progress("lines"),
    )
    .await?;
    eprintln!("ingested listings in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let ctx = Arc::new(MatchContext::load(&store, &app.settings).await?);
    let as_of = chrono::NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d")?;
    run_match(
        &store,
        ctx,
        ListingFilter::default(),
        as_of,
        app.settings.matching.batch_size,
        &progress("listings"),
    )
    .await?;
    eprintln!("matched in {:.1} s", t.elapsed().as_secs_f64());
    Ok(store)
}

struct Sample {
    kind: &'static str,
    server_ms: f64,
    client_ms: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn review(app: &App, b: ReviewBench) -> anyhow::Result<ExitCode> {
    let store = prepare(app, &b).await?;
    store.optimize().await?;
    // A supervisor with an API token, and some real decisions.
    let token = auth::random_token();
    if store.user_by_name("bench").await?.is_none() {
        let hash = auth::hash_password("bench password 123")?;
        store
            .add_user("bench", "压测", Role::Supervisor, &hash, "bench")
            .await?;
    }
    store
        .add_api_token("bench", "bench", &auth::token_hash(&token), "bench")
        .await?;
    let user = store.user_by_name("bench").await?.context("bench user")?.0;
    let first = QueueParams {
        per_page: Some("200".into()),
        ..Default::default()
    }
    .parse(|_| None)
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let flagged = store.queue(&first).await?;
    if store
        .decisions_for(flagged.rows[0].listing_id)
        .await?
        .is_empty()
    {
        let mut page = flagged.clone();
        let mut n = 0;
        let confirm = DecisionInput {
            action: "confirm".into(),
            ..Default::default()
        }
        .validate()?;
        let dismiss = DecisionInput {
            action: "dismiss".into(),
            reason: Some("cert_valid".into()),
            ..Default::default()
        }
        .validate()?;
        // Decide every tenth row of the first 20,000: a campaign under way.
        while n < 2000 {
            for (i, r) in page.rows.iter().enumerate() {
                if i % 10 == 0 {
                    let d = if n % 3 == 0 { &dismiss } else { &confirm };
                    store
                        .decide(r.listing_id, &user, d, None, &check_allowed)
                        .await?;
                    n += 1;
                }
            }
            let Some(next) = page.next.clone() else { break };
            let p = QueueParams {
                per_page: Some("200".into()),
                after: Some(next),
                ..Default::default()
            }
            .parse(|_| None)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            page = store.queue(&p).await?;
        }
        eprintln!("made {n} decisions");
    }
    let listings = store.count_listings(None).await?;
    let t = Instant::now();
    let dashboard = store.dashboard(store.now()).await?;
    let dashboard_ms = t.elapsed().as_secs_f64() * 1000.0;
    eprintln!(
        "{listings} listings, {} findings, {} flagged",
        dashboard.findings, dashboard.flagged
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let brands = BrandTable::new(store.brands().await?);
    let state = AppState::new(
        store.clone(),
        app.settings.web.clone(),
        app.settings.certdb.load_catalog()?,
        brands,
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(web::serve(state, listener, stop.clone().cancelled_owned()));
    let client = reqwest::Client::new();

    // Values to filter by, taken from the data.
    let rows = &flagged.rows;
    let seller = rows
        .iter()
        .find_map(|r| r.seller.clone())
        .unwrap_or_default();
    let model_prefix: String = rows
        .iter()
        .find_map(|r| r.model.clone().filter(|m| m.len() >= 6))
        .map(|m| m.chars().take(m.chars().count() - 2).collect())
        .unwrap_or_default();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let mut kinds: Vec<(&'static str, Vec<String>)> = vec![
        (
            "queue: first page (pending, by confidence)",
            vec!["/queue".into()],
        ),
        (
            "queue: all states, oldest first",
            vec!["/queue?state=all&sort=oldest".into()],
        ),
        (
            "queue: verdict",
            vec![
                "/queue?verdict=cert_mismatch".into(),
                "/queue?verdict=expired&sort=newest".into(),
            ],
        ),
        (
            "queue: product group",
            vec![format!("/queue?group={}", enc("家用电器"))],
        ),
        (
            "queue: confidence range",
            vec!["/queue?min_conf=0.5&max_conf=0.8".into()],
        ),
        (
            "queue: seller",
            vec![format!("/queue?state=all&seller={}", enc(&seller))],
        ),
        (
            "queue: platform + verdict",
            vec!["/queue?platform=synth&verdict=uncertified".into()],
        ),
        (
            "queue: search, 2 Chinese characters",
            vec![
                format!("/queue?q={}", enc("插座")),
                format!("/queue?q={}", enc("玩具")),
            ],
        ),
        (
            "queue: search, 4 Chinese characters",
            vec![format!("/queue?q={}", enc("电热水壶"))],
        ),
        (
            "queue: search, model prefix",
            vec![format!("/queue?state=all&q={}", enc(&model_prefix))],
        ),
        (
            "queue: search + verdict",
            vec![format!("/queue?verdict=expired&q={}", enc("插座"))],
        ),
        (
            "queue: no match",
            vec![
                "/queue?platform=nosuchplatform".into(),
                format!("/queue?q={}", enc("不存在的词语")),
            ],
        ),
    ];
    // Deep pages: follow "next" 200 pages into the queue.
    let mut deep = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..200 {
        let p = QueueParams {
            after: cursor.clone(),
            ..Default::default()
        }
        .parse(|_| None)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let page = store.queue(&p).await?;
        cursor = page.next.clone();
        if let Some(c) = &cursor {
            deep.push(format!("/queue?after={}", enc(c)));
        } else {
            break;
        }
    }
    let deep_pages: Vec<String> = deep.iter().rev().take(5).cloned().collect();
    kinds.push(("queue: 200 pages deep", deep_pages));
    let ids: Vec<i64> = flagged.rows.iter().map(|r| r.listing_id).collect();
    kinds.push((
        "listing page",
        (0..b.requests)
            .map(|i| format!("/listings/{}", ids[(i * 7919) % ids.len()]))
            .collect(),
    ));
    kinds.push((
        "JSON API: queue",
        vec!["/api/queue".into(), "/api/queue?verdict=expired".into()],
    ));

    // Warm up once, then measure.
    for (_, urls) in &kinds {
        for u in urls {
            client
                .get(format!("{base}{u}"))
                .bearer_auth(&token)
                .send()
                .await?
                .bytes()
                .await?;
        }
    }
    let mut samples: Vec<Sample> = Vec::new();
    for (kind, urls) in &kinds {
        for i in 0..b.requests {
            let u = &urls[i % urls.len()];
            let t = Instant::now();
            let resp = client
                .get(format!("{base}{u}"))
                .bearer_auth(&token)
                .send()
                .await?;
            let status = resp.status();
            let server_ms = resp
                .headers()
                .get("server-timing")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split("dur=").nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(f64::NAN);
            resp.bytes().await?;
            anyhow::ensure!(status.is_success(), "{u} answered {status}");
            samples.push(Sample {
                kind,
                server_ms,
                client_ms: t.elapsed().as_secs_f64() * 1000.0,
            });
        }
    }
    stop.cancel();
    let _ = server.await;

    println!(
        "{} listings, {} findings ({} flagged); {} requests per kind, one at a time\n",
        listings, dashboard.findings, dashboard.flagged, b.requests
    );
    println!(
        "{:<44} {:>8} {:>8} {:>8} {:>8}   {:>9}",
        "page", "p50 ms", "p95 ms", "p99 ms", "max ms", "client p95"
    );
    let mut out = serde_json::Map::new();
    let mut groups: Vec<(&str, Vec<&Sample>)> = Vec::new();
    for s in &samples {
        match groups.iter_mut().find(|(k, _)| *k == s.kind) {
            Some((_, v)) => v.push(s),
            None => groups.push((s.kind, vec![s])),
        }
    }
    let all_queue: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.kind.starts_with("queue"))
        .collect();
    let all_listing: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.kind == "listing page")
        .collect();
    groups.push(("ALL queue pages", all_queue));
    groups.push(("ALL listing pages", all_listing));
    for (kind, v) in groups {
        let mut server: Vec<f64> = v.iter().map(|s| s.server_ms).collect();
        let mut client: Vec<f64> = v.iter().map(|s| s.client_ms).collect();
        server.sort_by(f64::total_cmp);
        client.sort_by(f64::total_cmp);
        let (p50, p95, p99, max) = (
            percentile(&server, 0.5),
            percentile(&server, 0.95),
            percentile(&server, 0.99),
            percentile(&server, 1.0),
        );
        println!(
            "{kind:<44} {p50:>8.1} {p95:>8.1} {p99:>8.1} {max:>8.1}   {:>9.1}",
            percentile(&client, 0.95)
        );
        out.insert(kind.to_string(), serde_json::json!({"p50": p50, "p95": p95, "p99": p99, "max": max, "client_p95": percentile(&client, 0.95), "n": server.len()}));
    }
    println!(
        "\ndashboard figures computed from scratch: {dashboard_ms:.0} ms (cached between decisions when slower than 250 ms)"
    );
    out.insert(
        "dashboard_uncached_ms".into(),
        serde_json::json!(dashboard_ms),
    );
    if let Some(path) = b.json {
        std::fs::write(&path, serde_json::to_string_pretty(&out)?)?;
    }
    Ok(ExitCode::SUCCESS)
}
