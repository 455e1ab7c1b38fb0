//! `cccwatch gen`: synthetic data for benchmarks.

use super::App;
use cccwatch::synth::{SynthOptions, generate};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  cccwatch gen --certs 1000000 --listings 100000 --out-dir /tmp/big\n\n\
Writes DIR/certificates.csv (an export with Chinese headers), DIR/listings.jsonl (a feed)\n\
and DIR/truth.csv (item_id, verdict, cert_no) with verdicts true as of 2026-06-30."
)]
pub struct GenArgs {
    #[arg(long, default_value_t = 100_000)]
    certs: usize,
    #[arg(long, default_value_t = 10_000)]
    listings: usize,
    #[arg(long)]
    out_dir: PathBuf,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub async fn run(_app: &App, a: GenArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&a.out_dir)?;
    let opts = SynthOptions {
        certs: a.certs,
        listings: a.listings,
        seed: a.seed,
    };
    let dir = a.out_dir.clone();
    let summary = tokio::task::spawn_blocking(move || generate(&opts, &dir)).await??;
    println!("{summary}");
    Ok(ExitCode::SUCCESS)
}
