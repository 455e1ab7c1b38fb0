//! Review storage: users, sessions and API tokens, decisions, the audit log,
//! the queue, a finding's detail and the dashboard's figures.

use super::{PageMeta, Result, Store, StoredListing};
use crate::domain::Role;
use crate::domain::audit::{AuditEntry, Report};
use crate::domain::decision::{Decision, DecisionError, ReviewState};
use crate::domain::queue::{Cursor, QueueFilter};
use crate::domain::{Finding, Verdict};
use serde::Serialize;

/// Who may make a decision: given the decider's role, the finding's
/// current review state and the decision, `Ok(false)` for a first decision,
/// `Ok(true)` for one that revises a decision already made, or the refusal.
/// The rule is the review stage's (`review::decision::check_allowed`); the
/// store only applies it, inside the decision's transaction with the
/// finding read under the write lock, so the state it judged is the state
/// the decision is written over. `'a`: what the rule borrows, if anything.
pub type DecisionRule<'a> =
    dyn Fn(Role, ReviewState, &Decision) -> std::result::Result<bool, DecisionError> + Sync + 'a;

/// An account (never its password hash).
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: i64,
}

/// What became of a decision.
#[derive(Debug, Clone)]
pub enum DecideOutcome {
    Done { decision_id: i64, revised: bool },
    Rejected(DecisionError),
    NotFound,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionRow {
    pub id: i64,
    pub action: String,
    pub measure: Option<String>,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub verdict: String,
    pub username: String,
    pub display_name: String,
    pub decided_at: String,
    pub revises: Option<i64>,
    pub audit_id: i64,
}

/// One row of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRow {
    pub listing_id: i64,
    pub platform: String,
    pub item_id: String,
    pub title: String,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub seller: Option<String>,
    pub price: Option<String>,
    pub verdict: Verdict,
    pub confidence: f64,
    pub category_code: Option<String>,
    pub review_state: ReviewState,
    pub queued_at: Option<String>,
    pub matched_cert: Option<String>,
    pub listing_state: String,
    pub decision_id: Option<i64>,
    #[serde(skip)]
    pub cursor: Cursor,
}

/// A page of the queue, with cursors to the pages around it.
#[derive(Debug, Clone, Serialize)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    /// Matching findings, counted up to [`COUNT_CAP`].
    pub total: i64,
    pub total_capped: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// Counting stops here: "more than 10,000" is all a reviewer needs, and an
/// exact count of a million rows would cost more than the page itself.
pub const COUNT_CAP: i64 = 10_000;

/// Everything the listing page shows.
#[derive(Debug, Clone)]
pub struct FindingDetail {
    pub listing: StoredListing,
    pub state: String,
    pub gone_at: Option<String>,
    pub first_seen_at: String,
    pub last_seen_at: String,
    pub last_scan_id: Option<i64>,
    pub source: String,
    pub page: Option<PageMeta>,
    pub finding: Option<Finding>,
    pub as_of: Option<String>,
    pub matched_at: Option<String>,
    pub review_state: Option<ReviewState>,
    pub queued_at: Option<String>,
    pub decision_id: Option<i64>,
    /// Review priority from relists and inbound signals (0: none), and why.
    pub priority: i64,
    pub priority_note: Option<String>,
}

/// A listing's earlier content.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub changed_at: String,
    pub source: String,
    pub old_content: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerdictChange {
    pub run_id: i64,
    pub old_verdict: Option<String>,
    pub new_verdict: String,
    pub changed_at: String,
}

/// A capture of the listing's page in some scan.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureRow {
    pub page_id: i64,
    pub scan_id: i64,
    pub fetched_at: String,
    pub status: i64,
    pub sha256: String,
    pub body_len: i64,
}

/// Findings of one completed scan, for the trend chart.
#[derive(Debug, Clone, Serialize)]
pub struct ScanTrend {
    pub scan_id: i64,
    pub platform: String,
    pub started_at: String,
    pub listings: i64,
    pub flagged: i64,
    pub by_verdict: Vec<(String, i64)>,
}

/// The dashboard's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DashboardData {
    pub findings: i64,
    pub flagged: i64,
    pub by_verdict: Vec<(String, i64)>,
    /// (platform, verdict, count), flagged verdicts only.
    pub by_platform: Vec<(String, String, i64)>,
    pub by_category: Vec<(Option<String>, i64)>,
    pub by_state: Vec<(String, i64)>,
    /// Pending or waiting-for-information findings by days in the queue:
    /// (bucket label, count).
    pub backlog_age: Vec<(&'static str, i64)>,
    pub oldest_pending: Option<String>,
    pub decisions_by_day: Vec<(String, i64)>,
    pub scans: Vec<ScanTrend>,
    pub computed_at: String,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub older: Option<i64>,
}

impl Store {
    /// Adds a user; `actor` is who did it (for the audit log).
    pub async fn add_user(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        password_hash: &str,
        actor: &str,
    ) -> Result<i64> {
        dispatch!(self, |db| {
            db.add_user(username, display_name, role, password_hash, actor)
                .await
        })
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        dispatch!(self, |db| db.users().await)
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<(User, String)>> {
        dispatch!(self, |db| db.user_by_name(username).await)
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        dispatch!(self, |db| db.user(id).await)
    }

    /// Sets a new password hash, unlocks the account and ends its sessions.
    pub async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        actor: &str,
    ) -> Result<()> {
        dispatch!(self, |db| db
            .set_password(username, password_hash, actor)
            .await)
    }

    /// Disables or re-enables an account; disabling ends its sessions and tokens.
    pub async fn set_disabled(&self, username: &str, disabled: bool, actor: &str) -> Result<()> {
        dispatch!(self, |db| db.set_disabled(username, disabled, actor).await)
    }

    pub async fn set_role(&self, username: &str, role: Role, actor: &str) -> Result<()> {
        dispatch!(self, |db| db.set_role(username, role, actor).await)
    }

    /// Counts a failed login and locks the account for `lock_secs` (if > 0)
    /// from `now`. Returns the failures in a row.
    pub async fn login_failed(
        &self,
        user_id: i64,
        now: i64,
        lockout: impl Fn(i64) -> i64,
    ) -> Result<i64> {
        dispatch!(self, |db| db.login_failed(user_id, now, lockout).await)
    }

    /// Starts a session after a successful login.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_session(
        &self,
        user: &User,
        token_hash: &str,
        csrf_token: &str,
        now: i64,
        lifetime_secs: i64,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<()> {
        dispatch!(self, |db| {
            db.create_session(
                user,
                token_hash,
                csrf_token,
                now,
                lifetime_secs,
                ip,
                user_agent,
            )
            .await
        })
    }

    /// The session behind a cookie, if it is live: not past its absolute
    /// expiry, used within `idle_secs`, its user enabled. Touches it.
    pub async fn session(
        &self,
        token_hash: &str,
        now: i64,
        idle_secs: i64,
    ) -> Result<Option<SessionInfo>> {
        dispatch!(self, |db| db.session(token_hash, now, idle_secs).await)
    }

    pub async fn end_session(&self, token_hash: &str) -> Result<()> {
        dispatch!(self, |db| db.end_session(token_hash).await)
    }

    /// Stores a new API token for `username` (only its hash).
    pub async fn add_api_token(
        &self,
        username: &str,
        name: &str,
        token_hash: &str,
        actor: &str,
    ) -> Result<i64> {
        dispatch!(self, |db| db
            .add_api_token(username, name, token_hash, actor)
            .await)
    }

    /// The enabled user behind an API token.
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<User>> {
        dispatch!(self, |db| db.api_token_user(token_hash).await)
    }

    /// Records a decision on the finding of `listing_id`, with its audit
    /// entry, in one transaction. `seen_decision`: the decision the user was
    /// looking at (`Some(None)`: none); when another decision was made
    /// since, nothing is written and the outcome is a conflict. `None` skips
    /// that check (bulk decisions, where the state rules alone apply).
    /// `allowed` is the rule the decision must pass (see [`DecisionRule`]),
    /// applied after the conflict check and before anything is written.
    pub async fn decide(
        &self,
        listing_id: i64,
        user: &User,
        decision: &Decision,
        seen_decision: Option<Option<i64>>,
        allowed: &DecisionRule<'_>,
    ) -> Result<DecideOutcome> {
        dispatch!(self, |db| db
            .decide(listing_id, user, decision, seen_decision, allowed)
            .await)
    }

    pub async fn decisions_for(&self, listing_id: i64) -> Result<Vec<DecisionRow>> {
        dispatch!(self, |db| db.decisions_for(listing_id).await)
    }

    /// One page of the queue.
    pub async fn queue(&self, filter: &QueueFilter) -> Result<QueuePage> {
        dispatch!(self, |db| db.queue(filter).await)
    }

    /// The row after `listing_id` in the queue's order (for "next"), or the
    /// first row when the listing is not in the queue.
    pub async fn queue_next(&self, filter: &QueueFilter, listing_id: i64) -> Result<Option<i64>> {
        dispatch!(self, |db| db.queue_next(filter, listing_id).await)
    }

    pub async fn finding_detail(&self, listing_id: i64) -> Result<Option<FindingDetail>> {
        dispatch!(self, |db| db.finding_detail(listing_id).await)
    }

    pub async fn page_meta(&self, page_id: i64) -> Result<Option<PageMeta>> {
        dispatch!(self, |db| db.page_meta(page_id).await)
    }

    pub async fn listing_history(&self, listing_id: i64) -> Result<Vec<HistoryRow>> {
        dispatch!(self, |db| db.listing_history(listing_id).await)
    }

    pub async fn verdict_history(&self, listing_id: i64) -> Result<Vec<VerdictChange>> {
        dispatch!(self, |db| db.verdict_history(listing_id).await)
    }

    /// The item pages captured for a listing, newest first.
    pub async fn captures(&self, platform: &str, item_id: &str) -> Result<Vec<CaptureRow>> {
        dispatch!(self, |db| db.captures(platform, item_id).await)
    }

    /// The dashboard's figures; `now` dates the backlog ages.
    pub async fn dashboard(&self, now: chrono::DateTime<chrono::Utc>) -> Result<DashboardData> {
        dispatch!(self, |db| db.dashboard(now).await)
    }

    /// The latest `limit` completed scans with their findings, oldest first.
    pub async fn scan_trends(&self, limit: i64) -> Result<Vec<ScanTrend>> {
        dispatch!(self, |db| db.scan_trends(limit).await)
    }

    /// Platforms, scans and sellers for the queue's filter lists.
    pub async fn platforms(&self) -> Result<Vec<String>> {
        dispatch!(self, |db| db.platforms().await)
    }

    pub async fn recent_scan_ids(&self, limit: i64) -> Result<Vec<(i64, String, String)>> {
        dispatch!(self, |db| db.recent_scan_ids(limit).await)
    }

    /// Appends an entry for an action outside the decision flow (an admin
    /// action from the command line, say).
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        details: &serde_json::Value,
    ) -> Result<i64> {
        dispatch!(self, |db| db.audit(actor, action, target, details).await)
    }

    /// Entries newest first, before `before_id`, optionally of one target.
    pub async fn audit_page(
        &self,
        before_id: Option<i64>,
        target: Option<&str>,
        limit: i64,
    ) -> Result<AuditPage> {
        dispatch!(self, |db| db.audit_page(before_id, target, limit).await)
    }

    /// Checks the whole chain, `batch` entries at a time.
    pub async fn verify_audit(&self, anchor: Option<String>) -> Result<Report> {
        dispatch!(self, |db| db.verify_audit(anchor).await)
    }

    /// Refreshes the query planner's statistics (cheap; run at start).
    pub async fn optimize(&self) -> Result<()> {
        dispatch!(self, |db| db.optimize().await)
    }
}

/// An audit log row, as both backends read it.
#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    id: i64,
    at: String,
    actor: String,
    action: String,
    target: Option<String>,
    details: String,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> AuditEntry {
        AuditEntry {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            target: r.target,
            details: r.details,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}
