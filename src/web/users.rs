//! Review stage, on the web: the users page (administrators). In: the
//! forms to add a user, change a role, disable or enable an account, or
//! reset a password; out: the users page with the list, the result of the
//! change and the settings an administrator checks. Every change is
//! audited by the store.

use super::AppState;
use super::error::AppError;
use super::layout::{PageResult, layout, page};
use super::passwords::{credential_zh, hash_off_thread};
use super::session::CurrentUser;
use super::views::{Field, Opt, UserRow, UsersView, local_time};
use crate::domain::Role;
use crate::review::auth::{self, Permission};
use crate::store::StoreError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum_extra::extract::Form;
use serde::Deserialize;
use std::sync::Arc;

fn role_opts(current: Option<Role>) -> Vec<Opt> {
    Role::ALL
        .into_iter()
        .map(|r| Opt::new(r.as_str(), r.label_zh(), current.map(|c| c.as_str())))
        .collect()
}

async fn users_page(
    state: &AppState,
    user: &CurrentUser,
    message: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let now = state.store.now().timestamp();
    let users = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            action: format!(
                "/admin/users/{}",
                url::form_urlencoded::byte_serialize(u.username.as_bytes()).collect::<String>()
            ),
            is_self: u.id == user.user.id,
            roles: role_opts(Some(u.role)),
            role: u.role.label_zh(),
            locked: u.locked_until.is_some_and(|t| t > now),
            last_login: u
                .last_login_at
                .as_deref()
                .map(local_time)
                .unwrap_or_else(|| "从未登录".into()),
            created: local_time(&u.created_at),
            username: u.username,
            display_name: u.display_name,
            disabled: u.disabled,
        })
        .collect();
    let view = UsersView {
        layout: layout(state, user, "users", "用户管理"),
        users,
        roles: role_opts(Some(Role::Reviewer)),
        message,
        error,
        min_password: auth::MIN_PASSWORD_LEN,
        settings: settings_fields(state),
    };
    page(&view, status)
}

/// The settings an administrator checks, as configured in
/// `config/cccwatch.toml` (`[web]`); changed there, not in the browser.
fn settings_fields(state: &AppState) -> Vec<Field> {
    let w = &state.settings;
    vec![
        Field {
            label: "单位名称 web.bureau_name",
            value: w.bureau_name.clone(),
        },
        Field {
            label: "监听地址 web.bind",
            value: w.bind.clone(),
        },
        Field {
            label: "空闲退出 web.session_idle_minutes",
            value: format!("{} 分钟", w.session_idle_minutes),
        },
        Field {
            label: "最长会话 web.session_max_hours",
            value: format!("{} 小时", w.session_max_hours),
        },
        Field {
            label: "仅 HTTPS 发送 Cookie web.secure_cookies",
            value: if w.secure_cookies {
                "是".into()
            } else {
                "否".into()
            },
        },
        Field {
            label: "每地址每分钟登录次数 web.login_attempts_per_minute",
            value: w.login_attempts_per_minute.to_string(),
        },
        Field {
            label: "密码最短长度",
            value: format!("{} 位", auth::MIN_PASSWORD_LEN),
        },
        Field {
            label: "账号锁定",
            value: "连续 5 次密码错误锁定 1 分钟，此后每次加倍，最长 30 分钟".into(),
        },
        Field {
            label: "程序版本",
            value: env!("CARGO_PKG_VERSION").into(),
        },
    ]
}

pub async fn users(State(state): State<Arc<AppState>>, user: CurrentUser) -> PageResult {
    user.require(Permission::ManageUsers)?;
    users_page(&state, &user, None, None, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct AddUserForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub password: String,
}

pub async fn user_add(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Form(form): Form<AddUserForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(Permission::ManageUsers)?;
    let username = form.username.trim();
    let display = form.display_name.trim();
    let fail = |m: String| {
        users_page(
            &state,
            &user,
            None,
            Some(m),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    if let Err(e) = auth::check_username(username) {
        return fail(credential_zh(&e)).await;
    }
    if display.is_empty() || display.chars().count() > 40 {
        return fail("姓名须为 1 到 40 个字".into()).await;
    }
    let Some(role) = Role::parse(&form.role) else {
        return fail("请选择角色".into()).await;
    };
    if let Err(e) = auth::check_password(username, &form.password) {
        return fail(credential_zh(&e)).await;
    }
    let hash = hash_off_thread(form.password.clone()).await?;
    match state
        .store
        .add_user(username, display, role, &hash, &user.user.username)
        .await
    {
        Ok(_) => {
            users_page(
                &state,
                &user,
                Some(format!("已新增用户 {username}（{}）", role.label_zh())),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(StoreError::Exists { .. }) => fail(format!("用户名 {username} 已存在")).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct ChangeUserForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub op: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

/// What a change to an account came to.
enum Changed {
    /// Made (or failed in the store): the message for the page.
    Done(Result<String, StoreError>),
    /// Refused before it was tried: why, and the status to answer with.
    Refused(String, StatusCode),
}

pub async fn user_change(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(username): Path<String>,
    Form(form): Form<ChangeUserForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(Permission::ManageUsers)?;
    let actor = user.user.username.clone();
    let is_self = username.eq_ignore_ascii_case(&user.user.username);
    let changed = match form.op.as_str() {
        "role" | "disable" | "enable" if is_self => {
            Changed::Refused("不能修改或停用自己的账号".into(), StatusCode::FORBIDDEN)
        }
        "role" => change_role(&state, &username, form.role.as_deref(), &actor).await,
        "disable" => Changed::Done(set_disabled(&state, &username, true, &actor).await),
        "enable" => Changed::Done(set_disabled(&state, &username, false, &actor).await),
        "password" => {
            let pw = form.password.unwrap_or_default();
            reset_password(&state, &username, pw, &actor).await?
        }
        _ => return Err(AppError::bad_request("未知操作")),
    };
    match changed {
        Changed::Refused(m, status) => users_page(&state, &user, None, Some(m), status).await,
        Changed::Done(Ok(m)) => users_page(&state, &user, Some(m), None, StatusCode::OK).await,
        Changed::Done(Err(StoreError::NotFound { .. })) => Err(AppError::not_found()),
        Changed::Done(Err(e)) => Err(e.into()),
    }
}

/// Gives `username` the role `role` (refused when none is chosen).
async fn change_role(state: &AppState, username: &str, role: Option<&str>, actor: &str) -> Changed {
    match role.and_then(Role::parse) {
        Some(r) => Changed::Done(
            state
                .store
                .set_role(username, r, actor)
                .await
                .map(|_| format!("已将 {username} 的角色改为{}", r.label_zh())),
        ),
        None => Changed::Refused("请选择角色".into(), StatusCode::UNPROCESSABLE_ENTITY),
    }
}

/// Disables (or enables again) the account `username`.
async fn set_disabled(
    state: &AppState,
    username: &str,
    disabled: bool,
    actor: &str,
) -> Result<String, StoreError> {
    state
        .store
        .set_disabled(username, disabled, actor)
        .await
        .map(|_| {
            if disabled {
                format!("已停用 {username}")
            } else {
                format!("已启用 {username}")
            }
        })
}

/// Sets a new password for `username` (refused when it breaks a rule);
/// the store ends the account's sessions.
async fn reset_password(
    state: &AppState,
    username: &str,
    pw: String,
    actor: &str,
) -> Result<Changed, AppError> {
    if let Err(e) = auth::check_password(username, &pw) {
        return Ok(Changed::Refused(
            credential_zh(&e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let hash = hash_off_thread(pw).await?;
    Ok(Changed::Done(
        state
            .store
            .set_password(username, &hash, actor)
            .await
            .map(|_| format!("已重设 {username} 的密码，其登录会话已全部退出")),
    ))
}
