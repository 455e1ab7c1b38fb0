//! Review stage, on the web: the captured pages behind a finding. In: a
//! stored page's id; out: the page as text for the sandboxed preview (with
//! `<meta http-equiv>` made inert, or a note when retention removed the
//! body) and the raw bytes as a download. Both go out under a strict
//! sandbox policy.

use super::AppState;
use super::charts;
use super::error::AppError;
use super::layout::PageResult;
use super::session::CurrentUser;
use crate::review::auth::Permission;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use std::sync::Arc;

/// The captured page as text, for the sandboxed preview.
pub(crate) async fn evidence_html(state: &AppState, page_id: i64) -> Result<String, AppError> {
    let meta = state
        .store
        .page_meta(page_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if let Some(at) = state.store.page_pruned_at(page_id).await? {
        return Ok(pruned_html(&meta.sha256, &at));
    }
    let gz = state.store.page_body_gz(page_id).await?;
    let raw = gunzip(&gz).map_err(|e| {
        tracing::error!(page_id, error = %e, "stored evidence does not decompress");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "存档页面已损坏，无法显示",
        )
    })?;
    let encoding = meta
        .encoding
        .as_deref()
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(&raw);
    Ok(neutralise(&text))
}

/// What the evidence frame shows for a page whose body retention removed.
fn pruned_html(sha256: &str, pruned_at: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:sans-serif;padding:1em;color:#555\">\
         <p><strong>该页面的原始内容已按保存期限清理</strong>（{}，配置项 retention.pages_days）。</p>\
         <p>页面记录（网址、抓取时间、状态码、响应头、SHA-256 {}）仍保留；该页面不是任何待处理问题、审核结论或下架通知的证据。</p>\
         </body></html>",
        charts::esc(pruned_at),
        charts::esc(sha256)
    )
}

fn gunzip(gz: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut out)?;
    Ok(out)
}

/// Turns `<meta http-equiv>` (refresh, cookies) into an inert attribute: a
/// sandboxed page may not run scripts, but a refresh would still navigate.
pub fn neutralise(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len());
    let mut last = 0;
    for (i, _) in lower.match_indices("http-equiv") {
        out.push_str(&html[last..i]);
        out.push_str("data-inert");
        last = i + "http-equiv".len();
    }
    out.push_str(&html[last..]);
    out
}

/// Sandbox: no scripts, no forms, no plugins, its own opaque origin; nothing
/// may be loaded from anywhere except inline styles and data: images.
pub const EVIDENCE_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     font-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'";

pub async fn evidence(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(page_id): Path<i64>,
) -> PageResult {
    user.require(Permission::View)?;
    let html = evidence_html(&state, page_id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(EVIDENCE_CSP),
            ),
            (
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("SAMEORIGIN"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            ),
        ],
        html,
    )
        .into_response())
}

pub async fn evidence_raw(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(page_id): Path<i64>,
) -> PageResult {
    user.require(Permission::View)?;
    let meta = state
        .store
        .page_meta(page_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if state.store.page_pruned_at(page_id).await?.is_some() {
        return Err(AppError::new(
            StatusCode::GONE,
            "该页面的原始内容已按保存期限清理（retention.pages_days），仅保留页面记录",
        ));
    }
    let raw = gunzip(&state.store.page_body_gz(page_id).await?)
        .map_err(|_| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "存档页面已损坏"))?;
    let name = format!(
        "attachment; filename=\"page-{}-{}.html\"",
        meta.id,
        &meta.sha256[..meta.sha256.len().min(12)]
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox; default-src 'none'"),
            ),
        ],
        raw,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_refresh_is_made_inert() {
        let html =
            r#"<meta HTTP-EQUIV="refresh" content="0;url=https://evil.example"><p>http-equiv</p>"#;
        let out = neutralise(html);
        assert!(!out.to_ascii_lowercase().contains("http-equiv"));
        assert!(out.contains("data-inert=\"refresh\""));
    }
}
