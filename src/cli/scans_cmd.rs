//! `cccwatch scans`: the history of scans: list them, show one with what
//! changed since the previous scan of its platform, compare any two.

use super::App;
use cccwatch::history::{
    self, ScanDiff, before_zh, flagged_count, resolution_zh, signed, verdict_label,
};
use cccwatch::store::{DiffList, DiffListing, ScanRecord};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ScansCommand {
    /// Scans, newest first, with their figures.
    #[command(after_help = "Examples:\n  cccwatch scans list\n  \
cccwatch scans list --platform jd --limit 50\n  cccwatch scans list --json\n\n\
FLAGGED counts the listings the scan judged flagged (any verdict but compliant\n\
and not_in_scope). HISTORY says whether the listings the scan left were\n\
recorded (kept), removed by retention.scan_history_days (pruned), or not\n\
recorded (-: the scan did not complete, or ran before scan history was kept);\n\
only recorded scans can be compared.")]
    List {
        #[arg(long)]
        platform: Option<String>,
        /// Show at most N scans.
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// One scan's figures and what changed since the previous completed scan of its platform.
    #[command(
        after_help = "Examples:\n  cccwatch scans show 12\n  cccwatch scans show 12 --json\n\n\
The comparison is `cccwatch scans diff PREVIOUS ID`; see its help for what\n\
each list means."
    )]
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Compare two scans of one platform (any two, in time order).
    #[command(
        after_help = "Examples:\n  cccwatch scans diff 10 12\n  cccwatch scans diff 3 12 --json\n\n\
New flagged: flagged and online when the later scan ended, not when the\n\
earlier one did (new listings, or verdicts that became flagged). Resolved:\n\
flagged at the earlier scan, not at the later one: gone, or judged otherwise.\n\
Gone: taken down (404/410, a 下架 page, or absent from a complete scan for a\n\
listing under notice) in between. Certificates: status or expiry changed by an\n\
import between the two scans' ends, cited by or matched to the platform's\n\
listings. Counts by verdict: what each scan judged, and what was flagged and\n\
online at its end. Lists stop at 5,000 entries (the totals count all)."
    )]
    Diff {
        a: i64,
        b: i64,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(app: &App, c: ScansCommand) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    match c {
        ScansCommand::List {
            platform,
            limit,
            json,
        } => {
            if !(1..=100_000).contains(&limit) {
                anyhow::bail!("--limit must be between 1 and 100000");
            }
            let scans = store.scans(platform.as_deref(), limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&scans)?);
            } else {
                print_list(&scans);
            }
        }
        ScansCommand::Show { id, json } => {
            let s = history::show(&store, id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print_scan(&s.scan);
                match (&s.previous, &s.note) {
                    (Some(d), _) => {
                        println!();
                        print_diff(d);
                    }
                    (None, Some(note)) => println!("\n{note}"),
                    (None, None) => {}
                }
            }
        }
        ScansCommand::Diff { a, b, json } => {
            let d = history::diff(&store, a, b).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                print_diff(&d);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_list(scans: &[ScanRecord]) {
    if scans.is_empty() {
        println!("no scans");
        return;
    }
    println!(
        "{:>6} {:<10} {:<21} {:<20} {:>7} {:>6} {:>6} {:>7} {:>5} {:>7} {:<7}",
        "ID",
        "PLATFORM",
        "STATE",
        "STARTED",
        "FETCHED",
        "FAILED",
        "NEW",
        "CHANGED",
        "GONE",
        "FLAGGED",
        "HISTORY"
    );
    for s in scans {
        println!(
            "{:>6} {:<10} {:<21} {:<20} {:>7} {:>6} {:>6} {:>7} {:>5} {:>7} {:<7}",
            s.id,
            s.platform,
            s.state,
            short_time(&s.started_at),
            s.pages_fetched,
            s.pages_failed,
            s.listings_new,
            s.listings_changed,
            s.listings_gone,
            flagged_count(s),
            s.snapshot.as_deref().unwrap_or("-"),
        );
    }
}

/// `2026-11-28T10:00:00.123Z` as `2026-11-28 10:00:00`.
fn short_time(t: &str) -> String {
    t.get(..19).unwrap_or(t).replace('T', " ")
}

fn print_scan(s: &ScanRecord) {
    println!(
        "scan {} · {} · {} · as of {}",
        s.id, s.platform, s.state, s.as_of
    );
    println!(
        "  started {}, finished {}",
        short_time(&s.started_at),
        s.finished_at.as_deref().map_or("-".into(), short_time)
    );
    println!(
        "  pages: {} fetched, {} failed, {} retried, {} refused by robots.txt ({} requests)",
        s.pages_fetched, s.pages_failed, s.pages_retried, s.robots_skipped, s.requests
    );
    println!(
        "  listings: {} new, {} changed, {} unchanged, {} gone",
        s.listings_new, s.listings_changed, s.listings_unchanged, s.listings_gone
    );
    let judged = history::judged_counts(s);
    if !judged.is_empty() {
        let parts: Vec<String> = judged.iter().map(|(v, n)| format!("{v} {n}")).collect();
        println!("  findings: {}", parts.join(", "));
    }
    if let Some(m) = &s.message {
        println!("  note: {m}");
    }
}

fn print_diff(d: &ScanDiff) {
    println!(
        "{}: scan {} ({}) → scan {} ({}){}",
        d.platform,
        d.from.id,
        short_time(d.from.finished_at.as_deref().unwrap_or(&d.from.started_at)),
        d.to.id,
        short_time(d.to.finished_at.as_deref().unwrap_or(&d.to.started_at)),
        if d.swapped {
            " (given later first; compared in time order)"
        } else {
            ""
        }
    );
    println!(
        "{:<16} {:>8} {:>8} {:>7}   {:>8} {:>8} {:>7}",
        "VERDICT", "JUDGED", "", "", "FLAGGED", "ONLINE", ""
    );
    println!(
        "{:<16} {:>8} {:>8} {:>7}   {:>8} {:>8} {:>7}",
        "", "before", "after", "delta", "before", "after", "delta"
    );
    for j in &d.judged {
        let f = d.flagged.iter().find(|f| f.verdict == j.verdict);
        let (fb, fa, fd) = f.map_or((String::new(), String::new(), String::new()), |f| {
            (f.before.to_string(), f.after.to_string(), signed(f.delta))
        });
        println!(
            "{:<16} {:>8} {:>8} {:>7}   {:>8} {:>8} {:>7}",
            j.verdict,
            j.before,
            j.after,
            signed(j.delta),
            fb,
            fa,
            fd
        );
    }
    println!(
        "{:<16} {:>8} {:>8} {:>7}   {:>8} {:>8} {:>7}",
        "flagged total",
        "",
        "",
        "",
        d.flagged_before,
        d.flagged_after,
        signed(d.flagged_after - d.flagged_before)
    );
    print_listings("new flagged", &d.lists.new_flagged, |l| {
        format!(
            "{} (before: {})",
            verdict_label(l.verdict_after.as_deref()),
            before_zh(l)
        )
    });
    print_listings("resolved", &d.lists.resolved, |l| {
        format!("{} → {}", before_zh(l), resolution_zh(l))
    });
    print_listings("gone", &d.lists.gone, |l| {
        format!(
            "gone {}",
            l.gone_at.as_deref().map_or("-".into(), short_time)
        )
    });
    let c = &d.lists.certificates;
    println!("\ncertificates changed: {}", c.total);
    for e in &c.entries {
        let items: Vec<&str> = e.examples.iter().map(|(_, i)| i.as_str()).collect();
        println!(
            "  {} {}: {} → {} ({}), {} listing(s): {}",
            e.cert_no,
            e.field,
            e.old_value.as_deref().unwrap_or("-"),
            e.new_value.as_deref().unwrap_or("-"),
            short_time(&e.changed_at),
            e.listings,
            items.join(" ")
        );
    }
    if c.truncated {
        println!("  … {} more (see --json)", c.total - c.entries.len() as i64);
    }
}

fn print_listings(
    what: &str,
    list: &DiffList<DiffListing>,
    detail: impl Fn(&DiffListing) -> String,
) {
    println!("\n{what}: {}", list.total);
    for l in &list.entries {
        // Listing text is the platform's: no control characters on the terminal.
        let title: String = l
            .title
            .chars()
            .filter(|c| !c.is_control())
            .take(40)
            .collect();
        println!("  {:<12} {}  {title}", l.item_id, detail(l));
    }
    if list.truncated {
        println!("  … {} more", list.total - list.entries.len() as i64);
    }
}
