//! `cccwatch worker`: run a crawl worker until stopped, or list the
//! processes of the cluster and the host leases they hold.

use super::App;
use anyhow::Context;
use cccwatch::scan::cluster::{ClusterSnapshot, ClusterTiming, Role};
use clap::{Args, Subcommand};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
cccwatch worker --db postgres://cccwatch@db/cccwatch      # run until SIGTERM or Ctrl-C\n  \
cccwatch worker list                                      # the processes and their host leases\n  \
cccwatch worker list --json\n\n\
A worker executes the scans that `cccwatch scan`, `serve` and its scheduler\n\
create in the same database: start any number, on any machines that reach the\n\
database and the platforms (each needs the same platform files in\n\
crawl.platforms_dir). One process at a time sends a host's requests (it holds\n\
the host's lease), so each platform's politeness holds for all of them\n\
together. A worker killed outright loses nothing: after cluster.lease_secs its\n\
pages and leases go to the others. SIGTERM lets pages in flight finish, hands\n\
back the rest and exits. See docs/SCALING.md.")]
pub struct WorkerArgs {
    #[command(subcommand)]
    command: Option<WorkerCommand>,
}

#[derive(Debug, Subcommand)]
enum WorkerCommand {
    /// The processes of the cluster (workers, scans, schedulers) and the host leases they hold.
    List {
        /// Also show processes that stopped within this many hours.
        #[arg(long, value_name = "HOURS", default_value_t = 24)]
        stopped_within: i64,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(app: &App, a: WorkerArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        None => run_worker(app).await,
        Some(WorkerCommand::List {
            stopped_within,
            json,
        }) => list(app, stopped_within, json).await,
    }
}

async fn run_worker(app: &App) -> anyhow::Result<ExitCode> {
    let store = app.judging_store().await?;
    if !store.is_postgres() {
        eprintln!(
            "note: the database is SQLite ({}): workers share it only on this machine; \
             several machines need PostgreSQL (database.url = postgres://...)",
            app.settings.database.url
        );
    }
    let fetcher = Arc::new(
        cccwatch::crawl::fetch::Fetcher::new(app.settings.crawl.fetch_settings())?
            .with_clock(store.clock()),
    );
    let runner = Arc::new(super::scan_cmd::runner(app, &store, fetcher).with_role(Role::Worker));
    let stop = super::shutdown::stop_on_signal();
    let member = runner.member().await.context("joining the cluster")?;
    eprintln!(
        "worker {} started; stop with Ctrl-C or SIGTERM",
        member.id()
    );
    drop(member);
    let report = cccwatch::scan::worker::run(
        runner.clone(),
        app.settings.crawl.platforms_dir.clone(),
        stop,
    )
    .await?;
    match Arc::try_unwrap(runner) {
        Ok(mut runner) => runner.leave().await,
        Err(_) => {
            tracing::warn!("scan runner still shared at exit; its leases lapse by themselves")
        }
    }
    eprintln!(
        "worker stopped: {} turns on scans, {} scans adopted, {} errors",
        report.turns,
        report.adopted.len(),
        report.errors
    );
    Ok(if report.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn list(app: &App, stopped_within: i64, json: bool) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let view = ClusterSnapshot::read(
        &store,
        ClusterTiming::from_settings(&app.settings.cluster),
        std::time::Duration::from_secs(stopped_within.max(0) as u64 * 3600),
    )
    .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&view)?);
        return Ok(ExitCode::SUCCESS);
    }
    if view.processes.is_empty() {
        println!("no process has crawled with this database (within {stopped_within} h)");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<44} {:<8} {:<8} {:>8} {:>7}  DOING",
        "PROCESS", "ROLE", "STATE", "PAGES", "BEAT"
    );
    for p in &view.processes {
        println!(
            "{:<44} {:<8} {:<8} {:>8} {:>6}s  {}",
            p.worker.id,
            p.worker.role,
            p.state,
            p.worker.pages,
            p.seconds_since_beat,
            p.worker.doing.as_deref().unwrap_or("-")
        );
    }
    if !view.leases.is_empty() {
        println!();
        println!("{:<28} {:<44} {:>6}", "HOST", "HELD BY", "SCAN");
        for l in &view.leases {
            println!(
                "{:<28} {:<44} {:>6}",
                l.host,
                l.owner,
                l.scan_id
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
