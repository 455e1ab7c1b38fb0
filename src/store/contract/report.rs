//! The storage contract for `store::report`, run against each backend.
//!
//! The window is June 2026 in Beijing: `[2026-05-31T16:00:00, 2026-06-30T16:00:00)`
//! in UTC. Rows sit on both sides of each bound, to the millisecond.

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use crate::store::report::{CheckedCount, IssuedBatch, MonthWindow, SellerCounts, VerifiedRemoval};

#[allow(unused_imports)]
use super::notices::{BASE, listing, lit};

fn june() -> MonthWindow {
    MonthWindow {
        start: "2026-05-31T16:00:00".into(),
        end: "2026-06-30T16:00:00".into(),
        next_first_day: "2026-07-01".into(),
    }
}

fn scan(id: i64, platform: &str, started: &str) -> String {
    format!(
        "INSERT INTO scans (id, platform, state, started_at, as_of, keywords, max_pages) \
         VALUES ({id}, '{platform}', 'completed', '{started}', '2026-06-01', '[]', 10);"
    )
}

fn finding(id: i64, platform: &str, category: Option<&str>, review: Option<&str>) -> String {
    format!(
        "INSERT INTO findings (listing_id, verdict, confidence, cert_numbers, category_code, reasons, as_of, run_id, \
         matched_at, review_state, platform) VALUES ({id}, 'uncertified', 0.9, '[]', {}, '[]', '2026-06-01', 1, \
         '2026-06-01T00:00:00.000Z', {}, '{platform}');",
        lit(category),
        lit(review)
    )
}

fn history(id: i64, old: Option<&str>, new: &str, at: &str) -> String {
    format!(
        "INSERT INTO finding_history (listing_id, run_id, old_verdict, new_verdict, changed_at) \
         VALUES ({id}, 1, {}, '{new}', '{at}');",
        lit(old)
    )
}

fn decision(id: i64, listing: i64, action: &str, at: &str) -> String {
    format!(
        "INSERT INTO decisions (id, listing_id, action, verdict, user_id, decided_at, audit_id) \
         VALUES ({id}, {listing}, '{action}', 'uncertified', 1, '{at}', 0);"
    )
}

fn batch(id: i64, platform: &str, issued: &str, deadline: &str, listings: i64) -> String {
    format!(
        "INSERT INTO notice_batches (id, platform, year, seq, number, issued_at, issued_by, deadline, listings) \
         VALUES ({id}, '{platform}', 2026, {id}, 'N{id}', '{issued}', 'rev', '{deadline}', {listings});"
    )
}

fn notice(id: i64, batch: i64, listing: i64, state: &str, at: &str) -> String {
    format!(
        "INSERT INTO notices (id, batch_id, listing_id, decision_id, state, state_at) \
         VALUES ({id}, {batch}, {listing}, 900, '{state}', '{at}');"
    )
}

const MAY: &str = "2026-05-01T00:00:00.000Z";

fn seed() -> String {
    [
        BASE.to_string(),
        // Scans: 7 (June 29, BASE) and 8 at the start are in; 9 at the end
        // and 10 a millisecond before the start are out; 11 is in.
        scan(8, "taobao", "2026-05-31T16:00:00.000Z"),
        scan(9, "jd", "2026-06-30T16:00:00.000Z"),
        scan(10, "jd", "2026-05-31T15:59:59.999Z"),
        scan(11, "jd", "2026-06-30T15:59:59.999Z"),
        // 1: first seen in June, flagged in June, cleared in July.
        listing(1, "taobao", "T1", Some("A"), None, "2026-06-01T00:00:00.000Z"),
        finding(1, "taobao", Some("0701"), Some("confirmed")),
        history(1, None, "uncertified", "2026-06-02T00:00:00.000Z"),
        history(1, Some("uncertified"), "expired", "2026-06-20T00:00:00.000Z"),
        history(1, Some("expired"), "compliant", "2026-07-02T00:00:00.000Z"),
        // 2: seen in May only, its item page captured in June (page 71); a
        // search page of it in June and an item page in May do not count.
        listing(2, "taobao", "T2", Some("B"), None, MAY),
        // 3: seen in May only: not checked in June.
        listing(3, "taobao", "T3", Some("A"), None, MAY),
        // 4: last seen a millisecond before the end; flagged in June, and
        // judged again at the very end (July's).
        listing(4, "jd", "J4", Some("J"), None, MAY),
        "UPDATE listings SET last_seen_at = '2026-06-30T15:59:59.999Z' WHERE id = 4;".into(),
        finding(4, "jd", None, Some("confirmed")),
        history(4, Some("compliant"), "cert_mismatch", "2026-06-15T00:00:00.000Z"),
        history(4, Some("cert_mismatch"), "revoked", "2026-06-30T16:00:00.000Z"),
        // 5: first seen at the start, flagged in June.
        listing(5, "taobao", "T5", Some("A"), None, "2026-05-31T16:00:00.000Z"),
        finding(5, "taobao", Some("0701"), Some("confirmed")),
        history(5, None, "uncertified", "2026-06-05T00:00:00.000Z"),
        // 6: seen in June, compliant (not flagged), no catalog code, no seller.
        listing(6, "taobao", "T6", None, None, "2026-06-10T00:00:00.000Z"),
        finding(6, "taobao", None, None),
        history(6, None, "compliant", "2026-06-03T00:00:00.000Z"),
        // 12: first seen at the end: July's.
        listing(12, "taobao", "T12", Some("A"), None, "2026-06-30T16:00:00.000Z"),
        "INSERT INTO pages (id, scan_id, platform, item_id, kind, url, final_url, fetched_at, status, headers, body_gz, body_len, sha256) VALUES \
         (71, 7, 'taobao', 'T2', 'item', 'u', 'u', '2026-06-10T00:00:00.000Z', 200, '[]', '', 0, 's'), \
         (72, 7, 'taobao', 'T3', 'search', 'u', 'u', '2026-06-10T00:00:00.000Z', 200, '[]', '', 0, 's'), \
         (73, 7, 'taobao', 'T3', 'item', 'u', 'u', '2026-05-31T15:59:59.999Z', 200, '[]', '', 0, 's');"
            .into(),
        // Decisions: 1's last in June is a dismissal; 5's at the start;
        // 4's at the end is July's.
        decision(100, 1, "confirm", "2026-06-10T00:00:00.000Z"),
        decision(101, 1, "dismiss", "2026-06-20T00:00:00.000Z"),
        decision(102, 1, "confirm", "2026-07-01T00:00:00.000Z"),
        decision(103, 5, "confirm", "2026-05-31T16:00:00.000Z"),
        decision(104, 4, "need_info", "2026-06-30T16:00:00.000Z"),
        // The decision the notices name, in May.
        decision(900, 1, "confirm", MAY),
        // Batches: 1 (June, deadline passed), 2 (jd, the last millisecond
        // of June), 3 (July's), 4 (June, no notices).
        batch(1, "taobao", "2026-06-05T00:00:00.000Z", "2026-06-15", 2),
        batch(2, "jd", "2026-06-30T15:59:59.999Z", "2026-07-10", 1),
        batch(3, "taobao", "2026-06-30T16:00:00.000Z", "2026-06-30", 2),
        batch(4, "taobao", "2026-06-20T00:00:00.000Z", "2026-06-30", 0),
        notice(1, 1, 1, "removed_verified", "2026-06-08T00:00:00.000Z"),
        notice(2, 1, 5, "overdue", "2026-06-16T00:00:00.000Z"),
        notice(3, 2, 4, "still_online", "2026-06-30T15:59:59.999Z"),
        notice(4, 3, 6, "relisted", "2026-06-30T10:00:00.000Z"),
        notice(5, 3, 2, "removed_verified", "2026-06-30T16:00:00.000Z"),
    ]
    .concat()
}

contract!(an_empty_database_has_no_figures, |db, _clock| {
    let f = db.month_figures(&june()).await.unwrap();
    assert!(f.scans.is_empty() && f.checked.is_empty() && f.newly_flagged.is_empty());
    assert!(f.decisions.is_empty() && f.batches.is_empty() && f.removals.is_empty());
    assert!(f.overdue.is_empty() && f.relisted.is_empty());
    assert!(db.seller_counts(None).await.unwrap().is_empty());
    assert!(db.seller_counts(Some("taobao")).await.unwrap().is_empty());
});

contract!(
    month_figures_count_within_the_half_open_window,
    |db, _clock| {
        db.exec_sql(&seed()).await;
        let f = db.month_figures(&june()).await.unwrap();
        let s = |x: &str| x.to_string();
        assert_eq!(f.scans, vec![(s("jd"), 1), (s("taobao"), 2)]);
        let c = |platform: &str, verdict: Option<&str>, category: Option<&str>, listings| {
            CheckedCount {
                platform: platform.into(),
                verdict: verdict.map(Into::into),
                category_code: category.map(Into::into),
                listings,
            }
        };
        // Verdict at the end of June; unjudged (NULL) and no code sort first.
        assert_eq!(
            f.checked,
            vec![
                c("jd", Some("cert_mismatch"), None, 1),
                c("taobao", None, None, 1),
                c("taobao", Some("compliant"), None, 1),
                c("taobao", Some("expired"), Some("0701"), 1),
                c("taobao", Some("uncertified"), Some("0701"), 1),
            ]
        );
        assert_eq!(f.newly_flagged, vec![(s("jd"), 1), (s("taobao"), 2)]);
        assert_eq!(
            f.decisions,
            vec![
                (s("taobao"), s("confirm"), 1),
                (s("taobao"), s("dismiss"), 1)
            ]
        );
        let b = |platform: &str, number: &str, listings, removed_now| IssuedBatch {
            platform: platform.into(),
            number: number.into(),
            listings,
            removed_now,
        };
        assert_eq!(
            f.batches,
            vec![
                b("jd", "N2", 1, 0),
                b("taobao", "N1", 2, 1),
                b("taobao", "N4", 0, 0)
            ]
        );
        assert_eq!(
            f.removals,
            vec![VerifiedRemoval {
                platform: s("taobao"),
                issued_at: s("2026-06-05T00:00:00.000Z"),
                removed_at: s("2026-06-08T00:00:00.000Z"),
            }]
        );
        assert_eq!(f.overdue, vec![(s("taobao"), 1)]);
        assert_eq!(f.relisted, vec![(s("taobao"), 1)]);

        // July: what fell at June's end bound is July's.
        let july = MonthWindow {
            start: "2026-06-30T16:00:00".into(),
            end: "2026-07-31T16:00:00".into(),
            next_first_day: "2026-08-01".into(),
        };
        let f = db.month_figures(&july).await.unwrap();
        assert_eq!(f.scans, vec![(s("jd"), 1)]);
        assert_eq!(f.batches, vec![b("taobao", "N3", 2, 1)]);
        assert_eq!(f.removals.len(), 1);
        assert_eq!(f.removals[0].removed_at, "2026-06-30T16:00:00.000Z");
        // jd's deadline (July 10) is before August: overdue by then.
        assert_eq!(f.overdue, vec![(s("jd"), 1), (s("taobao"), 1)]);
        assert!(f.relisted.is_empty());
        assert_eq!(
            f.decisions,
            vec![(s("jd"), s("need_info"), 1), (s("taobao"), s("confirm"), 1)]
        );
        assert!(f.newly_flagged.is_empty());
        // Only listing 12 (first seen at July's start) was seen in July.
        assert_eq!(f.checked, vec![c("taobao", None, None, 1)]);
    }
);

contract!(
    sellers_are_counted_per_listing_with_unnamed_sellers_first,
    |db, _clock| {
        db.exec_sql(&seed()).await;
        // A second notice on listing 1, overdue: 1 counts once per column.
        db.exec_sql(
            &(batch(5, "taobao", "2026-06-25T00:00:00.000Z", "2026-06-26", 1)
                + &notice(6, 5, 1, "overdue", "2026-06-27T00:00:00.000Z")),
        )
        .await;
        let row =
            |platform: &str, seller: Option<&str>, confirmed, overdue, relisted, under_notice| {
                SellerCounts {
                    platform: platform.into(),
                    seller: seller.map(Into::into),
                    confirmed,
                    overdue,
                    relisted,
                    under_notice,
                }
            };
        let all = db.seller_counts(None).await.unwrap();
        assert_eq!(
            all,
            vec![
                row("jd", Some("J"), 1, 1, 0, 1),
                row("taobao", None, 0, 0, 1, 1),
                row("taobao", Some("A"), 2, 2, 0, 2),
                row("taobao", Some("B"), 0, 0, 0, 0),
            ]
        );
        assert_eq!(
            db.seller_counts(Some("jd")).await.unwrap(),
            vec![row("jd", Some("J"), 1, 1, 0, 1)]
        );
        assert!(db.seller_counts(Some("pdd")).await.unwrap().is_empty());
        // Hostile platform names match nothing and fail nowhere.
        assert!(db.seller_counts(Some("jd\0")).await.unwrap().is_empty());
        assert!(
            db.seller_counts(Some("'; DROP TABLE listings; --%_"))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(db.seller_counts(None).await.unwrap().len(), 4);
    }
);
