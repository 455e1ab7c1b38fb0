//! Server tests: removal and relisting, injected 429/503, latency, the
//! request record and log, and lazy generation at a million items.

use super::state::Shared;
use super::testclient::{attr_after, get, get_as};
use super::tests::cfg;
use super::{Market, MarketConfig, Removal};
use std::time::{Duration, Instant};

fn item_path(id: &str) -> String {
    format!("/item/{id}.html")
}

#[tokio::test]
async fn removal_and_relisting() {
    let m = Market::start(MarketConfig {
        removed_share: 0.1,
        ..cfg(300)
    })
    .await
    .unwrap();
    let ids = m.item_ids();
    let (a, b, c) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    m.remove_item(&a, Removal::NotFound);
    m.remove_item(&b, Removal::Gone);
    m.remove_item(&c, Removal::DelistedPage);
    assert_eq!(get(m.addr(), &item_path(&a)).await.status, 404);
    assert_eq!(get(m.addr(), &item_path(&b)).await.status, 410);
    let delisted = get(m.addr(), &item_path(&c)).await;
    assert_eq!(delisted.status, 200);
    assert!(
        delisted
            .text()
            .contains("<div class=\"error\">该商品已下架</div>")
    );
    assert_eq!(get(m.addr(), &format!("/api/item/{b}")).await.status, 410);

    let new = m.relist(&c);
    assert_ne!(new, c);
    let (old, now) = (m.truth(&c).unwrap(), m.truth(&new).unwrap());
    assert_eq!(
        (&now.title, &now.seller, &now.id),
        (&old.title, &old.seller, &new)
    );
    let page = get(m.addr(), &item_path(&new)).await;
    assert_eq!(page.status, 200);
    let alive = m.item_ids();
    assert!(alive.contains(&new) && !alive.contains(&a) && !alive.contains(&c));

    // The relisting shows up in search after the generated listings.
    let q = super::html::url_encode(&old.title);
    let html = get(m.addr(), &format!("/search?q={q}&page=1")).await.text();
    let skus = attr_after(&html, "<li class=\"gl-item\"", "data-sku");
    assert!(
        skus.contains(&c.as_str()) && skus.contains(&new.as_str()),
        "{skus:?}"
    );

    // A share started removed (404 or 410) and is still in the results.
    let removed: Vec<String> = (0..300)
        .map(|i| Shared::generated(i).id.to_string())
        .filter(|id| !ids.contains(id))
        .collect();
    assert!((10..=60).contains(&removed.len()), "{}", removed.len());
    for id in removed.iter().take(5) {
        let status = get(m.addr(), &item_path(id)).await.status;
        assert!(status == 404 || status == 410);
    }
    let html = get(m.addr(), "/api/search?q=&page=1").await.text();
    let first_pages = {
        let mut all = html;
        for p in 2..=12 {
            all.push_str(
                &get(m.addr(), &format!("/api/search?q=&page={p}"))
                    .await
                    .text(),
            );
        }
        all
    };
    assert!(
        removed
            .iter()
            .all(|id| first_pages.contains(&format!("\"{id}\"")))
    );
    m.shutdown().await;
}

#[tokio::test]
async fn throttling_and_unavailability_are_injected() {
    let m = Market::start(MarketConfig {
        throttle_every: 3,
        removed_share: 0.0,
        ..cfg(50)
    })
    .await
    .unwrap();
    let id = m.item_ids()[0].clone();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let r = get(m.addr(), &item_path(&id)).await;
        if r.status == 429 {
            assert_retry_after(r.header("retry-after").expect("Retry-After"));
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses, [200, 200, 429].repeat(4));
    assert_eq!(
        get(m.addr(), "/search?q=").await.status,
        200,
        "only item pages are throttled"
    );
    m.shutdown().await;

    let m = Market::start(MarketConfig {
        unavailable_every: 2,
        ..cfg(50)
    })
    .await
    .unwrap();
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(get(m.addr(), "/").await.status);
            assert_eq!(get(m.addr(), "/robots.txt").await.status, 200);
        }
        v
    };
    assert_eq!(statuses, [200, 503, 200, 503]);
    let r = get(m.addr(), "/").await;
    let r = if r.status == 503 {
        r
    } else {
        get(m.addr(), "/").await
    };
    assert_retry_after(r.header("retry-after").unwrap());
    m.shutdown().await;
}

/// Seconds, or an HTTP date in the near future.
fn assert_retry_after(v: &str) {
    if let Ok(s) = v.parse::<u64>() {
        assert!((1..=5).contains(&s));
        return;
    }
    let when = chrono::DateTime::parse_from_rfc2822(&v.replace("GMT", "+0000")).expect(v);
    let ahead = when.timestamp() - chrono::Utc::now().timestamp();
    assert!((0..=5).contains(&ahead), "{v}");
}

#[tokio::test]
async fn both_retry_after_forms_occur() {
    let m = Market::start(MarketConfig {
        throttle_every: 1,
        ..cfg(20)
    })
    .await
    .unwrap();
    let mut forms = std::collections::HashSet::new();
    for _ in 0..8 {
        let r = get(m.addr(), "/item/100000001.html").await;
        let v = r.header("retry-after").unwrap().to_string();
        assert_retry_after(&v);
        forms.insert(v.parse::<u64>().is_ok());
    }
    assert_eq!(forms.len(), 2);
    m.shutdown().await;
}

#[tokio::test]
async fn requests_are_recorded_and_logged() {
    let path = std::env::temp_dir().join(format!("market-log-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let c = MarketConfig {
        request_log: Some(path.clone()),
        latency: Duration::from_millis(30),
        ..cfg(20)
    };
    let m = Market::start(c).await.unwrap();
    let started = Instant::now();
    for p in [
        "/robots.txt",
        "/search?q=%E6%8F%92%E5%BA%A7&page=1",
        "/item/100000003.html",
        "/nope",
    ] {
        get_as(m.addr(), p, "PoliteBot/2.0 (+https://example.org)").await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(120),
        "latency is added"
    );
    let recs = m.requests();
    let paths: Vec<&str> = recs.iter().map(|r| r.path_and_query.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/robots.txt",
            "/search?q=%E6%8F%92%E5%BA%A7&page=1",
            "/item/100000003.html",
            "/nope"
        ]
    );
    assert_eq!(recs[3].status, 404);
    assert!(
        recs.iter()
            .all(|r| r.method == "GET" && r.user_agent.starts_with("PoliteBot/2.0"))
    );
    assert!(recs.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let flushed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(flushed.lines().count(), 4, "flushed within a second");
    get(m.addr(), "/").await;
    m.shutdown().await;
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "flushed on shutdown");
    assert_eq!(lines[2]["path_and_query"], "/item/100000003.html");
    assert_eq!(lines[2]["status"], 200);
    assert!(lines[0]["ts"].as_str().unwrap().ends_with('Z'));
    assert!(lines[0]["at_ms"].is_u64());
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_million_items_start_at_once() {
    let started = Instant::now();
    let m = Market::start(MarketConfig {
        items: 1_000_000,
        ..MarketConfig::default()
    })
    .await
    .unwrap();
    let last = Shared::generated(999_999).id.to_string();
    let t = m.truth(&last).expect("last item");
    let r = get(m.addr(), &item_path(&last)).await;
    assert!(r.status == 200 || m.removal(&last).is_some());
    assert_eq!(get(m.addr(), &item_path("101000000")).await.status, 404);
    let html = get(m.addr(), "/search?q=&page=20000").await.text();
    assert!(html.contains("data-sku="));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!t.title.is_empty());
    m.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let m = Market::start(cfg(10)).await.unwrap();
    let mut conn = tokio::net::TcpStream::connect(m.addr()).await.unwrap();
    conn.write_all(b"GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = conn.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    let started = Instant::now();
    m.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
