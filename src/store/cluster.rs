//! Storage for scale-out: the registry of processes that crawl (workers),
//! the host leases that hold politeness for the whole cluster, handing
//! frontier entries of dead processes back, and the certificate
//! generation that tells long-running workers to reload their index.
//!
//! In: registrations, heartbeats, lease requests (all times unix ms from
//! the caller's clock). Out: who is alive, who holds what. The rules
//! (when a lease is stale, when a process on this machine is dead) are the
//! caller's (`crate::scan::cluster`); these methods only store.

use super::{Result, Store};
use serde::Serialize;

/// A process that crawls, as registered (a row of `workers`).
#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct WorkerRow {
    /// `machine:pid:nonce:role`.
    pub id: String,
    pub machine: String,
    pub pid: i64,
    /// `worker`, `scan` or `schedule`.
    pub role: String,
    pub started_ms: i64,
    pub heartbeat_ms: i64,
    pub stopped_ms: Option<i64>,
    pub scan_id: Option<i64>,
    pub doing: Option<String>,
    pub pages: i64,
}

/// A host's lease: who sends its requests now (a row of `host_leases`).
#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow)]
pub struct HostLease {
    pub host: String,
    pub owner: String,
    pub scan_id: Option<i64>,
    pub acquired_ms: i64,
    pub heartbeat_ms: i64,
    /// No request to the host before this (Retry-After, hand-over gap).
    pub quiet_until_ms: i64,
}

/// A running scan with entries due now.
#[derive(Debug, Clone, PartialEq)]
pub struct DueScan {
    pub scan_id: i64,
    pub platform: String,
}

/// What a heartbeat reports.
#[derive(Debug, Clone, Default)]
pub struct Heartbeat<'a> {
    pub now_ms: i64,
    pub scan_id: Option<i64>,
    pub doing: Option<&'a str>,
    /// Pages committed since the last heartbeat.
    pub pages: i64,
}

impl Store {
    /// Registers (or re-registers) a crawling process.
    pub async fn register_worker(&self, w: &WorkerRow) -> Result<()> {
        dispatch!(self, |db| db.register_worker(w).await)
    }

    /// Renews a process's heartbeat; false when its row is gone or says it
    /// stopped (another process found it dead: it must hand everything back).
    pub async fn worker_heartbeat(&self, id: &str, beat: &Heartbeat<'_>) -> Result<bool> {
        dispatch!(self, |db| db.worker_heartbeat(id, beat).await)
    }

    /// Marks processes stopped (on exit, or found dead).
    pub async fn stop_workers(&self, ids: &[String], now_ms: i64) -> Result<u64> {
        dispatch!(self, |db| db.stop_workers(ids, now_ms).await)
    }

    /// Processes not stopped, and those stopped at or after `stopped_since_ms`.
    pub async fn workers(&self, stopped_since_ms: i64) -> Result<Vec<WorkerRow>> {
        dispatch!(self, |db| db.workers(stopped_since_ms).await)
    }

    /// Forgets processes stopped before `before_ms` (the registry's retention).
    pub async fn prune_workers(&self, before_ms: i64) -> Result<u64> {
        dispatch!(self, |db| db.prune_workers(before_ms).await)
    }

    /// Takes `host`'s lease for `owner` when it is free, stale (no renewal
    /// since `stale_before_ms`), held by one of `dead` or already `owner`'s.
    /// Ok(quiet_until_ms) when taken; the holder otherwise.
    pub async fn lease_host(
        &self,
        host: &str,
        owner: &str,
        scan_id: Option<i64>,
        now_ms: i64,
        stale_before_ms: i64,
        dead: &[String],
    ) -> Result<std::result::Result<i64, HostLease>> {
        dispatch!(self, |db| db
            .lease_host(host, owner, scan_id, now_ms, stale_before_ms, dead)
            .await)
    }

    /// Renews `owner`'s leases on `hosts`; returns the hosts still held.
    pub async fn renew_host_leases(
        &self,
        owner: &str,
        hosts: &[String],
        now_ms: i64,
    ) -> Result<Vec<String>> {
        dispatch!(self, |db| db.renew_host_leases(owner, hosts, now_ms).await)
    }

    /// Records a pause the holder learnt (Retry-After), for whoever holds
    /// the host next.
    pub async fn set_host_quiet(&self, host: &str, owner: &str, quiet_until_ms: i64) -> Result<()> {
        dispatch!(self, |db| db
            .set_host_quiet(host, owner, quiet_until_ms)
            .await)
    }

    /// Gives `host` back: free at once, with no request before `quiet_until_ms`.
    pub async fn release_host(&self, host: &str, owner: &str, quiet_until_ms: i64) -> Result<()> {
        dispatch!(self, |db| db
            .release_host(host, owner, quiet_until_ms)
            .await)
    }

    /// Leases renewed at or after `live_after_ms`, by host.
    pub async fn host_leases(&self, live_after_ms: i64) -> Result<Vec<HostLease>> {
        dispatch!(self, |db| db.host_leases(live_after_ms).await)
    }

    /// Returns to the queue the entries in flight whose claimant is not a
    /// live process (no heartbeat since `live_after_ms`, stopped, or never
    /// registered); `scan_id` limits it to one scan. Returns how many.
    pub async fn reclaim_entries(&self, scan_id: Option<i64>, live_after_ms: i64) -> Result<u64> {
        dispatch!(self, |db| db.reclaim_entries(scan_id, live_after_ms).await)
    }

    /// Returns to the queue `owner`'s entries in flight (on `host` only, when given).
    pub async fn hand_back_entries(&self, owner: &str, host: Option<&str>) -> Result<u64> {
        dispatch!(self, |db| db.hand_back_entries(owner, host).await)
    }

    /// Hosts with entries of `scan_id` due at `now_ms`.
    pub async fn due_hosts(&self, scan_id: i64, now_ms: i64) -> Result<Vec<String>> {
        dispatch!(self, |db| db.due_hosts(scan_id, now_ms).await)
    }

    /// Running scans with entries due at `now_ms`, oldest first.
    pub async fn due_scans(&self, now_ms: i64) -> Result<Vec<DueScan>> {
        dispatch!(self, |db| db.due_scans(now_ms).await)
    }

    /// Frontier entries of `scan_id` without a host (queued before hosts were
    /// recorded): ID and URL.
    pub async fn entries_without_host(&self, scan_id: i64) -> Result<Vec<(i64, String)>> {
        dispatch!(self, |db| db.entries_without_host(scan_id).await)
    }

    /// Records the hosts of entries (ID, host).
    pub async fn set_entry_hosts(&self, rows: &[(i64, String)]) -> Result<()> {
        dispatch!(self, |db| db.set_entry_hosts(rows).await)
    }

    /// The certificate generation: moves with every change to certificates or brands.
    pub async fn cert_generation(&self) -> Result<i64> {
        dispatch!(self, |db| db.cert_generation().await)
    }
}

/// The cluster as the pages, `/metrics` and `worker list` show it.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterSnapshot {
    pub now_ms: i64,
    pub processes: Vec<ProcessView>,
    /// Leases renewed within the lease time.
    pub leases: Vec<HostLease>,
}

/// A process and what its heartbeat says of it.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessView {
    #[serde(flatten)]
    pub worker: WorkerRow,
    /// `alive`, `stopped` or `lapsed`.
    pub state: &'static str,
    pub seconds_since_beat: i64,
}
