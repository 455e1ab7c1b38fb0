//! Server tests: search pagination, item pages in both charsets, robots.txt,
//! the API and the other pages. Faults, removal and logs: `tests_faults.rs`.

use super::search::contains;
use super::state::Shared;
use super::testclient::{attr_after, between, get, unescape};
use super::{ItemTruth, Market, MarketConfig, SEED_KEYWORDS};
use std::collections::HashSet;

pub(crate) fn cfg(items: usize) -> MarketConfig {
    MarketConfig {
        items,
        page_size: 25,
        ..MarketConfig::default()
    }
}

/// Truths of every generated listing, removed ones included.
pub(crate) fn all_truths(m: &Market) -> Vec<ItemTruth> {
    (0..m.config().items as u64)
        .map(|i| {
            m.truth(&Shared::generated(i).id.to_string())
                .expect("truth")
        })
        .collect()
}

/// Follows `a.pn-next` from page 1; returns the `data-sku` of every card.
async fn crawl(m: &Market, q: &str) -> Vec<String> {
    let mut path = format!("/search?q={}&page=1", super::html::url_encode(q));
    let mut skus = Vec::new();
    for _ in 0..1000 {
        let r = get(m.addr(), &path).await;
        assert_eq!(r.status, 200, "{path}");
        let html = r.text();
        let cards = attr_after(&html, "<li class=\"gl-item\"", "data-sku");
        assert!(cards.len() <= m.config().page_size);
        skus.extend(cards.iter().map(|s| s.to_string()));
        match attr_after(&html, "class=\"pn-next\"", "href").first() {
            Some(next) => path = next.to_string(),
            None => return skus,
        }
    }
    panic!("more than 1000 pages");
}

#[tokio::test]
async fn search_pagination_covers_every_item_exactly_once_per_keyword() {
    let m = Market::start(cfg(700)).await.unwrap();
    let truths = all_truths(&m);
    let mut found: HashSet<String> = HashSet::new();
    for (_, words) in SEED_KEYWORDS {
        for &q in *words {
            let skus = crawl(&m, q).await;
            let unique: HashSet<String> = skus.iter().cloned().collect();
            assert_eq!(unique.len(), skus.len(), "{q}: an item twice");
            let expected: HashSet<String> = truths
                .iter()
                .filter(|t| contains(&t.title, q) || contains(&t.category, q))
                .map(|t| t.id.clone())
                .collect();
            assert_eq!(unique, expected, "{q}");
            found.extend(unique);
        }
    }
    assert_eq!(
        found.len(),
        truths.len(),
        "the seed keywords find every item"
    );
    let overlap = crawl(&m, "排插").await;
    let sockets: HashSet<String> = crawl(&m, "插座").await.into_iter().collect();
    assert!(
        overlap.iter().any(|id| sockets.contains(id)),
        "keywords overlap"
    );
    m.shutdown().await;
}

#[tokio::test]
async fn result_cards_link_items_with_tracking_params_and_traps() {
    let m = Market::start(cfg(400)).await.unwrap();
    let html = get(m.addr(), "/search?q=%E6%8F%92%E5%BA%A7").await.text();
    let links = attr_after(&html, "<div class=\"p-name\">", "href");
    assert_eq!(links.len(), 25);
    for l in &links {
        assert!(
            l.starts_with("/item/")
                && l.contains(".html?spm=a1z10.search.0.0&ref=search&utm_source=demo"),
            "{l}"
        );
    }
    let all = crawl(&m, "").await;
    assert_eq!(all.len(), 400);
    let mut variants = HashSet::new();
    for page in 1..=16 {
        let html = get(m.addr(), &format!("/search?q=&page={page}"))
            .await
            .text();
        for l in attr_after(&html, "<div class=\"p-name\">", "href") {
            variants.insert(if l.contains('#') {
                "#"
            } else if l.contains("&_t=") {
                "_t"
            } else {
                "plain"
            });
        }
    }
    assert_eq!(variants.len(), 3, "{variants:?}");
    assert!(html.contains("href=\"/private/"));
    assert!(html.contains(".html?preview=1\""));
    assert!(html.contains("href=\"/cart?add="));
    assert!(
        !html.contains("class=\"pn-prev\""),
        "no previous link on page 1"
    );
    m.shutdown().await;
}

#[tokio::test]
async fn item_pages_decode_to_the_truth() {
    for small in [false, true] {
        let c = MarketConfig {
            gbk_share: 0.5,
            removed_share: 0.0,
            small_pages: small,
            ..cfg(120)
        };
        let m = Market::start(c).await.unwrap();
        let (mut layouts, mut charsets) = (HashSet::new(), HashSet::new());
        let (mut sizes, mut far_meta) = (Vec::new(), 0);
        for t in all_truths(&m) {
            let r = get(m.addr(), &format!("/item/{}.html", t.id)).await;
            assert_eq!(r.status, 200);
            let (html, meta) = decode(&r, &t);
            far_meta += usize::from(meta > 100_000);
            let h1 = between(&html, "<h1 class=\"sku-name\">", "</h1>").expect("h1");
            assert_eq!(unescape(h1), t.title);
            let price = between(&html, "<span class=\"price\">", "</span>").unwrap();
            assert_eq!(price, format!("{:.2}", t.price));
            assert!(html.contains(&format!(
                "<a class=\"shop-name\" href=\"/shop/{}.html\">",
                t.shop
            )));
            assert!(html.contains(&format!(
                "class=\"{}\"",
                t.spec_layout.split('.').nth(1).unwrap()
            )));
            assert!(html.contains("<div class=\"detail\""));
            if let Some(shown) = &t.cert_no_shown {
                assert!(unescape(&html).contains(shown.as_str()), "{shown}");
            }
            sizes.push(r.body.len());
            layouts.insert(t.spec_layout);
            charsets.insert(t.charset);
        }
        assert_eq!(layouts.len(), 4);
        assert_eq!(charsets.len(), 2);
        sizes.sort_unstable();
        let (min, max) = (sizes[0], sizes[sizes.len() - 1]);
        if small {
            assert!(min > 2_800 && max < 6_000, "{min}..{max} bytes");
            assert_eq!(far_meta, 0);
        } else {
            assert!(
                min > 25_000 && sizes[sizes.len() * 3 / 4] < 62_000,
                "{sizes:?}"
            );
            assert!(
                far_meta > 0,
                "some GBK pages declare their charset >100 KB in"
            );
        }
        m.shutdown().await;
    }
}

/// Checks the charset rules; returns the page as text and where the GBK
/// meta is (0 for UTF-8 pages).
fn decode(r: &super::testclient::Resp, t: &ItemTruth) -> (String, usize) {
    let ct = r.header("content-type").unwrap();
    if t.charset == "utf-8" {
        assert_eq!(ct, "text/html; charset=utf-8");
        assert!(r.text().contains("<meta charset=\"utf-8\">"));
        return (r.text(), 0);
    }
    assert_eq!(ct, "text/html");
    let meta = r
        .body
        .windows(20)
        .position(|w| w == b"<meta charset=\"gbk\">");
    let meta = meta.expect("gbk meta");
    assert!(meta > 1024);
    let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&r.body);
    assert!(!had_errors);
    (text.into_owned(), meta)
}

#[tokio::test]
async fn robots_txt_keeps_crawlers_out() {
    let m = Market::start(cfg(10)).await.unwrap();
    let r = get(m.addr(), "/robots.txt").await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let text = r.text();
    let groups: Vec<&str> = text.split("\n\n").collect();
    let bad: Vec<&str> = groups[0].lines().collect();
    assert!(
        bad.ends_with(&["User-agent: BadBot", "Disallow: /"]),
        "{bad:?}"
    );
    for line in [
        "User-agent: *",
        "Disallow: /private/",
        "Disallow: /cart",
        "Disallow: /*?preview=",
    ] {
        assert!(groups[1].lines().any(|l| l == line), "{line}");
    }
    for path in ["/private/admin", "/cart", "/cart?add=1", "/about", "/"] {
        assert_eq!(get(m.addr(), path).await.status, 200, "{path}");
    }
    assert_eq!(get(m.addr(), "/nothing").await.status, 404);
    m.shutdown().await;
}

#[tokio::test]
async fn api_matches_the_pages() {
    let m = Market::start(MarketConfig {
        removed_share: 0.0,
        ..cfg(200)
    })
    .await
    .unwrap();
    let r = get(m.addr(), "/api/search?q=%E7%8E%A9%E5%85%B7&page=1").await;
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let total = v["total"].as_u64().unwrap() as usize;
    let mut seen = 0;
    let mut page = v;
    loop {
        for it in page["items"].as_array().unwrap() {
            let id = it["id"].as_str().unwrap();
            assert_eq!(it["url"], format!("/item/{id}.html"));
            let t = m.truth(id).unwrap();
            assert_eq!(it["title"], t.title);
            seen += 1;
        }
        let Some(next) = page["next"].as_str() else {
            break;
        };
        page = serde_json::from_slice(&get(m.addr(), next).await.body).unwrap();
    }
    assert_eq!(seen, total);
    let id = m.item_ids()[0].clone();
    let t = m.truth(&id).unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&get(m.addr(), &format!("/api/item/{id}")).await.body).unwrap();
    assert_eq!(v["title"], t.title);
    assert_eq!(v["shop"]["name"], t.seller);
    assert_eq!(v["shop"]["url"], format!("/shop/{}.html", t.shop));
    assert_eq!(v["props"][0]["name"], "品牌");
    assert_eq!(v["props"][0]["value"], t.brand);
    let shop = get(m.addr(), &format!("/shop/{}.html", t.shop))
        .await
        .text();
    assert!(shop.contains(&t.seller));
    m.shutdown().await;
}
