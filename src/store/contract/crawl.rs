//! The storage contract for `store::crawl`, run against each backend.

#[allow(unused_imports)]
use super::*;
use crate::domain::{Listing, RunState};
use crate::store::ListingWrite;
use crate::store::crawl::*;
use chrono::NaiveDate;

/// A listing of `platform` with `item_id` and `title`; its hash follows the title.
pub(super) fn listing(platform: &str, item_id: &str, title: &str) -> ListingWrite {
    ListingWrite {
        listing: Listing {
            platform: platform.into(),
            item_id: item_id.into(),
            url: Some(format!("https://{platform}.example/item/{item_id}")),
            title: title.into(),
            brand: Some("美的".into()),
            model: Some("MB-FB40".into()),
            params: vec![
                ("型号".into(), "MB-FB40".into()),
                ("3C证书".into(), "2020010701234567".into()),
            ],
            description: None,
            seller: Some("美的官方旗舰店".into()),
            shop_url: None,
            price: Some("¥199.00".into()),
            category: Some("电饭煲".into()),
        },
        content_hash: format!("hash:{title}"),
    }
}

pub(super) fn page(item_id: Option<&str>, kind: EntryKind, body: &[u8]) -> PageWrite {
    PageWrite {
        item_id: item_id.map(str::to_string),
        kind,
        url: format!("https://jd.example/{}", item_id.unwrap_or("search")),
        final_url: format!("https://www.jd.example/{}", item_id.unwrap_or("search")),
        fetched_at: "2026-06-30T07:59:58.123Z".into(),
        status: 200,
        headers: vec![
            ("content-type".into(), "text/html; charset=gbk".into()),
            ("x-b".into(), "2".into()),
            ("x-a".into(), "1".into()),
        ],
        encoding: Some("gbk".into()),
        body_gz: body.to_vec(),
        body_len: body.len() * 3,
        sha256: format!("sha-{}", item_id.unwrap_or("search")),
    }
}

pub(super) fn item_entry(item_id: &str) -> NewEntry {
    NewEntry {
        kind: EntryKind::Item,
        key: item_id.into(),
        host: "jd.example:443".into(),
        url: format!("https://jd.example/{item_id}"),
        keyword: Some("电饭煲".into()),
        page: None,
        card: None,
    }
}

pub(super) fn search_entry(keyword: &str, page: i64) -> NewEntry {
    NewEntry {
        kind: EntryKind::Search,
        key: format!("search:{keyword}:{page}"),
        host: "jd.example:443".into(),
        url: format!("https://jd.example/s?q={keyword}&p={page}"),
        keyword: Some(keyword.into()),
        page: Some(page),
        card: None,
    }
}

pub(super) fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
}

/// An item result: its page and listing.
pub(super) fn item_result(entry_id: i64, l: ListingWrite) -> EntryResult {
    EntryResult {
        entry_id,
        update: EntryUpdate::Item {
            page: page(
                Some(&l.listing.item_id.clone()),
                EntryKind::Item,
                b"\x1f\x8b item",
            ),
            listing: Box::new(l),
        },
        requests: 1,
    }
}

contract!(a_scan_is_created_read_finished_and_reopened, |db, clock| {
    assert!(db.scan(1).await.unwrap().is_none());
    assert!(db.unfinished_scans(None).await.unwrap().is_empty());
    let keywords = vec!["电饭煲".to_string(), "it's \"quoted\" %_".to_string()];
    let seeds = vec![
        search_entry("电饭煲", 1),
        item_entry("100"),
        item_entry("100"), // the same key: kept once
    ];
    let id = db
        .create_scan("jd", day(), &keywords, 40, &seeds)
        .await
        .unwrap();
    let s = db.scan(id).await.unwrap().expect("the scan");
    assert_eq!(s.id, id);
    assert_eq!(s.platform, "jd");
    assert_eq!(s.state, RunState::Running);
    assert_eq!(s.started_at, START);
    assert_eq!(s.finished_at, None);
    assert_eq!(s.as_of, "2026-06-30");
    assert_eq!(s.keywords, keywords);
    assert_eq!(s.max_pages, 40);
    assert_eq!(
        (s.pages_fetched, s.requests, s.listings_new, s.listings_gone),
        (0, 0, 0, 0)
    );
    assert_eq!((s.match_run_id, s.findings, s.message), (None, None, None));
    assert_eq!(s.snapshot, None);
    let c = db.frontier_counts(id).await.unwrap();
    assert_eq!((c.pending, c.total()), (2, 2));

    clock.advance(chrono::Duration::milliseconds(1500));
    let other = db.create_scan("taobao", day(), &[], 5, &[]).await.unwrap();
    assert!(other > id);
    let ids = |v: Vec<ScanRecord>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(db.unfinished_scans(None).await.unwrap()),
        vec![id, other]
    );
    assert_eq!(
        ids(db.unfinished_scans(Some("jd")).await.unwrap()),
        vec![id]
    );
    assert!(db.unfinished_scans(Some("pdd")).await.unwrap().is_empty());

    // Interrupted: entries in flight go back to the queue.
    let claimed = db.claim_entries(id, &ANY, 0, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    db.finish_scan(id, RunState::Interrupted, Some("stopped: 信号 \0 NUL"))
        .await
        .unwrap();
    let s = db.scan(id).await.unwrap().unwrap();
    assert_eq!(s.state, RunState::Interrupted);
    assert_eq!(s.finished_at.as_deref(), Some("2026-06-30T08:00:01.500Z"));
    assert_eq!(
        s.message.as_deref().map(|m| m.replace('\0', "")),
        Some("stopped: 信号  NUL".to_string())
    );
    assert_eq!(db.frontier_counts(id).await.unwrap().pending, 2);
    assert_eq!(
        ids(db.unfinished_scans(None).await.unwrap()),
        vec![id, other]
    );

    // Reopened: running again, nothing in flight to return.
    assert_eq!(db.reopen_scan(id, 0).await.unwrap(), 0);
    let s = db.scan(id).await.unwrap().unwrap();
    assert_eq!(
        (s.state, s.finished_at, s.message),
        (RunState::Running, None, None)
    );
    // Two claimed, then reopened: both return.
    assert_eq!(db.claim_entries(id, &ANY, 0, 10).await.unwrap().len(), 2);
    assert_eq!(db.reopen_scan(id, 0).await.unwrap(), 2);
    assert_eq!(db.frontier_counts(id).await.unwrap().inflight, 0);

    // Completed: entries in flight stay so.
    assert_eq!(db.claim_entries(id, &ANY, 0, 1).await.unwrap().len(), 1);
    db.finish_scan(id, RunState::Completed, None).await.unwrap();
    let c = db.frontier_counts(id).await.unwrap();
    assert_eq!((c.pending, c.inflight, c.open()), (1, 1, 2));
    assert_eq!(ids(db.unfinished_scans(None).await.unwrap()), vec![other]);

    // Findings by verdict keep their key order.
    db.exec_sql(
        "INSERT INTO match_runs (id, started_at, as_of, listings) \
         VALUES (7, '2026-06-30T08:00:00.000Z', '2026-06-30', 0)",
    )
    .await;
    let by: serde_json::Value =
        serde_json::from_str(r#"{"uncertified":3,"compliant":1,"expired":2}"#).unwrap();
    db.set_scan_findings(id, 7, &by).await.unwrap();
    let s = db.scan(id).await.unwrap().unwrap();
    assert_eq!(s.match_run_id, Some(7));
    assert_eq!(
        s.findings.unwrap().to_string(),
        r#"{"uncertified":3,"compliant":1,"expired":2}"#
    );
});

contract!(claims_take_due_items_before_result_pages, |db, _clock| {
    let seeds = vec![
        search_entry("插座", 1),
        item_entry("1"),
        search_entry("插座", 2),
        item_entry("2"),
        item_entry("3"),
    ];
    let scan = db.create_scan("jd", day(), &[], 10, &seeds).await.unwrap();
    let other = db
        .create_scan("jd", day(), &[], 10, &[item_entry("9")])
        .await
        .unwrap();
    assert!(db.claim_entries(scan, &ANY, 0, 0).await.unwrap().is_empty());
    let first = db.claim_entries(scan, &ANY, 0, 2).await.unwrap();
    let keys: Vec<&str> = first.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["1", "2"]);
    assert!(
        first
            .iter()
            .all(|e| e.kind == EntryKind::Item && e.attempts == 0)
    );
    assert_eq!(first[0].keyword.as_deref(), Some("电饭煲"));
    assert_eq!(first[0].url, "https://jd.example/1");
    assert_eq!(first[0].page, None);
    let rest = db.claim_entries(scan, &ANY, 0, 10).await.unwrap();
    let keys: Vec<&str> = rest.iter().map(|e| e.key.as_str()).collect();
    // Items first, then result pages, each in id order.
    assert_eq!(keys, ["3", "search:插座:1", "search:插座:2"]);
    assert_eq!(rest[1].page, Some(1));
    assert_eq!(rest[1].kind, EntryKind::Search);
    assert!(
        db.claim_entries(scan, &ANY, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let c = db.frontier_counts(scan).await.unwrap();
    assert_eq!((c.pending, c.inflight), (0, 5));
    assert_eq!(db.frontier_counts(other).await.unwrap().pending, 1);
    assert_eq!(db.open_entries(scan).await.unwrap().len(), 5);
    assert_eq!(db.next_retry(scan).await.unwrap(), None);

    // A retry is due at its time, not before.
    let id3 = rest[0].id;
    let applied = db
        .apply_results(
            scan,
            "jd",
            "t",
            &[EntryResult {
                entry_id: id3,
                update: EntryUpdate::Retry {
                    next_at_ms: 5_000,
                    error: "HTTP 503 '限流'".into(),
                    status: Some(503),
                },
                requests: 2,
            }],
        )
        .await
        .unwrap();
    assert_eq!(applied.queued, 0);
    assert_eq!(
        db.next_retry(scan).await.unwrap(),
        Some((5_000, Some("HTTP 503 '限流'".to_string())))
    );
    assert!(
        db.claim_entries(scan, &ANY, 4_999, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = db.claim_entries(scan, &ANY, 5_000, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempts), (id3, 1));
    let s = db.scan(scan).await.unwrap().unwrap();
    assert_eq!((s.pages_retried, s.requests, s.pages_fetched), (1, 2, 0));

    // Two workers claiming at once never take the same entry.
    let many: Vec<NewEntry> = (100..140).map(|i| item_entry(&i.to_string())).collect();
    let busy = db.create_scan("jd", day(), &[], 10, &many).await.unwrap();
    let (a, b) = tokio::join!(
        db.claim_entries(busy, &ANY, 0, 25),
        db.claim_entries(busy, &ANY, 0, 25)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 40);
    let mut all: Vec<i64> = a.iter().chain(&b).map(|e| e.id).collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 40);
});

contract!(
    a_batch_keeps_pages_listings_entries_and_counters,
    |db, clock| {
        let seeds = vec![
            search_entry("电饭煲", 1),
            item_entry("1"),
            item_entry("2"),
            item_entry("3"),
            item_entry("4"),
            item_entry("5"),
        ];
        let scan = db.create_scan("jd", day(), &[], 10, &seeds).await.unwrap();
        // Listing 3 exists already (a feed), to be found gone.
        db.upsert_listings(&[listing("jd", "3", "旧的")], "feed:x")
            .await
            .unwrap();
        let claimed = db.claim_entries(scan, &ANY, 0, 10).await.unwrap();
        let id_of = |k: &str| claimed.iter().find(|e| e.key == k).unwrap().id;
        let mut card_entry = item_entry("7");
        card_entry.card = Some(r#"{"title":"卡片","price":"¥1"}"#.into());
        let results = vec![
            EntryResult {
                entry_id: id_of("search:电饭煲:1"),
                update: EntryUpdate::Search {
                    page: page(None, EntryKind::Search, b"search body"),
                    found: vec![
                        item_entry("6"),
                        card_entry,
                        item_entry("1"),
                        item_entry("6"),
                    ],
                    listings: vec![listing("jd", "8", "卡片上的")],
                },
                requests: 1,
            },
            item_result(id_of("1"), listing("jd", "1", "电饭煲 一号")),
            EntryResult {
                entry_id: id_of("3"),
                update: EntryUpdate::Gone {
                    page: page(Some("3"), EntryKind::Item, b"gone"),
                    platform: "jd".into(),
                    item_id: "3".into(),
                },
                requests: 1,
            },
            EntryResult {
                entry_id: id_of("2"),
                update: EntryUpdate::Failed {
                    error: "no title".into(),
                    status: Some(200),
                },
                requests: 3,
            },
            EntryResult {
                entry_id: id_of("4"),
                update: EntryUpdate::Robots,
                requests: 0,
            },
            EntryResult {
                entry_id: id_of("5"),
                update: EntryUpdate::Failed {
                    error: "timeout".into(),
                    status: None,
                },
                requests: 2,
            },
        ];
        clock.advance(chrono::Duration::seconds(2));
        let applied = db.apply_results(scan, "jd", "t", &results).await.unwrap();
        assert_eq!(applied.queued, 2, "6 and 7; 1 is there, 6 twice");
        assert_eq!(applied.gone, 1);
        assert_eq!(
            applied.listings,
            crate::store::ListingCounts {
                inserted: 2,
                updated: 0,
                unchanged: 0
            }
        );
        let s = db.scan(scan).await.unwrap().unwrap();
        assert_eq!(
            (
                s.pages_fetched,
                s.pages_failed,
                s.pages_retried,
                s.robots_skipped,
                s.requests
            ),
            (3, 2, 0, 1, 8)
        );
        assert_eq!(
            (
                s.listings_new,
                s.listings_changed,
                s.listings_unchanged,
                s.listings_gone
            ),
            (2, 0, 0, 1)
        );
        let c = db.frontier_counts(scan).await.unwrap();
        assert_eq!(
            (c.pending, c.inflight, c.done, c.gone, c.failed, c.robots),
            (2, 0, 2, 1, 2, 1)
        );
        assert_eq!(
            db.failed_entries(scan, 10).await.unwrap(),
            vec![
                (
                    "https://jd.example/2".to_string(),
                    Some(200),
                    "no title".to_string()
                ),
                (
                    "https://jd.example/5".to_string(),
                    None,
                    "timeout".to_string()
                ),
            ]
        );
        assert_eq!(db.failed_entries(scan, 1).await.unwrap().len(), 1);
        // The card found on the result page comes back with its item.
        let next = db.claim_entries(scan, &ANY, 0, 10).await.unwrap();
        let card = next.iter().find(|e| e.key == "7").unwrap().card.clone();
        // JSONB may respace and reorder the card's keys: compare values.
        let card: serde_json::Value = serde_json::from_str(card.as_deref().unwrap()).unwrap();
        assert_eq!(card, serde_json::json!({"title": "卡片", "price": "¥1"}));

        // Pages: numbered in batch order, from 1; metadata and bodies kept.
        let pages = db.item_pages(Some("jd"), "1").await.unwrap();
        assert_eq!(pages.len(), 1);
        let p = &pages[0];
        assert_eq!((p.id, p.scan_id), (2, scan));
        assert_eq!(
            (p.platform.as_str(), p.item_id.as_deref()),
            ("jd", Some("1"))
        );
        assert_eq!(p.kind, "item");
        assert_eq!(p.url, "https://jd.example/1");
        assert_eq!(p.final_url, "https://www.jd.example/1");
        assert_eq!(p.fetched_at, "2026-06-30T07:59:58.123Z");
        assert_eq!(p.status, 200);
        assert_eq!(
            p.headers,
            vec![
                (
                    "content-type".to_string(),
                    "text/html; charset=gbk".to_string()
                ),
                ("x-b".to_string(), "2".to_string()),
                ("x-a".to_string(), "1".to_string()),
            ]
        );
        assert_eq!(p.encoding.as_deref(), Some("gbk"));
        assert_eq!(p.body_len, 3 * b"\x1f\x8b item".len() as i64);
        assert_eq!(p.sha256, "sha-1");
        assert_eq!(db.page_body_gz(2).await.unwrap(), b"\x1f\x8b item");
        assert_eq!(db.page_body_gz(1).await.unwrap(), b"search body");
        assert_eq!(db.page_body_gz(3).await.unwrap(), b"gone");
        assert!(db.page_body_gz(99).await.is_err());
        assert_eq!(db.item_pages(None, "3").await.unwrap()[0].id, 3);
        assert!(db.item_pages(Some("taobao"), "1").await.unwrap().is_empty());
        assert!(db.item_pages(None, "nothing").await.unwrap().is_empty());

        // Listings: the card's listing and the item's are online with their
        // scan and page; the gone one is gone by its page.
        assert_eq!(
            db.listing_states("jd").await.unwrap(),
            vec![("gone".to_string(), 1), ("online".to_string(), 2)]
        );
        assert_eq!(
            db.scalar_i64("SELECT page_id FROM listings WHERE item_id = '8'")
                .await,
            1
        );
        assert_eq!(
            db.scalar_i64(
                "SELECT COUNT(*) FROM listings WHERE item_id = '3' AND state = 'gone' \
             AND gone_how = 'page' AND page_id = 3 AND last_scan_id = 1 AND gone_at IS NOT NULL"
            )
            .await,
            1
        );
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM frontier WHERE page_id IS NOT NULL")
                .await,
            3
        );
        assert!(db.listing_states("taobao").await.unwrap().is_empty());

        // A second batch: pages go on from the last id; the gone listing seen
        // again is online; gone twice counts once.
        let next_ids: Vec<i64> = next.iter().map(|e| e.id).collect();
        let batch2 = vec![
            item_result(next_ids[0], listing("jd", "3", "旧的")),
            item_result(next_ids[1], listing("jd", "1", "电饭煲 一号 改")),
        ];
        let applied = db.apply_results(scan, "jd", "t", &batch2).await.unwrap();
        assert_eq!(
            (
                applied.listings.inserted,
                applied.listings.updated,
                applied.listings.unchanged
            ),
            (0, 1, 1)
        );
        assert_eq!(
            db.item_pages(None, "3").await.unwrap().last().unwrap().id,
            4
        );
        assert_eq!(
            db.listing_states("jd").await.unwrap(),
            vec![("online".to_string(), 3)]
        );
        assert_eq!(
            db.scalar_i64(
                "SELECT COUNT(*) FROM listings WHERE item_id = '3' AND gone_at IS NULL \
             AND gone_how IS NULL AND page_id = 4"
            )
            .await,
            1
        );
        // Nothing to do is nothing done.
        let none = db.apply_results(scan, "jd", "t", &[]).await.unwrap();
        assert_eq!((none.gone, none.queued), (0, 0));
        let s = db.scan(scan).await.unwrap().unwrap();
        assert_eq!(
            (s.pages_fetched, s.listings_changed, s.listings_unchanged),
            (5, 1, 1)
        );
    }
);

contract!(a_moved_platform_rebases_its_frontier, |db, _clock| {
    let seeds = vec![
        item_entry("a"),
        item_entry("b"),
        item_entry("c"),
        item_entry("d"),
        item_entry("e"),
    ];
    let scan = db.create_scan("jd", day(), &[], 10, &seeds).await.unwrap();
    let other = db
        .create_scan("jd", day(), &[], 10, &[item_entry("x")])
        .await
        .unwrap();
    let open = db.open_entries(scan).await.unwrap();
    let ids: Vec<i64> = open.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(open[0].1, "https://jd.example/a");
    assert_eq!(open[0].2, "a");
    let x = db.open_entries(other).await.unwrap()[0].0;
    assert_eq!(db.rebase_entries(scan, &[]).await.unwrap(), 0);
    let rewrites = vec![
        // a and b trade keys: a's new key is b's, so a is dropped; then b
        // takes a's old key, free by now.
        (ids[0], "https://new/b".to_string(), "b".to_string()),
        (ids[1], "https://new/a".to_string(), "a".to_string()),
        // c keeps its key, with a new URL.
        (ids[2], "https://new/c".to_string(), "c".to_string()),
        // d moves to a fresh key, then e moves onto d's old key.
        (ids[3], "https://new/d2".to_string(), "d2".to_string()),
        (ids[4], "https://new/d".to_string(), "d".to_string()),
        // Not an entry of this scan.
        (x, "https://new/x".to_string(), "x2".to_string()),
        (99_999, "https://new/z".to_string(), "z".to_string()),
    ];
    assert_eq!(db.rebase_entries(scan, &rewrites).await.unwrap(), 4);
    let open = db.open_entries(scan).await.unwrap();
    assert_eq!(
        open,
        vec![
            (ids[1], "https://new/a".to_string(), "a".to_string()),
            (ids[2], "https://new/c".to_string(), "c".to_string()),
            (ids[3], "https://new/d2".to_string(), "d2".to_string()),
            (ids[4], "https://new/d".to_string(), "d".to_string()),
        ]
    );
    assert_eq!(
        db.open_entries(other).await.unwrap(),
        vec![(x, "https://jd.example/x".to_string(), "x".to_string())]
    );
    // Hosts move with the URLs: the new host's lease covers them.
    assert_eq!(
        db.due_hosts(scan, 0).await.unwrap(),
        vec!["new:443".to_string()]
    );
    assert_eq!(
        db.due_hosts(other, 0).await.unwrap(),
        vec!["jd.example:443".to_string()]
    );
    // A key of a finished entry is taken too.
    let claimed = db.claim_entries(scan, &ANY, 0, 1).await.unwrap();
    db.apply_results(
        scan,
        "jd",
        "t",
        &[EntryResult {
            entry_id: claimed[0].id,
            update: EntryUpdate::Robots,
            requests: 0,
        }],
    )
    .await
    .unwrap();
    assert_eq!(
        db.rebase_entries(scan, &[(ids[2], "u".into(), "a".into())])
            .await
            .unwrap(),
        0
    );
    assert_eq!(db.frontier_counts(scan).await.unwrap().total(), 3);
});

contract!(
    hostile_text_is_kept_or_cleaned_never_refused,
    |db, _clock| {
        let nul = "电饭\0煲 <script>alert('x')</script> %_ \"q\"";
        let long = "长".repeat(20_000);
        let mut seed = item_entry("n\0ul");
        seed.url = format!("https://jd.example/{nul}");
        seed.keyword = Some(nul.into());
        seed.card = Some(r#"{"title":"a\u0000b","spec":[["型\u0000号","x"]]}"#.into());
        let scan = db
            .create_scan("jd", day(), &[nul.to_string()], 10, &[seed])
            .await
            .unwrap();
        let s = db.scan(scan).await.unwrap().unwrap();
        assert_eq!(s.keywords[0].replace('\0', ""), nul.replace('\0', ""));
        let e = db.claim_entries(scan, &ANY, 0, 10).await.unwrap().remove(0);
        assert_eq!(e.key.replace('\0', ""), "nul");
        assert_eq!(e.url.replace('\0', ""), seed_url_clean(nul));
        let card: serde_json::Value = serde_json::from_str(e.card.as_deref().unwrap()).unwrap();
        let title = card["title"].as_str().unwrap().replace('\0', "");
        assert_eq!(title, "ab");

        let mut l = listing("jd", "n\0ul", nul);
        l.listing.description = Some(long.clone());
        l.listing.seller = Some("店\0铺".into());
        l.listing.params.push(("标\0签".into(), "值\0".into()));
        let mut p = page(Some("n\0ul"), EntryKind::Item, b"\0\x01\xff body");
        p.headers.push(("x-evil".into(), "a\0b".into()));
        p.url = "https://jd.example/\0".into();
        let results = vec![EntryResult {
            entry_id: e.id,
            update: EntryUpdate::Item {
                page: p,
                listing: Box::new(l.clone()),
            },
            requests: 1,
        }];
        let applied = db.apply_results(scan, "jd", "t", &results).await.unwrap();
        assert_eq!(applied.listings.inserted, 1);
        // Found again by the key it was written with.
        let pages = db.item_pages(Some("jd"), "n\0ul").await.unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!(pages[0].url.replace('\0', ""), "https://jd.example/");
        assert_eq!(pages[0].headers.last().unwrap().1.replace('\0', ""), "ab");
        // Bytes are bytes: a NUL in a body is kept.
        assert_eq!(
            db.page_body_gz(pages[0].id).await.unwrap(),
            b"\0\x01\xff body"
        );
        let got = db
            .listings_page(&Default::default(), 0, 10)
            .await
            .unwrap()
            .remove(0)
            .listing;
        assert_eq!(got.title.replace('\0', ""), nul.replace('\0', ""));
        assert_eq!(got.description.as_deref(), Some(long.as_str()));
        assert_eq!(got.seller.unwrap().replace('\0', ""), "店铺");
        assert_eq!(got.params[2].0.replace('\0', ""), "标签");
        // The same listing again is unchanged; a gone page for it finds it.
        let claimed = {
            let more = db
                .create_scan("jd", day(), &[], 10, &[item_entry("q")])
                .await
                .unwrap();
            (
                more,
                db.claim_entries(more, &ANY, 0, 1)
                    .await
                    .unwrap()
                    .remove(0)
                    .id,
            )
        };
        let applied = db
            .apply_results(
                claimed.0,
                "jd",
                "t",
                &[EntryResult {
                    entry_id: claimed.1,
                    update: EntryUpdate::Gone {
                        page: page(Some("n\0ul"), EntryKind::Item, b""),
                        platform: "jd".into(),
                        item_id: "n\0ul".into(),
                    },
                    requests: 1,
                }],
            )
            .await
            .unwrap();
        assert_eq!(applied.gone, 1);
        let counts = db.upsert_listings(&[l], "feed").await.unwrap();
        assert_eq!(counts.unchanged, 1);
        assert_eq!(db.listing_history_len("jd", "n\0ul").await.unwrap(), 0);
        db.finish_scan(scan, RunState::Failed, Some("\0"))
            .await
            .unwrap();
    }
);

fn seed_url_clean(nul: &str) -> String {
    format!("https://jd.example/{}", nul.replace('\0', ""))
}

contract!(every_scan_state_is_stored_and_read_back, |db, _clock| {
    // Skipped is a job run's state only (PostgreSQL's CHECK refuses it here).
    let states: Vec<RunState> = RunState::ALL
        .into_iter()
        .filter(|&s| s != RunState::Skipped)
        .collect();
    for &state in &states {
        let id = db.create_scan("jd", day(), &[], 1, &[]).await.unwrap();
        db.finish_scan(id, state, None).await.unwrap();
        assert_eq!(db.scan(id).await.unwrap().unwrap().state, state);
    }
});

/// SQLite has no CHECK on `scans.state`: a word the enum does not know is
/// refused when read, and the error names it.
#[tokio::test]
async fn an_unknown_stored_scan_state_is_named_when_read() {
    let (_clock, dynamic) = super::clock();
    let db = super::sqlite(dynamic).await;
    let id = db.create_scan("jd", day(), &[], 1, &[]).await.unwrap();
    db.exec_sql(&format!(
        "UPDATE scans SET state = 'paused' WHERE id = {id}"
    ))
    .await;
    let e = db.scan(id).await.unwrap_err().to_string();
    assert!(e.contains("`paused`"), "{e}");
}
