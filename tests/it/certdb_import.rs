//! Importing certificate exports: encodings, XLSX, bad rows, strict mode,
//! re-import history.

use cccwatch::cert_import::{
    ImportError, ImportOptions, RejectsPlace, import_file, import_file_with, rejects_path,
};
use cccwatch::domain::CertStatus;
use cccwatch::progress::Progress;
use cccwatch::store::Store;
use std::path::Path;

const HEADER: &str = "证书编号,证书状态,产品类别代码,产品名称,规格型号,认证委托人名称,生产者名称,生产企业名称,颁证日期,证书到期日期,发证机构名称,状态变更日期,状态变更原因,备注";

fn rows() -> Vec<String> {
    vec![
        "2016010201931890,有效,0201,延长线插座,\"GN-B5120、GN-B5130 250V~ 10A\",公牛集团股份有限公司,公牛集团股份有限公司,宁波公牛电器有限公司,2021-03-01,2026-03-01,中国质量认证中心,,,x".into(),
        "2014010714685680,暂停（企业申请）,0714,微波炉,G80F23CN2P-B5(R0),广东格兰仕微波炉电器制造有限公司,广东格兰仕微波炉电器制造有限公司,广东格兰仕微波炉电器制造有限公司,2019/06/01,2024/06/01,中国质量认证中心,2023年05月02日,,".into(),
        "2017152203018122,01,2203,塑料玩具,见附件,奥飞娱乐股份有限公司,广东奥迪动漫玩具有限公司,汕头市澄海区奥迪玩具厂,45352,47178,中国建材检验认证集团股份有限公司,,,".into(),
    ]
}

fn csv_text(extra: &[&str]) -> String {
    let mut lines = vec![HEADER.to_string()];
    lines.extend(rows());
    lines.extend(extra.iter().map(|s| s.to_string()));
    lines.join("\r\n") + "\r\n"
}

async fn store(dir: &Path) -> Store {
    Store::open(&format!("sqlite://{}", dir.join("t.db").display()))
        .await
        .unwrap()
}

async fn import(
    store: &Store,
    path: &Path,
    strict: bool,
) -> Result<cccwatch::cert_import::ImportReport, ImportError> {
    import_file(store, path, &ImportOptions { strict }, &Progress::hidden()).await
}

#[tokio::test]
async fn utf8_with_bom_imports_and_parses_models() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("export.csv");
    std::fs::write(&f, format!("\u{feff}{}", csv_text(&[]))).unwrap();
    let s = store(dir.path()).await;
    let r = import(&s, &f, false).await.unwrap();
    assert_eq!((r.rows, r.counts.inserted, r.rejected.len()), (3, 3, 0));
    assert_eq!(r.encoding, "UTF-8");
    let c = s
        .certificate("2016010201931890")
        .await
        .unwrap()
        .unwrap()
        .cert;
    assert_eq!(c.models.models, ["GN-B5120", "GN-B5130"]);
    assert!(c.models.complete);
    let c = s
        .certificate("2014010714685680")
        .await
        .unwrap()
        .unwrap()
        .cert;
    assert_eq!(c.status, CertStatus::Suspended);
    assert_eq!(
        c.status_reason.as_deref(),
        Some("企业申请"),
        "the bracket note is kept as reason"
    );
    assert_eq!(c.issued_on.to_string(), "2019-06-01");
    assert_eq!(c.status_changed_on.unwrap().to_string(), "2023-05-02");
    let c = s
        .certificate("2017152203018122")
        .await
        .unwrap()
        .unwrap()
        .cert;
    assert!(c.models.is_unknown(), "见附件 means unknown, not empty");
    assert_eq!(c.issued_on.to_string(), "2024-03-01", "Excel serial");
}

#[tokio::test]
async fn gbk_csv_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("gbk.csv");
    let text = csv_text(&[]);
    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
    std::fs::write(&f, &bytes).unwrap();
    let s = store(dir.path()).await;
    let r = import(&s, &f, false).await.unwrap();
    assert_eq!(r.encoding, "GB18030");
    assert_eq!(r.counts.inserted, 3);
    let c = s
        .certificate("2016010201931890")
        .await
        .unwrap()
        .unwrap()
        .cert;
    assert_eq!(c.applicant, "公牛集团股份有限公司");
}

#[tokio::test]
async fn english_headers_and_xlsx() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("export.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "CCC证书导出 2026-11").unwrap(); // a title row above the header
    let headers = [
        "cert_no",
        "status",
        "product_name",
        "models",
        "applicant",
        "manufacturer",
        "factory",
        "issued_on",
        "expires_on",
        "category_code",
    ];
    for (i, h) in headers.iter().enumerate() {
        ws.write_string(1, i as u16, *h).unwrap();
    }
    let row = [
        "2016010201931890",
        "03",
        "转换器",
        "GN-H3050;GN-H3060",
        "公牛集团股份有限公司",
        "公牛集团股份有限公司",
        "宁波公牛电器有限公司",
    ];
    for (i, v) in row.iter().enumerate() {
        ws.write_string(2, i as u16, *v).unwrap();
    }
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2021, 3, 1).unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    ws.write_datetime_with_format(2, 7, &date, &fmt).unwrap();
    ws.write_string(2, 8, "2026年3月1日").unwrap();
    ws.write_number(2, 9, 201.0).unwrap(); // Excel dropped the leading zero
    // A certificate number stored as a number loses digits: rejected with a reason.
    ws.write_number(3, 0, 2016010201931891.0).unwrap();
    for (i, v) in row.iter().enumerate().skip(1) {
        ws.write_string(3, i as u16, *v).unwrap();
    }
    ws.write_string(3, 7, "2021-03-01").unwrap();
    ws.write_string(3, 8, "2026-03-01").unwrap();
    wb.save(&f).unwrap();
    let s = store(dir.path()).await;
    let r = import(&s, &f, false).await.unwrap();
    assert_eq!(r.format, "xlsx");
    assert_eq!(r.counts.inserted, 1);
    assert_eq!(r.rejected.len(), 1);
    assert_eq!(r.rejected[0].line, 4);
    assert!(
        r.rejected[0].reason.contains("15位"),
        "{}",
        r.rejected[0].reason
    );
    let c = s
        .certificate("2016010201931890")
        .await
        .unwrap()
        .unwrap()
        .cert;
    assert_eq!(c.status, CertStatus::Revoked);
    assert_eq!(c.issued_on.to_string(), "2021-03-01");
    assert_eq!(c.expires_on.to_string(), "2026-03-01");
    assert_eq!(c.category_code.as_deref(), Some("0201"));
}

#[tokio::test]
async fn bad_rows_are_reported_and_rejected_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mixed.csv");
    let bad = [
        "2019010201234567,作废,0201,插座,GN-1,甲公司,甲公司,甲厂,2020-01-01,2025-01-01,,,,",
        "2019010201234568,有效,0201,插座,GN-2,甲公司,甲公司,甲厂,2020-13-01,2025-01-01,,,,",
        "2016010201931890,有效,0201,插座,GN-3,甲公司,甲公司,甲厂,2020-01-01,2025-01-01,,,,",
        "2019010201234569,有效,0201,插座,GN-4,,甲公司,甲厂,2020-01-01,2025-01-01,,,,",
    ];
    std::fs::write(&f, csv_text(&bad)).unwrap();
    let s = store(dir.path()).await;
    let r = import(&s, &f, false).await.unwrap();
    assert_eq!(r.counts.inserted, 3);
    let by_line: Vec<(u64, &str)> = r
        .rejected
        .iter()
        .map(|e| (e.line, e.column.as_str()))
        .collect();
    assert_eq!(
        by_line,
        [
            (5, "证书状态"),
            (6, "颁证日期"),
            (7, "证书编号"),
            (8, "认证委托人名称")
        ]
    );
    assert!(
        r.rejected[2].reason.contains("line 2"),
        "duplicate names the first line: {}",
        r.rejected[2].reason
    );
    let rejects = std::fs::read_to_string(rejects_path(&f)).unwrap();
    assert!(rejects.starts_with('\u{feff}'));
    assert_eq!(rejects.lines().count(), 5, "header + 4 rejects");
    assert!(rejects.contains("未知的证书状态"));
}

#[tokio::test]
async fn strict_stores_nothing_from_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("strict.csv");
    std::fs::write(
        &f,
        csv_text(&[
            "2019010201234568,有效,0201,插座,GN-2,甲公司,甲公司,甲厂,2020-01-01,2019-01-01,,,,",
        ]),
    )
    .unwrap();
    let s = store(dir.path()).await;
    match import(&s, &f, true).await {
        Err(ImportError::Strict { errors, .. }) => {
            assert_eq!(errors.len(), 1);
            assert_eq!(
                (errors[0].line, errors[0].column.as_str()),
                (5, "证书到期日期")
            );
        }
        other => panic!("expected a strict failure, got {other:?}"),
    }
    assert!(
        s.certificate("2016010201931890").await.unwrap().is_none(),
        "nothing stored"
    );
    assert_eq!(
        s.cert_stats(chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), 90)
            .await
            .unwrap()
            .total,
        0
    );
}

#[tokio::test]
async fn wrong_headers_are_refused_with_the_missing_list() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("orders.csv");
    std::fs::write(&f, "订单号,证书编号,金额\n1,2016010201931890,3\n").unwrap();
    let s = store(dir.path()).await;
    let err = import(&s, &f, false).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ImportError::NotAnExport { .. }));
    for h in ["证书状态", "规格型号", "证书到期日期"] {
        assert!(msg.contains(h), "{msg}");
    }
    assert!(
        !msg.contains("证书编号 (cert_no)"),
        "present headers are not listed as missing: {msg}"
    );
    assert!(
        msg.contains("第 1 行的列为 (columns on line 1): 订单号, 证书编号, 金额"),
        "the columns found are: {msg}"
    );
}

#[tokio::test]
async fn reimport_updates_and_keeps_history() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let first = dir.path().join("2026-10.csv");
    std::fs::write(&first, csv_text(&[])).unwrap();
    import(&s, &first, false).await.unwrap();
    let second = dir.path().join("2026-11.csv");
    let changed = csv_text(&[]).replace(
        "2016010201931890,有效,0201,延长线插座,\"GN-B5120、GN-B5130 250V~ 10A\",公牛集团股份有限公司,公牛集团股份有限公司,宁波公牛电器有限公司,2021-03-01,2026-03-01,中国质量认证中心,,,x",
        "2016010201931890,撤销,0201,延长线插座,\"GN-B5120、GN-B5130 250V~ 10A\",公牛集团股份有限公司,公牛集团股份有限公司,宁波公牛电器有限公司,2021-03-01,2031-03-01,中国质量认证中心,2026-11-01,监督抽样不合格,x",
    );
    std::fs::write(&second, changed).unwrap();
    let r = import(&s, &second, false).await.unwrap();
    assert_eq!(
        (
            r.counts.inserted,
            r.counts.updated,
            r.counts.unchanged,
            r.counts.history
        ),
        (0, 1, 2, 2)
    );
    let h = s.cert_history("2016010201931890").await.unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(
        (
            h[0].field.as_str(),
            h[0].old_value.as_deref(),
            h[0].new_value.as_deref()
        ),
        ("status", Some("valid"), Some("revoked"))
    );
    assert_eq!(
        (h[1].field.as_str(), h[1].new_value.as_deref()),
        ("expires_on", Some("2031-03-01"))
    );
    assert!(h[0].source_file.ends_with("2026-11.csv"));
    // The same file again changes nothing.
    let r = import(&s, &second, false).await.unwrap();
    assert_eq!((r.counts.updated, r.counts.unchanged), (0, 3));
}

#[tokio::test]
async fn unwritable_rejects_file_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("blocked.csv");
    std::fs::write(
        &f,
        csv_text(&[
            "2019010201234567,作废,0201,插座,GN-1,甲公司,甲公司,甲厂,2020-01-01,2025-01-01,,,,",
        ]),
    )
    .unwrap();
    // A folder where the rejects file should go: it cannot be created.
    std::fs::create_dir(rejects_path(&f)).unwrap();
    let s = store(dir.path()).await;
    let err = import(&s, &f, false).await.unwrap_err();
    assert!(matches!(err, ImportError::Rejects { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("nothing from this import was stored")
    );
    assert!(
        s.certificate("2016010201931890").await.unwrap().is_none(),
        "the good rows were rolled back"
    );
}

/// A rejects file that cannot go beside the input (read-only media) goes
/// to the fallback folder; the good rows are stored.
#[tokio::test]
async fn rejects_go_to_the_fallback_folder_when_the_input_folder_is_not_writable() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("blocked.csv");
    std::fs::write(
        &f,
        csv_text(&[
            "2019010201234567,作废,0201,插座,GN-1,甲公司,甲公司,甲厂,2020-01-01,2025-01-01,,,,",
        ]),
    )
    .unwrap();
    std::fs::create_dir(rejects_path(&f)).unwrap();
    let s = store(dir.path()).await;
    let place = RejectsPlace {
        chosen: None,
        fallback_dir: Some(dir.path().join("db/rejects")),
    };
    let r = import_file_with(
        &s,
        &f,
        &ImportOptions::default(),
        &place,
        &Progress::hidden(),
    )
    .await
    .unwrap();
    assert_eq!((r.counts.inserted, r.rejected.len()), (3, 1));
    let moved = dir.path().join("db/rejects/blocked.rejects.csv");
    assert_eq!(r.rejects_file.as_deref(), Some(moved.as_path()));
    let why = r.rejects_moved.expect("says it moved");
    assert_eq!(why.beside, rejects_path(&f));
    assert!(
        std::fs::read_to_string(&moved)
            .unwrap()
            .contains("未知的证书状态")
    );
}

/// When neither place can be written, nothing is stored and both are named.
#[tokio::test]
async fn rejects_written_nowhere_store_nothing_and_name_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("blocked.csv");
    std::fs::write(
        &f,
        csv_text(&[
            "2019010201234567,作废,0201,插座,GN-1,甲公司,甲公司,甲厂,2020-01-01,2025-01-01,,,,",
        ]),
    )
    .unwrap();
    std::fs::create_dir(rejects_path(&f)).unwrap();
    // The fallback "folder" is a file: it cannot be created either.
    std::fs::write(dir.path().join("not-a-folder"), b"").unwrap();
    let s = store(dir.path()).await;
    let place = RejectsPlace {
        chosen: None,
        fallback_dir: Some(dir.path().join("not-a-folder")),
    };
    let err = import_file_with(
        &s,
        &f,
        &ImportOptions::default(),
        &place,
        &Progress::hidden(),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ImportError::Rejects { .. }), "{msg}");
    assert!(
        msg.contains("not-a-folder") && msg.contains("blocked.rejects.csv"),
        "{msg}"
    );
    assert!(msg.contains("nothing from this import was stored"), "{msg}");
    assert!(s.certificate("2016010201931890").await.unwrap().is_none());
}

/// A changed catalog re-judges every stored listing, as a changed
/// certificate does for the listings citing it; the catalog is recorded
/// only once the work is done, so a run killed before that is finished by
/// the next one.
#[tokio::test]
async fn a_changed_catalog_re_judges_the_listings_it_affects() {
    use cccwatch::config::Settings;
    use cccwatch::domain::Verdict;
    use cccwatch::pipeline::{CatalogRejudge, rejudge_for_catalog};
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path()).await;
    let certs = dir.path().join("certs.csv");
    std::fs::write(&certs, csv_text(&[])).unwrap();
    import(&store, &certs, false).await.unwrap();
    let feed = dir.path().join("feed.jsonl");
    std::fs::write(
        &feed,
        concat!(
            r#"{"platform": "t", "item_id": "1", "title": "公牛插座 五孔 家用"}"#,
            "\n",
            r#"{"platform": "t", "item_id": "2", "title": "美的电饭煲 4L 家用"}"#,
            "\n"
        ),
    )
    .unwrap();
    cccwatch::feed::ingest_file(&store, &feed, None, &Progress::hidden())
        .await
        .unwrap();
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let settings = Settings::default();
    let verdict = |id: i64| {
        let store = store.clone();
        async move {
            store
                .finding_detail(id)
                .await
                .unwrap()
                .unwrap()
                .finding
                .unwrap()
                .verdict
        }
    };
    // Nothing judged yet: the catalog is only recorded.
    let r = rejudge_for_catalog(&store, &settings, as_of, &Progress::hidden())
        .await
        .unwrap();
    assert!(matches!(r, CatalogRejudge::Recorded), "{r:?}");
    // Judged once, with an older catalog (as a database from before).
    let ctx = cccwatch::pipeline::MatchContext::load(&store, &settings)
        .await
        .unwrap();
    cccwatch::pipeline::run_match(
        &store,
        std::sync::Arc::new(ctx),
        Default::default(),
        as_of,
        100,
        &Progress::hidden(),
    )
    .await
    .unwrap();
    store
        .set_catalog_fingerprint("judged-with-an-older-catalog")
        .await
        .unwrap();
    let r = rejudge_for_catalog(&store, &settings, as_of, &Progress::hidden())
        .await
        .unwrap();
    assert!(
        matches!(r, CatalogRejudge::Rejudged(ref m) if m.listings == 2),
        "{r:?}"
    );
    assert_ne!(verdict(1).await, Verdict::NotInScope);
    let r = rejudge_for_catalog(&store, &settings, as_of, &Progress::hidden())
        .await
        .unwrap();
    assert!(matches!(r, CatalogRejudge::Unchanged), "{r:?}");

    // The bureau edits its catalog: `公牛插座` now names goods outside it.
    let edited = dir.path().join("catalog.toml");
    let mut text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("certdb/catalog.toml"))
            .unwrap();
    text.push_str("\n[[outside]]\nkind = \"测试用非目录商品\"\nwords = [\"公牛插座\"]\n");
    std::fs::write(&edited, text).unwrap();
    let mut settings = Settings::default();
    settings.certdb.catalog = Some(edited);
    let r = rejudge_for_catalog(&store, &settings, as_of, &Progress::hidden())
        .await
        .unwrap();
    assert!(matches!(r, CatalogRejudge::Rejudged(_)), "{r:?}");
    assert_eq!(verdict(1).await, Verdict::NotInScope);
    assert_ne!(
        verdict(2).await,
        Verdict::NotInScope,
        "the rest is judged as before"
    );
    assert!(matches!(
        rejudge_for_catalog(&store, &settings, as_of, &Progress::hidden())
            .await
            .unwrap(),
        CatalogRejudge::Unchanged
    ));
}
