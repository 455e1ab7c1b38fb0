//! Review stage, on the web: decisions from the pages. In: a listing's
//! decision form or the queue's bulk form (with the queue they came from,
//! `ctx`); out: a redirect to the next listing in that queue, the listing
//! page again saying why a decision was refused, or the bulk result page.
//! Each decision is its own transaction with its own audit entry.

use super::AppState;
use super::error::{self, AppError};
use super::layout::{PageResult, layout, page};
use super::listing::{FormNotes, listing_page};
use super::queue_context::{ctx_filter, listing_href, queue_href};
use super::session::CurrentUser;
use super::views::{BulkLine, BulkResultView};
use crate::domain::queue::QueueFilter;
use crate::review::auth::Permission;
use crate::review::decision::{DecisionInput, check_allowed};
use crate::store::{DecideOutcome, StoreError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub ctx: String,
    #[serde(default)]
    pub seen: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

pub async fn decide(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(Permission::Decide)?;
    let filter = ctx_filter(&state, &form.ctx);
    let seen = Some(seen_decision(&form.seen)?);
    let input = DecisionInput {
        action: form.action.clone(),
        measure: form.measure.clone(),
        reason: form.reason.clone(),
        note: form.note.clone(),
    };
    let note = form.note.clone().unwrap_or_default();
    let decision = match input.validate() {
        Ok(d) => d,
        Err(e) => {
            return listing_page(
                &state,
                &user,
                id,
                &filter,
                refusal(e, &form.action, &note),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match state
        .store
        .decide(id, &user.user, &decision, seen, &check_allowed)
        .await?
    {
        DecideOutcome::NotFound => Err(AppError::not_found()),
        DecideOutcome::Rejected(e) => {
            let status = error::decision_status(&e);
            listing_page(
                &state,
                &user,
                id,
                &filter,
                refusal(e, &form.action, &note),
                status,
            )
            .await
        }
        DecideOutcome::Done { .. } => {
            state.decided();
            let to = after_decision(&state, &filter, id).await?;
            Ok(Redirect::to(&to).into_response())
        }
    }
}

/// Why a decision was refused, with the action and note that were sent.
fn refusal<'a>(e: impl std::fmt::Display, action: &'a str, note: &'a str) -> FormNotes<'a> {
    FormNotes {
        message: None,
        error: Some(e.to_string()),
        form: Some((action, note)),
    }
}

/// The decision the form was shown with (`none`: undecided), so a decision
/// made meanwhile by someone else is not overwritten unseen.
fn seen_decision(seen: &str) -> Result<Option<i64>, AppError> {
    match seen.trim() {
        "none" => Ok(None),
        s => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::bad_request("表单缺少当前决定编号，请刷新页面")),
    }
}

/// Where a decision on `id` leads: the next listing in the queue, or the
/// same one when it was the last; either says which one was decided.
async fn after_decision(
    state: &AppState,
    filter: &QueueFilter,
    id: i64,
) -> Result<String, AppError> {
    let done = id.to_string();
    Ok(match state.store.queue_next(filter, id).await? {
        Some(next) => format!(
            "/listings/{next}?{}",
            filter.query_string(&[("done", &done)])
        ),
        None => format!("/listings/{id}?{}", filter.query_string(&[("done", &done)])),
    })
}

#[derive(Debug, Deserialize)]
pub struct BulkForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub ctx: String,
    #[serde(default)]
    pub ids: Vec<i64>,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Most findings decided in one bulk request.
pub const BULK_MAX: usize = 500;

pub async fn bulk(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Form(form): Form<BulkForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(Permission::Decide)?;
    let filter = ctx_filter(&state, &form.ctx);
    let ctx = filter.query_string(&[]);
    if form.ids.is_empty() {
        return Err(AppError::bad_request("请先勾选要批量处理的条目"));
    }
    if form.ids.len() > BULK_MAX {
        return Err(AppError::bad_request(format!(
            "一次最多批量处理 {BULK_MAX} 条"
        )));
    }
    let input = DecisionInput {
        action: form.action.clone(),
        measure: form.measure.clone(),
        reason: form.reason.clone(),
        note: form.note.clone(),
    };
    let decision = input
        .validate()
        .map_err(|e| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let results = decide_many(&state, &user, &form.ids, &decision).await?;
    let lines: Vec<BulkLine> = results
        .into_iter()
        .map(|(id, r)| BulkLine {
            id,
            href: listing_href(id, &ctx),
            ok: r.is_ok(),
            outcome: match r {
                Ok(true) => "已修改原决定".into(),
                Ok(false) => "已处理".into(),
                Err(e) => e,
            },
        })
        .collect();
    let done = lines.iter().filter(|l| l.ok).count();
    let view = BulkResultView {
        layout: layout(&state, &user, "queue", "批量处理结果"),
        action: decision.action.label_zh(),
        done,
        skipped: lines.len() - done,
        lines,
        queue_href: queue_href(&ctx),
    };
    page(&view, StatusCode::OK)
}

/// Decides each finding in turn; each gets its own transaction and audit entry.
pub(crate) async fn decide_many(
    state: &AppState,
    user: &CurrentUser,
    ids: &[i64],
    decision: &crate::domain::decision::Decision,
) -> Result<Vec<(i64, Result<bool, String>)>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    let mut seen = std::collections::HashSet::new();
    for &id in ids {
        if !seen.insert(id) {
            continue;
        }
        let r = match state
            .store
            .decide(id, &user.user, decision, None, &check_allowed)
            .await?
        {
            DecideOutcome::Done { revised, .. } => Ok(revised),
            DecideOutcome::Rejected(e) => Err(e.to_string()),
            DecideOutcome::NotFound => Err("记录不存在".to_string()),
        };
        out.push((id, r));
    }
    if out.iter().any(|(_, r)| r.is_ok()) {
        state.decided();
    }
    Ok(out)
}
