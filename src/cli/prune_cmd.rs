//! `cccwatch prune`: apply the retention policy (`[retention]`) now.

use super::App;
use cccwatch::retention::{self, PruneReport};
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cccwatch prune --dry-run\n  cccwatch prune\n  cccwatch prune --json\n\n\
Raw pages fetched more than retention.pages_days ago (default 1095, three\n\
years) lose their body; the record of the page (URL, time, status, headers,\n\
SHA-256) stays. Bodies that are still evidence are kept whatever their age:\n\
the latest page of every listing, the evidence of notices, and every item page\n\
of a listing that is flagged, has a decision, is or was under notice, or is a\n\
relist. Listings recorded per scan older than retention.scan_history_days go\n\
(the scans keep their figures; the latest recorded scan of each platform stays),\n\
as do frontier entries of scans finished more than retention.frontier_days ago.\n\
0 days keeps that kind forever. Work is done in batches of\n\
retention.batch_size rows, each a short transaction; scans and the workspace\n\
can run meanwhile. Freed space is reused by SQLite (VACUUM shrinks the file)."
)]
pub struct PruneArgs {
    /// Count what would go; change nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

pub async fn run(app: &App, a: PruneArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let settings = &app.settings.retention;
    let now = store.now();
    let report = if a.dry_run {
        retention::dry_run(&store, settings, now).await?
    } else {
        retention::prune(&store, settings, now).await?
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print(r: &PruneReport) {
    let verb = if r.dry_run { "would remove" } else { "removed" };
    match &r.pages_before {
        Some(before) => println!(
            "pages fetched before {before}: {verb} {} bodies ({}), kept {} still needed as evidence",
            r.pages_pruned,
            bytes(r.bytes_freed),
            r.pages_kept
        ),
        None => println!("pages: kept forever (retention.pages_days = 0)"),
    }
    match &r.scan_history_before {
        Some(before) => println!(
            "scan history before {before}: {verb} the listings of {} scan(s) ({} rows)",
            r.scans_pruned, r.scan_rows_deleted
        ),
        None => println!("scan history: kept forever (retention.scan_history_days = 0)"),
    }
    match &r.frontier_before {
        Some(before) => println!(
            "frontier of scans finished before {before}: {verb} {} entries",
            r.frontier_rows_deleted
        ),
        None => println!("frontier: kept forever (retention.frontier_days = 0)"),
    }
    if r.dry_run {
        println!("dry run: nothing was changed");
    } else if r.vacuumed {
        println!("free space returned to the file system (incremental vacuum)");
    }
}

/// `1536` as `1.5 KiB`.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_are_readable() {
        assert_eq!(super::bytes(12), "12 bytes");
        assert_eq!(super::bytes(1536), "1.5 KiB");
        assert_eq!(super::bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
