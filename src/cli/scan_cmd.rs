//! `cccwatch scan`: crawl platforms, extract listings, match them.

use super::App;
use anyhow::Context;
use cccwatch::crawl::fetch::Fetcher;
use cccwatch::extract::Adapter;
use cccwatch::progress::Progress;
use cccwatch::scan::lock::{LockTiming, ScanLock, describe_holder};
use cccwatch::scan::outcome::{self, ScanEnd};
use cccwatch::scan::{LoopSettings, ScanOutcome, ScanPlan, ScanRunner, start_scan};
use cccwatch::store::Store;
use clap::Args;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cccwatch scan --platform demo --base-url http://127.0.0.1:8080\n  \
cccwatch scan --platform jd --keywords 插座,排插 --max-pages 3\n  cccwatch scan --resume\n\n\
Each platform is one file in crawl.platforms_dir (config/platforms/NAME.toml). A scan\n\
searches the platform's seed keywords (or --keywords), follows result pages, fetches\n\
item pages politely (the platform's rate, robots.txt, Retry-After), keeps every page as\n\
evidence, then matches the listings it saw against the certificate database.\n\n\
Ctrl-C stops cleanly: pages in flight finish and the frontier is saved; `--resume`\n\
continues. Only one scan of a platform runs at a time, across processes (a lock in\n\
the database): a platform being scanned elsewhere is skipped with a message, so this\n\
is safe under cron or a systemd timer (docs/systemd/).\n\
Exit codes (the worst over the platforms scanned):\n  \
0  completed: every page fetched (or refused by robots.txt, or gone)\n  \
4  completed with errors: some pages failed for good (the summary lists how many and why)\n  \
5  failed: the platform could not be reached, robots.txt refused everything, or more than\n     \
crawl.max_failed_share of the pages failed\n  \
3  stopped before the end (Ctrl-C, SIGTERM); continue with --resume\n  \
75 every platform asked for was being scanned elsewhere\n  \
78 a platform file or the configuration is invalid\n  \
2  a wrong command line (an unknown flag, a bad value)\n  \
1  any other error (the database cannot be opened, a file cannot be read)"
)]
pub struct ScanArgs {
    /// Platform(s) to scan (file names in crawl.platforms_dir); repeat or separate with commas.
    #[arg(long, value_delimiter = ',', required_unless_present = "resume")]
    platform: Vec<String>,
    /// Keywords to search instead of the platform's seed keywords (comma-separated).
    #[arg(long, value_delimiter = ',')]
    keywords: Vec<String>,
    /// Result pages per keyword at most (default: the platform's search.max_pages).
    #[arg(long, value_name = "N")]
    max_pages: Option<u32>,
    /// Date certificate statuses and expiry are judged on (default today in Beijing, UTC+8).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<chrono::NaiveDate>,
    /// Continue unfinished scans (of --platform, or all) instead of starting new ones.
    #[arg(long)]
    resume: bool,
    /// Replace the platform's base_url (a local copy or test server).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

/// Reads `NAME.toml` from the platforms folder, with `base_url` replaced if given.
pub fn load_adapter(dir: &Path, name: &str, base_url: Option<&str>) -> anyhow::Result<Adapter> {
    let adapter = cccwatch::scan::load_platform(dir, name)?;
    Ok(match base_url {
        Some(b) => adapter.with_base_url(b)?,
        None => adapter,
    })
}

pub async fn run(app: &App, a: ScanArgs) -> anyhow::Result<ExitCode> {
    let store = app.judging_store().await?;
    let no_certs = store.count_certs().await? == 0;
    let dir = app.settings.crawl.platforms_dir.clone();
    let mut jobs: Vec<(Arc<Adapter>, i64)> = Vec::new();
    let fetcher = Arc::new(Fetcher::new(app.settings.crawl.fetch_settings())?);
    // Cancelled by Ctrl-C or SIGTERM (listened for once the scans start).
    let stop = CancellationToken::new();
    // One scan per platform at a time, across processes: `serve`'s
    // scheduler and cron may start scans at the same moment.
    let timing = LockTiming::from_settings(&app.settings.schedule);
    let mut locks = Locks::new(&store, timing, &stop);
    if a.resume {
        let platforms: Vec<Option<&str>> = if a.platform.is_empty() {
            vec![None]
        } else {
            a.platform.iter().map(|p| Some(p.as_str())).collect()
        };
        for p in platforms {
            for scan in store.unfinished_scans(p).await? {
                if !locks.take(&scan.platform).await? {
                    continue;
                }
                let adapter = Arc::new(load_adapter(&dir, &scan.platform, a.base_url.as_deref())?);
                let moved = cccwatch::scan::rebase_frontier(&store, &adapter, scan.id)
                    .await
                    .with_context(|| format!("resuming scan {}", scan.id))?;
                if !moved.rewrites.is_empty() {
                    println!(
                        "scan {}: {} saved pages moved from {} to {}",
                        scan.id,
                        moved.rewrites.len(),
                        moved.from,
                        moved.to
                    );
                }
                jobs.push((adapter, scan.id));
            }
        }
        if jobs.is_empty() && locks.refused == 0 {
            println!("no unfinished scan to resume");
            return Ok(ExitCode::SUCCESS);
        }
    } else {
        let plan = ScanPlan {
            keywords: a
                .keywords
                .iter()
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect(),
            max_pages: a.max_pages,
            as_of: super::as_of_or_today(a.as_of),
        };
        for name in &a.platform {
            let adapter = Arc::new(load_adapter(&dir, name, a.base_url.as_deref())?);
            if !locks.take(name).await? {
                continue;
            }
            let id = start_scan(&store, &adapter, &plan).await?;
            locks.set_scan(name, id).await;
            jobs.push((adapter, id));
        }
    }
    if no_certs && !jobs.is_empty() {
        eprintln!("{EMPTY_CERTDB}");
    }
    super::shutdown::cancel_on_signal(stop.clone());
    let mut runner = runner(app, &store, fetcher);
    let multi = indicatif::MultiProgress::new();
    let runs = jobs.into_iter().map(|(adapter, id)| {
        let progress = Progress::new(Some(0), "pages", app.progress).in_multi(&multi);
        progress.set_message(format!("scan {id} {}", adapter.name()));
        let (runner, stop) = (&runner, locks.token_for(adapter.name()));
        async move {
            let out = runner
                .run(adapter, id, stop, &progress)
                .await
                .with_context(|| format!("scan {id}"));
            progress.finish();
            out
        }
    });
    let outcomes = futures_util::future::join_all(runs).await;
    runner.leave().await;
    let refused = locks.refused;
    locks.release().await;
    let ran = outcomes.len();
    let mut ends = Vec::new();
    let mut judged_any = false;
    for outcome in outcomes {
        let outcome = outcome?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&outcome.scan)?);
        } else {
            print_outcome(&outcome);
        }
        ends.push(outcome.end);
        judged_any |= outcome.matched.is_some();
    }
    if no_certs && judged_any {
        eprintln!("{EMPTY_CERTDB}");
    }
    if refused > 0 && ran == 0 {
        return Ok(ExitCode::from(EXIT_LOCKED));
    }
    Ok(ExitCode::from(
        outcome::worst(ends).map_or(0, ScanEnd::exit_code),
    ))
}

/// Said before and after a scan judged against an empty certificate database.
pub const EMPTY_CERTDB: &str = "warning: the certificate database is empty (证书库为空): every listing that cites a \
certificate will be judged cert_not_found and the rest uncertified. Import the CNCA export first: \
cccwatch certdb import FILE, then `cccwatch match` re-judges what this scan stored.";

/// Exit code when every platform asked for was being scanned elsewhere (EX_TEMPFAIL).
pub const EXIT_LOCKED: u8 = 75;

/// The platform locks this invocation holds, all stopped by one token.
struct Locks<'a> {
    store: &'a Store,
    timing: LockTiming,
    stop: &'a CancellationToken,
    held: Vec<ScanLock>,
    refused: usize,
}

impl<'a> Locks<'a> {
    fn new(store: &'a Store, timing: LockTiming, stop: &'a CancellationToken) -> Self {
        Locks {
            store,
            timing,
            stop,
            held: Vec::new(),
            refused: 0,
        }
    }

    fn find(&self, platform: &str) -> Option<&ScanLock> {
        self.held.iter().find(|l| l.platform() == platform)
    }

    /// Takes `platform`'s lock (true), or says who holds it (false).
    async fn take(&mut self, platform: &str) -> anyhow::Result<bool> {
        if self.find(platform).is_some() {
            return Ok(true);
        }
        let purpose = "cccwatch scan";
        match ScanLock::acquire(self.store, platform, purpose, self.timing, self.stop).await? {
            Ok(lock) => {
                self.held.push(lock);
                Ok(true)
            }
            Err(holder) => {
                eprintln!(
                    "not scanning {platform}: {}; try again when it has finished",
                    describe_holder(&holder)
                );
                self.refused += 1;
                Ok(false)
            }
        }
    }

    async fn set_scan(&self, platform: &str, scan_id: i64) {
        if let Some(l) = self.find(platform) {
            l.set_scan(scan_id).await;
        }
    }

    /// What a scan of `platform` runs on: cancelled by the stop, or when the
    /// platform's lock is taken over by another process.
    fn token_for(&self, platform: &str) -> CancellationToken {
        self.find(platform)
            .map_or_else(|| self.stop.clone(), ScanLock::token)
    }

    async fn release(self) {
        for l in self.held {
            l.release().await;
        }
    }
}

/// A scan runner with the settings of this invocation.
pub fn runner(app: &App, store: &Store, fetcher: Arc<Fetcher>) -> ScanRunner {
    let loop_settings = LoopSettings {
        max_attempts: app.settings.crawl.max_attempts,
        ..LoopSettings::default()
    };
    ScanRunner::new(store.clone(), app.settings.clone(), fetcher, loop_settings)
}

pub fn print_outcome(o: &ScanOutcome) {
    let s = &o.scan;
    println!(
        "scan {} of {}: {} {} ({} → {})",
        s.id,
        s.platform,
        o.end.state(),
        o.end.label_zh(),
        s.started_at,
        s.finished_at.as_deref().unwrap_or("-")
    );
    println!(
        "  pages: {} fetched, {} failed, {} retries, {} skipped by robots.txt ({} requests)",
        s.pages_fetched, s.pages_failed, s.pages_retried, s.robots_skipped, s.requests
    );
    let secs = o.crawl_time.as_secs_f64();
    if secs > 0.0 {
        println!("  crawl time this run: {secs:.1} s");
    }
    println!(
        "  listings: {} new, {} changed, {} unchanged, {} gone since the last scan",
        s.listings_new, s.listings_changed, s.listings_unchanged, s.listings_gone
    );
    let f = &o.frontier;
    println!(
        "  frontier: {} done, {} taken down (404/410/下架), {} failed, {} refused by robots.txt, {} left",
        f.done,
        f.gone,
        f.failed,
        f.robots,
        f.open()
    );
    if let Some(m) = &o.matched {
        println!(
            "  findings ({} listings judged as of {}):",
            m.listings, m.as_of
        );
        for (v, n) in &m.by_verdict {
            let mark = if v.is_flagged() { "!" } else { " " };
            println!("   {mark} {:<16} {:<10} {n}", v.as_str(), v.label_zh());
        }
        let flagged: u64 = m
            .by_verdict
            .iter()
            .filter(|(v, _)| v.is_flagged())
            .map(|(_, n)| n)
            .sum();
        println!(
            "  {flagged} flagged; export them with: cccwatch findings export --platform {} --flagged-only --format xlsx --out findings.xlsx",
            s.platform
        );
    }
    if !o.failure_groups.is_empty() {
        println!("  failed pages by reason (失败原因):");
        for g in o.failure_groups.iter().take(10) {
            println!(
                "    {:>6} × {}  e.g. {}",
                g.pages, g.headline, g.example_url
            );
        }
    }
    if !o.failures.is_empty() {
        let shown = o.failures.len().min(5);
        println!("  failed pages (first {shown} of {}):", s.pages_failed);
        for (url, status, err) in o.failures.iter().take(shown) {
            let st = status.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
            println!("    {url} [{st}] {err}");
        }
    }
    if let Some(m) = &s.message {
        println!("  note: {m}");
    }
    if o.end == ScanEnd::Failed {
        println!(
            "  FAILED: this scan did not audit the platform; nothing was judged from missing pages"
        );
    }
    if !o.completed {
        println!(
            "  stopped before the end; continue with: cccwatch scan --resume --platform {}",
            s.platform
        );
    }
}
