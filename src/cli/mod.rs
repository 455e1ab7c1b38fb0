//! Command-line interface: argument definitions and dispatch.

mod adapter_cmd;
#[cfg(feature = "demo")]
mod bench_cmd;
mod certdb_cmd;
mod config_cmd;
mod db_cmd;
#[cfg(feature = "demo")]
mod demo;
mod evidence_cmd;
mod explain_cmd;
mod feed_cmd;
mod findings_cmd;
#[cfg(feature = "demo")]
mod gen_cmd;
mod ingest_cmd;
mod init_cmd;
#[cfg(feature = "demo")]
mod market_cmd;
mod match_cmd;
mod notices_cmd;
mod prune_cmd;
mod report_cmd;
mod scan_cmd;
mod scans_cmd;
mod schedule_cmd;
mod serve_cmd;
mod shutdown;
mod signals_cmd;
mod user_cmd;
mod worker_cmd;

use anyhow::Context;
use cccwatch::config::{Settings, Sources};
use cccwatch::store::Store;
use cccwatch::telemetry::{self, LogFormat};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Examples:
  cccwatch init                                   # the bureau's name, numbers, contact, platforms → config/local.toml
  cccwatch demo                                   # crawl the built-in marketplace, in ./cccwatch-demo
  cccwatch scan --platform demo --base-url http://127.0.0.1:8080
  cccwatch certdb import certdb/sample/certificates.csv
  cccwatch certdb brands import certdb/brands.csv
  cccwatch ingest --platform demo certdb/sample/platform_feed.jsonl
  cccwatch match --as-of 2026-11-28
  cccwatch findings export --format xlsx --out findings.xlsx --flagged-only
  cccwatch user add admin --role admin --name 系统管理员
  cccwatch serve                                  # review workspace on http://127.0.0.1:8080 + scheduled scans
  cccwatch schedule list                          # jobs, next and last runs
  cccwatch audit verify
  cccwatch report monthly --month 2026-11         # 月报-2026-11.xlsx
  cccwatch scans diff 10 12                       # what changed between two scans
  cccwatch prune --dry-run                        # what the retention policy would remove
  cccwatch config check                           # every setting, platform file and template
  cccwatch db copy --from sqlite://data/cccwatch.db --to postgres://cccwatch@db/cccwatch
  cccwatch worker --db postgres://cccwatch@db/cccwatch   # one of many crawl workers (docs/SCALING.md)

Configuration: config/cccwatch.toml (or --config), config/local.toml,
environment variables CCCWATCH__SECTION__KEY (e.g. CCCWATCH__DATABASE__URL),
then flags.";

/// Independent audit of e-commerce listings against the CCC certificate database.
#[derive(Debug, Parser)]
#[command(name = "cccwatch", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Database URL, e.g. sqlite://cccwatch.db (default from config: database.url).
    #[arg(long, global = true, value_name = "URL")]
    db: Option<cccwatch::db_url::DbUrl>,
    /// Configuration file (default: config/cccwatch.toml when present).
    #[arg(long, global = true, value_name = "FILE", env = "CCCWATCH_CONFIG")]
    config: Option<PathBuf>,
    /// More log output (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    /// Never draw progress bars.
    #[arg(long, global = true)]
    no_progress: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Set the bureau up: its name, notice numbers, contact, platforms' names and
    /// addressees, seal text, PDF browser; writes config/local.toml and checks it.
    Init(init_cmd::InitArgs),
    /// The certificate database: import exports and the brand table, statistics, lookups.
    #[command(subcommand)]
    Certdb(certdb_cmd::CertdbCommand),
    /// Load listings from a platform's data feed (JSON Lines).
    Ingest(ingest_cmd::IngestArgs),
    /// Judge every listing against the certificate database.
    Match(match_cmd::MatchArgs),
    /// Judge one title (or a file of titles) and say why, without storing anything.
    Explain(explain_cmd::ExplainArgs),
    /// Crawl platforms (config/platforms/NAME.toml), extract listings, match them.
    Scan(scan_cmd::ScanArgs),
    /// Crawl worker for several processes on one database: executes the scans others create.
    Worker(worker_cmd::WorkerArgs),
    /// The database: apply migrations; copy one database into another (SQLite ↔ PostgreSQL).
    #[command(subcommand)]
    Db(db_cmd::DbCommand),
    /// Scheduled scan jobs of `serve`: list them with their next and last runs, run one now.
    #[command(subcommand)]
    Schedule(schedule_cmd::ScheduleCommand),
    /// Scan history: list scans, show one, compare two (new flagged, resolved, gone).
    #[command(subcommand)]
    Scans(scans_cmd::ScansCommand),
    /// Apply the retention policy ([retention]): old page bodies, scan history, frontiers.
    Prune(prune_cmd::PruneArgs),
    /// Pages kept as evidence: show them, export them for a case.
    #[command(subcommand)]
    Evidence(evidence_cmd::EvidenceCommand),
    /// Platform adapters: test one on a saved page or URL, check all files.
    #[command(subcommand)]
    Adapter(adapter_cmd::AdapterCommand),
    /// Work with findings.
    #[command(subcommand)]
    Findings(findings_cmd::FindingsCommand),
    /// Run the built-in marketplace end to end: import certificates, scan, match, export.
    #[cfg(feature = "demo")]
    Demo(demo::DemoArgs),
    /// Serve the built-in demo marketplace on 127.0.0.1.
    #[cfg(feature = "demo")]
    Market(market_cmd::MarketArgs),
    /// Generate large synthetic certificate exports and feeds (for benchmarks).
    #[cfg(feature = "demo")]
    Gen(gen_cmd::GenArgs),
    /// The review workspace for officers: queue, listings, decisions, dashboard (web).
    Serve(serve_cmd::ServeArgs),
    /// Accounts of the review workspace: add, passwd, disable, enable, role, list, token.
    #[command(subcommand)]
    User(user_cmd::UserCommand),
    /// The audit log of decisions and admin actions: verify its hash chain, show it.
    #[command(subcommand)]
    Audit(user_cmd::AuditCommand),
    /// Takedown notices to platforms: issue a batch, record replies, verify, list.
    #[command(subcommand)]
    Notices(notices_cmd::NoticesCommand),
    /// Inbound risk signals: platform sampling results, consumer complaints.
    #[command(subcommand)]
    Signals(signals_cmd::SignalsCommand),
    /// Reports: the monthly statistics report (XLSX), the seller risk ranking.
    #[command(subcommand)]
    Report(report_cmd::ReportCommand),
    /// The risk feed to platforms: feed tokens for /api/feeds/PLATFORM, feed files.
    #[command(subcommand)]
    Feed(feed_cmd::FeedCommand),
    /// Benchmarks that need a running system (the review workspace at scale).
    #[command(subcommand)]
    #[cfg(feature = "demo")]
    Bench(bench_cmd::BenchCommand),
    /// The configuration: check every setting and file it names, show the effective settings.
    #[command(subcommand)]
    Config(config_cmd::ConfigCommand),
}

/// Shared state of one invocation.
pub struct App {
    pub settings: Settings,
    /// Where the settings came from (`--config`, `--db`).
    pub sources: Sources,
    pub progress: bool,
}

impl App {
    pub async fn store(&self) -> anyhow::Result<Store> {
        let url = &self.settings.database.url;
        Store::open(url.expose())
            .await
            .with_context(|| format!("opening the database (database.url = {url})"))
    }

    /// The store, with pending re-judging finished first (a catalog change,
    /// certificate changes an import committed but a killed process did not
    /// get to re-judge): for every command that reads or writes verdicts.
    pub async fn judging_store(&self) -> anyhow::Result<Store> {
        let store = self.store().await?;
        match_cmd::catch_up(self, &store).await?;
        Ok(store)
    }
}

pub fn main() -> ExitCode {
    quiet_broken_pipe();
    let cli = Cli::parse();
    telemetry::init(cli.log_format, cli.verbose);
    let sources = Sources {
        file: cli.config.clone(),
        database_url: cli.db.clone(),
    };
    // Checking the configuration, and setting it up, must work when it is broken.
    match cli.command {
        Command::Config(c) => return config_cmd::run(&sources, c),
        Command::Init(a) => return init_cmd::run(&sources, a),
        _ => {}
    }
    let settings = match Settings::load(&sources) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("(`cccwatch config check` lists every problem)");
            return ExitCode::from(config_cmd::EXIT_CONFIG);
        }
    };
    let app = App {
        settings,
        sources,
        progress: !cli.no_progress && cli.log_format == LogFormat::Human,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Certdb(c) => certdb_cmd::run(&app, c).await,
            Command::Ingest(a) => ingest_cmd::run(&app, a).await,
            Command::Match(a) => match_cmd::run(&app, a).await,
            Command::Explain(a) => explain_cmd::run(&app, a).await,
            Command::Scan(a) => scan_cmd::run(&app, a).await,
            Command::Worker(a) => worker_cmd::run(&app, a).await,
            Command::Db(c) => db_cmd::run(&app, c).await,
            Command::Schedule(c) => schedule_cmd::run(&app, c).await,
            Command::Scans(c) => scans_cmd::run(&app, c).await,
            Command::Prune(a) => prune_cmd::run(&app, a).await,
            Command::Evidence(c) => evidence_cmd::run(&app, c).await,
            Command::Adapter(c) => adapter_cmd::run(&app, c).await,
            Command::Findings(c) => findings_cmd::run(&app, c).await,
            #[cfg(feature = "demo")]
            Command::Demo(a) => demo::run(&app, a).await,
            #[cfg(feature = "demo")]
            Command::Gen(a) => gen_cmd::run(&app, a).await,
            #[cfg(feature = "demo")]
            Command::Market(a) => market_cmd::run(a).await,
            Command::Serve(a) => serve_cmd::run(&app, a).await,
            Command::User(c) => user_cmd::run_user(&app, c).await,
            Command::Audit(c) => user_cmd::run_audit(&app, c).await,
            #[cfg(feature = "demo")]
            Command::Bench(c) => bench_cmd::run(&app, c).await,
            Command::Notices(c) => notices_cmd::run(&app, c).await,
            Command::Signals(c) => signals_cmd::run(&app, c).await,
            Command::Report(c) => report_cmd::run(&app, c).await,
            Command::Feed(c) => feed_cmd::run(&app, c).await,
            Command::Config(_) | Command::Init(_) => {
                unreachable!("handled before the settings are loaded")
            }
        }
    });
    // Tasks still running (connections past web.shutdown_timeout_secs) are dropped.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code_of(&e))
        }
    }
}

/// 78 (`EX_CONFIG`) when the error is a bad platform file or catalog (what
/// `config check` and `adapter check` would report), else 1.
fn exit_code_of(e: &anyhow::Error) -> u8 {
    use cccwatch::scan::ScanError;
    let config = e.chain().any(|c| {
        c.is::<cccwatch::extract::AdapterError>()
            || c.is::<cccwatch::certdb::catalog::CatalogError>()
            || matches!(
                c.downcast_ref::<ScanError>(),
                Some(ScanError::Adapter(_) | ScanError::NoSuchPlatform { .. })
            )
    });
    if config { config_cmd::EXIT_CONFIG } else { 1 }
}

/// `cccwatch … | head` closes our stdout early: stop quietly, as Unix tools do,
/// instead of reporting a panic from `println!`.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

/// Who runs a command, for the audit log and a notice's `issued_by`:
/// `cli:NAME`, NAME the operating-system user ($USER, $LOGNAME, $USERNAME,
/// or the name of the process's user id in /etc/passwd, or `uid1000`).
pub fn actor() -> String {
    format!("cli:{}", os_user())
}

fn os_user() -> String {
    let from_env = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty());
    if let Some(name) = from_env {
        return name;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = std::fs::metadata("/proc/self") {
            let uid = meta.uid();
            let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
            return user_of_uid(&passwd, uid).unwrap_or_else(|| format!("uid{uid}"));
        }
    }
    "unknown".into()
}

/// The name of `uid` in the text of /etc/passwd (`name:x:uid:gid:...`).
fn user_of_uid(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?.trim();
        let id: u32 = f.nth(1)?.trim().parse().ok()?;
        (id == uid && !name.is_empty() && !name.starts_with('#')).then(|| name.to_string())
    })
}

/// `--as-of`, or today in Beijing (UTC+8), whatever the server's own time
/// zone: the day the workspace, the notices and the schedule count in. A
/// server on UTC would otherwise judge expiry on yesterday's date from
/// 00:00 to 08:00 Beijing time.
pub fn as_of_or_today(as_of: Option<chrono::NaiveDate>) -> chrono::NaiveDate {
    as_of.unwrap_or_else(|| cccwatch::report::beijing_today(chrono::Utc::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_id_is_named_from_the_password_file() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n# comment\nwangli:x:1000:1000:王丽:/home/wangli:/bin/bash\nbroken\n";
        assert_eq!(user_of_uid(passwd, 1000).as_deref(), Some("wangli"));
        assert_eq!(user_of_uid(passwd, 0).as_deref(), Some("root"));
        assert_eq!(user_of_uid(passwd, 1001), None);
        assert!(actor().starts_with("cli:") && actor().len() > 4);
    }

    #[test]
    fn the_default_date_is_beijings() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        assert_eq!(as_of_or_today(Some(d)), d);
        // Taken between two readings of the clock: one of their Beijing dates.
        let before = cccwatch::report::beijing_today(chrono::Utc::now());
        let got = as_of_or_today(None);
        let after = cccwatch::report::beijing_today(chrono::Utc::now());
        assert!(
            got == before || got == after,
            "{got} not {before} or {after}"
        );
        // 23:30 UTC is 07:30 the next day in Beijing.
        let late = chrono::DateTime::parse_from_rfc3339("2026-06-30T23:30:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            cccwatch::report::beijing_today(late),
            chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
        );
    }
}
