//! Review stage, on the web: the signed-in user's own account. In: the
//! session, and for a password change the current and new password; out:
//! the account page, or a redirect to sign in again once the password is
//! changed.

use super::AppState;
use super::error::AppError;
use super::layout::{PageResult, layout, page};
use super::passwords::{credential_zh, hash_off_thread};
use super::session::CurrentUser;
use super::views::{AccountView, local_time};
use crate::review::auth;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::Form;
use serde::Deserialize;
use std::sync::Arc;

async fn account_page(
    state: &AppState,
    user: &CurrentUser,
    message: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let view = AccountView {
        layout: layout(state, user, "account", "我的账号"),
        username: user.user.username.clone(),
        display_name: user.user.display_name.clone(),
        role: user.user.role.label_zh(),
        last_login: user
            .user
            .last_login_at
            .as_deref()
            .map(local_time)
            .unwrap_or_default(),
        message,
        error,
        min_password: auth::MIN_PASSWORD_LEN,
    };
    page(&view, status)
}

pub async fn account(State(state): State<Arc<AppState>>, user: CurrentUser) -> PageResult {
    account_page(&state, &user, None, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

pub async fn account_password(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let (_, hash) = state
        .store
        .user_by_name(&user.user.username)
        .await?
        .ok_or_else(AppError::not_found)?;
    let current = form.current.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&current, &hash))
        .await
        .unwrap_or(false);
    let fail = |m: String| {
        account_page(
            &state,
            &user,
            None,
            Some(m),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    if !ok {
        return fail("当前密码不正确".into()).await;
    }
    if form.password != form.confirm {
        return fail("两次输入的新密码不一致".into()).await;
    }
    if let Err(e) = auth::check_password(&user.user.username, &form.password) {
        return fail(credential_zh(&e)).await;
    }
    let new_hash = hash_off_thread(form.password.clone()).await?;
    state
        .store
        .set_password(&user.user.username, &new_hash, &user.user.username)
        .await?;
    Ok(Redirect::to("/login").into_response())
}
