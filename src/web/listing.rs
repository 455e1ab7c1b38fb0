//! Review stage, on the web: a listing's page. In: the listing's id and
//! the queue it was opened from (`ctx`), and after a decision what to say
//! about it; out: the page with the listing's facts, the finding, the
//! certificate compared with the listing (`listing_cert`), the evidence
//! and what happened to the listing (`listing_history`), and the decision
//! form that leads on to the next listing in the same queue.

use super::AppState;
use super::choices::{measure_opts, reason_opts};
use super::error::AppError;
use super::layout::{PageResult, layout, page};
use super::listing_cert::CertSection;
use super::listing_history::{
    capture_views, decision_views, evidence_view, notice_step_views, timeline,
};
use super::queue_context::{context_filter, listing_href, queue_href};
use super::session::CurrentUser;
use super::views::{Field, ListingPageView, local_time, safe_link, state_class, verdict_class};
use crate::domain::Listing;
use crate::domain::queue::QueueFilter;
use crate::review::auth::Permission;
use crate::review::queue::QueueParams;
use crate::store::FindingDetail;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize, Default)]
pub struct Done {
    pub done: Option<i64>,
}

/// What the page says above its decision form: that a decision was saved,
/// or why one was refused with the action and note that were sent.
#[derive(Debug, Default)]
pub(crate) struct FormNotes<'a> {
    pub message: Option<String>,
    pub error: Option<String>,
    pub form: Option<(&'a str, &'a str)>,
}

pub async fn listing(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Query(params): Query<QueueParams>,
    Query(done): Query<Done>,
) -> PageResult {
    user.require(Permission::View)?;
    let filter = context_filter(&state, &params);
    let notes = FormNotes {
        message: done.done.map(|prev| format!("已保存对 #{prev} 的决定。")),
        ..FormNotes::default()
    };
    listing_page(&state, &user, id, &filter, notes, StatusCode::OK).await
}

/// Listing `id`'s page, opened from the queue `filter`, answered with `status`.
pub(crate) async fn listing_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    filter: &QueueFilter,
    notes: FormNotes<'_>,
    status: StatusCode,
) -> PageResult {
    let detail = state
        .store
        .finding_detail(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let ctx = filter.query_string(&[]);
    let next = state.store.queue_next(filter, id).await?;
    let view = build_listing_view(state, user, detail, &ctx, next, notes).await?;
    page(&view, status)
}

/// The page's view: each section built by its own function.
async fn build_listing_view(
    state: &AppState,
    user: &CurrentUser,
    d: FindingDetail,
    ctx: &str,
    next: Option<i64>,
    notes: FormNotes<'_>,
) -> Result<ListingPageView, AppError> {
    let id = d.listing.id;
    let l = &d.listing.listing;
    let as_of = as_of_date(state, &d);
    let cert = CertSection::load(state, &d).await?;
    let captures_raw = state.store.captures(&l.platform, &l.item_id).await?;
    let f = d.finding.as_ref();
    let review = d.review_state;
    let url = safe_link(l.url.as_deref());
    Ok(ListingPageView {
        decisions: decision_views(state, id).await?,
        timeline: timeline(state, &d, &captures_raw).await?,
        notice_steps: notice_step_views(state, id).await?,
        priority_note: (d.priority > 0).then(|| d.priority_note.clone().unwrap_or_default()),
        layout: layout(
            state,
            user,
            "queue",
            l.title.chars().take(40).collect::<String>(),
        ),
        id,
        title: l.title.clone(),
        platform: state.platform_label(&l.platform).to_string(),
        item_id: l.item_id.clone(),
        url_text: match url {
            None => l.url.clone().unwrap_or_default(),
            Some(_) => String::new(),
        },
        url,
        online: d.state != "gone",
        gone_at: d.gone_at.as_deref().map(local_time).unwrap_or_default(),
        fields: listing_fields(&d),
        params: param_fields(l),
        cert_numbers: f.map(|f| f.cert_numbers.clone()).unwrap_or_default(),
        has_finding: f.is_some(),
        verdict: f.map(|f| f.verdict.label_zh()).unwrap_or(""),
        verdict_class: f.map(|f| verdict_class(f.verdict)).unwrap_or(""),
        confidence: f
            .map(|f| format!("{:.0}%", f.confidence * 100.0))
            .unwrap_or_default(),
        why: f.map(|f| f.reasons.clone()).unwrap_or_default(),
        as_of: as_of.to_string(),
        category: state.category_label(f.and_then(|f| f.category_code.as_deref())),
        review_state: review.map(|r| r.label_zh()).unwrap_or(""),
        review_class: review.map(state_class).unwrap_or(""),
        flagged: review.is_some(),
        decided: review.is_some_and(|r| r.is_decided()),
        cert_missing: cert.missing(),
        cert: cert.fields(state),
        compare: cert.compare_rows(state, &d, as_of),
        cert_no: cert.cert_no,
        evidence: evidence_view(&d),
        captures: capture_views(&d, &captures_raw),
        ctx: ctx.to_string(),
        queue_href: queue_href(ctx),
        next_href: next.map(|n| listing_href(n, ctx)),
        can_decide: user.can(Permission::Decide),
        can_revise: user.can(Permission::Revise),
        seen_decision: d
            .decision_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "none".into()),
        measures: measure_opts(),
        reasons: reason_opts(),
        message: notes.message,
        error: notes.error,
        form_action: notes.form.map(|f| f.0.to_string()).unwrap_or_default(),
        form_note: notes.form.map(|f| f.1.to_string()).unwrap_or_default(),
    })
}

/// The day the finding was judged on (today when it was never matched).
fn as_of_date(state: &AppState, d: &FindingDetail) -> chrono::NaiveDate {
    d.as_of
        .as_deref()
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .unwrap_or_else(|| crate::report::beijing_today(state.store.now()))
}

/// A value as shown, `—` when absent or empty.
fn or_dash(s: &Option<String>) -> String {
    s.clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "—".into())
}

/// The listing's facts as the platform shows them, where it came from and
/// when it was seen; brand and model as recognised when they differ.
fn listing_fields(d: &FindingDetail) -> Vec<Field> {
    let l = &d.listing.listing;
    let field = |label, value| Field { label, value };
    let mut fields = vec![
        field("品牌", or_dash(&l.brand)),
        field("型号", or_dash(&l.model)),
        field(
            "价格",
            l.price
                .as_ref()
                .map(|p| format!("¥{p}"))
                .unwrap_or_else(|| "—".into()),
        ),
        field("店铺 / 商家", or_dash(&l.seller)),
        field("平台类目", or_dash(&l.category)),
        field("来源", source_text(d)),
        field("首次发现", local_time(&d.first_seen_at)),
        field("最近发现", local_time(&d.last_seen_at)),
    ];
    if let Some(f) = &d.finding {
        if f.brand.is_some() && f.brand != l.brand {
            fields.insert(1, field("识别的品牌", or_dash(&f.brand)));
        }
        if f.model.is_some() && f.model != l.model {
            fields.insert(2, field("识别的型号", or_dash(&f.model)));
        }
    }
    fields
}

/// How the listing came in: a scan, or a platform's data interface.
fn source_text(d: &FindingDetail) -> String {
    if d.source == "scan" || d.last_scan_id.is_some() {
        format!(
            "网页抓取（最近扫描 #{}）",
            d.last_scan_id.unwrap_or_default()
        )
    } else {
        format!("平台数据接口（{}）", d.source)
    }
}

/// The listing's parameters as `name：value` (the first 200).
fn param_fields(l: &Listing) -> Vec<Field> {
    l.params
        .iter()
        .take(200)
        .map(|(k, v)| Field {
            label: "",
            value: format!("{k}：{v}"),
        })
        .collect()
}
