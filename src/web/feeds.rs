//! Act stage, on the web: the risk feed to platforms,
//! `GET /api/feeds/{platform}?since=...`. A platform authenticates with its
//! feed token (`Authorization: Bearer`), which reads only its own platform;
//! staff read any platform's feed with their API token or browser session
//! (permission `View`). Errors are JSON, like the rest of the API.

use super::AppState;
use super::error::AppError;
use super::session::CurrentUser;
use crate::notice::feed::{self, FeedDocument, FeedError, FeedRequest, LIST_CAP, Requester};
use crate::review::auth::{self, Permission};
use crate::store::FeedToken;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

/// Who is reading a feed.
pub enum FeedCaller {
    /// A platform, by its feed token.
    Platform(FeedToken),
    /// A staff account.
    Staff(CurrentUser),
}

fn unauthorized(message: &str) -> Response {
    AppError::new(StatusCode::UNAUTHORIZED, message)
        .json()
        .into_response()
}

impl FromRequestParts<Arc<AppState>> for FeedCaller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Response> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(token) = bearer {
            let found = state
                .store
                .feed_token_by_hash(&auth::token_hash(token))
                .await
                .map_err(|e| AppError::from(e).json().into_response())?;
            match found {
                Some(t) if t.revoked_at.is_some() => {
                    return Err(unauthorized("订阅令牌已停用"));
                }
                Some(t) => return Ok(FeedCaller::Platform(t)),
                // Not a feed token: perhaps a staff member's API token.
                None => {}
            }
        }
        CurrentUser::from_request_parts(parts, state)
            .await
            .map(FeedCaller::Staff)
    }
}

#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    #[serde(default)]
    pub since: Option<String>,
}

fn feed_error(e: FeedError) -> AppError {
    match e {
        FeedError::Store(e) => AppError::from(e).json(),
        other => AppError::bad_request(match &other {
            FeedError::BadSince(v) => {
                format!("参数 since 应为 RFC 3339 时间或 YYYY-MM-DD 日期，收到“{v}”")
            }
            FeedError::SinceNotBefore { since, until } => {
                format!("参数 since（{since}）须早于本次截止时间（{until}）")
            }
            _ => other.to_string(),
        })
        .json(),
    }
}

pub async fn feed(
    State(state): State<Arc<AppState>>,
    caller: FeedCaller,
    Path(platform): Path<String>,
    query: Result<Query<FeedQuery>, QueryRejection>,
) -> Result<Json<FeedDocument>, AppError> {
    let requester = match &caller {
        FeedCaller::Platform(t) if t.platform != platform => {
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                format!("此令牌只能读取平台“{}”的风险信息", t.platform),
            )
            .json());
        }
        FeedCaller::Platform(t) => Requester::Token(t),
        FeedCaller::Staff(user) => {
            user.require(Permission::View).map_err(AppError::json)?;
            if !known_platform(&state, &platform).await? {
                return Err(AppError::not_found().json());
            }
            Requester::Staff(&user.user.username)
        }
    };
    let Query(q) = query.map_err(|e| AppError::bad_request(e.body_text()).json())?;
    let since = q
        .since
        .as_deref()
        .map(feed::parse_since)
        .transpose()
        .map_err(feed_error)?;
    let req = FeedRequest {
        platform: &platform,
        since,
        requester,
        first_days: state.settings.feed_first_days,
        until: state.store.now(),
        cap: LIST_CAP,
    };
    let doc = feed::deliver(&state.store, &req)
        .await
        .map_err(feed_error)?;
    Ok(Json(doc))
}

/// A platform with listings or a feed token.
async fn known_platform(state: &AppState, platform: &str) -> Result<bool, AppError> {
    let store = &state.store;
    let listed = store
        .platforms()
        .await
        .map_err(|e| AppError::from(e).json())?;
    if listed.iter().any(|p| p == platform) {
        return Ok(true);
    }
    let tokens = store
        .feed_tokens(Some(platform))
        .await
        .map_err(|e| AppError::from(e).json())?;
    Ok(!tokens.is_empty())
}
