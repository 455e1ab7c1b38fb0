//! Review stage, on the web: the review queue. In: the queue's filters,
//! sort and page from the query string; out: one page of findings with the
//! links that keep the filters, the filter form's choices, the leads raised
//! by relists and signals (first page only) and the bulk decision form.
//! Bad filters answer 400 with the form and the reason.

use super::AppState;
use super::choices::{measure_opts, reason_opts};
use super::error::AppError;
use super::layout::{PageResult, layout, page};
use super::queue_context::{listing_href, queue_href};
use super::session::CurrentUser;
use super::views::{Opt, QueuePageView, QueueRowView, local_time, state_class, verdict_class};
use crate::domain::Verdict;
use crate::domain::decision::ReviewState;
use crate::domain::queue::{QueueFilter, Sort};
use crate::review::auth::Permission;
use crate::review::queue::{DEFAULT_PER_PAGE, QueueParams};
use crate::store::{LeadRow, QueuePage, QueueRow};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use std::sync::Arc;
use std::time::Instant;

pub async fn home(_user: CurrentUser) -> Redirect {
    Redirect::to("/queue")
}

pub async fn queue(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Query(params): Query<QueueParams>,
) -> PageResult {
    user.require(Permission::View)?;
    let started = Instant::now();
    let (filter, error) = parse_filter(&state, &params)?;
    let page_data = if error.is_none() {
        Some(state.store.queue(&filter).await?)
    } else {
        None
    };
    let ctx = filter.query_string(&[]);
    let platforms = state.store.platforms().await?;
    let scans = state.store.recent_scan_ids(30).await?;
    let rows = page_data
        .as_ref()
        .map(|p| p.rows.iter().map(|r| row_view(&state, r, &ctx)).collect())
        .unwrap_or_default();
    let (total, prev_href, next_href) = paging(page_data.as_ref(), &filter);
    let leads = leads(&state, &filter, error.is_none()).await?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let view = QueuePageView {
        leads,
        layout: layout(&state, &user, "queue", "审核队列"),
        rows,
        total,
        prev_href,
        next_href,
        first_href: filter.cursor.is_some().then(|| queue_href(&ctx)),
        ctx,
        q: filter.q.clone().unwrap_or_default(),
        seller: filter.seller.clone().unwrap_or_default(),
        min_conf: filter.min_conf.map(|c| c.to_string()).unwrap_or_default(),
        max_conf: filter.max_conf.map(|c| c.to_string()).unwrap_or_default(),
        platforms: platform_opts(&state, &platforms, &filter),
        groups: group_opts(&state, &filter),
        categories: category_opts(&state, &filter),
        verdicts: verdict_opts(filter.verdict.map(|v| v.as_str()), "全部判定"),
        states: state_opts(&filter),
        sorts: sort_opts(&filter),
        scans: scan_opts(&state, &scans, &filter),
        per_page: per_page_opts(&filter),
        filtered: filter.is_filtered(),
        can_decide: user.can(Permission::Decide),
        measures: measure_opts(),
        reasons: reason_opts(),
        elapsed_ms: format!("{:.0} 毫秒", started.elapsed().as_secs_f64() * 1000.0),
        error,
    };
    page(&view, status)
}

/// The filter asked for; when it is bad, the default filter and why.
fn parse_filter(
    state: &AppState,
    params: &QueueParams,
) -> Result<(QueueFilter, Option<String>), AppError> {
    match params.parse(|g| state.group_codes(g)) {
        Ok(f) => Ok((f, None)),
        Err(e) => Ok((
            QueueParams::default()
                .parse(|g| state.group_codes(g))
                .map_err(|e| AppError::bad_request(e.to_string()))?,
            Some(e.to_string()),
        )),
    }
}

/// One finding of the page, its links keeping the queue `ctx`.
fn row_view(state: &AppState, r: &QueueRow, ctx: &str) -> QueueRowView {
    let seller = r.seller.clone().unwrap_or_default();
    QueueRowView {
        id: r.listing_id,
        href: listing_href(r.listing_id, ctx),
        title: r.title.clone(),
        platform: state.platform_label(&r.platform).to_string(),
        item_id: r.item_id.clone(),
        brand: r.brand.clone().unwrap_or_default(),
        model: r.model.clone().unwrap_or_default(),
        seller_href: format!(
            "/queue?{}",
            serde_urlencoded::to_string([("seller", seller.as_str()), ("state", "all")])
                .unwrap_or_default()
        ),
        seller,
        price: r.price.clone().unwrap_or_default(),
        verdict: r.verdict.label_zh(),
        verdict_class: verdict_class(r.verdict),
        confidence: format!("{:.0}%", r.confidence * 100.0),
        category: state.category_label(r.category_code.as_deref()),
        state: r.review_state.label_zh(),
        state_class: state_class(r.review_state),
        queued_at: r.queued_at.as_deref().map(local_time).unwrap_or_default(),
        gone: r.listing_state == "gone",
    }
}

/// The total shown (capped counts end in `+`) and the previous and next
/// pages' links.
fn paging(
    page_data: Option<&QueuePage>,
    filter: &QueueFilter,
) -> (String, Option<String>, Option<String>) {
    match page_data {
        None => ("0".to_string(), None, None),
        Some(p) => (
            if p.total_capped {
                format!("{}+", crate::store::QUEUE_COUNT_CAP)
            } else {
                p.total.to_string()
            },
            p.prev
                .as_ref()
                .map(|c| format!("/queue?{}", filter.query_string(&[("before", c)]))),
            p.next
                .as_ref()
                .map(|c| format!("/queue?{}", filter.query_string(&[("after", c)]))),
        ),
    }
}

/// On the first page of a good filter: the leads to look at first, their
/// platforms named for people.
async fn leads(state: &AppState, filter: &QueueFilter, ok: bool) -> Result<Vec<LeadRow>, AppError> {
    let mut leads = if filter.cursor.is_none() && ok {
        state.store.leads(filter.platform.as_deref(), 10).await?
    } else {
        Vec::new()
    };
    for l in &mut leads {
        l.platform = state.platform_label(&l.platform).to_string();
    }
    Ok(leads)
}

fn verdict_opts(current: Option<&str>, all_label: &str) -> Vec<Opt> {
    let mut v = vec![Opt::new("", all_label, current)];
    v.extend(
        Verdict::ALL
            .into_iter()
            .filter(|v| v.is_flagged())
            .map(|x| Opt::new(x.as_str(), x.label_zh(), current)),
    );
    v
}

fn state_opts(filter: &QueueFilter) -> Vec<Opt> {
    let state_current = Some(filter.state.as_str());
    let mut states: Vec<Opt> = ReviewState::ALL
        .into_iter()
        .map(|s| Opt::new(s.as_str(), s.label_zh(), state_current))
        .collect();
    states.push(Opt::new("all", "全部状态", state_current));
    states
}

fn platform_opts(state: &AppState, platforms: &[String], filter: &QueueFilter) -> Vec<Opt> {
    let mut platform_opts = vec![Opt::new("", "全部平台", filter.platform.as_deref())];
    platform_opts.extend(platforms.iter().map(|p| {
        Opt::new(
            p.clone(),
            state.platform_label(p),
            filter.platform.as_deref(),
        )
    }));
    platform_opts
}

fn group_opts(state: &AppState, filter: &QueueFilter) -> Vec<Opt> {
    let mut group_opts = vec![Opt::new("", "全部产品大类", filter.group.as_deref())];
    group_opts.extend(
        state
            .groups()
            .into_iter()
            .map(|g| Opt::new(g.clone(), g, filter.group.as_deref())),
    );
    group_opts
}

/// The catalog's categories under their product groups.
fn category_opts(state: &AppState, filter: &QueueFilter) -> Vec<(String, Vec<Opt>)> {
    let mut categories: Vec<(String, Vec<Opt>)> = Vec::new();
    for e in state.catalog.entries() {
        let opt = Opt::new(
            e.code.clone(),
            format!("{} {}", e.code, e.name),
            filter.category.as_deref(),
        );
        match categories.iter_mut().find(|(g, _)| *g == e.group) {
            Some((_, v)) => v.push(opt),
            None => categories.push((e.group.clone(), vec![opt])),
        }
    }
    categories
}

/// The recent scans: (id, platform, started at).
fn scan_opts(state: &AppState, scans: &[(i64, String, String)], filter: &QueueFilter) -> Vec<Opt> {
    let scan_cur = filter.scan_id.map(|s| s.to_string());
    let mut scan_opts = vec![Opt::new("", "全部扫描批次", scan_cur.as_deref())];
    scan_opts.extend(scans.iter().map(|(id, p, at)| {
        Opt::new(
            id.to_string(),
            format!("#{id} {} {}", state.platform_label(p), local_time(at)),
            scan_cur.as_deref(),
        )
    }));
    scan_opts
}

fn sort_opts(filter: &QueueFilter) -> Vec<Opt> {
    let sort_cur = Some(filter.sort.as_str());
    Sort::ALL
        .into_iter()
        .map(|s| Opt::new(s.as_str(), s.label_zh(), sort_cur))
        .collect()
}

fn per_page_opts(filter: &QueueFilter) -> Vec<Opt> {
    let per_cur = filter.per_page.to_string();
    [20, DEFAULT_PER_PAGE, 100, 200]
        .into_iter()
        .map(|n| {
            Opt::new(
                n.to_string(),
                format!("每页 {n} 条"),
                Some(per_cur.as_str()),
            )
        })
        .collect()
}
