//! Scan locks: one scan of a platform at a time, across every process that
//! shares the database (`serve`'s scheduler, `cccwatch scan` under cron or
//! systemd, a second machine).
//!
//! [`ScanLock::acquire`] takes a platform's lock or says who holds it. The
//! holder renews the lock in the background while it works ([`ScanLock::renew`]
//! is one renewal); a lock left by a process that died goes stale and is taken
//! over. When a renewal finds the lock taken by someone else, the lock is lost:
//! its [`token`](ScanLock::token), which the scan runs on, is cancelled, and
//! the scan stops as it does on Ctrl-C. [`ScanLock::release`] gives it back.

use crate::config::ScheduleSettings;
use crate::store::{LockHolder, Store, StoreError};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a lock lives without renewal, and how often it is renewed.
#[derive(Debug, Clone, Copy)]
pub struct LockTiming {
    pub stale_after: Duration,
    pub renew_every: Duration,
}

impl LockTiming {
    /// `schedule.lock_stale_secs` and `schedule.lock_renew_secs`.
    pub fn from_settings(s: &ScheduleSettings) -> LockTiming {
        LockTiming {
            stale_after: Duration::from_secs(s.lock_stale_secs.max(1)),
            renew_every: Duration::from_secs(s.lock_renew_secs.max(1)),
        }
    }
}

/// A held platform lock, renewed in the background until released.
pub struct ScanLock {
    held: Arc<Held>,
    renewer: tokio::task::JoinHandle<()>,
}

/// What the lock and its renewer share.
struct Held {
    store: Store,
    platform: String,
    owner: String,
    scan_id: Mutex<Option<i64>>,
    token: CancellationToken,
    lost: AtomicBool,
}

impl ScanLock {
    /// Takes `platform`'s lock for `purpose` (shown to whoever finds it
    /// held), or returns who holds it. The lock's token is a child of `stop`:
    /// cancelled by `stop`, or when the lock is lost.
    pub async fn acquire(
        store: &Store,
        platform: &str,
        purpose: &str,
        timing: LockTiming,
        stop: &CancellationToken,
    ) -> Result<Result<ScanLock, LockHolder>, StoreError> {
        let owner = owner_id(purpose);
        if let Err(holder) = take(store, platform, &owner, purpose, timing).await? {
            return Ok(Err(holder));
        }
        let held = Arc::new(Held {
            store: store.clone(),
            platform: platform.to_string(),
            owner,
            scan_id: Mutex::new(None),
            token: stop.child_token(),
            lost: AtomicBool::new(false),
        });
        let renewer = tokio::spawn(renew_until_lost(held.clone(), timing.renew_every));
        Ok(Ok(ScanLock { held, renewer }))
    }

    pub fn platform(&self) -> &str {
        &self.held.platform
    }

    /// `host:pid:nonce:purpose`, as `schedule list` shows it.
    pub fn owner(&self) -> &str {
        &self.held.owner
    }

    /// Cancelled when the `stop` given to [`ScanLock::acquire`] is, or when
    /// the lock is lost: the token to run the scan on.
    pub fn token(&self) -> CancellationToken {
        self.held.token.clone()
    }

    /// True once another process took the lock over.
    pub fn is_lost(&self) -> bool {
        self.held.lost.load(Ordering::Acquire)
    }

    /// Records which scan runs under the lock (shown to whoever finds it
    /// held) and renews the lock with it at once.
    pub async fn set_scan(&self, scan_id: i64) {
        *self.held.scan_id.lock().unwrap_or_else(|e| e.into_inner()) = Some(scan_id);
        self.held.renew_logged().await;
    }

    /// Renews the lock once: false, and the token cancelled, when another
    /// process holds it now.
    pub async fn renew(&self) -> Result<bool, StoreError> {
        self.held.renew().await
    }

    /// Gives the lock back (a lock already lost is left to its new holder).
    pub async fn release(self) {
        self.renewer.abort();
        let Held {
            store,
            platform,
            owner,
            ..
        } = &*self.held;
        if let Err(e) = store.unlock_platform(platform, owner).await {
            tracing::warn!(%platform, "releasing the scan lock: {e} (it goes stale by itself)");
        }
    }
}

impl Drop for ScanLock {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

impl Held {
    async fn renew(&self) -> Result<bool, StoreError> {
        let scan_id = *self.scan_id.lock().unwrap_or_else(|e| e.into_inner());
        let held = self
            .store
            .renew_platform_lock(&self.platform, &self.owner, scan_id, now_ms(&self.store))
            .await?;
        if !held && !self.lost.swap(true, Ordering::AcqRel) {
            tracing::error!(platform = %self.platform, "the scan lock was taken over by another process; stopping");
            self.token.cancel();
        }
        Ok(held)
    }

    /// A renewal whose error is logged: a busy database is tried again at
    /// the next tick. False when the lock is lost.
    async fn renew_logged(&self) -> bool {
        match self.renew().await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(platform = %self.platform, "renewing the scan lock: {e}");
                true
            }
        }
    }
}

/// Renews every `every` until the lock is lost (or the task is aborted).
async fn renew_until_lost(held: Arc<Held>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if !held.renew_logged().await {
            return;
        }
    }
}

/// Takes the lock row for `owner`: free, stale, or held by a process on
/// this machine that has exited (kill -9, a crash), which need not be waited out.
async fn take(
    store: &Store,
    platform: &str,
    owner: &str,
    purpose: &str,
    timing: LockTiming,
) -> Result<Result<(), LockHolder>, StoreError> {
    let now = now_ms(store);
    let stale_before = now - timing.stale_after.as_millis() as i64;
    let Err(holder) = store
        .try_lock_platform(platform, owner, purpose, now, stale_before)
        .await?
    else {
        return Ok(Ok(()));
    };
    if !holder_is_dead_here(&holder.owner)
        || !store
            .take_over_platform_lock(platform, &holder.owner, owner, purpose, now)
            .await?
    {
        return Ok(Err(holder));
    }
    tracing::warn!(%platform, dead = %holder.owner, "took over the scan lock of a process that exited");
    Ok(Ok(()))
}

/// `host:pid:nonce:purpose`: unique per acquisition, readable in `schedule list`.
pub fn owner_id(purpose: &str) -> String {
    let host = hostname();
    let nonce: u32 = rand::random();
    format!(
        "{host}:{}:{nonce:08x}:{}",
        std::process::id(),
        purpose.replace(' ', "_")
    )
}

/// This machine's name, as process IDs name it.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// True when `owner` (`host:pid:…`) names this machine and a process that
/// is no longer running cccwatch.
pub fn holder_is_dead_here(owner: &str) -> bool {
    let mut parts = owner.split(':');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host != hostname() || pid == std::process::id() {
        return false;
    }
    if !cfg!(target_os = "linux") {
        return false;
    }
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        // Running: alive if it is a cccwatch (the pid may have been reused).
        Ok(cmd) => !String::from_utf8_lossy(&cmd).contains("cccwatch"),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// Lease times are the store's clock: one clock for every process that
/// compares them (the system's, unless a test fixes it).
fn now_ms(store: &Store) -> i64 {
    store.now().timestamp_millis()
}

/// A sentence for someone who found the lock held.
pub fn describe_holder(h: &LockHolder) -> String {
    let since = chrono::DateTime::from_timestamp_millis(h.acquired_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    format!(
        "platform {} is being scanned by {} ({}{}) since {since}",
        h.platform,
        h.owner,
        h.purpose,
        h.scan_id.map(|s| format!(", scan {s}")).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_is_dead_only_on_this_machine_and_when_its_process_is_gone() {
        let here = hostname();
        assert!(!holder_is_dead_here(&format!(
            "{here}:{}:ab:x",
            std::process::id()
        )));
        assert!(!holder_is_dead_here("elsewhere:1:ab:x"), "another machine");
        assert!(!holder_is_dead_here("garbage"));
        // No such process (pids stop far below this).
        assert!(holder_is_dead_here(&format!("{here}:4000000000:ab:x")));
        // pid 1 is running, and it is not cccwatch: the pid was reused.
        assert!(holder_is_dead_here(&format!("{here}:1:ab:x")));
    }

    const TIMING: LockTiming = LockTiming {
        stale_after: Duration::from_secs(60),
        renew_every: Duration::from_secs(3600),
    };

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("locks.db").display());
        let store = Store::open(&url).await.unwrap();
        (dir, store)
    }

    async fn acquire(store: &Store, stop: &CancellationToken) -> Result<ScanLock, LockHolder> {
        ScanLock::acquire(store, "demo", "test", TIMING, stop)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_held_lock_is_refused_to_others_until_released() {
        let (_dir, store) = store().await;
        let stop = CancellationToken::new();
        let lock = acquire(&store, &stop).await.ok().unwrap();
        lock.set_scan(7).await;
        let holder = acquire(&store, &stop).await.err().unwrap();
        assert_eq!(holder.owner, lock.owner());
        assert_eq!(holder.scan_id, Some(7));
        assert!(describe_holder(&holder).contains("scan 7"));
        assert!(lock.renew().await.unwrap());
        lock.release().await;
        let again = acquire(&store, &stop).await.ok().unwrap();
        assert_eq!(again.platform(), "demo");
        assert!(store.platform_locks().await.unwrap().len() == 1);
        again.release().await;
        assert!(store.platform_locks().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_lock_taken_over_is_lost_and_cancels_its_token_only() {
        let (_dir, store) = store().await;
        let stop = CancellationToken::new();
        let lock = acquire(&store, &stop).await.ok().unwrap();
        let token = lock.token();
        // Another process takes the lock over (as it does a stale one).
        assert!(
            store
                .take_over_platform_lock(
                    "demo",
                    lock.owner(),
                    "elsewhere:1:ab:x",
                    "x",
                    now_ms(&store)
                )
                .await
                .unwrap()
        );
        assert!(!token.is_cancelled());
        assert!(!lock.renew().await.unwrap());
        assert!(lock.is_lost() && token.is_cancelled());
        assert!(!stop.is_cancelled(), "the caller's stop is not touched");
        // Releasing a lost lock leaves the new holder's lock alone.
        lock.release().await;
        let holders = store.platform_locks().await.unwrap();
        assert_eq!(holders[0].owner, "elsewhere:1:ab:x");
    }

    #[tokio::test]
    async fn the_background_renewal_notices_a_lost_lock() {
        let (_dir, store) = store().await;
        let stop = CancellationToken::new();
        let timing = LockTiming {
            renew_every: Duration::from_millis(20),
            ..TIMING
        };
        let lock = ScanLock::acquire(&store, "demo", "test", timing, &stop)
            .await
            .unwrap()
            .ok()
            .unwrap();
        store
            .take_over_platform_lock(
                "demo",
                lock.owner(),
                "elsewhere:1:ab:x",
                "x",
                now_ms(&store),
            )
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), lock.token().cancelled())
            .await
            .expect("the renewer cancels the token");
        assert!(lock.is_lost());
    }

    #[tokio::test]
    async fn stopping_cancels_the_token_of_a_lock_still_held() {
        let (_dir, store) = store().await;
        let stop = CancellationToken::new();
        let lock = acquire(&store, &stop).await.ok().unwrap();
        stop.cancel();
        assert!(lock.token().is_cancelled());
        assert!(!lock.is_lost());
        assert!(lock.renew().await.unwrap(), "still held while stopping");
        lock.release().await;
    }
}
