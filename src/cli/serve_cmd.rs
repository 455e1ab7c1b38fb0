//! `cccwatch serve`: the review workspace on the web.

use super::App;
use anyhow::Context;
use cccwatch::crawl::fetch::Fetcher;
use cccwatch::matching::brand::BrandTable;
use cccwatch::schedule::{Scheduler, SystemClock};
use cccwatch::web::schedule::ScheduleHandle;
use cccwatch::web::{self, AppState};
use clap::Args;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long scans in progress get to stop and save their frontier at shutdown
/// (pages in flight have 10 s; matching what was crawled may take longer).
const SCANS_STOP_WITHIN: Duration = Duration::from_secs(30);

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
cccwatch user add admin --role admin --name 系统管理员     # first, an account\n  \
cccwatch serve                                          # then http://127.0.0.1:8080\n  \
cccwatch serve --bind 0.0.0.0:8080                      # reachable from the office network\n\n\
Roles: admin (users, settings, audit log; no decisions), supervisor (decides\n\
and revises decisions), reviewer (decides pending findings), viewer (reads).\n\n\
Scheduled scans: the jobs in [[schedule.jobs]] run in the background (see\n\
`cccwatch schedule list` and the 定时任务 page); schedule.enabled = false turns\n\
them off for bureaus that use cron or systemd timers instead.\n\n\
Probes and metrics, open without login: /healthz (the process answers),\n\
/readyz (200 when the database answers and the server is not shutting down,\n\
503 otherwise), /metrics (Prometheus text format; counts only).\n\n\
Stops cleanly on Ctrl-C or SIGTERM: /readyz turns 503, scans save their frontier\n\
(the next run resumes them), no new connections, and requests in progress get\n\
web.shutdown_timeout_secs (30) to finish.")]
pub struct ServeArgs {
    /// Address and port to listen on (default from config: web.bind).
    #[arg(long, value_name = "ADDR:PORT")]
    bind: Option<String>,
}

pub async fn run(app: &App, a: ServeArgs) -> anyhow::Result<ExitCode> {
    let bind = a.bind.unwrap_or_else(|| app.settings.web.bind.clone());
    let addr: std::net::SocketAddr = bind.parse().with_context(|| {
        format!("--bind / web.bind: `{bind}` is not an address and port such as 127.0.0.1:8080")
    })?;
    let store = app.store().await?;
    store.optimize().await?;
    let catalog = app
        .settings
        .certdb
        .load_catalog()
        .context("certdb.catalog: reading the catalog")?;
    super::match_cmd::catch_up(app, &store).await?;
    let brands = match store.brands().await? {
        b if b.is_empty() => BrandTable::embedded(),
        b => BrandTable::new(b),
    };
    if store.users().await?.is_empty() {
        eprintln!(
            "note: there are no accounts yet. Create one first, e.g.\n  cccwatch user add admin --role admin --name 系统管理员"
        );
    }
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} (web.bind); is another program using the port?")
    })?;
    let local = listener.local_addr()?;
    let state = AppState::with_notices(
        store.clone(),
        app.settings.web.clone(),
        catalog,
        brands,
        app.settings.notices.clone(),
        app.settings.platform_labels(),
    );
    // The scheduler: scans in the background, stopped with the web app.
    let shutdown = CancellationToken::new();
    let tasks = TaskTracker::new();
    let settings = Arc::new(app.settings.clone());
    let (requests_tx, requests_rx) = mpsc::channel(8);
    let scheduler = if settings.schedule.enabled {
        let fetcher = Arc::new(Fetcher::new(settings.crawl.fetch_settings())?);
        let scheduler = Scheduler::new(
            store.clone(),
            settings.clone(),
            fetcher,
            Arc::new(SystemClock),
            shutdown.clone(),
        )?;
        let jobs = scheduler.jobs().len();
        tracing::info!(jobs, "scheduler started");
        tasks.spawn(Arc::new(scheduler).run(requests_rx));
        Some(jobs)
    } else {
        tracing::info!("scheduler disabled (schedule.enabled = false)");
        None
    };
    let state = AppState::with_schedule(
        state,
        ScheduleHandle {
            settings: settings.clone(),
            requests: scheduler.is_some().then_some(requests_tx),
        },
    );
    match scheduler {
        Some(jobs) => println!(
            "review workspace on http://{local}/ with {jobs} scheduled job(s) (Ctrl-C to stop)"
        ),
        None => println!("review workspace on http://{local}/ (Ctrl-C to stop)"),
    }
    tracing::info!(%local, "serving the review workspace");
    let signal = async move {
        super::shutdown::signalled().await;
        tracing::info!("shutdown signal received");
        // Scans stop first: pages in flight finish, the frontier is saved.
        shutdown.cancel();
    };
    web::serve(state, listener, signal).await?;
    tasks.close();
    if tokio::time::timeout(SCANS_STOP_WITHIN, tasks.wait())
        .await
        .is_err()
    {
        eprintln!(
            "scans did not stop within {} s; they resume at the next run",
            SCANS_STOP_WITHIN.as_secs()
        );
    }
    if tokio::time::timeout(Duration::from_secs(5), store.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still in use after shutdown; closing anyway");
    }
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}
