//! Report stage, on the web: the printable monthly statistics report with
//! its charts and definitions (`/reports/monthly`), the same report as an
//! XLSX attachment (`/reports/monthly.xlsx`), and the seller risk ranking
//! (`/reports/sellers`), each seller linked to its findings in the queue.
//! Every logged-in role may read them.

use super::AppState;
use super::charts;
use super::error::AppError;
use super::layout::{PageResult, layout, page};
use super::session::CurrentUser;
use super::views::{Layout, Opt};
use crate::report::monthly::{self, MonthlyReport, PlatformFigures, flagged_verdicts};
use crate::report::sellers::{self, SellerRisk};
use crate::report::{self as rep, Month, xlsx};
use crate::review::auth::Permission;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
pub struct MonthQuery {
    pub month: Option<String>,
}

/// A row of a table, as text; `total` rows are emphasised.
#[derive(Debug, Clone)]
pub struct TextRow {
    pub label: String,
    pub cells: Vec<String>,
    pub total: bool,
}

#[derive(Template)]
#[template(path = "report_monthly.html")]
pub struct MonthlyView {
    pub layout: Layout,
    pub month: String,
    pub month_label: String,
    pub prev: String,
    pub next: String,
    pub generated_at: String,
    pub xlsx_href: String,
    pub total: PlatformFigures,
    pub rate: String,
    pub median: String,
    pub summary_heads: Vec<&'static str>,
    pub summary: Vec<TextRow>,
    pub verdict_heads: Vec<String>,
    pub verdicts: Vec<TextRow>,
    pub group_heads: Vec<String>,
    pub groups: Vec<TextRow>,
    pub notice_heads: Vec<&'static str>,
    pub notices: Vec<TextRow>,
    pub verdict_chart: String,
    pub notice_chart: String,
    pub group_chart: String,
    pub definitions: Vec<(&'static str, &'static str)>,
}

#[derive(Debug, Clone)]
pub struct SellerRowView {
    pub rank: usize,
    pub platform: String,
    pub seller: String,
    /// The queue filtered to this seller; `None` for listings without one.
    pub href: Option<String>,
    pub confirmed: i64,
    pub overdue: i64,
    pub relisted: i64,
    pub under_notice: i64,
    pub score: i64,
}

#[derive(Template)]
#[template(path = "report_sellers.html")]
pub struct SellersView {
    pub layout: Layout,
    pub platforms: Vec<Opt>,
    pub limit: usize,
    pub rows: Vec<SellerRowView>,
    pub formula: &'static str,
}

/// The month asked for, the one containing `now` when none.
fn month_of(q: &MonthQuery, now: chrono::DateTime<chrono::Utc>) -> Result<Month, AppError> {
    match q.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => Ok(Month::containing(now)),
        Some(m) => m
            .parse()
            .map_err(|_| AppError::bad_request("月份格式应为 YYYY-MM，例如 2026-11")),
    }
}

pub async fn index(_user: CurrentUser) -> Redirect {
    Redirect::to("/reports/monthly")
}

async fn report_of(state: &AppState, q: &MonthQuery) -> Result<MonthlyReport, AppError> {
    let month = month_of(q, state.store.now())?;
    Ok(rep::monthly_report(&state.store, &state.catalog, &state.platforms, month).await?)
}

pub async fn monthly_page(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Query(q): Query<MonthQuery>,
) -> PageResult {
    user.require(Permission::View)?;
    let r = report_of(&state, &q).await?;
    let month: Month = r.month.parse().map_err(|_| AppError::not_found())?;
    let view = MonthlyView {
        layout: layout(&state, &user, "reports", format!("{} 月报", r.month_label)),
        prev: month.previous().to_string(),
        next: month.next().to_string(),
        xlsx_href: format!("/reports/monthly.xlsx?month={}", r.month),
        rate: monthly::percent(r.total.removal_rate),
        median: monthly::days(r.total.median_days_to_removal),
        summary_heads: xlsx::SUMMARY_COLUMNS[1..].to_vec(),
        summary: all_rows(&r, summary_cells),
        verdict_heads: r
            .platforms
            .iter()
            .map(|p| p.label.clone())
            .chain([monthly::TOTAL.to_string()])
            .collect(),
        verdicts: verdict_rows(&r),
        group_heads: flagged_verdicts()
            .iter()
            .map(|v| v.label_zh().to_string())
            .chain([monthly::TOTAL.to_string()])
            .collect(),
        groups: group_rows(&r),
        notice_heads: xlsx::NOTICE_COLUMNS[1..].to_vec(),
        notices: all_rows(&r, notice_cells),
        verdict_chart: verdict_chart(&r),
        notice_chart: notice_chart(&r),
        group_chart: group_chart(&r),
        definitions: monthly::DEFINITIONS.to_vec(),
        month: r.month.clone(),
        month_label: r.month_label.clone(),
        generated_at: r.generated_at.clone(),
        total: r.total.clone(),
    };
    page(&view, StatusCode::OK)
}

pub async fn monthly_xlsx(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Query(q): Query<MonthQuery>,
) -> PageResult {
    user.require(Permission::View)?;
    let r = report_of(&state, &q).await?;
    let bytes = xlsx::monthly(&r).map_err(|e| {
        tracing::error!(error = %e, month = %r.month, "writing the monthly workbook failed");
        AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "生成报表文件出错")
    })?;
    let disposition = format!(
        "attachment; filename=\"report-{m}.xlsx\"; filename*=UTF-8''{}",
        percent_encode(&rep::monthly_file_name(&r.month)),
        m = r.month
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// RFC 5987 encoding of a file name: unreserved ASCII as is, the rest as %XX.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn all_rows(r: &MonthlyReport, cells: fn(&PlatformFigures) -> Vec<String>) -> Vec<TextRow> {
    r.platforms
        .iter()
        .chain([&r.total])
        .map(|p| TextRow {
            label: p.label.clone(),
            cells: cells(p),
            total: p.platform == monthly::TOTAL,
        })
        .collect()
}

fn summary_cells(p: &PlatformFigures) -> Vec<String> {
    let mut cells: Vec<String> = p.summary_counts().iter().map(i64::to_string).collect();
    cells.push(monthly::percent(p.removal_rate));
    cells.push(monthly::days(p.median_days_to_removal));
    cells
}

fn notice_cells(p: &PlatformFigures) -> Vec<String> {
    vec![
        p.batches.to_string(),
        if p.numbers.is_empty() {
            "—".into()
        } else {
            p.numbers.join("、")
        },
        p.noticed.to_string(),
        p.noticed_removed.to_string(),
        monthly::percent(p.removal_rate),
        p.removed.to_string(),
        monthly::days(p.median_days_to_removal),
        p.overdue.to_string(),
        p.relisted.to_string(),
    ]
}

fn verdict_rows(r: &MonthlyReport) -> Vec<TextRow> {
    let mut rows: Vec<TextRow> = flagged_verdicts()
        .iter()
        .enumerate()
        .map(|(k, v)| TextRow {
            label: v.label_zh().to_string(),
            cells: r
                .platforms
                .iter()
                .chain([&r.total])
                .map(|p| p.by_verdict[k].to_string())
                .collect(),
            total: false,
        })
        .collect();
    rows.push(TextRow {
        label: monthly::TOTAL.into(),
        cells: r
            .platforms
            .iter()
            .chain([&r.total])
            .map(|p| p.flagged.to_string())
            .collect(),
        total: true,
    });
    rows
}

fn group_rows(r: &MonthlyReport) -> Vec<TextRow> {
    let mut rows: Vec<TextRow> = r
        .groups
        .iter()
        .map(|g| TextRow {
            label: g.group.clone(),
            cells: g
                .by_verdict
                .iter()
                .chain([&g.total])
                .map(i64::to_string)
                .collect(),
            total: false,
        })
        .collect();
    rows.push(TextRow {
        label: monthly::TOTAL.into(),
        cells: r
            .total
            .by_verdict
            .iter()
            .chain([&r.total.flagged])
            .map(i64::to_string)
            .collect(),
        total: true,
    });
    rows
}

/// Flagged listings by verdict, one stacked bar per platform.
fn verdict_chart(r: &MonthlyReport) -> String {
    let names: Vec<&str> = flagged_verdicts().iter().map(|v| v.label_zh()).collect();
    let series: Vec<(&str, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, charts::PALETTE[i % charts::PALETTE.len()]))
        .collect();
    let rows: Vec<(String, Vec<i64>)> = r
        .platforms
        .iter()
        .map(|p| (p.label.clone(), p.by_verdict.clone()))
        .collect();
    charts::stacked_hbars(&rows, &series, 900)
}

/// What became of the month's notices, per platform.
fn notice_chart(r: &MonthlyReport) -> String {
    let series = [
        ("核实下架", "#27ae60"),
        ("逾期未下架", "#c0392b"),
        ("重新上架", "#8e44ad"),
    ];
    let rows: Vec<(String, Vec<i64>)> = r
        .platforms
        .iter()
        .map(|p| (p.label.clone(), vec![p.removed, p.overdue, p.relisted]))
        .collect();
    charts::stacked_hbars(&rows, &series, 440)
}

fn group_chart(r: &MonthlyReport) -> String {
    charts::hbars(
        &r.groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                (
                    g.group.clone(),
                    g.total,
                    charts::PALETTE[i % charts::PALETTE.len()],
                )
            })
            .collect::<Vec<_>>(),
        440,
    )
}

#[derive(Debug, Deserialize)]
pub struct SellersQuery {
    pub platform: Option<String>,
    pub limit: Option<String>,
}

/// How many sellers the page shows unless asked.
pub const SELLERS_DEFAULT: usize = 100;

pub async fn sellers_page(
    State(state): State<Arc<AppState>>,
    user: CurrentUser,
    Query(q): Query<SellersQuery>,
) -> PageResult {
    user.require(Permission::View)?;
    let limit = match q.limit.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => SELLERS_DEFAULT,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| AppError::bad_request("显示条数应为 1 至 10000 的整数"))?,
    };
    let platform = q
        .platform
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let counts = state.store.seller_counts(None).await?;
    let mut platforms: Vec<String> = counts.iter().map(|c| c.platform.clone()).collect();
    platforms.dedup();
    let mut options = vec![Opt::new("", "全部平台", platform)];
    options.extend(
        platforms
            .iter()
            .map(|p| Opt::new(p.clone(), state.platform_label(p), platform)),
    );
    let counts = counts
        .into_iter()
        .filter(|c| platform.is_none_or(|p| c.platform == p))
        .collect();
    let rows = sellers::rank(counts, Some(limit))
        .iter()
        .map(|r| seller_row(&state, r))
        .collect();
    let view = SellersView {
        layout: layout(&state, &user, "reports", "商家风险排名"),
        platforms: options,
        limit,
        rows,
        formula: sellers::SCORE_FORMULA_ZH,
    };
    page(&view, StatusCode::OK)
}

fn seller_row(state: &AppState, r: &SellerRisk) -> SellerRowView {
    SellerRowView {
        rank: r.rank,
        platform: state.platform_label(&r.platform).to_string(),
        seller: r.seller_label().to_string(),
        href: r.seller.as_deref().map(|s| {
            format!(
                "/queue?{}",
                serde_urlencoded::to_string([
                    ("seller", s),
                    ("platform", r.platform.as_str()),
                    ("state", "all"),
                ])
                .unwrap_or_default()
            )
        }),
        confirmed: r.confirmed,
        overdue: r.overdue,
        relisted: r.relisted,
        under_notice: r.under_notice,
        score: r.score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_percent_encoded() {
        assert_eq!(
            percent_encode("月报-2026-11.xlsx"),
            "%E6%9C%88%E6%8A%A5-2026-11.xlsx"
        );
        assert_eq!(percent_encode("a b\"c"), "a%20b%22c");
    }

    #[test]
    fn a_bad_month_is_a_bad_request() {
        let q = MonthQuery {
            month: Some("2026-13".into()),
        };
        let now = "2026-11-30T17:00:00Z".parse().unwrap();
        assert_eq!(
            month_of(&q, now).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        let q = MonthQuery {
            month: Some(" ".into()),
        };
        assert_eq!(
            month_of(&q, now).unwrap().to_string(),
            "2026-12",
            "the month in Beijing"
        );
    }
}
