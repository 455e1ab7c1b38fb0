//! Review stage, on the web: the JSON API. The same data and the same roles
//! as the pages: the queue, a finding, decisions (one or many), the
//! dashboard. Authenticate with a personal token (`Authorization: Bearer`)
//! or a browser session plus the `X-CSRF-Token` header for writes.

use super::AppState;
use super::decisions::{BULK_MAX, decide_many};
use super::error::AppError;
use super::session::CurrentUser;
use crate::review::auth::Permission;
use crate::review::compare;
use crate::review::decision::{DecisionInput, check_allowed};
use crate::review::queue::QueueParams;
use crate::store::DecideOutcome;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use std::sync::Arc;

type ApiResult = Result<Json<Value>, AppError>;

fn api(e: AppError) -> AppError {
    e.json()
}

pub async fn me(user: CurrentUser) -> ApiResult {
    use Permission::*;
    let perms: Vec<&str> = [
        (View, "view"),
        (Decide, "decide"),
        (Revise, "revise"),
        (ViewAudit, "view_audit"),
        (ManageUsers, "manage_users"),
    ]
    .into_iter()
    .filter(|(p, _)| user.can(*p))
    .map(|(_, n)| n)
    .collect();
    Ok(Json(json!({
        "username": user.user.username,
        "display_name": user.user.display_name,
        "role": user.user.role,
        "permissions": perms,
        "csrf_token": user.csrf,
    })))
}

pub async fn queue(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Query(params): Query<QueueParams>,
) -> ApiResult {
    user.require(Permission::View).map_err(api)?;
    let filter = params
        .parse(|g| state.group_codes(g))
        .map_err(|e| AppError::bad_request(e.to_string()).json())?;
    let page = state
        .store
        .queue(&filter)
        .await
        .map_err(|e| api(e.into()))?;
    Ok(Json(serde_json::to_value(&page).unwrap_or(Value::Null)))
}

pub async fn finding(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult {
    user.require(Permission::View).map_err(api)?;
    let d = state
        .store
        .finding_detail(id)
        .await
        .map_err(|e| api(e.into()))?
        .ok_or_else(|| AppError::not_found().json())?;
    let cert_no = d.finding.as_ref().and_then(|f| {
        f.matched_cert
            .clone()
            .or_else(|| f.cert_numbers.first().cloned())
    });
    let cert = match &cert_no {
        Some(n) => state
            .store
            .certificate(n)
            .await
            .map_err(|e| api(e.into()))?,
        None => None,
    };
    let as_of = d
        .as_of
        .as_deref()
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .unwrap_or_else(|| crate::report::beijing_today(state.store.now()));
    let l = &d.listing.listing;
    let comparison = cert.as_ref().map(|c| {
        let (b, m) = match &d.finding {
            Some(f) => (
                f.brand.clone().or(l.brand.clone()),
                f.model.clone().or(l.model.clone()),
            ),
            None => (l.brand.clone(), l.model.clone()),
        };
        compare::compare(b.as_deref(), m.as_deref(), &c.cert, &state.brands, as_of)
    });
    let decisions = state
        .store
        .decisions_for(id)
        .await
        .map_err(|e| api(e.into()))?;
    Ok(Json(json!({
        "listing_id": id,
        "listing": l,
        "state": d.state,
        "gone_at": d.gone_at,
        "first_seen_at": d.first_seen_at,
        "last_seen_at": d.last_seen_at,
        "last_scan_id": d.last_scan_id,
        "finding": d.finding,
        "as_of": d.as_of,
        "review_state": d.review_state,
        "decision_id": d.decision_id,
        "queued_at": d.queued_at,
        "certificate": cert.map(|c| c.cert),
        "comparison": comparison,
        "evidence": d.page,
        "decisions": decisions,
    })))
}

/// Absent means "do not check"; `null` means "I saw no decision".
fn seen_field<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
pub struct ApiDecision {
    pub action: String,
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// The decision the client based this one on (`null`: none). When
    /// another decision was made since, the answer is 409.
    #[serde(default, deserialize_with = "seen_field")]
    pub seen_decision: Option<Option<i64>>,
}

fn bad_json(e: JsonRejection) -> AppError {
    AppError::new(
        StatusCode::BAD_REQUEST,
        format!("请求体不是有效的 JSON：{}", e.body_text()),
    )
    .json()
}

use super::error::decision_status as rejected_status;

pub async fn decide(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(id): Path<i64>,
    body: Result<Json<ApiDecision>, JsonRejection>,
) -> ApiResult {
    user.require(Permission::Decide).map_err(api)?;
    let Json(body) = body.map_err(bad_json)?;
    let input = DecisionInput {
        action: body.action,
        measure: body.measure,
        reason: body.reason,
        note: body.note,
    };
    let decision = input
        .validate()
        .map_err(|e| AppError::new(rejected_status(&e), e.to_string()).json())?;
    match state
        .store
        .decide(
            id,
            &user.user,
            &decision,
            body.seen_decision,
            &check_allowed,
        )
        .await
        .map_err(|e| api(e.into()))?
    {
        DecideOutcome::Done {
            decision_id,
            revised,
        } => {
            state.decided();
            Ok(Json(
                json!({"listing_id": id, "decision_id": decision_id, "revised": revised,
                "review_state": decision.action.resulting_state()}),
            ))
        }
        DecideOutcome::Rejected(e) => Err(AppError::new(rejected_status(&e), e.to_string()).json()),
        DecideOutcome::NotFound => Err(AppError::not_found().json()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ApiBulk {
    pub ids: Vec<i64>,
    pub action: String,
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

pub async fn bulk(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    body: Result<Json<ApiBulk>, JsonRejection>,
) -> ApiResult {
    user.require(Permission::Decide).map_err(api)?;
    let Json(body) = body.map_err(bad_json)?;
    if body.ids.is_empty() || body.ids.len() > BULK_MAX {
        return Err(AppError::bad_request(format!("ids 须为 1 到 {} 个", BULK_MAX)).json());
    }
    let input = DecisionInput {
        action: body.action,
        measure: body.measure,
        reason: body.reason,
        note: body.note,
    };
    let decision = input
        .validate()
        .map_err(|e| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).json())?;
    let results = decide_many(&state, &user, &body.ids, &decision)
        .await
        .map_err(|e| api(e.into()))?;
    let done = results.iter().filter(|(_, r)| r.is_ok()).count();
    Ok(Json(json!({
        "done": done,
        "skipped": results.len() - done,
        "results": results.iter().map(|(id, r)| match r {
            Ok(revised) => json!({"listing_id": id, "ok": true, "revised": revised}),
            Err(e) => json!({"listing_id": id, "ok": false, "error": e}),
        }).collect::<Vec<_>>(),
    })))
}

pub async fn dashboard(State(state): State<Arc<AppState>>, user: CurrentUser) -> ApiResult {
    user.require(Permission::View).map_err(api)?;
    let data = state.dashboard().await.map_err(api)?;
    Ok(Json(serde_json::to_value(&*data).unwrap_or(Value::Null)))
}
