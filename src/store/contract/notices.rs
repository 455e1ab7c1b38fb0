//! The storage contract for `store::notices`, run against each backend.
//!
//! Rows of other areas (users, findings, decisions, listings, pages) are
//! seeded with SQL both backends read the same; notices themselves only
//! through the methods under test.

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use crate::store::notices::{Ack, AckRefused, NoticeCheck, VerifyScope};
#[allow(unused_imports)]
use chrono::{Duration, NaiveDate};
#[allow(unused_imports)]
use serde_json::json;

/// A user, a match run, a revoked certificate, scan 7 and its item page 70.
pub(super) const BASE: &str = "\
INSERT INTO users (id, username, display_name, role, password_hash, created_at, password_changed_at) \
 VALUES (1, 'rev', 'Rev', 'reviewer', 'x', '2026-06-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z'); \
INSERT INTO match_runs (id, started_at, as_of) VALUES (1, '2026-06-01T00:00:00.000Z', '2026-06-01'); \
INSERT INTO cert_imports (id, file, encoding, strict, started_at) \
 VALUES (1, 'c.csv', 'utf-8', TRUE, '2026-06-01T00:00:00.000Z'); \
INSERT INTO certificates (id, cert_no, standard_number, status, status_raw, product_name, models_raw, models, \
 models_complete, applicant, manufacturer, factory, issued_on, expires_on, status_changed_on, row_hash, import_id, updated_at) \
 VALUES (1, '2020010701000001', TRUE, 'revoked', '撤销', '电热水壶', 'A1', '[\"A1\"]', TRUE, 'a', 'm', 'f', \
 '2020-01-01', '2025-01-01', '2026-05-20', '0000000000000000', 1, '2026-06-01T00:00:00.000Z'); \
INSERT INTO scans (id, platform, state, started_at, as_of, keywords, max_pages) \
 VALUES (7, 'taobao', 'completed', '2026-06-29T00:00:00.000Z', '2026-06-29', '[]', 10); \
INSERT INTO pages (id, scan_id, platform, item_id, kind, url, final_url, fetched_at, status, headers, body_gz, body_len, sha256) \
 VALUES (70, 7, 'taobao', 'T1', 'item', 'https://x/1', 'https://x/1', '2026-06-29T01:02:03.456Z', 200, '[]', '', 0, 'abc123');";

/// SQL text literal (quotes doubled), or NULL.
pub(super) fn lit(s: Option<&str>) -> String {
    s.map_or("NULL".into(), |s| format!("'{}'", s.replace('\'', "''")))
}

/// A listing online since `seen`; `item` is also the end of its URL.
pub(super) fn listing(
    id: i64,
    platform: &str,
    item: &str,
    seller: Option<&str>,
    shop: Option<&str>,
    seen: &str,
) -> String {
    format!(
        "INSERT INTO listings (id, platform, item_id, url, title, brand, model, params, seller, shop_url, \
         content_hash, source, first_seen_at, last_seen_at, updated_at, state) VALUES \
         ({id}, '{platform}', '{item}', 'https://x/{item}', '标题 {item}', 'LB', 'LM', '[]', {}, {}, 'h', 'scan:7', \
         '{seen}', '{seen}', '{seen}', 'online');",
        lit(seller),
        lit(shop)
    )
}

/// A confirmed finding of listing `id` on decision `id * 10`.
pub(super) fn confirmed(id: i64, platform: &str) -> String {
    format!(
        "INSERT INTO decisions (id, listing_id, action, measure, verdict, user_id, decided_at, audit_id) VALUES \
         ({d}, {id}, 'confirm', 'take_down', 'uncertified', 1, '2026-06-20T00:00:00.000Z', 0); \
         INSERT INTO findings (listing_id, verdict, confidence, matched_cert, cert_numbers, category_code, brand, model, \
         reasons, as_of, run_id, matched_at, review_state, decision_id, platform) VALUES \
         ({id}, 'uncertified', 0.9, NULL, '[\"2020010701000001\", \"X-2\"]', '0701', 'FB', 'FM', '[\"r1\", \"r2\"]', \
         '2026-06-01', 1, '2026-06-01T00:00:00.000Z', 'confirmed', {d}, '{platform}');",
        d = id * 10
    )
}

/// A confirmed listing of `platform`, online since June.
pub(super) fn confirmed_listing(
    id: i64,
    platform: &str,
    item: &str,
    seller: Option<&str>,
) -> String {
    listing(id, platform, item, seller, None, "2026-06-01T00:00:00.000Z") + &confirmed(id, platform)
}

pub(super) fn number(year: i32) -> impl Fn(i64) -> String {
    move |seq| format!("梅县市监CCC〔{year}〕{seq}号")
}

pub(super) fn deadline() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 7, 10).unwrap()
}

contract!(an_empty_database_has_no_notices, |db, _clock| {
    assert!(db.notice_candidates("taobao").await.unwrap().is_empty());
    let issued = db
        .issue_notice_batch("taobao", 2026, deadline(), "rev", number(2026))
        .await
        .unwrap();
    assert!(issued.is_none());
    assert!(db.notice_batches(None).await.unwrap().is_empty());
    assert!(db.notice_batches(Some("taobao")).await.unwrap().is_empty());
    assert!(db.notice_batch(1).await.unwrap().is_none());
    assert!(db.notice_lines(1).await.unwrap().is_empty());
    assert!(db.notice_steps(1).await.unwrap().is_empty());
    assert!(db.notice_states(1).await.unwrap().is_empty());
    assert!(db.notice_candidate_counts().await.unwrap().is_empty());
    assert!(db.notice_platforms().await.unwrap().is_empty());
    assert!(db.notice_outcomes(None).await.unwrap().is_empty());
    assert!(db.platform_performance().await.unwrap().is_empty());
    assert!(db.listings_under_notice("taobao").await.unwrap().is_empty());
    assert!(db.relist_candidates("taobao").await.unwrap().is_empty());
    assert_eq!(db.record_relists(&[], Some(1)).await.unwrap(), 0);
    let scope = VerifyScope {
        platform: None,
        today: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
        scan_id: Some(7),
        absent_means_removed: true,
    };
    assert_eq!(
        db.verify_notices(scope).await.unwrap(),
        NoticeCheck::default()
    );
    let ack = Ack {
        item_id: "T1".into(),
        text: "已下架".into(),
        at: None,
    };
    assert_eq!(
        db.record_acks(1, &[ack], "rev", "reply.xlsx")
            .await
            .unwrap(),
        vec![Some(AckRefused::NotInBatch)]
    );
    db.set_notice_folder(1, "nowhere").await.unwrap();
    // Keys holding a NUL match nothing on either backend, and fail nowhere.
    let nul = "tao\0bao";
    assert!(db.notice_candidates(nul).await.unwrap().is_empty());
    assert!(
        db.issue_notice_batch(nul, 2026, deadline(), "rev", number(2026))
            .await
            .unwrap()
            .is_none()
    );
    assert!(db.notice_batches(Some(nul)).await.unwrap().is_empty());
    assert!(db.notice_outcomes(Some(nul)).await.unwrap().is_empty());
    assert!(db.listings_under_notice(nul).await.unwrap().is_empty());
    assert!(db.relist_candidates(nul).await.unwrap().is_empty());
    let scope = VerifyScope {
        platform: Some(nul),
        ..scope
    };
    assert_eq!(
        db.verify_notices(scope).await.unwrap(),
        NoticeCheck::default()
    );
    // Nothing changed: nothing audited.
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM audit_log").await, 0);
});

contract!(
    candidates_carry_every_field_and_batches_number_per_year,
    |db, clock| {
        db.exec_sql(BASE).await;
        // Listing 1 shows page 70; listing 2 has a hostile title and no seller.
        let seed = confirmed_listing(1, "taobao", "T1", Some("S'店"))
        + "UPDATE listings SET page_id = 70, shop_url = 'https://shop/1' WHERE id = 1;"
        + &confirmed_listing(2, "taobao", "T2", None)
        + "UPDATE listings SET title = 'it''s 100% a_b <script>alert(1)</script> 电热水壶', url = NULL WHERE id = 2;"
        + "UPDATE findings SET brand = NULL, model = NULL, matched_cert = 'NOPE', reasons = '[]' WHERE listing_id = 2;"
        + &confirmed_listing(3, "jd", "J1", Some("J店"))
        // Pending and dismissed findings are no candidates.
        + &listing(4, "taobao", "T4", None, None, "2026-06-01T00:00:00.000Z")
        + &confirmed(4, "taobao")
        + "UPDATE findings SET review_state = 'pending' WHERE listing_id = 4;";
        db.exec_sql(&seed).await;
        assert_eq!(
            db.notice_candidate_counts().await.unwrap(),
            vec![("jd".to_string(), 1), ("taobao".to_string(), 2)]
        );
        let rows = db.notice_candidates("taobao").await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            serde_json::to_value(&rows[0]).unwrap(),
            json!({
                "listing_id": 1, "decision_id": 10, "platform": "taobao", "item_id": "T1",
                "url": "https://x/T1", "seller": "S'店", "shop_url": "https://shop/1", "title": "标题 T1",
                "brand": "FB", "model": "FM", "cert_numbers": ["2020010701000001", "X-2"],
                "verdict": "uncertified", "matched_cert": null, "cert_status": "revoked",
                "cert_status_date": "2026-05-20", "cert_expires_on": "2025-01-01",
                "reasons": ["r1", "r2"], "measure": "take_down", "page_id": 70,
                "evidence_sha256": "abc123", "captured_at": "2026-06-29T01:02:03.456Z",
            })
        );
        // No finding brand: the listing's; a matched number with no certificate.
        let r2 = &rows[1];
        assert_eq!(r2.title, "it's 100% a_b <script>alert(1)</script> 电热水壶");
        assert_eq!((r2.url.as_deref(), r2.seller.as_deref()), (None, None));
        assert_eq!(
            (r2.brand.as_deref(), r2.model.as_deref()),
            (Some("LB"), Some("LM"))
        );
        assert_eq!(r2.matched_cert.as_deref(), Some("NOPE"));
        assert_eq!(
            (r2.cert_status.as_deref(), r2.cert_expires_on.as_deref()),
            (None, None)
        );
        assert!(r2.reasons.is_empty());
        assert_eq!((r2.page_id, r2.captured_at.as_deref()), (None, None));

        // The first batch of 2026.
        let (b1, listed) = db
            .issue_notice_batch("taobao", 2026, deadline(), "rev 'x'", number(2026))
            .await
            .unwrap()
            .expect("candidates");
        assert_eq!(
            listed.iter().map(|r| r.listing_id).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(
            (b1.platform.as_str(), b1.year, b1.seq, b1.number.as_str()),
            ("taobao", 2026, 1, "梅县市监CCC〔2026〕1号")
        );
        assert_eq!(
            (b1.issued_at.as_str(), b1.issued_by.as_str()),
            (START, "rev 'x'")
        );
        assert_eq!(
            (b1.deadline.as_str(), b1.listings, b1.folder.as_deref()),
            ("2026-07-10", 2, None)
        );
        assert!(db.notice_candidates("taobao").await.unwrap().is_empty());
        assert!(
            db.issue_notice_batch("taobao", 2026, deadline(), "rev", number(2026))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            db.notice_candidate_counts().await.unwrap(),
            vec![("jd".to_string(), 1)]
        );

        // A number already in the register: refused, nothing written.
        clock.advance(Duration::milliseconds(1234));
        let err = db
            .issue_notice_batch("jd", 2026, deadline(), "rev", |_| {
                "梅县市监CCC〔2026〕1号".to_string()
            })
            .await
            .unwrap_err();
        assert!(
            matches!(&err, crate::store::StoreError::Exists { what: "notice number", key } if key == "梅县市监CCC〔2026〕1号"),
            "{err}"
        );
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM notice_batches").await,
            1
        );
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM notices").await, 2);
        assert_eq!(db.notice_candidates("jd").await.unwrap().len(), 1);

        // The next number of the year, whatever the platform.
        // Hostile text in the number and the issuer: PostgreSQL drops the NUL.
        let (b2, _) = db
            .issue_notice_batch("jd", 2026, deadline(), "rev\0 <b>'", |seq| {
                format!("梅县'%_\0〔2026〕{seq}号")
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (b2.seq, b2.number.replace('\0', "")),
            (2, "梅县'%_〔2026〕2号".to_string())
        );
        let back2 = db.notice_batch(b2.id).await.unwrap().unwrap();
        assert_eq!(
            (back2.number, back2.issued_by.replace('\0', "")),
            (b2.number.clone(), "rev <b>'".to_string())
        );
        assert_eq!(b2.issued_at, "2026-06-30T08:00:01.234Z");

        // A new decision on listing 1 makes it a candidate again; a new year starts at 1.
        db.exec_sql(
        "INSERT INTO decisions (id, listing_id, action, measure, verdict, user_id, decided_at, audit_id) VALUES \
         (11, 1, 'confirm', 'rectify', 'uncertified', 1, '2026-06-30T00:00:00.000Z', 0); \
         UPDATE findings SET decision_id = 11 WHERE listing_id = 1;",
    )
    .await;
        let (b3, rows3) = db
            .issue_notice_batch("taobao", 2027, deadline(), "rev", number(2027))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((b3.year, b3.seq, b3.listings), (2027, 1, 1));
        assert_eq!(
            (rows3[0].decision_id, rows3[0].measure.as_deref()),
            (11, Some("rectify"))
        );

        // Listed newest first, by platform or all.
        let all = db.notice_batches(None).await.unwrap();
        assert_eq!(
            all.iter().map(|b| b.id).collect::<Vec<_>>(),
            vec![b3.id, b2.id, b1.id]
        );
        let tb = db.notice_batches(Some("taobao")).await.unwrap();
        assert_eq!(
            tb.iter().map(|b| b.id).collect::<Vec<_>>(),
            vec![b3.id, b1.id]
        );
        assert!(db.notice_batches(Some("pdd")).await.unwrap().is_empty());
        assert_eq!(db.notice_platforms().await.unwrap(), vec!["jd", "taobao"]);

        // Every field read back; the folder once set.
        let folder = "notices/2026/梅县 'x' %_\0end";
        db.set_notice_folder(b1.id, folder).await.unwrap();
        let back = db.notice_batch(b1.id).await.unwrap().unwrap();
        assert_eq!(
            (
                back.id,
                back.platform.as_str(),
                back.year,
                back.seq,
                back.number.as_str()
            ),
            (b1.id, "taobao", 2026, 1, b1.number.as_str())
        );
        assert_eq!(
            (
                back.issued_at.as_str(),
                back.issued_by.as_str(),
                back.deadline.as_str(),
                back.listings
            ),
            (START, "rev 'x'", "2026-07-10", 2)
        );
        // PostgreSQL text holds no NUL: it is dropped there, kept by SQLite.
        assert_eq!(
            back.folder.unwrap().replace('\0', ""),
            "notices/2026/梅县 'x' %_end"
        );
        assert!(db.notice_batch(9999).await.unwrap().is_none());
        // A long folder, kept whole.
        let long = "长路径/".repeat(3000);
        db.set_notice_folder(b3.id, &long).await.unwrap();
        assert_eq!(
            db.notice_batch(b3.id)
                .await
                .unwrap()
                .unwrap()
                .folder
                .as_deref(),
            Some(long.as_str())
        );

        assert_eq!(
            db.notice_states(b1.id).await.unwrap(),
            vec![
                (1, "T1".to_string(), "issued".to_string()),
                (2, "T2".to_string(), "issued".to_string())
            ]
        );
        let lines = db.notice_lines(b1.id).await.unwrap();
        assert_eq!(lines.len(), 2);
        let l = &lines[0];
        assert_eq!(
            (l.listing_id, l.item_id.as_str(), l.url.as_deref()),
            (1, "T1", Some("https://x/T1"))
        );
        assert_eq!(
            (l.title.as_str(), l.seller.as_deref()),
            ("标题 T1", Some("S'店"))
        );
        assert_eq!((l.state.as_str(), l.state_at.as_str()), ("issued", START));
        assert_eq!(
            (
                l.verify_note.as_deref(),
                l.evidence_page_id,
                l.verified_scan_id
            ),
            (None, None, None)
        );
        assert_eq!((l.ack_at.as_deref(), l.ack_text.as_deref()), (None, None));
        assert_eq!((l.ack_by.as_deref(), l.ack_source.as_deref()), (None, None));
        assert!(l.relists.is_empty());
        assert!(lines[0].notice_id < lines[1].notice_id);
        // Issuing records no notice event; each issue is audited.
        assert!(db.notice_steps(1).await.unwrap().is_empty());
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'notice.issue'")
                .await,
            3
        );
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM notices WHERE listing_id = 1")
                .await,
            2
        );
    }
);

contract!(
    concurrent_issuers_never_share_a_number_or_a_listing,
    |db, _clock| {
        db.exec_sql(BASE).await;
        let seed = confirmed_listing(1, "taobao", "T1", None)
            + &confirmed_listing(2, "jd", "J1", None)
            + &confirmed_listing(3, "pdd", "P1", None);
        db.exec_sql(&seed).await;
        let (a, b, c) = tokio::join!(
            db.issue_notice_batch("taobao", 2026, deadline(), "rev", number(2026)),
            db.issue_notice_batch("jd", 2026, deadline(), "rev", number(2026)),
            db.issue_notice_batch("pdd", 2026, deadline(), "rev", number(2026)),
        );
        let mut seqs: Vec<i64> = [a, b, c]
            .into_iter()
            .map(|r| r.unwrap().unwrap().0.seq)
            .collect();
        seqs.sort();
        assert_eq!(seqs, vec![1, 2, 3]);
        // Two issuers for the same platform: one lists the new finding.
        db.exec_sql(&confirmed_listing(4, "taobao", "T4", None))
            .await;
        let (a, b) = tokio::join!(
            db.issue_notice_batch("taobao", 2026, deadline(), "rev", number(2026)),
            db.issue_notice_batch("taobao", 2026, deadline(), "rev", number(2026)),
        );
        let issued: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
        assert_eq!(issued.len(), 1);
        assert_eq!((issued[0].0.seq, issued[0].1[0].listing_id), (4, 4));
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM notices").await, 4);
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM audit_log").await, 4);
        assert_eq!(db.scalar_i64("SELECT MAX(id) FROM audit_log").await, 4);
    }
);

contract!(
    verification_moves_open_notices_and_records_each_step,
    |db, clock| {
        db.exec_sql(BASE).await;
        let seed = confirmed_listing(1, "taobao", "T1", None)
            + &confirmed_listing(2, "taobao", "T2", None)
            + &confirmed_listing(3, "taobao", "T3", None)
            + &confirmed_listing(4, "jd", "J1", None);
        db.exec_sql(&seed).await;
        let (tb, _) = db
            .issue_notice_batch("taobao", 2026, deadline(), "rev", number(2026))
            .await
            .unwrap()
            .unwrap();
        let (jd, _) = db
            .issue_notice_batch("jd", 2026, deadline(), "rev", number(2026))
            .await
            .unwrap()
            .unwrap();
        // 1 gone (its page shows it), 2 seen by scan 7, 3 not seen by it; jd 4 gone.
        db.exec_sql(
        "UPDATE listings SET state = 'gone', gone_how = 'page', gone_at = '2026-06-30T09:00:00.000Z', page_id = 70 WHERE id IN (1, 4); \
         UPDATE listings SET last_scan_id = 7, last_seen_at = '2026-06-30T09:00:00.000Z' WHERE id = 2; \
         UPDATE listings SET last_scan_id = 5 WHERE id = 3;",
    )
    .await;
        clock.advance(Duration::hours(2));
        let now = "2026-06-30T10:00:00.000Z";
        let scope = VerifyScope {
            platform: Some("taobao"),
            today: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            scan_id: Some(7),
            absent_means_removed: true,
        };
        let check = db.verify_notices(scope).await.unwrap();
        assert_eq!(
            check,
            NoticeCheck {
                removed: 2,
                still_online: 1,
                ..NoticeCheck::default()
            }
        );
        let lines = db.notice_lines(tb.id).await.unwrap();
        let seen: Vec<_> = lines
            .iter()
            .map(|l| {
                (
                    l.listing_id,
                    l.state.as_str(),
                    l.state_at.as_str(),
                    l.verify_note.as_deref(),
                    l.evidence_page_id,
                    l.verified_scan_id,
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (
                    1,
                    "removed_verified",
                    "2026-06-30T09:00:00.000Z",
                    Some("page_gone"),
                    Some(70),
                    Some(7)
                ),
                (2, "still_online", now, Some("online"), None, Some(7)),
                (
                    3,
                    "removed_verified",
                    now,
                    Some("not_in_results"),
                    None,
                    Some(7)
                ),
            ]
        );
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM listings WHERE id = 3 AND state = 'gone' AND gone_how = 'absent'").await, 1);
        // Another platform is out of scope.
        assert_eq!(db.notice_states(jd.id).await.unwrap()[0].2, "issued");
        assert_eq!(
            db.listings_under_notice("taobao").await.unwrap(),
            vec![
                ("T1".to_string(), Some("https://x/T1".to_string())),
                ("T2".to_string(), Some("https://x/T2".to_string())),
                ("T3".to_string(), Some("https://x/T3".to_string())),
            ]
        );
        // A second pass finds nothing new and audits nothing.
        let audits = db.scalar_i64("SELECT COUNT(*) FROM audit_log").await;
        assert_eq!(
            db.verify_notices(scope).await.unwrap(),
            NoticeCheck::default()
        );
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM audit_log").await,
            audits
        );

        // Past the deadline, all platforms, no scan: 2 overdue, jd 4 removed.
        clock.set(
            chrono::DateTime::parse_from_rfc3339("2026-07-11T01:00:00.000Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
        );
        let later = VerifyScope {
            platform: None,
            today: NaiveDate::from_ymd_opt(2026, 7, 11).unwrap(),
            scan_id: None,
            absent_means_removed: false,
        };
        assert_eq!(
            db.verify_notices(later).await.unwrap(),
            NoticeCheck {
                removed: 1,
                overdue: 1,
                ..NoticeCheck::default()
            }
        );
        let l2 = &db.notice_lines(tb.id).await.unwrap()[1];
        assert_eq!(
            (
                l2.state.as_str(),
                l2.state_at.as_str(),
                l2.verify_note.as_deref(),
                l2.verified_scan_id
            ),
            (
                "overdue",
                "2026-07-11T01:00:00.000Z",
                Some("online_after_deadline"),
                Some(7)
            )
        );
        // Listing 1 back online under its own ID after its removal: relisted.
        db.exec_sql("UPDATE listings SET state = 'online', last_seen_at = '2026-07-11T00:30:00.000Z' WHERE id = 1")
        .await;
        assert_eq!(
            db.verify_notices(later).await.unwrap(),
            NoticeCheck {
                reinstated: 1,
                ..NoticeCheck::default()
            }
        );
        let steps = db.notice_steps(1).await.unwrap();
        let got: Vec<_> = steps
            .iter()
            .map(|s| {
                (
                    s.number.as_str(),
                    s.batch_id,
                    s.at.as_str(),
                    s.state.as_str(),
                    s.note.as_deref(),
                    s.scan_id,
                    s.page_id,
                    s.listing_id,
                    s.actor.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    tb.number.as_str(),
                    tb.id,
                    now,
                    "removed_verified",
                    Some("page_gone"),
                    Some(7),
                    Some(70),
                    None,
                    "system"
                ),
                (
                    tb.number.as_str(),
                    tb.id,
                    "2026-07-11T01:00:00.000Z",
                    "relisted",
                    Some("same_id_online"),
                    None,
                    Some(70),
                    None,
                    "system"
                ),
            ]
        );
        assert_eq!(
            db.notice_steps(2)
                .await
                .unwrap()
                .iter()
                .map(|s| s.state.as_str())
                .collect::<Vec<_>>(),
            vec!["still_online", "overdue"]
        );
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM notice_events").await, 6);
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'notice.verify'")
                .await,
            3
        );

        // Outcomes so far, newest first.
        let out = db.notice_outcomes(None).await.unwrap();
        assert_eq!(
            out.iter().map(|o| o.number.as_str()).collect::<Vec<_>>(),
            vec![jd.number.as_str(), tb.number.as_str()]
        );
        let o = &out[1];
        assert_eq!(
            (
                o.platform.as_str(),
                o.issued_at.as_str(),
                o.deadline.as_str()
            ),
            ("taobao", START, "2026-07-10")
        );
        assert_eq!(
            (o.listings, o.removed, o.overdue, o.relisted, o.open),
            (3, 1, 1, 1, 0)
        );
        assert_eq!(o.removal_rate, 1.0 / 3.0);
        assert_eq!(o.median_days_to_removal, Some(7200.0 / 86_400.0));
        let j = &db.notice_outcomes(Some("jd")).await.unwrap()[0];
        assert_eq!((j.listings, j.removed, j.open), (1, 1, 0));
        assert_eq!(j.median_days_to_removal, Some(3600.0 / 86_400.0));
        assert!(db.notice_outcomes(Some("pdd")).await.unwrap().is_empty());

        // Removed listings are re-checked for 90 days; open ones always.
        clock.set(
            chrono::DateTime::parse_from_rfc3339("2026-09-28T08:59:00.000Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
        );
        assert_eq!(db.listings_under_notice("jd").await.unwrap().len(), 1);
        // Removed exactly 90 days ago: still re-checked (SQLite compares its
        // `+00:00` bound as text, which keeps the equal instant); a
        // millisecond later: not.
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        clock.set(at("2026-09-28T09:00:00.000Z"));
        assert_eq!(db.listings_under_notice("jd").await.unwrap().len(), 1);
        clock.set(at("2026-09-28T09:00:00.001Z"));
        assert!(db.listings_under_notice("jd").await.unwrap().is_empty());
        clock.advance(Duration::days(2));
        assert_eq!(
            db.listings_under_notice("taobao").await.unwrap(),
            vec![("T2".to_string(), Some("https://x/T2".to_string()))]
        );
        assert!(db.listings_under_notice("jd").await.unwrap().is_empty());
    }
);

contract!(
    replies_acknowledge_issued_notices_and_keep_later_states,
    |db, clock| {
        db.exec_sql(BASE).await;
        let seed = confirmed_listing(1, "taobao", "T1", None)
            + &confirmed_listing(2, "taobao", "T2", None)
            + &confirmed_listing(3, "taobao", "T3", None)
            + &confirmed_listing(4, "jd", "T1", None);
        db.exec_sql(&seed).await;
        let (b, _) = db
            .issue_notice_batch("taobao", 2026, deadline(), "rev", number(2026))
            .await
            .unwrap()
            .unwrap();
        clock.advance(Duration::minutes(90));
        let now = "2026-06-30T09:30:00.000Z";
        let acks = [
            Ack {
                item_id: "T1".into(),
                text: "已下架".into(),
                at: Some("2026-07-01".into()),
            },
            Ack {
                item_id: "NOPE".into(),
                text: "?".into(),
                at: None,
            },
            Ack {
                item_id: "T2".into(),
                text: "已要求商家整改\0 'x' %_ <script>".into(),
                at: Some("2026-07-01T10:00:00+08:00".into()),
            },
            Ack {
                item_id: "T1".into(),
                text: "第二次".into(),
                at: None,
            },
        ];
        let out = db
            .record_acks(b.id, &acks, "平台 'ops'", "reply.xlsx")
            .await
            .unwrap();
        assert_eq!(out, vec![None, Some(AckRefused::NotInBatch), None, None]);
        let lines = db.notice_lines(b.id).await.unwrap();
        let l1 = &lines[0];
        // The later reply about the same item wins; the state moved once.
        assert_eq!(
            (
                l1.state.as_str(),
                l1.state_at.as_str(),
                l1.ack_at.as_deref(),
                l1.ack_text.as_deref()
            ),
            ("acknowledged", now, Some(now), Some("第二次"))
        );
        assert_eq!(
            (l1.ack_by.as_deref(), l1.ack_source.as_deref()),
            (Some("平台 'ops'"), Some("reply.xlsx"))
        );
        let l2 = &lines[1];
        // ack_at is kept as the platform wrote it.
        assert_eq!(l2.ack_at.as_deref(), Some("2026-07-01T10:00:00+08:00"));
        // NUL is dropped by PostgreSQL, kept by SQLite.
        assert_eq!(
            l2.ack_text.as_deref().unwrap().replace('\0', ""),
            "已要求商家整改 'x' %_ <script>"
        );
        assert_eq!(l2.state, "acknowledged");
        assert_eq!(
            (lines[2].state.as_str(), lines[2].ack_text.as_deref()),
            ("issued", None)
        );
        let steps = db.notice_steps(1).await.unwrap();
        assert_eq!(
            steps
                .iter()
                .map(|s| (
                    s.state.as_str(),
                    s.note.as_deref(),
                    s.at.as_str(),
                    s.actor.as_str()
                ))
                .collect::<Vec<_>>(),
            vec![
                ("acknowledged", Some("平台回复：已下架"), now, "平台 'ops'"),
                ("acknowledged", Some("平台回复：第二次"), now, "平台 'ops'"),
            ]
        );
        assert!(
            db.notice_steps(4).await.unwrap().is_empty(),
            "jd's T1 is another listing"
        );
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'notice.reply'")
                .await,
            1
        );

        // A notice the scans settled keeps its state; the reply is still kept.
        db.exec_sql("UPDATE notices SET state = 'removed_verified', state_at = '2026-06-30T09:00:00.000Z' WHERE listing_id = 3")
        .await;
        clock.advance(Duration::minutes(1));
        let out = db
            .record_acks(
                b.id,
                &[Ack {
                    item_id: "T3".into(),
                    text: "已处理".into(),
                    at: None,
                }],
                "ops",
                "mail",
            )
            .await
            .unwrap();
        assert_eq!(out, vec![None]);
        let l3 = &db.notice_lines(b.id).await.unwrap()[2];
        assert_eq!(
            (
                l3.state.as_str(),
                l3.state_at.as_str(),
                l3.ack_at.as_deref(),
                l3.ack_text.as_deref()
            ),
            (
                "removed_verified",
                "2026-06-30T09:00:00.000Z",
                Some("2026-06-30T09:31:00.000Z"),
                Some("已处理")
            )
        );
        assert_eq!(db.notice_steps(3).await.unwrap()[0].state, "acknowledged");
        // Only refusals: nothing written, nothing audited.
        let out = db
            .record_acks(
                b.id,
                &[Ack {
                    item_id: "J\0X".into(),
                    text: "x".into(),
                    at: None,
                }],
                "ops",
                "mail",
            )
            .await
            .unwrap();
        assert_eq!(out, vec![Some(AckRefused::NotInBatch)]);
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'notice.reply'")
                .await,
            2
        );
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM notice_events").await, 4);
        // The outcome counts acknowledged notices as open.
        let o = &db.notice_outcomes(Some("taobao")).await.unwrap()[0];
        assert_eq!((o.removed, o.open, o.overdue), (1, 2, 0));
        assert_eq!(o.median_days_to_removal, Some(3600.0 / 86_400.0));
    }
);

contract!(
    relists_are_found_recorded_once_and_raise_the_finding,
    |db, clock| {
        db.exec_sql(BASE).await;
        let s = Some("同一店");
        let seed = confirmed_listing(1, "taobao", "T1", s)
            + "UPDATE listings SET shop_url = 'https://shop/1' WHERE id = 1;"
            + &confirmed_listing(2, "taobao", "T2", Some("别家"));
        db.exec_sql(&seed).await;
        let (b, _) = db
            .issue_notice_batch("taobao", 2026, deadline(), "rev", number(2026))
            .await
            .unwrap()
            .unwrap();
        let after = "2026-07-01T00:00:00.000Z";
        let seed = "UPDATE listings SET state = 'gone', gone_how = 'page', gone_at = '2026-06-30T09:00:00.000Z' WHERE id IN (1, 2);".to_string()
        // Same seller, later: a candidate with a finding of its own.
        + &listing(5, "taobao", "T5", s, None, after)
        + "INSERT INTO findings (listing_id, verdict, confidence, cert_numbers, brand, model, reasons, as_of, run_id, matched_at, review_state, platform, priority) \
           VALUES (5, 'uncertified', 0.5, '[]', 'NB', 'NM', '[]', '2026-07-01', 1, '2026-07-01T00:00:00.000Z', 'pending', 'taobao', 0);"
        // Same shop only: a candidate (listing's brand, no finding).
        + &listing(6, "taobao", "T6", Some("其他"), Some("https://shop/1"), after)
        // Seen before the notice; another platform; offline: none.
        + &listing(7, "taobao", "T7", s, None, "2026-06-29T00:00:00.000Z")
        + &listing(8, "jd", "T8", s, None, after)
        + &listing(9, "taobao", "T9", s, None, after)
        + "UPDATE listings SET state = 'gone' WHERE id = 9;"
        // Same seller as listing 2.
        + &listing(10, "taobao", "T10", Some("别家"), None, after);
        db.exec_sql(&seed).await;
        // Not yet verified as removed: no candidates.
        assert!(db.relist_candidates("taobao").await.unwrap().is_empty());
        clock.advance(Duration::hours(1));
        let scope = VerifyScope {
            platform: Some("taobao"),
            today: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            scan_id: None,
            absent_means_removed: false,
        };
        assert_eq!(db.verify_notices(scope).await.unwrap().removed, 2);
        let lines = db.notice_lines(b.id).await.unwrap();
        let (n1, n2) = (lines[0].notice_id, lines[1].notice_id);
        let mut c: Vec<_> = db
            .relist_candidates("taobao")
            .await
            .unwrap()
            .into_iter()
            .map(|c| {
                (
                    c.notice_id,
                    c.old_listing,
                    c.old_brand,
                    c.old_model,
                    c.new_listing,
                    c.new_item_id,
                    c.new_brand,
                    c.new_model,
                )
            })
            .collect();
        // SQLite gives no order: compare as sets.
        c.sort();
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            c,
            vec![
                (
                    n1,
                    1,
                    some("FB"),
                    some("FM"),
                    5,
                    "T5".to_string(),
                    some("NB"),
                    some("NM")
                ),
                (
                    n1,
                    1,
                    some("FB"),
                    some("FM"),
                    6,
                    "T6".to_string(),
                    some("LB"),
                    some("LM")
                ),
                (
                    n2,
                    2,
                    some("FB"),
                    some("FM"),
                    10,
                    "T10".to_string(),
                    some("LB"),
                    some("LM")
                ),
            ]
        );
        assert!(db.relist_candidates("jd").await.unwrap().is_empty());

        clock.advance(Duration::hours(1));
        let at = "2026-06-30T10:00:00.000Z";
        // A repeat within one call and a pair already recorded count once.
        assert_eq!(
            db.record_relists(&[(n1, 5), (n1, 5)], Some(9))
                .await
                .unwrap(),
            1
        );
        assert_eq!(db.record_relists(&[(n1, 5)], None).await.unwrap(), 0);
        let l1 = &db.notice_lines(b.id).await.unwrap()[0];
        assert_eq!(
            (
                l1.state.as_str(),
                l1.state_at.as_str(),
                l1.verify_note.as_deref(),
                l1.verified_scan_id
            ),
            ("relisted", at, Some("new_listing"), Some(9))
        );
        assert_eq!(l1.relists, vec![(5, "T5".to_string())]);
        let note = format!("疑似重新上架：{} 已下架商品 T1", b.number);
        assert_eq!(
        db.scalar_i64(&format!(
            "SELECT COUNT(*) FROM findings WHERE listing_id = 5 AND priority = 100 AND priority_note = '{note}'"
        ))
        .await,
        1
    );
        // A relisted notice still yields its other candidates; a finding's
        // higher priority stays; listing 10 relists notice 2 and is noticed
        // itself (notice 2's new listing). Listing 6 has no finding.
        db.exec_sql("UPDATE findings SET priority = 150 WHERE listing_id = 1")
            .await;
        assert_eq!(
            db.record_relists(&[(n1, 6), (n2, 10), (n2, 1)], None)
                .await
                .unwrap(),
            3
        );
        assert_eq!(
            db.scalar_i64("SELECT priority FROM findings WHERE listing_id = 1")
                .await,
            150
        );
        let note2 = format!("疑似重新上架：{} 已下架商品 T2", b.number);
        assert_eq!(
            db.scalar_i64(&format!(
                "SELECT COUNT(*) FROM findings WHERE listing_id = 1 AND priority_note = '{note2}'"
            ))
            .await,
            1
        );
        let lines = db.notice_lines(b.id).await.unwrap();
        assert_eq!(
            lines[0].relists,
            vec![(5, "T5".to_string()), (6, "T6".to_string())]
        );
        assert_eq!(
            lines[1].relists,
            vec![(1, "T1".to_string()), (10, "T10".to_string())]
        );
        assert!(db.relist_candidates("taobao").await.unwrap().is_empty());
        // The new listing's history shows the relist event.
        let steps = db.notice_steps(5).await.unwrap();
        assert_eq!(
            steps
                .iter()
                .map(|s| (
                    s.number.as_str(),
                    s.state.as_str(),
                    s.note.as_deref(),
                    s.scan_id,
                    s.listing_id,
                    s.at.as_str()
                ))
                .collect::<Vec<_>>(),
            vec![(
                b.number.as_str(),
                "relisted",
                Some("new_listing"),
                Some(9),
                Some(5),
                at
            )]
        );
        // Listing 1: its own steps and the relist of notice 2 naming it.
        assert_eq!(
            db.notice_steps(1)
                .await
                .unwrap()
                .iter()
                .map(|s| (s.state.as_str(), s.listing_id))
                .collect::<Vec<_>>(),
            vec![
                ("removed_verified", None),
                ("relisted", Some(5)),
                ("relisted", Some(6)),
                ("relisted", Some(1))
            ]
        );
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM relists").await, 4);
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'notice.relist'")
                .await,
            2
        );
        // Unknown notice: an error, nothing kept.
        assert!(db.record_relists(&[(9999, 5)], None).await.is_err());
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM relists").await, 4);
    }
);

contract!(platform_periods_cut_months_in_beijing_time, |db, clock| {
    db.exec_sql(BASE).await;
    let at = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    // 23:59:59.999 on June 30 in Beijing: June.
    db.exec_sql(
        &(confirmed_listing(1, "taobao", "T1", None) + &confirmed_listing(2, "taobao", "T2", None)),
    )
    .await;
    clock.set(at("2026-06-30T15:59:59.999Z"));
    let (june, _) = db
        .issue_notice_batch("taobao", 2026, deadline(), "rev", number(2026))
        .await
        .unwrap()
        .unwrap();
    // Midnight in Beijing: July, though still June 30 in UTC.
    db.exec_sql(
        &(confirmed_listing(3, "taobao", "T3", None) + &confirmed_listing(4, "jd", "J4", None)),
    )
    .await;
    clock.set(at("2026-06-30T16:00:00.000Z"));
    db.issue_notice_batch("taobao", 2026, deadline(), "rev", number(2026))
        .await
        .unwrap()
        .unwrap();
    db.issue_notice_batch("jd", 2026, deadline(), "rev", number(2026))
        .await
        .unwrap()
        .unwrap();
    // Removals: listing 1 after 1 day, 2 after 3 days (June); 3 overdue.
    db.exec_sql(&format!(
        "UPDATE notices SET state = 'removed_verified', state_at = '2026-07-01T15:59:59.999Z' WHERE listing_id = 1; \
         UPDATE notices SET state = 'removed_verified', state_at = '2026-07-03T15:59:59.999Z' WHERE listing_id = 2; \
         UPDATE notices SET state = 'overdue' WHERE listing_id = 3; \
         UPDATE notices SET state = 'relisted' WHERE listing_id = 4; \
         UPDATE notice_batches SET folder = 'f' WHERE id = {};",
        june.id
    ))
    .await;
    let p = db.platform_performance().await.unwrap();
    let got: Vec<_> = p
        .iter()
        .map(|p| {
            (
                p.platform.as_str(),
                p.month.as_str(),
                p.listings,
                p.removed,
                p.overdue,
                p.relisted,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("jd", "2026-07", 1, 0, 0, 1),
            ("taobao", "2026-06", 2, 2, 0, 0),
            ("taobao", "2026-07", 1, 0, 1, 0),
        ]
    );
    assert_eq!(p[1].removal_rate, 1.0);
    assert_eq!(p[1].median_days_to_removal, Some(2.0));
    assert_eq!(
        (p[0].removal_rate, p[0].median_days_to_removal),
        (0.0, None)
    );
    let o = db.notice_outcomes(Some("taobao")).await.unwrap();
    assert_eq!(o.len(), 2);
    assert_eq!(
        (
            o[1].issued_at.as_str(),
            o[1].removed,
            o[1].median_days_to_removal
        ),
        ("2026-06-30T15:59:59.999Z", 2, Some(2.0))
    );
    assert_eq!((o[0].overdue, o[0].open, o[0].removal_rate), (1, 0, 0.0));
});
