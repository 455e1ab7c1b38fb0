//! Review stage, on the web: the dashboard. In: the dashboard figures
//! (cached by [`AppState::dashboard`]); out: the counts by review state,
//! the charts (verdicts, states, backlog age, product groups, the flagged
//! trend per platform, decisions per day) and the tables that link each
//! count to the queue showing it.

use super::AppState;
use super::charts;
use super::layout::{PageResult, layout, page};
use super::session::CurrentUser;
use super::views::{CountRow, DashboardView, PlatformRow, local_time, verdict_class};
use crate::domain::Verdict;
use crate::domain::decision::ReviewState;
use crate::review::auth::Permission;
use crate::store::{DashboardData, ScanTrend};
use axum::extract::State;
use axum::http::StatusCode;
use std::sync::Arc;

pub async fn dashboard(State(state): State<Arc<AppState>>, user: CurrentUser) -> PageResult {
    user.require(Permission::View)?;
    let data = state.dashboard().await?;
    let count = |s: &str| state_count(&data, s);
    let groups = group_totals(&state, &data);
    let heads: Vec<Verdict> = Verdict::ALL
        .into_iter()
        .filter(|v| v.is_flagged())
        .collect();
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
        verdict_chart: verdict_chart(&data),
        state_chart: state_chart(&data),
        age_chart: age_chart(&data),
        trend_chart: trend_chart(&state, &data),
        decisions_chart: decisions_chart(&state, &data),
        group_chart: group_chart(&groups),
        by_verdict: verdict_rows(&data),
        by_group: group_rows(&groups),
        verdict_heads: heads.iter().map(|v| v.label_zh().to_string()).collect(),
        platforms: platform_rows(&state, &data, &heads),
        computed_at: local_time(&data.computed_at),
        scans: data.scans.len(),
    };
    page(&view, StatusCode::OK)
}

/// Findings in review state `s`.
fn state_count(data: &DashboardData, s: &str) -> i64 {
    data.by_state
        .iter()
        .find(|(k, _)| k == s)
        .map(|(_, n)| *n)
        .unwrap_or(0)
}

/// A verdict's colour in the charts, after its class in the tables.
fn verdict_colour(v: Verdict) -> &'static str {
    match verdict_class(v) {
        "v-warn" => "#d68910",
        "v-bad" => "#c0392b",
        "v-ok" => "#27ae60",
        _ => "#7f8c8d",
    }
}

/// Findings by flagged verdict.
fn verdict_chart(data: &DashboardData) -> String {
    let flagged_verdicts: Vec<(Verdict, i64)> = data
        .by_verdict
        .iter()
        .filter_map(|(v, n)| {
            Verdict::parse(v)
                .filter(|v| v.is_flagged())
                .map(|v| (v, *n))
        })
        .collect();
    charts::hbars(
        &flagged_verdicts
            .iter()
            .map(|(v, n)| (v.label_zh().to_string(), *n, verdict_colour(*v)))
            .collect::<Vec<_>>(),
        440,
    )
}

/// Findings by review state.
fn state_chart(data: &DashboardData) -> String {
    charts::hbars(
        &ReviewState::ALL
            .into_iter()
            .map(|s| {
                let c = match s {
                    ReviewState::Pending => "#2e86c1",
                    ReviewState::NeedInfo => "#d68910",
                    ReviewState::Confirmed => "#c0392b",
                    ReviewState::Dismissed => "#7f8c8d",
                };
                (s.label_zh().to_string(), state_count(data, s.as_str()), c)
            })
            .collect::<Vec<_>>(),
        440,
    )
}

/// The backlog by days in the queue.
fn age_chart(data: &DashboardData) -> String {
    charts::columns(
        &data
            .backlog_age
            .iter()
            .map(|(l, n)| (l.to_string(), *n))
            .collect::<Vec<_>>(),
        440,
        180,
        "#2e86c1",
    )
}

/// Findings by product group, largest first.
fn group_totals(state: &AppState, data: &DashboardData) -> Vec<(String, i64)> {
    let mut groups: Vec<(String, i64)> = Vec::new();
    for (code, n) in &data.by_category {
        let g = state.group_of(code.as_deref());
        match groups.iter_mut().find(|(k, _)| *k == g) {
            Some(e) => e.1 += n,
            None => groups.push((g, *n)),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.1));
    groups
}

fn group_chart(groups: &[(String, i64)]) -> String {
    charts::hbars(
        &groups
            .iter()
            .enumerate()
            .map(|(i, (g, n))| (g.clone(), *n, charts::PALETTE[i % charts::PALETTE.len()]))
            .collect::<Vec<_>>(),
        440,
    )
}

/// Flagged listings per platform (named for people) by scan day.
fn trend_chart(state: &AppState, data: &DashboardData) -> String {
    let (days, mut series) = trend_series(&data.scans);
    for (platform, _) in &mut series {
        *platform = state.platform_label(platform).to_string();
    }
    charts::lines(&days, &series, 900, 240)
}

/// Decisions per day over the last 30 days (by the store's clock).
fn decisions_chart(state: &AppState, data: &DashboardData) -> String {
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
    charts::columns(&decisions_days, 900, 180, "#27ae60")
}

/// Findings by verdict, each linking to the queue of that verdict.
fn verdict_rows(data: &DashboardData) -> Vec<CountRow> {
    data.by_verdict
        .iter()
        .filter_map(|(v, n)| Verdict::parse(v).map(|v| (v, *n)))
        .map(|(v, n)| CountRow {
            label: v.label_zh().to_string(),
            href: format!("/queue?state=all&verdict={}", v.as_str()),
            count: n,
            class: verdict_class(v),
        })
        .collect()
}

/// Findings by product group, each linking to the queue of that group.
fn group_rows(groups: &[(String, i64)]) -> Vec<CountRow> {
    groups
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
        .collect()
}

/// Flagged findings by platform (rows) and verdict (`heads`, columns).
fn platform_rows(state: &AppState, data: &DashboardData, heads: &[Verdict]) -> Vec<PlatformRow> {
    let mut platforms: Vec<PlatformRow> = Vec::new();
    for (p, v, n) in &data.by_platform {
        if !platforms.iter().any(|r| r.platform == *p) {
            platforms.push(empty_platform_row(state, p, heads));
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
    platforms
}

/// Platform `p`'s row with no findings counted yet, its links in place.
fn empty_platform_row(state: &AppState, p: &str, heads: &[Verdict]) -> PlatformRow {
    PlatformRow {
        platform: p.to_string(),
        label: state.platform_label(p).to_string(),
        href: format!(
            "/queue?{}",
            serde_urlencoded::to_string([("platform", p), ("state", "all")]).unwrap_or_default()
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
                            ("platform", p),
                            ("verdict", h.as_str()),
                            ("state", "all")
                        ])
                        .unwrap_or_default()
                    ),
                )
            })
            .collect(),
    }
}

/// Flagged listings per platform by scan day, carrying each platform's last
/// figure forward over days it was not scanned.
pub fn trend_series(scans: &[ScanTrend]) -> (Vec<String>, Vec<(String, Vec<i64>)>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trends_carry_forward() {
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
