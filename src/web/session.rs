//! Review stage, on the web: logging in and out, and who is asking. A
//! session is a random token in an HttpOnly, SameSite=Strict cookie; the
//! database keeps only its hash, with a CSRF token that every form and
//! every cookie-authenticated API write must echo. API clients may instead
//! send a personal token (`Authorization: Bearer ...`).

use super::AppState;
use super::error::AppError;
use super::views::LoginPage;
use crate::review::auth::{self, Permission};
use crate::store::User;
use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "cccwatch_session";
const LOGIN_COOKIE: &str = "cccwatch_login";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The user behind a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    /// The session's CSRF token; `None` for API tokens, which are not sent
    /// by browsers on their own and need none.
    pub csrf: Option<String>,
    session_hash: Option<String>,
}

impl CurrentUser {
    pub fn can(&self, p: Permission) -> bool {
        self.user.role.can(p)
    }

    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(AppError::forbidden())
        }
    }

    /// Checks a token submitted with a form.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        match &self.csrf {
            None => Ok(()),
            Some(expected) if auth::constant_time_eq(expected, submitted) => Ok(()),
            Some(_) => Err(AppError::csrf()),
        }
    }

    pub fn csrf_token(&self) -> &str {
        self.csrf.as_deref().unwrap_or("")
    }
}

/// Unix seconds by the store's clock (sessions and lockouts are kept so).
fn now(state: &AppState) -> i64 {
    state.store.now().timestamp()
}

impl FromRequestParts<Arc<AppState>> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Response> {
        let api = parts.uri.path().starts_with("/api/");
        let unauthorized = |message: &str| {
            let e = AppError::new(StatusCode::UNAUTHORIZED, message);
            if api {
                e.json().into_response()
            } else {
                e.into_response()
            }
        };
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .unwrap_or("");
            return match state.store.api_token_user(&auth::token_hash(token)).await {
                Ok(Some(user)) => Ok(CurrentUser {
                    user,
                    csrf: None,
                    session_hash: None,
                }),
                Ok(None) => Err(unauthorized("API 令牌无效或已停用")),
                Err(e) => Err(AppError::from(e).json().into_response()),
            };
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let session = match jar.get(SESSION_COOKIE) {
            None => None,
            Some(c) => {
                let hash = auth::token_hash(c.value());
                let idle = state.settings.session_idle_minutes * 60;
                match state.store.session(&hash, now(state), idle).await {
                    Ok(s) => s.map(|s| (s, hash)),
                    Err(e) => {
                        let e = AppError::from(e);
                        return Err(if api { e.json() } else { e }.into_response());
                    }
                }
            }
        };
        let Some((info, hash)) = session else {
            if api {
                return Err(unauthorized("未登录或登录已过期"));
            }
            if parts.method == Method::GET {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let to = format!(
                    "/login?{}",
                    url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("next", next)
                        .finish()
                );
                return Err(Redirect::to(&to).into_response());
            }
            return Err(unauthorized("登录已过期，请重新登录后再提交"));
        };
        let user = CurrentUser {
            user: info.user,
            csrf: Some(info.csrf_token),
            session_hash: Some(hash),
        };
        // Cookie-authenticated API writes carry the CSRF token in a header.
        if api && parts.method != Method::GET {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if user.check_csrf(sent).is_err() {
                return Err(AppError::csrf().json().into_response());
            }
        }
        Ok(user)
    }
}

/// The client's address, when the server recorded it.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    pub next: Option<String>,
}

/// Only paths of this site: `/queue`, never `//evil.example` or `https://...`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.len() < 2000 =>
        {
            n.to_string()
        }
        _ => "/queue".to_string(),
    }
}

fn cookie(name: &'static str, value: String, path: &'static str, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build()
}

fn render_login(
    state: &AppState,
    jar: CookieJar,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let token = auth::random_token();
    let jar = jar.add(cookie(
        LOGIN_COOKIE,
        token.clone(),
        "/login",
        state.settings.secure_cookies,
    ));
    let page = LoginPage {
        bureau: &state.settings.bureau_name,
        csrf: &token,
        next,
        error,
    };
    Ok((status, jar, Html(page.render()?)).into_response())
}

pub async fn login_page(
    State(state): State<Arc<AppState>>,
    jar: CookieJar,
    Query(q): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref());
    if let Some(c) = jar.get(SESSION_COOKIE) {
        let idle = state.settings.session_idle_minutes * 60;
        if state
            .store
            .session(&auth::token_hash(c.value()), now(&state), idle)
            .await?
            .is_some()
        {
            return Ok(Redirect::to(&next).into_response());
        }
    }
    render_login(&state, jar, &next, None, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub next: Option<String>,
}

pub async fn login(
    State(state): State<Arc<AppState>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(form.next.as_deref());
    let expected = jar
        .get(LOGIN_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if expected.is_empty() || !auth::constant_time_eq(&expected, &form.csrf) {
        return render_login(
            &state,
            jar,
            &next,
            Some("登录页面已过期，请重新输入"),
            StatusCode::FORBIDDEN,
        );
    }
    if let Some(ip) = ip
        && state.login_limiter.check_key(&ip).is_err()
    {
        tracing::warn!(%ip, "login attempts from this address are being throttled");
        return render_login(
            &state,
            jar,
            &next,
            Some("登录尝试过于频繁，请一分钟后再试"),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let username = form.username.trim().to_string();
    let found = state.store.user_by_name(&username).await?;
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, auth::dummy_hash().to_string()),
    };
    let now = now(&state);
    if let Some(u) = &user
        && let Some(until) = u.locked_until
        && until > now
    {
        let minutes = (until - now + 59) / 60;
        return render_login(
            &state,
            jar,
            &next,
            Some(&format!(
                "该账号因多次密码错误已暂时锁定，请 {minutes} 分钟后再试或联系系统管理员"
            )),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let password = form.password.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        other => {
            if let Some(u) = &other {
                if u.disabled {
                    tracing::warn!(user = %u.username, "login to a disabled account");
                } else {
                    let failures = state
                        .store
                        .login_failed(u.id, now, auth::lockout_secs)
                        .await?;
                    tracing::warn!(user = %u.username, failures, "wrong password");
                }
            } else {
                tracing::warn!(user = %username, "login for an unknown user");
            }
            return render_login(
                &state,
                jar,
                &next,
                Some("用户名或密码错误"),
                StatusCode::UNAUTHORIZED,
            );
        }
    };
    let token = auth::random_token();
    let csrf = auth::random_token();
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    state
        .store
        .create_session(
            &user,
            &auth::token_hash(&token),
            &csrf,
            now,
            state.settings.session_max_hours * 3600,
            ip.map(|i| i.to_string()).as_deref(),
            ua,
        )
        .await?;
    let jar = jar
        .remove(Cookie::build(LOGIN_COOKIE).path("/login"))
        .add(cookie(
            SESSION_COOKIE,
            token,
            "/",
            state.settings.secure_cookies,
        ));
    Ok((jar, Redirect::to(&next)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
}

pub async fn logout(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    user.check_csrf(&form.csrf)?;
    if let Some(hash) = &user.session_hash {
        state.store.end_session(hash).await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(
            safe_next(Some("/listings/5?platform=demo")),
            "/listings/5?platform=demo"
        );
        assert_eq!(safe_next(Some("//evil.example/x")), "/queue");
        assert_eq!(safe_next(Some("https://evil.example")), "/queue");
        assert_eq!(safe_next(Some("/\\evil.example")), "/queue");
        assert_eq!(safe_next(None), "/queue");
    }
}
