//! `cccwatch notices`: takedown notice batches to platforms.

use super::{App, actor};
use cccwatch::clock::{beijing_minutes, beijing_time};
use cccwatch::notice;
use cccwatch::report::beijing_today;
use chrono::Datelike;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum NoticesCommand {
    /// Issue a notice batch of every confirmed finding of a platform not yet noticed.
    #[command(after_help = "Examples:\n  cccwatch notices issue --platform jd\n  \
cccwatch notices issue --platform demo --out notices/ --date 2026-11-29\n\n\
Writes one folder per batch: letter.html (from notices.templates_dir/letter.html,\n\
editable), list.xlsx and list.csv (columns from\n\
notices.templates_dir/list.toml, editable), list.json, evidence/ (the captured pages),\n\
manifest.json and SHA256SUMS. The number comes from notices.number_format;\n\
the deadline is notices.deadline_days after the date. Platforms are named by\n\
their Chinese label, capture times in Beijing time.\n\n\
Refused, before a number is taken, while the letter would print a setting that\n\
is still a placeholder (notices.issuer, notices.contact, the platform's\n\
notices.platform_names entry): the message names each and the `cccwatch init`\n\
flag that fills it. Exit codes: 0 issued, 2 nothing to notice, 78 a setting to\n\
fill in, 64 an unknown platform (the known ones are listed).")]
    Issue {
        /// The platform's short name (its file in crawl.platforms_dir), e.g. jd.
        #[arg(long)]
        platform: String,
        /// Folder for the batch folders (default: notices.out_dir).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The issue date (default: today, Beijing time).
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
    /// Record a platform's reply: the returned list (XLSX or CSV) with its
    /// result (平台处理结果) and date (处理日期) filled in per listing.
    #[command(
        after_help = "Examples:\n  cccwatch notices reply --batch '市监CCC〔2026〕17号' jd-reply.xlsx\n  \
cccwatch notices reply --batch 17 reply.csv\n\n\
--batch takes the notice number or its sequence number of the current year.\n\
The file needs a column 平台商品编号 and one of 平台处理结果/处理结果/回复;\n\
处理日期 is optional. Rows left blank are skipped; rows that cannot be used are\n\
listed with their row number (exit code 1), the others are recorded."
    )]
    Reply {
        #[arg(long)]
        batch: String,
        file: PathBuf,
    },
    /// Show one batch: each listing's notice state, the platform's reply,
    /// the evidence of removal and any relist.
    #[command(
        after_help = "Example:\n  cccwatch notices show 17\n  cccwatch notices show '市监CCC〔2026〕17号' --json"
    )]
    Show {
        batch: String,
        #[arg(long)]
        json: bool,
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

/// A batch by its number, or by its sequence number in the current year
/// (Beijing time).
async fn find_batch(
    store: &cccwatch::store::Store,
    key: &str,
) -> anyhow::Result<cccwatch::store::NoticeBatch> {
    let batches = store.notice_batches(None).await?;
    let year = i64::from(beijing_today(store.now()).year());
    batches
        .into_iter()
        .find(|b| b.number == key || (key.parse::<i64>() == Ok(b.seq) && b.year == year))
        .ok_or_else(|| {
            anyhow::anyhow!("--batch {key}: no such notice (see `cccwatch notices list`)")
        })
}

/// Exit code for a wrong argument (EX_USAGE of sysexits.h).
const EXIT_USAGE: u8 = 64;

pub async fn run(app: &App, c: NoticesCommand) -> anyhow::Result<ExitCode> {
    let store = app.judging_store().await?;
    match c {
        NoticesCommand::Issue {
            platform,
            out,
            date,
        } => {
            let out = out.unwrap_or_else(|| app.settings.notices.out_dir.clone());
            let today = date.unwrap_or_else(|| beijing_today(store.now()));
            let labels = app.settings.platform_labels();
            match notice::issue(
                &store,
                &app.settings.notices,
                &labels,
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
                        w.batch.number,
                        labels.described(&w.batch.platform),
                        w.batch.listings,
                        w.batch.deadline
                    );
                    println!("folder {}", w.folder.display());
                    println!("zip    {}  sha256 {}", w.zip.0.display(), w.zip.1);
                    if let Some(why) = &w.pdf {
                        println!("no letter.pdf: {why}; print letter.html from a browser instead");
                    }
                    for (name, hash, len) in &w.files {
                        println!("  {name:<40} {len:>9} bytes  {}", &hash[..16]);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(notice::NoticeError::Nothing(p)) => {
                    eprintln!(
                        "nothing to notice: platform {} has no confirmed findings that are not already in a notice",
                        labels.described(&p)
                    );
                    Ok(ExitCode::from(2))
                }
                Err(notice::NoticeError::UnknownPlatform {
                    platform,
                    hint,
                    known,
                }) => {
                    eprintln!("error: --platform {platform}: unknown platform{hint}");
                    eprintln!("the known platforms are:");
                    for k in known {
                        eprintln!("  {k}");
                    }
                    Ok(ExitCode::from(EXIT_USAGE))
                }
                Err(notice::NoticeError::Placeholders { platform, found }) => {
                    eprintln!(
                        "error: nothing issued, no number taken: the letter to {} would print settings that are still placeholders:",
                        labels.described(&platform)
                    );
                    for p in &found {
                        eprintln!("  {}: {}", p.key, p.why);
                    }
                    let flags: Vec<&str> = found.iter().map(|p| p.init.as_str()).collect();
                    eprintln!(
                        "fill them in with `cccwatch init {}` (or edit {}), then issue again",
                        flags.join(" "),
                        cccwatch::config::Settings::local_file(&app.sources).display()
                    );
                    Ok(ExitCode::from(super::config_cmd::EXIT_CONFIG))
                }
                Err(e) => Err(e.into()),
            }
        }
        NoticesCommand::Verify { platform, date } => {
            let today = super::as_of_or_today(date);
            let (brands, _) = cccwatch::pipeline::load_brands(&store).await?;
            let scope = cccwatch::store::VerifyScope {
                platform: platform.as_deref(),
                today,
                scan_id: None,
                absent_means_removed: false,
            };
            let c = notice::verify::follow_up(&store, &brands, scope).await?;
            println!(
                "as of {today}: {} removal(s) verified, {} overdue, {} back online, {} relist(s) found",
                c.removed, c.overdue, c.reinstated, c.relisted
            );
            Ok(ExitCode::SUCCESS)
        }
        NoticesCommand::Reply { batch, file } => {
            let b = find_batch(&store, &batch).await?;
            let source = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let list = notice::list::ListTemplate::load(&app.settings.notices.templates_dir)?;
            let r = notice::reply::import(&store, b.id, &file, &list, &source, &actor()).await?;
            println!(
                "{}: {} repl(ies) recorded, {} row(s) left blank by the platform",
                b.number, r.recorded, r.blank
            );
            for p in &r.problems {
                eprintln!(
                    "{}: row {}: {}{}",
                    file.display(),
                    p.line,
                    p.problem,
                    p.item_id
                        .as_deref()
                        .map(|i| format!(" ({i})"))
                        .unwrap_or_default()
                );
            }
            Ok(if r.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        NoticesCommand::Show { batch, json } => {
            let b = find_batch(&store, &batch).await?;
            let lines = store.notice_lines(b.id).await?;
            let labels = app.settings.platform_labels();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"batch": b, "listings": lines})
                    )?
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{} to {}: issued {} (Beijing time) by {}, reply by {}, {} listing(s)",
                b.number,
                labels.described(&b.platform),
                beijing_time(&b.issued_at),
                b.issued_by,
                b.deadline,
                b.listings
            );
            if let Some(f) = &b.folder {
                println!("folder {f}");
            }
            println!(
                "{:<16} {:<18} {:<22} {:<26} REPLY / RELIST",
                "ITEM", "STATE", "SINCE (BEIJING)", "HOW"
            );
            for l in lines {
                let mut tail = l.ack_text.clone().unwrap_or_default();
                for (_, item) in &l.relists {
                    tail.push_str(&format!(" relisted as {item}"));
                }
                println!(
                    "{:<16} {:<18} {:<22} {:<26} {}",
                    l.item_id,
                    l.state,
                    beijing_minutes(&l.state_at),
                    l.verify_note.unwrap_or_default(),
                    tail.trim()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        NoticesCommand::List { platform, json } => {
            let batches = store.notice_batches(platform.as_deref()).await?;
            let outcomes = store.notice_outcomes(platform.as_deref()).await?;
            let labels = app.settings.platform_labels();
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
                        labels.label(&b.platform),
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
