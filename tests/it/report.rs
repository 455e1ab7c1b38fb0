//! Reports: the monthly statistics report checked figure by figure against
//! what the test itself did (scans, decisions, a notice batch, removals, an
//! overdue listing, a relisted one), the workbook read back, the printable
//! page and its XLSX download for a viewer, and the seller risk ranking
//! (order, score, hostile seller names shown as text).

use crate::support::{self, logged_in as login};

use calamine::{Data, Reader, Xlsx, open_workbook};
use cccwatch::certdb::Catalog;
use cccwatch::config::{NoticeSettings, Settings};
use cccwatch::domain::Verdict;
use cccwatch::market::Removal;
use cccwatch::notice;
use cccwatch::pipeline::{MatchContext, run_match};
use cccwatch::progress::Progress;
use cccwatch::report::monthly::{DEFINITIONS, TOTAL, flagged_verdicts};
use cccwatch::report::xlsx::{MONTHLY_SHEETS, NOTICE_COLUMNS, SUMMARY_COLUMNS};
use cccwatch::report::{self, Month};
use cccwatch::review::decision::{DecisionInput, check_allowed};
use cccwatch::review::queue::QueueParams;
use cccwatch::store::{ListingFilter, Store};
use std::collections::HashMap;
use std::sync::Arc;

const HOSTILE_SELLER: &str = "<script>alert('seller')</script>坏商家";

fn decision(action: &str) -> cccwatch::domain::decision::Decision {
    DecisionInput {
        action: action.into(),
        reason: (action == "dismiss").then(|| "duplicate".into()),
        note: (action == "need_info").then(|| "请补充铭牌照片".into()),
        ..Default::default()
    }
    .validate()
    .unwrap()
}

/// What the test did, to check the report against.
struct Done {
    month: Month,
    scans: i64,
    confirmed: Vec<i64>,
    removed: Vec<i64>,
    relisted: i64,
    overdue: i64,
    hostile: i64,
}

/// Confirms five listings (one from a feed, sold by a hostile seller
/// name), dismisses one, asks about one; notices the four demo ones; the
/// platform takes three down, puts one back, leaves one up past the deadline.
async fn history(s: &support::Seeded) -> Done {
    let store = &s.store;
    let month = Month::containing(store.now());
    let boss = store.user_by_name("boss").await.unwrap().unwrap().0;
    let rows = store
        .queue(
            &QueueParams {
                per_page: Some("200".into()),
                ..Default::default()
            }
            .parse(|_| None)
            .unwrap(),
        )
        .await
        .unwrap()
        .rows;
    let ids: Vec<i64> = rows.iter().map(|r| r.listing_id).collect();
    assert!(ids.len() >= 6, "the seeded market has flagged listings");
    let (confirmed, rest) = ids.split_at(4);
    for id in confirmed {
        store
            .decide(*id, &boss, &decision("confirm"), None, &check_allowed)
            .await
            .unwrap();
    }
    store
        .decide(rest[0], &boss, &decision("dismiss"), None, &check_allowed)
        .await
        .unwrap();
    store
        .decide(rest[1], &boss, &decision("need_info"), None, &check_allowed)
        .await
        .unwrap();

    let out = tempfile::tempdir().unwrap();
    let settings = NoticeSettings {
        pdf_browser: "chromium".into(),
        ..support::notice_settings(out.path())
    };
    // Dated the 1st, so its deadline falls within the month.
    let w = notice::issue(
        store,
        &settings,
        &support::platforms(),
        "demo",
        month.first_day(),
        "boss",
        out.path(),
    )
    .await
    .unwrap();
    assert_eq!(w.batch.listings, 4);
    let items: HashMap<i64, String> = store
        .notice_states(w.batch.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, item, _)| (id, item))
        .collect();
    let item = |id: i64| items[&id].clone();
    s.market.remove_item(&item(confirmed[0]), Removal::NotFound);
    s.market
        .remove_item(&item(confirmed[1]), Removal::DelistedPage);
    s.market.remove_item(&item(confirmed[2]), Removal::NotFound);
    assert!(support::scan(store, &s.market).await.completed);
    s.market.restore_item(&item(confirmed[2]));
    assert!(support::scan(store, &s.market).await.completed);
    store
        .verify_notices(cccwatch::store::VerifyScope {
            platform: Some("demo"),
            today: month.last_day(),
            scan_id: None,
            absent_means_removed: false,
        })
        .await
        .unwrap();
    let states: HashMap<i64, String> = store
        .notice_states(w.batch.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _, st)| (id, st))
        .collect();
    assert_eq!(states[&confirmed[0]], "removed_verified");
    assert_eq!(states[&confirmed[1]], "removed_verified");
    assert_eq!(states[&confirmed[2]], "relisted");
    assert_eq!(states[&confirmed[3]], "overdue");

    let hostile = hostile_feed_listing(store, s).await;
    store
        .decide(hostile, &boss, &decision("confirm"), None, &check_allowed)
        .await
        .unwrap();
    let mut all_confirmed = confirmed.to_vec();
    all_confirmed.push(hostile);
    Done {
        month,
        scans: 3,
        confirmed: all_confirmed,
        removed: confirmed[..2].to_vec(),
        relisted: confirmed[2],
        overdue: confirmed[3],
        hostile,
    }
}

/// A socket without a certificate delivered by platform `feedshop`'s feed.
async fn hostile_feed_listing(store: &Store, s: &support::Seeded) -> i64 {
    let line = serde_json::json!({
        "platform": "feedshop", "item_id": "F-1", "url": "https://feedshop.example/item/F-1.html",
        "title": "公牛 BULL插座家用多功能延长线独立开关USB排插1.8米儿童保护门GN-B3840",
        "brand": "公牛 BULL", "model": "GN-B3840", "params": {"品牌": "公牛 BULL", "型号": "GN-B3840"},
        "seller": HOSTILE_SELLER, "price": "105.90", "category": "家装主材>电工电料>插座"
    });
    let path = s.dir.path().join("feed.jsonl");
    std::fs::write(&path, format!("{line}\n")).unwrap();
    let r = cccwatch::feed::ingest_file(store, &path, None, &Progress::hidden())
        .await
        .unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let ctx = MatchContext::load(store, &Settings::default())
        .await
        .unwrap();
    run_match(
        store,
        Arc::new(ctx),
        ListingFilter {
            platform: Some("feedshop".into()),
            ..Default::default()
        },
        chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
        64,
        &Progress::hidden(),
    )
    .await
    .unwrap();
    let rows = store
        .queue(
            &QueueParams {
                platform: Some("feedshop".into()),
                ..Default::default()
            }
            .parse(|_| None)
            .unwrap(),
        )
        .await
        .unwrap()
        .rows;
    assert_eq!(rows.len(), 1, "the feed listing is flagged");
    rows[0].listing_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monthly_report_counts_what_happened_and_the_ranking_weighs_it() {
    let s = support::seeded(120).await;
    let store = &s.store;
    let done = history(&s).await;
    assert_eq!(
        done.month.to_string(),
        "2026-11",
        "the seeded world's month"
    );
    let catalog = Catalog::embedded();
    let r = report::monthly_report(store, &catalog, &support::platforms(), done.month)
        .await
        .unwrap();
    assert_eq!(r.month, done.month.to_string());
    let platforms: Vec<&str> = r.platforms.iter().map(|p| p.platform.as_str()).collect();
    assert_eq!(platforms, ["demo", "feedshop"]);
    let labels: Vec<&str> = r.platforms.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        ["演示商城", "feedshop"],
        "Chinese names; a feed platform without a file keeps its own"
    );

    // Listings and findings, from the store's own counts.
    let demo = &r.platforms[0];
    let verdicts: HashMap<Verdict, i64> = store
        .verdict_counts(Some("demo"))
        .await
        .unwrap()
        .into_iter()
        .collect();
    let flagged: i64 = verdicts
        .iter()
        .filter(|(v, _)| v.is_flagged())
        .map(|(_, n)| n)
        .sum();
    assert_eq!(demo.scans, done.scans);
    assert_eq!(
        demo.checked,
        s.market.config().items as i64,
        "every listing was seen, the removed ones too"
    );
    assert_eq!(demo.unjudged, 0);
    assert_eq!(demo.flagged, flagged);
    assert_eq!(
        demo.newly_flagged, flagged,
        "everything was first judged this month"
    );
    for (k, v) in flagged_verdicts().iter().enumerate() {
        assert_eq!(
            demo.by_verdict[k],
            verdicts.get(v).copied().unwrap_or(0),
            "{v:?}"
        );
    }
    // Decisions: the last of the month per listing.
    assert_eq!((demo.confirmed, demo.dismissed), (4, 1));
    // Notices: one batch of four; two removed, one back online, one overdue.
    assert_eq!(
        (demo.batches, demo.noticed, demo.noticed_removed),
        (1, 4, 2)
    );
    assert_eq!(
        (demo.removed, demo.relisted, demo.overdue),
        (done.removed.len() as i64, 1, 1)
    );
    assert_eq!(demo.removal_rate, Some(0.5));
    assert!(
        demo.median_days_to_removal
            .is_some_and(|d| (0.0..1.0).contains(&d))
    );
    assert_eq!(demo.numbers.len(), 1);

    let feed = &r.platforms[1];
    assert_eq!(
        (feed.scans, feed.checked, feed.flagged, feed.confirmed),
        (0, 1, 1, 1)
    );
    let t = &r.total;
    assert_eq!(t.platform, TOTAL);
    assert_eq!(t.checked, demo.checked + 1);
    assert_eq!(t.flagged, flagged + 1);
    assert_eq!(t.confirmed as usize, done.confirmed.len());

    // Product groups: the dashboard's flagged findings by catalog code, grouped here.
    let mut groups: HashMap<String, i64> = HashMap::new();
    for (code, n) in store.dashboard(store.now()).await.unwrap().by_category {
        let g = code
            .as_deref()
            .and_then(|c| catalog.entry(c))
            .map_or("（未归类）".to_string(), |e| e.group.clone());
        *groups.entry(g).or_default() += n;
    }
    let got: HashMap<String, i64> = r
        .groups
        .iter()
        .map(|g| (g.group.clone(), g.total))
        .collect();
    assert_eq!(got, groups);

    // Last month: nothing.
    let before = report::monthly_report(
        store,
        &catalog,
        &support::platforms(),
        done.month.previous(),
    )
    .await
    .unwrap();
    assert!(before.platforms.is_empty());
    assert_eq!((before.total.checked, before.total.noticed), (0, 0));

    check_workbook(&r, &s).await;
    check_ranking(store, &done).await;
    check_pages(&s, &done).await;
}

fn text(d: &Data) -> String {
    d.to_string()
}

async fn check_workbook(r: &report::MonthlyReport, s: &support::Seeded) {
    let dir = s.dir.path().join("out");
    let path = report::write_monthly(r, &dir).unwrap();
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        format!("月报-{}.xlsx", r.month)
    );
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(book.sheet_names(), MONTHLY_SHEETS.to_vec());
    let rows = |book: &mut Xlsx<_>, name: &str| -> Vec<Vec<String>> {
        book.worksheet_range(name)
            .unwrap()
            .rows()
            .map(|r| r.iter().map(text).collect())
            .collect()
    };
    let summary = rows(&mut book, "汇总");
    assert_eq!(summary[0], SUMMARY_COLUMNS.to_vec());
    let demo = &r.platforms[0];
    assert_eq!(summary[1][0], "演示商城");
    assert_eq!(summary[1][2], demo.checked.to_string());
    assert_eq!(summary[1][3], demo.flagged.to_string());
    assert_eq!(summary[1][6], "4", "confirmed");
    assert_eq!(
        summary[1][13], "0.5",
        "removal rate, a number formatted as percent"
    );
    assert_eq!(summary[3][0], TOTAL);
    assert_eq!(summary[3][2], r.total.checked.to_string());

    let by_verdict = rows(&mut book, "发现问题");
    assert_eq!(by_verdict[0], ["判定", "演示商城", "feedshop", TOTAL]);
    let last = by_verdict.last().unwrap();
    assert_eq!(last[0], TOTAL);
    assert_eq!(last[3], r.total.flagged.to_string());
    assert_eq!(by_verdict.len(), flagged_verdicts().len() + 2);

    let groups = rows(&mut book, "产品类别");
    assert_eq!(groups[0][0], "产品大类");
    assert_eq!(groups[0].len(), flagged_verdicts().len() + 2);
    assert_eq!(groups.len(), r.groups.len() + 2);

    let notices = rows(&mut book, "通知与下架");
    assert_eq!(notices[0], NOTICE_COLUMNS.to_vec());
    assert_eq!(notices[1][2], demo.numbers[0]);
    assert_eq!(&notices[1][3..5], ["4", "2"]);
    assert_eq!(notices[1][8], "1", "overdue");
    assert_eq!(notices[1][9], "1", "relisted");

    let defs = rows(&mut book, "口径说明");
    assert_eq!(defs[0], ["指标", "定义"]);
    assert!(defs[1][1].contains(&r.month));
    for (k, v) in DEFINITIONS {
        assert!(defs.iter().any(|r| r[0] == k && r[1] == v), "{k}");
    }
}

async fn check_ranking(store: &Store, done: &Done) {
    // Expected scores from what was done: confirmed + 2 × overdue + 3 × relisted.
    let mut expected: HashMap<(String, Option<String>), (i64, i64)> = HashMap::new();
    for id in &done.confirmed {
        let l = store
            .finding_detail(*id)
            .await
            .unwrap()
            .unwrap()
            .listing
            .listing;
        let e = expected.entry((l.platform, l.seller)).or_default();
        e.0 +=
            1 + if *id == done.overdue { 2 } else { 0 } + if *id == done.relisted { 3 } else { 0 };
        e.1 += i64::from(*id == done.overdue || *id == done.relisted);
    }
    let labels = support::platforms();
    let ranked = report::seller_ranking(store, &labels, None, None)
        .await
        .unwrap();
    assert_eq!(ranked.len(), expected.len());
    for r in &ranked {
        let key = (r.platform.clone(), r.seller.clone());
        assert_eq!((r.score, r.under_notice), expected[&key], "{key:?}");
    }
    assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score));
    assert_eq!(ranked[0].rank, 1);
    let top = expected.values().map(|e| e.0).max().unwrap();
    assert_eq!(ranked[0].score, top);
    let hostile = ranked
        .iter()
        .find(|r| r.seller.as_deref() == Some(HOSTILE_SELLER))
        .unwrap();
    assert_eq!(
        (hostile.platform.as_str(), hostile.confirmed, hostile.score),
        ("feedshop", 1, 1)
    );
    let only = report::seller_ranking(store, &labels, Some("feedshop"), None)
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(
        report::seller_ranking(store, &labels, None, Some(1))
            .await
            .unwrap()
            .len(),
        1
    );
    // The file, read back.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sellers.xlsx");
    report::write_sellers(&ranked, &path).unwrap();
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let sheet = book.worksheet_range("商家风险排名").unwrap();
    let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(text).collect()).collect();
    assert_eq!(rows[0], cccwatch::report::sellers::COLUMNS.to_vec());
    assert_eq!(rows[1][7], ranked[0].score.to_string());
    for (row, r) in rows[1..].iter().zip(&ranked) {
        assert_eq!(
            row[1],
            labels.label(&r.platform),
            "platforms by their Chinese name"
        );
    }
    assert!(rows.iter().any(|r| r[1] == "演示商城"));
    assert!(rows.iter().any(|r| r[2] == HOSTILE_SELLER));
    let csv = dir.path().join("sellers.csv");
    report::write_sellers(&ranked, &csv).unwrap();
    assert!(
        std::fs::read(&csv)
            .unwrap()
            .starts_with(&[0xEF, 0xBB, 0xBF])
    );
    let err = report::write_sellers(&ranked, &dir.path().join("sellers.txt")).unwrap_err();
    assert!(err.to_string().contains("--out"), "{err}");
    let _ = done.hostile;
}

async fn check_pages(s: &support::Seeded, done: &Done) {
    let (base, _stop) = support::start(&s.store, &s.brands, support::web_settings()).await;
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = anonymous
        .get(format!("{base}/reports/monthly"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "login first");

    let c = login(&base, "zhao").await;
    let month = done.month.to_string();
    let r = report::monthly_report(
        &s.store,
        &Catalog::embedded(),
        &support::platforms(),
        done.month,
    )
    .await
    .unwrap();
    let resp = c
        .get(format!("{base}/reports/monthly?month={month}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    for needle in [
        format!("id=\"total-checked\">{}<", r.total.checked),
        format!("id=\"total-flagged\">{}<", r.total.flagged),
        format!("id=\"total-removed\">{}<", r.total.removed),
        "id=\"total-overdue\">1<".to_string(),
        "id=\"total-relisted\">1<".to_string(),
        format!("href=\"/reports/monthly.xlsx?month={month}\""),
        "口径说明".to_string(),
        "<svg".to_string(),
        "<th>演示商城</th>".to_string(),
        "href=\"/reports/monthly\" class=\"active\">报表<".to_string(),
    ] {
        assert!(html.contains(&needle), "the page has {needle}");
    }
    // The current month is the default.
    let html2 = c
        .get(format!("{base}/reports/monthly"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html2.contains(&format!("value=\"{month}\"")));
    let bad = c
        .get(format!("{base}/reports/monthly?month=2026-13"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("YYYY-MM"));

    // The workbook as an attachment.
    let resp = c
        .get(format!("{base}/reports/monthly.xlsx?month={month}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(disposition.contains(&format!("filename=\"report-{month}.xlsx\"")));
    assert!(disposition.contains("filename*=UTF-8''%E6%9C%88%E6%8A%A5-"));
    let bytes = resp.bytes().await.unwrap();
    let mut book = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(book.sheet_names(), MONTHLY_SHEETS.to_vec());
    let summary = book.worksheet_range("汇总").unwrap();
    assert_eq!(
        text(summary.get((1, 2)).unwrap()),
        r.platforms[0].checked.to_string()
    );

    // The ranking: hostile names as text, sellers linked to their findings.
    let resp = c
        .get(format!("{base}/reports/sellers"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script>alert"), "seller names are escaped");
    assert!(html.contains("&#60;script&#62;alert") || html.contains("&lt;script&gt;alert"));
    assert!(html.contains("href=\"/queue?seller="));
    assert!(
        html.contains("platform=feedshop&#38;state=all")
            || html.contains("platform=feedshop&amp;state=all")
    );
    let only = c
        .get(format!("{base}/reports/sellers?platform=feedshop&limit=5"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        only.matches("<td class=\"num\"><strong>").count(),
        1,
        "one seller of feedshop"
    );
    let bad = c
        .get(format!("{base}/reports/sellers?limit=0"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
