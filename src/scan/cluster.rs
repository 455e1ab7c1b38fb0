//! Scale-out: one process's membership of the crawling cluster, and the
//! host leases that make politeness hold for all processes together.
//!
//! In: a store shared by every process (PostgreSQL across machines, or one
//! SQLite file on one machine) and the [`ClusterSettings`]. Out: a
//! [`Member`], registered in `workers` and kept alive by a background
//! heartbeat, that leases hosts ([`Member::lease_host`]): one process at a
//! time sends a host's requests, so the host's rate, burst, concurrency,
//! robots rules and `Retry-After` pauses (carried on the lease row) are one
//! process's, whatever the number of workers.
//!
//! A process that dies stops renewing: after `lease_secs` its leases go
//! stale and are taken over, and the frontier entries it held go back to
//! the queue ([`Member::reap`]). A process on this machine found dead (its
//! pid gone) is not waited out. A member that cannot renew for longer than
//! its lease stops sending at once (its grants' tokens are cancelled), so
//! two processes never send to one host at the same time.

use crate::config::ClusterSettings;
use crate::crawl::fetch::Fetcher;
// The snapshot's data live with the rows they show (`store::cluster`), so
// that `/metrics` renders them without depending on this module.
pub use crate::store::{ClusterSnapshot, ProcessView};
use crate::store::{Heartbeat, HostLease, Store, StoreError, WorkerRow};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Lease times, from `[cluster]`.
#[derive(Debug, Clone, Copy)]
pub struct ClusterTiming {
    pub lease: Duration,
    pub renew_every: Duration,
    pub poll: Duration,
    pub handover: Duration,
}

impl ClusterTiming {
    pub fn from_settings(s: &ClusterSettings) -> ClusterTiming {
        ClusterTiming {
            lease: Duration::from_secs(s.lease_secs.max(1)),
            renew_every: Duration::from_secs(s.renew_secs.max(1)),
            poll: Duration::from_millis(s.poll_ms.max(10)),
            handover: Duration::from_millis(s.handover_ms),
        }
    }

    /// How long after its last good renewal a member still counts on its
    /// leases: two renewal periods short of the lease, since a failing
    /// renewal is noticed up to two periods late (the statement's timeout,
    /// then the next tick). Others take the lease over only after the whole
    /// lease: the holder has gone quiet by then.
    fn trusted_for(&self) -> Duration {
        self.lease.saturating_sub(self.renew_every * 2)
    }
}

impl Default for ClusterTiming {
    fn default() -> Self {
        ClusterTiming::from_settings(&ClusterSettings::default())
    }
}

/// What a process is in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `cccwatch worker`: executes the scans others create.
    Worker,
    /// `cccwatch scan`: creates a scan and sees it through.
    Scan,
    /// `cccwatch serve`'s scheduler.
    Schedule,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Scan => "scan",
            Role::Schedule => "schedule",
        }
    }
}

/// A host lease just taken.
#[derive(Debug, Clone)]
pub struct HostGrant {
    /// Cancelled when the lease is lost: stop sending to the host at once.
    pub token: CancellationToken,
    /// Pause the host for this long first (a `Retry-After` or hand-over gap
    /// the previous holder left).
    pub quiet_for: Duration,
}

/// A registered, heart-beating process of the cluster.
pub struct Member {
    inner: Arc<Inner>,
    beat: tokio::task::JoinHandle<()>,
}

struct Inner {
    store: Store,
    id: String,
    role: Role,
    timing: ClusterTiming,
    fetcher: Option<Arc<Fetcher>>,
    grants: Mutex<HashMap<String, Grant>>,
    doing: Mutex<(Option<i64>, Option<String>)>,
    pages: AtomicI64,
    /// Unix ms of the start of the last good renewal.
    renewed_ms: AtomicI64,
}

struct Grant {
    token: CancellationToken,
    /// Crawl loops of this process using the lease (scans on one host).
    users: usize,
}

impl Member {
    /// Registers this process and starts its heartbeat. The fetcher, when
    /// given, is asked at each beat for `Retry-After` pauses of the hosts held,
    /// which are written to their leases for whoever holds them next.
    pub async fn join(
        store: &Store,
        role: Role,
        timing: ClusterTiming,
        fetcher: Option<Arc<Fetcher>>,
    ) -> Result<Member, StoreError> {
        let id = crate::scan::lock::owner_id(role.as_str());
        let now = now_ms(store);
        store
            .register_worker(&WorkerRow {
                id: id.clone(),
                machine: crate::scan::lock::hostname(),
                pid: std::process::id() as i64,
                role: role.as_str().into(),
                started_ms: now,
                heartbeat_ms: now,
                stopped_ms: None,
                scan_id: None,
                doing: None,
                pages: 0,
            })
            .await?;
        let inner = Arc::new(Inner {
            store: store.clone(),
            id,
            role,
            timing,
            fetcher,
            grants: Mutex::new(HashMap::new()),
            doing: Mutex::new((None, None)),
            pages: AtomicI64::new(0),
            renewed_ms: AtomicI64::new(now),
        });
        tracing::info!(id = %inner.id, role = role.as_str(), "joined the cluster");
        let beat = tokio::spawn(beat_until_aborted(inner.clone()));
        Ok(Member { inner, beat })
    }

    /// `machine:pid:nonce:role`: the owner of its leases and entries.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    pub fn role(&self) -> Role {
        self.inner.role
    }

    pub fn timing(&self) -> ClusterTiming {
        self.inner.timing
    }

    /// What the process does now, shown on the pages and in `workers`.
    pub fn set_doing(&self, scan_id: Option<i64>, doing: Option<String>) {
        *self.inner.doing.lock().unwrap_or_else(|e| e.into_inner()) = (scan_id, doing);
    }

    /// Counts committed pages (reported with the next heartbeat).
    pub fn add_pages(&self, n: u64) {
        self.inner.pages.fetch_add(n as i64, Ordering::Relaxed);
    }

    /// Heartbeats older than this (unix ms) are a dead process's.
    pub fn live_after_ms(&self) -> i64 {
        now_ms(&self.inner.store) - self.inner.timing.lease.as_millis() as i64
    }

    /// Takes `host`'s lease for a scan when it is free, stale or held by a
    /// process found dead; `None` when a live process holds it. Every grant
    /// is given back with [`Member::release_host`]; a lease this process
    /// already holds is shared (counted) by its crawl loops.
    pub async fn lease_host(
        &self,
        host: &str,
        scan_id: i64,
    ) -> Result<Option<HostGrant>, StoreError> {
        {
            let mut grants = self.inner.grants.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(g) = grants.get_mut(host).filter(|g| !g.token.is_cancelled()) {
                g.users += 1;
                return Ok(Some(HostGrant {
                    token: g.token.clone(),
                    quiet_for: Duration::ZERO,
                }));
            }
        }
        let store = &self.inner.store;
        let now = now_ms(store);
        let stale_before = self.live_after_ms();
        let mut taken = store
            .lease_host(host, self.id(), Some(scan_id), now, stale_before, &[])
            .await?;
        // A holder that died did not give the host back: it may have sent a
        // request the moment before. Keep the hand-over gap after it too.
        let mut gap = Duration::ZERO;
        if let Err(holder) = &taken
            && self.is_dead(holder).await?
        {
            gap = self.inner.timing.handover;
            tracing::warn!(%host, dead = %holder.owner, "taking over the host lease of a process that is gone");
            taken = store
                .lease_host(
                    host,
                    self.id(),
                    Some(scan_id),
                    now,
                    stale_before,
                    std::slice::from_ref(&holder.owner),
                )
                .await?;
        }
        let Ok(quiet_until) = taken else {
            return Ok(None);
        };
        let token = CancellationToken::new();
        self.inner
            .grants
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                host.to_string(),
                Grant {
                    token: token.clone(),
                    users: 1,
                },
            );
        let quiet_for = Duration::from_millis((quiet_until - now).max(0) as u64).max(gap);
        tracing::info!(%host, scan_id, quiet_ms = quiet_for.as_millis() as u64, "host lease taken");
        crate::monitoring::host_lease_changed(host, true);
        Ok(Some(HostGrant { token, quiet_for }))
    }

    /// Whether the holder of a lease is gone: a process on this machine
    /// that exited, or one whose registry row says it stopped.
    async fn is_dead(&self, holder: &HostLease) -> Result<bool, StoreError> {
        if crate::scan::lock::holder_is_dead_here(&holder.owner) {
            return Ok(true);
        }
        let workers = self.inner.store.workers(i64::MAX).await?;
        Ok(workers.iter().all(|w| w.id != holder.owner))
    }

    /// The token of a lease held, if it is (and not lost).
    pub fn host_token(&self, host: &str) -> Option<CancellationToken> {
        let grants = self.inner.grants.lock().unwrap_or_else(|e| e.into_inner());
        grants
            .get(host)
            .filter(|g| !g.token.is_cancelled())
            .map(|g| g.token.clone())
    }

    /// Hosts whose leases are held now.
    pub fn held_hosts(&self) -> Vec<String> {
        let grants = self.inner.grants.lock().unwrap_or_else(|e| e.into_inner());
        let mut hosts: Vec<String> = grants
            .iter()
            .filter(|(_, g)| !g.token.is_cancelled())
            .map(|(h, _)| h.clone())
            .collect();
        hosts.sort();
        hosts
    }

    /// Gives a host back: its entries in flight return to the queue, and no
    /// one sends to it before the hand-over gap (or a pause still running)
    /// has passed.
    pub async fn release_host(&self, host: &str) -> Result<(), StoreError> {
        let grant = {
            let mut grants = self.inner.grants.lock().unwrap_or_else(|e| e.into_inner());
            match grants.get_mut(host) {
                Some(g) if g.users > 1 && !g.token.is_cancelled() => {
                    g.users -= 1;
                    return Ok(());
                }
                _ => grants.remove(host),
            }
        };
        let Some(grant) = grant else {
            return Ok(());
        };
        grant.token.cancel();
        let store = &self.inner.store;
        store.hand_back_entries(self.id(), Some(host)).await?;
        let quiet = self.inner.quiet_until_ms(host);
        store.release_host(host, self.id(), quiet).await?;
        crate::monitoring::host_lease_changed(host, false);
        tracing::info!(%host, "host lease released");
        Ok(())
    }

    /// Live processes of role `worker` other than this one.
    pub async fn other_workers(&self) -> Result<usize, StoreError> {
        let live_after = self.live_after_ms();
        Ok(self
            .inner
            .store
            .workers(i64::MAX)
            .await?
            .iter()
            .filter(|w| {
                w.id != self.inner.id
                    && w.role == Role::Worker.as_str()
                    && w.stopped_ms.is_none()
                    && w.heartbeat_ms >= live_after
                    && !crate::scan::lock::holder_is_dead_here(&w.id)
            })
            .count())
    }

    /// Marks dead processes stopped (heartbeat older than the lease, or
    /// gone from this machine) and returns their entries in flight to the
    /// queue. Returns the entries returned.
    pub async fn reap(&self) -> Result<u64, StoreError> {
        let store = &self.inner.store;
        let live_after = self.live_after_ms();
        let dead: Vec<String> = store
            .workers(i64::MAX)
            .await?
            .into_iter()
            .filter(|w| {
                w.id != self.inner.id
                    && w.stopped_ms.is_none()
                    && (w.heartbeat_ms < live_after
                        || crate::scan::lock::holder_is_dead_here(&w.id))
            })
            .map(|w| w.id)
            .collect();
        if !dead.is_empty() {
            tracing::warn!(processes = ?dead, "processes found dead: what they held goes back to the queue");
            store.stop_workers(&dead, now_ms(store)).await?;
        }
        let n = store.reclaim_entries(None, live_after).await?;
        if n > 0 {
            tracing::warn!(
                entries = n,
                "entries of dead processes returned to the queue"
            );
        }
        Ok(n)
    }

    /// Releases every lease, hands back what is in flight and marks the
    /// process stopped.
    pub async fn leave(self) {
        self.beat.abort();
        let hosts: Vec<String> = self.inner.held();
        for host in hosts {
            if let Some(g) = self
                .inner
                .grants
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_mut(&host)
            {
                g.users = 1;
            }
            if let Err(e) = self.release_host(&host).await {
                tracing::warn!(%host, "releasing a host lease: {e} (it goes stale by itself)");
            }
        }
        let store = &self.inner.store;
        if let Err(e) = store.hand_back_entries(self.id(), None).await {
            tracing::warn!("handing entries back: {e} (they return when the lease lapses)");
        }
        if let Err(e) = store
            .stop_workers(std::slice::from_ref(&self.inner.id), now_ms(store))
            .await
        {
            tracing::warn!("leaving the cluster: {e}");
        }
        tracing::info!(id = %self.inner.id, "left the cluster");
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.beat.abort();
    }
}

impl Inner {
    /// When the next holder of `host` may send: after the hand-over gap
    /// and after any pause this process is still under.
    fn quiet_until_ms(&self, host: &str) -> i64 {
        let pause = self
            .fetcher
            .as_ref()
            .map_or(Duration::ZERO, |f| f.host_paused_for(host));
        now_ms(&self.store) + self.timing.handover.max(pause).as_millis() as i64
    }

    fn lose(&self, host: &str, why: &str) {
        if let Some(g) = self
            .grants
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(host)
        {
            g.token.cancel();
            crate::monitoring::host_lease_changed(host, false);
            tracing::error!(%host, "host lease lost ({why}): its requests stop and its pages go back to the queue");
        }
    }

    /// One heartbeat: the registry row, then every lease held.
    async fn beat(&self) -> Result<(), StoreError> {
        let started = now_ms(&self.store);
        let (scan_id, doing) = self.doing.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let pages = self.pages.swap(0, Ordering::Relaxed);
        let beat = Heartbeat {
            now_ms: started,
            scan_id,
            doing: doing.as_deref(),
            pages,
        };
        let alive = match self.store.worker_heartbeat(&self.id, &beat).await {
            Ok(alive) => alive,
            Err(e) => {
                self.pages.fetch_add(pages, Ordering::Relaxed);
                return Err(e);
            }
        };
        if !alive {
            // Another process found us dead (we stalled past the lease):
            // what we held is theirs now. Register again and go on afresh.
            let hosts: Vec<String> = self.held();
            for h in &hosts {
                self.lose(h, "this process was found dead");
            }
            self.store.hand_back_entries(&self.id, None).await?;
            self.store
                .register_worker(&WorkerRow {
                    id: self.id.clone(),
                    machine: crate::scan::lock::hostname(),
                    pid: std::process::id() as i64,
                    role: self.role.as_str().into(),
                    started_ms: started,
                    heartbeat_ms: started,
                    stopped_ms: None,
                    scan_id,
                    doing: doing.clone(),
                    pages: 0,
                })
                .await?;
        }
        let held = self.held();
        if !held.is_empty() {
            let renewed = self
                .store
                .renew_host_leases(&self.id, &held, started)
                .await?;
            for h in held.iter().filter(|h| !renewed.contains(h)) {
                self.lose(h, "taken over by another process");
                self.store.hand_back_entries(&self.id, Some(h)).await?;
            }
            // Pauses learnt here reach whoever holds the host next.
            if let Some(f) = &self.fetcher {
                for h in &renewed {
                    let pause = f.host_paused_for(h);
                    if !pause.is_zero() {
                        self.store
                            .set_host_quiet(h, &self.id, started + pause.as_millis() as i64)
                            .await?;
                    }
                }
            }
        }
        self.renewed_ms.store(started, Ordering::Release);
        Ok(())
    }

    fn held(&self) -> Vec<String> {
        self.grants
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}

/// Beats every `renew_every`; when renewals fail for longer than the lease
/// can be trusted, every grant is cancelled (another process may hold them
/// by now).
async fn beat_until_aborted(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(inner.timing.renew_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let beat = tokio::time::timeout(inner.timing.renew_every, inner.beat()).await;
        let failed = match beat {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some(format!(
                "no answer within {} s",
                inner.timing.renew_every.as_secs()
            )),
        };
        if let Some(e) = failed {
            let since = now_ms(&inner.store) - inner.renewed_ms.load(Ordering::Acquire);
            tracing::warn!(id = %inner.id, "cluster heartbeat: {e}");
            if since > inner.timing.trusted_for().as_millis() as i64 {
                for h in inner.held() {
                    inner.lose(&h, "renewals failed for longer than the lease");
                }
            }
        }
    }
}

/// `alive`, `stopped` or `lapsed` (no heartbeat since `live_after_ms`): what
/// the pages and `worker list` say of a process.
pub fn process_state(w: &WorkerRow, live_after_ms: i64) -> &'static str {
    if w.stopped_ms.is_some() {
        "stopped"
    } else if w.heartbeat_ms < live_after_ms {
        "lapsed"
    } else {
        "alive"
    }
}

/// Reading the snapshot: which processes are alive, by the lease timing.
impl ClusterSnapshot {
    /// Processes alive, and those that stopped or lapsed at most
    /// `stopped_within` ago; leases held now.
    pub async fn read(
        store: &Store,
        timing: ClusterTiming,
        stopped_within: Duration,
    ) -> Result<ClusterSnapshot, StoreError> {
        let now_ms = now_ms(store);
        let live_after = now_ms - timing.lease.as_millis() as i64;
        let since = now_ms - stopped_within.as_millis() as i64;
        let processes = store
            .workers(since)
            .await?
            .into_iter()
            .filter(|w| w.stopped_ms.is_some() || w.heartbeat_ms >= since)
            .map(|w| ProcessView {
                state: process_state(&w, live_after),
                seconds_since_beat: (now_ms - w.heartbeat_ms).max(0) / 1000,
                worker: w,
            })
            .collect();
        let leases = store.host_leases(live_after).await?;
        Ok(ClusterSnapshot {
            now_ms,
            processes,
            leases,
        })
    }

    /// Live processes by role.
    pub fn alive(&self, role: Role) -> usize {
        self.processes
            .iter()
            .filter(|p| p.state == "alive" && p.worker.role == role.as_str())
            .count()
    }
}

/// Lease times are the store's clock, as scan locks' are.
fn now_ms(store: &Store) -> i64 {
    store.now().timestamp_millis()
}
