//! The labelled development set (tests/devset, written independently of the
//! matcher from the rules alone): flag precision and recall and exact
//! verdict accuracy must reach the targets.

use cccwatch::cert_import::{ImportOptions, import_file};
use cccwatch::config::Settings;
use cccwatch::export::{ExportFormat, export_findings};
use cccwatch::feed::ingest_file;
use cccwatch::matching::BrandTable;
use cccwatch::pipeline::{MatchContext, run_match};
use cccwatch::progress::Progress;
use cccwatch::store::Store;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn is_flagged(v: &str) -> bool {
    v != "compliant" && v != "not_in_scope"
}

#[tokio::test]
async fn devset_precision_recall_accuracy() {
    let dev = Path::new(ROOT).join("tests/devset");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("dev.db").display()))
        .await
        .unwrap();
    let brands = BrandTable::read_csv(
        std::fs::File::open(Path::new(ROOT).join("certdb/brands.csv")).unwrap(),
    )
    .unwrap();
    store.replace_brands(&brands).await.unwrap();
    let r = import_file(
        &store,
        &dev.join("certificates.csv"),
        &ImportOptions { strict: true },
        &Progress::hidden(),
    )
    .await
    .unwrap();
    assert!(r.rejected.is_empty());
    let f = ingest_file(
        &store,
        &dev.join("listings.jsonl"),
        Some("dev"),
        &Progress::hidden(),
    )
    .await
    .unwrap();
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    let ctx = MatchContext::load(&store, &Settings::default())
        .await
        .unwrap();
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    run_match(
        &store,
        Arc::new(ctx),
        Default::default(),
        as_of,
        500,
        &Progress::hidden(),
    )
    .await
    .unwrap();
    let out = dir.path().join("found.jsonl");
    export_findings(&store, &out, ExportFormat::Jsonl, None, false)
        .await
        .unwrap();
    let got: HashMap<String, serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["item_id"].as_str().unwrap().to_string(), v))
        .collect();

    let labels = std::fs::read_to_string(dev.join("labels.csv")).unwrap();
    let (mut tp, mut fp, mut fneg, mut exact, mut total) = (0, 0, 0, 0, 0);
    let mut wrong_by_trap: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in labels.lines().skip(1) {
        let p: Vec<&str> = line.split(',').collect();
        let (item, want, trap) = (p[0], p[1], p[2]);
        let g = &got[item];
        let have = g["verdict"].as_str().unwrap();
        total += 1;
        if have == want {
            exact += 1;
        } else {
            wrong_by_trap
                .entry(trap.to_string())
                .or_default()
                .push(format!("{item}: want {want}, got {have}: {}", g["reasons"]));
        }
        match (is_flagged(want), is_flagged(have)) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fneg += 1,
            _ => {}
        }
    }
    let precision = tp as f64 / (tp + fp) as f64;
    let recall = tp as f64 / (tp + fneg) as f64;
    let accuracy = exact as f64 / total as f64;
    println!(
        "devset: {total} listings, flag precision {precision:.4}, recall {recall:.4}, exact verdict accuracy {accuracy:.4}"
    );
    for (trap, items) in &wrong_by_trap {
        println!("  {trap}: {} wrong", items.len());
        for i in items.iter().take(3) {
            println!("    {i}");
        }
    }
    assert!(total >= 1000);
    assert!(precision >= 0.995, "flag precision {precision:.4}");
    assert!(recall >= 0.99, "flag recall {recall:.4}");
    assert!(accuracy >= 0.98, "verdict accuracy {accuracy:.4}");
}
