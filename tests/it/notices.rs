//! Takedown notice batches: the register's numbers, the folder a platform
//! receives (letter from an editable template, the list as XLSX read back,
//! CSV, JSON, the captured pages), its hash list, and that nothing is
//! noticed twice.

use crate::support;

use calamine::{Reader, Xlsx, open_workbook};
use cccwatch::clock::beijing_time;
use cccwatch::config::NoticeSettings;
use cccwatch::market::HOSTILE_TITLE_PREFIX;
use cccwatch::notice::list::ListTemplate;
use cccwatch::notice::{self, NoticeError};
use cccwatch::review::decision::{DecisionInput, check_allowed};
use cccwatch::review::queue::QueueParams;
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

/// `notices list` and `notices show` as an officer reads them: Chinese
/// headers and states, times in Beijing time (the seeded world starts at
/// 09:00 Beijing time, 01:00 UTC).
fn the_command_line_shows_the_batch_in_chinese(db: &str, number: &str) {
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_cccwatch"))
            .arg("--db")
            .arg(db)
            .args(args)
            .env_remove("CCCWATCH__DATABASE__URL")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            o.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        text
    };
    let list = run(&["notices", "list"]);
    for wanted in ["通知书编号", "已核实下架", "下架率", number] {
        assert!(list.contains(wanted), "{wanted}: {list}");
    }
    let show = run(&["notices", "show", number]);
    assert!(show.contains("（北京时间）由 boss 签发"), "{show}");
    assert!(
        show.contains("2026-11-18 09:"),
        "issued in Beijing time: {show}"
    );
    assert!(
        show.contains("已发出") && show.contains("商品编号"),
        "{show}"
    );
    assert!(!show.contains("T01:") && !show.contains("issued"), "{show}");
}

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
        store
            .decide(*id, &boss, &confirm, None, &check_allowed)
            .await
            .unwrap();
    }
    let dismissed = rows
        .iter()
        .map(|r| r.listing_id)
        .find(|id| !chosen.contains(id))
        .unwrap();
    store
        .decide(dismissed, &boss, &dismiss, None, &check_allowed)
        .await
        .unwrap();

    let out = tempfile::tempdir().unwrap();
    let settings = NoticeSettings {
        number_prefix: "梅县市监".into(),
        pdf_browser: "chromium".into(),
        ..support::notice_settings(out.path())
    };
    let platforms = support::platforms();
    let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let w = notice::issue(
        store,
        &settings,
        &platforms,
        "demo",
        day,
        "boss",
        out.path(),
    )
    .await
    .unwrap();
    assert_eq!(w.batch.number, "梅县市监CCC〔2026〕1号");
    assert_eq!(w.batch.listings, 3);
    assert_eq!(w.batch.deadline, "2026-12-09");
    the_command_line_shows_the_batch_in_chinese(&s.url, &w.batch.number);

    // The letter: number, platform, deadline, contact; listing text escaped.
    let letter = std::fs::read_to_string(w.folder.join("letter.html")).unwrap();
    for needle in [
        "梅县市监CCC〔2026〕1号",
        "2026年12月9日",
        "市场监管科 张三",
        "演示商城运营有限公司：",
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
    assert_eq!(table[0], ListTemplate::built_in().headers());
    assert_eq!(table.len(), 4);
    for id in &chosen {
        let d = store.finding_detail(*id).await.unwrap().unwrap();
        let row = table
            .iter()
            .find(|r| r[2] == d.listing.listing.item_id)
            .expect("listed");
        assert_eq!(row[5], d.listing.listing.title);
        let page = d.page.as_ref().unwrap();
        assert_eq!(row[14], page.sha256, "the evidence hash");
        assert_eq!(table[0][13], "页面取证时间（北京时间）");
        let beijing = chrono::DateTime::parse_from_rfc3339(&page.fetched_at)
            .unwrap()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
        assert_eq!(
            row[13],
            beijing.format("%Y-%m-%d %H:%M:%S").to_string(),
            "the capture time in Beijing time"
        );
        assert_eq!(row[1], "演示商城", "the platform by its Chinese name");
        let fetched = &d.page.as_ref().unwrap().fetched_at;
        assert_eq!(row[13], beijing_time(fetched), "captured at, Beijing time");
        assert!(
            letter.contains(&beijing_time(fetched)) && !letter.contains(fetched.as_str()),
            "the letter gives the capture time in Beijing time, not {fetched}"
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
    // The PDF letter, when Chromium is installed (CI installs it).
    let pdf = w.folder.join("letter.pdf");
    if w.pdf.is_none() {
        assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
        assert!(sums.contains("  letter.pdf\n"));
    } else {
        eprintln!("SKIPPED the PDF letter: {}", w.pdf.as_deref().unwrap_or(""));
        assert!(!pdf.exists());
    }
    assert_eq!(
        checked,
        1 + usize::from(w.pdf.is_none()) + 3 + 3 + 1,
        "letter (HTML, PDF), three lists, three pages, manifest"
    );
    // The zip beside the folder holds the same files under the folder's name.
    let (zip_path, zip_sha) = &w.zip;
    let zip_bytes = std::fs::read(zip_path).unwrap();
    assert_eq!(&hex::encode(Sha256::digest(&zip_bytes)), zip_sha);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
    let root = w.folder.file_name().unwrap().to_string_lossy().to_string();
    for line in sums.lines() {
        let (hash, name) = line.split_once("  ").unwrap();
        let mut f = zip.by_name(&format!("{root}/{name}")).unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            hash,
            "{name} in the zip"
        );
    }
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
    match notice::issue(
        store,
        &settings,
        &platforms,
        "demo",
        day,
        "boss",
        out.path(),
    )
    .await
    {
        Err(NoticeError::Nothing(p)) => assert_eq!(p, "demo"),
        other => panic!("expected nothing to notice, got {other:?}"),
    }
    let next = rows
        .iter()
        .map(|r| r.listing_id)
        .find(|id| !chosen.contains(id) && *id != dismissed)
        .unwrap();
    store
        .decide(next, &boss, &confirm, None, &check_allowed)
        .await
        .unwrap();
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
    let w2 = notice::issue(store, &edited, &platforms, "demo", day, "boss", out.path())
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
    store
        .decide(another, &boss, &confirm, None, &check_allowed)
        .await
        .unwrap();
    let err = notice::issue(store, &edited, &platforms, "demo", day, "boss", out.path())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("letter.html"), "{err}");
    assert_eq!(
        store.notice_batches(Some("demo")).await.unwrap().len(),
        2,
        "nothing issued"
    );
}

/// A letter that would print a placeholder (the generic bureau name, the
/// request to fill in the contact, no addressee for the platform) is
/// refused before a number is taken: no batch, no notice, no audit entry,
/// and the next good batch still gets number 1. A letter template that
/// does not print a setting does not need it. An unknown platform is named
/// with the known ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placeholders_and_unknown_platforms_are_refused_before_a_number_is_taken() {
    let s = support::seeded(60).await;
    let store = &s.store;
    confirm_flagged(&s, 2).await;
    let out = tempfile::tempdir().unwrap();
    let platforms = support::platforms();
    let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let shipped = NoticeSettings {
        templates_dir: out.path().join("none"),
        pdf_browser: String::new(),
        ..NoticeSettings::default()
    };
    let e = notice::issue(store, &shipped, &platforms, "demo", day, "boss", out.path())
        .await
        .unwrap_err();
    let NoticeError::Placeholders { found, .. } = &e else {
        panic!("expected placeholders, got {e}");
    };
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "notices.issuer",
            "notices.contact",
            "notices.platform_names.demo"
        ]
    );
    let text = e.to_string();
    assert!(
        text.contains("no number taken") && text.contains("cccwatch init"),
        "{text}"
    );
    assert!(text.contains("--platform-addressee demo=NAME"), "{text}");
    // Nothing stored: no batch, the findings still wait, no audit entry.
    assert!(store.notice_batches(None).await.unwrap().is_empty());
    assert_eq!(store.notice_candidates("demo").await.unwrap().len(), 2);
    let log = store.audit_page(None, None, 50).await.unwrap();
    assert!(log.entries.iter().all(|e| e.action != "notice.issue"));
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "no folder written"
    );

    // Only the addressee missing: still refused, and only it is named.
    let no_addressee = NoticeSettings {
        platform_names: Default::default(),
        ..support::notice_settings(out.path())
    };
    match notice::issue(
        store,
        &no_addressee,
        &platforms,
        "demo",
        day,
        "boss",
        out.path(),
    )
    .await
    {
        Err(NoticeError::Placeholders { found, .. }) => {
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].key, "notices.platform_names.demo");
        }
        other => panic!("expected the addressee to be asked for, got {other:?}"),
    }

    // An unknown platform: named, with the known ones; a case slip gets a hint.
    let e = notice::issue(
        store,
        &support::notice_settings(out.path()),
        &platforms,
        "JD",
        day,
        "boss",
        out.path(),
    )
    .await
    .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, NoticeError::UnknownPlatform { .. }), "{text}");
    assert!(text.contains("unknown platform `JD`"), "{text}");
    assert!(text.contains("did you mean `jd`"), "{text}");
    assert!(
        text.contains("demo（演示商城）") && text.contains("jd（京东）"),
        "{text}"
    );
    assert!(store.notice_batches(None).await.unwrap().is_empty());

    // A letter of the bureau's own that prints neither contact nor addressee.
    let templates = out.path().join("own");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("letter.html"),
        "<p>{{ issuer }} {{ number }}：{{ platform_name }} {{ count }} 条</p>",
    )
    .unwrap();
    let own = NoticeSettings {
        issuer: "梅县市场监督管理局".into(),
        templates_dir: templates,
        pdf_browser: String::new(),
        ..NoticeSettings::default()
    };
    let w = notice::issue(store, &own, &platforms, "demo", day, "boss", out.path())
        .await
        .unwrap();
    assert_eq!(
        w.batch.number, "市监CCC〔2026〕1号",
        "no number was used up"
    );
    assert_eq!(
        std::fs::read_to_string(w.folder.join("letter.html")).unwrap(),
        "<p>梅县市场监督管理局 市监CCC〔2026〕1号：演示商城 2 条</p>"
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

/// Confirms the first `n` flagged findings whose listing names a model,
/// and issues a batch on 2026-11-20 (deadline 2026-11-30).
async fn noticed(s: &support::Seeded, n: usize, out: &std::path::Path) -> notice::WrittenBatch {
    confirm_flagged(s, n).await;
    let settings = support::notice_settings(out);
    let issued = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    s.clock.set("2026-11-20T02:00:00Z".parse().unwrap());
    notice::issue(
        &s.store,
        &settings,
        &support::platforms(),
        "demo",
        issued,
        "boss",
        out,
    )
    .await
    .unwrap()
}

/// Confirms the first `n` flagged findings whose listing names a model and a seller.
async fn confirm_flagged(s: &support::Seeded, n: usize) {
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
    let mut chosen = 0;
    for r in &rows {
        let d = store.finding_detail(r.listing_id).await.unwrap().unwrap();
        let model = d.finding.as_ref().and_then(|f| f.model.clone());
        if model.is_none()
            || d.listing.listing.seller.is_none()
            || r.title.starts_with(HOSTILE_TITLE_PREFIX)
        {
            continue;
        }
        store
            .decide(r.listing_id, &boss, &confirm, None, &check_allowed)
            .await
            .unwrap();
        chosen += 1;
        if chosen == n {
            break;
        }
    }
    assert_eq!(chosen, n, "enough flagged listings with a model");
}

/// The bureau's own list layout (config/notices/list.toml): its headers,
/// order and sheet name are what the platform receives, and a reply under
/// those headers is read back. A broken layout stops the batch before a
/// number is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_layout_is_an_editable_file() {
    let s = support::seeded(80).await;
    let store = &s.store;
    confirm_flagged(&s, 2).await;
    let out = tempfile::tempdir().unwrap();
    let templates = out.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    let settings = NoticeSettings {
        templates_dir: templates.clone(),
        ..support::notice_settings(out.path())
    };
    let platforms = support::platforms();
    let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();

    // A typo in a key: named with its column and the file; nothing is issued.
    std::fs::write(
        templates.join("list.toml"),
        "[[column]]\nkey = \"item_id\"\n[[column]]\nkey = \"tilte\"\n",
    )
    .unwrap();
    let e = notice::issue(
        store,
        &settings,
        &platforms,
        "demo",
        day,
        "boss",
        out.path(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, NoticeError::List(_)), "{e}");
    let e = e.to_string();
    assert!(
        e.contains("list.toml") && e.contains("column[2].key") && e.contains("`tilte`"),
        "{e}"
    );
    assert!(store.notice_batches(None).await.unwrap().is_empty());

    std::fs::write(
        templates.join("list.toml"),
        r#"sheet_name = "请核查下架"
[[column]]
key = "title"
header = "商品名称"
wrap = true
[[column]]
key = "item_id"
header = "链接编码"
[[column]]
key = "problem"
header = "违规情形"
[[column]]
key = "reply_result"
header = "平台反馈"
"#,
    )
    .unwrap();
    let w = notice::issue(
        store,
        &settings,
        &platforms,
        "demo",
        day,
        "boss",
        out.path(),
    )
    .await
    .unwrap();
    assert_eq!(w.batch.number, "市监CCC〔2026〕1号", "the first number");
    let mut book: Xlsx<_> = open_workbook(w.folder.join("list.xlsx")).unwrap();
    let table: Vec<Vec<String>> = book
        .worksheet_range("请核查下架")
        .unwrap()
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(table[0], ["商品名称", "链接编码", "违规情形", "平台反馈"]);
    assert_eq!(table.len(), 3);
    let lines = store.notice_lines(w.batch.id).await.unwrap();
    for l in &lines {
        let row = table.iter().find(|r| r[1] == l.item_id).expect("listed");
        assert!(!row[0].is_empty() && !row[2].is_empty(), "{row:?}");
        assert!(row[3].is_empty(), "left for the platform");
    }
    let csv = std::fs::read(w.folder.join("list.csv")).unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    assert_eq!(
        csv_rows(&csv[3..])[0].iter().collect::<Vec<_>>(),
        ["商品名称", "链接编码", "违规情形", "平台反馈"]
    );

    // The platform fills in its column of the same file and sends it back.
    let reply = out.path().join("reply.csv");
    let text = format!(
        "商品名称,链接编码,违规情形,平台反馈\nx,{},y,已下架\n",
        lines[0].item_id
    );
    std::fs::write(&reply, text).unwrap();
    let list = ListTemplate::load(&templates).unwrap();
    let r = notice::reply::import(store, w.batch.id, &reply, &list, "reply.csv", "boss")
        .await
        .unwrap();
    assert_eq!(r.recorded, 1, "{:?}", r.problems);
    let lines = store.notice_lines(w.batch.id).await.unwrap();
    assert_eq!(lines[0].ack_text.as_deref(), Some("已下架"));
}

fn states(lines: &[cccwatch::store::NoticeLine]) -> Vec<&str> {
    lines.iter().map(|l| l.state.as_str()).collect()
}

/// The loop over the demo marketplace: scan → confirm → notice → the
/// platform replies, takes two listings down (404 and its 下架 page), puts
/// one of them back under a new ID and leaves one online → the next scan
/// verifies both removals with the pages that show them, sees the other
/// still online and flags the relist; after the deadline it is overdue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_scans_verify_removals_find_relists_and_list_what_is_overdue() {
    use cccwatch::market::Removal;
    let s = support::seeded(80).await;
    let store = &s.store;
    let out = tempfile::tempdir().unwrap();
    let w = noticed(&s, 3, out.path()).await;
    let lines = store.notice_lines(w.batch.id).await.unwrap();
    assert_eq!(states(&lines), ["issued"; 3]);
    let items: Vec<String> = lines.iter().map(|l| l.item_id.clone()).collect();

    // The platform returns the list with its results filled in for two rows (GBK CSV, as Excel writes it).
    let reply = out.path().join("平台回复.csv");
    let text = format!(
        "序号,平台商品编号,平台处理结果（由平台填写）,处理日期（由平台填写）\r\n1,{},已下架,2026/11/22\r\n2,{},已通知商家整改,\r\n3,{},,\r\n4,999999,已下架,2026-11-22\r\n",
        items[0], items[1], items[2]
    );
    std::fs::write(&reply, encoding_rs::GBK.encode(&text).0).unwrap();
    let list = ListTemplate::built_in();
    let r = notice::reply::import(store, w.batch.id, &reply, &list, "平台回复.csv", "boss")
        .await
        .unwrap();
    assert_eq!((r.recorded, r.blank), (2, 1));
    assert_eq!(r.problems.len(), 1);
    assert_eq!(
        (r.problems[0].line, r.problems[0].item_id.as_deref()),
        (5, Some("999999"))
    );
    let lines = store.notice_lines(w.batch.id).await.unwrap();
    assert_eq!(states(&lines), ["acknowledged", "acknowledged", "issued"]);
    assert_eq!(lines[0].ack_text.as_deref(), Some("已下架"));
    assert_eq!(lines[0].ack_at.as_deref(), Some("2026-11-22"));

    // Down: one 404, one 下架 page; the first comes back under a new ID from the same shop.
    s.market.remove_item(&items[0], Removal::NotFound);
    s.market.remove_item(&items[1], Removal::DelistedPage);
    let new_id = s.market.relist(&items[0]);
    s.clock.set("2026-11-28T02:00:00Z".parse().unwrap());
    let outcome = support::scan(store, &s.market).await;
    assert!(outcome.completed);
    let lines = store.notice_lines(w.batch.id).await.unwrap();
    assert_eq!(
        states(&lines),
        ["relisted", "removed_verified", "still_online"],
        "the scan (2026-11-28) is before the deadline"
    );
    // Removal evidence: the page that showed it, from this scan.
    let removed = &lines[1];
    assert_eq!(removed.verify_note.as_deref(), Some("page_gone"));
    assert_eq!(removed.verified_scan_id, Some(outcome.scan.id));
    let page = removed.evidence_page_id.expect("evidence page");
    let gz = store.page_body_gz(page).await.unwrap();
    let mut body = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut body).unwrap();
    assert!(body.contains("该商品已下架"));
    // The relist: named on the notice, and first in the queue's priority list.
    assert_eq!(lines[0].relists.len(), 1);
    assert_eq!(lines[0].relists[0].1, new_id);
    let steps = store.notice_steps(lines[0].listing_id).await.unwrap();
    let seen: Vec<&str> = steps.iter().map(|e| e.state.as_str()).collect();
    assert_eq!(seen, ["acknowledged", "removed_verified", "relisted"]);
    let relist = store
        .finding_detail(lines[0].relists[0].0)
        .await
        .unwrap()
        .unwrap();
    assert!(relist.priority >= cccwatch::store::RELIST_PRIORITY);
    assert!(
        relist
            .priority_note
            .as_deref()
            .unwrap_or("")
            .contains("重新上架")
    );

    // After the deadline the one still online is overdue; nothing else changes.
    let scope = cccwatch::store::VerifyScope {
        platform: Some("demo"),
        today: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        scan_id: None,
        absent_means_removed: false,
    };
    let c = notice::verify::follow_up(store, &s.brands, scope)
        .await
        .unwrap();
    assert_eq!(
        (c.removed, c.overdue, c.reinstated, c.relisted),
        (0, 1, 0, 0)
    );
    let lines = store.notice_lines(w.batch.id).await.unwrap();
    assert_eq!(states(&lines), ["relisted", "removed_verified", "overdue"]);
    let outcomes = store.notice_outcomes(Some("demo")).await.unwrap();
    let o = &outcomes[0];
    assert_eq!(
        (o.listings, o.removed, o.overdue, o.relisted, o.open),
        (3, 1, 1, 1, 0)
    );
    let perf = store.platform_performance().await.unwrap();
    assert_eq!(perf.len(), 1);
    assert_eq!(
        (perf[0].month.as_str(), perf[0].listings, perf[0].removed),
        ("2026-11", 3, 1)
    );
    let log = store
        .audit_page(None, Some("platform:demo"), 5)
        .await
        .unwrap();
    assert!(log.entries.iter().any(|e| e.action == "notice.verify"));
}

/// A platform whose items are not opened (result cards only): a listing
/// under notice that a complete scan no longer finds counts as removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_item_pages_absence_from_the_results_is_removal() {
    let s = support::seeded(60).await;
    let store = &s.store;
    let out = tempfile::tempdir().unwrap();
    let w = noticed(&s, 2, out.path()).await;
    let lines = store.notice_lines(w.batch.id).await.unwrap();
    // Search for a keyword none of the noticed listings match, reading cards only.
    let titles: Vec<String> = lines.iter().map(|l| l.title.clone()).collect();
    let keyword = ["积木", "电水壶", "吹风机", "插座", "玩具"]
        .into_iter()
        .find(|k| titles.iter().all(|t| !t.contains(k)))
        .unwrap();
    let outcome = support::scan_with(store, &s.market, vec![keyword.to_string()], false).await;
    assert!(outcome.completed);
    let lines = store.notice_lines(w.batch.id).await.unwrap();
    assert_eq!(states(&lines), ["removed_verified"; 2]);
    assert!(
        lines
            .iter()
            .all(|l| l.verify_note.as_deref() == Some("not_in_results")
                && l.evidence_page_id.is_none()
                && l.verified_scan_id == Some(outcome.scan.id))
    );

    // Seen again in a full scan that opens item pages: back online under the same ID.
    let outcome = support::scan(store, &s.market).await;
    assert!(outcome.completed);
    let lines = store.notice_lines(w.batch.id).await.unwrap();
    assert_eq!(states(&lines), ["relisted"; 2]);
    assert!(
        lines
            .iter()
            .all(|l| l.verify_note.as_deref() == Some("same_id_online"))
    );
}

/// A certificate export that revokes a certificate re-judges, without a
/// crawl, the listings matched to it: a compliant finding becomes revoked
/// and pending review.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoking_import_rejudges_listings_without_crawling() {
    use cccwatch::cert_import::{ImportOptions, import_file};
    let s = support::seeded(120).await;
    let store = &s.store;
    // Compliant findings are not in the queue: look through the listings.
    let mut target = None;
    for id in 1..=400 {
        let Some(d) = store.finding_detail(id).await.unwrap() else {
            continue;
        };
        if let Some(f) = &d.finding
            && f.verdict.as_str() == "compliant"
            && let Some(c) = &f.matched_cert
        {
            target = Some((id, c.clone()));
            break;
        }
    }
    let (listing, cert) = target.expect("a compliant listing matched to a certificate");
    // The same export row with the status 撤销.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("revoked.csv");
    support::write_cert_row(&cert, Some("撤销"), &path);
    let mark = store.cert_history_mark().await.unwrap();
    import_file(
        store,
        &path,
        &ImportOptions::default(),
        &cccwatch::progress::Progress::hidden(),
    )
    .await
    .unwrap();
    let changed = store.certs_changed_between(mark, i64::MAX).await.unwrap();
    assert_eq!(changed, vec![cert.clone()]);
    let settings = cccwatch::config::Settings::default();
    let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let report = cccwatch::pipeline::rejudge(
        store,
        &settings,
        &changed,
        day,
        &cccwatch::progress::Progress::hidden(),
    )
    .await
    .unwrap()
    .expect("listings cite it");
    assert!(report.listings >= 1);
    let d = store.finding_detail(listing).await.unwrap().unwrap();
    assert_eq!(d.finding.unwrap().verdict.as_str(), "revoked");
    assert_eq!(
        d.review_state.map(|r| r.as_str()),
        Some("pending"),
        "back in the queue"
    );
}

/// Complaints and failed samples raise the findings they name to the
/// queue's priority list; importing the same file twice adds nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complaints_and_failed_samples_raise_findings_in_the_queue() {
    use cccwatch::signals::{self, SignalKind};
    let s = support::seeded(80).await;
    let store = &s.store;
    let rows = store
        .queue(&QueueParams::default().parse(|_| None).unwrap())
        .await
        .unwrap()
        .rows;
    let target = rows.iter().find(|r| r.seller.is_some()).unwrap();
    let seller = target.seller.clone().unwrap();
    assert!(store.leads(None, 10).await.unwrap().is_empty());
    let dir = tempfile::tempdir().unwrap();
    let complaints = dir.path().join("12315投诉.csv");
    std::fs::write(
        &complaints,
        format!(
            "投诉登记表\n平台,店铺,品牌,型号,投诉日期,投诉内容\ndemo,{seller},,,2026-11-20,插座使用时发烫\n,,,,,\ndemo,,,,2026-11-21,没有可用信息\n"
        ),
    )
    .unwrap();
    let r = signals::import(
        store,
        &s.brands,
        &complaints,
        SignalKind::Complaint,
        None,
        "boss",
    )
    .await
    .unwrap();
    assert_eq!((r.imported, r.already, r.problems.len()), (1, 0, 1));
    assert_eq!(r.problems[0].line, 5);
    let leads = store.leads(Some("demo"), 50).await.unwrap();
    assert!(
        leads
            .iter()
            .any(|l| l.listing_id == target.listing_id && l.priority == 20)
    );
    assert!(
        leads
            .iter()
            .all(|l| l.note.as_deref().unwrap_or("").contains("消费者投诉"))
    );
    let again = signals::import(
        store,
        &s.brands,
        &complaints,
        SignalKind::Complaint,
        None,
        "boss",
    )
    .await
    .unwrap();
    assert_eq!((again.imported, again.already), (0, 1));
    // A failed sample of the same shop adds 50; a passed one nothing.
    let samples = dir.path().join("抽检.csv");
    std::fs::write(
        &samples,
        format!("店铺,抽检结果,不合格项目\n{seller},不合格,标志和说明\n{seller},合格,\n"),
    )
    .unwrap();
    let r = signals::import(
        store,
        &s.brands,
        &samples,
        SignalKind::Sampling,
        Some("demo"),
        "boss",
    )
    .await
    .unwrap();
    assert_eq!((r.imported, r.passed), (1, 1));
    let d = store
        .finding_detail(target.listing_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.priority, 70);
    // The next scan of the platform is seeded with what the signals name.
    let since = (store.now() - chrono::Duration::days(signals::ACTIVE_DAYS)).to_rfc3339();
    let (keywords, items) = store.signal_seeds("demo", &since).await.unwrap();
    assert!(
        keywords.is_empty() && items.is_empty(),
        "shops only: no brand + model, no item"
    );
}
