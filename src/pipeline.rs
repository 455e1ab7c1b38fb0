//! Wires the match stage: listings are read from the store in pages, judged
//! in parallel on rayon's threads, and the findings written back, with
//! bounded channels between the three so memory stays flat.

use crate::certdb::{Catalog, catalog::CatalogError};
use crate::config::Settings;
use crate::domain::Verdict;
use crate::matching::{BrandTable, CertIndex, Judge, Matcher};
use crate::progress::Progress;
use crate::store::{FindingWrite, ListingFilter, Store, StoreError, StoredListing};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("catalog: {0}")]
    Catalog(#[from] CatalogError),
    #[error("the matching worker stopped: {0}")]
    Worker(String),
}

/// Everything the matcher reads, loaded once.
pub struct MatchContext {
    pub index: CertIndex,
    pub brands: BrandTable,
    pub catalog: Catalog,
    /// True when the database had no alias table and the built-in one is used.
    pub builtin_brands: bool,
    pub load_time: Duration,
}

/// The brand alias table imported into the database, else the built-in one
/// (then `true`).
pub async fn load_brands(store: &Store) -> Result<(BrandTable, bool), PipelineError> {
    let stored = store.brands().await?;
    Ok(if stored.is_empty() {
        (BrandTable::embedded(), true)
    } else {
        (BrandTable::new(stored), false)
    })
}

impl MatchContext {
    pub async fn load(store: &Store, settings: &Settings) -> Result<MatchContext, PipelineError> {
        let started = Instant::now();
        let (brands, builtin_brands) = load_brands(store).await?;
        let catalog = settings.certdb.load_catalog()?;
        let records = store.cert_records().await?;
        let (index, brands) = tokio::task::spawn_blocking(move || {
            let index = CertIndex::build(records, &brands);
            (index, brands)
        })
        .await
        .map_err(|e| PipelineError::Worker(e.to_string()))?;
        Ok(MatchContext {
            index,
            brands,
            catalog,
            builtin_brands,
            load_time: started.elapsed(),
        })
    }

    /// The catalog and the built-in brand table with no certificates: for
    /// judging scope when there is no database yet (`cccwatch explain` on a
    /// fresh machine), without creating one.
    pub fn without_certificates(settings: &Settings) -> Result<MatchContext, PipelineError> {
        let brands = BrandTable::embedded();
        Ok(MatchContext {
            index: CertIndex::build(Vec::new(), &brands),
            brands,
            catalog: settings.certdb.load_catalog()?,
            builtin_brands: true,
            load_time: Duration::ZERO,
        })
    }

    pub fn matcher(&self, as_of: NaiveDate) -> Matcher<'_> {
        Matcher::new(&self.index, &self.brands, &self.catalog, as_of)
    }
}

/// Figures of one match run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MatchReport {
    pub run_id: i64,
    pub as_of: NaiveDate,
    pub listings: u64,
    pub by_verdict: Vec<(Verdict, u64)>,
    pub certificates: usize,
    pub index_load: Duration,
    /// Wall time from the first page read to the last finding written.
    pub elapsed: Duration,
    /// Time spent judging (summed over batches, wall clock of the parallel step).
    pub judge_time: Duration,
}

impl MatchReport {
    pub fn flagged(&self) -> u64 {
        self.by_verdict
            .iter()
            .filter(|(v, _)| v.is_flagged())
            .map(|(_, n)| n)
            .sum()
    }
}

/// Re-judges, without crawling, every listing that cites or was matched to
/// one of `certs` (certificates whose status or expiry an import changed).
/// A finding whose verdict changes returns to the review queue. `None` when
/// no listing is concerned.
pub async fn rejudge(
    store: &Store,
    settings: &Settings,
    certs: &[String],
    as_of: NaiveDate,
    progress: &Progress,
) -> Result<Option<MatchReport>, PipelineError> {
    let ids = store.listings_citing(certs).await?;
    if ids.is_empty() {
        return Ok(None);
    }
    let ctx = Arc::new(MatchContext::load(store, settings).await?);
    let filter = ListingFilter {
        platform: None,
        scan_id: None,
        ids: Some(Arc::new(ids)),
    };
    let report = run_match(
        store,
        ctx,
        filter,
        as_of,
        settings.matching.batch_size,
        progress,
    )
    .await?;
    Ok(Some(report))
}

/// What [`rejudge_for_catalog`] did.
#[derive(Debug)]
pub enum CatalogRejudge {
    /// The findings were judged with this catalog already.
    Unchanged,
    /// No listing was judged yet: the catalog is recorded.
    Recorded,
    /// The catalog changed (or was never recorded): every listing was
    /// re-judged; changed verdicts are back in the review queue.
    Rejudged(MatchReport),
}

/// Re-judges every listing when the catalog (`certdb.catalog`) is not the
/// one the stored findings were judged with, as a certificate status change
/// does for the listings citing it. The catalog's fingerprint is recorded
/// only after the last finding is written: a run killed halfway leaves the
/// old one, and the next command that calls this finishes the work.
pub async fn rejudge_for_catalog(
    store: &Store,
    settings: &Settings,
    as_of: NaiveDate,
    progress: &Progress,
) -> Result<CatalogRejudge, PipelineError> {
    let catalog = settings.certdb.load_catalog()?;
    let fingerprint = catalog.fingerprint().to_string();
    if store.catalog_fingerprint().await?.as_deref() == Some(fingerprint.as_str()) {
        return Ok(CatalogRejudge::Unchanged);
    }
    if store.count_findings().await? == 0 {
        store.set_catalog_fingerprint(&fingerprint).await?;
        return Ok(CatalogRejudge::Recorded);
    }
    let ctx = Arc::new(MatchContext::load(store, settings).await?);
    let report = run_match(
        store,
        ctx,
        ListingFilter::default(),
        as_of,
        settings.matching.batch_size,
        progress,
    )
    .await?;
    store.set_catalog_fingerprint(&fingerprint).await?;
    Ok(CatalogRejudge::Rejudged(report))
}

/// What [`rejudge_for_certs`] did.
#[derive(Debug)]
pub enum CertRejudge {
    /// Every certificate change is reflected in the findings already.
    Unchanged,
    /// Nothing was judged yet (or a full judging covered it): recorded.
    Recorded,
    /// Certificates changed status or expiry since the findings were
    /// judged: the listings citing or matched to them were re-judged
    /// (`None` when no listing is concerned).
    Rejudged {
        certs: usize,
        report: Option<MatchReport>,
    },
}

/// Re-judges the listings that cite or were matched to certificates whose
/// status or expiry changed since the findings were last brought up to
/// date. The mark of what was judged moves only after the findings are
/// written, so a process killed between an import's commit and the
/// re-judging (or during it) leaves the work pending, and the next call —
/// from any command that reads or writes verdicts — finishes it.
pub async fn rejudge_for_certs(
    store: &Store,
    settings: &Settings,
    as_of: NaiveDate,
    progress: &Progress,
) -> Result<CertRejudge, PipelineError> {
    let latest = store.cert_history_mark().await?;
    let judged = store.certs_judged_through().await?;
    if judged == Some(latest) {
        return Ok(CertRejudge::Unchanged);
    }
    if judged.is_none() && store.count_findings().await? == 0 {
        store.set_certs_judged_through(latest).await?;
        return Ok(CertRejudge::Recorded);
    }
    // A database from before the mark: every recorded change is a candidate.
    let changed = store
        .certs_changed_between(judged.unwrap_or(0), latest)
        .await?;
    let report = if changed.is_empty() {
        None
    } else {
        rejudge(store, settings, &changed, as_of, progress).await?
    };
    crate::crash::point("rejudge.certs.findings_written");
    store.set_certs_judged_through(latest).await?;
    Ok(CertRejudge::Rejudged {
        certs: changed.len(),
        report,
    })
}

/// What [`catch_up`] did.
#[derive(Debug)]
pub struct CatchUp {
    pub catalog: CatalogRejudge,
    pub certs: CertRejudge,
}

/// Finishes every pending re-judging: a changed catalog (all listings), then
/// certificate changes not yet reflected in the findings.
pub async fn catch_up(
    store: &Store,
    settings: &Settings,
    as_of: NaiveDate,
    progress: &Progress,
) -> Result<CatchUp, PipelineError> {
    let latest = store.cert_history_mark().await?;
    let catalog = rejudge_for_catalog(store, settings, as_of, progress).await?;
    if matches!(catalog, CatalogRejudge::Rejudged(_)) {
        // Every listing was just judged against the certificates as they are.
        store.set_certs_judged_through(latest).await?;
    }
    let certs = rejudge_for_certs(store, settings, as_of, progress).await?;
    Ok(CatchUp { catalog, certs })
}

/// Judges every listing (of `platform`, or all) and stores one finding each.
pub async fn run_match(
    store: &Store,
    ctx: Arc<MatchContext>,
    filter: ListingFilter,
    as_of: NaiveDate,
    batch_size: usize,
    progress: &Progress,
) -> Result<MatchReport, PipelineError> {
    let writer = store
        .begin_match_run(as_of, filter.platform.as_deref())
        .await?;
    let started = Instant::now();
    let (page_tx, mut page_rx) = mpsc::channel::<Vec<StoredListing>>(2);
    let (found_tx, mut found_rx) = mpsc::channel::<Vec<FindingWrite>>(2);

    let reader_store = store.clone();
    let reader_filter = filter;
    let reader = tokio::spawn(async move {
        let mut after = 0;
        loop {
            let page = reader_store
                .listings_page(&reader_filter, after, batch_size as i64)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            if page_tx.send(page).await.is_err() {
                break;
            }
        }
        Ok::<_, StoreError>(())
    });

    let judge_ctx = ctx.clone();
    let judger = tokio::spawn(async move {
        let mut judge_time = Duration::ZERO;
        while let Some(page) = page_rx.recv().await {
            let ctx = judge_ctx.clone();
            let (findings, took) = tokio::task::spawn_blocking(move || {
                let t = Instant::now();
                let m = ctx.matcher(as_of);
                let out: Vec<FindingWrite> = page
                    .par_iter()
                    .map(|s| FindingWrite {
                        listing_id: s.id,
                        finding: m.judge(&s.listing),
                    })
                    .collect();
                (out, t.elapsed())
            })
            .await
            .map_err(|e| PipelineError::Worker(e.to_string()))?;
            judge_time += took;
            if found_tx.send(findings).await.is_err() {
                break;
            }
        }
        Ok::<_, PipelineError>(judge_time)
    });

    let mut counts: Vec<(Verdict, u64)> = Verdict::ALL.iter().map(|v| (*v, 0)).collect();
    let mut listings = 0u64;
    while let Some(batch) = found_rx.recv().await {
        writer.write(&batch).await?;
        for w in &batch {
            if let Some(c) = counts.iter_mut().find(|(v, _)| *v == w.finding.verdict) {
                c.1 += 1;
            }
        }
        listings += batch.len() as u64;
        progress.inc(batch.len() as u64);
    }
    reader
        .await
        .map_err(|e| PipelineError::Worker(e.to_string()))??;
    let judge_time = judger
        .await
        .map_err(|e| PipelineError::Worker(e.to_string()))??;
    let elapsed = started.elapsed();
    counts.retain(|(_, n)| *n > 0);
    let run_id = writer.run_id();
    writer.finish(listings, &counts).await?;
    Ok(MatchReport {
        run_id,
        as_of,
        listings,
        by_verdict: counts,
        certificates: ctx.index.len(),
        index_load: ctx.load_time,
        elapsed,
        judge_time,
    })
}
