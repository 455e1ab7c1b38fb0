//! The fetcher against a small local server: redirects stay on the
//! platform, bodies and waits are bounded, failures are classified, and
//! robots.txt (including Crawl-delay and an unavailable robots.txt) is obeyed.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::get;
use cccwatch::crawl::fetch::{FetchSettings, Fetched, Fetcher, SiteRules};
use cccwatch::extract::RobotsPolicy;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Server {
    base: String,
    key: String,
    hits: Arc<Mutex<Vec<(Instant, String)>>>,
}

async fn serve(robots: &'static str, robots_status: StatusCode) -> Server {
    let hits: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let log = hits.clone();
    let app = Router::new()
        .route(
            "/robots.txt",
            get(move || async move { (robots_status, robots) }),
        )
        .route(
            "/ok",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<p>好</p>",
                )
            }),
        )
        .route("/big", get(|| async { "x".repeat(300_000) }))
        .route(
            "/to-ok",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/ok")]) }),
        )
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]) }),
        )
        .route(
            "/to-other",
            get(|| async {
                (
                    StatusCode::MOVED_PERMANENTLY,
                    [(header::LOCATION, "http://127.0.0.2:9/x")],
                )
            }),
        )
        .route(
            "/to-private-dir",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/private/x")]) }),
        )
        .route("/err", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route(
            "/busy",
            get(|| async { (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "7")]) }),
        )
        .route("/gone", get(|| async { StatusCode::GONE }))
        .route("/forbidden", get(|| async { StatusCode::FORBIDDEN }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                "late"
            }),
        )
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let log = log.clone();
                async move {
                    log.lock()
                        .unwrap()
                        .push((Instant::now(), req.uri().to_string()));
                    next.run(req).await
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base: format!("http://{addr}"),
        key: addr.to_string(),
        hits,
    }
}

fn fetcher(s: &Server, rules: impl FnOnce(&mut SiteRules)) -> Fetcher {
    let f = Fetcher::new(FetchSettings {
        timeout: Duration::from_millis(800),
        max_body_bytes: 100_000,
        max_redirects: 3,
        retry_min: Duration::from_millis(100),
        ..FetchSettings::default()
    })
    .unwrap();
    let mut site = SiteRules {
        platform: "t".into(),
        hosts: vec![s.key.clone()],
        requests_per_second: 0.0,
        burst: 1,
        concurrency: 4,
        robots: RobotsPolicy::Obey,
        legal_basis: String::new(),
        allow_private: true,
    };
    rules(&mut site);
    f.register(site);
    f
}

fn reason(f: &Fetched) -> String {
    match f {
        Fetched::Failed { reason, .. } | Fetched::Retry { reason, .. } => reason.clone(),
        other => format!("{other:?}"),
    }
}

const ROBOTS: &str = "User-agent: *\nDisallow: /private/\n\nUser-agent: cccwatch\nDisallow: /private/\nDisallow: /forbidden-for-us\nCrawl-delay: 0.2\n";

#[tokio::test]
async fn outcomes_are_classified() {
    let s = serve(ROBOTS, StatusCode::OK).await;
    let f = fetcher(&s, |_| {});
    let url = |p: &str| format!("{}{p}", s.base);

    let Fetched::Page(r) = f.fetch(&url("/ok"), 0).await.outcome else {
        panic!()
    };
    assert_eq!((r.status, r.body.as_slice()), (200, "<p>好</p>".as_bytes()));
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));

    let res = f.fetch(&url("/to-ok"), 0).await;
    let Fetched::Page(r) = res.outcome else {
        panic!()
    };
    assert!(r.final_url.ends_with("/ok") && r.url.ends_with("/to-ok"));
    assert_eq!(res.requests, 2);

    assert!(reason(&f.fetch(&url("/loop"), 0).await.outcome).contains("more than 3 redirects"));
    assert!(reason(&f.fetch(&url("/to-other"), 0).await.outcome).contains("离开了平台"));
    // Not even to a host of another configured platform.
    f.register(SiteRules {
        platform: "other".into(),
        hosts: vec!["127.0.0.2:9".into()],
        requests_per_second: 0.0,
        burst: 1,
        concurrency: 1,
        robots: RobotsPolicy::Obey,
        legal_basis: String::new(),
        allow_private: true,
    });
    assert!(reason(&f.fetch(&url("/to-other"), 0).await.outcome).contains("离开了平台 t"));
    assert!(matches!(
        f.fetch(&url("/to-private-dir"), 0).await.outcome,
        Fetched::Robots
    ));
    assert!(reason(&f.fetch(&url("/big"), 0).await.outcome).contains("larger than 100000 bytes"));
    assert!(matches!(f.fetch(&url("/gone"), 0).await.outcome, Fetched::Gone(r) if r.status == 410));
    assert!(matches!(
        f.fetch(&url("/forbidden"), 0).await.outcome,
        Fetched::Failed {
            status: Some(403),
            ..
        }
    ));

    let Fetched::Retry { delay, status, .. } = f.fetch(&url("/err"), 0).await.outcome else {
        panic!()
    };
    assert_eq!(status, Some(500));
    assert!(
        delay >= Duration::from_millis(100) && delay <= Duration::from_millis(200),
        "{delay:?}"
    );
    let Fetched::Retry { delay: later, .. } = f.fetch(&url("/err"), 3).await.outcome else {
        panic!()
    };
    assert!(
        later >= Duration::from_millis(800),
        "backoff grows: {later:?}"
    );

    let t = Instant::now();
    let Fetched::Retry { reason, .. } = f.fetch(&url("/slow"), 0).await.outcome else {
        panic!()
    };
    assert!(reason.starts_with("超时无应答 127.0.0.1:"), "{reason}");
    assert!(t.elapsed() < Duration::from_secs(2));

    let Fetched::Retry { delay, status, .. } = f.fetch(&url("/busy"), 0).await.outcome else {
        panic!()
    };
    assert_eq!((delay, status), (Duration::from_secs(7), Some(429)));
}

#[tokio::test]
async fn robots_rules_for_our_agent_and_crawl_delay_apply() {
    let s = serve(ROBOTS, StatusCode::OK).await;
    let f = fetcher(&s, |_| {});
    assert!(matches!(
        f.fetch(&format!("{}/forbidden-for-us", s.base), 0)
            .await
            .outcome,
        Fetched::Robots
    ));
    for _ in 0..4 {
        assert!(matches!(
            f.fetch(&format!("{}/ok", s.base), 0).await.outcome,
            Fetched::Page(_)
        ));
    }
    let hits = s.hits.lock().unwrap().clone();
    assert_eq!(
        hits.iter().filter(|(_, p)| p == "/robots.txt").count(),
        1,
        "robots.txt is cached"
    );
    assert!(!hits.iter().any(|(_, p)| p.starts_with("/forbidden")));
    let pages: Vec<Instant> = hits
        .iter()
        .filter(|(_, p)| p == "/ok")
        .map(|(t, _)| *t)
        .collect();
    for w in pages.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            gap >= Duration::from_millis(190),
            "Crawl-delay 0.2 s not kept: {gap:?}"
        );
    }
}

#[tokio::test]
async fn unavailable_robots_txt_means_wait_not_crawl() {
    let s = serve("", StatusCode::SERVICE_UNAVAILABLE).await;
    let f = fetcher(&s, |_| {});
    let Fetched::Retry { reason, .. } = f.fetch(&format!("{}/ok", s.base), 0).await.outcome else {
        panic!()
    };
    assert!(
        reason.starts_with(&format!("robots.txt 无法获取：HTTP 状态 503 {}", s.key)),
        "{reason}"
    );
    // Asked again while robots.txt is still unavailable: still a wait with
    // the reason, never a page refused by robots.txt.
    let again = f.fetch(&format!("{}/ok", s.base), 1).await.outcome;
    assert!(
        matches!(&again, Fetched::Retry { reason, .. } if reason.starts_with("robots.txt 无法获取")),
        "{again:?}"
    );
    assert!(!s.hits.lock().unwrap().iter().any(|(_, p)| p == "/ok"));

    // A missing robots.txt (4xx) allows everything.
    let s = serve("", StatusCode::NOT_FOUND).await;
    let f = fetcher(&s, |_| {});
    assert!(matches!(
        f.fetch(&format!("{}/private/x", s.base), 0).await.outcome,
        Fetched::Gone(_)
    ));
}

#[tokio::test]
async fn override_skips_robots_and_private_addresses_need_permission() {
    let s = serve(ROBOTS, StatusCode::OK).await;
    let f = fetcher(&s, |r| {
        r.robots = RobotsPolicy::Override;
        r.legal_basis = "《电子商务法》第八十二条 test basis".into();
    });
    // Fetched although robots.txt forbids it (the route does not exist: 404).
    assert!(
        matches!(f.fetch(&format!("{}/forbidden-for-us", s.base), 0).await.outcome, Fetched::Gone(r) if r.status == 404)
    );
    assert!(
        !s.hits
            .lock()
            .unwrap()
            .iter()
            .any(|(_, p)| p == "/robots.txt")
    );

    let s = serve(ROBOTS, StatusCode::OK).await;
    let f = fetcher(&s, |r| r.allow_private = false);
    let out = f.fetch(&format!("{}/ok", s.base), 0).await.outcome;
    assert!(reason(&out).contains("private"), "{out:?}");
    assert!(s.hits.lock().unwrap().is_empty());
}
