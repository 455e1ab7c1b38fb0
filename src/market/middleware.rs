//! Around every handler: the request record, the added latency, and the
//! injected faults (429 on item pages, 503 anywhere but robots.txt), with
//! `Retry-After` in seconds or, now and then, as an HTTP date.

use super::RequestRecord;
use super::state::Shared;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub(crate) async fn around(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let seq = Shared::next(&shared.seq);
    let at_ms = shared.started.elapsed().as_millis() as u64;
    let method = req.method().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    if !shared.cfg.latency.is_zero() {
        tokio::time::sleep(shared.cfg.latency).await;
    }
    let response = match injected(&shared, req.uri().path()) {
        Some(r) => r,
        None => next.run(req).await,
    };
    let record = RequestRecord {
        at_ms,
        method,
        path_and_query,
        status: response.status().as_u16(),
        user_agent,
    };
    shared.push_record(seq, record);
    response
}

/// The fault this request gets, if any.
fn injected(shared: &Shared, path: &str) -> Option<Response> {
    if path == "/robots.txt" {
        return None;
    }
    let every = shared.cfg.unavailable_every;
    if every > 0 && Shared::next(&shared.all_requests).is_multiple_of(every) {
        return Some(fault(shared, StatusCode::SERVICE_UNAVAILABLE, 2));
    }
    let item = path.starts_with("/item/") || path.starts_with("/api/item/");
    let every = shared.cfg.throttle_every;
    if item && every > 0 && Shared::next(&shared.item_requests).is_multiple_of(every) {
        return Some(fault(shared, StatusCode::TOO_MANY_REQUESTS, 1));
    }
    None
}

fn fault(shared: &Shared, status: StatusCode, seconds: i64) -> Response {
    let n = Shared::next(&shared.faults);
    let retry_after = if n.is_multiple_of(4) {
        http_date(seconds + 1)
    } else {
        seconds.to_string()
    };
    let text = if status == StatusCode::TOO_MANY_REQUESTS {
        "访问过于频繁，请稍后再试"
    } else {
        "系统繁忙，请稍后再试"
    };
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{text}</title></head>\
         <body><div class=\"error\">{text}</div></body></html>"
    );
    let mut r = (status, Body::from(body)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&retry_after) {
        h.insert(header::RETRY_AFTER, v);
    }
    r
}

/// An IMF-fixdate `seconds` from now.
pub(crate) fn http_date(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}
