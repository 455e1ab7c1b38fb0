//! Takedown notice batches: the register's numbers, the folder a platform
//! receives (letter from an editable template, the list as XLSX read back,
//! CSV, JSON, the captured pages), its hash list, and that nothing is
//! noticed twice.

mod support;

use calamine::{Reader, Xlsx, open_workbook};
use cccwatch::config::NoticeSettings;
use cccwatch::market::HOSTILE_TITLE_PREFIX;
use cccwatch::notice::{self, COLUMNS, NoticeError};
use cccwatch::review::decision::DecisionInput;
use cccwatch::review::queue::QueueParams;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_lists_confirmed_findings_once_with_evidence_and_hashes() {
    let s = support::seeded(120).await;
    let store = &s.store;
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
    let confirm = DecisionInput {
        action: "confirm".into(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let dismiss = DecisionInput {
        action: "dismiss".into(),
        reason: Some("duplicate".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    // Three confirmed (the hostile listing among them when it is flagged), one dismissed.
    let mut chosen: Vec<i64> = rows
        .iter()
        .filter(|r| r.title.starts_with(HOSTILE_TITLE_PREFIX))
        .map(|r| r.listing_id)
        .take(1)
        .collect();
    let more: Vec<i64> = rows
        .iter()
        .map(|r| r.listing_id)
        .filter(|id| !chosen.contains(id))
        .take(3 - chosen.len())
        .collect();
    chosen.extend(more);
    for id in &chosen {
        store.decide(*id, &boss, &confirm, None).await.unwrap();
    }
    let dismissed = rows
        .iter()
        .map(|r| r.listing_id)
        .find(|id| !chosen.contains(id))
        .unwrap();
    store
        .decide(dismissed, &boss, &dismiss, None)
        .await
        .unwrap();

    let out = tempfile::tempdir().unwrap();
    let settings = NoticeSettings {
        issuer: "梅县市场监督管理局".into(),
        number_prefix: "梅县市监".into(),
        contact: "市场监管科 张三 0753-1234567".into(),
        templates_dir: out.path().join("no-templates-here"),
        ..NoticeSettings::default()
    };
    let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let w = notice::issue(store, &settings, "demo", day, "boss", out.path())
        .await
        .unwrap();
    assert_eq!(w.batch.number, "梅县市监CCC〔2026〕1号");
    assert_eq!(w.batch.listings, 3);
    assert_eq!(w.batch.deadline, "2026-12-09");

    // The letter: number, platform, deadline, contact; listing text escaped.
    let letter = std::fs::read_to_string(w.folder.join("letter.html")).unwrap();
    for needle in [
        "梅县市监CCC〔2026〕1号",
        "2026年12月9日",
        "市场监管科 张三",
        "电子商务法",
        "共 3 条",
    ] {
        assert!(letter.contains(needle), "letter has {needle}");
    }
    assert!(
        !letter.contains("<script>window.__pwned"),
        "listing text is escaped in the letter"
    );

    // The list read back from the XLSX: header, one row per listing, the evidence hash.
    let mut book: Xlsx<_> = open_workbook(w.folder.join("list.xlsx")).unwrap();
    let sheet = book.worksheet_range("商品清单").unwrap();
    let table: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(table[0], COLUMNS.to_vec());
    assert_eq!(table.len(), 4);
    for id in &chosen {
        let d = store.finding_detail(*id).await.unwrap().unwrap();
        let row = table
            .iter()
            .find(|r| r[2] == d.listing.listing.item_id)
            .expect("listed");
        assert_eq!(row[5], d.listing.listing.title);
        assert_eq!(
            row[14],
            d.page.as_ref().unwrap().sha256,
            "the evidence hash"
        );
        assert!(
            !row[11].is_empty() && !row[12].is_empty(),
            "problem and reasons"
        );
    }
    let dismissed_item = store
        .finding_detail(dismissed)
        .await
        .unwrap()
        .unwrap()
        .listing
        .listing
        .item_id;
    assert!(
        table.iter().all(|r| r[2] != dismissed_item),
        "dismissed findings are not noticed"
    );

    // The CSV opens in Excel (BOM) with the same rows; the JSON carries the batch.
    let csv = std::fs::read(w.folder.join("list.csv")).unwrap();
    assert!(csv.starts_with(&[0xEF, 0xBB, 0xBF]));
    assert_eq!(csv_rows(&csv[3..]).len(), 4);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.folder.join("list.json")).unwrap()).unwrap();
    assert_eq!(json["listings"].as_array().unwrap().len(), 3);

    // Evidence pages as fetched, and every file in SHA256SUMS matches.
    let evidence: Vec<_> = std::fs::read_dir(w.folder.join("evidence"))
        .unwrap()
        .collect();
    assert_eq!(evidence.len(), 3);
    let sums = std::fs::read_to_string(w.folder.join("SHA256SUMS")).unwrap();
    let mut checked = 0;
    for line in sums.lines() {
        let (hash, name) = line.split_once("  ").unwrap();
        let bytes = std::fs::read(w.folder.join(name)).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&bytes)), hash, "{name}");
        checked += 1;
    }
    assert_eq!(
        checked,
        1 + 3 + 3 + 1,
        "letter, three lists, three pages, manifest"
    );
    for (id, row) in chosen.iter().zip(0..) {
        let d = store.finding_detail(*id).await.unwrap().unwrap();
        let page = d.page.unwrap();
        let name = format!("evidence/{}-{}.html", d.listing.listing.item_id, page.id);
        assert!(
            sums.contains(&format!("{}  {name}", page.sha256)),
            "row {row}: the page file hashes to the captured SHA-256"
        );
    }

    // Nothing is noticed twice; a new confirmation goes into the next number.
    match notice::issue(store, &settings, "demo", day, "boss", out.path()).await {
        Err(NoticeError::Nothing(p)) => assert_eq!(p, "demo"),
        other => panic!("expected nothing to notice, got {other:?}"),
    }
    let next = rows
        .iter()
        .map(|r| r.listing_id)
        .find(|id| !chosen.contains(id) && *id != dismissed)
        .unwrap();
    store.decide(next, &boss, &confirm, None).await.unwrap();
    // The bureau edits the letter's wording: no rebuild needed.
    let templates = out.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("letter.html"),
        "<p>{{ issuer }} {{ number }} 请于{{ deadline }}前处理 {{ count }} 条</p>",
    )
    .unwrap();
    let edited = NoticeSettings {
        templates_dir: templates,
        ..settings.clone()
    };
    let w2 = notice::issue(store, &edited, "demo", day, "boss", out.path())
        .await
        .unwrap();
    assert_eq!(w2.batch.number, "梅县市监CCC〔2026〕2号");
    assert_eq!(
        std::fs::read_to_string(w2.folder.join("letter.html")).unwrap(),
        "<p>梅县市场监督管理局 梅县市监CCC〔2026〕2号 请于2026年12月9日前处理 1 条</p>"
    );
    let batches = store.notice_batches(Some("demo")).await.unwrap();
    assert_eq!(batches.len(), 2);
    assert!(batches.iter().all(|b| b.folder.is_some()));
    let log = store
        .audit_page(None, Some("notice:梅县市监CCC〔2026〕1号"), 5)
        .await
        .unwrap();
    assert_eq!(log.entries.len(), 1);
    assert_eq!(log.entries[0].action, "notice.issue");

    // A broken template is reported with its path, and nothing is issued.
    std::fs::write(edited.templates_dir.join("letter.html"), "{% for %}").unwrap();
    let another = rows
        .iter()
        .map(|r| r.listing_id)
        .find(|id| !chosen.contains(id) && *id != dismissed && *id != next)
        .unwrap();
    store.decide(another, &boss, &confirm, None).await.unwrap();
    let err = notice::issue(store, &edited, "demo", day, "boss", out.path())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("letter.html"), "{err}");
    assert_eq!(
        store.notice_batches(Some("demo")).await.unwrap().len(),
        2,
        "nothing issued"
    );
}

fn csv_rows(bytes: &[u8]) -> Vec<csv::StringRecord> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_scans_verify_removals_and_list_what_is_overdue() {
    use cccwatch::market::Removal;
    let s = support::seeded(80).await;
    let store = &s.store;
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
    let confirm = DecisionInput {
        action: "confirm".into(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    for r in rows.iter().take(3) {
        store
            .decide(r.listing_id, &boss, &confirm, None)
            .await
            .unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let settings = NoticeSettings {
        templates_dir: out.path().join("none"),
        ..NoticeSettings::default()
    };
    let issued = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let w = notice::issue(store, &settings, "demo", issued, "boss", out.path())
        .await
        .unwrap();
    let states = store.notice_states(w.batch.id).await.unwrap();
    assert!(states.iter().all(|(_, _, st)| st == "issued"));

    // The platform takes one listing down (404) and shows the 下架 page for another.
    s.market.remove_item(&states[0].1, Removal::NotFound);
    s.market.remove_item(&states[1].1, Removal::DelistedPage);
    let outcome = support::scan(store, &s.market).await;
    assert!(outcome.completed);
    let after: Vec<String> = store
        .notice_states(w.batch.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, st)| st)
        .collect();
    assert_eq!(
        after,
        ["removed_verified", "removed_verified", "issued"],
        "the scan (2026-11-28) is before the deadline"
    );

    // After the deadline (2026-11-30) the one still online is overdue; nothing else changes.
    let c = store
        .verify_notices(Some("demo"), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
        .await
        .unwrap();
    assert_eq!((c.removed, c.overdue, c.reinstated), (0, 1, 0));
    let after: Vec<String> = store
        .notice_states(w.batch.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, st)| st)
        .collect();
    assert_eq!(after, ["removed_verified", "removed_verified", "overdue"]);
    // Per batch: two of three removed, one overdue.
    let outcomes = store.notice_outcomes(Some("demo")).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    let o = &outcomes[0];
    assert_eq!(
        (o.listings, o.removed, o.overdue, o.relisted, o.open),
        (3, 2, 1, 0, 0)
    );
    assert!((o.removal_rate - 2.0 / 3.0).abs() < 1e-9);
    assert!(o.median_days_to_removal.is_some_and(|d| d >= 0.0));
    let log = store
        .audit_page(None, Some("platform:demo"), 5)
        .await
        .unwrap();
    assert!(log.entries.iter().any(|e| e.action == "notice.verify"));
}
