//! Review stage, on the web: the templates (`templates/*.html`) and the
//! plain values they show. Everything here is text; askama escapes it when
//! the page is rendered, so a listing title is shown, never run.

use askama::Template;

/// What every page's frame needs.
#[derive(Debug, Clone)]
pub struct Layout {
    pub bureau: String,
    pub user: String,
    pub role: &'static str,
    pub csrf: String,
    pub can_audit: bool,
    pub can_admin: bool,
    /// The active section: queue, dashboard, audit, users, account.
    pub active: &'static str,
    pub title: String,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub status: u16,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub bureau: &'a str,
    pub csrf: &'a str,
    pub next: &'a str,
    pub error: Option<&'a str>,
}

/// A choice in a `<select>`.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Opt {
    pub fn new(value: impl Into<String>, label: impl Into<String>, current: Option<&str>) -> Opt {
        let value = value.into();
        let selected = current == Some(value.as_str());
        Opt {
            value,
            label: label.into(),
            selected,
        }
    }
}

#[derive(Debug, Clone)]
pub struct QueueRowView {
    pub id: i64,
    pub href: String,
    pub title: String,
    pub platform: String,
    pub item_id: String,
    pub brand: String,
    pub model: String,
    pub seller: String,
    pub seller_href: String,
    pub price: String,
    pub verdict: &'static str,
    pub verdict_class: &'static str,
    pub confidence: String,
    pub category: String,
    pub state: &'static str,
    pub state_class: &'static str,
    pub queued_at: String,
    pub gone: bool,
}

#[derive(Template)]
#[template(path = "queue.html")]
pub struct QueuePageView {
    pub layout: Layout,
    pub rows: Vec<QueueRowView>,
    pub total: String,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
    /// The filters as a query string, passed on to listing pages and forms.
    pub ctx: String,
    pub q: String,
    pub seller: String,
    pub min_conf: String,
    pub max_conf: String,
    pub platforms: Vec<Opt>,
    pub groups: Vec<Opt>,
    /// Catalog categories under their product groups.
    pub categories: Vec<(String, Vec<Opt>)>,
    pub verdicts: Vec<Opt>,
    pub states: Vec<Opt>,
    pub sorts: Vec<Opt>,
    pub scans: Vec<Opt>,
    pub per_page: Vec<Opt>,
    pub filtered: bool,
    pub can_decide: bool,
    pub measures: Vec<Opt>,
    pub reasons: Vec<Opt>,
    pub error: Option<String>,
    pub elapsed_ms: String,
    /// First page only: pending findings raised by relists, sampling
    /// failures and complaints, highest priority first.
    pub leads: Vec<crate::store::LeadRow>,
}

/// One step of a notice, on the listing page.
#[derive(Debug, Clone)]
pub struct NoticeStepView {
    pub number: String,
    pub batch_id: i64,
    pub at: String,
    pub state: &'static str,
    pub how: String,
    pub page_id: Option<i64>,
    pub relist_id: Option<i64>,
    pub actor: String,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct SegmentView {
    pub text: String,
    pub differs: bool,
}

#[derive(Debug, Clone)]
pub struct CompareRowView {
    pub label: &'static str,
    pub listing: Vec<SegmentView>,
    pub cert: Vec<SegmentView>,
    pub mark: &'static str,
    pub mark_class: &'static str,
    pub note: String,
}

#[derive(Debug, Clone)]
pub struct DecisionView {
    pub id: i64,
    pub action: String,
    pub detail: String,
    pub note: String,
    pub who: String,
    pub at: String,
    pub revises: Option<i64>,
    pub verdict: String,
    pub audit_id: i64,
}

#[derive(Debug, Clone)]
pub struct TimelineView {
    pub at: String,
    pub what: String,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct CaptureView {
    pub page_id: i64,
    pub scan_id: i64,
    pub at: String,
    pub status: i64,
    pub sha256: String,
    pub size: String,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct EvidenceView {
    pub page_id: i64,
    pub fetched_at: String,
    pub sha256: String,
    pub url: String,
    pub final_url: String,
    pub status: i64,
    pub encoding: String,
    pub size: String,
}

#[derive(Template)]
#[template(path = "listing.html")]
pub struct ListingPageView {
    pub layout: Layout,
    /// Notices about this listing (or naming it as a relist), oldest first.
    pub notice_steps: Vec<NoticeStepView>,
    /// Why the finding is prioritised, when it is.
    pub priority_note: Option<String>,
    pub id: i64,
    pub title: String,
    pub platform: String,
    pub item_id: String,
    /// The listing's address on the platform, when it is an http(s) URL.
    pub url: Option<String>,
    pub url_text: String,
    pub online: bool,
    pub gone_at: String,
    pub fields: Vec<Field>,
    pub params: Vec<Field>,
    pub cert_numbers: Vec<String>,
    pub has_finding: bool,
    pub verdict: &'static str,
    pub verdict_class: &'static str,
    pub confidence: String,
    /// The matcher's reasons for the verdict.
    pub why: Vec<String>,
    pub as_of: String,
    pub category: String,
    pub review_state: &'static str,
    pub review_class: &'static str,
    pub flagged: bool,
    pub decided: bool,
    pub cert: Option<Vec<Field>>,
    pub cert_no: String,
    pub cert_missing: bool,
    pub compare: Vec<CompareRowView>,
    pub evidence: Option<EvidenceView>,
    pub captures: Vec<CaptureView>,
    pub decisions: Vec<DecisionView>,
    pub timeline: Vec<TimelineView>,
    pub ctx: String,
    pub queue_href: String,
    pub next_href: Option<String>,
    pub can_decide: bool,
    pub can_revise: bool,
    pub seen_decision: String,
    pub measures: Vec<Opt>,
    pub reasons: Vec<Opt>,
    pub message: Option<String>,
    pub error: Option<String>,
    pub form_action: String,
    pub form_note: String,
}

#[derive(Debug, Clone)]
pub struct BulkLine {
    pub id: i64,
    pub href: String,
    pub outcome: String,
    pub ok: bool,
}

#[derive(Template)]
#[template(path = "bulk.html")]
pub struct BulkResultView {
    pub layout: Layout,
    pub action: &'static str,
    pub done: usize,
    pub skipped: usize,
    pub lines: Vec<BulkLine>,
    pub queue_href: String,
}

#[derive(Debug, Clone)]
pub struct CountRow {
    pub label: String,
    pub href: String,
    pub count: i64,
    pub class: &'static str,
}

#[derive(Debug, Clone)]
pub struct PlatformRow {
    pub platform: String,
    /// Its name for people.
    pub label: String,
    pub href: String,
    pub total: i64,
    pub cells: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardView {
    pub layout: Layout,
    pub findings: i64,
    pub flagged: i64,
    pub pending: i64,
    pub confirmed: i64,
    pub dismissed: i64,
    pub need_info: i64,
    pub oldest: String,
    pub verdict_chart: String,
    pub state_chart: String,
    pub age_chart: String,
    pub trend_chart: String,
    pub decisions_chart: String,
    pub group_chart: String,
    pub by_verdict: Vec<CountRow>,
    pub by_group: Vec<CountRow>,
    pub verdict_heads: Vec<String>,
    pub platforms: Vec<PlatformRow>,
    pub computed_at: String,
    pub scans: usize,
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub username: String,
    pub display_name: String,
    pub role: &'static str,
    pub roles: Vec<Opt>,
    pub disabled: bool,
    pub locked: bool,
    pub last_login: String,
    pub created: String,
    pub is_self: bool,
    pub action: String,
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersView {
    pub layout: Layout,
    pub users: Vec<UserRow>,
    pub roles: Vec<Opt>,
    pub message: Option<String>,
    pub error: Option<String>,
    pub min_password: usize,
    /// The workspace's settings as configured (read-only here).
    pub settings: Vec<Field>,
}

#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub target_href: Option<String>,
    pub details: String,
    pub hash: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditView {
    pub layout: Layout,
    pub rows: Vec<AuditRow>,
    pub older_href: Option<String>,
    pub verified: Option<bool>,
    pub problems: Vec<String>,
    pub entries: u64,
    pub head: String,
    pub target: String,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountView {
    pub layout: Layout,
    pub username: String,
    pub display_name: String,
    pub role: &'static str,
    pub last_login: String,
    pub message: Option<String>,
    pub error: Option<String>,
    pub min_password: usize,
}

/// A stored time (RFC 3339, UTC) as Beijing time for people: `2026-11-29 09:02`.
pub fn local_time(rfc3339: &str) -> String {
    crate::clock::beijing_minutes(rfc3339)
}

/// A URL from a listing, only if it is http or https (never `javascript:`).
pub fn safe_link(url: Option<&str>) -> Option<String> {
    let u = url::Url::parse(url?.trim()).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

pub fn size_text(bytes: i64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / (1 << 20) as f64)
    } else if bytes >= 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

pub fn verdict_class(v: crate::domain::Verdict) -> &'static str {
    use crate::domain::Verdict::*;
    match v {
        Compliant => "v-ok",
        NotInScope => "v-muted",
        Expired | Suspended => "v-warn",
        Revoked | Cancelled | Uncertified | CertNotFound | CertMismatch => "v-bad",
    }
}

pub fn state_class(s: crate::domain::decision::ReviewState) -> &'static str {
    use crate::domain::decision::ReviewState::*;
    match s {
        Pending => "s-pending",
        NeedInfo => "s-info",
        Confirmed => "s-confirmed",
        Dismissed => "s-dismissed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_are_links() {
        assert_eq!(
            safe_link(Some("https://item.jd.com/1.html")).as_deref(),
            Some("https://item.jd.com/1.html")
        );
        assert_eq!(safe_link(Some("javascript:alert(1)")), None);
        assert_eq!(safe_link(Some(" JAVASCRIPT:alert(1)")), None);
        assert_eq!(safe_link(Some("data:text/html,<script>")), None);
        assert_eq!(safe_link(None), None);
    }

    #[test]
    fn times_are_shown_in_beijing_time() {
        assert_eq!(local_time("2026-11-29T01:02:03.000Z"), "2026-11-29 09:02");
        assert_eq!(local_time("garbage"), "garbage");
    }

    #[test]
    fn hostile_text_is_escaped() {
        let page = ErrorPage {
            status: 400,
            message: "<script>alert(1)</script><img src=x onerror=alert(2)>",
        };
        let html = page.render().unwrap();
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<img src=x"));
        assert!(html.contains("&#60;script&#62;alert(1)"));
    }
}
