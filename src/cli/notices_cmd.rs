//! `cccwatch notices`: takedown notice batches to platforms.

use super::App;
use cccwatch::notice;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum NoticesCommand {
    /// Issue a notice batch of every confirmed finding of a platform not yet noticed.
    #[command(after_help = "Examples:\n  cccwatch notices issue --platform jd\n  \
cccwatch notices issue --platform demo --out notices/ --date 2026-11-29\n\n\
Writes one folder per batch: letter.html (from notices.templates_dir/letter.html,\n\
editable), list.xlsx, list.csv, list.json, evidence/ (the captured pages),\n\
manifest.json and SHA256SUMS. The number comes from notices.number_format;\n\
the deadline is notices.deadline_days after the date. Exit code 2 when there is\n\
nothing to notice.")]
    Issue {
        #[arg(long)]
        platform: String,
        /// Folder for the batch folders (default: notices.out_dir).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The issue date (default: today).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
    },
    /// Re-check listings under notice against what the scans saw: removed,
    /// overdue (still online after the deadline), or back online.
    #[command(
        after_help = "Examples:\n  cccwatch notices verify\n  cccwatch notices verify --platform jd --date 2026-12-10\n\n\
Every completed scan does this for its platform; run it after the deadline to\n\
list what is overdue without crawling."
    )]
    Verify {
        #[arg(long)]
        platform: Option<String>,
        /// The date deadlines are compared with (default: today).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
    },
    /// List the notice batches with what became of them: removed, overdue,
    /// back online, open; removal rate and median days to removal.
    #[command(
        after_help = "Example:\n  cccwatch notices list --platform jd\n  cccwatch notices list --json"
    )]
    List {
        #[arg(long)]
        platform: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn actor() -> String {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    format!("cli:{who}")
}

pub async fn run(app: &App, c: NoticesCommand) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    match c {
        NoticesCommand::Issue {
            platform,
            out,
            date,
        } => {
            let out = out.unwrap_or_else(|| app.settings.notices.out_dir.clone());
            let today = super::as_of_or_today(date);
            match notice::issue(
                &store,
                &app.settings.notices,
                &platform,
                today,
                &actor(),
                &out,
            )
            .await
            {
                Ok(w) => {
                    println!(
                        "{} issued to {}: {} listings, reply by {}",
                        w.batch.number, w.batch.platform, w.batch.listings, w.batch.deadline
                    );
                    println!("folder {}", w.folder.display());
                    for (name, hash, len) in &w.files {
                        println!("  {name:<40} {len:>9} bytes  {}", &hash[..16]);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(notice::NoticeError::Nothing(p)) => {
                    eprintln!(
                        "nothing to notice: platform `{p}` has no confirmed findings that are not already in a notice"
                    );
                    Ok(ExitCode::from(2))
                }
                Err(e) => Err(e.into()),
            }
        }
        NoticesCommand::Verify { platform, date } => {
            let today = super::as_of_or_today(date);
            let c = store.verify_notices(platform.as_deref(), today).await?;
            println!(
                "as of {today}: {} removal(s) verified, {} overdue, {} back online",
                c.removed, c.overdue, c.reinstated
            );
            Ok(ExitCode::SUCCESS)
        }
        NoticesCommand::List { platform, json } => {
            let batches = store.notice_batches(platform.as_deref()).await?;
            let outcomes = store.notice_outcomes(platform.as_deref()).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"batches": batches, "outcomes": outcomes})
                    )?
                );
            } else {
                println!(
                    "{:<28} {:<10} {:>8} {:>8} {:>8} {:>8} {:>6} {:>8} {:>10}  FOLDER",
                    "NUMBER",
                    "PLATFORM",
                    "LISTINGS",
                    "REMOVED",
                    "OVERDUE",
                    "RELISTED",
                    "OPEN",
                    "RATE",
                    "MEDIAN DAYS"
                );
                for b in batches {
                    let o = outcomes.iter().find(|o| o.number == b.number);
                    println!(
                        "{:<28} {:<10} {:>8} {:>8} {:>8} {:>8} {:>6} {:>7.0}% {:>10}  {}",
                        b.number,
                        b.platform,
                        b.listings,
                        o.map_or(0, |o| o.removed),
                        o.map_or(0, |o| o.overdue),
                        o.map_or(0, |o| o.relisted),
                        o.map_or(0, |o| o.open),
                        o.map_or(0.0, |o| o.removal_rate * 100.0),
                        o.and_then(|o| o.median_days_to_removal)
                            .map_or("-".to_string(), |d| format!("{d:.1}")),
                        b.folder.unwrap_or_default()
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
