//! Scan history, on the web (扫描记录): the scans with a chart across them
//! (`/scans`), one scan's figures and what changed since the previous scan
//! of its platform (`/scans/{id}`), and any two scans compared
//! (`/scans/{a}/diff/{b}`, or the form at `/scans/diff?a=&b=`). Every
//! signed-in role may read them. Listing text is escaped by the templates.

use super::AppState;
use super::charts;
use super::error::AppError;
use super::layout::{PageResult, layout, page};
use super::session::CurrentUser;
use super::views::{Layout, Opt};
use crate::domain::{CertStatus, RunState, Verdict};
use crate::history::{
    self, HistoryError, ScanDiff, before_zh, flagged_count, judged_counts, resolution_zh, signed,
    verdict_label,
};
use crate::review::auth::Permission;
use crate::store::{DiffList, DiffListing, ScanRecord};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::sync::Arc;

/// Scans the list shows unless asked.
const LIST_DEFAULT: i64 = 30;

#[derive(Debug, Clone)]
pub struct ScanRowView {
    pub id: i64,
    pub platform: String,
    pub state: &'static str,
    pub started: String,
    pub fetched: i64,
    pub failed: i64,
    pub new: i64,
    pub changed: i64,
    pub gone: i64,
    pub flagged: i64,
    pub recorded: &'static str,
    /// Why it did not simply complete (failed pages, unreachable platform).
    pub note: String,
}

#[derive(Template)]
#[template(path = "scans.html")]
pub struct ScansView {
    pub layout: Layout,
    pub platforms: Vec<Opt>,
    pub limit: i64,
    pub rows: Vec<ScanRowView>,
    pub flagged_chart: String,
    pub pages_chart: String,
    pub diff_a: String,
    pub diff_b: String,
}

/// One line of a scan's figures.
#[derive(Debug, Clone)]
pub struct Figure {
    pub label: &'static str,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct ScanFigures {
    pub id: i64,
    pub figures: Vec<Figure>,
    pub judged: Vec<(String, i64)>,
    pub message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct VerdictRow {
    pub label: String,
    pub flagged: bool,
    pub judged_before: i64,
    pub judged_after: i64,
    pub judged_delta: String,
    pub online_before: String,
    pub online_after: String,
    pub online_delta: String,
}

#[derive(Debug, Clone)]
pub struct ListingRow {
    pub listing_id: i64,
    pub item_id: String,
    pub title: String,
    pub seller: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone)]
pub struct ListView {
    pub total: i64,
    pub more: i64,
    pub rows: Vec<ListingRow>,
}

#[derive(Debug, Clone)]
pub struct CertRow {
    pub cert_no: String,
    pub field: &'static str,
    pub old: String,
    pub new: String,
    pub changed_at: String,
    pub listings: i64,
    pub examples: Vec<(i64, String)>,
}

#[derive(Debug, Clone)]
pub struct DiffView {
    pub from: ScanFigures,
    pub to: ScanFigures,
    pub from_time: String,
    pub to_time: String,
    pub swapped: bool,
    pub verdicts: Vec<VerdictRow>,
    pub flagged_before: i64,
    pub flagged_after: i64,
    pub flagged_delta: String,
    pub new_flagged: ListView,
    pub resolved: ListView,
    pub gone: ListView,
    pub certs: Vec<CertRow>,
    pub certs_total: i64,
    pub certs_more: i64,
}

#[derive(Template)]
#[template(path = "scan.html")]
pub struct ScanView {
    pub layout: Layout,
    pub heading: String,
    pub scan: Option<ScanFigures>,
    pub note: Option<&'static str>,
    pub diff: Option<DiffView>,
    /// Live processes working on this scan now, and the hosts they hold for it.
    pub workers: Option<super::schedule::ClusterRows>,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub platform: Option<String>,
    pub limit: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    pub a: Option<String>,
    pub b: Option<String>,
}

impl From<HistoryError> for AppError {
    fn from(e: HistoryError) -> AppError {
        match e {
            HistoryError::Store(e) => e.into(),
            HistoryError::NoSuchScan(id) => {
                AppError::new(StatusCode::NOT_FOUND, format!("扫描 {id} 不存在"))
            }
            HistoryError::SameScan(_) => AppError::bad_request("请选择两次不同的扫描进行比较"),
            HistoryError::Platforms { a, pa, b, pb } => AppError::bad_request(format!(
                "扫描 {a}（{pa}）与扫描 {b}（{pb}）不属于同一平台，无法比较"
            )),
            HistoryError::NotRecorded { id, why } => {
                AppError::bad_request(format!("扫描 {id} 无法比较：{}", why.label_zh()))
            }
        }
    }
}

fn state_label(state: RunState) -> &'static str {
    match crate::scan::outcome::ScanEnd::from_state(state) {
        Some(end) => end.label_zh(),
        None if state == RunState::Running => "进行中",
        // Skipped: a job run's state, never a scan's.
        None => "未知",
    }
}

fn recorded_label(snapshot: Option<&str>) -> &'static str {
    match snapshot {
        Some("kept") => "可比较",
        Some("pruned") => "记录已清理",
        _ => "无记录",
    }
}

/// `2026-11-28T10:00:00.123Z` as `2026-11-28 10:00` (UTC, as stored).
fn short_time(t: &str) -> String {
    t.get(..16).unwrap_or(t).replace('T', " ")
}

fn end_time(s: &ScanRecord) -> String {
    short_time(s.finished_at.as_deref().unwrap_or(&s.started_at))
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> PageResult {
    user.require(Permission::View)?;
    let limit = match q.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => LIST_DEFAULT,
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| AppError::bad_request("显示条数应为 1 至 1000 的整数"))?,
    };
    let platform = q
        .platform
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let scans = state.store.scans(platform, limit).await?;
    let mut options = vec![Opt::new("", "全部平台", platform)];
    options.extend(
        state
            .store
            .scan_platforms()
            .await?
            .into_iter()
            .map(|p| Opt::new(p.clone(), state.platform_label(&p), platform)),
    );
    let (flagged_chart, pages_chart) = charts_of(&scans);
    let rows = scans.iter().map(|s| scan_row(&state, s)).collect();
    let view = ScansView {
        layout: layout(&state, &user, "scans", "扫描记录"),
        platforms: options,
        limit,
        rows,
        flagged_chart,
        pages_chart,
        diff_a: scans.get(1).map(|s| s.id.to_string()).unwrap_or_default(),
        diff_b: scans.first().map(|s| s.id.to_string()).unwrap_or_default(),
    };
    page(&view, StatusCode::OK)
}

fn scan_row(state: &AppState, s: &ScanRecord) -> ScanRowView {
    ScanRowView {
        id: s.id,
        platform: state.platform_label(&s.platform).to_string(),
        state: state_label(s.state),
        started: short_time(&s.started_at),
        fetched: s.pages_fetched,
        failed: s.pages_failed,
        new: s.listings_new,
        changed: s.listings_changed,
        gone: s.listings_gone,
        flagged: flagged_count(s),
        recorded: recorded_label(s.snapshot.as_deref()),
        note: if s.state == RunState::Completed {
            String::new()
        } else {
            s.message.clone().unwrap_or_default()
        },
    }
}

/// Flagged listings judged per completed scan by verdict, and pages
/// fetched per scan, oldest first.
fn charts_of(scans: &[ScanRecord]) -> (String, String) {
    let done: Vec<&ScanRecord> = scans
        .iter()
        .rev()
        .filter(|s| {
            crate::scan::outcome::ScanEnd::from_state(s.state)
                .is_some_and(|e| e.crawled_to_the_end())
        })
        .collect();
    let x: Vec<String> = done.iter().map(|s| format!("#{}", s.id)).collect();
    let series: Vec<(String, Vec<i64>)> = Verdict::ALL
        .into_iter()
        .filter(|v| v.is_flagged())
        .map(|v| {
            let values: Vec<i64> = done
                .iter()
                .map(|s| {
                    judged_counts(s)
                        .iter()
                        .filter(|(k, _)| k == v.as_str())
                        .map(|(_, n)| *n)
                        .sum()
                })
                .collect();
            (v.label_zh().to_string(), values)
        })
        .filter(|(_, values)| values.iter().any(|n| *n > 0))
        .collect();
    let flagged = charts::lines(&x, &series, 900, 240);
    let pages: Vec<(String, i64)> = scans
        .iter()
        .rev()
        .map(|s| (format!("#{}", s.id), s.pages_fetched))
        .collect();
    (flagged, charts::columns(&pages, 900, 180, "#2e86c1"))
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> PageResult {
    user.require(Permission::View)?;
    let s = history::show(&state.store, id).await?;
    let view = ScanView {
        layout: layout(&state, &user, "scans", format!("扫描 {id}")),
        heading: format!("扫描 {id} · {}", state.platform_label(&s.scan.platform)),
        workers: if s.scan.state == crate::domain::RunState::Running {
            Some(workers_on(&state, id).await?)
        } else {
            None
        },
        scan: Some(figures(&s.scan)),
        note: s.why.map(|w| w.label_zh()),
        diff: s.previous.as_ref().map(diff_view),
    };
    page(&view, StatusCode::OK)
}

/// The live processes on scan `id` and the hosts leased for it.
async fn workers_on(state: &AppState, id: i64) -> Result<super::schedule::ClusterRows, AppError> {
    let mut rows = super::schedule::ClusterRows::read(state).await?;
    rows.processes
        .retain(|p| p.scan_id == Some(id) && p.state == "alive");
    rows.leases.retain(|l| l.scan_id == Some(id));
    Ok(rows)
}

pub async fn diff(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Path((a, b)): Path<(i64, i64)>,
) -> PageResult {
    user.require(Permission::View)?;
    let d = history::diff(&state.store, a, b).await?;
    let view = ScanView {
        layout: layout(
            &state,
            &user,
            "scans",
            format!("扫描 {} 与 {} 比较", d.from.id, d.to.id),
        ),
        heading: format!(
            "{} · 扫描 {} 与扫描 {} 比较",
            state.platform_label(&d.platform),
            d.from.id,
            d.to.id
        ),
        scan: None,
        note: None,
        diff: Some(diff_view(&d)),
        workers: None,
    };
    page(&view, StatusCode::OK)
}

/// The comparison form: `/scans/diff?a=&b=` goes to `/scans/{a}/diff/{b}`.
pub async fn diff_form(user: CurrentUser, Query(q): Query<DiffQuery>) -> PageResult {
    user.require(Permission::View)?;
    let id = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .and_then(|s| s.parse::<i64>().ok())
    };
    match (id(&q.a), id(&q.b)) {
        (Some(a), Some(b)) => Ok(Redirect::to(&format!("/scans/{a}/diff/{b}")).into_response()),
        _ => Err(AppError::bad_request("请填写两次扫描的编号（数字）")),
    }
}

fn figures(s: &ScanRecord) -> ScanFigures {
    let f = |label, value: String| Figure { label, value };
    ScanFigures {
        id: s.id,
        figures: vec![
            f("状态", state_label(s.state).to_string()),
            f("判定基准日", s.as_of.clone()),
            f("开始时间（UTC）", short_time(&s.started_at)),
            f(
                "结束时间（UTC）",
                s.finished_at.as_deref().map_or("—".into(), short_time),
            ),
            f("关键词", s.keywords.join("、")),
            f("抓取页面", s.pages_fetched.to_string()),
            f("失败页面", s.pages_failed.to_string()),
            f("重试", s.pages_retried.to_string()),
            f("robots.txt 禁止", s.robots_skipped.to_string()),
            f("请求数", s.requests.to_string()),
            f("新商品", s.listings_new.to_string()),
            f("内容变化", s.listings_changed.to_string()),
            f("无变化", s.listings_unchanged.to_string()),
            f("已下架", s.listings_gone.to_string()),
            f("疑似问题（本次判定）", flagged_count(s).to_string()),
            f(
                "商品记录",
                recorded_label(s.snapshot.as_deref()).to_string(),
            ),
        ],
        judged: judged_counts(s)
            .into_iter()
            .map(|(v, n)| (verdict_label(Some(&v)), n))
            .collect(),
        message: s.message.clone(),
    }
}

fn diff_view(d: &ScanDiff) -> DiffView {
    let verdicts = d
        .judged
        .iter()
        .map(|j| {
            let f = d.flagged.iter().find(|f| f.verdict == j.verdict);
            VerdictRow {
                label: j.label.clone(),
                flagged: f.is_some(),
                judged_before: j.before,
                judged_after: j.after,
                judged_delta: signed(j.delta),
                online_before: f.map_or("—".into(), |f| f.before.to_string()),
                online_after: f.map_or("—".into(), |f| f.after.to_string()),
                online_delta: f.map_or(String::new(), |f| signed(f.delta)),
            }
        })
        .collect();
    let certs = &d.lists.certificates;
    DiffView {
        from: figures(&d.from),
        to: figures(&d.to),
        from_time: end_time(&d.from),
        to_time: end_time(&d.to),
        swapped: d.swapped,
        verdicts,
        flagged_before: d.flagged_before,
        flagged_after: d.flagged_after,
        flagged_delta: signed(d.flagged_after - d.flagged_before),
        new_flagged: list_view(&d.lists.new_flagged, |l| {
            (before_zh(l), verdict_label(l.verdict_after.as_deref()))
        }),
        resolved: list_view(&d.lists.resolved, |l| (before_zh(l), resolution_zh(l))),
        gone: list_view(&d.lists.gone, |l| {
            (
                before_zh(l),
                l.gone_at
                    .as_deref()
                    .map_or("已下架".into(), |t| format!("{} 下架", short_time(t))),
            )
        }),
        certs: certs
            .entries
            .iter()
            .map(|c| CertRow {
                cert_no: c.cert_no.clone(),
                field: if c.field == "status" {
                    "状态"
                } else {
                    "有效期至"
                },
                old: cert_value(&c.field, c.old_value.as_deref()),
                new: cert_value(&c.field, c.new_value.as_deref()),
                changed_at: short_time(&c.changed_at),
                listings: c.listings,
                examples: c.examples.clone(),
            })
            .collect(),
        certs_total: certs.total,
        certs_more: certs.total - certs.entries.len() as i64,
    }
}

fn cert_value(field: &str, v: Option<&str>) -> String {
    match (field, v) {
        (_, None) => "—".into(),
        ("status", Some(s)) => {
            CertStatus::from_db(s).map_or_else(|| s.to_string(), |c| c.label_zh().to_string())
        }
        (_, Some(s)) => s.to_string(),
    }
}

fn list_view(
    list: &DiffList<DiffListing>,
    cells: impl Fn(&DiffListing) -> (String, String),
) -> ListView {
    ListView {
        total: list.total,
        more: list.total - list.entries.len() as i64,
        rows: list
            .entries
            .iter()
            .map(|l| {
                let (before, after) = cells(l);
                ListingRow {
                    listing_id: l.listing_id,
                    item_id: l.item_id.clone(),
                    title: l.title.clone(),
                    seller: l.seller.clone().unwrap_or_default(),
                    before,
                    after,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_errors_become_chinese_pages() {
        let e: AppError = HistoryError::NoSuchScan(9).into();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        let e: AppError = HistoryError::Platforms {
            a: 1,
            pa: "jd".into(),
            b: 2,
            pb: "tmall".into(),
        }
        .into();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(short_time("2026-11-28T10:00:00.123Z"), "2026-11-28 10:00");
        assert_eq!(state_label(RunState::Interrupted), "已中断（可继续）");
        assert_eq!(
            state_label(RunState::CompletedWithErrors),
            "已完成（部分页面失败）"
        );
        assert_eq!(state_label(RunState::Running), "进行中");
    }
}
