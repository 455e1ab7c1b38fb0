//! Review stage, on the web: the audit log page (auditors). In: an
//! optional target to filter by, the page to start before and whether to
//! verify the hash chain; out: a page of entries, newest first, with links
//! to listings and the verification's result.

use super::AppState;
use super::layout::{PageResult, layout, page};
use super::session::CurrentUser;
use super::views::{AuditRow, AuditView, local_time};
use crate::domain::audit::AuditEntry;
use crate::review::auth::Permission;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize, Default)]
pub struct AuditQuery {
    pub before: Option<i64>,
    pub target: Option<String>,
    pub verify: Option<String>,
}

pub async fn audit(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    user.require(Permission::ViewAudit)?;
    let target = q.target.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let page_data = state.store.audit_page(q.before, target, 100).await?;
    let report = if q.verify.is_some() {
        Some(state.store.verify_audit(None).await?)
    } else {
        None
    };
    let rows = page_data.entries.iter().map(audit_row).collect();
    let older_href = page_data.older.map(|id| older_href(id, target));
    let view = AuditView {
        layout: layout(&state, &user, "audit", "审计日志"),
        rows,
        older_href,
        verified: report.as_ref().map(|r| r.ok()),
        problems: report
            .as_ref()
            .map(|r| r.problems.iter().map(|p| p.to_string()).collect())
            .unwrap_or_default(),
        entries: report.as_ref().map(|r| r.entries).unwrap_or(0),
        head: report
            .as_ref()
            .and_then(|r| r.last_hash.clone())
            .unwrap_or_default(),
        target: target.unwrap_or("").to_string(),
    };
    page(&view, StatusCode::OK)
}

/// One entry, with a link to the listing it is about.
fn audit_row(e: &AuditEntry) -> AuditRow {
    AuditRow {
        id: e.id,
        at: local_time(&e.at),
        actor: e.actor.clone(),
        action: audit_action_label(&e.action).to_string(),
        target: e.target.clone().unwrap_or_default(),
        target_href: e
            .target
            .as_deref()
            .and_then(|t| t.strip_prefix("listing:"))
            .and_then(|id| id.parse::<i64>().ok())
            .map(|id| format!("/listings/{id}")),
        details: e.details.clone(),
        hash: e.hash.clone(),
    }
}

/// The next page: entries before `id`, with the same target.
fn older_href(id: i64, target: Option<&str>) -> String {
    let mut pairs = vec![("before", id.to_string())];
    if let Some(t) = target {
        pairs.push(("target", t.to_string()));
    }
    format!(
        "/audit?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

/// An audited action in Chinese (unknown ones as stored).
pub fn audit_action_label(action: &str) -> &str {
    match action {
        "decision.make" => "审核决定",
        "decision.revise" => "修改决定",
        "user.add" => "新增用户",
        "user.password" => "修改密码",
        "user.role" => "修改角色",
        "user.disable" => "停用用户",
        "user.enable" => "启用用户",
        "auth.login" => "登录",
        "auth.locked" => "账号锁定",
        "token.add" => "新增 API 令牌",
        other => other,
    }
}
