//! `cccwatch report`: the monthly statistics report and the seller risk ranking.

use super::App;
use anyhow::Context;
use cccwatch::report::{self, Month, monthly, sellers};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The monthly statistics report (per platform and in total): writes
    /// DIR/月报-YYYY-MM.xlsx and prints a summary.
    #[command(
        after_help = "Examples:\n  cccwatch report monthly --month 2026-11\n  \
cccwatch report monthly --month 2026-11 --out reports/\n\n\
Months run from midnight on the 1st to midnight on the 1st of the next month,\n\
Beijing time (UTC+8). Sheets: 汇总 (per platform), 发现问题 (verdict × platform),\n\
产品类别 (product group × verdict), 通知与下架 (per platform), 口径说明 (what\n\
every figure counts). The same report is at /reports/monthly in `cccwatch serve`."
    )]
    Monthly {
        /// The month, YYYY-MM (default: the current month, Beijing time).
        #[arg(long, value_name = "YYYY-MM")]
        month: Option<Month>,
        /// Folder for the workbook (default: the current folder).
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
    },
    /// Sellers ranked by risk: confirmed findings, overdue notices, relists.
    #[command(after_help = "Examples:\n  cccwatch report sellers --limit 20\n  \
cccwatch report sellers --platform jd --out sellers.xlsx\n  cccwatch report sellers --out sellers.csv\n\n\
Score = confirmed + 2 × overdue + 3 × relisted, each counted in listings:\n\
confirmed = listings whose finding is confirmed; overdue = listings with a\n\
notice still online after its deadline; relisted = listings back online after\n\
their removal was verified; under notice = listings with a notice not verified\n\
as removed. Highest score first.")]
    Sellers {
        #[arg(long)]
        platform: Option<String>,
        /// Show (and write) only the first N sellers.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Also write the ranking to FILE (.xlsx or .csv).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

pub async fn run(app: &App, c: ReportCommand) -> anyhow::Result<ExitCode> {
    let store = app.judging_store().await?;
    match c {
        ReportCommand::Monthly { month, out } => {
            let month = month.unwrap_or_else(|| Month::containing(store.now()));
            let catalog = app
                .settings
                .certdb
                .load_catalog()
                .context("certdb.catalog: reading the catalog")?;
            let labels = app.settings.platform_labels();
            let r = report::monthly_report(&store, &catalog, &labels, month).await?;
            let path = report::write_monthly(&r, &out)?;
            print_monthly(&r);
            println!("written {}", path.display());
        }
        ReportCommand::Sellers {
            platform,
            limit,
            out,
        } => {
            let labels = app.settings.platform_labels();
            let rows = report::seller_ranking(&store, &labels, platform.as_deref(), limit).await?;
            print_sellers(&rows);
            if let Some(path) = out {
                report::write_sellers(&rows, &path)?;
                println!("written {}", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_monthly(r: &report::MonthlyReport) {
    println!(
        "monthly report {} (Beijing time), made {}",
        r.month, r.generated_at
    );
    println!(
        "{:<12} {:>6} {:>8} {:>8} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7}",
        "PLATFORM",
        "SCANS",
        "CHECKED",
        "FLAGGED",
        "NEW",
        "CONFIRMED",
        "NOTICES",
        "NOTICED",
        "REMOVED",
        "OVERDUE",
        "RELISTED",
        "RATE",
        "DAYS"
    );
    for p in r.platforms.iter().chain([&r.total]) {
        let name = if p.platform == monthly::TOTAL {
            "TOTAL"
        } else {
            &p.label
        };
        println!(
            "{:<12} {:>6} {:>8} {:>8} {:>6} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7}",
            name,
            p.scans,
            p.checked,
            p.flagged,
            p.newly_flagged,
            p.confirmed,
            p.batches,
            p.noticed,
            p.removed,
            p.overdue,
            p.relisted,
            monthly::percent(p.removal_rate),
            monthly::days(p.median_days_to_removal),
        );
    }
}

fn print_sellers(rows: &[report::SellerRisk]) {
    println!(
        "{:>4} {:<12} {:<32} {:>9} {:>7} {:>8} {:>12} {:>5}",
        "RANK", "PLATFORM", "SELLER", "CONFIRMED", "OVERDUE", "RELISTED", "UNDER NOTICE", "SCORE"
    );
    for r in rows {
        println!(
            "{:>4} {:<12} {:<32} {:>9} {:>7} {:>8} {:>12} {:>5}",
            r.rank,
            r.platform_label,
            r.seller_label(),
            r.confirmed,
            r.overdue,
            r.relisted,
            r.under_notice,
            r.score
        );
    }
    if rows.is_empty() {
        println!("(no seller has a confirmed finding or a notice)");
    }
    println!(
        "score = confirmed + {} × overdue + {} × relisted (listings)",
        sellers::OVERDUE_WEIGHT,
        sellers::RELISTED_WEIGHT
    );
}
