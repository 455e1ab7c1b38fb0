//! Scan history and retention over the demo marketplace: a comparison of
//! two scans names exactly the listings that became flagged, were resolved
//! or went gone (checked against the listings' own states before and
//! after), and the certificates that changed in between; the 扫描记录 pages
//! show it with hostile titles as text; old page bodies are pruned except
//! the evidence that is still needed, and a dry run changes nothing.

use crate::support::{self, logged_in as login};

use cccwatch::config::RetentionSettings;
use cccwatch::domain::RunState;
use cccwatch::history::{self, HistoryError};
use cccwatch::market::{HOSTILE_TITLE_PREFIX, Removal};
use cccwatch::progress::Progress;
use cccwatch::review::decision::{DecisionInput, check_allowed};
use cccwatch::review::queue::QueueParams;
use cccwatch::store::{DiffListing, QueueRow, Store};
use chrono::NaiveDate;
use reqwest::StatusCode;
use std::collections::{BTreeMap, BTreeSet};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

/// (online, flagged) of every listing, by listing id, read from the listings themselves.
async fn states(store: &Store) -> BTreeMap<i64, (bool, bool)> {
    let n = store.count_listings(None).await.unwrap();
    let mut out = BTreeMap::new();
    for id in 1..=n + 10 {
        if let Some(d) = store.finding_detail(id).await.unwrap() {
            let flagged = d.finding.as_ref().is_some_and(|f| f.verdict.is_flagged());
            out.insert(id, (d.state == "online", flagged));
        }
    }
    out
}

async fn flagged_rows(store: &Store) -> Vec<QueueRow> {
    let params = QueueParams {
        per_page: Some("200".into()),
        ..Default::default()
    }
    .parse(|_| None)
    .unwrap();
    store.queue(&params).await.unwrap().rows
}

/// Confirms two flagged listings with a model and a seller, and one hostile
/// one, none matched to `avoid_cert`, and issues a notice batch for them;
/// returns their queue rows.
async fn notice_three(
    s: &support::Seeded,
    out: &std::path::Path,
    avoid_cert: Option<&str>,
) -> Vec<QueueRow> {
    let store = &s.store;
    let boss = store.user_by_name("boss").await.unwrap().unwrap().0;
    let confirm = DecisionInput {
        action: "confirm".into(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let mut plain = Vec::new();
    let mut hostile = None;
    for r in flagged_rows(store).await {
        let d = store.finding_detail(r.listing_id).await.unwrap().unwrap();
        let has_model = d.finding.as_ref().is_some_and(|f| f.model.is_some());
        let cert = d.finding.as_ref().and_then(|f| f.matched_cert.as_deref());
        if avoid_cert.is_some() && cert == avoid_cert {
            continue;
        }
        if r.title.starts_with(HOSTILE_TITLE_PREFIX) {
            if hostile.is_none() {
                hostile = Some(r);
            }
        } else if has_model && d.listing.listing.seller.is_some() && plain.len() < 2 {
            plain.push(r);
        }
    }
    plain.push(hostile.expect("a hostile flagged listing"));
    assert_eq!(plain.len(), 3);
    for r in &plain {
        store
            .decide(r.listing_id, &boss, &confirm, None, &check_allowed)
            .await
            .unwrap();
    }
    let settings = support::notice_settings(out);
    let issued = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    cccwatch::notice::issue(
        store,
        &settings,
        &support::platforms(),
        "demo",
        issued,
        "boss",
        out,
    )
    .await
    .unwrap();
    plain
}

/// The export row of `cert` from the sample file, with its status replaced
/// when given, written as a one-row CSV; imported and the listings citing it re-judged.
async fn import_row(store: &Store, cert: &str, status: Option<&str>, dir: &std::path::Path) {
    let path = dir.join(format!("{cert}.csv"));
    support::write_cert_row(cert, status, &path);
    let mark = store.cert_history_mark().await.unwrap();
    cccwatch::cert_import::import_file(
        store,
        &path,
        &cccwatch::cert_import::ImportOptions::default(),
        &Progress::hidden(),
    )
    .await
    .unwrap();
    let changed = store.certs_changed_between(mark, i64::MAX).await.unwrap();
    assert_eq!(changed, vec![cert.to_string()], "the import changed {cert}");
    cccwatch::pipeline::rejudge(
        store,
        &cccwatch::config::Settings::default(),
        &changed,
        day(),
        &Progress::hidden(),
    )
    .await
    .unwrap();
}

/// Whether `cert` is valid until after 2026 in the sample export.
fn valid_in_sample(cert: &str) -> bool {
    sample_row(cert).is_some_and(|r| {
        r[1] == *"有效" && r[9].get(..4).and_then(|y| y.parse::<i32>().ok()) > Some(2026)
    })
}

/// The cells of `cert`'s row in the sample export.
fn sample_row(cert: &str) -> Option<Vec<String>> {
    let raw = std::fs::read(support::root().join("certdb/sample/certificates.csv")).unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let row = text.lines().find(|l| l.starts_with(&format!("{cert},")))?;
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(row.as_bytes())
        .records()
        .next()?
        .ok()
        .map(|r| r.iter().map(str::to_string).collect())
}

/// A listing matched to a certificate with `verdict`, not among `skip`: (listing, cert).
async fn matched_with(
    store: &Store,
    verdicts: &[&str],
    skip: &BTreeSet<i64>,
    cert_ok: impl Fn(&str) -> bool,
) -> Option<(i64, String)> {
    for id in 1..=store.count_listings(None).await.unwrap() {
        if skip.contains(&id) {
            continue;
        }
        let Some(d) = store.finding_detail(id).await.unwrap() else {
            continue;
        };
        if let Some(f) = &d.finding
            && verdicts.contains(&f.verdict.as_str())
            && let Some(c) = &f.matched_cert
            && cert_ok(c)
        {
            return Some((id, c.clone()));
        }
    }
    None
}

fn ids(list: &[DiffListing]) -> BTreeSet<i64> {
    list.iter().map(|l| l.listing_id).collect()
}

async fn get(c: &reqwest::Client, url: String) -> (StatusCode, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_diff_names_exactly_what_became_flagged_resolved_and_gone() {
    let s = support::seeded(80).await;
    let store = &s.store;
    let a = store.scans(Some("demo"), 1).await.unwrap()[0].clone();
    assert_eq!(
        (a.state, a.snapshot.as_deref()),
        (RunState::Completed, Some("kept"))
    );
    let out = tempfile::tempdir().unwrap();
    // Chosen before the notices, which then leave its certificate alone:
    // a listing flagged by a status change of a certificate valid in the
    // first export, to be restored between the scans (whatever order the
    // backend's queue puts the flagged listings in).
    let mut hostile = BTreeSet::new();
    let mut hostile_certs = Vec::new();
    for r in flagged_rows(store).await {
        if r.title.starts_with(HOSTILE_TITLE_PREFIX) {
            let d = store.finding_detail(r.listing_id).await.unwrap().unwrap();
            hostile_certs.push(d.finding.and_then(|f| f.matched_cert));
            hostile.insert(r.listing_id);
        }
    }
    let (restored, restored_cert) = matched_with(
        store,
        &["suspended", "revoked", "cancelled"],
        &hostile,
        |c| {
            // A hostile flagged listing must be left for the notices.
            valid_in_sample(c) && hostile_certs.iter().any(|h| h.as_deref() != Some(c))
        },
    )
    .await
    .expect("a listing flagged by a status change of a certificate valid in the first export");
    let noticed = notice_three(&s, out.path(), Some(&restored_cert)).await;
    let before = states(store).await;

    // Between the scans: a certificate is revoked (a compliant listing
    // becomes flagged), one is valid again (a flagged listing is resolved),
    // two noticed listings and the hostile one are taken down, one comes back
    // under a new ID.
    let skip: BTreeSet<i64> = noticed.iter().map(|r| r.listing_id).collect();
    // The certificates the noticed listings matched stay as they are: the
    // relist of one must be flagged again.
    let mut noticed_certs = BTreeSet::new();
    for id in &skip {
        let d = store.finding_detail(*id).await.unwrap().unwrap();
        noticed_certs.extend(d.finding.and_then(|f| f.matched_cert));
    }
    let (revoked, revoked_cert) = matched_with(store, &["compliant"], &skip, |c| {
        c != restored_cert && !noticed_certs.contains(c)
    })
    .await
    .expect("a compliant listing matched to a certificate");
    import_row(store, &revoked_cert, Some("撤销"), out.path()).await;
    import_row(store, &restored_cert, None, out.path()).await;
    let items: Vec<String> = noticed.iter().map(|r| r.item_id.clone()).collect();
    s.market.remove_item(&items[0], Removal::NotFound);
    s.market.remove_item(&items[1], Removal::DelistedPage);
    s.market.remove_item(&items[2], Removal::Gone);
    let new_item = s.market.relist(&items[0]);
    let outcome = support::scan(store, &s.market).await;
    assert!(outcome.completed);
    let b = outcome.scan.id;
    let after = states(store).await;

    let d = history::diff(store, a.id, b).await.unwrap();
    assert!(!d.swapped);
    assert_eq!((d.from.id, d.to.id, d.platform.as_str()), (a.id, b, "demo"));
    // What the listings themselves say: flagged and online before / after.
    let flagged = |m: &BTreeMap<i64, (bool, bool)>, id: &i64| {
        m.get(id)
            .is_some_and(|(online, flagged)| *online && *flagged)
    };
    let all: BTreeSet<i64> = before.keys().chain(after.keys()).copied().collect();
    let want_new: BTreeSet<i64> = all
        .iter()
        .filter(|id| flagged(&after, id) && !flagged(&before, id))
        .copied()
        .collect();
    let want_resolved: BTreeSet<i64> = all
        .iter()
        .filter(|id| flagged(&before, id) && !flagged(&after, id))
        .copied()
        .collect();
    let want_gone: BTreeSet<i64> = all
        .iter()
        .filter(|id| before.get(id).is_some_and(|s| s.0) && after.get(id).is_some_and(|s| !s.0))
        .copied()
        .collect();
    assert_eq!(ids(&d.lists.new_flagged.entries), want_new);
    assert_eq!(ids(&d.lists.resolved.entries), want_resolved);
    assert_eq!(ids(&d.lists.gone.entries), want_gone);
    // ... and what was done between the scans.
    assert_eq!(want_gone, skip, "the three taken down");
    assert!(
        want_new.contains(&revoked),
        "the revoked certificate's listing"
    );
    assert!(
        want_resolved.contains(&restored),
        "the restored certificate's listing"
    );
    assert!(skip.iter().all(|id| want_resolved.contains(id)));
    let relisted = d
        .lists
        .new_flagged
        .entries
        .iter()
        .find(|l| l.item_id == new_item)
        .expect("the relist is newly flagged");
    assert_eq!(relisted.verdict_before, None);
    assert!(relisted.new_listing);
    assert_eq!(history::before_zh(relisted), "新商品");
    let revoked_row = d
        .lists
        .new_flagged
        .entries
        .iter()
        .find(|l| l.listing_id == revoked)
        .unwrap();
    assert_eq!(
        (
            revoked_row.verdict_after.as_deref(),
            revoked_row.new_listing
        ),
        (Some("revoked"), false)
    );
    let r = d
        .lists
        .resolved
        .entries
        .iter()
        .find(|l| l.listing_id == restored)
        .unwrap();
    assert_eq!(r.verdict_after.as_deref(), Some("compliant"));
    assert!(history::resolution_zh(r).contains("合规"));
    assert!(
        d.lists
            .resolved
            .entries
            .iter()
            .filter(|l| skip.contains(&l.listing_id))
            .all(|l| l.state_after == "gone")
    );
    let certs: BTreeSet<&str> = d
        .lists
        .certificates
        .entries
        .iter()
        .filter(|c| c.field == "status")
        .map(|c| c.cert_no.as_str())
        .collect();
    assert_eq!(
        certs,
        BTreeSet::from([revoked_cert.as_str(), restored_cert.as_str()])
    );
    assert!(
        d.lists
            .certificates
            .entries
            .iter()
            .all(|c| c.listings >= 1 && !c.examples.is_empty())
    );
    assert_eq!(
        d.flagged_after - d.flagged_before,
        want_new.len() as i64 - want_resolved.len() as i64
    );

    // Given later first: the same comparison. `show` compares with the previous scan.
    let swapped = history::diff(store, b, a.id).await.unwrap();
    assert!(swapped.swapped);
    assert_eq!(ids(&swapped.lists.gone.entries), want_gone);
    let shown = history::show(store, b).await.unwrap();
    let prev = shown.previous.expect("compared with the previous scan");
    assert_eq!(prev.from.id, a.id);
    assert_eq!(ids(&prev.lists.new_flagged.entries), want_new);
    let json = serde_json::to_value(&prev).unwrap();
    assert!(json["new_flagged"]["entries"].is_array() && json["judged"].is_array());

    // Clear errors: unknown scans, one scan twice, scans of two platforms, unrecorded scans.
    assert!(matches!(
        history::diff(store, a.id, 999).await,
        Err(HistoryError::NoSuchScan(999))
    ));
    assert!(matches!(
        history::diff(store, b, b).await,
        Err(HistoryError::SameScan(_))
    ));
    let other = store
        .create_scan("other", day(), &["插座".to_string()], 1, &[])
        .await
        .unwrap();
    let err = history::diff(store, a.id, other)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&a.id.to_string())
            && err.contains(&other.to_string())
            && err.contains("other"),
        "{err}"
    );
    let running = store
        .create_scan("demo", day(), &["插座".to_string()], 1, &[])
        .await
        .unwrap();
    let err = history::diff(store, a.id, running).await.unwrap_err();
    assert!(err.to_string().contains("did not complete"), "{err}");
    let shown = history::show(store, running).await.unwrap();
    assert!(shown.previous.is_none() && shown.note.unwrap().contains("did not complete"));
    // A scan that could not reach its platform ends failed, with why.
    let why = "平台无法访问：3 个页面全部失败。失败原因：连接被拒绝 127.0.0.1:1：3 个页面 <b>x</b>";
    store
        .finish_scan(running, RunState::Failed, Some(why))
        .await
        .unwrap();

    // The pages, for every role; listing text escaped.
    let (base, _stop) = support::start(store, &s.brands, support::web_settings()).await;
    for user in ["admin", "boss", "wang", "zhao"] {
        let c = login(&base, user).await;
        let (status, list) = get(&c, format!("{base}/scans")).await;
        assert_eq!(status, StatusCode::OK, "{user} /scans");
        assert!(list.contains("扫描记录") && list.contains(&format!("/scans/{b}")));
        assert!(list.contains("<svg"), "the chart across scans");
        assert!(
            list.contains("失败") && list.contains("连接被拒绝 127.0.0.1:1"),
            "a failed scan says so on the list"
        );
        assert!(!list.contains("<b>x</b>"), "the note is escaped");
        let (status, page) = get(&c, format!("{base}/scans/{b}")).await;
        assert_eq!(status, StatusCode::OK, "{user} /scans/{b}");
        for id in &want_gone {
            assert!(
                page.contains(&format!("/listings/{id}\"")),
                "gone {id} linked"
            );
        }
        assert!(page.contains(&new_item) && page.contains(&revoked_cert));
        assert!(
            !page.contains("<script>window.__pwned"),
            "hostile title as text"
        );
        assert!(page.contains("&lt;script&gt;window.__pwned") || page.contains("&#60;script"));
        let (status, page) = get(&c, format!("{base}/scans/{}/diff/{b}", a.id)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&restored_cert) && !page.contains("<img src=x"));
    }
    let c = login(&base, "zhao").await;
    let r = c
        .get(format!("{base}/scans/diff?a={}&b={b}", a.id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("/scans/{}/diff/{b}", a.id));
    assert_eq!(
        get(&c, format!("{base}/scans/999")).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, page) = get(&c, format!("{base}/scans/{}/diff/{other}", a.id)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("不属于同一平台"));
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    assert_eq!(
        get(&anon, format!("{base}/scans")).await.0,
        StatusCode::SEE_OTHER
    );

    // The command line on the same database.
    let db = s.url.clone();
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_cccwatch"))
            .args(["--db", &db])
            .args(args)
            .current_dir(s.dir.path())
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).to_string(),
            text,
        )
    };
    for c in [
        &["scans", "list"][..],
        &["scans", "show"],
        &["scans", "diff"],
        &["prune"],
    ] {
        let (ok, _, text) = run(&[c, &["--help"]].concat());
        assert!(ok && text.contains("Example"), "{c:?}: {text}");
    }
    let (ok, out, text) = run(&["scans", "list", "--platform", "demo", "--json"]);
    assert!(ok, "{text}");
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    let listed: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert!(listed.contains(&a.id) && listed.contains(&b) && !listed.contains(&other));
    let (ok, out, text) = run(&["scans", "diff", &a.id.to_string(), &b.to_string(), "--json"]);
    assert!(ok, "{text}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["gone"]["total"], want_gone.len() as i64);
    assert_eq!(json["new_flagged"]["total"], want_new.len() as i64);
    let (ok, out, _) = run(&["scans", "show", &b.to_string()]);
    assert!(
        ok && out.contains("new flagged") && out.contains(&new_item),
        "{out}"
    );
    let (ok, _, text) = run(&["scans", "diff", &a.id.to_string(), "999"]);
    assert!(!ok && text.contains("scan 999 does not exist"), "{text}");
    let (ok, _, text) = run(&["scans", "diff", &a.id.to_string(), &other.to_string()]);
    assert!(!ok && text.contains("different platforms"), "{text}");
    let (ok, out, text) = run(&["prune", "--dry-run", "--json"]);
    assert!(ok, "{text}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (report["dry_run"].as_bool(), report["pages_pruned"].as_i64()),
        (Some(true), Some(0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_keeps_the_evidence_still_needed_and_a_dry_run_changes_nothing() {
    let s = support::seeded(60).await;
    let store = &s.store;
    let out = tempfile::tempdir().unwrap();
    let noticed = notice_three(&s, out.path(), None).await;
    // A second scan: every listing gets a newer page; the first scan's pages become old.
    let second = support::scan(store, &s.market).await;
    assert!(second.completed);
    let first = store.scans(Some("demo"), 2).await.unwrap()[1].clone();

    // Which pages should survive, from the listings: every page of a flagged,
    // decided or noticed listing, and the latest page of every listing.
    let mut keep_items = BTreeSet::new();
    let mut latest = BTreeSet::new();
    let mut pages_of_first = Vec::new();
    for id in 1..=store.count_listings(None).await.unwrap() {
        let d = store.finding_detail(id).await.unwrap().unwrap();
        if let Some(p) = &d.page {
            latest.insert(p.id);
        }
        let flagged = d.finding.as_ref().is_some_and(|f| f.verdict.is_flagged());
        if flagged || noticed.iter().any(|n| n.listing_id == id) {
            keep_items.insert(d.listing.listing.item_id.clone());
        }
        for p in store
            .item_pages(Some("demo"), &d.listing.listing.item_id)
            .await
            .unwrap()
        {
            if p.scan_id == first.id {
                pages_of_first.push((p.id, d.listing.listing.item_id.clone()));
            }
        }
    }
    assert!(!pages_of_first.is_empty());

    // A cutoff between the scans: pages of the first scan are "old".
    let settings = RetentionSettings {
        pages_days: 1,
        scan_history_days: 0,
        frontier_days: 1,
        batch_size: 7,
    };
    // A cutoff (now - 1 day) at the second scan's start.
    let now = chrono::DateTime::parse_from_rfc3339(&second.scan.started_at)
        .unwrap()
        .with_timezone(&chrono::Utc)
        + chrono::Duration::days(1);

    let dry = cccwatch::retention::dry_run(store, &settings, now)
        .await
        .unwrap();
    assert!(dry.dry_run && dry.pages_pruned > 0 && dry.bytes_freed > 0);
    assert!(dry.frontier_rows_deleted > 0);
    for (page, _) in &pages_of_first {
        assert_eq!(store.page_pruned_at(*page).await.unwrap(), None, "dry run");
    }
    assert!(store.frontier_counts(first.id).await.unwrap().total() > 0);

    let r = cccwatch::retention::prune(store, &settings, now)
        .await
        .unwrap();
    assert_eq!(
        (r.pages_pruned, r.bytes_freed, r.frontier_rows_deleted),
        (dry.pages_pruned, dry.bytes_freed, dry.frontier_rows_deleted),
        "the dry run said what the prune did"
    );
    assert!(r.pages_kept > 0);
    let mut pruned = 0;
    for (page, item) in &pages_of_first {
        let gone = store.page_pruned_at(*page).await.unwrap().is_some();
        let needed = keep_items.contains(item) || latest.contains(page);
        assert_eq!(gone, !needed, "page {page} of item {item}");
        if needed {
            assert!(!store.page_body_gz(*page).await.unwrap().is_empty());
        } else {
            pruned += 1;
            assert!(store.page_body_gz(*page).await.unwrap().is_empty());
            // The record stays.
            assert!(store.page_meta(*page).await.unwrap().is_some());
        }
    }
    assert!(pruned > 0);
    assert_eq!(store.frontier_counts(first.id).await.unwrap().total(), 0);
    // Again: nothing left to do.
    let again = cccwatch::retention::prune(store, &settings, now)
        .await
        .unwrap();
    assert_eq!((again.pages_pruned, again.frontier_rows_deleted), (0, 0));

    // The evidence page says so; the raw download is gone; kept pages still show.
    let (pruned_page, _) = pages_of_first
        .iter()
        .find(|(p, i)| !keep_items.contains(i) && !latest.contains(p))
        .unwrap();
    let kept = noticed[0].listing_id;
    let kept_page = store
        .finding_detail(kept)
        .await
        .unwrap()
        .unwrap()
        .page
        .unwrap()
        .id;
    let (base, _stop) = support::start(store, &s.brands, support::web_settings()).await;
    let c = login(&base, "zhao").await;
    let (status, body) = get(&c, format!("{base}/evidence/{pruned_page}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("已按保存期限清理"), "{body}");
    assert_eq!(
        get(&c, format!("{base}/evidence/{pruned_page}/raw"))
            .await
            .0,
        StatusCode::GONE
    );
    let (status, body) = get(&c, format!("{base}/evidence/{kept_page}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("已按保存期限清理"));

    // Scan history: the latest recorded scan of a platform is always kept.
    let hist = RetentionSettings {
        pages_days: 0,
        scan_history_days: 1,
        frontier_days: 0,
        batch_size: 5,
    };
    let far = chrono::Utc::now() + chrono::Duration::days(30);
    let r = cccwatch::retention::prune(store, &hist, far).await.unwrap();
    assert_eq!(r.scans_pruned, 1);
    assert!(r.scan_rows_deleted > 0);
    let first = store.scan(first.id).await.unwrap().unwrap();
    assert_eq!(first.snapshot.as_deref(), Some("pruned"));
    let err = history::diff(store, first.id, second.scan.id)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("retention"), "{err}");
    assert!(
        history::show(store, second.scan.id)
            .await
            .unwrap()
            .previous
            .is_none()
    );
}

/// A scan that crawled to the end with a few failed pages is over: its
/// frontier is pruned like a completed one's; an interrupted scan keeps its
/// frontier for `--resume`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frontiers_of_scans_completed_with_errors_are_pruned_and_interrupted_ones_kept() {
    let s = support::seeded(20).await;
    let store = &s.store;
    let with_errors = store.scans(Some("demo"), 1).await.unwrap()[0].clone();
    let second = support::scan(store, &s.market).await;
    assert!(second.completed);
    store
        .finish_scan(
            with_errors.id,
            RunState::CompletedWithErrors,
            Some("1 页失败"),
        )
        .await
        .unwrap();
    store
        .finish_scan(second.scan.id, RunState::Interrupted, None)
        .await
        .unwrap();
    assert!(store.frontier_counts(with_errors.id).await.unwrap().total() > 0);
    let kept = store.frontier_counts(second.scan.id).await.unwrap().total();
    assert!(kept > 0);
    let settings = RetentionSettings {
        pages_days: 10_000,
        scan_history_days: 0,
        frontier_days: 1,
        batch_size: 50,
    };
    let later = store.now() + chrono::Duration::days(3);
    let r = cccwatch::retention::prune(store, &settings, later)
        .await
        .unwrap();
    assert!(r.frontier_rows_deleted > 0);
    assert_eq!(
        store.frontier_counts(with_errors.id).await.unwrap().total(),
        0
    );
    assert_eq!(
        store.frontier_counts(second.scan.id).await.unwrap().total(),
        kept,
        "an interrupted scan keeps its frontier"
    );
}
