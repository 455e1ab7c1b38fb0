//! The sample data end to end through the library: brands, two certificate
//! exports (UTF-8, then a GBK update), the platform feed, matching, exports.

use cccwatch::cert_import::{ImportOptions, import_file};
use cccwatch::config::Settings;
use cccwatch::export::{ExportFormat, export_findings};
use cccwatch::feed::ingest_file;
use cccwatch::matching::BrandTable;
use cccwatch::pipeline::{MatchContext, run_match};
use cccwatch::progress::Progress;
use cccwatch::store::Store;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

async fn loaded(dir: &Path) -> Store {
    let store = Store::open(&format!("sqlite://{}", dir.join("e2e.db").display()))
        .await
        .unwrap();
    let brands =
        BrandTable::read_csv(std::fs::File::open(format!("{ROOT}/certdb/brands.csv")).unwrap())
            .unwrap();
    store.replace_brands(&brands).await.unwrap();
    for f in ["certificates.csv", "certificates_update.csv"] {
        let r = import_file(
            &store,
            &Path::new(ROOT).join("certdb/sample").join(f),
            &ImportOptions { strict: true },
            &Progress::hidden(),
        )
        .await
        .unwrap();
        assert!(r.rejected.is_empty(), "{f}: {:?}", r.rejected);
    }
    let r = ingest_file(
        &store,
        &Path::new(ROOT).join("certdb/sample/platform_feed.jsonl"),
        Some("demo"),
        &Progress::hidden(),
    )
    .await
    .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    store
}

async fn match_on(store: &Store, as_of: &str) -> cccwatch::pipeline::MatchReport {
    let ctx = MatchContext::load(store, &Settings::default())
        .await
        .unwrap();
    let as_of = NaiveDate::parse_from_str(as_of, "%Y-%m-%d").unwrap();
    run_match(
        store,
        Arc::new(ctx),
        Default::default(),
        as_of,
        64,
        &Progress::hidden(),
    )
    .await
    .unwrap()
}

/// Every sample listing keeps the verdict and certificate a reviewer checked
/// (tests/data/sample_feed_verdicts.csv; listing by listing in certdb/sample).
#[tokio::test]
async fn sample_feed_verdicts_are_stable() {
    let dir = tempfile::tempdir().unwrap();
    let store = loaded(dir.path()).await;
    let report = match_on(&store, "2026-11-28").await;
    assert_eq!(report.listings, 150);
    let got: HashMap<String, (String, String)> = findings(&store, dir.path())
        .await
        .into_iter()
        .map(|(item, v)| {
            let cert = v["matched_cert"].as_str().unwrap_or("").to_string();
            (item, (v["verdict"].as_str().unwrap().to_string(), cert))
        })
        .collect();
    let expected =
        std::fs::read_to_string(format!("{ROOT}/tests/data/sample_feed_verdicts.csv")).unwrap();
    let mut wrong = Vec::new();
    for line in expected.lines().skip(1) {
        let p: Vec<&str> = line.split(',').collect();
        let g = &got[p[0]];
        if (g.0.as_str(), g.1.as_str()) != (p[1], p[2]) {
            wrong.push(format!(
                "{}: expected {} {}, got {} {}",
                p[0], p[1], p[2], g.0, g.1
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[tokio::test]
async fn as_of_date_changes_statuses_and_reasons_are_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let store = loaded(dir.path()).await;
    // 100149 cites a certificate revoked on 2026-11-11: valid before that day.
    match_on(&store, "2026-11-01").await;
    let before = finding(&store, dir.path(), "100149").await;
    assert_eq!(before["verdict"], "compliant");
    match_on(&store, "2026-11-28").await;
    let after = finding(&store, dir.path(), "100149").await;
    assert_eq!(after["verdict"], "revoked");
    let reasons = after["reasons"].to_string();
    assert!(reasons.contains("已于 2026-11-11 撤销"), "{reasons}");
    // Model one digit away: the reason names the closest certified model.
    let m = finding(&store, dir.path(), "100082").await;
    assert_eq!(m["verdict"], "cert_mismatch");
    assert!(
        m["reasons"]
            .to_string()
            .contains("不在证书型号列表中（最接近：G65K302）"),
        "{}",
        m["reasons"]
    );
    let c = m["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&c));
}

/// All current findings, by item ID, as `findings export --format jsonl` writes them.
async fn findings(store: &Store, dir: &Path) -> HashMap<String, serde_json::Value> {
    let out = dir.join("findings.jsonl");
    export_findings(store, &out, ExportFormat::Jsonl, None, false)
        .await
        .unwrap();
    std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["item_id"].as_str().unwrap().to_string(), v))
        .collect()
}

async fn finding(store: &Store, dir: &Path, item: &str) -> serde_json::Value {
    findings(store, dir).await.remove(item).unwrap()
}

#[tokio::test]
async fn exports_open_in_excel_and_read_back() {
    use calamine::{Reader, Xlsx, open_workbook};
    let dir = tempfile::tempdir().unwrap();
    let store = loaded(dir.path()).await;
    let report = match_on(&store, "2026-11-28").await;
    let xlsx = dir.path().join("f.xlsx");
    let n = export_findings(&store, &xlsx, ExportFormat::Xlsx, None, true)
        .await
        .unwrap();
    assert_eq!(n, report.flagged());
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let range = wb.worksheet_range(cccwatch::export::SHEET).unwrap();
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header, cccwatch::export::COLUMNS);
    assert_eq!(range.height() as u64, n + 1);
    let col = |name: &str| {
        cccwatch::export::COLUMNS
            .iter()
            .position(|c| *c == name)
            .unwrap()
    };
    for row in range.rows().skip(1) {
        let verdict = row[col("结论代码")].to_string();
        assert!(
            verdict != "compliant" && verdict != "not_in_scope",
            "flagged only"
        );
        let code = cccwatch::domain::Verdict::parse(&verdict).unwrap();
        assert_eq!(row[col("结论")].to_string(), code.label_zh());
        assert!(
            !row[col("原因")].to_string().is_empty(),
            "every finding has reasons"
        );
    }
    let csv_path = dir.path().join("f.csv");
    export_findings(&store, &csv_path, ExportFormat::Csv, None, false)
        .await
        .unwrap();
    let bytes = std::fs::read(&csv_path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
    let mut rdr = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        cccwatch::export::COLUMNS
    );
    assert_eq!(rdr.records().count(), 150);
}

#[tokio::test]
async fn feed_lines_are_reported_and_reloads_update_with_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("f.db").display()))
        .await
        .unwrap();
    let feed = dir.path().join("feed.jsonl");
    std::fs::write(
        &feed,
        concat!(
            "{\"item_id\":\"1\",\"title\":\"公牛插座 GN-H3050\"}\n",
            "{\"item_id\":\"2\"}\n",
            "not json\n",
            "\n",
            "{\"item_id\":\"3\",\"title\":\"美的电热水壶\",\"params\":{\"品牌\":\"美的\"}}\n",
        ),
    )
    .unwrap();
    let r = ingest_file(&store, &feed, Some("jd"), &Progress::hidden())
        .await
        .unwrap();
    assert_eq!(r.counts.inserted, 2);
    assert_eq!(r.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 3]);
    assert!(r.errors[0].reason.contains("title"));
    // Same listings again, one changed: updated, not duplicated, history kept.
    std::fs::write(&feed, "{\"item_id\":\"1\",\"title\":\"公牛插座 GN-H3050 新款\"}\n{\"item_id\":\"3\",\"title\":\"美的电热水壶\",\"params\":{\"品牌\":\"美的\"}}\n").unwrap();
    let r = ingest_file(&store, &feed, Some("jd"), &Progress::hidden())
        .await
        .unwrap();
    assert_eq!(
        (r.counts.inserted, r.counts.updated, r.counts.unchanged),
        (0, 1, 1)
    );
    assert_eq!(store.count_listings(Some("jd")).await.unwrap(), 2);
    assert_eq!(store.listing_history_len("jd", "1").await.unwrap(), 1);
    assert_eq!(store.listing_history_len("jd", "3").await.unwrap(), 0);
}

#[tokio::test]
async fn stats_count_statuses_and_expiring_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let store = loaded(dir.path()).await;
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let s = store.cert_stats(as_of, 90).await.unwrap();
    assert_eq!(
        s.total, 278,
        "270 certificates plus 8 new ones in the update"
    );
    assert_eq!(s.by_status.iter().map(|(_, n)| n).sum::<i64>(), 278);
    assert!(s.by_status.iter().any(|(st, n)| st == "revoked" && *n > 0));
    assert!(
        s.expiring > 0
            && s.expiring_first
                .iter()
                .all(|(_, exp, _)| exp.as_str() >= "2026-11-28" && exp.as_str() <= "2027-02-26")
    );
    assert!(
        s.expired_by_date > 0,
        "valid by status but past expiry are counted"
    );
}

#[tokio::test]
async fn the_same_item_twice_in_one_feed_is_one_listing_with_history() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("d.db").display()))
        .await
        .unwrap();
    let feed = dir.path().join("dup.jsonl");
    std::fs::write(
        &feed,
        "{\"item_id\":\"9\",\"title\":\"公牛插座\"}\n{\"item_id\":\"9\",\"title\":\"公牛插座 降价\"}\n",
    )
    .unwrap();
    let r = ingest_file(&store, &feed, Some("jd"), &Progress::hidden())
        .await
        .unwrap();
    assert_eq!((r.counts.inserted, r.counts.updated), (1, 1));
    assert_eq!(store.count_listings(Some("jd")).await.unwrap(), 1);
    assert_eq!(store.listing_history_len("jd", "9").await.unwrap(), 1);
    let page = store
        .listings_page(
            &cccwatch::store::ListingFilter {
                platform: Some("jd".into()),
                scan_id: None,
                ids: None,
            },
            0,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        page[0].listing.title, "公牛插座 降价",
        "the later line wins"
    );
}
