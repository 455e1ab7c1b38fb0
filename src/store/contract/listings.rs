//! The storage contract for `store::listings`, run against each backend.

use super::crawl::listing;
#[allow(unused_imports)]
use super::*;
use crate::store::{ListingCounts, ListingFilter};
use std::sync::Arc;

fn counts(inserted: u64, updated: u64, unchanged: u64) -> ListingCounts {
    ListingCounts {
        inserted,
        updated,
        unchanged,
    }
}

contract!(an_empty_database_has_no_listings, |db, _clock| {
    assert_eq!(db.count_listings(None).await.unwrap(), 0);
    assert_eq!(db.count_listings(Some("jd")).await.unwrap(), 0);
    assert!(
        db.listings_page(&ListingFilter::default(), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(db.listings_citing(&[]).await.unwrap().is_empty());
    assert!(db.listings_citing(&["X".into()]).await.unwrap().is_empty());
    assert_eq!(db.listing_history_len("jd", "1").await.unwrap(), 0);
    assert_eq!(
        db.upsert_listings(&[], "feed").await.unwrap(),
        counts(0, 0, 0)
    );
});

contract!(
    upserts_insert_update_and_keep_the_old_content,
    |db, clock| {
        let a = listing("jd", "1", "美的电饭煲 MB-FB40");
        let b = listing("jd", "2", "插座");
        let mut c = listing("taobao", "1", "公牛插座");
        c.listing.url = None;
        c.listing.brand = None;
        c.listing.params = vec![];
        c.listing.seller = None;
        c.listing.price = None;
        c.listing.category = None;
        c.listing.description = Some("说明 'quoted' %_".into());
        c.listing.shop_url = Some("https://shop".into());
        let n = db
            .upsert_listings(&[a.clone(), b.clone(), c.clone()], "feed:a")
            .await
            .unwrap();
        assert_eq!(n, counts(3, 0, 0));
        assert_eq!(db.count_listings(None).await.unwrap(), 3);
        assert_eq!(db.count_listings(Some("jd")).await.unwrap(), 2);
        assert_eq!(db.count_listings(Some("pdd")).await.unwrap(), 0);

        // Every field read back, in id order.
        let all = db
            .listings_page(&ListingFilter::default(), 0, 10)
            .await
            .unwrap();
        let ids: Vec<i64> = all.iter().map(|s| s.id).collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(all[0].listing, a.listing);
        assert_eq!(all[1].listing, b.listing);
        assert_eq!(all[2].listing, c.listing);
        let text = crate::store::listings::listing_search_text(&a.listing);
        assert!(text.contains("电饭 饭煲"), "{text}");
        assert_eq!(
            db.scalar_i64(&format!(
                "SELECT COUNT(*) FROM listings WHERE id = 1 AND search_text = '{text}' \
             AND source = 'feed:a' AND state = 'online' AND last_scan_id IS NULL \
             AND first_seen_at = '2026-06-30T08:00:00.000Z' AND updated_at = first_seen_at"
            ))
            .await,
            1
        );

        // Unchanged, changed, and changed twice in one batch (in order).
        clock.advance(chrono::Duration::milliseconds(5_250));
        let b2 = listing("jd", "2", "插座 新");
        let b3 = listing("jd", "2", "插座 更新");
        let n = db
            .upsert_listings(&[a.clone(), b2, b3.clone()], "feed:b")
            .await
            .unwrap();
        assert_eq!(n, counts(0, 2, 1));
        assert_eq!(db.listing_history_len("jd", "2").await.unwrap(), 2);
        assert_eq!(db.listing_history_len("jd", "1").await.unwrap(), 0);
        assert_eq!(db.listing_history_len("taobao", "2").await.unwrap(), 0);
        let b_now = db
            .listings_page(&ListingFilter::default(), 1, 1)
            .await
            .unwrap()
            .remove(0);
        assert_eq!((b_now.id, b_now.listing.title.as_str()), (2, "插座 更新"));
        // The old content: the first version, then the second, with the stamp
        // as SQLite writes it and the spec table as an array.
        assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM listing_history WHERE listing_id = 2 \
             AND old_content ->> 'title' = '插座' AND old_content ->> 'updated_at' = '2026-06-30T08:00:00.000Z' \
             AND old_content ->> 'content_hash' = 'hash:插座' AND source = 'feed:b' \
             AND changed_at = '2026-06-30T08:00:05.250Z'"
        )
        .await,
        1
    );
        assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM listing_history WHERE listing_id = 2 \
             AND old_content ->> 'title' = '插座 新' AND old_content ->> 'updated_at' = '2026-06-30T08:00:05.250Z' \
             AND old_content ->> 'description' IS NULL"
        )
        .await,
        1
    );
        assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM listing_history WHERE old_content -> 'params' ->> 0 IS NOT NULL"
        )
        .await,
        2
    );
        assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM listings WHERE id = 1 AND last_seen_at = '2026-06-30T08:00:05.250Z' \
             AND updated_at = '2026-06-30T08:00:00.000Z' AND source = 'feed:a'"
        )
        .await,
        1
    );
        assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM listings WHERE id = 2 AND updated_at = '2026-06-30T08:00:05.250Z' \
             AND source = 'feed:b'"
        )
        .await,
        1
    );

        // A feed delivering a gone listing again does not bring it online.
        db.exec_sql("UPDATE listings SET state = 'gone', gone_how = 'absent' WHERE id = 3")
            .await;
        assert_eq!(
            db.upsert_listings(&[c.clone()], "feed:c").await.unwrap(),
            counts(0, 0, 1)
        );
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM listings WHERE id = 3 AND state = 'gone'")
                .await,
            1
        );

        // Paging: keyset, by platform, by scan, by ids.
        let page =
            |v: Vec<crate::store::StoredListing>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
        let all = ListingFilter::default();
        assert_eq!(page(db.listings_page(&all, 0, 2).await.unwrap()), [1, 2]);
        assert_eq!(page(db.listings_page(&all, 2, 2).await.unwrap()), [3]);
        assert!(db.listings_page(&all, 3, 2).await.unwrap().is_empty());
        let tb = ListingFilter {
            platform: Some("taobao".into()),
            ..Default::default()
        };
        assert_eq!(page(db.listings_page(&tb, 0, 10).await.unwrap()), [3]);
        db.exec_sql("UPDATE listings SET last_scan_id = 5 WHERE id IN (1, 3)")
            .await;
        let by_scan = ListingFilter {
            scan_id: Some(5),
            ..Default::default()
        };
        assert_eq!(
            page(db.listings_page(&by_scan, 0, 10).await.unwrap()),
            [1, 3]
        );
        let jd5 = ListingFilter {
            platform: Some("jd".into()),
            scan_id: Some(5),
            ..Default::default()
        };
        assert_eq!(page(db.listings_page(&jd5, 0, 10).await.unwrap()), [1]);
        let ids = ListingFilter {
            ids: Some(Arc::new(vec![1, 3, 77])),
            ..Default::default()
        };
        assert_eq!(page(db.listings_page(&ids, 0, 10).await.unwrap()), [1, 3]);
        assert_eq!(page(db.listings_page(&ids, 1, 1).await.unwrap()), [3]);
        assert_eq!(page(db.listings_page(&ids, 0, 0).await.unwrap()), [1]);
        assert!(db.listings_page(&ids, 3, 10).await.unwrap().is_empty());
    }
);

contract!(
    listings_citing_certificates_are_found_by_match_and_citation,
    |db, _clock| {
        let batch: Vec<_> = (1..=4)
            .map(|i| listing("jd", &i.to_string(), &format!("t{i}")))
            .collect();
        db.upsert_listings(&batch, "feed").await.unwrap();
        db.exec_sql(
        "INSERT INTO match_runs (id, started_at, as_of, listings) \
           VALUES (1, '2026-06-30T08:00:00.000Z', '2026-06-30', 4); \
         INSERT INTO findings (listing_id, verdict, confidence, matched_cert, cert_numbers, reasons, as_of, run_id, matched_at, platform) VALUES \
           (1, 'compliant', 0.9, 'C1', '[]', '[]', '2026-06-30', 1, '2026-06-30T08:00:00.000Z', 'jd'), \
           (2, 'cert_mismatch', 0.5, NULL, '[\"C2\",\"C1\"]', '[]', '2026-06-30', 1, '2026-06-30T08:00:00.000Z', 'jd'), \
           (3, 'expired', 0.7, 'C3', '[\"C3\"]', '[]', '2026-06-30', 1, '2026-06-30T08:00:00.000Z', 'jd'), \
           (4, 'uncertified', 0.2, NULL, '[]', '[]', '2026-06-30', 1, '2026-06-30T08:00:00.000Z', 'jd')",
    )
    .await;
        assert_eq!(db.listings_citing(&["C1".into()]).await.unwrap(), [1, 2]);
        assert_eq!(
            db.listings_citing(&["C3".into(), "C2".into()])
                .await
                .unwrap(),
            [2, 3]
        );
        assert_eq!(
            db.listings_citing(&["C1".into(), "C2".into(), "C3".into(), "C1".into()])
                .await
                .unwrap(),
            [1, 2, 3]
        );
        assert!(db.listings_citing(&["C4".into()]).await.unwrap().is_empty());
        assert!(
            db.listings_citing(&["%".into(), "\0".into(), "c1".into()])
                .await
                .unwrap()
                .is_empty()
        );
        let many: Vec<String> = (0..1200)
            .map(|i| format!("N{i}"))
            .chain(["C3".to_string()])
            .collect();
        assert_eq!(db.listings_citing(&many).await.unwrap(), [3]);
    }
);

contract!(
    a_large_batch_with_repeats_is_applied_in_order,
    |db, _clock| {
        // More than a run's worth of listings, some twice: the second
        // appearance of a listing sees the first.
        let mut batch = Vec::new();
        for i in 0..1500 {
            batch.push(listing("jd", &i.to_string(), "v1"));
            if i % 500 == 7 {
                batch.push(listing("jd", &i.to_string(), "v2"));
                batch.push(listing("jd", &i.to_string(), "v2"));
            }
        }
        let n = db.upsert_listings(&batch, "feed").await.unwrap();
        assert_eq!(n, counts(1500, 3, 3));
        assert_eq!(db.count_listings(None).await.unwrap(), 1500);
        assert_eq!(db.listing_history_len("jd", "507").await.unwrap(), 1);
        // Ids follow the batch's order.
        let first = db.listings_page(&Default::default(), 0, 3).await.unwrap();
        let keys: Vec<(i64, &str)> = first
            .iter()
            .map(|s| (s.id, s.listing.item_id.as_str()))
            .collect();
        assert_eq!(keys, [(1, "0"), (2, "1"), (3, "2")]);
        let last = db
            .listings_page(&Default::default(), 1499, 10)
            .await
            .unwrap();
        assert_eq!(
            (last[0].id, last[0].listing.item_id.as_str()),
            (1500, "1499")
        );
    }
);

contract!(
    racing_upserts_of_the_same_listings_settle_once,
    |db, _clock| {
        // Two writers (on PostgreSQL, two connections) upsert overlapping new
        // listings at once: each listing is inserted once, the other writer
        // finds it (unchanged or updated), nothing fails.
        let first: Vec<_> = (0..300)
            .map(|i| listing("jd", &i.to_string(), "v1"))
            .collect();
        let second: Vec<_> = (150..450)
            .map(|i| listing("jd", &i.to_string(), if i < 300 { "v1" } else { "v2" }))
            .collect();
        let (x, y) = tokio::join!(
            db.upsert_listings(&first, "feed:x"),
            db.upsert_listings(&second, "feed:y")
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.inserted + y.inserted, 450);
        assert_eq!(x.updated + y.updated, 0);
        assert_eq!(x.unchanged + y.unchanged, 150);
        assert_eq!(db.count_listings(Some("jd")).await.unwrap(), 450);
        let ids = db
            .listings_page(&Default::default(), 0, 1000)
            .await
            .unwrap();
        assert_eq!(ids.len(), 450);
    }
);

contract!(writers_in_opposite_orders_never_deadlock, |db, _clock| {
    // Two writers insert the same new listings in opposite orders. On
    // PostgreSQL each waits on the other's uncommitted keys: inserted in
    // each batch's own order, that was a lock cycle (40P01); in key
    // order it is a queue. Several rounds, each with new keys.
    for round in 0..5 {
        let up: Vec<_> = (0..400)
            .map(|i| listing("jd", &format!("r{round}-{i:04}"), "v1"))
            .collect();
        let down: Vec<_> = up.iter().rev().cloned().collect();
        let (x, y) = tokio::join!(
            db.upsert_listings(&up, "feed:x"),
            db.upsert_listings(&down, "feed:y")
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(x.inserted + y.inserted, 400, "round {round}");
        assert_eq!(x.updated + y.updated, 0, "round {round}");
        assert_eq!(x.unchanged + y.unchanged, 400, "round {round}");
    }
    assert_eq!(db.count_listings(Some("jd")).await.unwrap(), 2000);
});
