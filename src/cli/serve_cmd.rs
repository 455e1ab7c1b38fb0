//! `cccwatch serve`: the review workspace on the web.

use super::App;
use anyhow::Context;
use cccwatch::matching::brand::BrandTable;
use cccwatch::web::{self, AppState};
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
cccwatch user add admin --role admin --name 系统管理员     # first, an account\n  \
cccwatch serve                                          # then http://127.0.0.1:8080\n  \
cccwatch serve --bind 0.0.0.0:8080                      # reachable from the office network\n\n\
Roles: admin (users, settings, audit log; no decisions), supervisor (decides\n\
and revises decisions), reviewer (decides pending findings), viewer (reads).\n\n\
Probes and metrics, open without login: /healthz (the process answers),
/readyz (200 when the database answers and the server is not shutting down,
503 otherwise), /metrics (Prometheus text format; counts only).\n\n\
Stops cleanly on Ctrl-C or SIGTERM: /readyz turns 503, no new connections, and
requests in progress get web.shutdown_timeout_secs (30) to finish.")]
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
    );
    println!("review workspace on http://{local}/ (Ctrl-C to stop)");
    tracing::info!(%local, "serving the review workspace");
    web::serve(state, listener, shutdown_signal()).await?;
    if tokio::time::timeout(std::time::Duration::from_secs(5), store.close())
        .await
        .is_err()
    {
        tracing::warn!("database connections still in use after shutdown; closing anyway");
    }
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}
