//! Review stage, on the web: what happened to a listing, for its page. In:
//! the finding's detail and the listing's id; out: the evidence page and
//! every capture of the listing, the decisions taken on it, the notices
//! that named it, and one timeline (newest first) of sightings, captures,
//! content changes and verdict changes.

use super::AppState;
use super::error::AppError;
use super::labels::notice_state;
use super::views::{
    CaptureView, DecisionView, EvidenceView, NoticeStepView, TimelineView, local_time, size_text,
};
use crate::domain::Verdict;
use crate::domain::decision::{Action, DismissReason, Measure};
use crate::store::{CaptureRow, DecisionRow, FindingDetail, HistoryRow, VerdictChange};

/// The page the finding was judged on.
pub(crate) fn evidence_view(d: &FindingDetail) -> Option<EvidenceView> {
    d.page.as_ref().map(|p| EvidenceView {
        page_id: p.id,
        fetched_at: local_time(&p.fetched_at),
        sha256: p.sha256.clone(),
        url: p.url.clone(),
        final_url: p.final_url.clone(),
        status: p.status,
        encoding: p.encoding.clone().unwrap_or_else(|| "未知".into()),
        size: size_text(p.body_len),
    })
}

/// Every capture of the listing, the one judged on marked.
pub(crate) fn capture_views(d: &FindingDetail, captures: &[CaptureRow]) -> Vec<CaptureView> {
    captures
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
        .collect()
}

/// The decisions on listing `id`.
pub(crate) async fn decision_views(
    state: &AppState,
    id: i64,
) -> Result<Vec<DecisionView>, AppError> {
    Ok(state
        .store
        .decisions_for(id)
        .await?
        .into_iter()
        .map(decision_view)
        .collect())
}

fn decision_view(r: DecisionRow) -> DecisionView {
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
}

/// The notices about listing `id` (or naming it as a relist).
pub(crate) async fn notice_step_views(
    state: &AppState,
    id: i64,
) -> Result<Vec<NoticeStepView>, AppError> {
    Ok(state
        .store
        .notice_steps(id)
        .await?
        .into_iter()
        .map(|e| NoticeStepView {
            number: e.number,
            batch_id: e.batch_id,
            at: local_time(&e.at),
            state: notice_state(&e.state).0,
            how: match crate::notice::how_label(e.note.as_deref()) {
                "" => e.note.unwrap_or_default(),
                how => how.to_string(),
            },
            page_id: e.page_id,
            relist_id: e.listing_id.filter(|l| *l != id),
            actor: e.actor,
        })
        .collect())
}

/// A timeline entry with the time it is sorted by.
type Dated = (String, TimelineView);

fn event(at: &str, what: impl Into<String>, detail: impl Into<String>) -> Dated {
    (
        at.to_string(),
        TimelineView {
            at: local_time(at),
            what: what.into(),
            detail: detail.into(),
        },
    )
}

/// Everything that happened to the listing, newest first.
pub(crate) async fn timeline(
    state: &AppState,
    d: &FindingDetail,
    captures: &[CaptureRow],
) -> Result<Vec<TimelineView>, AppError> {
    let id = d.listing.id;
    let mut items: Vec<Dated> = vec![event(&d.first_seen_at, "首次发现", "")];
    if let Some(g) = &d.gone_at {
        items.push(event(g, "商品已下架 / 不可访问", ""));
    }
    items.extend(captures.iter().map(capture_event));
    for h in state.store.listing_history(id).await? {
        items.push(change_event(d, &h));
    }
    for v in state.store.verdict_history(id).await? {
        items.push(verdict_event(&v));
    }
    items.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(items.into_iter().map(|(_, t)| t).collect())
}

fn capture_event(c: &CaptureRow) -> Dated {
    event(
        &c.fetched_at,
        format!("扫描 #{} 抓取页面（HTTP {}）", c.scan_id, c.status),
        format!("SHA-256 {}…", &c.sha256[..c.sha256.len().min(16)]),
    )
}

/// A change of the listing's content: what each changed field said before.
fn change_event(d: &FindingDetail, h: &HistoryRow) -> Dated {
    let l = &d.listing.listing;
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
    let detail = if changed.is_empty() {
        "参数或描述有变化".into()
    } else {
        changed.join("；")
    };
    event(&h.changed_at, "商品信息变更", detail)
}

fn verdict_event(v: &VerdictChange) -> Dated {
    let label = |s: &str| {
        Verdict::parse(s)
            .map(|v| v.label_zh().to_string())
            .unwrap_or_else(|| s.to_string())
    };
    let what = match &v.old_verdict {
        None => format!("首次判定：{}", label(&v.new_verdict)),
        Some(o) => format!("判定变化：{} → {}", label(o), label(&v.new_verdict)),
    };
    event(&v.changed_at, what, format!("比对批次 #{}", v.run_id))
}
