//! `cccwatch findings ...`

use super::App;
use anyhow::Context;
use cccwatch::export::{ExportFormat, ExportRequest, write_findings};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// Export one row per listing with its verdict and reasons.
    #[command(
        after_help = "Examples:\n  cccwatch findings export --format xlsx --out findings.xlsx --flagged-only\n  cccwatch findings export --format csv --out findings.csv --platform demo\n  cccwatch findings export --format jsonl --out findings.jsonl\n\n\
CSV (UTF-8 with BOM, so Excel opens it) and XLSX are for people, with Chinese headers:\n\
平台, 商品编号, 标题, 店铺/卖家, 店铺链接, 品牌, 型号, 引用证书编号, 比对证书编号, 结论 (the verdict\n\
in Chinese), 结论代码 (its code, e.g. revoked), 置信度 (a percentage), 原因, 产品类别,\n\
抓取时间（北京时间） (when the evidence page was fetched, UTC+8), 证据哈希（SHA-256） (of that page), 链接.\n\
JSONL is for machines: one object a line with the codes (verdict, confidence 0-1,\n\
category_code, captured_at in UTC), as other systems read it."
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
    let catalog = app
        .settings
        .certdb
        .load_catalog()
        .context("reading the catalog (certdb.catalog) that names product categories")?;
    let labels = app.settings.platform_labels();
    let req = ExportRequest {
        format: a.format,
        platform: a.platform.as_deref(),
        flagged_only: a.flagged_only,
        catalog: &catalog,
        labels: &labels,
    };
    let n = write_findings(&store, &a.out, &req).await?;
    println!("{n} findings written to {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
