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
    /// Date statuses and expiry are judged on (default today in Beijing, UTC+8).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<chrono::NaiveDate>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(app: &App, a: MatchArgs) -> anyhow::Result<ExitCode> {
    // A full match brings every finding up to date itself; one platform's
    // leaves the others to the pending re-judging, finished first.
    let store = if a.platform.is_none() {
        app.store().await?
    } else {
        app.judging_store().await?
    };
    let closed = store.close_stale_match_runs().await?;
    if closed > 0 {
        eprintln!("{closed} match run(s) of a process that died are now recorded as interrupted");
    }
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
    let cert_mark = store.cert_history_mark().await?;
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
        // Every listing is judged with this catalog and these certificates now.
        store.set_catalog_fingerprint(&fingerprint).await?;
        store.set_certs_judged_through(cert_mark).await?;
    }
    Ok(report)
}

/// Finishes pending re-judging (a changed catalog, certificate changes an
/// import committed but did not get to re-judge) and says what it did, on
/// stderr so that `--json` output stays clean. Every command that reads or
/// writes verdicts opens its store through [`super::App::judging_store`],
/// which calls this.
pub async fn catch_up(app: &App, store: &cccwatch::store::Store) -> anyhow::Result<()> {
    use cccwatch::pipeline::{CatalogRejudge, CertRejudge};
    let progress = Progress::new(None, "listings", app.progress);
    progress.set_message("bringing findings up to date (catalog, certificate changes)");
    let done =
        cccwatch::pipeline::catch_up(store, &app.settings, super::as_of_or_today(None), &progress)
            .await
            .context("re-judging listings after a catalog or certificate change")?;
    progress.finish();
    if let CatalogRejudge::Rejudged(r) = &done.catalog {
        eprintln!(
            "the catalog changed since the last judging: {} listing(s) re-judged (run {}); changed verdicts are back in the review queue",
            r.listings, r.run_id
        );
    }
    match &done.certs {
        CertRejudge::Rejudged {
            certs,
            report: None,
        } => eprintln!(
            "{certs} certificate(s) changed status or expiry; no listing cites or matches them"
        ),
        CertRejudge::Rejudged {
            certs,
            report: Some(r),
        } => {
            let verdicts: Vec<String> = r
                .by_verdict
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(v, n)| format!("{} {n}", v.as_str()))
                .collect();
            eprintln!(
                "{certs} certificate(s) changed status or expiry: {} listing(s) citing or matched to them re-judged ({}); \
                 changed verdicts are back in the review queue",
                r.listings,
                verdicts.join(", ")
            );
        }
        CertRejudge::Unchanged | CertRejudge::Recorded => {}
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
