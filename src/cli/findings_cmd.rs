//! `cccwatch findings ...`

use super::App;
use cccwatch::export::{ExportFormat, export_findings};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// Export one row per listing with its verdict and reasons.
    #[command(
        after_help = "Examples:\n  cccwatch findings export --format xlsx --out findings.xlsx --flagged-only\n  cccwatch findings export --format csv --out findings.csv --platform demo\n\n\
Columns: platform, item_id, url, title, brand, model, cert_numbers, category_code, verdict,\n\
confidence, matched_cert, reasons. CSV is UTF-8 with BOM so Excel opens it."
    )]
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    format: ExportFormat,
    #[arg(long)]
    out: PathBuf,
    /// Only flagged findings (everything but compliant and not_in_scope).
    #[arg(long)]
    flagged_only: bool,
    /// Only listings of this platform.
    #[arg(long)]
    platform: Option<String>,
}

pub async fn run(app: &App, cmd: FindingsCommand) -> anyhow::Result<ExitCode> {
    let FindingsCommand::Export(a) = cmd;
    let store = app.judging_store().await?;
    let n = export_findings(
        &store,
        &a.out,
        a.format,
        a.platform.as_deref(),
        a.flagged_only,
    )
    .await?;
    println!("{n} findings written to {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
