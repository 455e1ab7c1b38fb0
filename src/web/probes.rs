//! Probes and metrics of the review workspace, open without login:
//! `/healthz` (the process answers), `/readyz` (the database answers a
//! trivial query and the server is not shutting down; 503 with the reason
//! otherwise) and `/metrics` (Prometheus text format; counts only, never
//! listing text). Every request is counted by its route pattern.

use super::AppState;
use crate::monitoring;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a probe waits for the database.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `/metrics` waits for the database's counts.
const GAUGE_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn healthz() -> &'static str {
    "ok"
}

pub(super) async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let unavailable = |why: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response()
    };
    if state.is_shutting_down() {
        return unavailable("shutting down");
    }
    match tokio::time::timeout(PROBE_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => "ready\n".into_response(),
        Ok(Err(e)) => {
            tracing::warn!("readiness probe: {e}");
            unavailable("the database does not answer")
        }
        Err(_) => unavailable("the database did not answer within 2 s"),
    }
}

pub(super) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let gauges = match tokio::time::timeout(GAUGE_TIMEOUT, state.store.gauge_counts()).await {
        Ok(Ok(g)) => Some(g),
        Ok(Err(e)) => {
            tracing::warn!("metrics: {e}");
            None
        }
        Err(_) => {
            tracing::warn!("metrics: the database's counts took more than 10 s");
            None
        }
    };
    let cluster = match tokio::time::timeout(GAUGE_TIMEOUT, state.cluster()).await {
        Ok(Ok(c)) => Some(c),
        Ok(Err(e)) => {
            tracing::warn!("metrics: the cluster: {e}");
            None
        }
        Err(_) => None,
    };
    let body = monitoring::render(gauges.as_ref(), cluster.as_ref());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Counts a request by method, route pattern (`/listings/{id}`, never the
/// path itself; `fallback` when no route matched) and status.
pub(super) async fn count_requests(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("fallback", MatchedPath::as_str)
        .to_string();
    let method = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        _ => "other",
    };
    let started = Instant::now();
    let resp = next.run(req).await;
    monitoring::http_request(method, &route, resp.status().as_u16(), started.elapsed());
    resp
}
