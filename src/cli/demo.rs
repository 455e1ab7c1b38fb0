//! `cccwatch demo`: the shipped sample data end to end in a scratch folder.

use super::App;
use cccwatch::certdb::import::{ImportOptions, import_file};
use cccwatch::config::Settings;
use cccwatch::export::{ExportFormat, export_findings};
use cccwatch::feed::ingest_file;
use cccwatch::matching::BrandTable;
use cccwatch::progress::Progress;
use cccwatch::store::Store;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

const SAMPLE_CERTS: &[u8] = include_bytes!("../../certdb/sample/certificates.csv");
const SAMPLE_UPDATE: &[u8] = include_bytes!("../../certdb/sample/certificates_update.csv");
const SAMPLE_FEED: &[u8] = include_bytes!("../../certdb/sample/platform_feed.jsonl");
const BRANDS: &[u8] = include_bytes!("../../certdb/brands.csv");

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  cccwatch demo --out cccwatch-demo\n\n\
Imports the sample certificate export (then a later GBK export that changes some\n\
statuses), the brand table and a sample platform feed into DIR/cccwatch.db, matches,\n\
and writes DIR/findings.xlsx and DIR/findings.csv (flagged findings only).\n\
The demo always uses its own database in DIR; --db is not used.")]
pub struct DemoArgs {
    /// Folder for the database and the exports.
    #[arg(long, default_value = "cccwatch-demo")]
    out: PathBuf,
    /// Date statuses are judged on (default today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<chrono::NaiveDate>,
}

pub async fn run(app: &App, a: DemoArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&a.out)?;
    let data = a.out.join("sample");
    std::fs::create_dir_all(&data)?;
    let files = [
        ("certificates.csv", SAMPLE_CERTS),
        ("certificates_update.csv", SAMPLE_UPDATE),
        ("platform_feed.jsonl", SAMPLE_FEED),
        ("brands.csv", BRANDS),
    ];
    for (name, bytes) in files {
        std::fs::write(data.join(name), bytes)?;
    }
    let db = a.out.join("cccwatch.db");
    let url = format!("sqlite://{}", db.display());
    let store = Store::open(&url).await?;
    println!("database: {}", db.display());

    let brands = BrandTable::read_csv(BRANDS)?;
    store.replace_brands(&brands).await?;
    println!("1. brand table: {} brands", brands.len());
    for name in ["certificates.csv", "certificates_update.csv"] {
        let r = import_file(
            &store,
            &data.join(name),
            &ImportOptions::default(),
            &Progress::hidden(),
        )
        .await?;
        println!(
            "2. certificates {name} ({}): {} rows, {} new, {} updated, {} status/expiry changes",
            r.encoding, r.rows, r.counts.inserted, r.counts.updated, r.counts.history
        );
    }
    let feed = ingest_file(
        &store,
        &data.join("platform_feed.jsonl"),
        Some("demo"),
        &Progress::hidden(),
    )
    .await?;
    println!(
        "3. platform feed: {} listings ({} lines skipped)",
        feed.counts.inserted + feed.counts.updated + feed.counts.unchanged,
        feed.errors.len()
    );
    let demo_app = App {
        settings: Settings {
            database: cccwatch::config::DatabaseSettings { url: url.clone() },
            ..app.settings.clone()
        },
        progress: app.progress,
    };
    let as_of = super::as_of_or_today(a.as_of);
    let report = super::match_cmd::match_all(&demo_app, &store, None, as_of).await?;
    println!("4. match:");
    super::match_cmd::print_report(&report);
    let xlsx = a.out.join("findings.xlsx");
    let csv = a.out.join("findings.csv");
    let n = export_findings(&store, &xlsx, ExportFormat::Xlsx, None, true).await?;
    export_findings(&store, &csv, ExportFormat::Csv, None, true).await?;
    println!(
        "5. {n} flagged findings written to {} and {}",
        xlsx.display(),
        csv.display()
    );
    println!(
        "\nNext: cccwatch --db {} certdb show <证书编号>; cccwatch --db {} findings export --format jsonl --out all.jsonl",
        url, url
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
