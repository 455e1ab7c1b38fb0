//! Operate stage, locks: one scan of a platform at a time, across every
//! process that shares the database (`serve`'s scheduler, `cccwatch scan`
//! under cron or systemd, a second machine). The holder renews the lock
//! while it works; a lock left by a process that died goes stale and is
//! taken over.

use crate::store::{LockHolder, Store, StoreError};
use std::time::Duration;
use tokio::sync::watch;

/// How long a lock lives without renewal, and how often it is renewed.
#[derive(Debug, Clone, Copy)]
pub struct LockTiming {
    pub stale_after: Duration,
    pub renew_every: Duration,
}

/// A held platform lock. Renewed in the background until released; when
/// renewal finds the lock taken by someone else, [`PlatformLock::lost`]
/// turns true and the scan should stop.
pub struct PlatformLock {
    store: Store,
    pub platform: String,
    pub owner: String,
    scan_id: watch::Sender<Option<i64>>,
    lost: watch::Receiver<bool>,
    renewer: tokio::task::JoinHandle<()>,
}

/// `host:pid:nonce`: unique per acquisition, readable in `schedule list`.
pub fn owner_id(purpose: &str) -> String {
    let host = hostname();
    let nonce: u32 = rand::random();
    format!(
        "{host}:{}:{nonce:08x}:{}",
        std::process::id(),
        purpose.replace(' ', "_")
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// True when `owner` (`host:pid:…`) names this machine and a process that
/// is no longer running cccwatch.
fn holder_is_dead_here(owner: &str) -> bool {
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

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl PlatformLock {
    /// Takes `platform`'s lock, or returns who holds it.
    pub async fn acquire(
        store: &Store,
        platform: &str,
        purpose: &str,
        timing: LockTiming,
    ) -> Result<Result<PlatformLock, LockHolder>, StoreError> {
        let owner = owner_id(purpose);
        let now = now_ms();
        let stale_before = now - timing.stale_after.as_millis() as i64;
        if let Err(holder) = store
            .try_lock_platform(platform, &owner, purpose, now, stale_before)
            .await?
        {
            // A holder on this machine whose process has exited (kill -9, a
            // crash) need not be waited out.
            let dead = holder_is_dead_here(&holder.owner);
            if !(dead
                && store
                    .take_over_platform_lock(platform, &holder.owner, &owner, purpose, now)
                    .await?)
            {
                return Ok(Err(holder));
            }
            tracing::warn!(%platform, dead = %holder.owner, "took over the scan lock of a process that exited");
        }
        let (scan_tx, mut scan_rx) = watch::channel(None::<i64>);
        let (lost_tx, lost_rx) = watch::channel(false);
        let renewer = {
            let (store, platform, owner) = (store.clone(), platform.to_string(), owner.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(timing.renew_every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        changed = scan_rx.changed() => if changed.is_err() { return },
                    }
                    let scan_id = *scan_rx.borrow_and_update();
                    match store
                        .renew_platform_lock(&platform, &owner, scan_id, now_ms())
                        .await
                    {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::error!(%platform, "the scan lock was taken over by another process; stopping");
                            let _ = lost_tx.send(true);
                            return;
                        }
                        // A busy database: try again at the next tick.
                        Err(e) => tracing::warn!(%platform, "renewing the scan lock: {e}"),
                    }
                }
            })
        };
        Ok(Ok(PlatformLock {
            store: store.clone(),
            platform: platform.to_string(),
            owner,
            scan_id: scan_tx,
            lost: lost_rx,
            renewer,
        }))
    }

    /// Records which scan runs under the lock (shown to whoever finds it held).
    pub fn set_scan(&self, scan_id: i64) {
        let _ = self.scan_id.send(Some(scan_id));
    }

    /// Turns true if another process took the lock over.
    pub fn lost(&self) -> watch::Receiver<bool> {
        self.lost.clone()
    }

    pub async fn release(self) {
        self.renewer.abort();
        if let Err(e) = self
            .store
            .unlock_platform(&self.platform, &self.owner)
            .await
        {
            tracing::warn!(platform = %self.platform, "releasing the scan lock: {e} (it goes stale by itself)");
        }
    }
}

impl Drop for PlatformLock {
    fn drop(&mut self) {
        self.renewer.abort();
    }
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
}
