//! Politeness measured at the server: N demo marketplaces (N hosts), each
//! with quota Q requests/s and burst B, scanned at once by one crawler.
//! Prints, per host, the most requests seen in any one-second window and the
//! achieved rate while there was work, and the aggregate rate.
//!
//!     cargo run --release --example politeness -- [HOSTS] [QUOTA] [BURST] [ITEMS_PER_HOST]
//!     cargo run --release --example politeness -- 20 5 1 150

use cccwatch::config::Settings;
use cccwatch::crawl::fetch::Fetcher;
use cccwatch::extract::{Adapter, PlatformConfig};
use cccwatch::market::{Market, MarketConfig};
use cccwatch::progress::Progress;
use cccwatch::scan::{LoopSettings, ScanPlan, ScanRunner, start_scan};
use cccwatch::store::Store;
use std::path::Path;
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: f64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (hosts, quota, burst, items) = (
        arg(0, 20.0) as usize,
        arg(1, 5.0),
        arg(2, 1.0) as u32,
        arg(3, 150.0) as usize,
    );
    let dir = tempfile::tempdir()?;
    let store = Store::open(&format!("sqlite://{}", dir.path().join("p.db").display())).await?;
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config/platforms/demo.toml"),
    )?;
    let mut markets = Vec::new();
    let mut jobs = Vec::new();
    for h in 0..hosts {
        let market = Market::start(MarketConfig {
            items,
            small_pages: true,
            removed_share: 0.0,
            seed: h as u64 + 1,
            ..MarketConfig::default()
        })
        .await?;
        let mut c = PlatformConfig::from_toml(&template, Path::new("demo.toml"))?;
        c.name = format!("host{h:02}");
        c.base_url = market.base_url();
        c.politeness.requests_per_second = quota;
        c.politeness.burst = burst;
        c.politeness.concurrency = 4;
        let adapter = Arc::new(Adapter::new(c, Path::new("demo.toml"))?);
        let plan = ScanPlan {
            keywords: vec!["插座".into(), "电水壶".into(), "玩具".into()],
            max_pages: None,
            as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(),
        };
        let id = start_scan(&store, &adapter, &plan).await?;
        jobs.push((adapter, id));
        markets.push(market);
    }
    let settings = Settings::default();
    let fetcher = Arc::new(Fetcher::new(settings.crawl.fetch_settings())?);
    let runner = ScanRunner::new(store.clone(), settings, fetcher, LoopSettings::default());
    let stop = tokio_util::sync::CancellationToken::new();
    let started = std::time::Instant::now();
    let runs = jobs.into_iter().map(|(a, id)| {
        let (runner, stop) = (&runner, stop.clone());
        async move { runner.run(a, id, stop, &Progress::hidden()).await }
    });
    for r in futures_util::future::join_all(runs).await {
        let r = r?;
        anyhow::ensure!(
            r.completed && r.scan.pages_failed == 0,
            "scan {} did not complete cleanly",
            r.scan.id
        );
    }
    let wall = started.elapsed().as_secs_f64();
    println!(
        "{hosts} hosts, quota {quota}/s, burst {burst}, {items} listings each; crawl wall time {wall:.1} s"
    );
    println!(
        "host   requests  max/1s-window  achieved/s  (limit {})",
        quota as usize + burst as usize
    );
    let mut worst = 0;
    let (mut total, mut min_rate) = (0usize, f64::MAX);
    let mut all_at: Vec<u64> = Vec::new();
    for (h, m) in markets.iter().enumerate() {
        let at: Vec<u64> = m.requests().iter().map(|r| r.at_ms).collect();
        let peak = max_per_second(&at);
        let span = (at[at.len() - 1] - at[0]) as f64 / 1000.0;
        let rate = (at.len() - 1) as f64 / span;
        println!("host{h:02} {:>8} {:>14} {:>11.2}", at.len(), peak, rate);
        worst = worst.max(peak);
        total += at.len();
        min_rate = min_rate.min(rate);
        let offset = (m.started() - markets[0].started()).as_millis() as u64;
        all_at.extend(at.iter().map(|t| t + offset));
    }
    all_at.sort_unstable();
    let busy = steady_aggregate(&all_at, hosts);
    println!(
        "worst window {worst} (limit {}), lowest per-host rate {min_rate:.2}/s ({:.1}% of quota)",
        quota as usize + burst as usize,
        100.0 * min_rate / quota
    );
    println!(
        "aggregate while all hosts had work: {busy:.1} requests/s ({:.1}% of {:.0}); {total} requests in all",
        100.0 * busy / (quota * hosts as f64),
        quota * hosts as f64
    );
    for m in markets {
        m.shutdown().await;
    }
    Ok(())
}

fn max_per_second(at: &[u64]) -> usize {
    let (mut best, mut lo) = (0, 0);
    for hi in 0..at.len() {
        while at[hi] - at[lo] >= 1000 {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best
}

/// Requests per second over the middle 80% of the crawl (all hosts busy).
fn steady_aggregate(at: &[u64], _hosts: usize) -> f64 {
    let n = at.len();
    let (a, b) = (at[n / 10], at[n * 9 / 10]);
    (n * 8 / 10) as f64 / ((b - a) as f64 / 1000.0)
}
