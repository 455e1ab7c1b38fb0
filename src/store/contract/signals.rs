//! The storage contract for `store::signals`, run against each backend.

use super::findings::{SEED, finding, fw};
#[allow(unused_imports)]
use super::*;
use crate::domain::Verdict;
use crate::store::NewSignal;

fn signal(kind: &str, file: &str, row: i64) -> NewSignal {
    NewSignal {
        kind: kind.into(),
        source_file: file.into(),
        row_no: row,
        platform: Some("jd".into()),
        item_id: Some(format!("{}", 1000 + row)),
        seller: Some("美的官方旗舰店".into()),
        brand: Some("美的".into()),
        model: Some("MK-1".into()),
        brand_key: Some("#美的".into()),
        model_key: Some("mk1".into()),
        reported_on: Some("2026-06-20".into()),
        detail: "抽检不合格；温升超标".into(),
        weight: 30,
        imported_by: "admin".into(),
    }
}

fn bare(kind: &str, file: &str, row: i64) -> NewSignal {
    NewSignal {
        kind: kind.into(),
        source_file: file.into(),
        row_no: row,
        platform: None,
        item_id: None,
        seller: None,
        brand: None,
        model: None,
        brand_key: None,
        model_key: None,
        reported_on: None,
        detail: String::new(),
        weight: 10,
        imported_by: "reviewer".into(),
    }
}

fn d(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

contract!(an_empty_database_has_no_signals_or_leads, |db, _clock| {
    assert!(db.active_signals(START).await.unwrap().is_empty());
    assert_eq!(
        db.signal_seeds("jd", START).await.unwrap(),
        (vec![], vec![])
    );
    assert!(db.priority_page(None, 0, 100).await.unwrap().is_empty());
    assert!(db.leads(None, 100).await.unwrap().is_empty());
    assert_eq!(db.set_priorities(&[]).await.unwrap(), 0);
    assert_eq!(db.insert_signals(&[], "admin").await.unwrap(), (0, 0));
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM audit_log").await, 0);
});

contract!(signals_are_stored_once_and_audited, |db, clock| {
    let first = vec![
        signal("sampling", "抽检 2026-06.xlsx", 2),
        bare("sampling", "抽检 2026-06.xlsx", 3),
        signal("complaint", "抽检 2026-06.xlsx", 2),
    ];
    assert_eq!(db.insert_signals(&first, "admin").await.unwrap(), (3, 0));
    let all = db.active_signals("2026-01-01T00:00:00Z").await.unwrap();
    assert_eq!(all.len(), 3);
    let s = &all[0];
    assert!(s.id > 0);
    assert_eq!(s.kind, "sampling");
    assert_eq!(s.platform.as_deref(), Some("jd"));
    assert_eq!(s.item_id.as_deref(), Some("1002"));
    assert_eq!(s.seller.as_deref(), Some("美的官方旗舰店"));
    assert_eq!(
        (s.brand.as_deref(), s.model.as_deref()),
        (Some("美的"), Some("MK-1"))
    );
    assert_eq!(
        (s.brand_key.as_deref(), s.model_key.as_deref()),
        (Some("#美的"), Some("mk1"))
    );
    assert_eq!(s.reported_on.as_deref(), Some("2026-06-20"));
    assert_eq!(s.detail.as_deref(), Some("抽检不合格；温升超标"));
    assert_eq!(s.weight, 30);
    assert_eq!(s.imported_at, START);
    assert_eq!(s.source_file, "抽检 2026-06.xlsx");
    let b = &all[1];
    assert_eq!(b.kind, "sampling");
    assert_eq!(
        (
            b.platform.as_deref(),
            b.item_id.as_deref(),
            b.seller.as_deref()
        ),
        (None, None, None)
    );
    assert_eq!(
        (
            b.brand.as_deref(),
            b.brand_key.as_deref(),
            b.reported_on.as_deref()
        ),
        (None, None, None)
    );
    assert_eq!(b.detail.as_deref(), Some(""));
    assert_eq!(b.weight, 10);
    assert_eq!(all[2].kind, "complaint");
    assert!(all[0].id < all[1].id && all[1].id < all[2].id);
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM risk_signals WHERE imported_by = 'reviewer'")
            .await,
        1
    );
    // One audit entry for the import.
    assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM audit_log WHERE id = 1 AND actor = 'admin' AND action = 'signals.import' \
             AND target = 'file:抽检 2026-06.xlsx' AND details = '{\"kind\":\"sampling\",\"rows\":3}' \
             AND at = '2026-06-30T08:00:00.000Z'"
        )
        .await,
        1
    );
    assert_eq!(
        db.scalar_i64("SELECT last_id FROM audit_head WHERE one = 1")
            .await,
        1
    );
    // The same file again: nothing added, nothing audited.
    clock.advance(chrono::Duration::hours(1));
    assert_eq!(db.insert_signals(&first, "admin").await.unwrap(), (0, 3));
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM audit_log").await, 1);
    // Partly new, with a repeat inside the batch.
    let mut next = first.clone();
    next.push(signal("complaint", "抽检 2026-06.xlsx", 9));
    next.push(signal("complaint", "抽检 2026-06.xlsx", 9));
    assert_eq!(db.insert_signals(&next, "审核员").await.unwrap(), (1, 4));
    assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM audit_log WHERE id = 2 AND actor = '审核员' \
             AND details = '{\"kind\":\"sampling\",\"rows\":1}' AND at = '2026-06-30T09:00:00.000Z'"
        )
        .await,
        1
    );
    assert_eq!(
        db.scalar_i64("SELECT last_id FROM audit_head WHERE one = 1")
            .await,
        2
    );
    // The chain links: the second entry's previous hash is the first's.
    assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM audit_log a JOIN audit_log b ON b.prev_hash = a.hash \
             WHERE a.id = 1 AND b.id = 2"
        )
        .await,
        1
    );
    assert_eq!(db.active_signals("2026-06-01").await.unwrap().len(), 4);
});

contract!(
    hostile_signal_text_is_kept_or_loses_only_nul,
    |db, _clock| {
        let mut s = signal("complaint", "f\0ile'%_.xlsx", 1);
        s.seller = Some("<script>alert(1)</script>\0店".into());
        s.brand = Some("O'Brien \"牌\"".into());
        s.model = Some("KFR-35GW/(51)%_".into());
        s.detail = "长".repeat(500) + "\0";
        s.item_id = Some("\\N".into());
        assert_eq!(
            db.insert_signals(&[s.clone()], "a\0dmin").await.unwrap(),
            (1, 0)
        );
        let got = &db.active_signals("2026-06-01").await.unwrap()[0];
        let nn = |s: Option<&str>| s.map(|s| s.replace('\0', ""));
        assert_eq!(
            nn(got.seller.as_deref()).as_deref(),
            Some("<script>alert(1)</script>店")
        );
        assert_eq!(got.brand.as_deref(), Some("O'Brien \"牌\""));
        assert_eq!(got.model.as_deref(), Some("KFR-35GW/(51)%_"));
        assert_eq!(got.item_id.as_deref(), Some("\\N"));
        assert_eq!(nn(got.detail.as_deref()).unwrap().chars().count(), 500);
        assert_eq!(got.source_file.replace('\0', ""), "file'%_.xlsx");
        // The same row again is recognised.
        assert_eq!(db.insert_signals(&[s], "admin").await.unwrap(), (0, 1));
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM audit_log").await, 1);
    }
);

contract!(
    the_active_window_counts_report_or_import_days,
    |db, clock| {
        let mut old = signal("sampling", "a.xlsx", 1);
        old.reported_on = Some("2026-03-01".into());
        let mut edge = signal("sampling", "a.xlsx", 2);
        edge.reported_on = Some("2026-06-01".into());
        let undated = bare("complaint", "a.xlsx", 3);
        db.insert_signals(&[old, edge, undated], "admin")
            .await
            .unwrap();
        let ids = |v: Vec<crate::store::ActiveSignal>| {
            v.into_iter().map(|s| s.row_no_of()).collect::<Vec<_>>()
        };
        // Since the day, inclusive, whatever the time of day in `since`.
        assert_eq!(
            ids(db.active_signals("2026-06-01T23:59:59Z").await.unwrap()),
            vec![2, 3]
        );
        assert_eq!(
            ids(db
                .active_signals("2026-06-01T00:00:00.123456789+00:00")
                .await
                .unwrap()),
            vec![2, 3]
        );
        assert_eq!(ids(db.active_signals("2026-06-02").await.unwrap()), vec![3]);
        assert_eq!(
            ids(db.active_signals("2026-03-01T00:00:00Z").await.unwrap()),
            vec![1, 2, 3]
        );
        // An undated signal counts from its import day (2026-06-30 UTC).
        assert_eq!(
            ids(db.active_signals("2026-06-30T23:00:00Z").await.unwrap()),
            vec![3]
        );
        assert!(
            db.active_signals("2026-07-01T00:00:00Z")
                .await
                .unwrap()
                .is_empty()
        );
        // As the caller computes it: now minus the window.
        clock.advance(chrono::Duration::days(60));
        let since = (clock.now() - chrono::Duration::days(90)).to_rfc3339();
        assert_eq!(ids(db.active_signals(&since).await.unwrap()), vec![2, 3]);
    }
);

trait RowNo {
    fn row_no_of(&self) -> i64;
}

impl RowNo for crate::store::ActiveSignal {
    /// Test signals carry their row in `item_id` (1000 + row) or, bare,
    /// are row 3.
    fn row_no_of(&self) -> i64 {
        self.item_id
            .as_deref()
            .map_or(3, |i| i.parse::<i64>().unwrap() - 1000)
    }
}

contract!(seeds_are_a_platforms_searches_and_items, |db, _clock| {
    let mut a = signal("sampling", "s.xlsx", 1);
    a.brand = Some("美的".into());
    a.model = Some("MK-1".into());
    let mut b = signal("complaint", "s.xlsx", 2);
    b.brand = Some("美的".into());
    b.model = Some("MK-1".into()); // the same search again
    let mut c = signal("sampling", "s.xlsx", 3);
    c.platform = Some("tmall".into());
    c.brand = Some("苏泊尔".into());
    c.model = Some("SF-1".into());
    // No platform: its search counts everywhere, no item.
    let mut e = signal("sampling", "s.xlsx", 4);
    e.platform = None;
    e.item_id = Some("9999".into());
    e.brand = Some("公牛".into());
    e.model = Some("GN-1".into());
    // Brand without model: no search; item only.
    let mut f = signal("sampling", "s.xlsx", 5);
    f.model = None;
    // Too old.
    let mut g = signal("sampling", "s.xlsx", 6);
    g.reported_on = Some("2025-01-01".into());
    g.brand = Some("旧".into());
    db.insert_signals(&[a, b, c, e, f, g], "admin")
        .await
        .unwrap();
    let since = "2026-04-01T08:00:00Z";
    let (keywords, items) = db.signal_seeds("jd", since).await.unwrap();
    assert_eq!(
        keywords,
        vec!["公牛 GN-1".to_string(), "美的 MK-1".to_string()]
    );
    assert_eq!(
        items,
        vec!["1001".to_string(), "1002".to_string(), "1005".to_string()]
    );
    let (keywords, items) = db.signal_seeds("tmall", since).await.unwrap();
    assert_eq!(
        keywords,
        vec!["公牛 GN-1".to_string(), "苏泊尔 SF-1".to_string()]
    );
    assert_eq!(items, vec!["1003".to_string()]);
    let (keywords, items) = db.signal_seeds("taobao", since).await.unwrap();
    assert_eq!(keywords, vec!["公牛 GN-1".to_string()]);
    assert!(items.is_empty());
    let (keywords, _) = db.signal_seeds("jd", "2024-01-01T00:00:00Z").await.unwrap();
    assert_eq!(keywords.len(), 3);
});

contract!(priorities_are_set_paged_and_led, |db, clock| {
    db.exec_sql(SEED).await;
    let run = db.begin_match_run(d("2026-06-30"), None).await.unwrap();
    let mut f1 = finding(Verdict::Uncertified, 0.5);
    f1.brand = Some("美的(判)".into());
    run.write(&[
        fw(1, f1),
        fw(2, finding(Verdict::Expired, 0.5)),
        fw(3, finding(Verdict::Compliant, 1.0)),
        fw(4, finding(Verdict::Revoked, 0.5)),
    ])
    .await
    .unwrap();
    // Listing 3 is a relist of listing 2, removed under a notice.
    db.exec_sql(
        "INSERT INTO users (id, username, display_name, role, password_hash, created_at, password_changed_at) \
           VALUES (1, 'u', 'U', 'reviewer', 'x', '2026-06-30T08:00:00.000Z', '2026-06-30T08:00:00.000Z');
         INSERT INTO decisions (id, listing_id, action, measure, verdict, user_id, decided_at, audit_id) \
           VALUES (1, 2, 'confirm', 'take_down', 'expired', 1, '2026-06-30T08:00:00.000Z', 1);
         INSERT INTO notice_batches (id, platform, year, seq, number, issued_at, issued_by, deadline, listings) \
           VALUES (1, 'jd', 2026, 17, '梅县市监CCC〔2026〕17号', '2026-06-30T08:00:00.000Z', 'u', '2026-07-10', 1);
         INSERT INTO notices (id, batch_id, listing_id, decision_id, state, state_at) \
           VALUES (1, 1, 2, 1, 'relisted', '2026-06-30T08:00:00.000Z');
         INSERT INTO relists (id, notice_id, listing_id, detected_at) \
           VALUES (1, 1, 3, '2026-06-30T08:00:00.000Z');",
    )
    .await;
    let page = db.priority_page(None, 0, 100).await.unwrap();
    assert_eq!(
        page.iter().map(|r| r.listing_id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let r = &page[0];
    assert_eq!((r.platform.as_str(), r.item_id.as_str()), ("jd", "1001"));
    assert_eq!(r.seller.as_deref(), Some("美的官方旗舰店"));
    // The finding's brand before the listing's; the listing's model when
    // the finding has none.
    assert_eq!(
        (r.brand.as_deref(), r.model.as_deref()),
        (Some("美的(判)"), Some("MK-1"))
    );
    assert_eq!(
        (r.priority, r.note.as_deref(), r.relist_note.as_deref()),
        (0, None, None)
    );
    assert_eq!(
        page[2].relist_note.as_deref(),
        Some("疑似重新上架：梅县市监CCC〔2026〕17号 已下架商品 1002")
    );
    assert_eq!(
        (page[1].brand.as_deref(), page[1].model.as_deref()),
        (None, None)
    );
    // Pages and platforms.
    let ids =
        |v: Vec<crate::store::PriorityRow>| v.into_iter().map(|r| r.listing_id).collect::<Vec<_>>();
    assert_eq!(ids(db.priority_page(None, 1, 2).await.unwrap()), vec![2, 3]);
    assert_eq!(
        ids(db.priority_page(Some("tmall"), 0, 10).await.unwrap()),
        vec![4]
    );
    assert_eq!(
        ids(db.priority_page(Some("jd"), 2, -1).await.unwrap()),
        vec![3]
    );
    assert!(db.priority_page(None, 4, 10).await.unwrap().is_empty());

    // Priorities; a listing twice keeps the last; a missing one counts.
    let n = db
        .set_priorities(&[
            (1, 40, Some("平台抽检不合格（2026-06-20）".into())),
            (2, 10, None),
            (4, 40, Some("投诉 'x' %_\0".into())),
            (2, 70, Some("疑似重新上架".into())),
            (99, 5, None),
        ])
        .await
        .unwrap();
    assert_eq!(n, 5);
    let page = db.priority_page(None, 0, 100).await.unwrap();
    let got: Vec<(i64, i64, Option<String>)> = page
        .into_iter()
        .map(|r| {
            (
                r.listing_id,
                r.priority,
                r.note.map(|n| n.replace('\0', "")),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, 40, Some("平台抽检不合格（2026-06-20）".into())),
            (2, 70, Some("疑似重新上架".into())),
            (3, 0, None),
            (4, 40, Some("投诉 'x' %_".into())),
        ]
    );
    // Leads: pending or need-info with a priority, highest first, ties by
    // listing.
    db.exec_sql("UPDATE findings SET review_state = 'need_info' WHERE listing_id = 4")
        .await;
    let leads = db.leads(None, 10).await.unwrap();
    let got: Vec<(i64, i64)> = leads.iter().map(|l| (l.listing_id, l.priority)).collect();
    assert_eq!(got, vec![(2, 70), (1, 40), (4, 40)]);
    let l = &leads[0];
    assert_eq!((l.platform.as_str(), l.item_id.as_str()), ("jd", "1002"));
    assert_eq!(l.title, "无牌插座 <script>'%_'</script>");
    assert_eq!(l.note.as_deref(), Some("疑似重新上架"));
    assert_eq!(db.leads(None, 1).await.unwrap().len(), 1);
    assert_eq!(db.leads(None, -1).await.unwrap().len(), 3);
    assert_eq!(
        db.leads(Some("tmall"), 10)
            .await
            .unwrap()
            .iter()
            .map(|l| l.listing_id)
            .collect::<Vec<_>>(),
        vec![4]
    );
    // Decided findings and zero priorities are no leads.
    db.exec_sql("UPDATE findings SET review_state = 'confirmed' WHERE listing_id = 2")
        .await;
    clock.advance(chrono::Duration::days(1));
    db.set_priorities(&[(1, 0, None)]).await.unwrap();
    assert_eq!(
        db.leads(None, 10)
            .await
            .unwrap()
            .iter()
            .map(|l| l.listing_id)
            .collect::<Vec<_>>(),
        vec![4]
    );
    // Compliant findings have no review state: never leads.
    db.set_priorities(&[(3, 100, None)]).await.unwrap();
    assert_eq!(db.leads(Some("jd"), 10).await.unwrap().len(), 0);
});
