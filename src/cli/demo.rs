//! `cccwatch demo`: the built-in marketplace crawled end to end.

use super::App;
use super::scan_cmd::{print_outcome, runner};
use super::shutdown::stop_on_signal;
use cccwatch::cert_import::{ImportOptions, import_file};
use cccwatch::config::{DatabaseSettings, Settings};
use cccwatch::crawl::fetch::Fetcher;
use cccwatch::export::{ExportFormat, ExportRequest, write_findings};
use cccwatch::extract::{Adapter, PlatformConfig};
use cccwatch::market::{Market, MarketConfig};
use cccwatch::matching::BrandTable;
use cccwatch::progress::Progress;
use cccwatch::scan::{ScanPlan, start_scan};
use cccwatch::store::Store;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

const SAMPLE_CERTS: &[u8] = include_bytes!("../../certdb/sample/certificates.csv");
const SAMPLE_UPDATE: &[u8] = include_bytes!("../../certdb/sample/certificates_update.csv");
const BRANDS: &[u8] = include_bytes!("../../certdb/brands.csv");
/// The demo adapter, used when config/platforms/demo.toml is not at hand.
pub const DEMO_ADAPTER: &str = include_str!("../../config/platforms/demo.toml");

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  cccwatch demo --out cccwatch-demo\n\n\
Starts the built-in marketplace on 127.0.0.1 (a random port) with realistic listings of\n\
sockets, appliances and toys (UTF-8 and GBK pages, a robots.txt, some 429/503 answers and\n\
removed items), imports the sample certificate exports and the brand table into\n\
DIR/cccwatch.db, scans the marketplace politely, matches what it found, and writes the\n\
flagged findings to DIR/findings.xlsx and DIR/findings.csv.\n\
The demo always uses its own database in DIR; --db is not used.")]
pub struct DemoArgs {
    /// Folder for the database and the exports.
    #[arg(long, default_value = "cccwatch-demo")]
    out: PathBuf,
    /// Listings in the marketplace.
    #[arg(long, default_value_t = 2000)]
    items: usize,
    /// Date statuses are judged on (default today in Beijing, UTC+8).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<chrono::NaiveDate>,
}

pub async fn run(app: &App, a: DemoArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&a.out)?;
    let db = a.out.join("cccwatch.db");
    let url = format!("sqlite://{}", db.display());
    let store = Store::open(&url).await?;
    println!("database: {}", db.display());
    load_certificates(&store, &a.out).await?;

    let market = Market::start(MarketConfig {
        items: a.items,
        throttle_every: 397,
        unavailable_every: 601,
        ..MarketConfig::default()
    })
    .await?;
    println!(
        "3. demo marketplace: {} ({} listings)",
        market.base_url(),
        a.items
    );
    let adapter = Arc::new(
        demo_adapter(&app.settings.crawl.platforms_dir)?.with_base_url(&market.base_url())?,
    );
    let plan = ScanPlan {
        keywords: Vec::new(),
        max_pages: None,
        as_of: super::as_of_or_today(a.as_of),
    };
    let id = start_scan(&store, &adapter, &plan).await?;
    let label = adapter.config.label.clone();
    let settings = Settings {
        database: DatabaseSettings {
            url: url.as_str().into(),
        },
        ..app.settings.clone()
    };
    let demo_app = App {
        settings,
        sources: app.sources.clone(),
        progress: app.progress,
    };
    let fetcher = Arc::new(Fetcher::new(demo_app.settings.crawl.fetch_settings())?);
    let progress = Progress::new(Some(0), "pages", app.progress);
    progress.set_message(format!("4. scanning (scan {id})"));
    let outcome = runner(&demo_app, &store, fetcher)
        .run(adapter, id, stop_on_signal(), &progress)
        .await?;
    progress.finish();
    let requests = market.requests().len();
    market.shutdown().await;
    println!("4. scan finished; the marketplace saw {requests} requests");
    print_outcome(&outcome);
    if outcome.end != cccwatch::scan::outcome::ScanEnd::Completed {
        return Ok(ExitCode::from(outcome.end.exit_code()));
    }
    write_exports(&store, &a.out, &label).await?;
    println!(
        "\nNext:\n  cccwatch --db {url} findings export --format jsonl --out all.jsonl\n  \
         cccwatch --db {url} evidence show ITEM_ID --platform demo\n  \
         cccwatch --db {url} evidence export ITEM_ID --platform demo --out case/\n\n\
         Review the findings in a browser (the workspace of the market section):\n  \
         cccwatch --db {url} user add admin --role admin --name 系统管理员\n  \
         cccwatch --db {url} user add wangli --role reviewer --name 王丽\n  \
         cccwatch --db {url} serve        # then open http://127.0.0.1:8080/"
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// config/platforms/demo.toml when present (so edits show), else the built-in copy.
fn demo_adapter(dir: &Path) -> anyhow::Result<Adapter> {
    let path = dir.join("demo.toml");
    if path.exists() {
        return Ok(Adapter::from_file(&path)?);
    }
    let config = PlatformConfig::from_toml(DEMO_ADAPTER, Path::new("(built-in demo.toml)"))?;
    Ok(Adapter::new(config, Path::new("(built-in demo.toml)"))?)
}

async fn load_certificates(store: &Store, out: &Path) -> anyhow::Result<()> {
    let data = out.join("sample");
    std::fs::create_dir_all(&data)?;
    let brands = BrandTable::read_csv(BRANDS)?;
    store.replace_brands(&brands).await?;
    println!("1. brand table: {} brands", brands.len());
    for (name, bytes) in [
        ("certificates.csv", SAMPLE_CERTS),
        ("certificates_update.csv", SAMPLE_UPDATE),
    ] {
        let path = data.join(name);
        std::fs::write(&path, bytes)?;
        let r = import_file(store, &path, &ImportOptions::default(), &Progress::hidden()).await?;
        println!(
            "2. certificates {name} ({}): {} rows, {} new, {} updated, {} status/expiry changes",
            r.encoding, r.rows, r.counts.inserted, r.counts.updated, r.counts.history
        );
    }
    Ok(())
}

async fn write_exports(store: &Store, out: &Path, label: &str) -> anyhow::Result<()> {
    let xlsx = out.join("findings.xlsx");
    let csv = out.join("findings.csv");
    let catalog = cccwatch::certdb::Catalog::embedded();
    let labels = cccwatch::extract::PlatformLabels::from_pairs([("demo", label)]);
    let request = |format| ExportRequest {
        format,
        platform: Some("demo"),
        flagged_only: true,
        catalog: &catalog,
        labels: &labels,
    };
    let n = write_findings(store, &xlsx, &request(ExportFormat::Xlsx)).await?;
    write_findings(store, &csv, &request(ExportFormat::Csv)).await?;
    println!(
        "5. {n} flagged findings written to {} and {}",
        xlsx.display(),
        csv.display()
    );
    Ok(())
}
