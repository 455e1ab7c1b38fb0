//! The storage contract for `store::certs`, run against each backend.

#[allow(unused_imports)]
use super::*;
use crate::domain::Brand;
use crate::domain::{CertStatus, Certificate, ModelList};
use crate::store::ImportCounts;
use chrono::NaiveDate;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A certificate with every optional field set.
pub(super) fn cert(no: &str, status: CertStatus, expires: &str) -> Certificate {
    Certificate {
        cert_no: no.into(),
        status,
        status_raw: format!("{}（原文）", status.as_str()),
        category_code: Some("0701".into()),
        product_name: "电热水壶".into(),
        models_raw: "MK-1, MK-2".into(),
        models: ModelList {
            models: vec!["MK-2".into(), "MK-1".into()],
            complete: true,
        },
        applicant: "美的集团股份有限公司".into(),
        manufacturer: "佛山市美的电器有限公司".into(),
        factory: "顺德工厂".into(),
        issued_on: d("2021-03-04"),
        expires_on: d(expires),
        first_issued_on: Some(d("2016-01-02")),
        issuer: Some("CQC".into()),
        status_changed_on: Some(d("2025-12-31")),
        status_reason: Some("企业申请".into()),
        trademark: Some("Midea".into()),
    }
}

/// A certificate with every optional field empty.
fn bare(no: &str) -> Certificate {
    Certificate {
        cert_no: no.into(),
        status: CertStatus::Valid,
        status_raw: "有效".into(),
        category_code: None,
        product_name: "插座".into(),
        models_raw: String::new(),
        models: ModelList {
            models: vec![],
            complete: false,
        },
        applicant: "a".into(),
        manufacturer: "m".into(),
        factory: "f".into(),
        issued_on: d("2020-01-01"),
        expires_on: d("2030-01-01"),
        first_issued_on: None,
        issuer: None,
        status_changed_on: None,
        status_reason: None,
        trademark: None,
    }
}

/// PostgreSQL drops U+0000 from stored text (it cannot hold it); SQLite
/// keeps it. Both keep everything else byte for byte.
fn no_nul(s: &str) -> String {
    s.replace('\0', "")
}

fn cleaned(c: &Certificate) -> Certificate {
    let o = |s: &Option<String>| s.as_deref().map(no_nul);
    Certificate {
        cert_no: no_nul(&c.cert_no),
        status: c.status,
        status_raw: no_nul(&c.status_raw),
        category_code: o(&c.category_code),
        product_name: no_nul(&c.product_name),
        models_raw: no_nul(&c.models_raw),
        models: ModelList {
            models: c.models.models.iter().map(|m| no_nul(m)).collect(),
            complete: c.models.complete,
        },
        applicant: no_nul(&c.applicant),
        manufacturer: no_nul(&c.manufacturer),
        factory: no_nul(&c.factory),
        issued_on: c.issued_on,
        expires_on: c.expires_on,
        first_issued_on: c.first_issued_on,
        issuer: o(&c.issuer),
        status_changed_on: c.status_changed_on,
        status_reason: o(&c.status_reason),
        trademark: o(&c.trademark),
    }
}

contract!(an_empty_database_has_no_certificates, |db, _clock| {
    assert_eq!(db.count_certs().await.unwrap(), 0);
    assert!(db.cert_records().await.unwrap().is_empty());
    assert!(db.certificate("2020010701000001").await.unwrap().is_none());
    assert!(
        db.cert_history("2020010701000001")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.cert_freshness().await.unwrap(),
        crate::store::CertFreshness::default()
    );
    let stats = db.cert_stats(d("2026-06-30"), 30).await.unwrap();
    assert_eq!(stats.total, 0);
    assert!(stats.by_status.is_empty() && stats.by_category.is_empty());
    assert!(stats.by_issuer.is_empty() && stats.expiring_first.is_empty());
    assert_eq!((stats.expired_by_date, stats.expiring), (0, 0));
    assert!(db.brands().await.unwrap().is_empty());
    assert_eq!(db.cert_history_mark().await.unwrap(), 0);
    assert!(db.certs_changed_between(0, 100).await.unwrap().is_empty());
});

contract!(
    an_import_stores_every_field_and_reads_it_back,
    |db, clock| {
        let full = cert("2020010701000001", CertStatus::Suspended, "2027-05-06");
        let empty = bare("2020010701000002");
        let mut w = db
            .begin_cert_import("data/证书 2026.xlsx", "gb18030", true)
            .await
            .unwrap();
        assert!(w.import_id() > 0);
        w.write(&[(full.clone(), 0xdead_beef_0000_0001), (empty.clone(), 2)])
            .await
            .unwrap();
        clock.advance(chrono::Duration::milliseconds(1234));
        let counts = w.commit(3, 1).await.unwrap();
        assert_eq!(
            counts,
            ImportCounts {
                inserted: 2,
                updated: 0,
                unchanged: 0,
                history: 0
            }
        );
        assert_eq!(db.count_certs().await.unwrap(), 2);
        let got = db.certificate("2020010701000001").await.unwrap().unwrap();
        assert_eq!(got.cert, full);
        assert_eq!(got.updated_at, START);
        assert_eq!(got.source_file, "data/证书 2026.xlsx");
        let got = db.certificate("2020010701000002").await.unwrap().unwrap();
        assert_eq!(got.cert, empty);
        assert_eq!(
            db.cert_freshness().await.unwrap(),
            crate::store::CertFreshness {
                certificates: 2,
                latest_import: Some((
                    "data/证书 2026.xlsx".into(),
                    "2026-06-30T08:00:01.234Z".into()
                )),
            }
        );
        // The import's figures and flags as recorded.
        assert_eq!(
            db.scalar_i64(
                "SELECT COUNT(*) FROM cert_imports WHERE encoding = 'gb18030' AND strict = TRUE \
             AND rows_total = 3 AND rows_inserted = 2 AND rows_updated = 0 AND rows_unchanged = 0 \
             AND rows_rejected = 1"
            )
            .await,
            1
        );
        // The standard shape of a number is recorded (16 digits).
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM certificates WHERE standard_number = TRUE")
                .await,
            2
        );
        // The index feed, in import order.
        let records = db.cert_records().await.unwrap();
        assert_eq!(records.len(), 2);
        let r = &records[0];
        assert_eq!(r.cert_no, "2020010701000001");
        assert_eq!(r.status, CertStatus::Suspended);
        assert_eq!(r.status_changed_on, Some(d("2025-12-31")));
        assert_eq!(r.status_reason.as_deref(), Some("企业申请"));
        assert_eq!(
            (r.issued_on, r.expires_on),
            (d("2021-03-04"), d("2027-05-06"))
        );
        assert_eq!(r.category_code.as_deref(), Some("0701"));
        assert_eq!(r.product_name, "电热水壶");
        assert_eq!(r.applicant, "美的集团股份有限公司");
        assert_eq!(r.manufacturer, "佛山市美的电器有限公司");
        assert_eq!(r.models, vec!["MK-2".to_string(), "MK-1".to_string()]);
        assert!(r.models_complete);
        let r = &records[1];
        assert_eq!(r.cert_no, "2020010701000002");
        assert!(r.models.is_empty() && !r.models_complete);
        assert_eq!(r.status_changed_on, None);
        assert_eq!(r.category_code, None);
    }
);

contract!(
    a_second_import_counts_changes_and_records_history,
    |db, clock| {
        let a = cert("A0000000000000001", CertStatus::Valid, "2028-01-01");
        let b = cert("B0000000000000002", CertStatus::Valid, "2028-01-01");
        let c = cert("C0000000000000003", CertStatus::Valid, "2029-01-01");
        let mut w = db
            .begin_cert_import("one.csv", "utf-8", false)
            .await
            .unwrap();
        w.write(&[(a.clone(), 1), (b.clone(), 2)]).await.unwrap();
        w.commit(2, 0).await.unwrap();
        let mark = db.cert_history_mark().await.unwrap();
        assert_eq!(mark, 0);

        clock.advance(chrono::Duration::days(1));
        let mut b2 = b.clone();
        b2.status = CertStatus::Revoked;
        b2.expires_on = d("2026-07-01");
        let mut c2 = c.clone();
        c2.product_name = "电饭煲".into();
        let mut w = db
            .begin_cert_import("two.csv", "utf-8", false)
            .await
            .unwrap();
        // a unchanged (same hash), b changed twice over, c new.
        w.write(&[(a.clone(), 1), (b2.clone(), 22)]).await.unwrap();
        w.write(&[(c2.clone(), 3)]).await.unwrap();
        let counts = w.commit(3, 0).await.unwrap();
        assert_eq!(
            counts,
            ImportCounts {
                inserted: 1,
                updated: 1,
                unchanged: 1,
                history: 2
            }
        );
        let history = db.cert_history("B0000000000000002").await.unwrap();
        let rows: Vec<_> = history
            .iter()
            .map(|h| {
                (
                    h.field.as_str(),
                    h.old_value.as_deref(),
                    h.new_value.as_deref(),
                    h.changed_at.as_str(),
                    h.source_file.as_str(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                (
                    "status",
                    Some("valid"),
                    Some("revoked"),
                    "2026-07-01T08:00:00.000Z",
                    "two.csv"
                ),
                (
                    "expires_on",
                    Some("2028-01-01"),
                    Some("2026-07-01"),
                    "2026-07-01T08:00:00.000Z",
                    "two.csv"
                ),
            ]
        );
        assert!(
            db.cert_history("A0000000000000001")
                .await
                .unwrap()
                .is_empty()
        );
        // Unchanged rows are not rewritten: a keeps its first import.
        let got_a = db.certificate("A0000000000000001").await.unwrap().unwrap();
        assert_eq!(
            (got_a.updated_at.as_str(), got_a.source_file.as_str()),
            (START, "one.csv")
        );
        let got_b = db.certificate("B0000000000000002").await.unwrap().unwrap();
        assert_eq!(got_b.cert, b2);
        assert_eq!(
            (got_b.updated_at.as_str(), got_b.source_file.as_str()),
            ("2026-07-01T08:00:00.000Z", "two.csv")
        );
        assert_eq!(
            db.certificate("C0000000000000003")
                .await
                .unwrap()
                .unwrap()
                .cert,
            c2
        );
        let through = db.cert_history_mark().await.unwrap();
        assert!(through > mark);
        assert_eq!(
            db.certs_changed_between(mark, through).await.unwrap(),
            vec!["B0000000000000002".to_string()]
        );
        assert!(
            db.certs_changed_between(through, through + 10)
                .await
                .unwrap()
                .is_empty()
        );

        // A third import changes a (status only) and b back; the window
        // between the marks names each certificate once, in number order.
        clock.advance(chrono::Duration::days(1));
        let mut a3 = a.clone();
        a3.status = CertStatus::Cancelled;
        let mut w = db
            .begin_cert_import("three.csv", "utf-8", false)
            .await
            .unwrap();
        w.write(&[(b.clone(), 2), (a3.clone(), 13)]).await.unwrap();
        let counts = w.commit(2, 0).await.unwrap();
        assert_eq!(
            counts,
            ImportCounts {
                inserted: 0,
                updated: 2,
                unchanged: 0,
                history: 3
            }
        );
        let last = db.cert_history_mark().await.unwrap();
        assert_eq!(
            db.certs_changed_between(through, last).await.unwrap(),
            vec![
                "A0000000000000001".to_string(),
                "B0000000000000002".to_string()
            ]
        );
        assert_eq!(
            db.certs_changed_between(0, last).await.unwrap(),
            vec![
                "A0000000000000001".to_string(),
                "B0000000000000002".to_string()
            ]
        );
        assert_eq!(db.cert_history("B0000000000000002").await.unwrap().len(), 4);
        // The latest import by finish time.
        assert_eq!(
            db.cert_freshness().await.unwrap().latest_import,
            Some(("three.csv".into(), "2026-07-02T08:00:00.000Z".into()))
        );
    }
);

contract!(
    a_number_twice_in_an_import_keeps_the_last_row,
    |db, _clock| {
        let a = cert("D0000000000000001", CertStatus::Valid, "2028-01-01");
        let mut a2 = a.clone();
        a2.status = CertStatus::Expired;
        a2.factory = "第二工厂".into();
        let mut a3 = a2.clone();
        a3.factory = "第三工厂".into();
        let mut w = db
            .begin_cert_import("dup.csv", "utf-8", false)
            .await
            .unwrap();
        // Twice in one batch (changed), once more in the next (changed again),
        // once more unchanged.
        w.write(&[(a.clone(), 1), (a2.clone(), 2)]).await.unwrap();
        w.write(&[(a3.clone(), 3), (a3.clone(), 3)]).await.unwrap();
        let counts = w.commit(4, 0).await.unwrap();
        assert_eq!(
            counts,
            ImportCounts {
                inserted: 1,
                updated: 2,
                unchanged: 1,
                history: 1
            }
        );
        assert_eq!(db.count_certs().await.unwrap(), 1);
        let got = db.certificate("D0000000000000001").await.unwrap().unwrap();
        assert_eq!(got.cert, a3);
        let h = db.cert_history("D0000000000000001").await.unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(
            (h[0].old_value.as_deref(), h[0].new_value.as_deref()),
            (Some("valid"), Some("expired"))
        );
    }
);

contract!(a_rolled_back_import_leaves_nothing, |db, clock| {
    let mut w = db
        .begin_cert_import("bad.csv", "utf-8", true)
        .await
        .unwrap();
    w.write(&[(bare("E0000000000000001"), 1)]).await.unwrap();
    w.rollback().await.unwrap();
    assert_eq!(db.count_certs().await.unwrap(), 0);
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM cert_imports").await, 0);
    assert_eq!(db.cert_freshness().await.unwrap().latest_import, None);
    // An import after it starts from the same empty state.
    clock.advance(chrono::Duration::minutes(5));
    let mut w = db
        .begin_cert_import("good.csv", "utf-8", true)
        .await
        .unwrap();
    w.write(&[(bare("E0000000000000001"), 1)]).await.unwrap();
    let counts = w.commit(1, 0).await.unwrap();
    assert_eq!(counts.inserted, 1);
    // An empty batch and an empty import are fine.
    let mut w = db
        .begin_cert_import("none.csv", "utf-8", true)
        .await
        .unwrap();
    w.write(&[]).await.unwrap();
    assert_eq!(w.commit(0, 0).await.unwrap(), ImportCounts::default());
    assert_eq!(
        db.cert_freshness().await.unwrap(),
        crate::store::CertFreshness {
            certificates: 1,
            latest_import: Some(("none.csv".into(), "2026-06-30T08:05:00.000Z".into())),
        }
    );
});

contract!(
    stats_count_by_status_category_issuer_and_window,
    |db, _clock| {
        let mut rows = Vec::new();
        // 22 valid ones expiring within the window (only 20 listed), in an
        // order that is neither number nor date order.
        for i in 0..22u64 {
            let no = format!("F{:016}", 100 - i);
            let mut c = cert(&no, CertStatus::Valid, "2026-07-01");
            c.expires_on = d("2026-06-30") + chrono::Duration::days((i % 5) as i64 * 7);
            c.applicant = format!("申请人{i}");
            rows.push((c, i));
        }
        // Valid but past expiry; suspended within the window; valid after it.
        let mut c = cert("G0000000000000001", CertStatus::Valid, "2026-06-29");
        c.category_code = None;
        c.issuer = None;
        rows.push((c, 100));
        let mut c = cert("G0000000000000002", CertStatus::Suspended, "2026-07-02");
        c.category_code = Some("0801".into());
        c.issuer = Some("CCAP".into());
        rows.push((c, 101));
        let mut c = cert("G0000000000000003", CertStatus::Valid, "2026-07-31");
        c.category_code = Some("0801".into());
        c.issuer = Some("CCAP".into());
        rows.push((c, 102));
        let mut c = cert("G0000000000000004", CertStatus::Revoked, "2026-07-31");
        c.category_code = Some("0901".into());
        rows.push((c, 103));
        let mut w = db.begin_cert_import("s.csv", "utf-8", false).await.unwrap();
        w.write(&rows).await.unwrap();
        w.commit(rows.len() as u64, 0).await.unwrap();

        let mut s = db.cert_stats(d("2026-06-30"), 30).await.unwrap();
        // Largest count first; SQLite leaves the order of equal counts open
        // (seen both ways), PostgreSQL gives them in name order: compare ties
        // as sets.
        for v in [&mut s.by_status, &mut s.by_category, &mut s.by_issuer] {
            let was = v.clone();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let counts: Vec<i64> = was.iter().map(|p| p.1).collect();
            assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{was:?}");
        }
        assert_eq!(s.total, 26);
        let pairs = |v: &[(&str, i64)]| -> Vec<(String, i64)> {
            v.iter().map(|(k, n)| (k.to_string(), *n)).collect()
        };
        assert_eq!(
            s.by_status,
            pairs(&[("valid", 24), ("revoked", 1), ("suspended", 1)])
        );
        assert_eq!(
            s.by_category,
            pairs(&[("0701", 22), ("0801", 2), ("(none)", 1), ("0901", 1)])
        );
        assert_eq!(
            s.by_issuer,
            pairs(&[("CQC", 23), ("CCAP", 2), ("(none)", 1)])
        );
        assert_eq!(s.expired_by_date, 1);
        // 22 in the window (2026-06-30 .. 2026-07-30 inclusive); 07-31 is out.
        assert_eq!(s.expiring, 22);
        assert_eq!(s.expiring_first.len(), 20);
        let mut want: Vec<(String, String, String)> = rows[..22]
            .iter()
            .map(|(c, _)| {
                (
                    c.cert_no.clone(),
                    c.expires_on.to_string(),
                    c.applicant.clone(),
                )
            })
            .collect();
        want.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
        want.truncate(20);
        assert_eq!(s.expiring_first, want);
        assert_eq!(s.expiring_first[0].1, "2026-06-30");
        // A window of 31 days reaches 07-31; of 0 days, only today.
        let s = db.cert_stats(d("2026-06-30"), 31).await.unwrap();
        assert_eq!(s.expiring, 23);
        let s = db.cert_stats(d("2026-06-30"), 0).await.unwrap();
        assert_eq!(s.expiring, 5);
    }
);

contract!(
    brands_are_replaced_and_read_back_in_file_order,
    |db, clock| {
        let brand = |name: &str, aliases: &[&str], companies: &[&str], title: bool| Brand {
            name: name.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            companies: companies.iter().map(|s| s.to_string()).collect(),
            title_search: title,
        };
        let first = vec![
            brand(
                "美的",
                &["Midea", "美的 (Midea)"],
                &["美的集团股份有限公司"],
                true,
            ),
            brand("公牛", &["BULL"], &[], true),
            brand("小熊", &[], &["小熊电器股份有限公司", "佛山小熊"], false),
            brand(
                "Apple",
                &["苹果", "\"quoted\" 'single' %_ <script>"],
                &["z", "a"],
                true,
            ),
        ];
        db.replace_brands(&first).await.unwrap();
        assert_eq!(db.brands().await.unwrap(), first);
        assert_eq!(
            db.scalar_i64(
                "SELECT COUNT(*) FROM brands WHERE updated_at = '2026-06-30T08:00:00.000Z'"
            )
            .await,
            4
        );
        clock.advance(chrono::Duration::hours(1));
        let second = vec![
            brand("公牛", &["BULL", "公牛插座"], &["公牛集团"], true),
            brand("飞利浦", &["Philips"], &[], true),
        ];
        db.replace_brands(&second).await.unwrap();
        assert_eq!(db.brands().await.unwrap(), second);
        db.replace_brands(&[]).await.unwrap();
        assert!(db.brands().await.unwrap().is_empty());
        // A name twice is refused, and the table stays as it was.
        db.replace_brands(&second).await.unwrap();
        let twice = vec![brand("X", &[], &[], true), brand("X", &[], &[], true)];
        assert!(db.replace_brands(&twice).await.is_err());
        assert_eq!(db.brands().await.unwrap(), second);
        // Many brands, in an order that is not name order.
        let many: Vec<Brand> = (0..1200)
            .map(|i| {
                brand(
                    &format!("品牌{}", (i * 7919) % 1200),
                    &["x"],
                    &[],
                    i % 2 == 0,
                )
            })
            .collect();
        db.replace_brands(&many).await.unwrap();
        assert_eq!(db.brands().await.unwrap(), many);
    }
);

contract!(hostile_text_is_kept_or_loses_only_nul, |db, _clock| {
    let long = "长".repeat(20_000);
    let mut c = cert("H\\N\t\n\r\\.0001", CertStatus::Valid, "2030-01-01");
    c.status_raw = "有效\0（暂停）".into();
    c.category_code = Some("07'01\"".into());
    c.product_name = "<script>alert('x')</script> %_ \\ \\\\ \\N".into();
    c.models_raw = long.clone();
    c.models = ModelList {
        models: vec![
            "KFR-35GW/\\N".into(),
            "a\tb".into(),
            "nul\0here".into(),
            "\"q\"".into(),
            String::new(),
        ],
        complete: true,
    };
    c.applicant = "Robert'); DROP TABLE certificates;--".into();
    c.manufacturer = "line1\nline2\r\n".into();
    c.factory = "\u{1F600} emoji".into();
    c.issuer = Some("\\".into());
    c.status_reason = Some("%".into());
    c.trademark = Some("_".into());
    let plain = bare("H0000000000000002");
    let mut w = db
        .begin_cert_import("h\0ostile.csv", "utf-8", false)
        .await
        .unwrap();
    w.write(&[(c.clone(), 9), (plain.clone(), 10)])
        .await
        .unwrap();
    w.commit(2, 0).await.unwrap();
    let got = db.certificate("H\\N\t\n\r\\.0001").await.unwrap().unwrap();
    assert_eq!(cleaned(&got.cert), cleaned(&c));
    assert_eq!(no_nul(&got.source_file), "hostile.csv");
    assert_eq!(got.cert.models_raw.chars().count(), 20_000);
    assert_eq!(
        db.certificate("H0000000000000002")
            .await
            .unwrap()
            .unwrap()
            .cert,
        plain
    );
    let records = db.cert_records().await.unwrap();
    assert_eq!(records[0].models.len(), 5);
    assert_eq!(no_nul(&records[0].models[2]), "nulhere");
    // A number with NUL is found by the same number (PostgreSQL stored it
    // without the NUL and looks it up without it).
    let mut n = bare("I000\u{0}0001");
    n.factory = "nul".into();
    let mut w = db.begin_cert_import("n.csv", "utf-8", false).await.unwrap();
    w.write(&[(n.clone(), 1)]).await.unwrap();
    w.commit(1, 0).await.unwrap();
    let got = db.certificate("I000\u{0}0001").await.unwrap().unwrap();
    assert_eq!(got.cert.factory, "nul");
    assert_eq!(db.count_certs().await.unwrap(), 3);
});

contract!(a_bulk_import_round_trips, |db, clock| {
    // Batches the size the importer sends (2,000 rows), over an existing
    // table: a third new, a third changed, a third unchanged.
    let make = |i: usize, status: CertStatus| {
        let mut c = cert(&format!("{:016}", i), status, "2030-01-01");
        c.applicant = format!("申请人 {i}\t'\\");
        c
    };
    let first: Vec<_> = (0..4000)
        .map(|i| (make(i, CertStatus::Valid), i as u64))
        .collect();
    let mut w = db
        .begin_cert_import("bulk1.csv", "utf-8", false)
        .await
        .unwrap();
    for chunk in first.chunks(2000) {
        w.write(chunk).await.unwrap();
    }
    w.commit(4000, 0).await.unwrap();
    clock.advance(chrono::Duration::days(1));
    let second: Vec<_> = (2000..6000)
        .map(|i| {
            // 2000..3000 changed; 3000..4000 as before; 4000.. new.
            if i < 3000 {
                (make(i, CertStatus::Suspended), i as u64 + 1_000_000)
            } else {
                (make(i, CertStatus::Valid), i as u64)
            }
        })
        .collect();
    let mut w = db
        .begin_cert_import("bulk2.csv", "utf-8", false)
        .await
        .unwrap();
    for chunk in second.chunks(2000) {
        w.write(chunk).await.unwrap();
    }
    let counts = w.commit(4000, 0).await.unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            inserted: 2000,
            updated: 1000,
            unchanged: 1000,
            history: 1000
        }
    );
    assert_eq!(db.count_certs().await.unwrap(), 6000);
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM certificates WHERE status = 'suspended'")
            .await,
        1000
    );
    let got = db
        .certificate(&format!("{:016}", 2500))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.cert, make(2500, CertStatus::Suspended));
    assert_eq!(got.source_file, "bulk2.csv");
    let records = db.cert_records().await.unwrap();
    assert_eq!(records.len(), 6000);
    assert_eq!(records[5999].cert_no, format!("{:016}", 5999));
});

/// The import's speed: 100,000 new certificates in batches of 2,000, then
/// the same file again (all unchanged), on each backend. Run with
/// `cargo test --lib store::contract::certs::timing -- --ignored --nocapture`.
mod timing {
    use super::*;
    use std::time::Instant;

    const N: usize = 100_000;

    fn rows() -> Vec<(Certificate, u64)> {
        (0..N)
            .map(|i| {
                let mut c = cert(
                    &format!("{:016}", 2020_0107_0000_0000u64 + i as u64),
                    CertStatus::Valid,
                    "2030-01-01",
                );
                c.models.models = vec![format!("MK-{i}"), format!("MK-{i}A")];
                c.applicant = format!("申请人有限公司 {}", i % 5000);
                (c, i as u64)
            })
            .collect()
    }

    macro_rules! time_import {
        ($db:expr, $name:expr) => {{
            let rows = rows();
            for pass in ["new", "unchanged"] {
                let t = Instant::now();
                let mut w = $db
                    .begin_cert_import("big.csv", "utf-8", false)
                    .await
                    .unwrap();
                for chunk in rows.chunks(2000) {
                    w.write(chunk).await.unwrap();
                }
                let counts = w.commit(N as u64, 0).await.unwrap();
                eprintln!(
                    "{}: {} certificates ({pass}) imported in {:.2} s ({:?})",
                    $name,
                    N,
                    t.elapsed().as_secs_f64(),
                    counts
                );
            }
            assert_eq!($db.count_certs().await.unwrap(), N as i64);
        }};
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "timing: 100k certificates on each backend"]
    async fn import_100k_certificates() {
        let (_clock, dynamic) = crate::store::contract::clock();
        let file = std::env::temp_dir().join(format!("cccwatch-timing-{}.db", std::process::id()));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let sqlite = crate::store::sqlite::SqliteStore::open(&url, dynamic.clone())
            .await
            .unwrap();
        time_import!(sqlite, "sqlite (file)");
        sqlite.close().await;
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
        }
        if let Some(scratch) =
            crate::store::postgres::scratch::database("import_100k_certificates", dynamic).await
        {
            time_import!(scratch.store, "postgres");
        }
    }
}
