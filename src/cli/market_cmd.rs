//! `cccwatch market`: serve the demo marketplace (for trying adapters,
//! benchmarks and politeness measurements).

use cccwatch::market::{Market, MarketConfig};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  cccwatch market --port 8080\n  \
cccwatch market --port 8080 --items 100000 --small-pages --request-log requests.jsonl\n\n\
Serves on 127.0.0.1 only, until Ctrl-C. Scan it with\n  \
cccwatch scan --platform demo --base-url http://127.0.0.1:8080")]
pub struct MarketArgs {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Number of listings.
    #[arg(long, default_value_t = 3000)]
    items: usize,
    /// Result cards per search page.
    #[arg(long, default_value_t = 40)]
    page_size: usize,
    /// Item pages of 3–5 KB instead of 30–60 KB.
    #[arg(long)]
    small_pages: bool,
    /// Answer every Nth item request with 429 (0 = never).
    #[arg(long, default_value_t = 0)]
    throttle_every: u64,
    /// Answer every Nth request with 503 (0 = never).
    #[arg(long, default_value_t = 0)]
    unavailable_every: u64,
    /// Milliseconds added to every response.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Append every request received as a JSON line to this file.
    #[arg(long)]
    request_log: Option<PathBuf>,
    /// Seed of the generated listings.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub async fn run(a: MarketArgs) -> anyhow::Result<ExitCode> {
    let cfg = MarketConfig {
        seed: a.seed,
        items: a.items,
        page_size: a.page_size.max(1),
        small_pages: a.small_pages,
        throttle_every: a.throttle_every,
        unavailable_every: a.unavailable_every,
        latency: std::time::Duration::from_millis(a.latency_ms),
        request_log: a.request_log,
        ..MarketConfig::default()
    };
    let market = Market::start_on(cfg, SocketAddr::from(([127, 0, 0, 1], a.port))).await?;
    println!(
        "demo marketplace on {} ({} listings); Ctrl-C to stop",
        market.base_url(),
        a.items
    );
    tokio::signal::ctrl_c().await?;
    let served = market.requests().len();
    market.shutdown().await;
    println!("stopped after {served} requests");
    Ok(ExitCode::SUCCESS)
}
