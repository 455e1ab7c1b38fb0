//! Review stage, on the web: the HTML pages and their forms.

use super::AppState;
use super::charts;
use super::error::AppError;
use super::session::CurrentUser;
use super::views::*;
use crate::domain::Verdict;
use crate::review::auth::{self, Permission, Role};
use crate::review::compare;
use crate::review::decision::{Action, DecisionInput, DismissReason, Measure, ReviewState};
use crate::review::queue::{DEFAULT_PER_PAGE, QueueFilter, QueueParams, Sort};
use crate::store::{DecideOutcome, FindingDetail, StoreError};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Instant;

pub(crate) type PageResult = Result<Response, AppError>;

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

pub(crate) fn page(t: &impl Template, status: StatusCode) -> PageResult {
    Ok((status, Html(t.render()?)).into_response())
}

pub async fn home(_user: CurrentUser) -> Redirect {
    Redirect::to("/queue")
}

pub async fn not_found() -> AppError {
    AppError::not_found()
}

// ---- queue ------------------------------------------------------------------

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

fn measure_opts() -> Vec<Opt> {
    Measure::ALL
        .into_iter()
        .map(|m| Opt::new(m.as_str(), m.label_zh(), Some("take_down")))
        .collect()
}

fn reason_opts() -> Vec<Opt> {
    DismissReason::ALL
        .into_iter()
        .map(|r| Opt::new(r.as_str(), r.label_zh(), None))
        .collect()
}

fn listing_href(id: i64, ctx: &str) -> String {
    if ctx.is_empty() {
        format!("/listings/{id}")
    } else {
        format!("/listings/{id}?{ctx}")
    }
}

fn queue_href(ctx: &str) -> String {
    if ctx.is_empty() {
        "/queue".into()
    } else {
        format!("/queue?{ctx}")
    }
}

pub async fn queue(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Query(params): Query<QueueParams>,
) -> PageResult {
    user.require(Permission::View)?;
    let started = Instant::now();
    let parsed = params.parse(|g| state.group_codes(g));
    let (filter, error) = match parsed {
        Ok(f) => (f, None),
        Err(e) => (
            QueueParams::default()
                .parse(|g| state.group_codes(g))
                .map_err(|e| AppError::bad_request(e.to_string()))?,
            Some(e.to_string()),
        ),
    };
    let page_data = if error.is_none() {
        Some(state.store.queue(&filter).await?)
    } else {
        None
    };
    let ctx = filter.query_string(&[]);
    let platforms = state.store.platforms().await?;
    let scans = state.store.recent_scan_ids(30).await?;
    let rows: Vec<QueueRowView> = page_data
        .as_ref()
        .map(|p| {
            p.rows
                .iter()
                .map(|r| {
                    let seller = r.seller.clone().unwrap_or_default();
                    QueueRowView {
                        id: r.listing_id,
                        href: listing_href(r.listing_id, &ctx),
                        title: r.title.clone(),
                        platform: state.platform_label(&r.platform).to_string(),
                        item_id: r.item_id.clone(),
                        brand: r.brand.clone().unwrap_or_default(),
                        model: r.model.clone().unwrap_or_default(),
                        seller_href: format!(
                            "/queue?{}",
                            serde_urlencoded::to_string([
                                ("seller", seller.as_str()),
                                ("state", "all")
                            ])
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
                })
                .collect()
        })
        .unwrap_or_default();
    let (total, prev_href, next_href) = match &page_data {
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
    };
    let first_href = filter.cursor.is_some().then(|| queue_href(&ctx));
    let cur = |s: &Option<String>| s.clone().unwrap_or_default();
    let state_current = Some(filter.state.as_str());
    let mut states: Vec<Opt> = ReviewState::ALL
        .into_iter()
        .map(|s| Opt::new(s.as_str(), s.label_zh(), state_current))
        .collect();
    states.push(Opt::new("all", "全部状态", state_current));
    let mut platform_opts = vec![Opt::new("", "全部平台", filter.platform.as_deref())];
    platform_opts.extend(platforms.iter().map(|p| {
        Opt::new(
            p.clone(),
            state.platform_label(p),
            filter.platform.as_deref(),
        )
    }));
    let mut group_opts = vec![Opt::new("", "全部产品大类", filter.group.as_deref())];
    group_opts.extend(
        state
            .groups()
            .into_iter()
            .map(|g| Opt::new(g.clone(), g, filter.group.as_deref())),
    );
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
    let scan_cur = filter.scan_id.map(|s| s.to_string());
    let mut scan_opts = vec![Opt::new("", "全部扫描批次", scan_cur.as_deref())];
    scan_opts.extend(scans.iter().map(|(id, p, at)| {
        Opt::new(
            id.to_string(),
            format!("#{id} {} {}", state.platform_label(p), local_time(at)),
            scan_cur.as_deref(),
        )
    }));
    let sort_cur = Some(filter.sort.as_str());
    let per_cur = filter.per_page.to_string();
    let mut leads = if filter.cursor.is_none() && error.is_none() {
        state.store.leads(filter.platform.as_deref(), 10).await?
    } else {
        Vec::new()
    };
    for l in &mut leads {
        l.platform = state.platform_label(&l.platform).to_string();
    }
    let view = QueuePageView {
        leads,
        layout: layout(&state, &user, "queue", "审核队列"),
        rows,
        total,
        prev_href,
        next_href,
        first_href,
        ctx,
        q: filter.q.clone().unwrap_or_default(),
        seller: cur(&filter.seller),
        min_conf: filter.min_conf.map(|c| c.to_string()).unwrap_or_default(),
        max_conf: filter.max_conf.map(|c| c.to_string()).unwrap_or_default(),
        platforms: platform_opts,
        groups: group_opts,
        categories,
        verdicts: verdict_opts(filter.verdict.map(|v| v.as_str()), "全部判定"),
        states,
        sorts: Sort::ALL
            .into_iter()
            .map(|s| Opt::new(s.as_str(), s.label_zh(), sort_cur))
            .collect(),
        scans: scan_opts,
        per_page: [20, DEFAULT_PER_PAGE, 100, 200]
            .into_iter()
            .map(|n| {
                Opt::new(
                    n.to_string(),
                    format!("每页 {n} 条"),
                    Some(per_cur.as_str()),
                )
            })
            .collect(),
        filtered: filter.is_filtered(),
        can_decide: user.can(Permission::Decide),
        measures: measure_opts(),
        reasons: reason_opts(),
        elapsed_ms: format!("{:.0} 毫秒", started.elapsed().as_secs_f64() * 1000.0),
        error: error.clone(),
    };
    page(
        &view,
        if error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
    )
}

// ---- a listing ----------------------------------------------------------------

#[derive(Debug, Deserialize, Default)]
pub struct Done {
    pub done: Option<i64>,
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
    let message = done.done.map(|prev| format!("已保存对 #{prev} 的决定。"));
    listing_page(
        &state,
        &user,
        id,
        &filter,
        message,
        None,
        None,
        StatusCode::OK,
    )
    .await
}

/// The queue filters a listing page was opened from; bad ones are dropped.
fn context_filter(state: &AppState, params: &QueueParams) -> QueueFilter {
    let mut p = params.clone();
    p.after = None;
    p.before = None;
    p.parse(|g| state.group_codes(g))
        .or_else(|_| QueueParams::default().parse(|_| None))
        .expect("the default queue filter parses")
}

#[allow(clippy::too_many_arguments)]
async fn listing_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    filter: &QueueFilter,
    message: Option<String>,
    error: Option<String>,
    form: Option<(&str, &str)>,
    status: StatusCode,
) -> PageResult {
    let detail = state
        .store
        .finding_detail(id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let ctx = filter.query_string(&[]);
    let next = state.store.queue_next(filter, id).await?;
    let view = build_listing_view(state, user, detail, &ctx, next, message, error, form).await?;
    page(&view, status)
}

#[allow(clippy::too_many_arguments)]
async fn build_listing_view(
    state: &AppState,
    user: &CurrentUser,
    d: FindingDetail,
    ctx: &str,
    next: Option<i64>,
    message: Option<String>,
    error: Option<String>,
    form: Option<(&str, &str)>,
) -> Result<ListingPageView, AppError> {
    let id = d.listing.id;
    let l = &d.listing.listing;
    let opt = |s: &Option<String>| {
        s.clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "—".into())
    };
    let mut fields = vec![
        Field {
            label: "品牌",
            value: opt(&l.brand),
        },
        Field {
            label: "型号",
            value: opt(&l.model),
        },
        Field {
            label: "价格",
            value: l
                .price
                .as_ref()
                .map(|p| format!("¥{p}"))
                .unwrap_or_else(|| "—".into()),
        },
        Field {
            label: "店铺 / 商家",
            value: opt(&l.seller),
        },
        Field {
            label: "平台类目",
            value: opt(&l.category),
        },
        Field {
            label: "来源",
            value: if d.source == "scan" || d.last_scan_id.is_some() {
                format!(
                    "网页抓取（最近扫描 #{}）",
                    d.last_scan_id.unwrap_or_default()
                )
            } else {
                format!("平台数据接口（{}）", d.source)
            },
        },
        Field {
            label: "首次发现",
            value: local_time(&d.first_seen_at),
        },
        Field {
            label: "最近发现",
            value: local_time(&d.last_seen_at),
        },
    ];
    if let Some(f) = &d.finding {
        if f.brand.is_some() && f.brand != l.brand {
            fields.insert(
                1,
                Field {
                    label: "识别的品牌",
                    value: opt(&f.brand),
                },
            );
        }
        if f.model.is_some() && f.model != l.model {
            fields.insert(
                2,
                Field {
                    label: "识别的型号",
                    value: opt(&f.model),
                },
            );
        }
    }
    let params = l
        .params
        .iter()
        .take(200)
        .map(|(k, v)| Field {
            label: "",
            value: format!("{k}：{v}"),
        })
        .collect();
    let as_of = d
        .as_of
        .as_deref()
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .unwrap_or_else(|| crate::report::beijing_today(state.store.now()));
    let cert_no = d
        .finding
        .as_ref()
        .and_then(|f| {
            f.matched_cert
                .clone()
                .or_else(|| f.cert_numbers.first().cloned())
        })
        .unwrap_or_default();
    let stored = if cert_no.is_empty() {
        None
    } else {
        state.store.certificate(&cert_no).await?
    };
    let (brand, model) = match &d.finding {
        Some(f) => (
            f.brand.clone().or(l.brand.clone()),
            f.model.clone().or(l.model.clone()),
        ),
        None => (l.brand.clone(), l.model.clone()),
    };
    let compare_rows = stored
        .as_ref()
        .map(|s| {
            compare::compare(
                brand.as_deref(),
                model.as_deref(),
                &s.cert,
                &state.brands,
                as_of,
            )
            .rows
        })
        .unwrap_or_default()
        .into_iter()
        .map(|r| CompareRowView {
            label: r.label,
            listing: r
                .listing
                .into_iter()
                .map(|s| SegmentView {
                    text: s.text,
                    differs: s.differs,
                })
                .collect(),
            cert: r
                .cert
                .into_iter()
                .map(|s| SegmentView {
                    text: s.text,
                    differs: s.differs,
                })
                .collect(),
            mark: r.mark.label_zh(),
            mark_class: r.mark.class(),
            note: r.note.unwrap_or_default(),
        })
        .collect();
    let cert = stored.as_ref().map(|s| {
        let c = &s.cert;
        let mut f = vec![
            Field {
                label: "证书编号",
                value: c.cert_no.clone(),
            },
            Field {
                label: "产品名称",
                value: c.product_name.clone(),
            },
            Field {
                label: "产品类别",
                value: state.category_label(c.category_code.as_deref()),
            },
            Field {
                label: "申请人",
                value: c.applicant.clone(),
            },
            Field {
                label: "制造商",
                value: c.manufacturer.clone(),
            },
            Field {
                label: "生产厂",
                value: c.factory.clone(),
            },
            Field {
                label: "型号规格",
                value: c.models_raw.clone(),
            },
            Field {
                label: "证书状态",
                value: c.status_raw.clone(),
            },
            Field {
                label: "发证日期",
                value: c.issued_on.to_string(),
            },
            Field {
                label: "有效期至",
                value: c.expires_on.to_string(),
            },
        ];
        if let Some(d) = c.status_changed_on {
            f.push(Field {
                label: "状态变更日期",
                value: d.to_string(),
            });
        }
        if let Some(r) = &c.status_reason {
            f.push(Field {
                label: "变更原因",
                value: r.clone(),
            });
        }
        if let Some(i) = &c.issuer {
            f.push(Field {
                label: "发证机构",
                value: i.clone(),
            });
        }
        f.push(Field {
            label: "数据来源",
            value: format!("{}（更新于 {}）", s.source_file, local_time(&s.updated_at)),
        });
        f
    });
    let evidence = d.page.as_ref().map(|p| EvidenceView {
        page_id: p.id,
        fetched_at: local_time(&p.fetched_at),
        sha256: p.sha256.clone(),
        url: p.url.clone(),
        final_url: p.final_url.clone(),
        status: p.status,
        encoding: p.encoding.clone().unwrap_or_else(|| "未知".into()),
        size: size_text(p.body_len),
    });
    let captures_raw = state.store.captures(&l.platform, &l.item_id).await?;
    let captures = captures_raw
        .iter()
        .map(|c| CaptureView {
            page_id: c.page_id,
            scan_id: c.scan_id,
            at: local_time(&c.fetched_at),
            status: c.status,
            sha256: c.sha256.clone(),
            size: size_text(c.body_len),
            current: d.page.as_ref().is_some_and(|p| p.id == c.page_id),
        })
        .collect();
    let decisions = state
        .store
        .decisions_for(id)
        .await?
        .into_iter()
        .map(|r| {
            let action = Action::parse(&r.action)
                .map(|a| a.label_zh())
                .unwrap_or("未知");
            let detail = r
                .measure
                .as_deref()
                .and_then(Measure::parse)
                .map(|m| m.label_zh().to_string())
                .or_else(|| {
                    r.reason
                        .as_deref()
                        .and_then(DismissReason::parse)
                        .map(|x| x.label_zh().to_string())
                })
                .unwrap_or_default();
            DecisionView {
                id: r.id,
                action: action.to_string(),
                detail,
                note: r.note.unwrap_or_default(),
                who: format!("{}（{}）", r.display_name, r.username),
                at: local_time(&r.decided_at),
                revises: r.revises,
                verdict: Verdict::parse(&r.verdict)
                    .map(|v| v.label_zh().to_string())
                    .unwrap_or(r.verdict),
                audit_id: r.audit_id,
            }
        })
        .collect();
    let timeline = timeline(state, &d, &captures_raw).await?;
    let notice_steps = state
        .store
        .notice_steps(id)
        .await?
        .into_iter()
        .map(|e| NoticeStepView {
            number: e.number,
            batch_id: e.batch_id,
            at: local_time(&e.at),
            state: super::notices::state_label(&e.state).0,
            how: match crate::notice::how_label(e.note.as_deref()) {
                "" => e.note.unwrap_or_default(),
                how => how.to_string(),
            },
            page_id: e.page_id,
            relist_id: e.listing_id.filter(|l| *l != id),
            actor: e.actor,
        })
        .collect();
    let priority_note = (d.priority > 0).then(|| d.priority_note.clone().unwrap_or_default());
    let review = d.review_state;
    let url = safe_link(l.url.as_deref());
    Ok(ListingPageView {
        notice_steps,
        priority_note,
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
        url_text: if url.is_none() {
            l.url.clone().unwrap_or_default()
        } else {
            String::new()
        },
        url,
        online: d.state != "gone",
        gone_at: d.gone_at.as_deref().map(local_time).unwrap_or_default(),
        fields,
        params,
        cert_numbers: d
            .finding
            .as_ref()
            .map(|f| f.cert_numbers.clone())
            .unwrap_or_default(),
        has_finding: d.finding.is_some(),
        verdict: d
            .finding
            .as_ref()
            .map(|f| f.verdict.label_zh())
            .unwrap_or(""),
        verdict_class: d
            .finding
            .as_ref()
            .map(|f| verdict_class(f.verdict))
            .unwrap_or(""),
        confidence: d
            .finding
            .as_ref()
            .map(|f| format!("{:.0}%", f.confidence * 100.0))
            .unwrap_or_default(),
        why: d
            .finding
            .as_ref()
            .map(|f| f.reasons.clone())
            .unwrap_or_default(),
        as_of: as_of.to_string(),
        category: state.category_label(d.finding.as_ref().and_then(|f| f.category_code.as_deref())),
        review_state: review.map(|r| r.label_zh()).unwrap_or(""),
        review_class: review.map(state_class).unwrap_or(""),
        flagged: review.is_some(),
        decided: review.is_some_and(|r| r.is_decided()),
        cert_missing: !cert_no.is_empty() && stored.is_none(),
        cert,
        cert_no,
        compare: compare_rows,
        evidence,
        captures,
        decisions,
        timeline,
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
        message,
        error,
        form_action: form.map(|f| f.0.to_string()).unwrap_or_default(),
        form_note: form.map(|f| f.1.to_string()).unwrap_or_default(),
    })
}

async fn timeline(
    state: &AppState,
    d: &FindingDetail,
    captures: &[crate::store::CaptureRow],
) -> Result<Vec<TimelineView>, AppError> {
    let id = d.listing.id;
    let l = &d.listing.listing;
    let mut items: Vec<(String, TimelineView)> = Vec::new();
    items.push((
        d.first_seen_at.clone(),
        TimelineView {
            at: local_time(&d.first_seen_at),
            what: "首次发现".into(),
            detail: String::new(),
        },
    ));
    if let Some(g) = &d.gone_at {
        items.push((
            g.clone(),
            TimelineView {
                at: local_time(g),
                what: "商品已下架 / 不可访问".into(),
                detail: String::new(),
            },
        ));
    }
    for c in captures {
        items.push((
            c.fetched_at.clone(),
            TimelineView {
                at: local_time(&c.fetched_at),
                what: format!("扫描 #{} 抓取页面（HTTP {}）", c.scan_id, c.status),
                detail: format!("SHA-256 {}…", &c.sha256[..c.sha256.len().min(16)]),
            },
        ));
    }
    for h in state.store.listing_history(id).await? {
        let current = serde_json::json!({
            "title": l.title, "brand": l.brand, "model": l.model, "price": l.price, "seller": l.seller,
        });
        let names = [
            ("title", "标题"),
            ("brand", "品牌"),
            ("model", "型号"),
            ("price", "价格"),
            ("seller", "店铺"),
        ];
        let changed: Vec<String> = names
            .iter()
            .filter(|(k, _)| h.old_content.get(k) != current.get(k))
            .map(|(k, label)| {
                let old = h
                    .old_content
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("（空）");
                format!("原{label}：{old}")
            })
            .collect();
        items.push((
            h.changed_at.clone(),
            TimelineView {
                at: local_time(&h.changed_at),
                what: "商品信息变更".into(),
                detail: if changed.is_empty() {
                    "参数或描述有变化".into()
                } else {
                    changed.join("；")
                },
            },
        ));
    }
    for v in state.store.verdict_history(id).await? {
        let label = |s: &str| {
            Verdict::parse(s)
                .map(|v| v.label_zh().to_string())
                .unwrap_or_else(|| s.to_string())
        };
        let what = match &v.old_verdict {
            None => format!("首次判定：{}", label(&v.new_verdict)),
            Some(o) => format!("判定变化：{} → {}", label(o), label(&v.new_verdict)),
        };
        items.push((
            v.changed_at.clone(),
            TimelineView {
                at: local_time(&v.changed_at),
                what,
                detail: format!("比对批次 #{}", v.run_id),
            },
        ));
    }
    items.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(items.into_iter().map(|(_, t)| t).collect())
}

// ---- decisions ------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub ctx: String,
    #[serde(default)]
    pub seen: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

fn ctx_filter(state: &AppState, ctx: &str) -> QueueFilter {
    let params: QueueParams = serde_urlencoded::from_str(ctx).unwrap_or_default();
    context_filter(state, &params)
}

pub async fn decide(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(Permission::Decide)?;
    let filter = ctx_filter(&state, &form.ctx);
    let seen = match form.seen.trim() {
        "none" => Some(None),
        s => Some(Some(s.parse::<i64>().map_err(|_| {
            AppError::bad_request("表单缺少当前决定编号，请刷新页面")
        })?)),
    };
    let input = DecisionInput {
        action: form.action.clone(),
        measure: form.measure.clone(),
        reason: form.reason.clone(),
        note: form.note.clone(),
    };
    let note = form.note.clone().unwrap_or_default();
    let decision = match input.validate() {
        Ok(d) => d,
        Err(e) => {
            return listing_page(
                &state,
                &user,
                id,
                &filter,
                None,
                Some(e.to_string()),
                Some((&form.action, &note)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match state.store.decide(id, &user.user, &decision, seen).await? {
        DecideOutcome::NotFound => Err(AppError::not_found()),
        DecideOutcome::Rejected(e) => {
            let status = super::error::decision_status(&e);
            listing_page(
                &state,
                &user,
                id,
                &filter,
                None,
                Some(e.to_string()),
                Some((&form.action, &note)),
                status,
            )
            .await
        }
        DecideOutcome::Done { .. } => {
            state.decided();
            let done = id.to_string();
            let to = match state.store.queue_next(&filter, id).await? {
                Some(next) => format!(
                    "/listings/{next}?{}",
                    filter.query_string(&[("done", &done)])
                ),
                None => format!("/listings/{id}?{}", filter.query_string(&[("done", &done)])),
            };
            Ok(Redirect::to(&to).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct BulkForm {
    #[serde(default, rename = "_csrf")]
    pub csrf: String,
    #[serde(default)]
    pub ctx: String,
    #[serde(default)]
    pub ids: Vec<i64>,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Most findings decided in one bulk request.
pub const BULK_MAX: usize = 500;

pub async fn bulk(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Form(form): Form<BulkForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(Permission::Decide)?;
    let filter = ctx_filter(&state, &form.ctx);
    let ctx = filter.query_string(&[]);
    if form.ids.is_empty() {
        return Err(AppError::bad_request("请先勾选要批量处理的条目"));
    }
    if form.ids.len() > BULK_MAX {
        return Err(AppError::bad_request(format!(
            "一次最多批量处理 {BULK_MAX} 条"
        )));
    }
    let input = DecisionInput {
        action: form.action.clone(),
        measure: form.measure.clone(),
        reason: form.reason.clone(),
        note: form.note.clone(),
    };
    let decision = input
        .validate()
        .map_err(|e| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let results = decide_many(&state, &user, &form.ids, &decision).await?;
    let lines: Vec<BulkLine> = results
        .into_iter()
        .map(|(id, r)| BulkLine {
            id,
            href: listing_href(id, &ctx),
            ok: r.is_ok(),
            outcome: match r {
                Ok(true) => "已修改原决定".into(),
                Ok(false) => "已处理".into(),
                Err(e) => e,
            },
        })
        .collect();
    let done = lines.iter().filter(|l| l.ok).count();
    let view = BulkResultView {
        layout: layout(&state, &user, "queue", "批量处理结果"),
        action: decision.action.label_zh(),
        done,
        skipped: lines.len() - done,
        lines,
        queue_href: queue_href(&ctx),
    };
    page(&view, StatusCode::OK)
}

/// Decides each finding in turn; each gets its own transaction and audit entry.
pub(crate) async fn decide_many(
    state: &AppState,
    user: &CurrentUser,
    ids: &[i64],
    decision: &crate::review::decision::Decision,
) -> Result<Vec<(i64, Result<bool, String>)>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    let mut seen = std::collections::HashSet::new();
    for &id in ids {
        if !seen.insert(id) {
            continue;
        }
        let r = match state.store.decide(id, &user.user, decision, None).await? {
            DecideOutcome::Done { revised, .. } => Ok(revised),
            DecideOutcome::Rejected(e) => Err(e.to_string()),
            DecideOutcome::NotFound => Err("记录不存在".to_string()),
        };
        out.push((id, r));
    }
    if out.iter().any(|(_, r)| r.is_ok()) {
        state.decided();
    }
    Ok(out)
}

// ---- evidence -------------------------------------------------------------------

/// The captured page as text, for the sandboxed preview.
pub(crate) async fn evidence_html(state: &AppState, page_id: i64) -> Result<String, AppError> {
    let meta = state
        .store
        .page_meta(page_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if let Some(at) = state.store.page_pruned_at(page_id).await? {
        return Ok(pruned_html(&meta.sha256, &at));
    }
    let gz = state.store.page_body_gz(page_id).await?;
    let raw = gunzip(&gz).map_err(|e| {
        tracing::error!(page_id, error = %e, "stored evidence does not decompress");
        AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "存档页面已损坏，无法显示",
        )
    })?;
    let encoding = meta
        .encoding
        .as_deref()
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(&raw);
    Ok(neutralise(&text))
}

/// What the evidence frame shows for a page whose body retention removed.
fn pruned_html(sha256: &str, pruned_at: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"></head>\
         <body style=\"font-family:sans-serif;padding:1em;color:#555\">\
         <p><strong>该页面的原始内容已按保存期限清理</strong>（{}，配置项 retention.pages_days）。</p>\
         <p>页面记录（网址、抓取时间、状态码、响应头、SHA-256 {}）仍保留；该页面不是任何待处理问题、审核结论或下架通知的证据。</p>\
         </body></html>",
        super::charts::esc(pruned_at),
        super::charts::esc(sha256)
    )
}

fn gunzip(gz: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut out)?;
    Ok(out)
}

/// Turns `<meta http-equiv>` (refresh, cookies) into an inert attribute: a
/// sandboxed page may not run scripts, but a refresh would still navigate.
pub fn neutralise(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len());
    let mut last = 0;
    for (i, _) in lower.match_indices("http-equiv") {
        out.push_str(&html[last..i]);
        out.push_str("data-inert");
        last = i + "http-equiv".len();
    }
    out.push_str(&html[last..]);
    out
}

/// Sandbox: no scripts, no forms, no plugins, its own opaque origin; nothing
/// may be loaded from anywhere except inline styles and data: images.
pub const EVIDENCE_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     font-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'";

pub async fn evidence(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(page_id): Path<i64>,
) -> PageResult {
    user.require(Permission::View)?;
    let html = evidence_html(&state, page_id).await?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(EVIDENCE_CSP),
            ),
            (
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("SAMEORIGIN"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=3600"),
            ),
        ],
        html,
    )
        .into_response())
}

pub async fn evidence_raw(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(page_id): Path<i64>,
) -> PageResult {
    user.require(Permission::View)?;
    let meta = state
        .store
        .page_meta(page_id)
        .await?
        .ok_or_else(AppError::not_found)?;
    if state.store.page_pruned_at(page_id).await?.is_some() {
        return Err(AppError::new(
            StatusCode::GONE,
            "该页面的原始内容已按保存期限清理（retention.pages_days），仅保留页面记录",
        ));
    }
    let raw = gunzip(&state.store.page_body_gz(page_id).await?)
        .map_err(|_| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "存档页面已损坏"))?;
    let name = format!(
        "attachment; filename=\"page-{}-{}.html\"",
        meta.id,
        &meta.sha256[..meta.sha256.len().min(12)]
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment")),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox; default-src 'none'"),
            ),
        ],
        raw,
    )
        .into_response())
}

// ---- dashboard --------------------------------------------------------------------

pub async fn dashboard(State(state): State<Arc<AppState>>, user: CurrentUser) -> PageResult {
    user.require(Permission::View)?;
    let data = state.dashboard().await?;
    let count = |s: &str| {
        data.by_state
            .iter()
            .find(|(k, _)| k == s)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let colour = |v: Verdict| match verdict_class(v) {
        "v-warn" => "#d68910",
        "v-bad" => "#c0392b",
        "v-ok" => "#27ae60",
        _ => "#7f8c8d",
    };
    let flagged_verdicts: Vec<(Verdict, i64)> = data
        .by_verdict
        .iter()
        .filter_map(|(v, n)| {
            Verdict::parse(v)
                .filter(|v| v.is_flagged())
                .map(|v| (v, *n))
        })
        .collect();
    let verdict_chart = charts::hbars(
        &flagged_verdicts
            .iter()
            .map(|(v, n)| (v.label_zh().to_string(), *n, colour(*v)))
            .collect::<Vec<_>>(),
        440,
    );
    let state_chart = charts::hbars(
        &ReviewState::ALL
            .into_iter()
            .map(|s| {
                let c = match s {
                    ReviewState::Pending => "#2e86c1",
                    ReviewState::NeedInfo => "#d68910",
                    ReviewState::Confirmed => "#c0392b",
                    ReviewState::Dismissed => "#7f8c8d",
                };
                (s.label_zh().to_string(), count(s.as_str()), c)
            })
            .collect::<Vec<_>>(),
        440,
    );
    let age_chart = charts::columns(
        &data
            .backlog_age
            .iter()
            .map(|(l, n)| (l.to_string(), *n))
            .collect::<Vec<_>>(),
        440,
        180,
        "#2e86c1",
    );
    let mut groups: Vec<(String, i64)> = Vec::new();
    for (code, n) in &data.by_category {
        let g = state.group_of(code.as_deref());
        match groups.iter_mut().find(|(k, _)| *k == g) {
            Some(e) => e.1 += n,
            None => groups.push((g, *n)),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.1));
    let group_chart = charts::hbars(
        &groups
            .iter()
            .enumerate()
            .map(|(i, (g, n))| (g.clone(), *n, charts::PALETTE[i % charts::PALETTE.len()]))
            .collect::<Vec<_>>(),
        440,
    );
    let (days, mut series) = trend_series(&data.scans);
    for (platform, _) in &mut series {
        *platform = state.platform_label(platform).to_string();
    }
    let trend_chart = charts::lines(&days, &series, 900, 240);
    let today = state.store.now().date_naive();
    let decisions_days: Vec<(String, i64)> = (0..30)
        .rev()
        .map(|k| {
            let d = (today - chrono::Duration::days(k)).to_string();
            let n = data
                .decisions_by_day
                .iter()
                .find(|(day, _)| *day == d)
                .map(|(_, n)| *n)
                .unwrap_or(0);
            (d[5..].to_string(), n)
        })
        .collect();
    let decisions_chart = charts::columns(&decisions_days, 900, 180, "#27ae60");
    let heads: Vec<Verdict> = Verdict::ALL
        .into_iter()
        .filter(|v| v.is_flagged())
        .collect();
    let mut platforms: Vec<PlatformRow> = Vec::new();
    for (p, v, n) in &data.by_platform {
        if !platforms.iter().any(|r| r.platform == *p) {
            platforms.push(PlatformRow {
                platform: p.clone(),
                label: state.platform_label(p).to_string(),
                href: format!(
                    "/queue?{}",
                    serde_urlencoded::to_string([("platform", p.as_str()), ("state", "all")])
                        .unwrap_or_default()
                ),
                total: 0,
                cells: heads
                    .iter()
                    .map(|h| {
                        (
                            0,
                            format!(
                                "/queue?{}",
                                serde_urlencoded::to_string([
                                    ("platform", p.as_str()),
                                    ("verdict", h.as_str()),
                                    ("state", "all")
                                ])
                                .unwrap_or_default()
                            ),
                        )
                    })
                    .collect(),
            });
        }
        let row = platforms
            .iter_mut()
            .find(|r| r.platform == *p)
            .expect("just added");
        if let Some(i) = heads.iter().position(|h| h.as_str() == v) {
            row.cells[i].0 += n;
            row.total += n;
        }
    }
    let view = DashboardView {
        layout: layout(&state, &user, "dashboard", "统计概览"),
        findings: data.findings,
        flagged: data.flagged,
        pending: count("pending"),
        confirmed: count("confirmed"),
        dismissed: count("dismissed"),
        need_info: count("need_info"),
        oldest: data
            .oldest_pending
            .as_deref()
            .map(local_time)
            .unwrap_or_else(|| "—".into()),
        verdict_chart,
        state_chart,
        age_chart,
        trend_chart,
        decisions_chart,
        group_chart,
        by_verdict: data
            .by_verdict
            .iter()
            .filter_map(|(v, n)| Verdict::parse(v).map(|v| (v, *n)))
            .map(|(v, n)| CountRow {
                label: v.label_zh().to_string(),
                href: format!("/queue?state=all&verdict={}", v.as_str()),
                count: n,
                class: verdict_class(v),
            })
            .collect(),
        by_group: groups
            .iter()
            .map(|(g, n)| CountRow {
                label: g.clone(),
                href: format!(
                    "/queue?{}",
                    serde_urlencoded::to_string([("group", g.as_str()), ("state", "all")])
                        .unwrap_or_default()
                ),
                count: *n,
                class: "",
            })
            .collect(),
        verdict_heads: heads.iter().map(|v| v.label_zh().to_string()).collect(),
        platforms,
        computed_at: local_time(&data.computed_at),
        scans: data.scans.len(),
    };
    page(&view, StatusCode::OK)
}

/// Flagged listings per platform by scan day, carrying each platform's last
/// figure forward over days it was not scanned.
pub fn trend_series(scans: &[crate::store::ScanTrend]) -> (Vec<String>, Vec<(String, Vec<i64>)>) {
    let day = |s: &str| local_time(s).get(..10).unwrap_or("").to_string();
    let mut days: Vec<String> = scans.iter().map(|s| day(&s.started_at)).collect();
    days.sort();
    days.dedup();
    let mut platforms: Vec<String> = scans.iter().map(|s| s.platform.clone()).collect();
    platforms.sort();
    platforms.dedup();
    let series = platforms
        .into_iter()
        .map(|p| {
            let mut last = 0;
            let values = days
                .iter()
                .map(|d| {
                    if let Some(s) = scans
                        .iter()
                        .rev()
                        .find(|s| s.platform == p && day(&s.started_at) == *d)
                    {
                        last = s.flagged;
                    }
                    last
                })
                .collect();
            (p, values)
        })
        .collect();
    (
        days.into_iter()
            .map(|d| d.get(5..).unwrap_or(&d).to_string())
            .collect(),
        series,
    )
}

// ---- audit log ----------------------------------------------------------------------

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
    let rows = page_data
        .entries
        .iter()
        .map(|e| AuditRow {
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
        })
        .collect();
    let older_href = page_data.older.map(|id| {
        let mut pairs = vec![("before", id.to_string())];
        if let Some(t) = target {
            pairs.push(("target", t.to_string()));
        }
        format!(
            "/audit?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    });
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

// ---- users -----------------------------------------------------------------------------

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

pub fn credential_zh(e: &auth::CredentialError) -> String {
    match e {
        auth::CredentialError::PasswordTooShort { min } => format!("密码至少需要 {min} 位"),
        auth::CredentialError::PasswordIsUsername => "密码不能与用户名相同".into(),
        auth::CredentialError::BadUsername(_) => {
            "用户名须为 2 到 32 个字母、数字、汉字或 . _ -".into()
        }
        auth::CredentialError::Hash(_) => "密码处理出错".into(),
    }
}

pub(crate) async fn hash_off_thread(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "密码处理出错"))?
        .map_err(|e| AppError::new(StatusCode::INTERNAL_SERVER_ERROR, credential_zh(&e)))
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
    let result = match form.op.as_str() {
        "role" if !is_self => match form.role.as_deref().and_then(Role::parse) {
            Some(r) => state
                .store
                .set_role(&username, r, &actor)
                .await
                .map(|_| format!("已将 {username} 的角色改为{}", r.label_zh())),
            None => {
                return users_page(
                    &state,
                    &user,
                    None,
                    Some("请选择角色".into()),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
        },
        "disable" if !is_self => state
            .store
            .set_disabled(&username, true, &actor)
            .await
            .map(|_| format!("已停用 {username}")),
        "enable" if !is_self => state
            .store
            .set_disabled(&username, false, &actor)
            .await
            .map(|_| format!("已启用 {username}")),
        "password" => {
            let pw = form.password.unwrap_or_default();
            if let Err(e) = auth::check_password(&username, &pw) {
                return users_page(
                    &state,
                    &user,
                    None,
                    Some(credential_zh(&e)),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
            }
            let hash = hash_off_thread(pw).await?;
            state
                .store
                .set_password(&username, &hash, &actor)
                .await
                .map(|_| format!("已重设 {username} 的密码，其登录会话已全部退出"))
        }
        "role" | "disable" | "enable" => {
            return users_page(
                &state,
                &user,
                None,
                Some("不能修改或停用自己的账号".into()),
                StatusCode::FORBIDDEN,
            )
            .await;
        }
        _ => return Err(AppError::bad_request("未知操作")),
    };
    match result {
        Ok(m) => users_page(&state, &user, Some(m), None, StatusCode::OK).await,
        Err(StoreError::NotFound { .. }) => Err(AppError::not_found()),
        Err(e) => Err(e.into()),
    }
}

// ---- own account ------------------------------------------------------------------------

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

// ---- static files -------------------------------------------------------------------------

const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");

pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_CSS,
    )
        .into_response()
}

pub async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_JS,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_refresh_is_made_inert() {
        let html =
            r#"<meta HTTP-EQUIV="refresh" content="0;url=https://evil.example"><p>http-equiv</p>"#;
        let out = neutralise(html);
        assert!(!out.to_ascii_lowercase().contains("http-equiv"));
        assert!(out.contains("data-inert=\"refresh\""));
    }

    #[test]
    fn trends_carry_forward() {
        use crate::store::ScanTrend;
        let s = |id, p: &str, at: &str, flagged| ScanTrend {
            scan_id: id,
            platform: p.into(),
            started_at: at.into(),
            listings: 0,
            flagged,
            by_verdict: vec![],
        };
        let (days, series) = trend_series(&[
            s(1, "jd", "2026-11-01T01:00:00Z", 10),
            s(2, "tmall", "2026-11-02T01:00:00Z", 5),
            s(3, "jd", "2026-11-03T01:00:00Z", 8),
        ]);
        assert_eq!(days, vec!["11-01", "11-02", "11-03"]);
        assert_eq!(
            series,
            vec![
                ("jd".to_string(), vec![10, 10, 8]),
                ("tmall".to_string(), vec![0, 5, 5])
            ]
        );
    }
}
