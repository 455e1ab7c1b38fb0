//! Review stage, on the web: the frame every page shares. In: the state,
//! the signed-in user, the active section and a title; out: the
//! [`Layout`] the templates draw around a page, and a rendered template as
//! a response ([`page`]). Knows no page in particular, so every page module
//! can use it.

use super::AppState;
use super::error::AppError;
use super::session::CurrentUser;
use super::views::Layout;
use crate::review::auth::Permission;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// What a page handler answers: the page, or an error page.
pub(crate) type PageResult = Result<Response, AppError>;

/// The frame of a page for `user`, with `active` highlighted in the menu.
pub(crate) fn layout(
    state: &AppState,
    user: &CurrentUser,
    active: &'static str,
    title: impl Into<String>,
) -> Layout {
    Layout {
        bureau: state.settings.bureau_name.clone(),
        user: user.user.display_name.clone(),
        role: user.user.role.label_zh(),
        csrf: user.csrf_token().to_string(),
        can_audit: user.can(Permission::ViewAudit),
        can_admin: user.can(Permission::ManageUsers),
        active,
        title: title.into(),
    }
}

/// The rendered template `t`, answered with `status`.
pub(crate) fn page(t: &impl Template, status: StatusCode) -> PageResult {
    Ok((status, Html(t.render()?)).into_response())
}
