//! Crawl stage: fetching one URL politely.
//!
//! In: a URL of a registered platform. Out: a [`Fetched`] outcome — a page,
//! a page that says the listing is gone (404/410), a robots.txt refusal, a
//! transient failure with the delay before the next attempt (exponential
//! backoff with jitter, or the server's `Retry-After`), or a permanent
//! failure. One shared HTTP client; redirects are followed here, hop by hop,
//! so every hop is rate-limited, checked against robots.txt and kept on the
//! platform's own hosts. Retries themselves are scheduled by the frontier,
//! which survives a restart.

use super::address::AddressPolicy;
use super::failure::{Failure, FailureKind};
use super::host::{HostState, MAX_PAUSE};
use super::robots::{RobotsState, RobotsTxt};
use crate::extract::{RobotsPolicy, host_key};
use backon::BackoffBuilder;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::Url;

/// Client-wide settings (section `[crawl]` of the configuration).
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub user_agent: String,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// How long an unavailable robots.txt (5xx, no answer) holds the host's
    /// pages back before it is asked for again (Google: "do not crawl for a
    /// while"); pages wait at least this long between attempts.
    pub robots_retry: Duration,
    pub global_concurrency: usize,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            user_agent: format!(
                "cccwatch/{} (market regulation audit)",
                env!("CARGO_PKG_VERSION")
            ),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body_bytes: 8 << 20,
            max_redirects: 5,
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(300),
            robots_retry: Duration::from_secs(10),
            global_concurrency: 64,
        }
    }
}

/// What a platform allows: its hosts, rate, robots policy.
#[derive(Debug, Clone)]
pub struct SiteRules {
    pub platform: String,
    /// `host:port` keys of the platform.
    pub hosts: Vec<String>,
    pub requests_per_second: f64,
    pub burst: u32,
    pub concurrency: usize,
    pub robots: RobotsPolicy,
    pub legal_basis: String,
    pub allow_private: bool,
}

/// A response as received.
#[derive(Debug, Clone)]
pub struct Response {
    /// The URL asked for.
    pub url: String,
    /// The URL that answered, after redirects.
    pub final_url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub fetched_at: DateTime<Utc>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
pub enum Fetched {
    /// A 2xx page.
    Page(Response),
    /// 404 or 410: the listing is gone.
    Gone(Response),
    /// robots.txt disallows the URL for our user agent.
    Robots,
    /// A transient failure; try again after `delay`.
    Retry {
        delay: Duration,
        reason: String,
        status: Option<u16>,
    },
    /// A permanent failure.
    Failed { reason: String, status: Option<u16> },
}

impl Fetched {
    /// Size of the body received, if any.
    pub fn body_len(&self) -> usize {
        match self {
            Fetched::Page(r) | Fetched::Gone(r) => r.body.len(),
            _ => 0,
        }
    }
}

/// An outcome and what it cost.
#[derive(Debug)]
pub struct FetchResult {
    pub outcome: Fetched,
    /// HTTP requests sent (redirect hops and robots.txt included).
    pub requests: u32,
    /// Time spent waiting for the rate limiter and pacing.
    pub waited: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

pub struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
    policy: AddressPolicy,
    global: Arc<Semaphore>,
    hosts: RwLock<HashMap<String, HostEntry>>,
    /// Stamps each page's capture time.
    clock: Arc<dyn crate::clock::Clock>,
}

/// A host's politeness state and the rules of its platform.
type HostEntry = (Arc<HostState>, Arc<SiteRules>);

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("settings", &self.settings)
            .finish()
    }
}

const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);

enum Hop {
    Done(Fetched),
    Redirect(Url),
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        let policy = AddressPolicy::default();
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(64)
            .dns_resolver(Arc::new(policy.clone()))
            .build()?;
        Ok(Fetcher {
            client,
            global: Arc::new(Semaphore::new(settings.global_concurrency.max(1))),
            settings,
            policy,
            hosts: RwLock::new(HashMap::new()),
            clock: crate::clock::system(),
        })
    }

    /// The same fetcher, stamping capture times from `clock` (give it the
    /// store's, so that pages and the scans they belong to agree).
    pub fn with_clock(mut self, clock: Arc<dyn crate::clock::Clock>) -> Fetcher {
        self.clock = clock;
        self
    }

    pub fn settings(&self) -> &FetchSettings {
        &self.settings
    }

    /// Registers a platform's hosts with their politeness rules.
    pub fn register(&self, site: SiteRules) {
        let site = Arc::new(site);
        let mut hosts = self.hosts.write().unwrap_or_else(|e| e.into_inner());
        for key in &site.hosts {
            if site.allow_private {
                let bare = key.rsplit_once(':').map_or(key.as_str(), |(h, _)| h);
                self.policy.allow_private(bare);
            }
            // The same rules again (a worker joining the same scan once
            // more): keep the host's limiter, pauses and robots.txt.
            if let Some((_, old)) = hosts.get(key)
                && same_politeness(old, &site)
            {
                continue;
            }
            let state = HostState::new(key, site.requests_per_second, site.burst, site.concurrency);
            hosts.insert(key.clone(), (Arc::new(state), site.clone()));
        }
    }

    fn host(&self, u: &Url) -> Option<HostEntry> {
        let hosts = self.hosts.read().unwrap_or_else(|e| e.into_inner());
        hosts.get(&host_key(u)).cloned()
    }

    /// The delay before attempt `attempt + 1` (exponential, with jitter).
    pub fn backoff(&self, attempt: u32) -> Duration {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.settings.retry_min)
            .with_max_delay(self.settings.retry_max)
            .with_jitter()
            .with_max_times(attempt as usize + 1)
            .build()
            .nth(attempt as usize)
            .unwrap_or(self.settings.retry_max)
    }

    /// Fetches `url`; `attempt` (0 for the first) sets the backoff on failure.
    /// Its log events belong to the caller's span (a scan's `fetch` span
    /// carries the scan ID and host).
    pub async fn fetch(&self, url: &str, attempt: u32) -> FetchResult {
        let mut res = FetchResult {
            outcome: Fetched::Failed {
                reason: String::new(),
                status: None,
            },
            requests: 0,
            waited: Duration::ZERO,
        };
        let mut current = match Url::parse(url) {
            Ok(u) => u,
            Err(e) => {
                res.outcome = failed(format!("网址无效（invalid URL: {e}）"), None);
                return res;
            }
        };
        let Some((_, site)) = self.host(&current) else {
            res.outcome = failed(
                format!(
                    "{} 不是任何已配置平台的主机（not a host of any configured platform）",
                    host_key(&current)
                ),
                None,
            );
            return res;
        };
        for hop in 0..=self.settings.max_redirects {
            match self.hop(&current, url, &site, attempt, &mut res).await {
                Hop::Done(outcome) => {
                    res.outcome = outcome;
                    return res;
                }
                Hop::Redirect(next) if hop < self.settings.max_redirects => current = next,
                Hop::Redirect(_) => break,
            }
        }
        res.outcome = failed(
            format!(
                "重定向次数过多（more than {} redirects）",
                self.settings.max_redirects
            ),
            None,
        );
        res
    }

    /// One request: address check, robots.txt, politeness, send, classify.
    async fn hop(
        &self,
        u: &Url,
        asked: &str,
        site: &SiteRules,
        attempt: u32,
        res: &mut FetchResult,
    ) -> Hop {
        let Some((host, _)) = self.host(u).filter(|(_, s)| s.platform == site.platform) else {
            return Hop::Done(failed(
                format!(
                    "重定向到 {} 离开了平台 {}（redirect leaves the platform）",
                    host_key(u),
                    site.platform
                ),
                None,
            ));
        };
        if let Err(e) = self.policy.check_literal(u.host_str().unwrap_or("")) {
            let f = Failure::new(FailureKind::PrivateAddress, host_key(u), e);
            return Hop::Done(failed(f.to_string(), None));
        }
        match self.robots_check(&host, site, u, res).await {
            Ok(true) => {}
            Ok(false) => return Hop::Done(Fetched::Robots),
            Err((f, _)) if f.kind.is_permanent() => {
                return Hop::Done(failed(f.to_string(), None));
            }
            Err((f, wait)) => {
                let status = match f.kind {
                    FailureKind::Http(s) => Some(s),
                    _ => None,
                };
                return Hop::Done(Fetched::Retry {
                    delay: self.backoff(attempt).max(wait),
                    reason: f.to_string(),
                    status,
                });
            }
        }
        let _host_permit = host.inflight.clone().acquire_owned().await;
        res.waited += polite_wait(&host).await;
        let _permit = self.global.clone().acquire_owned().await;
        res.requests += 1;
        let started = Instant::now();
        let sent = self.send(u).await;
        tracing::debug!(platform = %site.platform, url = %u, ms = started.elapsed().as_millis() as u64, status = sent.as_ref().map(|r| r.status).ok(), "fetched");
        let resp = match sent {
            Ok(r) => r,
            Err(SendError::TooLarge(n)) => {
                let f = Failure::new(
                    FailureKind::TooLarge,
                    host_key(u),
                    format!("body larger than {n} bytes (crawl.max_body_bytes)"),
                );
                return Hop::Done(failed(f.to_string(), None));
            }
            Err(SendError::Http(e)) => {
                let f = Failure::of_request(&e, &host_key(u));
                if f.kind.is_permanent() {
                    return Hop::Done(failed(f.to_string(), None));
                }
                return Hop::Done(Fetched::Retry {
                    delay: self.backoff(attempt),
                    reason: f.to_string(),
                    status: None,
                });
            }
        };
        self.classify(resp, asked, u, &host, site, attempt)
    }

    fn classify(
        &self,
        mut resp: Response,
        asked: &str,
        u: &Url,
        host: &HostState,
        site: &SiteRules,
        attempt: u32,
    ) -> Hop {
        resp.url = asked.to_string();
        let status = resp.status;
        match status {
            200..=299 => {
                host.succeeded();
                Hop::Done(Fetched::Page(resp))
            }
            301 | 302 | 303 | 307 | 308 => {
                match resp.header("location").and_then(|l| u.join(l).ok()) {
                    Some(next) => Hop::Redirect(next),
                    None => Hop::Done(failed(
                        Failure::new(
                            FailureKind::Redirect,
                            host_key(u),
                            format!("redirect {status} without a usable Location"),
                        )
                        .to_string(),
                        Some(status),
                    )),
                }
            }
            404 | 410 => Hop::Done(Fetched::Gone(resp)),
            429 | 503 => {
                let after = resp.header("retry-after").and_then(parse_retry_after);
                host.throttled(after, interval_of(site));
                let delay = after
                    .unwrap_or_else(|| self.backoff(attempt))
                    .min(MAX_PAUSE);
                Hop::Done(Fetched::Retry {
                    delay,
                    reason: http_failure(status, u),
                    status: Some(status),
                })
            }
            408 | 500..=599 => Hop::Done(Fetched::Retry {
                delay: self.backoff(attempt),
                reason: http_failure(status, u),
                status: Some(status),
            }),
            _ => Hop::Done(failed(http_failure(status, u), Some(status))),
        }
    }

    async fn send(&self, u: &Url) -> Result<Response, SendError> {
        let mut r = self
            .client
            .get(u.clone())
            .send()
            .await
            .map_err(SendError::Http)?;
        let max = self.settings.max_body_bytes;
        if r.content_length().is_some_and(|n| n as usize > max) {
            return Err(SendError::TooLarge(max));
        }
        let status = r.status().as_u16();
        let headers = r
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let final_url = r.url().to_string();
        let mut body = Vec::new();
        while let Some(chunk) = r.chunk().await.map_err(SendError::Http)? {
            if body.len() + chunk.len() > max {
                return Err(SendError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            url: String::new(),
            final_url,
            status,
            headers,
            body,
            fetched_at: self.clock.now(),
        })
    }

    /// Whether robots.txt lets us fetch `u`; `Err` with why and for how
    /// much longer when robots.txt is unavailable.
    async fn robots_check(
        &self,
        host: &HostState,
        site: &SiteRules,
        u: &Url,
        res: &mut FetchResult,
    ) -> Result<bool, (Failure, Duration)> {
        if site.robots == RobotsPolicy::Override {
            tracing::info!(platform = %site.platform, url = %u, legal_basis = %site.legal_basis, "robots.txt overridden");
            return Ok(true);
        }
        if u.path() == "/robots.txt" {
            return Ok(true);
        }
        let (robots, until) = self.robots(host, u, res).await;
        match robots {
            Ok(r) => Ok(r.is_allowed(&self.settings.user_agent, u.as_str())),
            Err(f) => Err((f, until.saturating_duration_since(Instant::now()))),
        }
    }

    /// The host's robots.txt (cached), and until when the answer holds.
    async fn robots(
        &self,
        host: &HostState,
        u: &Url,
        res: &mut FetchResult,
    ) -> (RobotsState, Instant) {
        let mut cached = host.robots.lock().await;
        if let Some((r, until)) = cached.as_ref()
            && *until > Instant::now()
        {
            return (r.clone(), *until);
        }
        let mut robots_url = u.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let state = self.fetch_robots(host, robots_url, res).await;
        let ttl = match &state {
            Ok(robots) => {
                if let Some(d) = robots.crawl_delay(&self.settings.user_agent) {
                    host.set_crawl_delay(d);
                }
                ROBOTS_TTL
            }
            Err(f) => {
                tracing::warn!(host = %host.key, "{f}");
                self.settings.robots_retry
            }
        };
        let until = Instant::now() + ttl;
        *cached = Some((state.clone(), until));
        (state, until)
    }

    /// Google's rules: 2xx parse; 4xx allow all; 5xx or no answer:
    /// unavailable (nothing is fetched from the host meanwhile).
    async fn fetch_robots(
        &self,
        host: &HostState,
        mut url: Url,
        res: &mut FetchResult,
    ) -> RobotsState {
        for _ in 0..=self.settings.max_redirects {
            let _p = host.inflight.clone().acquire_owned().await;
            res.waited += polite_wait(host).await;
            res.requests += 1;
            let answer = self.send(&url).await;
            match answer {
                Ok(r) if (200..300).contains(&r.status) => {
                    return Ok(Arc::new(RobotsTxt::parse(&r.body)));
                }
                Ok(r) if matches!(r.status, 301 | 302 | 303 | 307 | 308) => {
                    match r.header("location").and_then(|l| url.join(l).ok()) {
                        Some(next) if self.host(&next).is_some() => url = next,
                        _ => return Ok(Arc::new(RobotsTxt::allow_all())),
                    }
                }
                Ok(r) if r.status == 429 || r.status >= 500 => {
                    let after = r.header("retry-after").and_then(parse_retry_after);
                    if r.status == 429 || r.status == 503 {
                        host.throttled(after, Duration::ZERO);
                    }
                    return Err(
                        Failure::new(FailureKind::Http(r.status), host.key.clone(), "").on_robots(),
                    );
                }
                Ok(_) => return Ok(Arc::new(RobotsTxt::allow_all())),
                Err(SendError::TooLarge(_)) => return Ok(Arc::new(RobotsTxt::allow_all())),
                Err(SendError::Http(e)) => {
                    return Err(Failure::of_request(&e, &host.key).on_robots());
                }
            }
        }
        Ok(Arc::new(RobotsTxt::allow_all()))
    }

    /// Pauses a host (by `host:port`) for `d`: a pause its previous lease
    /// holder learnt. Unknown hosts are ignored.
    pub fn pause_host(&self, host: &str, d: Duration) {
        let hosts = self.hosts.read().unwrap_or_else(|e| e.into_inner());
        if let Some((state, _)) = hosts.get(host) {
            state.pause_for(d);
        }
    }

    /// How much longer a host (by `host:port`) is paused by a `Retry-After`.
    pub fn host_paused_for(&self, host: &str) -> Duration {
        let hosts = self.hosts.read().unwrap_or_else(|e| e.into_inner());
        hosts.get(host).map_or(Duration::ZERO, |(state, _)| {
            state.paused_for(Instant::now())
        })
    }

    /// Until when the platform's hosts are paused by a `Retry-After`, and
    /// whether their robots.txt is unavailable: what a scan is waiting for.
    pub fn waiting_on(&self, platform: &str) -> Option<String> {
        let hosts = self.hosts.read().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        for (state, site) in hosts.values() {
            if site.platform != platform {
                continue;
            }
            let paused = state.paused_for(now);
            if !paused.is_zero() {
                return Some(format!(
                    "平台要求暂停（Retry-After），还需等待 {} 秒",
                    paused.as_secs().max(1)
                ));
            }
            if let Ok(guard) = state.robots.try_lock()
                && let Some((Err(f), until)) = guard.as_ref()
                && *until > now
            {
                return Some(format!("{f}，稍后重试"));
            }
        }
        None
    }
}

fn same_politeness(a: &SiteRules, b: &SiteRules) -> bool {
    a.platform == b.platform
        && a.requests_per_second == b.requests_per_second
        && a.burst == b.burst
        && a.concurrency == b.concurrency
        && a.robots == b.robots
        && a.allow_private == b.allow_private
        && a.legal_basis == b.legal_basis
}

/// Waits for the host's rate limit and pacing; counts the wait in `/metrics`.
async fn polite_wait(host: &HostState) -> Duration {
    let waited = host.ready().await;
    crate::monitoring::rate_limit_waited(&host.key, waited);
    waited
}

enum SendError {
    Http(reqwest::Error),
    TooLarge(usize),
}

fn failed(reason: String, status: Option<u16>) -> Fetched {
    Fetched::Failed { reason, status }
}

fn interval_of(site: &SiteRules) -> Duration {
    if site.requests_per_second > 0.0 {
        Duration::from_secs_f64(1.0 / site.requests_per_second)
    } else {
        Duration::ZERO
    }
}

/// An HTTP status as a failure text.
fn http_failure(status: u16, u: &Url) -> String {
    Failure::new(FailureKind::Http(status), host_key(u), "").to_string()
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let later = std::time::SystemTime::now() + Duration::from_secs(30);
        let d = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(
            d <= Duration::from_secs(30) && d >= Duration::from_secs(28),
            "{d:?}"
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let f = Fetcher::new(FetchSettings::default()).unwrap();
        let first = f.backoff(0);
        assert!(
            first >= Duration::from_secs(1) && first <= Duration::from_secs(2),
            "{first:?}"
        );
        let fifth = f.backoff(4);
        assert!(fifth >= Duration::from_secs(16), "{fifth:?}");
        assert!(f.backoff(30) <= Duration::from_secs(600));
    }
}
