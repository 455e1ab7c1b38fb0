//! `cccwatch match`

use super::App;
use anyhow::Context;
use cccwatch::pipeline::{MatchContext, MatchReport, run_match};
use cccwatch::progress::Progress;
use clap::Args;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cccwatch match\n  cccwatch match --platform demo --as-of 2026-11-28\n\n\
Every listing gets one finding: compliant, not_in_scope, uncertified, cert_not_found,\n\
cert_mismatch, expired, suspended, revoked or cancelled, with a confidence and reasons."
)]
pub struct MatchArgs {
    /// Only listings of this platform.
    #[arg(long)]
    platform: Option<String>,
    /// Date statuses and expiry are judged on (default today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<chrono::NaiveDate>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(app: &App, a: MatchArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let report = match_all(
        app,
        &store,
        a.platform.as_deref(),
        super::as_of_or_today(a.as_of),
    )
    .await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn match_all(
    app: &App,
    store: &cccwatch::store::Store,
    platform: Option<&str>,
    as_of: chrono::NaiveDate,
) -> anyhow::Result<MatchReport> {
    let ctx = MatchContext::load(store, &app.settings).await?;
    if ctx.builtin_brands {
        tracing::warn!("no brand alias table imported; using the built-in certdb/brands.csv");
    }
    if ctx.index.is_empty() {
        tracing::warn!(
            "the certificate database is empty: import an export first (cccwatch certdb import FILE)"
        );
    }
    let total = store.count_listings(platform).await?;
    let progress = Progress::new(Some(total as u64), "listings", app.progress);
    progress.set_message("matching");
    if app.settings.matching.threads > 0 {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(app.settings.matching.threads)
            .build_global();
    }
    let fingerprint = ctx.catalog.fingerprint().to_string();
    let report = run_match(
        store,
        Arc::new(ctx),
        cccwatch::store::ListingFilter {
            platform: platform.map(str::to_string),
            scan_id: None,
            ids: None,
        },
        as_of,
        app.settings.matching.batch_size,
        &progress,
    )
    .await?;
    progress.finish();
    if platform.is_none() {
        // Every listing is judged with this catalog now.
        store.set_catalog_fingerprint(&fingerprint).await?;
    }
    Ok(report)
}

/// Re-judges every listing when the catalog changed since the stored
/// findings were judged, and says so (`scan`, `serve`, `certdb import`).
pub async fn catch_up_with_catalog(
    app: &App,
    store: &cccwatch::store::Store,
) -> anyhow::Result<()> {
    let progress = Progress::new(None, "listings", app.progress);
    progress.set_message("the catalog changed: re-judging every listing");
    let done = cccwatch::pipeline::rejudge_for_catalog(
        store,
        &app.settings,
        super::as_of_or_today(None),
        &progress,
    )
    .await
    .context("certdb.catalog: re-judging listings with the changed catalog")?;
    progress.finish();
    if let cccwatch::pipeline::CatalogRejudge::Rejudged(r) = done {
        println!(
            "the catalog changed since the last judging: {} listing(s) re-judged (run {}); changed verdicts are back in the review queue",
            r.listings, r.run_id
        );
    }
    Ok(())
}

pub fn print_report(r: &MatchReport) {
    println!(
        "matched {} listings against {} certificates as of {} (run {})",
        r.listings, r.certificates, r.as_of, r.run_id
    );
    for (v, n) in &r.by_verdict {
        println!("  {:<15} {:<10} {n:>9}", v.as_str(), v.label_zh());
    }
    println!("  flagged: {}", r.flagged());
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    println!(
        "index loaded in {:.2} s; matched in {:.2} s ({:.0} listings/s end to end; judging alone {:.2} s, {:.0} listings/s)",
        r.index_load.as_secs_f64(),
        secs,
        r.listings as f64 / secs,
        r.judge_time.as_secs_f64(),
        r.listings as f64 / r.judge_time.as_secs_f64().max(1e-9)
    );
}
