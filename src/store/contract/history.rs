//! The storage contract for `store::history`, run against each backend.

use super::crawl::{day, item_entry, item_result, listing, page};
#[allow(unused_imports)]
use super::*;
use crate::domain::RunState;
use crate::store::crawl::*;
use crate::store::history::DiffScope;

/// A finding of `listing` in run 1 (replacing any).
fn finding(listing: i64, verdict: &str, matched: Option<&str>, cited: &str) -> String {
    let platform = if listing == 5 { "taobao" } else { "jd" };
    let matched = matched.map_or("NULL".to_string(), |m| format!("'{m}'"));
    format!(
        "DELETE FROM findings WHERE listing_id = {listing}; \
         INSERT INTO findings (listing_id, verdict, confidence, matched_cert, cert_numbers, reasons, as_of, run_id, matched_at, platform) \
         VALUES ({listing}, '{verdict}', 0.9, {matched}, '{cited}', '[]', '2026-06-30', 1, '2026-06-30T08:00:00.000Z', '{platform}')"
    )
}

contract!(no_scans_no_history, |db, _clock| {
    assert!(db.scans(None, 10).await.unwrap().is_empty());
    assert!(db.scan_platforms().await.unwrap().is_empty());
    assert!(db.previous_recorded_scan(1).await.unwrap().is_none());
    let lists = db
        .scan_diff_lists(DiffScope {
            platform: "jd",
            a: 1,
            b: 2,
            a_end: START,
            b_end: START,
        })
        .await
        .unwrap();
    assert_eq!(lists.new_flagged.total, 0);
    assert!(!lists.new_flagged.truncated);
    assert!(lists.resolved.entries.is_empty());
    assert!(lists.gone.entries.is_empty());
    assert!(lists.certificates.entries.is_empty());
    assert!(lists.flagged_before.is_empty() && lists.flagged_after.is_empty());
});

contract!(scans_are_listed_newest_first_by_platform, |db, clock| {
    let a = db.create_scan("jd", day(), &[], 1, &[]).await.unwrap();
    let b = db.create_scan("taobao", day(), &[], 1, &[]).await.unwrap();
    let c = db.create_scan("jd", day(), &[], 1, &[]).await.unwrap();
    let d = db.create_scan("1688", day(), &[], 1, &[]).await.unwrap();
    let ids = |v: Vec<ScanRecord>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(db.scans(None, 10).await.unwrap()), [d, c, b, a]);
    assert_eq!(ids(db.scans(None, 2).await.unwrap()), [d, c]);
    assert_eq!(ids(db.scans(Some("jd"), 10).await.unwrap()), [c, a]);
    assert!(db.scans(Some("pdd"), 10).await.unwrap().is_empty());
    assert_eq!(db.scan_platforms().await.unwrap(), ["1688", "jd", "taobao"]);
    // The previous recorded scan: completed, recorded, same platform, before.
    assert!(db.previous_recorded_scan(c).await.unwrap().is_none());
    db.finish_scan(a, RunState::Completed, None).await.unwrap();
    assert!(db.previous_recorded_scan(c).await.unwrap().is_none());
    assert_eq!(db.record_scan_listings(a).await.unwrap(), 0);
    clock.advance(chrono::Duration::hours(1));
    let e = db.create_scan("jd", day(), &[], 1, &[]).await.unwrap();
    db.finish_scan(c, RunState::CompletedWithErrors, None)
        .await
        .unwrap();
    db.record_scan_listings(c).await.unwrap();
    let prev = db.previous_recorded_scan(e).await.unwrap().expect("scan a");
    assert_eq!(prev.id, a);
    assert_eq!(prev.snapshot.as_deref(), Some("kept"));
    assert_eq!(prev.finished_at.as_deref(), Some(START));
    assert!(db.previous_recorded_scan(a).await.unwrap().is_none());
    assert!(db.previous_recorded_scan(999).await.unwrap().is_none());
    let listed = db.scans(Some("jd"), 1).await.unwrap().remove(0);
    assert_eq!(
        (listed.id, listed.started_at.as_str()),
        (e, "2026-06-30T09:00:00.000Z")
    );
});

contract!(two_recorded_scans_are_compared, |db, clock| {
    db.exec_sql(
        "INSERT INTO match_runs (id, started_at, as_of, listings) \
           VALUES (1, '2026-06-30T08:00:00.000Z', '2026-06-30', 0); \
         INSERT INTO cert_imports (id, file, encoding, strict, started_at) \
           VALUES (1, 'certs.csv', 'utf-8', FALSE, '2026-06-30T08:00:00.000Z')",
    )
    .await;
    // Scan a sees listings 1, 2, 3 and 4 (4 not judged yet); 5 is another
    // platform's. Item ids are listing ids.
    let seeds: Vec<NewEntry> = ["1", "2", "3", "4"].iter().map(|i| item_entry(i)).collect();
    let a = db.create_scan("jd", day(), &[], 10, &seeds).await.unwrap();
    let claimed = db.claim_entries(a, &ANY, 0, 10).await.unwrap();
    let results: Vec<EntryResult> = claimed
        .iter()
        .map(|e| item_result(e.id, listing("jd", &e.key, &format!("标题 {}", e.key))))
        .collect();
    db.apply_results(a, "jd", "t", &results).await.unwrap();
    db.upsert_listings(&[listing("taobao", "5", "别家")], "feed")
        .await
        .unwrap();
    db.exec_sql(&finding(1, "uncertified", None, "[]")).await;
    db.exec_sql(&finding(2, "expired", Some("C-1"), "[]")).await;
    db.exec_sql(&finding(3, "compliant", None, "[\"C-1\",\"C-9\"]"))
        .await;
    db.exec_sql(&finding(5, "uncertified", Some("C-1"), "[]"))
        .await;
    clock.advance(chrono::Duration::minutes(10));
    db.finish_scan(a, RunState::Completed, None).await.unwrap();
    assert_eq!(db.record_scan_listings(a).await.unwrap(), 4);
    assert_eq!(db.record_scan_listings(a).await.unwrap(), 4, "replaced");
    let a_end = db.scan(a).await.unwrap().unwrap().finished_at.unwrap();
    assert_eq!(a_end, "2026-06-30T08:10:00.000Z");
    assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM scan_listings WHERE scan_id = 1 AND seen AND verdict IS NULL"
        )
        .await,
        1
    );

    // Between the scans: an import changes C-1 (and C-7, cited by none).
    clock.advance(chrono::Duration::hours(1));
    db.exec_sql(
        "INSERT INTO cert_history (cert_no, field, old_value, new_value, changed_at, import_id, source_file) VALUES \
           ('C-1', 'status', 'valid', 'revoked', '2026-06-30T09:00:00.000Z', 1, 'certs.csv'), \
           ('C-7', 'status', 'valid', 'revoked', '2026-06-30T09:00:00.000Z', 1, 'certs.csv'), \
           ('C-1', 'expires_on', '2027-01-01', '2026-07-01', '2026-06-30T09:00:00.000Z', 1, 'certs.csv'), \
           ('C-1', 'status', 'revoked', 'valid', '2026-06-30T08:05:00.000Z', 1, 'certs.csv')",
    )
    .await;

    // Scan b: 1 gone, 2 and 3 seen, 6 new; 4 not seen.
    let seeds: Vec<NewEntry> = ["1", "2", "3", "6"].iter().map(|i| item_entry(i)).collect();
    let b = db.create_scan("jd", day(), &[], 10, &seeds).await.unwrap();
    let b_started = db.scan(b).await.unwrap().unwrap().started_at;
    let claimed = db.claim_entries(b, &ANY, 0, 10).await.unwrap();
    let results: Vec<EntryResult> = claimed
        .iter()
        .map(|e| {
            if e.key == "1" {
                EntryResult {
                    entry_id: e.id,
                    update: EntryUpdate::Gone {
                        page: page(Some("1"), EntryKind::Item, b"gone"),
                        platform: "jd".into(),
                        item_id: "1".into(),
                    },
                    requests: 1,
                }
            } else {
                item_result(e.id, listing("jd", &e.key, &format!("标题 {}", e.key)))
            }
        })
        .collect();
    db.apply_results(b, "jd", "t", &results).await.unwrap();
    db.exec_sql(&finding(2, "compliant", Some("C-1"), "[]"))
        .await;
    db.exec_sql(&finding(3, "uncertified", None, "[\"C-1\",\"C-9\"]"))
        .await;
    db.exec_sql(&finding(6, "cert_not_found", None, "[]")).await;
    db.exec_sql(&finding(4, "revoked", None, "[]")).await;
    clock.advance(chrono::Duration::minutes(5));
    db.finish_scan(b, RunState::Completed, None).await.unwrap();
    // 1 (gone by this scan, which saw it), 2, 3, 6 seen; 4 flagged online.
    assert_eq!(db.record_scan_listings(b).await.unwrap(), 5);
    let b_end = db.scan(b).await.unwrap().unwrap().finished_at.unwrap();
    assert!(b_started < b_end);
    assert_eq!(db.previous_recorded_scan(b).await.unwrap().unwrap().id, a);

    let lists = db
        .scan_diff_lists(DiffScope {
            platform: "jd",
            a,
            b,
            a_end: &a_end,
            b_end: &b_end,
        })
        .await
        .unwrap();
    let brief = |l: &crate::store::history::DiffList<crate::store::history::DiffListing>| {
        l.entries
            .iter()
            .map(|e| {
                (
                    e.listing_id,
                    e.verdict_before.clone(),
                    e.verdict_after.clone(),
                    e.state_after.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let s = |v: &str| Some(v.to_string());
    // Listing 4 is not among them: scan a recorded it online with no
    // verdict, and `NULL IN flagged` is unknown, so `NOT (...)` drops it
    // (SQLite's logic, kept on PostgreSQL; see the report).
    assert_eq!(
        brief(&lists.new_flagged),
        vec![
            (3, s("compliant"), s("uncertified"), "online".to_string()),
            (6, None, s("cert_not_found"), "online".to_string()),
        ]
    );
    assert_eq!(
        (lists.new_flagged.total, lists.new_flagged.truncated),
        (2, false)
    );
    let first = &lists.new_flagged.entries[0];
    assert_eq!(first.item_id, "3");
    assert_eq!(first.title, "标题 3");
    assert_eq!(first.seller.as_deref(), Some("美的官方旗舰店"));
    assert_eq!(first.url.as_deref(), Some("https://jd.example/item/3"));
    assert_eq!(first.gone_at, None);
    assert_eq!(first.first_seen_at, START);
    assert!(!first.new_listing);
    assert_eq!(
        brief(&lists.resolved),
        vec![
            (1, s("uncertified"), s("uncertified"), "gone".to_string()),
            (2, s("expired"), s("compliant"), "online".to_string()),
        ]
    );
    assert_eq!(
        lists.resolved.entries[0].gone_at.as_deref(),
        Some("2026-06-30T09:10:00.000Z")
    );
    assert_eq!(
        brief(&lists.gone),
        vec![(1, s("uncertified"), s("uncertified"), "gone".to_string())]
    );
    assert_eq!(lists.gone.total, 1);
    let certs: Vec<_> = lists
        .certificates
        .entries
        .iter()
        .map(|c| {
            (
                c.cert_no.as_str(),
                c.field.as_str(),
                c.old_value.as_deref(),
                c.new_value.as_deref(),
                c.changed_at.as_str(),
                c.listings,
                c.examples.clone(),
            )
        })
        .collect();
    let ex = vec![(2, "2".to_string()), (3, "3".to_string())];
    assert_eq!(
        certs,
        vec![
            (
                "C-1",
                "status",
                Some("valid"),
                Some("revoked"),
                "2026-06-30T09:00:00.000Z",
                2,
                ex.clone()
            ),
            (
                "C-1",
                "expires_on",
                Some("2027-01-01"),
                Some("2026-07-01"),
                "2026-06-30T09:00:00.000Z",
                2,
                ex
            ),
        ]
    );
    assert_eq!(
        (lists.certificates.total, lists.certificates.truncated),
        (2, false)
    );
    assert_eq!(
        lists.flagged_before,
        vec![("expired".to_string(), 1), ("uncertified".to_string(), 1)]
    );
    assert_eq!(
        lists.flagged_after,
        vec![
            ("cert_not_found".to_string(), 1),
            ("revoked".to_string(), 1),
            ("uncertified".to_string(), 1)
        ]
    );

    // Re-judged between scans without a record: the verdict history says.
    db.exec_sql(
        "INSERT INTO finding_history (listing_id, run_id, old_verdict, new_verdict, changed_at) \
           VALUES (2, 1, 'expired', 'cert_mismatch', '2026-06-30T09:00:00.000Z'); \
         DELETE FROM scan_listings WHERE scan_id = 2 AND listing_id = 2",
    )
    .await;
    let lists = db
        .scan_diff_lists(DiffScope {
            platform: "jd",
            a,
            b,
            a_end: &a_end,
            b_end: &b_end,
        })
        .await
        .unwrap();
    assert_eq!(
        brief(&lists.resolved)[1],
        (2, s("expired"), s("cert_mismatch"), "online".to_string())
    );
});
