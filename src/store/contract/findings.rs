//! The storage contract for `store::findings`, run against each backend.

#[allow(unused_imports)]
use super::*;
use crate::domain::{Finding, Verdict};
use crate::store::FindingWrite;

/// A scan, a page kept as evidence, and listings 1..=4 (1–3 on `jd`, 4 on
/// `tmall`; only 1 has a page), in SQL both backends read.
pub(super) const SEED: &str = "\
INSERT INTO scans (id, platform, state, started_at, as_of, keywords, max_pages) \
  VALUES (1, 'jd', 'completed', '2026-06-29T08:00:00.000Z', '2026-06-29', '[]', 10);
INSERT INTO pages (id, scan_id, platform, item_id, kind, url, final_url, fetched_at, status, headers, body_gz, body_len, sha256) \
  VALUES (1, 1, 'jd', '1001', 'item', 'https://item.jd.com/1001.html', 'https://item.jd.com/1001.html', \
          '2026-06-29T09:10:11.123Z', 200, '[]', '', 0, 'e3b0c44298fc1c149afbf4c8996fb924');
INSERT INTO listings (id, platform, item_id, url, title, brand, model, params, seller, shop_url, content_hash, source, \
                      first_seen_at, last_seen_at, updated_at, page_id) VALUES \
  (1, 'jd', '1001', 'https://item.jd.com/1001.html', '美的电热水壶 MK-1', '美的', 'MK-1', '[]', '美的官方旗舰店', \
   'https://mall.jd.com/1', 'h1', 'scan:1', '2026-06-29T09:00:00.000Z', '2026-06-29T09:00:00.000Z', '2026-06-29T09:00:00.000Z', 1), \
  (2, 'jd', '1002', NULL, '无牌插座 <script>''%_''</script>', NULL, NULL, '[]', NULL, NULL, 'h2', 'scan:1', \
   '2026-06-29T09:00:00.000Z', '2026-06-29T09:00:00.000Z', '2026-06-29T09:00:00.000Z', NULL), \
  (3, 'jd', '1003', 'https://item.jd.com/1003.html', '公牛插座', '公牛', 'GN-1', '[]', '公牛店', NULL, 'h3', 'scan:1', \
   '2026-06-29T09:00:00.000Z', '2026-06-29T09:00:00.000Z', '2026-06-29T09:00:00.000Z', NULL), \
  (4, 'tmall', '2001', 'https://detail.tmall.com/2001', '电饭煲', '苏泊尔', 'SF-1', '[]', '苏泊尔店', NULL, 'h4', 'feed:x', \
   '2026-06-29T09:00:00.000Z', '2026-06-29T09:00:00.000Z', '2026-06-29T09:00:00.000Z', NULL);";

pub(super) fn finding(verdict: Verdict, confidence: f32) -> Finding {
    Finding {
        verdict,
        confidence,
        matched_cert: None,
        cert_numbers: vec![],
        category_code: None,
        brand: None,
        model: None,
        reasons: vec![],
    }
}

pub(super) fn fw(listing_id: i64, finding: Finding) -> FindingWrite {
    FindingWrite {
        listing_id,
        finding,
    }
}

fn instant(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

fn d(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

contract!(an_empty_database_has_no_findings, |db, _clock| {
    assert_eq!(db.catalog_fingerprint().await.unwrap(), None);
    assert_eq!(db.count_findings().await.unwrap(), 0);
    assert_eq!(db.certs_judged_through().await.unwrap(), None);
    assert!(db.match_runs(10).await.unwrap().is_empty());
    assert!(
        db.export_page(None, false, 0, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(db.verdict_counts(None).await.unwrap().is_empty());
    assert_eq!(db.close_stale_match_runs().await.unwrap(), 0);
});

contract!(catalog_and_judged_state_are_replaced, |db, clock| {
    db.set_catalog_fingerprint("sha256:abc").await.unwrap();
    assert_eq!(
        db.catalog_fingerprint().await.unwrap().as_deref(),
        Some("sha256:abc")
    );
    clock.advance(chrono::Duration::hours(2));
    db.set_catalog_fingerprint("目录 'v2' %_").await.unwrap();
    assert_eq!(
        db.catalog_fingerprint().await.unwrap().as_deref(),
        Some("目录 'v2' %_")
    );
    assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM catalog_state WHERE judged_at = '2026-06-30T10:00:00.000Z'"
        )
        .await,
        1
    );
    db.set_certs_judged_through(0).await.unwrap();
    assert_eq!(db.certs_judged_through().await.unwrap(), Some(0));
    db.set_certs_judged_through(42).await.unwrap();
    assert_eq!(db.certs_judged_through().await.unwrap(), Some(42));
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM judged_state").await, 1);
});

contract!(a_match_run_stores_findings_and_is_closed, |db, clock| {
    db.exec_sql(SEED).await;
    let run = db
        .begin_match_run(d("2026-06-30"), Some("jd"))
        .await
        .unwrap();
    let id = run.run_id();
    assert!(id > 0);
    let runs = db.match_runs(10).await.unwrap();
    assert_eq!(
        runs,
        vec![(id, "running".to_string(), START.to_string(), None)]
    );
    let mut f1 = finding(Verdict::CertMismatch, 0.75);
    f1.matched_cert = Some("2020010701000001".into());
    f1.cert_numbers = vec!["2020010701000009".into(), "2020010701000001".into()];
    f1.category_code = Some("0701".into());
    f1.brand = Some("美的".into());
    f1.model = Some("MK-1".into());
    f1.reasons = vec![
        "型号不在证书上".into(),
        "\"引号\" '单引号' %_ <script>".into(),
        "nul\0x".into(),
    ];
    let batch = vec![
        fw(1, f1.clone()),
        fw(2, finding(Verdict::Uncertified, 0.5)),
        fw(3, finding(Verdict::Compliant, 1.0)),
        fw(4, finding(Verdict::NotInScope, 0.25)),
    ];
    clock.advance(chrono::Duration::seconds(1));
    run.write(&batch).await.unwrap();
    clock.advance(chrono::Duration::milliseconds(500));
    run.finish(
        4,
        &[
            (Verdict::Compliant, 1),
            (Verdict::NotInScope, 1),
            (Verdict::Uncertified, 1),
            (Verdict::CertMismatch, 1),
        ],
    )
    .await
    .unwrap();
    assert_eq!(db.count_findings().await.unwrap(), 4);
    let runs = db.match_runs(10).await.unwrap();
    assert_eq!(
        runs,
        vec![(
            id,
            "completed".to_string(),
            START.to_string(),
            Some("2026-06-30T08:00:01.500Z".to_string())
        )]
    );
    // The figures, with the keys in the order given.
    assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM match_runs WHERE listings = 4 AND platform = 'jd' AND as_of = '2026-06-30' \
             AND CAST(by_verdict AS TEXT) = '{\"compliant\":1,\"not_in_scope\":1,\"uncertified\":1,\"cert_mismatch\":1}' \
             AND heartbeat_at = '2026-06-30T08:00:01.000Z'"
        )
        .await,
        1
    );
    // Flagged findings enter the queue; compliant and out-of-scope do not.
    assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM findings WHERE review_state = 'pending' \
             AND queued_at = '2026-06-30T08:00:01.000Z' AND matched_at = '2026-06-30T08:00:01.000Z'"
        )
        .await,
        2
    );
    assert_eq!(
        db.scalar_i64(
            "SELECT COUNT(*) FROM findings WHERE review_state IS NULL AND queued_at IS NULL"
        )
        .await,
        2
    );
    // The platform is copied from the listing.
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM findings WHERE platform = 'tmall' AND listing_id = 4")
            .await,
        1
    );
    // Every first verdict is history.
    assert_eq!(
        db.scalar_i64(&format!(
            "SELECT COUNT(*) FROM finding_history WHERE old_verdict IS NULL AND run_id = {id} \
             AND changed_at = '2026-06-30T08:00:01.000Z'"
        ))
        .await,
        4
    );
    let rows = db.export_page(None, false, 0, 100).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.listing_id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let r = &rows[0];
    assert_eq!((r.platform.as_str(), r.item_id.as_str()), ("jd", "1001"));
    assert_eq!(r.url.as_deref(), Some("https://item.jd.com/1001.html"));
    assert_eq!(r.title, "美的电热水壶 MK-1");
    assert_eq!(
        (r.brand.as_deref(), r.model.as_deref()),
        (Some("美的"), Some("MK-1"))
    );
    assert_eq!(r.cert_numbers, f1.cert_numbers);
    assert_eq!(r.category_code.as_deref(), Some("0701"));
    assert_eq!(r.verdict, Verdict::CertMismatch);
    assert_eq!(r.confidence, 0.75);
    assert_eq!(r.matched_cert.as_deref(), Some("2020010701000001"));
    // PostgreSQL drops the NUL; the rest is kept.
    let reasons: Vec<String> = r.reasons.iter().map(|s| s.replace('\0', "")).collect();
    assert_eq!(
        reasons,
        vec![
            "型号不在证书上".to_string(),
            "\"引号\" '单引号' %_ <script>".to_string(),
            "nulx".to_string()
        ]
    );
    assert_eq!(r.seller.as_deref(), Some("美的官方旗舰店"));
    assert_eq!(r.shop_url.as_deref(), Some("https://mall.jd.com/1"));
    assert_eq!(r.captured_at.as_deref(), Some("2026-06-29T09:10:11.123Z"));
    assert_eq!(
        r.evidence_sha256.as_deref(),
        Some("e3b0c44298fc1c149afbf4c8996fb924")
    );
    let r = &rows[1];
    assert_eq!(r.title, "无牌插座 <script>'%_'</script>");
    assert_eq!((r.url.as_deref(), r.seller.as_deref()), (None, None));
    assert_eq!(
        (r.brand.as_deref(), r.matched_cert.as_deref()),
        (None, None)
    );
    assert!(r.cert_numbers.is_empty() && r.reasons.is_empty());
    assert_eq!(
        (r.captured_at.as_deref(), r.evidence_sha256.as_deref()),
        (None, None)
    );
    assert_eq!(r.confidence, 0.5);
    assert_eq!(
        db.verdict_counts(None).await.unwrap(),
        vec![
            (Verdict::Compliant, 1),
            (Verdict::NotInScope, 1),
            (Verdict::Uncertified, 1),
            (Verdict::CertMismatch, 1)
        ]
    );
});

contract!(
    a_later_run_keeps_or_resets_review_by_verdict,
    |db, clock| {
        db.exec_sql(SEED).await;
        let run = db.begin_match_run(d("2026-06-30"), None).await.unwrap();
        run.write(&[
            fw(1, finding(Verdict::Uncertified, 0.5)),
            fw(2, finding(Verdict::Uncertified, 0.5)),
            fw(3, finding(Verdict::Expired, 0.5)),
            fw(4, finding(Verdict::Compliant, 1.0)),
        ])
        .await
        .unwrap();
        let run1_id = run.run_id();
        run.finish(4, &[]).await.unwrap();
        // A reviewer decided 1, 2 and 3.
        db.exec_sql(
        "UPDATE findings SET review_state = 'confirmed', decision_id = 7 WHERE listing_id IN (1, 2, 3)",
    )
    .await;
        clock.advance(chrono::Duration::days(1));
        let run2 = db.begin_match_run(d("2026-07-01"), None).await.unwrap();
        assert!(run2.run_id() > run1_id);
        run2.write(&[
            // Same verdict: the decision stands.
            fw(1, finding(Verdict::Uncertified, 0.9)),
            // Another flagged verdict: back to the queue, decision cleared.
            fw(2, finding(Verdict::CertNotFound, 0.9)),
            // No longer flagged: out of the queue.
            fw(3, finding(Verdict::Compliant, 0.9)),
            // Newly flagged.
            fw(4, finding(Verdict::Revoked, 0.9)),
        ])
        .await
        .unwrap();
        let q = |sql: &str| format!("SELECT COUNT(*) FROM findings WHERE {sql}");
        assert_eq!(
        db.scalar_i64(&q(
            "listing_id = 1 AND review_state = 'confirmed' AND decision_id = 7 \
             AND queued_at = '2026-06-30T08:00:00.000Z' AND matched_at = '2026-07-01T08:00:00.000Z' \
             AND as_of = '2026-07-01'"
        ))
        .await,
        1
    );
        assert_eq!(
            db.scalar_i64(&q(
                "listing_id = 2 AND review_state = 'pending' AND decision_id IS NULL \
             AND queued_at = '2026-07-01T08:00:00.000Z' AND verdict = 'cert_not_found'"
            ))
            .await,
            1
        );
        assert_eq!(
        db.scalar_i64(&q(
            "listing_id = 3 AND review_state IS NULL AND queued_at IS NULL AND decision_id IS NULL"
        ))
        .await,
        1
    );
        assert_eq!(
        db.scalar_i64(&q(
            "listing_id = 4 AND review_state = 'pending' AND queued_at = '2026-07-01T08:00:00.000Z'"
        ))
        .await,
        1
    );
        // History: the first verdicts, then the three changes.
        let run2_id = run2.run_id();
        assert_eq!(
            db.scalar_i64(&format!(
                "SELECT COUNT(*) FROM finding_history WHERE run_id = {run2_id}"
            ))
            .await,
            3
        );
        assert_eq!(
        db.scalar_i64(&format!(
            "SELECT COUNT(*) FROM finding_history WHERE run_id = {run2_id} AND \
             ((listing_id = 2 AND old_verdict = 'uncertified' AND new_verdict = 'cert_not_found') OR \
              (listing_id = 3 AND old_verdict = 'expired' AND new_verdict = 'compliant') OR \
              (listing_id = 4 AND old_verdict = 'compliant' AND new_verdict = 'revoked'))"
        ))
        .await,
        3
    );
        // The history is written in batch order.
        assert_eq!(
        db.scalar_i64(&format!(
            "SELECT listing_id FROM finding_history WHERE run_id = {run2_id} ORDER BY id LIMIT 1"
        ))
        .await,
        2
    );
        // A pending finding whose verdict stays pending keeps its queue time.
        clock.advance(chrono::Duration::days(1));
        run2.write(&[fw(4, finding(Verdict::Revoked, 0.1))])
            .await
            .unwrap();
        assert_eq!(
        db.scalar_i64(&q(
            "listing_id = 4 AND review_state = 'pending' AND queued_at = '2026-07-01T08:00:00.000Z' \
             AND matched_at = '2026-07-02T08:00:00.000Z'"
        ))
        .await,
        1
    );
        // An empty batch only beats the heartbeat.
        clock.advance(chrono::Duration::minutes(1));
        run2.write(&[]).await.unwrap();
        assert_eq!(
        db.scalar_i64(&format!(
            "SELECT COUNT(*) FROM match_runs WHERE id = {run2_id} AND heartbeat_at = '2026-07-02T08:01:00.000Z'"
        ))
        .await,
        1
    );
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM finding_history").await,
            7
        );
        // Newest first, limited; a negative limit is none.
        let runs = db.match_runs(1).await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].0, run2_id);
        assert_eq!(db.match_runs(-1).await.unwrap().len(), 2);
        assert!(db.match_runs(0).await.unwrap().is_empty());
    }
);

contract!(
    a_listing_twice_in_a_batch_ends_with_the_last,
    |db, _clock| {
        db.exec_sql(SEED).await;
        let run = db.begin_match_run(d("2026-06-30"), None).await.unwrap();
        run.write(&[
            fw(1, finding(Verdict::Uncertified, 0.5)),
            fw(2, finding(Verdict::Compliant, 0.5)),
            fw(1, finding(Verdict::Expired, 0.6)),
        ])
        .await
        .unwrap();
        let rows = db.export_page(None, false, 0, 10).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].verdict, rows[0].confidence),
            (Verdict::Expired, 0.6f32 as f64)
        );
        // Both verdicts of listing 1 are history (SQLite records both against
        // the verdict stored before the batch, PostgreSQL the second against
        // the first: the old verdict of the second differs, the count not).
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM finding_history WHERE listing_id = 1")
                .await,
            2
        );
        assert_eq!(
            db.scalar_i64(
                "SELECT COUNT(*) FROM findings WHERE listing_id = 1 AND review_state = 'pending'"
            )
            .await,
            1
        );
    }
);

contract!(runs_without_a_heartbeat_are_closed_as_stale, |db, clock| {
    db.exec_sql(SEED).await;
    let old = db.begin_match_run(d("2026-06-30"), None).await.unwrap();
    clock.advance(chrono::Duration::minutes(9));
    old.write(&[fw(1, finding(Verdict::Compliant, 1.0))])
        .await
        .unwrap();
    // 9 minutes since the heartbeat: alive.
    clock.advance(chrono::Duration::minutes(9));
    assert_eq!(db.close_stale_match_runs().await.unwrap(), 0);
    // Exactly 10 minutes: still alive (strictly older is stale).
    clock.advance(chrono::Duration::minutes(1));
    assert_eq!(db.close_stale_match_runs().await.unwrap(), 0);
    clock.advance(chrono::Duration::seconds(1));
    // Starting a run closes the dead one first.
    let new = db
        .begin_match_run(d("2026-06-30"), Some("tmall"))
        .await
        .unwrap();
    let runs = db.match_runs(10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].0, new.run_id());
    assert_eq!(runs[0].1, "running");
    assert_eq!(runs[1].0, old.run_id());
    assert_eq!(runs[1].1, "interrupted");
    // SQLite writes this stamp as `+00:00` (to_rfc3339); the instant is
    // the same.
    assert_eq!(
        instant(runs[1].3.as_deref().unwrap()),
        instant("2026-06-30T08:19:01.000Z")
    );
    assert_eq!(db.close_stale_match_runs().await.unwrap(), 0);
    // A run that never beat is judged by its start.
    clock.advance(chrono::Duration::minutes(11));
    assert_eq!(db.close_stale_match_runs().await.unwrap(), 1);
    assert_eq!(db.close_stale_match_runs().await.unwrap(), 0);
    // A completed run is never closed.
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM match_runs WHERE state = 'interrupted'")
            .await,
        2
    );
});

contract!(
    export_pages_filter_and_follow_the_listing_order,
    |db, _clock| {
        db.exec_sql(SEED).await;
        let run = db.begin_match_run(d("2026-06-30"), None).await.unwrap();
        run.write(&[
            fw(4, finding(Verdict::Expired, 0.5)),
            fw(3, finding(Verdict::Compliant, 0.5)),
            fw(2, finding(Verdict::NotInScope, 0.5)),
            fw(1, finding(Verdict::Suspended, 0.5)),
        ])
        .await
        .unwrap();
        let ids = |rows: Vec<crate::store::ExportRow>| {
            rows.into_iter().map(|r| r.listing_id).collect::<Vec<_>>()
        };
        assert_eq!(
            ids(db.export_page(None, false, 0, 100).await.unwrap()),
            vec![1, 2, 3, 4]
        );
        assert_eq!(
            ids(db.export_page(None, true, 0, 100).await.unwrap()),
            vec![1, 4]
        );
        assert_eq!(
            ids(db.export_page(Some("jd"), false, 0, 100).await.unwrap()),
            vec![1, 2, 3]
        );
        assert_eq!(
            ids(db.export_page(Some("jd"), true, 0, 100).await.unwrap()),
            vec![1]
        );
        assert_eq!(
            ids(db.export_page(Some("tmall"), true, 0, 100).await.unwrap()),
            vec![4]
        );
        assert!(
            db.export_page(Some("taobao"), false, 0, 100)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            db.export_page(Some("jd' OR '1'='1"), false, 0, 100)
                .await
                .unwrap()
                .is_empty()
        );
        // Pages.
        assert_eq!(
            ids(db.export_page(None, false, 0, 2).await.unwrap()),
            vec![1, 2]
        );
        assert_eq!(
            ids(db.export_page(None, false, 2, 2).await.unwrap()),
            vec![3, 4]
        );
        assert!(db.export_page(None, false, 4, 2).await.unwrap().is_empty());
        assert!(db.export_page(None, false, 0, 0).await.unwrap().is_empty());
        assert_eq!(
            ids(db.export_page(None, false, 1, -1).await.unwrap()),
            vec![2, 3, 4]
        );
        // Counts by platform.
        assert_eq!(
            db.verdict_counts(Some("jd")).await.unwrap(),
            vec![
                (Verdict::Compliant, 1),
                (Verdict::NotInScope, 1),
                (Verdict::Suspended, 1)
            ]
        );
        assert_eq!(
            db.verdict_counts(Some("tmall")).await.unwrap(),
            vec![(Verdict::Expired, 1)]
        );
        assert!(db.verdict_counts(Some("none")).await.unwrap().is_empty());
        assert_eq!(db.verdict_counts(None).await.unwrap().len(), 4);
    }
);

contract!(a_large_batch_is_written_at_once, |db, _clock| {
    // 1,200 listings, one batch (more than SQLite's 500-row statements).
    let mut sql = String::from(
        "INSERT INTO listings (id, platform, item_id, title, params, content_hash, source, first_seen_at, last_seen_at, updated_at) VALUES ",
    );
    for i in 1..=1200 {
        if i > 1 {
            sql.push(',');
        }
        sql.push_str(&format!(
            "({i}, 'jd', 'i{i}', 't{i}', '[]', 'h', 's', '2026-06-30T08:00:00.000Z', '2026-06-30T08:00:00.000Z', '2026-06-30T08:00:00.000Z')"
        ));
    }
    db.exec_sql(&sql).await;
    let run = db.begin_match_run(d("2026-06-30"), None).await.unwrap();
    let batch: Vec<_> = (1..=1200)
        .map(|i| {
            let v = if i % 3 == 0 {
                Verdict::Compliant
            } else {
                Verdict::Uncertified
            };
            let mut f = finding(v, (i % 100) as f32 / 100.0);
            f.cert_numbers = vec![format!("{i:016}")];
            fw(i, f)
        })
        .collect();
    run.write(&batch).await.unwrap();
    assert_eq!(db.count_findings().await.unwrap(), 1200);
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM finding_history").await,
        1200
    );
    assert_eq!(
        db.verdict_counts(None).await.unwrap(),
        vec![(Verdict::Compliant, 400), (Verdict::Uncertified, 800)]
    );
    let rows = db.export_page(None, false, 1000, 1000).await.unwrap();
    assert_eq!(rows.len(), 200);
    assert_eq!(rows[0].cert_numbers, vec![format!("{:016}", 1001)]);
    assert_eq!(rows[0].confidence, 0.01f32 as f64);
});
