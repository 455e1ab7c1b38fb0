//! Review stage, on the web: the queue a page was opened from. A listing
//! page and its forms carry the queue's filters as a query string (`ctx`);
//! in: that string or the parsed parameters; out: the filter again (bad
//! filters dropped) and links back to the queue or on to a listing that
//! keep it.

use super::AppState;
use crate::domain::queue::QueueFilter;
use crate::review::queue::QueueParams;

/// The queue filters a listing page was opened from; bad ones are dropped.
pub(crate) fn context_filter(state: &AppState, params: &QueueParams) -> QueueFilter {
    let mut p = params.clone();
    p.after = None;
    p.before = None;
    p.parse(|g| state.group_codes(g))
        .or_else(|_| QueueParams::default().parse(|_| None))
        .expect("the default queue filter parses")
}

/// The filter a form's `ctx` field names.
pub(crate) fn ctx_filter(state: &AppState, ctx: &str) -> QueueFilter {
    let params: QueueParams = serde_urlencoded::from_str(ctx).unwrap_or_default();
    context_filter(state, &params)
}

/// A listing's page, opened from the queue `ctx`.
pub(crate) fn listing_href(id: i64, ctx: &str) -> String {
    if ctx.is_empty() {
        format!("/listings/{id}")
    } else {
        format!("/listings/{id}?{ctx}")
    }
}

/// The queue with the filters `ctx`.
pub(crate) fn queue_href(ctx: &str) -> String {
    if ctx.is_empty() {
        "/queue".into()
    } else {
        format!("/queue?{ctx}")
    }
}
