//! `cccwatch ingest`

use super::App;
use cccwatch::feed::ingest_file;
use cccwatch::progress::Progress;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  cccwatch ingest --platform demo certdb/sample/platform_feed.jsonl\n\n\
One JSON object a line: {\"platform\",\"item_id\",\"url\",\"title\",\"brand\",\"model\",\"params\":{label: value},\n\
\"description\",\"seller\",\"shop_url\",\"price\",\"category\"}; item_id and title are required.\n\
A bad line is reported with its number and skipped. A listing loaded again is updated\n\
(its previous content is kept as history), never duplicated."
)]
pub struct IngestArgs {
    /// Platform name for lines without a `platform` field.
    #[arg(long)]
    platform: Option<String>,
    /// JSON Lines files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub async fn run(app: &App, a: IngestArgs) -> anyhow::Result<ExitCode> {
    let store = app.judging_store().await?;
    let mut failed = 0;
    for file in &a.files {
        let progress = Progress::new(None, "lines", app.progress);
        progress.set_message(file.display().to_string());
        let result = ingest_file(&store, file, a.platform.as_deref(), &progress).await;
        progress.finish();
        match result {
            Ok(r) => {
                println!(
                    "{}: {} lines: {} new, {} updated, {} unchanged, {} skipped",
                    file.display(),
                    r.lines,
                    r.counts.inserted,
                    r.counts.updated,
                    r.counts.unchanged,
                    r.errors.len()
                );
                for e in r.errors.iter().take(20) {
                    println!("  skipped {}: {e}", file.display());
                }
                if r.errors.len() > 20 {
                    println!("  ... and {} more", r.errors.len() - 20);
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
