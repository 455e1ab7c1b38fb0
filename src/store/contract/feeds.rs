//! The storage contract for `store::feeds`, run against each backend.

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use crate::store::StoreError;
#[allow(unused_imports)]
use crate::store::feeds::{FeedChannel, FeedDelivery};

#[allow(dead_code)]
fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Rows of other areas the feed reads, in SQL both backends accept: a
/// certificate import, certificates and their history, listings of `jd`
/// (and one of `tb`), their findings, a reviewer's decisions and notices.
/// The window the tests ask for is [2026-06-29T08:00Z, 2026-06-30T08:00Z).
#[allow(dead_code)]
const SEED: &str = "
INSERT INTO cert_imports (id, file, encoding, strict, started_at) VALUES (1, 'certs.csv', 'utf-8', TRUE, '2026-06-01T00:00:00.000Z');
INSERT INTO certificates (id, cert_no, standard_number, status, status_raw, product_name, models_raw, models, models_complete,
    applicant, manufacturer, factory, issued_on, expires_on, status_changed_on, status_reason, row_hash, import_id, updated_at) VALUES
 (1, 'C-A', TRUE, 'suspended', '暂停', '电热水壶', 'K1', '[\"K1\"]', TRUE, '申请人A', '制造商A', '工厂A', '2024-01-01', '2029-01-01', '2026-06-29', '监督抽查不合格', '0000000000000001', 1, '2026-06-29T10:00:00.000Z'),
 (2, 'C-0', TRUE, 'suspended', '暂停', '插座', 'S1', '[\"S1\"]', TRUE, 'App 0', 'Maker 0', 'Factory 0', '2024-01-01', '2029-01-01', NULL, NULL, '0000000000000002', 1, '2026-06-29T10:00:00.000Z'),
 (3, 'C-B', TRUE, 'valid', '有效', '电饭煲', 'R1', '[\"R1\"]', TRUE, 'App B', 'Maker B', 'Factory B', '2021-06-30', '2026-06-29', NULL, NULL, '0000000000000003', 1, '2026-06-01T00:00:00.000Z'),
 (4, 'C-C', TRUE, 'valid', '有效', '吹风机', 'H1', '[\"H1\"]', TRUE, 'App C', 'Maker C', 'Factory C', '2021-05-01', '2026-05-01', NULL, NULL, '0000000000000004', 1, '2026-06-29T12:00:00.000Z'),
 (5, 'C-D', TRUE, 'revoked', '撤销', '台灯', 'D1', '[\"D1\"]', TRUE, 'App D', 'Maker D', 'Factory D', '2024-01-01', '2029-01-01', '2026-06-28', NULL, '0000000000000005', 1, '2026-06-28T10:00:00.000Z'),
 (6, 'C-E', TRUE, 'valid', '有效', '风扇', 'E1', '[\"E1\"]', TRUE, 'App E', 'Maker E', 'Factory E', '2024-01-01', '2029-01-01', NULL, NULL, '0000000000000006', 1, '2026-06-29T10:00:00.000Z');
INSERT INTO cert_history (id, cert_no, field, old_value, new_value, changed_at, import_id, source_file) VALUES
 (1, 'C-A', 'status', 'valid', 'suspended', '2026-06-29T10:00:00.000Z', 1, 'certs.csv'),
 (2, 'C-0', 'status', 'valid', 'suspended', '2026-06-29T10:00:00.000Z', 1, 'certs.csv'),
 (3, 'C-C', 'expires_on', '2027-01-01', '2026-05-01', '2026-06-29T12:00:00.000Z', 1, 'certs.csv'),
 (4, 'C-D', 'status', 'valid', 'revoked', '2026-06-28T10:00:00.000Z', 1, 'certs.csv'),
 (5, 'C-E', 'status', 'suspended', 'valid', '2026-06-29T10:00:00.000Z', 1, 'certs.csv'),
 (6, 'C-E', 'expires_on', '2028-01-01', '2029-01-01', '2026-06-29T10:00:00.000Z', 1, 'certs.csv');
INSERT INTO match_runs (id, started_at, as_of, state) VALUES (1, '2026-06-01T00:00:00.000Z', '2026-06-01', 'completed');
INSERT INTO listings (id, platform, item_id, url, title, params, seller, shop_url, content_hash, source, first_seen_at, last_seen_at, updated_at, state) VALUES
 (1, 'jd', 'i1', 'https://jd.example/1', '<script>alert(1)</script> 50% off_''quoted''', '[]', '店铺A', 'https://shop/a2', 'h1', 'scan:1', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', 'online'),
 (2, 'jd', 'i2', NULL, '美的电热水壶', '[]', '店铺A', 'https://shop/a1', 'h2', 'scan:1', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', 'gone'),
 (3, 'jd', 'i3', 'https://jd.example/3', 'Rice cooker', '[]', 'B店', NULL, 'h3', 'scan:1', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', 'online'),
 (4, 'tb', 'i4', 'https://tb.example/4', 'Other platform', '[]', '店铺A', NULL, 'h4', 'scan:1', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', 'online'),
 (5, 'jd', 'i5', 'https://jd.example/5', 'Old confirmation', '[]', '店铺A', NULL, 'h5', 'scan:1', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', 'online'),
 (6, 'jd', 'i6', 'https://jd.example/6', 'One confirmed', '[]', 'C店', NULL, 'h6', 'scan:1', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', 'online'),
 (7, 'jd', 'i7', 'https://jd.example/7', 'No seller', '[]', '', NULL, 'h7', 'scan:1', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', 'online'),
 (8, 'jd', 'i8', 'https://jd.example/8', 'Relisted', '[]', 'A店', NULL, 'h8', 'scan:1', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', 'online');
INSERT INTO users (id, username, display_name, role, password_hash, created_at, password_changed_at) VALUES
 (1, 'rev', 'Reviewer', 'reviewer', 'x', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z');
INSERT INTO decisions (id, listing_id, action, measure, verdict, user_id, decided_at, audit_id) VALUES
 (1, 1, 'confirm', 'take_down', 'suspended', 1, '2026-06-29T09:00:00.000Z', 1),
 (2, 2, 'confirm', NULL, 'uncertified', 1, '2026-06-29T09:00:00.000Z', 2),
 (3, 5, 'confirm', 'rectify', 'uncertified', 1, '2026-06-28T09:00:00.000Z', 3),
 (4, 6, 'confirm', 'rectify', 'uncertified', 1, '2026-06-30T07:59:59.999Z', 4),
 (5, 3, 'dismiss', NULL, 'cert_mismatch', 1, '2026-06-29T11:00:00.000Z', 5),
 (6, 7, 'confirm', NULL, 'uncertified', 1, '2026-06-30T08:00:00.000Z', 6),
 (7, 8, 'confirm', NULL, 'uncertified', 1, '2026-06-20T08:00:00.000Z', 7);
INSERT INTO findings (listing_id, verdict, confidence, matched_cert, cert_numbers, reasons, as_of, run_id, matched_at, review_state, decision_id, platform) VALUES
 (1, 'suspended', 0.9, 'C-A', '[\"C-A\"]', '[\"证书暂停\",\"r2\"]', '2026-06-01', 1, '2026-06-01T00:00:00.000Z', 'confirmed', 1, 'jd'),
 (2, 'uncertified', 0.8, NULL, '[\"C-A\",\"C-B\"]', '[]', '2026-06-01', 1, '2026-06-01T00:00:00.000Z', 'confirmed', 2, 'jd'),
 (3, 'cert_mismatch', 0.7, 'C-B', '[]', '[\"mismatch\"]', '2026-06-01', 1, '2026-06-01T00:00:00.000Z', 'dismissed', 5, 'jd'),
 (4, 'suspended', 0.9, 'C-A', '[\"C-A\"]', '[]', '2026-06-01', 1, '2026-06-01T00:00:00.000Z', 'confirmed', NULL, 'tb'),
 (5, 'uncertified', 0.6, NULL, '[]', '[]', '2026-06-01', 1, '2026-06-01T00:00:00.000Z', 'confirmed', 3, 'jd'),
 (6, 'uncertified', 0.6, NULL, '[\"X-1\",\"X-2\"]', '[]', '2026-06-01', 1, '2026-06-01T00:00:00.000Z', 'confirmed', 4, 'jd'),
 (7, 'uncertified', 0.6, NULL, '[]', '[]', '2026-06-01', 1, '2026-06-01T00:00:00.000Z', 'confirmed', 6, 'jd'),
 (8, 'uncertified', 0.6, NULL, '[]', '[]', '2026-06-01', 1, '2026-06-01T00:00:00.000Z', 'confirmed', 7, 'jd');
INSERT INTO notice_batches (id, platform, year, seq, number, issued_at, issued_by, deadline, listings) VALUES
 (1, 'jd', 2026, 1, 'N-1', '2026-06-10T00:00:00.000Z', 'sup', '2026-06-20', 2);
INSERT INTO notices (id, batch_id, listing_id, decision_id, state, state_at) VALUES
 (1, 1, 3, 5, 'overdue', '2026-06-21T00:00:00.000Z'),
 (2, 1, 8, 7, 'relisted', '2026-06-21T00:00:00.000Z');
";

contract!(
    feed_tokens_are_added_listed_found_and_revoked_with_audit_entries,
    |db, clock| {
        assert!(db.feed_tokens(None).await.unwrap().is_empty());
        assert!(db.feed_token_by_hash("nope").await.unwrap().is_none());
        let a = db
            .add_feed_token("jd", "京东 token ''1''", "hash-a", "admin")
            .await
            .unwrap();
        clock.advance(chrono::Duration::milliseconds(1234));
        let b = db
            .add_feed_token("tb", "<script>%_</script>", "hash-b", "admin2")
            .await
            .unwrap();
        let c = db
            .add_feed_token("jd", "second", "hash-c", "admin")
            .await
            .unwrap();
        assert!(a < b && b < c);
        // The same hash twice is refused (UNIQUE), on both.
        assert!(
            db.add_feed_token("jd", "dup", "hash-a", "admin")
                .await
                .is_err()
        );

        let all = db.feed_tokens(None).await.unwrap();
        assert_eq!(
            all.iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![a, b, c],
            "oldest first"
        );
        let jd = db.feed_tokens(Some("jd")).await.unwrap();
        assert_eq!(jd.iter().map(|t| t.id).collect::<Vec<_>>(), vec![a, c]);
        assert!(db.feed_tokens(Some("none")).await.unwrap().is_empty());
        let ta = &jd[0];
        assert_eq!(ta.platform, "jd");
        assert_eq!(ta.name, "京东 token ''1''");
        assert_eq!(ta.created_at, START);
        assert_eq!(ta.created_by, "admin");
        assert_eq!(ta.revoked_at, None);
        assert_eq!(ta.last_used_at, None);
        let tb = db.feed_token_by_hash("hash-b").await.unwrap().unwrap();
        assert_eq!(tb.id, b);
        assert_eq!(tb.name, "<script>%_</script>");
        assert_eq!(tb.created_at, "2026-06-30T08:00:01.234Z");
        assert_eq!(tb.created_by, "admin2");
        // One audit entry per token, chained.
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'feed_token.add'")
                .await,
            3
        );
        assert_eq!(
            db.scalar_i64("SELECT last_id FROM audit_head WHERE one = 1")
                .await,
            3
        );
        assert_eq!(
            db.scalar_i64(
                "SELECT COUNT(*) FROM audit_log a JOIN audit_log p ON p.id = a.id - 1 \
                 WHERE a.prev_hash = p.hash"
            )
            .await,
            2
        );
        assert_eq!(
            db.scalar_i64(
                "SELECT COUNT(*) FROM audit_log WHERE id = 2 AND target = 'platform:tb' \
                 AND actor = 'admin2' AND at = '2026-06-30T08:00:01.234Z'"
            )
            .await,
            1
        );

        // Revoking: stamped now, audited once; again changes nothing.
        clock.advance(chrono::Duration::days(1));
        let r = db.revoke_feed_token(a, "boss").await.unwrap();
        assert_eq!(r.revoked_at.as_deref(), Some("2026-07-01T08:00:01.234Z"));
        assert_eq!(r.name, "京东 token ''1''");
        clock.advance(chrono::Duration::days(1));
        let again = db.revoke_feed_token(a, "boss").await.unwrap();
        assert_eq!(
            again.revoked_at.as_deref(),
            Some("2026-07-01T08:00:01.234Z")
        );
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'feed_token.revoke'")
                .await,
            1
        );
        let by_hash = db.feed_token_by_hash("hash-a").await.unwrap().unwrap();
        assert_eq!(
            by_hash.revoked_at.as_deref(),
            Some("2026-07-01T08:00:01.234Z")
        );
        match db.revoke_feed_token(999, "boss").await {
            Err(StoreError::NotFound { what, key }) => {
                assert_eq!((what, key.as_str()), ("feed token", "999"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM audit_log").await, 4);
    }
);

contract!(hostile_token_text_never_fails, |db, _clock| {
    let long = "长".repeat(5000);
    let nul = "a\0b\"'%_<script>";
    let id = db
        .add_feed_token("jd", nul, "h-nul", "ad\0min")
        .await
        .unwrap();
    let id2 = db
        .add_feed_token("jd", &long, "h-long", "admin")
        .await
        .unwrap();
    let t = db.feed_token_by_hash("h-nul").await.unwrap().unwrap();
    assert_eq!(t.id, id);
    // PostgreSQL text holds no NUL: it is dropped there; SQLite keeps it.
    // Both keep everything else.
    assert_eq!(t.name.replace('\0', ""), "ab\"'%_<script>");
    assert_eq!(t.created_by.replace('\0', ""), "admin");
    let t2 = db.revoke_feed_token(id2, "x\0y").await.unwrap();
    assert_eq!(t2.name, long);
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM audit_log").await, 3);
});

contract!(deliveries_move_the_cursor_of_their_own_kind, |db, clock| {
    let tok = db.add_feed_token("jd", "jd", "h1", "admin").await.unwrap();
    let other = db.add_feed_token("jd", "jd2", "h2", "admin").await.unwrap();
    assert_eq!(
        db.feed_cursor("jd", FeedChannel::Token, Some(tok))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.feed_cursor("jd", FeedChannel::File, None).await.unwrap(),
        None
    );

    let counts =
        serde_json::json!({"certificates": 2, "confirmed_findings": 0, "repeat_sellers": 1});
    let d = |token_id, channel, since: &str, until: &str| FeedDelivery {
        token_id,
        platform: "jd",
        channel,
        requested_by: "平台 jd",
        since: t(since),
        until: t(until),
        counts: counts.clone(),
    };
    clock.advance(chrono::Duration::hours(1));
    let d1 = db
        .record_feed_delivery(&d(
            Some(tok),
            FeedChannel::Token,
            "2026-06-29T08:00:00Z",
            // Sub-millisecond digits are cut, as stamps are.
            "2026-06-30T09:00:00.123456Z",
        ))
        .await
        .unwrap();
    let d2 = db
        .record_feed_delivery(&d(
            None,
            FeedChannel::File,
            "2026-06-01T00:00:00Z",
            "2026-06-15T00:00:00Z",
        ))
        .await
        .unwrap();
    let d3 = db
        .record_feed_delivery(&d(
            None,
            FeedChannel::Staff,
            "2026-06-01T00:00:00Z",
            "2026-06-16T00:00:00+08:00",
        ))
        .await
        .unwrap();
    assert!(d1 < d2 && d2 < d3);
    assert_eq!(
        db.feed_cursor("jd", FeedChannel::Token, Some(tok))
            .await
            .unwrap()
            .as_deref(),
        Some("2026-06-30T09:00:00.123Z")
    );
    assert_eq!(
        db.feed_cursor("jd", FeedChannel::Token, Some(other))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.feed_cursor("jd", FeedChannel::Token, None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.feed_cursor("jd", FeedChannel::File, None)
            .await
            .unwrap()
            .as_deref(),
        Some("2026-06-15T00:00:00.000Z")
    );
    assert_eq!(
        db.feed_cursor("jd", FeedChannel::Staff, None)
            .await
            .unwrap()
            .as_deref(),
        Some("2026-06-15T16:00:00.000Z")
    );
    assert_eq!(
        db.feed_cursor("tb", FeedChannel::File, None).await.unwrap(),
        None
    );
    // The latest delivery wins, even with an earlier `until`.
    db.record_feed_delivery(&d(
        None,
        FeedChannel::File,
        "2026-06-01T00:00:00Z",
        "2026-06-10T00:00:00Z",
    ))
    .await
    .unwrap();
    assert_eq!(
        db.feed_cursor("jd", FeedChannel::File, None)
            .await
            .unwrap()
            .as_deref(),
        Some("2026-06-10T00:00:00.000Z")
    );
    // The token's last use is the delivery's time; the other token's is untouched.
    let toks = db.feed_tokens(Some("jd")).await.unwrap();
    assert_eq!(
        toks[0].last_used_at.as_deref(),
        Some("2026-06-30T09:00:00.000Z")
    );
    assert_eq!(toks[1].last_used_at, None);
    // The counts are kept as delivered, keys in their order.
    assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM feed_deliveries WHERE CAST(counts AS TEXT) = \
                 '{\"certificates\":2,\"confirmed_findings\":0,\"repeat_sellers\":1}'"
        )
        .await,
        4
    );
    assert_eq!(
            db.scalar_i64(&format!(
                "SELECT COUNT(*) FROM feed_deliveries WHERE id = {d1} AND requested_by = '平台 jd' \
                 AND delivered_at = '2026-06-30T09:00:00.000Z' AND since = '2026-06-29T08:00:00.000Z'"
            ))
            .await,
            1
        );
});

contract!(an_empty_database_has_an_empty_feed, |db, _clock| {
    let lists = db
        .feed_lists(
            "jd",
            t("2026-06-01T00:00:00Z"),
            t("2026-07-01T00:00:00Z"),
            10,
        )
        .await
        .unwrap();
    assert!(lists.certificates.is_empty());
    assert!(lists.confirmed_findings.is_empty());
    assert!(lists.repeat_sellers.is_empty());
    assert_eq!(
        lists.truncated,
        crate::store::feeds::FeedTruncated::default()
    );
});

contract!(
    the_feed_lists_certificates_confirmations_and_repeat_sellers,
    |db, _clock| {
        db.exec_sql(SEED).await;
        let (since, until) = (t("2026-06-29T08:00:00Z"), t("2026-06-30T08:00:00Z"));
        let lists = db.feed_lists("jd", since, until, 10).await.unwrap();
        assert_eq!(
            lists.truncated,
            crate::store::feeds::FeedTruncated::default()
        );

        // Certificates: in the order of their first event (time, then number).
        let certs = &lists.certificates;
        assert_eq!(
            certs.iter().map(|c| c.cert_no.as_str()).collect::<Vec<_>>(),
            vec!["C-0", "C-A", "C-C", "C-B"]
        );
        let a = &certs[1];
        assert_eq!(a.status, "suspended");
        assert_eq!(a.status_label, "暂停");
        assert_eq!(a.product_name, "电热水壶");
        assert_eq!(a.applicant, "申请人A");
        assert_eq!(a.manufacturer, "制造商A");
        assert_eq!(a.expires_on, "2029-01-01");
        assert_eq!(a.status_changed_on.as_deref(), Some("2026-06-29"));
        assert_eq!(a.status_reason.as_deref(), Some("监督抽查不合格"));
        assert_eq!(a.events.len(), 1);
        assert_eq!(a.events[0].kind, "suspended");
        assert_eq!(a.events[0].kind_label, "暂停");
        assert_eq!(a.events[0].at, "2026-06-29T10:00:00.000Z");
        assert_eq!(a.events[0].from.as_deref(), Some("valid"));
        // Listing 1 is matched and cites it (one entry), listing 2 cites it;
        // the tb listing is not jd's.
        let ids: Vec<(&str, bool)> = a
            .listings
            .iter()
            .map(|l| (l.item_id.as_str(), l.cites))
            .collect();
        assert_eq!(ids, vec![("i1", true), ("i2", true)]);
        let l1 = &a.listings[0];
        assert_eq!(l1.url.as_deref(), Some("https://jd.example/1"));
        assert_eq!(l1.title, "<script>alert(1)</script> 50% off_'quoted'");
        assert_eq!(l1.seller.as_deref(), Some("店铺A"));
        assert_eq!(l1.state, "online");
        assert_eq!(l1.verdict, "suspended");
        assert_eq!(
            l1.verdict_label,
            crate::store::feeds::verdict_label("suspended")
        );
        assert_eq!(a.listings[1].url, None);
        assert_eq!(a.listings[1].state, "gone");

        let c0 = &certs[0];
        assert_eq!(c0.status_changed_on, None);
        assert_eq!(c0.status_reason, None);
        assert!(c0.listings.is_empty());

        // An expiry date moved to before the window by an import in it.
        let cc = &certs[2];
        assert_eq!(cc.events.len(), 1);
        assert_eq!(cc.events[0].kind, "expired");
        assert_eq!(cc.events[0].at, "2026-06-29T12:00:00.000Z");
        assert_eq!(cc.events[0].from.as_deref(), Some("2027-01-01"));
        assert_eq!(cc.expires_on, "2026-05-01");

        // An expiry date passing in the window: the first day after it, 00:00 UTC.
        let cb = &certs[3];
        assert_eq!(cb.status, "valid");
        assert_eq!(cb.events.len(), 1);
        assert_eq!(cb.events[0].kind, "expired");
        assert_eq!(
            cb.events[0].kind_label,
            crate::store::feeds::status_label("expired")
        );
        assert_eq!(cb.events[0].at, "2026-06-30T00:00:00.000Z");
        assert_eq!(cb.events[0].from, None);
        let ids: Vec<(&str, bool, &str)> = cb
            .listings
            .iter()
            .map(|l| (l.item_id.as_str(), l.cites, l.verdict.as_str()))
            .collect();
        assert_eq!(
            ids,
            vec![("i2", true, "uncertified"), ("i3", false, "cert_mismatch")]
        );

        // Confirmations decided in the window, oldest first (ties by decision).
        let conf = &lists.confirmed_findings;
        assert_eq!(
            conf.iter().map(|c| c.item_id.as_str()).collect::<Vec<_>>(),
            vec!["i1", "i2", "i6"]
        );
        let f1 = &conf[0];
        assert_eq!(f1.url.as_deref(), Some("https://jd.example/1"));
        assert_eq!(f1.title, "<script>alert(1)</script> 50% off_'quoted'");
        assert_eq!(f1.seller.as_deref(), Some("店铺A"));
        assert_eq!(f1.shop_url.as_deref(), Some("https://shop/a2"));
        assert_eq!(f1.state, "online");
        assert_eq!(f1.verdict, "suspended");
        assert_eq!(f1.reasons, vec!["证书暂停".to_string(), "r2".to_string()]);
        assert_eq!(f1.certificate.as_deref(), Some("C-A"));
        assert_eq!(f1.cert_numbers, vec!["C-A".to_string()]);
        assert_eq!(f1.decided_at, "2026-06-29T09:00:00.000Z");
        assert_eq!(f1.measure.as_deref(), Some("take_down"));
        assert!(f1.measure_label.is_some());
        let f2 = &conf[1];
        // No matched certificate: the first cited.
        assert_eq!(f2.certificate.as_deref(), Some("C-A"));
        assert_eq!(f2.measure, None);
        assert_eq!(f2.measure_label, None);
        assert_eq!(f2.state, "gone");
        assert_eq!(conf[2].decided_at, "2026-06-30T07:59:59.999Z");
        assert_eq!(conf[2].certificate.as_deref(), Some("X-1"));

        // Repeat sellers: 店铺A has 3 confirmed (listing 5's old decision
        // counts), A店 a relisted notice, B店 an overdue one; C店 and the
        // empty seller are not repeat sellers (one confirmed each).
        let s = &lists.repeat_sellers;
        assert_eq!(
            s.iter()
                .map(|r| (r.seller.as_str(), r.confirmed, r.overdue, r.relisted))
                .collect::<Vec<_>>(),
            vec![("店铺A", 3, 0, 0), ("A店", 1, 0, 1), ("B店", 0, 1, 0)]
        );
        assert_eq!(s[0].shop_url.as_deref(), Some("https://shop/a1"));
        assert_eq!(s[2].shop_url, None);

        // Caps.
        let cut = db.feed_lists("jd", since, until, 1).await.unwrap();
        assert_eq!(cut.certificates.len(), 1);
        assert_eq!(cut.certificates[0].cert_no, "C-0");
        assert_eq!(cut.confirmed_findings.len(), 1);
        assert_eq!(cut.repeat_sellers.len(), 1);
        assert_eq!(cut.repeat_sellers[0].seller, "店铺A");
        assert!(cut.truncated.certificates);
        assert!(cut.truncated.confirmed_findings);
        assert!(cut.truncated.repeat_sellers);
        let exact = db.feed_lists("jd", since, until, 4).await.unwrap();
        assert_eq!(exact.certificates.len(), 4);
        assert!(!exact.truncated.certificates);
        assert_eq!(exact.confirmed_findings.len(), 3);
        assert!(!exact.truncated.confirmed_findings);
        assert!(!exact.truncated.repeat_sellers);

        // Another platform: its own listings only.
        let tb = db.feed_lists("tb", since, until, 10).await.unwrap();
        assert_eq!(tb.certificates.len(), 4);
        let a = tb.certificates.iter().find(|c| c.cert_no == "C-A").unwrap();
        assert_eq!(a.listings.len(), 1);
        assert_eq!(a.listings[0].item_id, "i4");
        assert!(tb.confirmed_findings.is_empty());
        assert!(tb.repeat_sellers.is_empty());

        // A window of less than a day passes no expiry date; one before
        // everything has no events.
        let short = db
            .feed_lists(
                "jd",
                t("2026-06-29T09:30:00Z"),
                t("2026-06-29T11:00:00Z"),
                10,
            )
            .await
            .unwrap();
        assert_eq!(
            short
                .certificates
                .iter()
                .map(|c| c.cert_no.as_str())
                .collect::<Vec<_>>(),
            vec!["C-0", "C-A"]
        );
        let none = db
            .feed_lists(
                "jd",
                t("2026-01-01T00:00:00Z"),
                t("2026-01-01T00:00:00Z"),
                10,
            )
            .await
            .unwrap();
        assert!(none.certificates.is_empty() && none.confirmed_findings.is_empty());
        // Repeat sellers do not depend on the window.
        assert_eq!(none.repeat_sellers.len(), 3);
    }
);

contract!(
    concurrent_token_writes_keep_one_audit_chain,
    |db, _clock| {
        // Eight tokens added at once: every one gets its audit entry, the
        // chain has no fork and no gap (PostgreSQL: the appenders queue on
        // the audit lock, as SQLite's writers do on its write lock).
        let adds = (0..8).map(|i| async move {
            db.add_feed_token("jd", &format!("t{i}"), &format!("h{i}"), "admin")
                .await
                .unwrap()
        });
        let ids = futures_util::future::join_all(adds).await;
        assert_eq!(ids.len(), 8);
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM audit_log").await, 8);
        assert_eq!(
            db.scalar_i64("SELECT last_id FROM audit_head WHERE one = 1")
                .await,
            8
        );
        assert_eq!(
            db.scalar_i64(
                "SELECT COUNT(*) FROM audit_log a JOIN audit_log p ON p.id = a.id - 1 \
                 WHERE a.prev_hash = p.hash"
            )
            .await,
            7
        );
        // The same token revoked twice at once: one revocation, one entry.
        let id = ids[0];
        let (r1, r2) = tokio::join!(db.revoke_feed_token(id, "a"), db.revoke_feed_token(id, "b"));
        let (r1, r2) = (r1.unwrap(), r2.unwrap());
        assert_eq!(r1.revoked_at, r2.revoked_at);
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'feed_token.revoke'")
                .await,
            1
        );
        // A delivery whose text holds a NUL is recorded (PostgreSQL drops
        // the NUL) and moves the cursor of the platform as named without it
        // there; SQLite keeps the name as given.
        db.record_feed_delivery(&FeedDelivery {
            token_id: Some(id),
            platform: "jd",
            channel: FeedChannel::Token,
            requested_by: "x\0y 'quoted' %_",
            since: t("2026-06-29T00:00:00Z"),
            until: t("2026-06-30T00:00:00Z"),
            counts: serde_json::json!({"note": "a\u{0}b"}),
        })
        .await
        .unwrap();
        assert_eq!(
            db.feed_cursor("jd", FeedChannel::Token, Some(id))
                .await
                .unwrap()
                .as_deref(),
            Some("2026-06-30T00:00:00.000Z")
        );
    }
);
