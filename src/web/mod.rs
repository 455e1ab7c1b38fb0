//! Review stage, on the web: the workspace of the market section
//! (`cccwatch serve`). Pages for the queue, a listing with its evidence and
//! certificate, decisions, the dashboard, users and the audit log, and a
//! JSON API with the same roles. Everything a listing says is escaped by the
//! templates; captured pages are served sandboxed; every form carries a CSRF
//! token; security headers go on every response.

mod account;
mod api;
mod assets;
mod audit;
mod charts;
mod choices;
mod dashboard;
mod decisions;
mod error;
mod evidence;
mod feeds;
mod help;
mod labels;
mod layout;
mod listing;
mod listing_cert;
mod listing_history;
mod notices;
mod passwords;
mod probes;
mod queue;
mod queue_context;
mod reports;
mod scans;
pub mod schedule;
mod session;
mod users;
mod views;

pub use error::AppError;
pub use evidence::neutralise;
pub use session::{CurrentUser, SESSION_COOKIE};

use crate::certdb::Catalog;
use crate::config::{NoticeSettings, WebSettings};
use crate::extract::PlatformLabels;
use crate::matching::brand::BrandTable;
use crate::store::{DashboardData, Store};
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::set_header::SetResponseHeaderLayer;

/// What every handler can reach.
pub struct AppState {
    pub store: Store,
    pub settings: WebSettings,
    pub catalog: Catalog,
    pub brands: BrandTable,
    /// Where notice batches are written and how letters read.
    pub notices: NoticeSettings,
    /// Platforms' names for people (`jd` → 京东): every page names a
    /// platform through [`PlatformLabels::label`].
    pub platforms: PlatformLabels,
    login_limiter: DefaultKeyedRateLimiter<IpAddr>,
    dashboard: tokio::sync::Mutex<Option<CachedDashboard>>,
    /// Bumped by every decision: the cached dashboard is stale after it.
    generation: std::sync::atomic::AtomicU64,
    /// The scheduled jobs and, under `serve`, the way to start one now.
    pub schedule: Option<schedule::ScheduleHandle>,
    /// Set when shutdown begins: `/readyz` answers 503 from then on.
    shutting_down: std::sync::atomic::AtomicBool,
}

/// Dashboard figures: computed at, generation, how long they took, figures.
type CachedDashboard = (Instant, u64, Duration, Arc<DashboardData>);

/// How long dashboard figures may be reused when nothing was decided.
const DASHBOARD_TTL: Duration = Duration::from_secs(60);
/// Figures cheaper than this are recomputed after every decision; dearer
/// ones (a million findings take a second or two) at most every 30 s.
const DASHBOARD_CHEAP: Duration = Duration::from_millis(250);
const DASHBOARD_MIN_AGE: Duration = Duration::from_secs(30);

impl AppState {
    pub fn new(
        store: Store,
        settings: WebSettings,
        catalog: Catalog,
        brands: BrandTable,
    ) -> Arc<AppState> {
        let per_minute =
            NonZeroU32::new(settings.login_attempts_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Arc::new(AppState {
            store,
            settings,
            catalog,
            brands,
            notices: NoticeSettings::default(),
            platforms: PlatformLabels::default(),
            login_limiter: governor::RateLimiter::keyed(Quota::per_minute(per_minute)),
            dashboard: tokio::sync::Mutex::new(None),
            generation: std::sync::atomic::AtomicU64::new(0),
            schedule: None,
            shutting_down: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// The state with the scheduler's handle (`serve`).
    pub fn with_schedule(
        mut state: Arc<AppState>,
        handle: schedule::ScheduleHandle,
    ) -> Arc<AppState> {
        match Arc::get_mut(&mut state) {
            Some(s) => s.schedule = Some(handle),
            None => tracing::error!("the scheduler handle was set on a shared state"),
        }
        state
    }

    /// The state with the bureau's notice settings (default: the built-in
    /// ones) and its platforms' names (default: the short names).
    pub fn with_notices(
        store: Store,
        settings: WebSettings,
        catalog: Catalog,
        brands: BrandTable,
        notices: NoticeSettings,
        platforms: PlatformLabels,
    ) -> Arc<AppState> {
        let mut state = AppState::new(store, settings, catalog, brands);
        if let Some(s) = Arc::get_mut(&mut state) {
            s.notices = notices;
            s.platforms = platforms;
        }
        state
    }

    /// A platform's name for people (京东 for `jd`).
    pub(crate) fn platform_label<'a>(&'a self, platform: &'a str) -> &'a str {
        self.platforms.label(platform)
    }

    /// The crawling processes sharing the database and their host leases
    /// (those that stopped within the last day included).
    pub(crate) async fn cluster(
        &self,
    ) -> Result<crate::scan::cluster::ClusterSnapshot, crate::store::StoreError> {
        let cluster = self
            .schedule
            .as_ref()
            .map(|h| h.settings.cluster.clone())
            .unwrap_or_default();
        crate::scan::cluster::ClusterSnapshot::read(
            &self.store,
            crate::scan::cluster::ClusterTiming::from_settings(&cluster),
            std::time::Duration::from_secs(24 * 3600),
        )
        .await
    }

    /// Marks the server as shutting down: `/readyz` answers 503.
    pub fn begin_shutdown(&self) {
        self.shutting_down
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) fn decided(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The dashboard figures: recomputed after a decision (at most every
    /// 30 s when computing them is slow), and at least every minute.
    pub(crate) async fn dashboard(&self) -> Result<Arc<DashboardData>, AppError> {
        let generation = self.generation.load(std::sync::atomic::Ordering::Relaxed);
        let mut cached = self.dashboard.lock().await;
        if let Some((at, g, took, data)) = cached.as_ref() {
            let age = at.elapsed();
            let changed = *g != generation;
            let fresh = age < DASHBOARD_TTL
                && (!changed || (*took >= DASHBOARD_CHEAP && age < DASHBOARD_MIN_AGE));
            if fresh {
                return Ok(data.clone());
            }
        }
        let started = Instant::now();
        let data = Arc::new(self.store.dashboard(self.store.now()).await?);
        *cached = Some((Instant::now(), generation, started.elapsed(), data.clone()));
        Ok(data)
    }

    /// Product group names of the catalog, in catalog order.
    pub(crate) fn groups(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self.catalog.entries() {
            if !out.contains(&e.group) {
                out.push(e.group.clone());
            }
        }
        out
    }

    pub(crate) fn group_codes(&self, group: &str) -> Option<Vec<String>> {
        let codes: Vec<String> = self
            .catalog
            .entries()
            .iter()
            .filter(|e| e.group == group)
            .map(|e| e.code.clone())
            .collect();
        (!codes.is_empty()).then_some(codes)
    }

    pub(crate) fn category_label(&self, code: Option<&str>) -> String {
        match code {
            None => "（未归类）".into(),
            Some(c) => match self.catalog.entry(c) {
                Some(e) => format!("{} {}", e.code, e.name),
                None => c.to_string(),
            },
        }
    }

    pub(crate) fn group_of(&self, code: Option<&str>) -> String {
        code.and_then(|c| self.catalog.entry(c))
            .map(|e| e.group.clone())
            .unwrap_or_else(|| "（未归类）".into())
    }
}

/// The policy for every page: nothing from other origins, no inline script
/// or style, no framing (evidence pages set their own, stricter policy).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// The application with its routes and security headers.
pub fn router(state: Arc<AppState>) -> Router {
    let pages = Router::new()
        .route("/", get(queue::home))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/queue", get(queue::queue))
        .route("/queue/bulk", post(decisions::bulk))
        .route("/listings/{id}", get(listing::listing))
        .route("/listings/{id}/decision", post(decisions::decide))
        .route("/evidence/{page_id}", get(evidence::evidence))
        .route("/evidence/{page_id}/raw", get(evidence::evidence_raw))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/audit", get(audit::audit))
        .route("/reports", get(reports::index))
        .route("/reports/monthly", get(reports::monthly_page))
        .route("/reports/monthly.xlsx", get(reports::monthly_xlsx))
        .route("/reports/sellers", get(reports::sellers_page))
        .route("/admin/users", get(users::users).post(users::user_add))
        .route("/admin/users/{username}", post(users::user_change))
        .route(
            "/account",
            get(account::account).post(account::account_password),
        )
        .route("/help", get(help::page_get))
        .route("/schedule", get(schedule::page_get))
        .route("/schedule/run", post(schedule::run_now))
        .route("/notices", get(notices::list))
        .route("/notices/issue", post(notices::issue))
        .route("/notices/{id}", get(notices::batch))
        .route("/notices/{id}/reply", post(notices::reply))
        .route("/notices/{id}/reply-file", post(notices::reply_file))
        .route("/notices/{id}/files/{name}", get(notices::file))
        .route("/scans", get(scans::list))
        .route("/scans/diff", get(scans::diff_form))
        .route("/scans/{id}", get(scans::show))
        .route("/scans/{a}/diff/{b}", get(scans::diff))
        .route("/static/app.css", get(assets::css))
        .route("/static/app.js", get(assets::js))
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .route("/metrics", get(probes::metrics));
    let api = Router::new()
        .route("/api/me", get(api::me))
        .route("/api/queue", get(api::queue))
        .route("/api/findings/{id}", get(api::finding))
        .route("/api/findings/{id}/decision", post(api::decide))
        .route("/api/decisions", post(api::bulk))
        .route("/api/dashboard", get(api::dashboard))
        .route("/api/feeds/{platform}", get(feeds::feed));
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    pages
        .merge(api)
        .fallback(error::not_found)
        .layer(header(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(header::CACHE_CONTROL, "no-store"))
        .layer(header(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(1 << 20))
        .layer(axum::middleware::from_fn(server_timing))
        .layer(axum::middleware::from_fn(probes::count_requests))
        .with_state(state)
}

/// Adds `Server-Timing: app;dur=MS` (time spent in the application, for
/// the browser's developer tools and `cccwatch bench review`) and logs slow
/// requests.
async fn server_timing(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = Instant::now();
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        resp.headers_mut()
            .insert(HeaderName::from_static("server-timing"), v);
    }
    if ms > 1000.0 {
        tracing::warn!(%path, ms, status = resp.status().as_u16(), "slow request");
    } else {
        tracing::debug!(%path, ms, status = resp.status().as_u16(), "request");
    }
    resp
}

/// Serves until `shutdown` resolves, then stops accepting connections,
/// answers `/readyz` with 503 and lets requests in progress finish for at
/// most `web.shutdown_timeout_secs`; connections still open then are dropped.
pub async fn serve(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limiter_state = state.clone();
    // Forget idle per-address login counters now and then.
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tick.tick().await;
            limiter_state.login_limiter.retain_recent();
        }
    });
    let drain = Duration::from_secs(state.settings.shutdown_timeout_secs);
    let began = tokio_util::sync::CancellationToken::new();
    let flag = state.clone();
    let began_draining = began.clone();
    let signal = async move {
        shutdown.await;
        flag.begin_shutdown();
        tracing::info!(
            drain_secs = drain.as_secs(),
            "shutting down: not ready, finishing requests in progress"
        );
        began_draining.cancel();
    };
    let deadline = async move {
        began.cancelled().await;
        tokio::time::sleep(drain).await;
    };
    let app = router(state);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    let result = tokio::select! {
        r = server.into_future() => r,
        () = deadline => {
            tracing::warn!(
                drain_secs = drain.as_secs(),
                "requests still open after web.shutdown_timeout_secs: dropping them"
            );
            Ok(())
        }
    };
    sweeper.abort();
    result
}
