//! The crawler against the built-in marketplace on 127.0.0.1: everything it
//! should collect is collected, politeness holds as the server sees it,
//! robots.txt and Retry-After are obeyed, pages are kept as evidence, and
//! the listings are judged.

use crate::support::{max_per_second, root};
use cccwatch::cert_import::{ImportOptions, import_file};
use cccwatch::config::Settings;
use cccwatch::crawl::fetch::Fetcher;
use cccwatch::domain::RunState;
use cccwatch::extract::{Adapter, PlatformConfig};
use cccwatch::market::{Market, MarketConfig, RequestRecord};
use cccwatch::matching::BrandTable;
use cccwatch::progress::Progress;
use cccwatch::scan::{LoopSettings, ScanOutcome, ScanPlan, ScanRunner, start_scan};
use cccwatch::store::Store;
use chrono::NaiveDate;
use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

async fn store_with_certificates(dir: &Path) -> Store {
    let store = Store::open(&format!("sqlite://{}", dir.join("t.db").display()))
        .await
        .unwrap();
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
    store
}

/// The shipped demo adapter pointed at `market`, changed by `tweak`.
fn demo_adapter(market: &Market, tweak: impl FnOnce(&mut PlatformConfig)) -> Arc<Adapter> {
    let path = root().join("config/platforms/demo.toml");
    let mut config = PlatformConfig::from_file(&path).unwrap();
    config.base_url = market.base_url();
    tweak(&mut config);
    Arc::new(Adapter::new(config, &path).unwrap())
}

fn fast(c: &mut PlatformConfig) {
    c.politeness.requests_per_second = 0.0;
    c.politeness.concurrency = 8;
}

fn settings() -> Settings {
    let mut s = Settings::default();
    s.crawl.retry_min_secs = 0.05;
    s.crawl.retry_max_secs = 2.0;
    s
}

async fn scan(store: &Store, adapter: Arc<Adapter>, settings: Settings) -> ScanOutcome {
    let plan = ScanPlan {
        keywords: Vec::new(),
        max_pages: None,
        as_of: NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
    };
    let id = start_scan(store, &adapter, &plan).await.unwrap();
    let fetcher = Arc::new(
        Fetcher::new(settings.crawl.fetch_settings())
            .unwrap()
            .with_clock(store.clock()),
    );
    let loop_settings = LoopSettings {
        max_attempts: settings.crawl.max_attempts,
        ..LoopSettings::default()
    };
    let runner = ScanRunner::new(store.clone(), settings, fetcher, loop_settings);
    runner
        .run(adapter, id, CancellationToken::new(), &Progress::hidden())
        .await
        .unwrap()
}

fn item_path(r: &RequestRecord) -> Option<String> {
    let p = r.path_and_query.split(['?', '#']).next()?;
    p.strip_prefix("/item/")?
        .strip_suffix(".html")
        .map(str::to_string)
}

async fn stored_titles(store: &Store) -> HashMap<String, String> {
    let filter = cccwatch::store::ListingFilter::default();
    store
        .listings_page(&filter, 0, 1_000_000)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.listing.item_id, s.listing.title))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_collects_every_listing_once_and_judges_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_certificates(dir.path()).await;
    let market = Market::start(MarketConfig {
        items: 400,
        small_pages: true,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let out = scan(&store, demo_adapter(&market, fast), settings()).await;
    assert!(out.completed);
    assert_eq!(out.scan.state, RunState::Completed);
    assert_eq!(out.scan.pages_failed, 0, "{:?}", out.failures);

    // Every listing still online was found and stored with its real title,
    // GBK pages included; the removed ones are recorded as taken down.
    let online: HashSet<String> = market.item_ids().into_iter().collect();
    let titles = stored_titles(&store).await;
    let stored: HashSet<String> = titles.keys().cloned().collect();
    assert_eq!(stored, online);
    for (id, title) in &titles {
        assert_eq!(title, &market.truth(id).unwrap().title, "item {id}");
    }
    assert_eq!(out.frontier.gone as usize, 400 - online.len());
    assert!(400 - online.len() >= 3, "the market removes about 2%");

    // One request per item page however often results link it; nothing robots.txt forbids.
    let requests = market.requests();
    let mut per_item: HashMap<String, usize> = HashMap::new();
    for r in &requests {
        assert!(
            !r.path_and_query.starts_with("/private")
                && !r.path_and_query.starts_with("/cart")
                && !r.path_and_query.contains("preview="),
            "robots.txt forbids {}",
            r.path_and_query
        );
        assert!(r.user_agent.starts_with("cccwatch/"), "{}", r.user_agent);
        if let Some(id) = item_path(r) {
            *per_item.entry(id).or_default() += 1;
        }
    }
    assert_eq!(per_item.len(), 400);
    assert!(
        per_item.values().all(|n| *n == 1),
        "an item was fetched twice"
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path_and_query == "/robots.txt")
            .count(),
        1
    );

    // The page of every listing is kept; its body hashes to what is recorded.
    let id = titles.keys().next().unwrap();
    let pages = store.item_pages(Some("demo"), id).await.unwrap();
    assert_eq!(pages.len(), 1);
    let gz = store.page_body_gz(pages[0].id).await.unwrap();
    let mut body = Vec::new();
    GzDecoder::new(&gz[..]).read_to_end(&mut body).unwrap();
    assert_eq!(body.len() as i64, pages[0].body_len);
    let sha: String = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(sha, pages[0].sha256);
    assert!(pages[0].headers.iter().any(|(k, _)| k == "content-type"));

    // The listings were judged; the verdicts agree with what the market generated.
    let m = out.matched.expect("matched");
    assert_eq!(m.listings as usize, online.len());
    let agreement = verdict_agreement(&store, &market).await;
    assert!(
        agreement >= 0.9,
        "verdicts agree with the market's truth on {agreement:.3}"
    );
    market.shutdown().await;
}

/// Share of listings whose verdict is the one their generated kind calls for.
async fn verdict_agreement(store: &Store, market: &Market) -> f64 {
    let rows = store.export_page(None, false, 0, 1_000_000).await.unwrap();
    let mut confusion: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut agree = 0;
    for r in &rows {
        let kind = market.truth(&r.item_id).unwrap().kind;
        let expected: &[&str] = match kind {
            "valid" | "valid_no_number" => &["compliant"],
            "no_cert" => &["uncertified"],
            "expired_cert" => &["expired"],
            "suspended_cert" => &["suspended"],
            "revoked_cert" => &["revoked"],
            "cancelled_cert" => &["cancelled"],
            "wrong_company" | "model_off_by_one" => &["cert_mismatch"],
            "lookalike_brand" => &["uncertified", "cert_mismatch"],
            "cert_not_found" => &["cert_not_found"],
            _ => &["not_in_scope"],
        };
        let verdict = r.verdict.as_str().to_string();
        if expected.contains(&verdict.as_str()) {
            agree += 1;
        }
        *confusion.entry((kind.to_string(), verdict)).or_default() += 1;
    }
    eprintln!("kind → verdict: {confusion:#?}");
    agree as f64 / rows.len().max(1) as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_holds_at_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_certificates(dir.path()).await;
    let market = Market::start(MarketConfig {
        items: 200,
        small_pages: true,
        removed_share: 0.0,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let (q, burst) = (20.0, 2);
    let adapter = demo_adapter(&market, |c| {
        c.politeness.requests_per_second = q;
        c.politeness.burst = burst;
        c.politeness.concurrency = 6;
    });
    let out = scan(&store, adapter, settings()).await;
    assert!(out.completed);
    let at: Vec<u64> = market.requests().iter().map(|r| r.at_ms).collect();
    let worst = max_per_second(&at);
    assert!(
        worst <= q as usize + burst as usize,
        "{worst} requests in one second with quota {q}/s and burst {burst}"
    );
    let span = (at[at.len() - 1] - at[0]) as f64 / 1000.0;
    let rate = (at.len() - 1) as f64 / span;
    assert!(rate >= 0.9 * q, "achieved {rate:.1} requests/s of {q}");
    market.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_pauses_the_host_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_certificates(dir.path()).await;
    let market = Market::start(MarketConfig {
        items: 120,
        small_pages: true,
        removed_share: 0.0,
        throttle_every: 10,
        unavailable_every: 37,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let out = scan(&store, demo_adapter(&market, fast), settings()).await;
    assert!(out.completed);
    assert_eq!(out.scan.pages_failed, 0, "{:?}", out.failures);
    let requests = market.requests();
    let faults: Vec<&RequestRecord> = requests
        .iter()
        .filter(|r| r.status == 429 || r.status == 503)
        .collect();
    assert!(faults.len() >= 10, "{} faults", faults.len());
    assert_eq!(out.scan.pages_retried as usize, faults.len());
    // After a 429 (Retry-After ≥ 1 s) or 503 (≥ 2 s), only requests already
    // on their way may arrive; nothing is sent until the pause is over.
    for f in &faults {
        let pause = if f.status == 429 { 1000 } else { 2000 };
        let early: Vec<&RequestRecord> = requests
            .iter()
            .filter(|r| r.at_ms > f.at_ms + 50 && r.at_ms + 50 < f.at_ms + pause)
            .collect();
        assert!(
            early.is_empty(),
            "after {} at {} ms: {:?}",
            f.status,
            f.at_ms,
            early
        );
    }
    assert_eq!(stored_titles(&store).await.len(), 120);
    market.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_refusals_are_counted_and_never_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_certificates(dir.path()).await;
    let market = Market::start(MarketConfig {
        items: 60,
        small_pages: true,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    // An adapter that (wrongly) follows the cards' preview links, which robots.txt forbids.
    let adapter = demo_adapter(&market, |c| {
        fast(c);
        c.search.item_link = cccwatch::extract::config::Selectors(vec![".p-ops a@href".into()]);
        c.search.item_id = Default::default();
        c.item.url = None;
    });
    let out = scan(&store, adapter, settings()).await;
    assert!(out.completed);
    assert_eq!(out.scan.robots_skipped, 60);
    assert_eq!(out.frontier.robots, 60);
    assert!(
        market.requests().iter().all(
            |r| !r.path_and_query.contains("preview") && !r.path_and_query.starts_with("/cart")
        )
    );
    market.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_unless_the_platform_allows_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_certificates(dir.path()).await;
    let market = Market::start(MarketConfig {
        items: 20,
        small_pages: true,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let adapter = demo_adapter(&market, |c| {
        fast(c);
        c.allow_private_addresses = false;
    });
    let out = scan(&store, adapter, settings()).await;
    assert!(out.completed);
    assert!(out.scan.pages_failed > 0);
    assert!(
        out.failures.iter().all(|(_, _, e)| e.contains("private")),
        "{:?}",
        out.failures
    );
    assert!(market.requests().is_empty(), "the market was contacted");
    market.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_adapter_reads_the_platform_api() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_certificates(dir.path()).await;
    let market = Market::start(MarketConfig {
        items: 150,
        small_pages: true,
        removed_share: 0.0,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let path = root().join("config/platforms/demo_api.toml");
    let mut config = PlatformConfig::from_file(&path).unwrap();
    config.base_url = market.base_url();
    fast(&mut config);
    let adapter = Arc::new(Adapter::new(config, &path).unwrap());
    let out = scan(&store, adapter, settings()).await;
    assert!(out.completed);
    let filter = cccwatch::store::ListingFilter::default();
    let listings = store.listings_page(&filter, 0, 10_000).await.unwrap();
    assert_eq!(listings.len(), 150);
    for s in &listings {
        let t = market.truth(&s.listing.item_id).unwrap();
        assert_eq!(s.listing.title, t.title);
        assert_eq!(s.listing.platform, "demo_api");
        assert!(s.listing.seller.is_some());
        assert!(!s.listing.params.is_empty(), "{:?}", s.listing);
    }
    let agreement = verdict_agreement(&store, &market).await;
    assert!(agreement >= 0.9, "{agreement}");
    market.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_scan_sees_listings_taken_down_changed_and_relisted() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_certificates(dir.path()).await;
    let market = Market::start(MarketConfig {
        items: 120,
        small_pages: true,
        removed_share: 0.0,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let first = scan(&store, demo_adapter(&market, fast), settings()).await;
    assert_eq!(first.scan.listings_new, 120);

    let ids = market.item_ids();
    market.remove_item(&ids[0], cccwatch::market::Removal::NotFound);
    market.remove_item(&ids[1], cccwatch::market::Removal::Gone);
    market.remove_item(&ids[2], cccwatch::market::Removal::DelistedPage);
    let relisted = market.relist(&ids[3]);
    let second = scan(&store, demo_adapter(&market, fast), settings()).await;
    assert!(second.completed);
    assert_eq!(second.scan.listings_gone, 3, "404, 410 and the 下架 page");
    assert_eq!(
        second.scan.listings_new, 1,
        "the relisted item under its new ID"
    );
    assert_eq!(second.scan.listings_unchanged, 117);
    let states: HashMap<String, i64> = store
        .listing_states("demo")
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(states.get("gone"), Some(&3));
    assert_eq!(states.get("online"), Some(&118));
    assert!(stored_titles(&store).await.contains_key(&relisted));
    // The take-down is evidence too: the 410 answer is kept with the listing.
    let pages = store.item_pages(Some("demo"), &ids[1]).await.unwrap();
    assert_eq!(
        pages.iter().map(|p| p.status).collect::<Vec<_>>(),
        vec![200, 410]
    );
    market.shutdown().await;
}
