//! Crawl stage: politeness per host.
//!
//! Each host has its own GCRA limiter (governor; one direct limiter per host
//! because quotas differ per platform), a cap on requests in flight, its
//! robots.txt, and a pacing slot that enforces robots.txt `Crawl-delay` and
//! the slow-down after 429/503 (`Retry-After` pauses the host; the extra
//! interval doubles on each such answer and decays as requests succeed).

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Longest pause a `Retry-After` or crawl-delay may impose.
pub const MAX_PAUSE: Duration = Duration::from_secs(600);

#[derive(Debug)]
pub struct HostState {
    pub key: String,
    limiter: Option<DefaultDirectRateLimiter>,
    pub inflight: Arc<Semaphore>,
    pacing: Mutex<Pacing>,
    pub robots: tokio::sync::Mutex<Option<(super::robots::RobotsState, Instant)>>,
}

#[derive(Debug)]
struct Pacing {
    /// No request before this instant (Retry-After).
    paused_until: Instant,
    /// Earliest start of the next request when an interval applies.
    next_slot: Instant,
    /// Robots.txt crawl-delay.
    crawl_delay: Duration,
    /// Extra interval after 429/503.
    penalty: Duration,
}

impl HostState {
    pub fn new(key: &str, requests_per_second: f64, burst: u32, concurrency: usize) -> HostState {
        HostState {
            key: key.to_string(),
            limiter: quota(requests_per_second, burst).map(RateLimiter::direct),
            inflight: Arc::new(Semaphore::new(concurrency.max(1))),
            pacing: Mutex::new(Pacing {
                paused_until: Instant::now(),
                next_slot: Instant::now(),
                crawl_delay: Duration::ZERO,
                penalty: Duration::ZERO,
            }),
            robots: tokio::sync::Mutex::new(None),
        }
    }

    /// Waits until a request to this host may start. Returns the time waited.
    pub async fn ready(&self) -> Duration {
        let start = Instant::now();
        loop {
            let wait_until = self.reserve_slot();
            tokio::time::sleep_until(wait_until).await;
            if let Some(l) = &self.limiter {
                l.until_ready().await;
            }
            // A Retry-After that arrived while we waited pushes us back again.
            if self.paused_until() <= Instant::now() {
                return start.elapsed();
            }
        }
    }

    /// The instant this request may go, reserving the interval after it.
    fn reserve_slot(&self) -> Instant {
        let mut p = self.pacing.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let interval = p.crawl_delay.max(p.penalty);
        let at = p.paused_until.max(now);
        if interval.is_zero() {
            return at;
        }
        let at = at.max(p.next_slot);
        p.next_slot = at + interval;
        at
    }

    /// How much longer a `Retry-After` pause lasts (zero when none).
    pub fn paused_for(&self, now: Instant) -> Duration {
        self.paused_until().saturating_duration_since(now)
    }

    fn paused_until(&self) -> Instant {
        self.pacing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .paused_until
    }

    /// A 429 or 503: pause for `retry_after` and slow down.
    pub fn throttled(&self, retry_after: Option<Duration>, base_interval: Duration) {
        let mut p = self.pacing.lock().unwrap_or_else(|e| e.into_inner());
        let pause = retry_after.unwrap_or(Duration::from_secs(1)).min(MAX_PAUSE);
        p.paused_until = p.paused_until.max(Instant::now() + pause);
        let floor = base_interval.max(Duration::from_millis(100));
        p.penalty = (p.penalty * 2).max(floor).min(Duration::from_secs(30));
    }

    /// No request before `d` from now (a pause learnt from elsewhere: the
    /// host's previous lease holder). Does not slow the host down.
    pub fn pause_for(&self, d: Duration) {
        let mut p = self.pacing.lock().unwrap_or_else(|e| e.into_inner());
        p.paused_until = p.paused_until.max(Instant::now() + d.min(MAX_PAUSE));
    }

    /// A success: the extra interval decays.
    pub fn succeeded(&self) {
        let mut p = self.pacing.lock().unwrap_or_else(|e| e.into_inner());
        if !p.penalty.is_zero() {
            p.penalty = p.penalty.mul_f64(0.9);
            if p.penalty < Duration::from_millis(20) {
                p.penalty = Duration::ZERO;
            }
        }
    }

    pub fn set_crawl_delay(&self, d: Duration) {
        let mut p = self.pacing.lock().unwrap_or_else(|e| e.into_inner());
        p.crawl_delay = d.min(MAX_PAUSE);
    }

    pub fn penalty(&self) -> Duration {
        self.pacing
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .penalty
    }
}

/// Share of the interval between requests added on top of `1 / rate`.
/// Requests leave the limiter spaced exactly, but reach the server a few
/// milliseconds apart from that (a new connection, a busy machine): without
/// slack, one late request and the next on time put rate + 1 requests into
/// one second at the server. 5 % absorbs 50 ms of such jitter whatever the
/// rate, and costs 5 % of the quota.
pub const JITTER_MARGIN: f64 = 0.05;

/// The governor quota for a rate; `None` when unlimited (rate 0).
pub fn quota(requests_per_second: f64, burst: u32) -> Option<Quota> {
    if requests_per_second <= 0.0 {
        return None;
    }
    let burst = NonZeroU32::new(burst.max(1)).expect("burst at least one");
    let period = Duration::from_secs_f64((1.0 + JITTER_MARGIN) / requests_per_second);
    Quota::with_period(period).map(|q| q.allow_burst(burst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limiter_spaces_requests() {
        let h = HostState::new("h", 20.0, 1, 4);
        let t = std::time::Instant::now();
        for _ in 0..6 {
            h.ready().await;
        }
        let el = t.elapsed();
        assert!(el >= Duration::from_millis(240), "{el:?}");
        assert!(el < Duration::from_millis(600), "{el:?}");
    }

    #[tokio::test]
    async fn throttle_pauses_and_slows_then_decays() {
        let h = HostState::new("h", 0.0, 1, 4);
        h.throttled(Some(Duration::from_millis(150)), Duration::ZERO);
        let t = std::time::Instant::now();
        h.ready().await;
        assert!(t.elapsed() >= Duration::from_millis(140));
        assert_eq!(h.penalty(), Duration::from_millis(100));
        for _ in 0..40 {
            h.succeeded();
        }
        assert_eq!(h.penalty(), Duration::ZERO);
    }

    #[tokio::test]
    async fn crawl_delay_spaces_requests() {
        let h = HostState::new("h", 0.0, 1, 4);
        h.set_crawl_delay(Duration::from_millis(100));
        let t = std::time::Instant::now();
        for _ in 0..3 {
            h.ready().await;
        }
        assert!(t.elapsed() >= Duration::from_millis(190));
    }
}
