//! `cccwatch notices`: takedown notice batches to platforms.

use super::{App, actor};
use cccwatch::clock::beijing_time;
use cccwatch::extract::PlatformLabels;
use cccwatch::notice;
use cccwatch::report::beijing_today;
use cccwatch::store::{BatchOutcome, NoticeBatch, NoticeLine};
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
notices.templates_dir/list.toml, editable; capture times in Beijing time),\n\
list.json (stored UTC times), evidence/ (the captured pages),\n\
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
        after_help = "Example:\n  cccwatch notices show 17\n  cccwatch notices show '市监CCC〔2026〕17号' --json\n\n\
States and how they were established are in Chinese, times in Beijing time (UTC+8);\n\
--json gives the codes (removed_verified, ...) and the stored UTC times."
    )]
    Show {
        batch: String,
        #[arg(long)]
        json: bool,
    },
    /// List the notice batches with what became of them: removed, overdue,
    /// back online, open; removal rate and median days to removal.
    #[command(
        after_help = "Example:\n  cccwatch notices list --platform jd\n  cccwatch notices list --json\n\n\
Columns: 通知书编号, 平台, 商品数, 已核实下架, 逾期未下架, 重新上架, 未结 (open, deadline not\n\
passed), 下架率, 下架用时中位数（天）, 文件夹."
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
            } else {
                print_batch(&b, &lines, &labels);
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
                print_batches(batches, &outcomes, &labels);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One batch for people: states in Chinese, times in Beijing time.
fn print_batch(b: &NoticeBatch, lines: &[NoticeLine], labels: &PlatformLabels) {
    println!(
        "{} 发往 {}：{}（北京时间）由 {} 签发，回复期限 {}，共 {} 个商品",
        b.number,
        labels.described(&b.platform),
        beijing_time(&b.issued_at),
        b.issued_by,
        b.deadline,
        b.listings
    );
    if let Some(f) = &b.folder {
        println!("文件夹 {f}");
    }
    println!(
        "{} {} {} {} 平台回复 / 重新上架",
        pad("商品编号", 16),
        pad("状态", 18),
        pad("时间（北京时间）", 20),
        pad("依据", 34)
    );
    for l in lines {
        let mut tail = l.ack_text.clone().unwrap_or_default();
        for (_, item) in &l.relists {
            tail.push_str(&format!(" 以新链接 {item} 重新上架"));
        }
        println!(
            "{} {} {} {} {}",
            pad(&l.item_id, 16),
            pad(notice::state_label(&l.state), 18),
            pad(&beijing_time(&l.state_at), 20),
            pad(notice::how_label(l.verify_note.as_deref()), 34),
            tail.trim()
        );
    }
}

/// The batches with what became of them, headed in Chinese.
fn print_batches(batches: Vec<NoticeBatch>, outcomes: &[BatchOutcome], labels: &PlatformLabels) {
    const HEAD: [(&str, usize); 9] = [
        ("通知书编号", 28),
        ("平台", 10),
        ("商品数", 8),
        ("已核实下架", 10),
        ("逾期未下架", 10),
        ("重新上架", 8),
        ("未结", 6),
        ("下架率", 8),
        ("下架用时中位数（天）", 20),
    ];
    let head: Vec<String> = HEAD.iter().map(|(h, w)| pad(h, *w)).collect();
    println!("{} 文件夹", head.join(" "));
    for b in batches {
        let o = outcomes.iter().find(|o| o.number == b.number);
        let count = |f: fn(&BatchOutcome) -> i64| o.map_or(0, f).to_string();
        let cells = [
            b.number.clone(),
            labels.label(&b.platform).to_string(),
            b.listings.to_string(),
            count(|o| o.removed),
            count(|o| o.overdue),
            count(|o| o.relisted),
            count(|o| o.open),
            format!("{:.0}%", o.map_or(0.0, |o| o.removal_rate * 100.0)),
            o.and_then(|o| o.median_days_to_removal)
                .map_or("-".to_string(), |d| format!("{d:.1}")),
        ];
        let row: Vec<String> = cells
            .iter()
            .zip(HEAD)
            .map(|(c, (_, w))| pad(c, w))
            .collect();
        println!("{} {}", row.join(" "), b.folder.unwrap_or_default());
    }
}

/// `text` filled with spaces to `width` terminal columns; a Chinese
/// character takes two.
fn pad(text: &str, width: usize) -> String {
    let used: usize = text.chars().map(columns).sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(used)))
}

fn columns(c: char) -> usize {
    match c as u32 {
        0x1100..=0x115F
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 => 2,
        _ => 1,
    }
}
