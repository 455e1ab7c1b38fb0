//! Scan stage: crawl → extract → match for one platform, resumable.
//!
//! A dispatcher claims due entries from the frontier in the database, a
//! task per entry fetches it politely ([`crate::crawl::fetch`]) and turns
//! the outcome into an update on the blocking pool ([`process`]), and one
//! writer commits updates in batches. An entry counts as finished only
//! when its batch is committed, so `kill -9` loses at most in-flight pages,
//! which `--resume` fetches again; nothing already stored is fetched twice.
//! When the frontier is empty the scan's listings are matched.

pub mod cluster;
pub mod lock;
pub mod outcome;
pub mod process;
pub mod rebase;
pub mod worker;

use crate::config::Settings;
use crate::crawl::fetch::{Fetcher, SiteRules};
use crate::domain::RunState;
use crate::extract::{Adapter, canonical_url};
use crate::pipeline::{MatchContext, MatchReport, PipelineError, run_match};
use crate::progress::Progress;
use crate::store::{
    Claimant, EntryKind, EntryResult, FrontierCounts, ListingFilter, NewEntry, ScanRecord, Store,
    StoreError, VerifyScope,
};
use chrono::NaiveDate;
use cluster::{ClusterTiming, Member, Role};
use outcome::ScanEnd;
use process::Limits;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Match(#[from] PipelineError),
    #[error("scan {0} does not exist")]
    NoSuchScan(i64),
    #[error(transparent)]
    Rebase(#[from] rebase::RebaseError),
    #[error(
        "platform {0} has no keywords to search: give --keywords or add [keywords] to its file"
    )]
    NoKeywords(String),
    #[error("a scan task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Adapter(#[from] crate::extract::AdapterError),
    #[error("no platform `{name}`: {path} does not exist (platforms there: {available})")]
    NoSuchPlatform {
        name: String,
        path: std::path::PathBuf,
        available: String,
    },
}

/// Reads platform `name` (`NAME.toml` in `dir`), naming the ones there when
/// it does not exist.
pub fn load_platform(dir: &std::path::Path, name: &str) -> Result<Adapter, ScanError> {
    let path = dir.join(format!("{name}.toml"));
    if !path.exists() {
        let mut available: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| {
                    let p = e.ok()?.path();
                    (p.extension()? == "toml")
                        .then(|| p.file_stem()?.to_str().map(str::to_string))?
                })
                .collect()
            })
            .unwrap_or_default();
        available.sort();
        return Err(ScanError::NoSuchPlatform {
            name: name.to_string(),
            path,
            available: if available.is_empty() {
                "none".into()
            } else {
                available.join(", ")
            },
        });
    }
    Ok(Adapter::from_file(&path)?)
}

/// What to scan.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    /// Keywords to search; empty means the adapter's seed keywords.
    pub keywords: Vec<String>,
    /// Result pages per keyword; `None` means the adapter's `search.max_pages`.
    pub max_pages: Option<u32>,
    pub as_of: NaiveDate,
}

/// Knobs of the scan loop (from `[crawl]`).
#[derive(Debug, Clone, Copy)]
pub struct LoopSettings {
    pub max_attempts: u32,
    /// Results committed per transaction at most.
    pub write_batch: usize,
}

impl Default for LoopSettings {
    fn default() -> Self {
        LoopSettings {
            max_attempts: 4,
            write_batch: 64,
        }
    }
}

/// How a scan run ended.
#[derive(Debug)]
pub struct ScanOutcome {
    pub scan: ScanRecord,
    /// False when stopped (Ctrl-C) before the frontier was empty.
    pub completed: bool,
    /// Completed, completed with errors, failed or stopped.
    pub end: ScanEnd,
    pub matched: Option<MatchReport>,
    /// Up to 20 pages that failed for good: URL, status, error.
    pub failures: Vec<(String, Option<i64>, String)>,
    /// Every page that failed for good, by reason and host.
    pub failure_groups: Vec<crate::crawl::failure::FailureGroup>,
    /// Time spent crawling in this run (not matching).
    pub crawl_time: Duration,
    /// Frontier entries by state at the end.
    pub frontier: FrontierCounts,
}

/// Politeness rules of an adapter, for the fetcher.
pub fn site_rules(adapter: &Adapter) -> SiteRules {
    let c = &adapter.config;
    SiteRules {
        platform: c.name.clone(),
        hosts: adapter.hosts(),
        requests_per_second: c.politeness.requests_per_second,
        burst: c.politeness.burst,
        concurrency: c.politeness.concurrency,
        robots: c.robots,
        legal_basis: c.legal_basis.clone(),
        allow_private: c.allow_private_addresses,
    }
}

/// Creates a scan record with its seed result pages.
pub async fn start_scan(
    store: &Store,
    adapter: &Adapter,
    plan: &ScanPlan,
) -> Result<i64, ScanError> {
    let since = (store.now() - chrono::Duration::days(crate::signals::ACTIVE_DAYS)).to_rfc3339();
    let (signal_keywords, signal_items) = store.signal_seeds(adapter.name(), &since).await?;
    let mut keywords = if !adapter.searches_keywords() {
        vec![String::new()]
    } else if plan.keywords.is_empty() {
        adapter.config.all_keywords()
    } else {
        plan.keywords.clone()
    };
    if adapter.searches_keywords() {
        // Brands and models named by sampling results and complaints.
        for k in signal_keywords {
            if !keywords.contains(&k) {
                keywords.push(k);
            }
        }
    }
    if keywords.is_empty() {
        return Err(ScanError::NoKeywords(adapter.name().to_string()));
    }
    let max_pages = plan
        .max_pages
        .unwrap_or(adapter.config.search.max_pages)
        .max(1);
    let first = adapter.config.search.first_page;
    let mut seeds: Vec<NewEntry> = keywords
        .iter()
        .map(|k| {
            let url = adapter.search_url(k, first);
            let canon = Url::parse(&url)
                .map(|u| canonical_url(&u))
                .unwrap_or(url.clone());
            NewEntry {
                kind: EntryKind::Search,
                key: format!("search:{canon}"),
                host: crate::store::host_of(&url),
                url,
                keyword: Some(k.clone()),
                page: Some(first as i64),
                card: None,
            }
        })
        .collect();
    seeds.extend(item_rechecks(store, adapter, signal_items).await?);
    Ok(store
        .create_scan(adapter.name(), plan.as_of, &keywords, max_pages, &seeds)
        .await?)
}

/// Item pages of the listings under notice, so that the scan sees whether
/// they were taken down even when search no longer shows them, and of the
/// items named by risk signals. Adapters that do not open item pages rely
/// on the search results instead.
async fn item_rechecks(
    store: &Store,
    adapter: &Adapter,
    signal_items: Vec<String>,
) -> Result<Vec<NewEntry>, ScanError> {
    if !adapter.config.item.fetch {
        return Ok(Vec::new());
    }
    let mut items = store.listings_under_notice(adapter.name()).await?;
    items.extend(signal_items.into_iter().map(|id| (id, None)));
    // One entry per item, the one with a URL when there is one.
    items.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.is_some().cmp(&a.1.is_some())));
    items.dedup_by(|a, b| a.0 == b.0);
    Ok(items
        .into_iter()
        .filter_map(|(id, url)| {
            let url = adapter.canonical_item_url(Some(&id), url.as_deref())?;
            Some(NewEntry {
                kind: EntryKind::Item,
                key: format!("item:{id}"),
                host: crate::store::host_of(&url),
                url,
                keyword: None,
                page: None,
                card: None,
            })
        })
        .collect())
}

/// Moves an unfinished scan's saved frontier to the adapter's base URL when
/// it points elsewhere (see [`rebase`]); returns what moved.
pub async fn rebase_frontier(
    store: &Store,
    adapter: &Adapter,
    scan_id: i64,
) -> Result<rebase::Rebase, ScanError> {
    let saved: Vec<rebase::SavedEntry> = store
        .open_entries(scan_id)
        .await?
        .into_iter()
        .map(|(id, url, key)| rebase::SavedEntry { id, url, key })
        .collect();
    let plan = rebase::plan(&saved, adapter)?;
    if !plan.rewrites.is_empty() {
        let rows: Vec<(i64, String, String)> = plan
            .rewrites
            .iter()
            .map(|r| (r.id, r.url.clone(), r.key.clone()))
            .collect();
        store.rebase_entries(scan_id, &rows).await?;
        tracing::info!(scan_id, from = %plan.from, to = %plan.to, entries = rows.len(), "saved frontier moved");
    }
    Ok(plan)
}

/// Runs scans: shares the fetcher (politeness across platforms), the
/// process's membership of the cluster (joined at the first scan) and the
/// match context (loaded when a scan first needs it, reloaded when the
/// certificate generation or the catalog changes).
pub struct ScanRunner {
    pub store: Store,
    pub settings: Settings,
    pub fetcher: Arc<Fetcher>,
    pub loop_settings: LoopSettings,
    role: Role,
    member: tokio::sync::OnceCell<Arc<Member>>,
    match_ctx: tokio::sync::Mutex<Option<LoadedContext>>,
}

/// A match context and what it was built from.
struct LoadedContext {
    ctx: Arc<MatchContext>,
    generation: i64,
    catalog: String,
}

/// What a worker's turn on a scan did.
#[derive(Debug, Clone, Copy, Default)]
pub struct HelpOutcome {
    /// False when stopped.
    pub finished: bool,
}

impl ScanRunner {
    pub fn new(
        store: Store,
        settings: Settings,
        fetcher: Arc<Fetcher>,
        loop_settings: LoopSettings,
    ) -> ScanRunner {
        ScanRunner {
            store,
            settings,
            fetcher,
            loop_settings,
            role: Role::Scan,
            member: tokio::sync::OnceCell::new(),
            match_ctx: tokio::sync::Mutex::new(None),
        }
    }

    /// The same runner, registered in the cluster as `role` (a worker, or
    /// the scheduler), not as `cccwatch scan`.
    pub fn with_role(mut self, role: Role) -> ScanRunner {
        self.role = role;
        self
    }

    /// This process in the cluster, registered at the first call.
    pub async fn member(&self) -> Result<Arc<Member>, ScanError> {
        Ok(self
            .member
            .get_or_try_init(|| async {
                Member::join(
                    &self.store,
                    self.role,
                    ClusterTiming::from_settings(&self.settings.cluster),
                    Some(self.fetcher.clone()),
                )
                .await
                .map(Arc::new)
            })
            .await?
            .clone())
    }

    /// Leaves the cluster (releases leases, hands back entries, marks the
    /// process stopped). A runner that never crawled has nothing to leave.
    pub async fn leave(&mut self) {
        if let Some(member) = self.member.take() {
            match Arc::try_unwrap(member) {
                Ok(member) => member.leave().await,
                Err(shared) => {
                    tracing::warn!(id = %shared.id(), "cluster membership still in use; it lapses by itself")
                }
            }
        }
    }

    /// Lends a hand with scan `scan_id` as a worker: crawls what this process
    /// can lease until nothing is left for it now or `stop` is cancelled.
    /// The scan's coordinator matches and ends it.
    pub async fn help(
        &self,
        adapter: Arc<Adapter>,
        scan_id: i64,
        stop: CancellationToken,
    ) -> Result<HelpOutcome, ScanError> {
        let record = self
            .store
            .scan(scan_id)
            .await?
            .ok_or(ScanError::NoSuchScan(scan_id))?;
        self.fetcher.register(site_rules(&adapter));
        let member = self.member().await?;
        let span =
            tracing::info_span!("scan", scan_id, platform = %record.platform, part = "worker");
        let finished = crawl(
            Crawl {
                store: &self.store,
                fetcher: self.fetcher.clone(),
                adapter,
                scan_id,
                limits: Limits {
                    max_attempts: self.loop_settings.max_attempts,
                    max_pages: record.max_pages.max(1) as u32,
                },
                loop_settings: self.loop_settings,
                member,
                part: Part::Help,
            },
            stop,
            &Progress::hidden(),
        )
        .instrument(span)
        .await?;
        Ok(HelpOutcome { finished })
    }

    /// Runs (or resumes) scan `scan_id` until its frontier is empty or `stop`
    /// is cancelled, then matches the listings it saw.
    pub async fn run(
        &self,
        adapter: Arc<Adapter>,
        scan_id: i64,
        stop: CancellationToken,
        progress: &Progress,
    ) -> Result<ScanOutcome, ScanError> {
        let store = &self.store;
        let record = store
            .scan(scan_id)
            .await?
            .ok_or(ScanError::NoSuchScan(scan_id))?;
        let member = self.member().await?;
        // A process of this machine killed mid-scan is known dead at once:
        // its entries return now, not when its heartbeat lapses.
        member.reap().await?;
        store.reopen_scan(scan_id, member.live_after_ms()).await?;
        fill_hosts(store, scan_id).await?;
        self.fetcher.register(site_rules(&adapter));
        let fetches_items = adapter.config.item.fetch;
        let limits = Limits {
            max_attempts: self.loop_settings.max_attempts,
            max_pages: record.max_pages.max(1) as u32,
        };
        let span = tracing::info_span!("scan", scan_id, platform = %record.platform);
        let mut timer = crate::monitoring::ScanTimer::start(&record.platform);
        let started = std::time::Instant::now();
        let crawled = crawl(
            Crawl {
                store,
                fetcher: self.fetcher.clone(),
                adapter,
                scan_id,
                limits,
                loop_settings: self.loop_settings,
                member,
                part: Part::Coordinate,
            },
            stop,
            progress,
        )
        .instrument(span.clone())
        .await;
        let completed = match crawled {
            Ok(c) => c,
            Err(e) => {
                // Keep it resumable; say why it stopped.
                let msg = format!(
                    "因错误停止（stopped by an error）：{e}；修复后运行 `cccwatch scan --resume` 继续"
                );
                let _ = store
                    .finish_scan(scan_id, RunState::Interrupted, Some(&msg))
                    .await;
                return Err(e);
            }
        };
        let crawl_time = started.elapsed();
        let frontier = store.frontier_counts(scan_id).await?;
        let judged = outcome::judge(&frontier, !completed, self.settings.crawl.max_failed_share);
        let end = judged.end;
        let mut matched = None;
        if completed && frontier.done + frontier.gone > 0 {
            progress.set_message(format!("scan {scan_id}: matching"));
            let as_of =
                NaiveDate::parse_from_str(&record.as_of, "%Y-%m-%d").unwrap_or(NaiveDate::MIN);
            matched = Some(self.match_scan(scan_id, &record.platform, as_of).await?);
            // Listings under notice: removed, still online, past the deadline,
            // back again, relisted. A listing missing from results counts as
            // removed only when no page failed: a failed page may have held it.
            let scope = VerifyScope {
                platform: Some(&record.platform),
                today: as_of,
                scan_id: Some(scan_id),
                absent_means_removed: !fetches_items && end == ScanEnd::Completed,
            };
            let brands = &self.match_context().await?.brands;
            let check = crate::notice::verify::follow_up(store, brands, scope).await?;
            crate::signals::reprioritise(store, brands, Some(&record.platform)).await?;
            // What the scan left (after the notice checks, which can mark
            // listings gone), for comparing scans: `cccwatch scans diff`.
            store.record_scan_listings(scan_id).await?;
            span.in_scope(|| {
                tracing::info!(
                    removed = check.removed,
                    still_online = check.still_online,
                    overdue = check.overdue,
                    reinstated = check.reinstated,
                    relisted = check.relisted,
                    "notices verified"
                )
            });
        }
        let failed = store.failed_entries(scan_id, i64::MAX).await?;
        let failure_groups =
            crate::crawl::failure::group(failed.iter().map(|(u, _, e)| (u.as_str(), e.as_str())));
        let mut message = scan_message(judged.why.as_deref(), &failure_groups);
        if matched.is_some() && self.match_context().await?.index.is_empty() {
            let warn = "证书库为空：引用证书的商品均判为证书编号不存在，请先导入证书数据（cccwatch certdb import）再重新比对";
            message = Some(match message {
                Some(m) => format!("{m}。{warn}"),
                None => warn.to_string(),
            });
        }
        store
            .finish_scan(scan_id, end.state(), message.as_deref())
            .await?;
        timer.outcome(end.state());
        let scan = store
            .scan(scan_id)
            .await?
            .ok_or(ScanError::NoSuchScan(scan_id))?;
        let failures = failed.into_iter().take(20).collect();
        span.in_scope(|| {
            tracing::info!(
                outcome = end.state().as_str(),
                fetched = scan.pages_fetched,
                failed = scan.pages_failed,
                "scan ended"
            )
        });
        Ok(ScanOutcome {
            scan,
            completed,
            end,
            matched,
            failures,
            failure_groups,
            crawl_time,
            frontier,
        })
    }

    /// The match context: loaded once, and again only when the certificate
    /// generation in the database or the catalog file has moved since (a
    /// worker runs for months; certificates are imported nightly).
    async fn match_context(&self) -> Result<Arc<MatchContext>, ScanError> {
        let mut loaded = self.match_ctx.lock().await;
        let generation = self.store.cert_generation().await?;
        let catalog = self
            .settings
            .certdb
            .load_catalog()
            .map_err(PipelineError::from)?
            .fingerprint()
            .to_string();
        if let Some(l) = loaded.as_ref()
            && l.generation == generation
            && l.catalog == catalog
        {
            return Ok(l.ctx.clone());
        }
        let ctx = Arc::new(MatchContext::load(&self.store, &self.settings).await?);
        if loaded.is_some() {
            tracing::info!(
                generation,
                certificates = ctx.index.len(),
                "certificate index reloaded: the certificate database or the catalog changed"
            );
        }
        *loaded = Some(LoadedContext {
            ctx: ctx.clone(),
            generation,
            catalog,
        });
        Ok(ctx)
    }

    async fn match_scan(
        &self,
        scan_id: i64,
        platform: &str,
        as_of: NaiveDate,
    ) -> Result<MatchReport, ScanError> {
        let ctx = self.match_context().await?;
        let filter = ListingFilter {
            platform: Some(platform.to_string()),
            scan_id: Some(scan_id),
            ids: None,
        };
        let batch = self.settings.matching.batch_size;
        let report = run_match(&self.store, ctx, filter, as_of, batch, &Progress::hidden()).await?;
        let by_verdict: serde_json::Map<String, serde_json::Value> = report
            .by_verdict
            .iter()
            .map(|(v, n)| (v.as_str().to_string(), (*n).into()))
            .collect();
        self.store
            .set_scan_findings(scan_id, report.run_id, &by_verdict.into())
            .await?;
        Ok(report)
    }
}

/// Records the hosts of a resumed scan's entries queued before hosts were
/// recorded (a database migrated mid-scan), so that host leases cover them.
async fn fill_hosts(store: &Store, scan_id: i64) -> Result<(), ScanError> {
    let missing = store.entries_without_host(scan_id).await?;
    if missing.is_empty() {
        return Ok(());
    }
    let rows: Vec<(i64, String)> = missing
        .into_iter()
        .map(|(id, url)| (id, crate::store::host_of(&url)))
        .collect();
    store.set_entry_hosts(&rows).await?;
    Ok(())
}

/// The message a scan keeps: why it ended as it did, and the first
/// reasons pages failed (`连接被拒绝 127.0.0.1:1：12 个页面`).
fn scan_message(
    why: Option<&str>,
    groups: &[crate::crawl::failure::FailureGroup],
) -> Option<String> {
    let mut parts: Vec<String> = why.map(str::to_string).into_iter().collect();
    let reasons: Vec<String> = groups
        .iter()
        .take(3)
        .map(|g| format!("{}：{} 个页面", g.headline, g.pages))
        .collect();
    if !reasons.is_empty() {
        parts.push(format!("失败原因：{}", reasons.join("；")));
    }
    (!parts.is_empty()).then(|| parts.join("。"))
}

/// Shared between the dispatcher and the writer.
struct Flow {
    inflight: AtomicUsize,
    wake: Notify,
}

/// How a process takes part in a scan's crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Sees the scan through: crawls while no worker is alive, waits for
    /// the frontier to be empty (workers' entries included), and returns
    /// only then or when stopped.
    Coordinate,
    /// A worker lending a hand: crawls what it can lease and returns as soon
    /// as nothing is left for it now.
    Help,
}

/// Everything one crawl loop needs besides the store.
struct Crawl<'a> {
    store: &'a Store,
    fetcher: Arc<Fetcher>,
    adapter: Arc<Adapter>,
    scan_id: i64,
    limits: Limits,
    loop_settings: LoopSettings,
    member: Arc<Member>,
    part: Part,
}

/// How long the writer waits for more results before committing a batch
/// that is not full.
const WRITE_LINGER: Duration = Duration::from_millis(100);

/// How often a coordinator re-checks who is alive while it waits.
const REAP_EVERY: Duration = Duration::from_secs(2);

/// Crawls scan `scan_id` as `c.part` says; true unless stopped.
async fn crawl(
    c: Crawl<'_>,
    stop: CancellationToken,
    progress: &Progress,
) -> Result<bool, ScanError> {
    let store = c.store;
    let scan_id = c.scan_id;
    let flow = Arc::new(Flow {
        inflight: AtomicUsize::new(0),
        wake: Notify::new(),
    });
    let (tx, rx) = mpsc::channel::<EntryResult>(1024);
    let writer = tokio::spawn(write_results(
        store.clone(),
        scan_id,
        c.adapter.name().to_string(),
        c.member.clone(),
        rx,
        flow.clone(),
        c.loop_settings.write_batch,
    ));
    let cap = window(&c.adapter, c.fetcher.settings().global_concurrency);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let parsers = Arc::new(tokio::sync::Semaphore::new(cores));
    let mut stopped = stop.is_cancelled();
    let mut shown = std::time::Instant::now();
    let mut waits = WaitReport::new(scan_id, c.adapter.name(), progress);
    let mut hosts = HostPlan::new(c.member.timing().poll);
    let mut reaped: Option<std::time::Instant> = None;
    let mut helpers_checked: Option<(std::time::Instant, bool)> = None;
    let mut idle_since: Option<std::time::Instant> = None;
    while !stopped && !writer.is_finished() {
        let free = cap.saturating_sub(flow.inflight.load(Ordering::Acquire));
        // A coordinator leaves the crawl to live workers; alone, it crawls.
        let crawls = match c.part {
            Part::Help => true,
            // A worker seeing a scan through (its coordinator died) crawls too.
            Part::Coordinate if c.member.role() == Role::Worker => true,
            Part::Coordinate => {
                if helpers_checked.is_none_or(|(t, _)| t.elapsed() >= REAP_EVERY) {
                    let alone = c.member.other_workers().await? == 0;
                    helpers_checked = Some((std::time::Instant::now(), alone));
                }
                helpers_checked.is_some_and(|(_, alone)| alone)
            }
        };
        let mut claimed = Vec::new();
        // Claims in groups (a quarter of the window at least), not one per
        // page that finishes: one statement for several entries.
        let inflight = flow.inflight.load(Ordering::Acquire);
        let worth = free > 0 && (inflight == 0 || free >= (cap / 4).max(1));
        if worth && crawls {
            hosts.refresh(&c, store).await?;
            let held = c.member.held_hosts();
            if !held.is_empty() {
                let who = Claimant {
                    owner: c.member.id(),
                    hosts: Some(&held),
                };
                claimed = store
                    .claim_entries(scan_id, &who, store.now().timestamp_millis(), free as i64)
                    .await?;
            }
        } else if !crawls && flow.inflight.load(Ordering::Acquire) == 0 {
            hosts.release_all(&c.member).await;
        }
        if !claimed.is_empty() {
            idle_since = None;
            c.member.set_doing(
                Some(scan_id),
                Some(format!("扫描 {scan_id}（{}）", c.adapter.name())),
            );
        }
        for entry in claimed {
            let host = crate::store::host_of(&entry.url);
            let Some(lease) = c.member.host_token(&host) else {
                // Lost between the claim and now, or the entry's recorded
                // host is not its URL's: record the URL's (whose lease must
                // cover it) and give it back to the queue.
                store.set_entry_hosts(&[(entry.id, host.clone())]).await?;
                store.hand_back_entries(c.member.id(), Some(&host)).await?;
                continue;
            };
            flow.inflight.fetch_add(1, Ordering::AcqRel);
            spawn_entry(
                scan_id,
                c.fetcher.clone(),
                c.adapter.clone(),
                entry,
                c.limits,
                tx.clone(),
                parsers.clone(),
                flow.clone(),
                stop.clone(),
                lease,
                store.clock(),
            );
        }
        let idle = flow.inflight.load(Ordering::Acquire) == 0;
        let mut waiting_for = None;
        let wait = if !idle || (crawls && free == 0) {
            idle_since = None;
            Duration::from_millis(200)
        } else {
            let poll = c.member.timing().poll.min(Duration::from_millis(500));
            let reap_due = reaped.is_none_or(|t| t.elapsed() >= REAP_EVERY);
            match store.next_retry(scan_id).await? {
                // Nothing pending: done, unless others still hold entries.
                None => {
                    let open = store.frontier_counts(scan_id).await?;
                    if open.inflight == 0 || c.part == Part::Help {
                        break;
                    }
                    if reap_due {
                        c.member.reap().await?;
                        reaped = Some(std::time::Instant::now());
                    }
                    waiting_for = Some(format!("等待其他进程完成 {} 个页面", open.inflight));
                    poll
                }
                Some((at, error)) => {
                    let left = at - store.now().timestamp_millis();
                    if left <= 0 {
                        // Due, but on hosts other processes hold (or left to workers).
                        let since = *idle_since.get_or_insert_with(std::time::Instant::now);
                        if c.part == Part::Help && since.elapsed() >= c.member.timing().poll {
                            break;
                        }
                        if c.part == Part::Coordinate && reap_due {
                            c.member.reap().await?;
                            reaped = Some(std::time::Instant::now());
                        }
                        if !crawls {
                            waiting_for = Some("由工作进程（cccwatch worker）抓取中".to_string());
                        }
                        poll
                    } else {
                        if left > 1000 {
                            waiting_for = Some(retry_wait(left, error.as_deref()));
                        }
                        Duration::from_millis(left.clamp(1, 1000) as u64)
                    }
                }
            }
        };
        waits.show(waiting_for.or_else(|| c.fetcher.waiting_on(c.adapter.name())));
        tokio::select! {
            _ = flow.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.cancelled() => {}
        }
        stopped = stop.is_cancelled();
        if shown.elapsed() >= Duration::from_millis(500) {
            update_progress(store, scan_id, progress).await;
            shown = std::time::Instant::now();
        }
    }
    drop(tx);
    let written = writer.await.map_err(|e| ScanError::Task(e.to_string()))?;
    hosts.release_all(&c.member).await;
    c.member.set_doing(None, None);
    written?;
    Ok(!stopped)
}

/// The hosts one crawl loop leases: those with due entries, looked up at
/// most every `every` (and at once when none is held).
struct HostPlan {
    every: Duration,
    checked: Option<std::time::Instant>,
    /// Hosts this loop took (to give back when it ends).
    taken: Vec<String>,
}

impl HostPlan {
    fn new(every: Duration) -> HostPlan {
        HostPlan {
            every,
            checked: None,
            taken: Vec::new(),
        }
    }

    async fn refresh(&mut self, c: &Crawl<'_>, store: &Store) -> Result<(), ScanError> {
        // A lease lost meanwhile was given up already.
        let held = c.member.held_hosts();
        self.taken.retain(|h| held.contains(h));
        if self.checked.is_some_and(|t| t.elapsed() < self.every) {
            return Ok(());
        }
        self.checked = Some(std::time::Instant::now());
        let due = store
            .due_hosts(c.scan_id, store.now().timestamp_millis())
            .await?;
        for host in due {
            if self.taken.contains(&host) {
                continue;
            }
            if let Some(grant) = c.member.lease_host(&host, c.scan_id).await? {
                if !grant.quiet_for.is_zero() {
                    c.fetcher.pause_host(&host, grant.quiet_for);
                }
                self.taken.push(host);
            }
        }
        Ok(())
    }

    async fn release_all(&mut self, member: &Member) {
        for host in std::mem::take(&mut self.taken) {
            if let Err(e) = member.release_host(&host).await {
                tracing::warn!(%host, "releasing a host lease: {e} (it goes stale by itself)");
            }
        }
    }
}

/// What a scan waiting for a retry says it waits for.
fn retry_wait(left_ms: i64, error: Option<&str>) -> String {
    let secs = (left_ms + 999) / 1000;
    match error {
        Some(e) => format!(
            "等待重试（{secs} 秒后）：{}",
            crate::crawl::failure::headline_of(e)
        ),
        None => format!("等待下一批页面（{secs} 秒后）"),
    }
}

/// Says what a scan is waiting for (a retry, a Retry-After pause, an
/// unavailable robots.txt): on the progress line at once, in the log at most
/// every 10 seconds (what a service or cron job shows).
struct WaitReport<'a> {
    label: String,
    progress: &'a Progress,
    current: Option<String>,
    logged: Option<std::time::Instant>,
}

/// Least time between two log lines about the same kind of wait.
const WAIT_LOG_EVERY: Duration = Duration::from_secs(10);

impl<'a> WaitReport<'a> {
    fn new(scan_id: i64, platform: &str, progress: &'a Progress) -> Self {
        WaitReport {
            label: format!("scan {scan_id} {platform}"),
            progress,
            current: None,
            logged: None,
        }
    }

    fn show(&mut self, waiting: Option<String>) {
        if waiting == self.current {
            if let Some(w) = &waiting
                && self.logged.is_none_or(|t| t.elapsed() >= WAIT_LOG_EVERY)
            {
                tracing::info!("{}: {w}", self.label);
                self.logged = Some(std::time::Instant::now());
            }
            return;
        }
        match &waiting {
            Some(w) => {
                self.progress.set_message(format!("{}: {w}", self.label));
                if self.logged.is_none_or(|t| t.elapsed() >= WAIT_LOG_EVERY) {
                    tracing::info!("{}: {w}", self.label);
                    self.logged = Some(std::time::Instant::now());
                }
            }
            None => self.progress.set_message(self.label.clone()),
        }
        self.current = waiting;
    }
}

/// Entries in flight at most for one platform: enough to keep its
/// connections busy and its rate limiter fed, never more than the global cap.
fn window(adapter: &Adapter, global: usize) -> usize {
    let p = &adapter.config.politeness;
    (p.concurrency * 2 + p.burst as usize)
        .min(global.max(1))
        .max(1)
}

/// How long pages in flight may still take after a stop.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Pages up to this size are extracted on the async worker itself.
const INLINE_PARSE_MAX: usize = 16 * 1024;

/// Fetches and processes one entry on its own task, in a `fetch` span
/// (child of the scan's span) that carries the scan ID and the host.
#[allow(clippy::too_many_arguments)]
fn spawn_entry(
    scan_id: i64,
    fetcher: Arc<Fetcher>,
    adapter: Arc<Adapter>,
    entry: crate::store::FrontierEntry,
    limits: Limits,
    tx: mpsc::Sender<EntryResult>,
    parsers: Arc<tokio::sync::Semaphore>,
    flow: Arc<Flow>,
    stop: CancellationToken,
    lease: CancellationToken,
    clock: Arc<dyn crate::clock::Clock>,
) {
    let host = Url::parse(&entry.url)
        .map(|u| crate::extract::host_key(&u))
        .unwrap_or_default();
    let span = tracing::info_span!(
        "fetch",
        scan_id,
        platform = %adapter.name(),
        host = %host,
        entry = entry.id,
        attempt = entry.attempts
    );
    let task = async move {
        // After a stop, a page still waiting (for the rate limit, a Retry-After
        // pause or a slow server) gets a grace period, then is left for --resume.
        let give_up = async move {
            stop.cancelled().await;
            tokio::time::sleep(STOP_GRACE).await;
        };
        // A lost host lease stops the request at once: another process may
        // be sending to the host now. The entry was handed back.
        let fetched = tokio::select! {
            f = fetcher.fetch(&entry.url, entry.attempts.max(0) as u32) => f,
            _ = give_up => {
                flow.inflight.fetch_sub(1, Ordering::AcqRel);
                flow.wake.notify_one();
                return;
            }
            _ = lease.cancelled() => {
                flow.inflight.fetch_sub(1, Ordering::AcqRel);
                flow.wake.notify_one();
                return;
            }
        };
        let requests = fetched.requests;
        let entry_id = entry.id;
        // Small pages parse in tens of microseconds: inline is cheaper than a
        // hand-over to the blocking pool. Big ones must not stall the runtime.
        let update = if fetched.outcome.body_len() <= INLINE_PARSE_MAX {
            process::process(&adapter, &entry, fetched.outcome, limits, now_ms(&*clock))
        } else {
            // One big page at a time per core: its DOM is megabytes.
            let _permit = parsers.acquire_owned().await;
            let span = tracing::Span::current();
            tokio::task::spawn_blocking(move || {
                span.in_scope(|| {
                    process::process(&adapter, &entry, fetched.outcome, limits, now_ms(&*clock))
                })
            })
            .await
            .unwrap_or_else(|e| crate::store::EntryUpdate::Failed {
                error: format!("extraction crashed: {e}"),
                status: None,
            })
        };
        let _ = tx
            .send(EntryResult {
                entry_id,
                update,
                requests,
            })
            .await;
    };
    tokio::spawn(task.instrument(span));
}

async fn write_results(
    store: Store,
    scan_id: i64,
    platform: String,
    member: Arc<Member>,
    mut rx: mpsc::Receiver<EntryResult>,
    flow: Arc<Flow>,
    batch_max: usize,
) -> Result<(), ScanError> {
    let mut batch = Vec::with_capacity(batch_max);
    while rx.recv_many(&mut batch, batch_max).await > 0 {
        // A polite crawl delivers results one by one: gather what arrives
        // within a moment, so that a batch is one transaction for several
        // pages, not one per page (see docs/SCALING.md).
        // Only while more can come: once every entry in flight is in the
        // batch (a fast crawl whose window is full), commit at once.
        let linger = tokio::time::Instant::now() + WRITE_LINGER;
        while batch.len() < batch_max && batch.len() < flow.inflight.load(Ordering::Acquire) {
            let room = batch_max - batch.len();
            match tokio::time::timeout_at(linger, rx.recv_many(&mut batch, room)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let n = batch.len();
        let outcome = store
            .apply_results(scan_id, &platform, member.id(), &batch)
            .await;
        if let Ok(applied) = &outcome {
            // Counted where the scan's counters are committed, so /metrics agrees with `scans`.
            crate::monitoring::pages_committed(&platform, &batch);
            member.add_pages(n as u64 - applied.lost);
            if applied.lost > 0 {
                crate::monitoring::results_dropped(&platform, applied.lost);
            }
        }
        batch.clear();
        flow.inflight.fetch_sub(n, Ordering::AcqRel);
        flow.wake.notify_one();
        outcome?;
    }
    Ok(())
}

async fn update_progress(store: &Store, scan_id: i64, progress: &Progress) {
    if let Ok(c) = store.frontier_counts(scan_id).await {
        progress.set_length(c.total() as u64);
        progress.set_position((c.total() - c.open()) as u64);
    }
}

/// Retry times are the store's clock, as every lease and claim time is.
fn now_ms(clock: &dyn crate::clock::Clock) -> i64 {
    clock.now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawl::failure::FailureGroup;

    #[tokio::test]
    async fn the_certificate_index_is_loaded_once_and_again_when_certificates_change() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        let store = Store::open(&url).await.unwrap();
        let settings = Settings::default();
        let fetcher = Arc::new(Fetcher::new(settings.crawl.fetch_settings()).unwrap());
        let runner = ScanRunner::new(store.clone(), settings, fetcher, LoopSettings::default());
        let first = runner.match_context().await.unwrap();
        let again = runner.match_context().await.unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "one load while nothing changed"
        );
        // Any certificate or brand change moves the generation.
        store.replace_brands(&[]).await.unwrap();
        let after = runner.match_context().await.unwrap();
        assert!(!Arc::ptr_eq(&first, &after), "reloaded after the change");
        let still = runner.match_context().await.unwrap();
        assert!(Arc::ptr_eq(&after, &still));
    }

    #[test]
    fn a_waiting_scan_says_for_what_and_how_long() {
        assert_eq!(
            retry_wait(
                7_200,
                Some("连接被拒绝 127.0.0.1:1（connection refused）（尝试 2 次后放弃）")
            ),
            "等待重试（8 秒后）：连接被拒绝 127.0.0.1:1"
        );
        assert_eq!(retry_wait(1_500, None), "等待下一批页面（2 秒后）");
    }

    #[test]
    fn the_scan_message_names_the_outcome_and_the_first_reasons() {
        let groups = vec![
            FailureGroup {
                headline: "连接被拒绝 h:1".into(),
                pages: 12,
                example_url: "u".into(),
            },
            FailureGroup {
                headline: "超时无应答 h:1".into(),
                pages: 2,
                example_url: "v".into(),
            },
        ];
        assert_eq!(
            scan_message(Some("平台无法访问：14 个页面全部失败"), &groups).unwrap(),
            "平台无法访问：14 个页面全部失败。失败原因：连接被拒绝 h:1：12 个页面；超时无应答 h:1：2 个页面"
        );
        assert_eq!(scan_message(None, &[]), None);
    }
}
