//! `cccwatch signals`: platform sampling results and consumer complaints.

use super::App;
use cccwatch::signals::{self, SignalKind};
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// A platform's sampling (抽检) results: failed samples count.
    Sampling,
    /// Consumer complaints (投诉举报).
    Complaint,
}

#[derive(Debug, Subcommand)]
pub enum SignalsCommand {
    /// Import sampling results or complaints (CSV or XLSX). The findings
    /// they point at rise in the review queue, and the next scan of the
    /// platform searches for their brand + model and opens their items.
    #[command(
        after_help = "Examples:\n  cccwatch signals import --kind sampling --platform jd 京东抽检2026-11.xlsx\n  \
cccwatch signals import --kind complaint 12315投诉.csv\n\n\
Columns (any order, a title row above the header is fine): 平台, 商品编号 or\n\
商品链接, 店铺/商家, 品牌, 型号, 日期, 抽检结果/结果, 投诉内容/问题. Each row needs\n\
an item, a shop, or a brand and a model. Sampling rows whose result is 合格 are\n\
skipped. Importing the same file again adds nothing. A sampling failure adds 50\n\
to a finding's priority, a complaint 20 (at most 99; a relist is 100); signals\n\
count for 180 days."
    )]
    Import {
        #[arg(long, value_enum)]
        kind: Kind,
        /// Platform for rows without a 平台 column.
        #[arg(long)]
        platform: Option<String>,
        file: PathBuf,
    },
    /// List the signals that still count.
    #[command(after_help = "Example:\n  cccwatch signals list")]
    List,
}

pub async fn run(app: &App, c: SignalsCommand) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    match c {
        SignalsCommand::Import {
            kind,
            platform,
            file,
        } => {
            let kind = match kind {
                Kind::Sampling => SignalKind::Sampling,
                Kind::Complaint => SignalKind::Complaint,
            };
            let (brands, _) = cccwatch::pipeline::load_brands(&store).await?;
            let r = signals::import(
                &store,
                &brands,
                &file,
                kind,
                platform.as_deref(),
                &super::actor(),
            )
            .await?;
            println!(
                "{}: {} {} signal(s) imported, {} already imported, {} passed sample(s) skipped; {} finding(s) re-prioritised",
                file.display(),
                r.imported,
                kind.label_zh(),
                r.already,
                r.passed,
                r.reprioritised
            );
            for p in &r.problems {
                eprintln!("{}: row {}: {}", file.display(), p.line, p.problem);
            }
            Ok(if r.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        SignalsCommand::List => {
            let since = (store.now() - chrono::Duration::days(signals::ACTIVE_DAYS)).to_rfc3339();
            let rows = store.active_signals(&since).await?;
            println!(
                "{:<6} {:<10} {:<8} {:<14} {:<16} {:<10} {:<16} DETAIL",
                "ID", "KIND", "PLATFORM", "ITEM", "SELLER", "BRAND", "MODEL"
            );
            for s in rows {
                println!(
                    "{:<6} {:<10} {:<8} {:<14} {:<16} {:<10} {:<16} {}",
                    s.id,
                    s.kind,
                    s.platform.unwrap_or_default(),
                    s.item_id.unwrap_or_default(),
                    s.seller.unwrap_or_default(),
                    s.brand.unwrap_or_default(),
                    s.model.unwrap_or_default(),
                    s.detail.unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
