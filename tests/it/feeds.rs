//! The risk feed to platforms over HTTP and as files: per-platform tokens
//! (hashed, one platform each, revocable), certificates whose status changed
//! with exactly the citing listings of the asking platform, confirmed
//! findings of the window, repeat sellers, and the cursor that makes the
//! next call start where the last ended.

use crate::support;

use calamine::{Reader, Xlsx, open_workbook};
use cccwatch::cert_import::{ImportOptions, import_file};
use cccwatch::config::Settings;
use cccwatch::feed::ingest_file;
use cccwatch::notice::feed::{self, CERT_COLUMNS, CERT_SHEET, FeedRequest, Requester};
use cccwatch::pipeline::{MatchContext, run_match};
use cccwatch::progress::Progress;
use cccwatch::review::auth::{random_token, token_hash};
use cccwatch::review::decision::{DecisionInput, check_allowed};
use cccwatch::review::queue::QueueParams;
use cccwatch::store::{DecideOutcome, ListingFilter, Store};
use chrono::NaiveDate;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

const HOSTILE: &str = "<script>alert(\"x\")</script></script>\\u0000 插座 \"引号\" \\ 反斜杠";

/// Two valid certificates of the sample export that the later export does
/// not change: the one to revoke and the one to expire.
fn two_valid_certs() -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let text =
        std::fs::read_to_string(support::root().join("certdb/sample/certificates.csv")).unwrap();
    let update =
        std::fs::read(support::root().join("certdb/sample/certificates_update.csv")).unwrap();
    let (update, _, _) = encoding_rs::GB18030.decode(&update);
    let mut r = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = r.headers().unwrap().clone();
    let status = header.iter().position(|h| h == "证书状态").unwrap();
    let expires = header.iter().position(|h| h == "证书到期日期").unwrap();
    let rows: Vec<csv::StringRecord> = r
        .records()
        .map(Result::unwrap)
        .filter(|row| {
            &row[status] == "有效" && row[expires].starts_with("2029") && !update.contains(&row[0])
        })
        .take(2)
        .collect();
    assert_eq!(rows.len(), 2);
    (header, rows)
}

fn jsonl(platform: &str, item: &str, title: &str, cert: &str) -> String {
    json!({
        "platform": platform, "item_id": item, "url": format!("https://{platform}.example/{item}"),
        "title": title, "brand": "无名牌", "model": format!("WM-{item}"),
        "params": {"3C证书编号": cert}, "seller": format!("{platform}-shop-{}", &item[..1]),
        "shop_url": format!("https://{platform}.example/shop/{}", &item[..1]), "category": "插座",
    })
    .to_string()
}

async fn match_all(store: &Store) {
    let ctx = MatchContext::load(store, &Settings::default())
        .await
        .unwrap();
    run_match(
        store,
        Arc::new(ctx),
        ListingFilter::default(),
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
        64,
        &Progress::hidden(),
    )
    .await
    .unwrap();
}

/// Imports a later export: `revoke` revoked, `expire` expired two days ago.
async fn change_certs(
    store: &Store,
    dir: &Path,
    header: &csv::StringRecord,
    revoke: &csv::StringRecord,
    expire: &csv::StringRecord,
) {
    let status = header.iter().position(|h| h == "证书状态").unwrap();
    let expires = header.iter().position(|h| h == "证书到期日期").unwrap();
    let two_days_ago = (store.now().date_naive() - chrono::Duration::days(2)).to_string();
    let mut w = csv::Writer::from_path(dir.join("changes.csv")).unwrap();
    w.write_record(header).unwrap();
    let mut a: Vec<String> = revoke.iter().map(str::to_string).collect();
    a[status] = "撤销".into();
    w.write_record(&a).unwrap();
    let mut b: Vec<String> = expire.iter().map(str::to_string).collect();
    b[expires] = two_days_ago;
    w.write_record(&b).unwrap();
    w.flush().unwrap();
    let r = import_file(
        store,
        &dir.join("changes.csv"),
        &ImportOptions { strict: true },
        &Progress::hidden(),
    )
    .await
    .unwrap();
    assert_eq!(r.counts.updated, 2);
}

async fn listing_ids(store: &Store, platform: &str) -> Vec<(i64, String)> {
    let rows = store
        .queue(
            &QueueParams {
                platform: Some(platform.into()),
                per_page: Some("200".into()),
                ..Default::default()
            }
            .parse(|_| None)
            .unwrap(),
        )
        .await
        .unwrap()
        .rows;
    let mut out: Vec<(i64, String)> = rows
        .into_iter()
        .map(|r| (r.listing_id, r.item_id))
        .collect();
    out.sort();
    out
}

async fn confirm(store: &Store, listing_id: i64) {
    let boss = store.user_by_name("boss").await.unwrap().unwrap().0;
    let d = DecisionInput {
        action: "confirm".into(),
        measure: Some("take_down".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let outcome = store
        .decide(listing_id, &boss, &d, None, &check_allowed)
        .await
        .unwrap();
    assert!(matches!(outcome, DecideOutcome::Done { .. }), "{outcome:?}");
}

async fn get(base: &str, path: &str, token: Option<&str>) -> (u16, Value, String) {
    let mut req = reqwest::Client::new().get(format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    (status, body, ctype)
}

async fn new_token(store: &Store, platform: &str) -> (i64, String) {
    let token = random_token();
    let id = store
        .add_feed_token(
            platform,
            &format!("{platform} 风控对接"),
            &token_hash(&token),
            "test",
        )
        .await
        .unwrap();
    (id, token)
}

fn item_ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["item_id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn cert<'a>(doc: &'a Value, no: &str) -> Option<&'a Value> {
    doc["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cert_no"] == no)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platforms_read_their_own_feed_with_the_cursor() {
    let s = support::seeded(40).await;
    let store = &s.store;
    let (header, certs) = two_valid_certs();
    let (revoked, expired) = (certs[0][0].to_string(), certs[1][0].to_string());
    let lines = [
        jsonl("jd", "1001", HOSTILE, &revoked),
        jsonl("jd", "1002", "公牛同款 插座 转换器", &revoked),
        jsonl("jd", "2003", "插座 排插 新国标", &expired),
        jsonl("jd", "2004", "插座 延长线", "2099010201999999"),
        jsonl("tmall", "3001", "插座 天猫", &revoked),
    ];
    let feed_file = s.dir.path().join("listings.jsonl");
    std::fs::write(&feed_file, lines.join("\n")).unwrap();
    let r = ingest_file(store, &feed_file, None, &Progress::hidden())
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    match_all(store).await;
    let jd = listing_ids(store, "jd").await;
    assert_eq!(jd.len(), 4, "every jd listing is flagged: {jd:?}");
    confirm(store, jd[0].0).await;
    confirm(store, jd[1].0).await;
    change_certs(store, s.dir.path(), &header, &certs[0], &certs[1]).await;

    let (base, _stop) = support::start(store, &s.brands, support::web_settings()).await;
    let (jd_id, jd_token) = new_token(store, "jd").await;
    let (_, tmall_token) = new_token(store, "tmall").await;

    // The first call: 30 days back. The revoked certificate with exactly jd's citing listings.
    let (status, doc, ctype) = get(&base, "/api/feeds/jd", Some(&jd_token)).await;
    assert_eq!(status, 200, "{doc}");
    assert!(ctype.starts_with("application/json"), "{ctype}");
    assert_eq!(doc["platform"], "jd");
    assert_eq!(doc["schema_version"], 1);
    let c = cert(&doc, &revoked).expect("the revoked certificate is in the feed");
    assert_eq!(c["status"], "revoked");
    assert_eq!(c["events"][0]["kind"], "revoked");
    assert_eq!(c["events"][0]["from"], "valid");
    assert_eq!(c["status_label"], "撤销");
    assert_eq!(item_ids(&c["listings"]), ["1001", "1002"]);
    let hostile = c["listings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item_id"] == "1001")
        .unwrap();
    assert_eq!(hostile["title"], HOSTILE, "hostile text comes back as data");
    assert_eq!(hostile["cites"], true);
    let e = cert(&doc, &expired).expect("the expired certificate is in the feed");
    assert_eq!(e["events"][0]["kind"], "expired");
    assert_eq!(item_ids(&e["listings"]), ["2003"]);
    // Confirmed findings of the window.
    assert_eq!(item_ids(&doc["confirmed_findings"]), ["1001", "1002"]);
    assert_eq!(doc["confirmed_findings"][0]["measure"], "take_down");
    assert_eq!(
        doc["confirmed_findings"][0]["measure_label"],
        "通知平台下架（删除商品链接）"
    );
    assert!(
        !doc["confirmed_findings"][0]["reasons"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Seller "jd-shop-1" has two confirmed findings.
    assert_eq!(doc["repeat_sellers"].as_array().unwrap().len(), 1);
    assert_eq!(doc["repeat_sellers"][0]["seller"], "jd-shop-1");
    assert_eq!(doc["repeat_sellers"][0]["confirmed"], 2);
    assert_eq!(doc["counts"]["confirmed_findings"], 2);
    assert_eq!(doc["truncated"]["certificates"], false);
    assert_eq!(doc["next_since"], doc["until"]);

    // tmall sees its own listing on the same certificate, never jd's.
    let (status, tm, _) = get(&base, "/api/feeds/tmall", Some(&tmall_token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        item_ids(&cert(&tm, &revoked).unwrap()["listings"]),
        ["3001"]
    );
    assert!(
        cert(&tm, &expired).unwrap()["listings"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(tm["confirmed_findings"].as_array().unwrap().is_empty());
    assert!(
        !tm.to_string().contains("1001"),
        "nothing of jd in tmall's feed"
    );

    // The second call starts where the first ended: only what is newer.
    confirm(store, jd[2].0).await;
    let (status, next, _) = get(&base, "/api/feeds/jd", Some(&jd_token)).await;
    assert_eq!(status, 200);
    assert_eq!(next["since"], doc["until"]);
    assert!(
        next["certificates"].as_array().unwrap().is_empty(),
        "{}",
        next["certificates"]
    );
    assert_eq!(item_ids(&next["confirmed_findings"]), ["2003"]);
    // An explicit since reads the whole window again (and the cursor moves on).
    let (status, again, _) = get(&base, "/api/feeds/jd?since=2026-01-01", Some(&jd_token)).await;
    assert_eq!(status, 200);
    assert_eq!(again["since"], "2026-01-01T00:00:00.000Z");
    assert_eq!(
        item_ids(&again["confirmed_findings"]),
        ["1001", "1002", "2003"]
    );
    let used = store.feed_tokens(Some("jd")).await.unwrap();
    assert!(used[0].last_used_at.is_some());

    // Another platform's token: 403. Unknown, revoked or none: 401. Bad since: 400.
    let (status, body, _) = get(&base, "/api/feeds/jd", Some(&tmall_token)).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("tmall"));
    let (status, body, _) = get(&base, "/api/feeds/jd", Some(&random_token())).await;
    assert_eq!((status, body["status"].as_u64()), (401, Some(401)));
    let (status, _, _) = get(&base, "/api/feeds/jd", None).await;
    assert_eq!(status, 401);
    let (status, body, _) = get(&base, "/api/feeds/jd?since=yesterday", Some(&jd_token)).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = get(&base, "/api/feeds/jd?since=2099-01-01", Some(&jd_token)).await;
    assert_eq!(status, 400);
    store.revoke_feed_token(jd_id, "test").await.unwrap();
    let (status, body, _) = get(&base, "/api/feeds/jd", Some(&jd_token)).await;
    assert_eq!(status, 401, "{body}");
    // A feed token is no API token.
    let (status, _, _) = get(&base, "/api/queue", Some(&tmall_token)).await;
    assert_eq!(status, 401);

    // Staff read any platform with their API token; an unknown platform is 404.
    let staff = random_token();
    store
        .add_api_token("zhao", "t", &token_hash(&staff), "test")
        .await
        .unwrap();
    let (status, body, _) = get(&base, "/api/feeds/tmall", Some(&staff)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        item_ids(&cert(&body, &revoked).unwrap()["listings"]),
        ["3001"]
    );
    let (status, _, _) = get(&base, "/api/feeds/nosuchplatform", Some(&staff)).await;
    assert_eq!(status, 404);
    // ...and move no platform's cursor: tmall's next read still starts at its last.
    let (_, tm2, _) = get(&base, "/api/feeds/tmall", Some(&tmall_token)).await;
    assert_eq!(tm2["since"], tm["until"]);

    // Only hashes are stored.
    store.close().await;
    if s.url.starts_with("postgres") {
        for token in [&jd_token, &tmall_token] {
            for table in ["feed_tokens", "feed_deliveries", "audit_log"] {
                let sql = format!("SELECT COUNT(*) FROM {table} t WHERE t::text LIKE '%{token}%'");
                assert_eq!(
                    crate::support::raw_i64(&s.url, &sql).await,
                    Some(0),
                    "{table}"
                );
            }
        }
        let sql = format!(
            "SELECT COUNT(*) FROM feed_tokens WHERE token_hash = '{}'",
            token_hash(&jd_token)
        );
        assert_eq!(crate::support::raw_i64(&s.url, &sql).await, Some(1));
        return;
    }
    let mut bytes = Vec::new();
    for f in ["t.db", "t.db-wal"] {
        bytes.extend(std::fs::read(s.dir.path().join(f)).unwrap_or_default());
    }
    let has = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(
        !has(&jd_token) && !has(&tmall_token),
        "a plain token is in the database"
    );
    assert!(has(&token_hash(&jd_token)), "the token's hash is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_carry_the_same_lists_and_keep_their_own_cursor() {
    let s = support::seeded(40).await;
    let store = &s.store;
    let (header, certs) = two_valid_certs();
    let revoked = certs[0][0].to_string();
    let feed_file = s.dir.path().join("listings.jsonl");
    std::fs::write(
        &feed_file,
        [
            jsonl("jd", "1001", HOSTILE, &revoked),
            jsonl("jd", "1002", "插座 排插", &revoked),
        ]
        .join("\n"),
    )
    .unwrap();
    ingest_file(store, &feed_file, None, &Progress::hidden())
        .await
        .unwrap();
    match_all(store).await;
    change_certs(store, s.dir.path(), &header, &certs[0], &certs[1]).await;
    let req = |until| FeedRequest {
        platform: "jd",
        since: None,
        requester: Requester::File("cli:test"),
        first_days: 30,
        until,
        cap: 1,
    };
    // A window ends at a millisecond: let the import's be an earlier one.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let now = store.now();
    let doc = feed::deliver(store, &req(now)).await.unwrap();
    // Capped at one certificate of the two changed: said so.
    assert_eq!(doc.certificates.len(), 1);
    assert!(doc.truncated.certificates);
    let out = s.dir.path().join("out");
    let files = feed::write_files(&doc, &out).unwrap();
    let stem = format!("risk-feed-jd-{}", now.format("%Y%m%dT%H%M%SZ"));
    assert_eq!(files[0], out.join(format!("{stem}.json")));
    let back: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(back["until"], doc.until);
    let mut book: Xlsx<_> = open_workbook(&files[1]).unwrap();
    let sheet = book.worksheet_range(CERT_SHEET).unwrap();
    let table: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(table[0], CERT_COLUMNS.to_vec());
    assert!(table.len() >= 2);
    // The next file starts where this one ended.
    let later = now + chrono::Duration::seconds(5);
    let next = feed::deliver(store, &req(later)).await.unwrap();
    assert_eq!(next.since, doc.until);
    assert!(
        next.certificates.is_empty(),
        "now {now} first {:?} next {:?}",
        doc.certificates
            .iter()
            .map(|c| (&c.cert_no, &c.events))
            .collect::<Vec<_>>(),
        next.certificates
    );
}

/// The command line: a token printed once and stored hashed, listed,
/// revoked; a feed written as files with the delivery recorded.
#[test]
fn the_command_line_manages_tokens_and_writes_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("c.db").display());
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_cccwatch"))
            .args(["--db", &db])
            .args(args)
            .current_dir(dir.path())
            .env_remove("CCCWATCH__DATABASE__URL")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        text
    };
    let token = run(&[
        "feed",
        "token",
        "add",
        "--platform",
        "jd",
        "--name",
        "京东风控对接",
    ]);
    let token = token.trim();
    assert_eq!(token.len(), 64, "{token}");
    let list = run(&["feed", "token", "list"]);
    assert!(
        list.contains("京东风控对接") && list.contains("jd"),
        "{list}"
    );
    assert!(!list.contains(token));
    let out = run(&[
        "feed",
        "write",
        "--platform",
        "jd",
        "--since",
        "2026-11-01",
        "--out",
        "feeds",
    ]);
    assert!(out.contains("0 confirmed finding(s)"), "{out}");
    let files: Vec<_> = std::fs::read_dir(dir.path().join("feeds"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(
        files.iter().all(|f| f.starts_with("risk-feed-jd-")),
        "{files:?}"
    );
    let revoked = run(&["feed", "token", "revoke", "1"]);
    assert!(revoked.contains("revoked"), "{revoked}");
    let list = run(&["feed", "token", "list", "--platform", "jd"]);
    assert!(
        list.lines().nth(1).unwrap().trim_end().ends_with('Z'),
        "{list}"
    );
    let log = run(&["audit", "log"]);
    assert!(
        log.contains("feed_token.add") && log.contains("feed_token.revoke"),
        "{log}"
    );
}
