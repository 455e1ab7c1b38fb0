//! Report stage: the monthly statistics report assembled from the month's
//! raw figures (`Store::month_figures`): per platform and in total, the
//! listings checked, findings by verdict and product group, decisions,
//! notices, verified removals, overdue notices and relists. Pure: no I/O.

use super::Month;
use crate::certdb::Catalog;
use crate::domain::Verdict;
use crate::store::MonthFigures;
use serde::Serialize;

/// The flagged verdicts, in the order of every table.
pub fn flagged_verdicts() -> Vec<Verdict> {
    Verdict::ALL
        .into_iter()
        .filter(|v| v.is_flagged())
        .collect()
}

/// The label of listings without a catalog code.
pub const UNGROUPED: &str = "（未归类）";

/// The row label of the totals.
pub const TOTAL: &str = "合计";

/// One platform's figures (or the totals). See [`DEFINITIONS`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlatformFigures {
    pub platform: String,
    /// Its name for people (京东; [`TOTAL`] for the totals).
    pub label: String,
    pub scans: i64,
    pub checked: i64,
    /// Checked listings flagged at the end of the month.
    pub flagged: i64,
    /// Checked listings by flagged verdict at the end of the month, in the
    /// order of [`flagged_verdicts`].
    pub by_verdict: Vec<i64>,
    /// Checked listings not judged by the end of the month.
    pub unjudged: i64,
    pub newly_flagged: i64,
    pub confirmed: i64,
    pub dismissed: i64,
    pub batches: i64,
    pub noticed: i64,
    /// Of `noticed`, verified removed now.
    pub noticed_removed: i64,
    pub removed: i64,
    pub overdue: i64,
    pub relisted: i64,
    /// `noticed_removed / noticed`.
    pub removal_rate: Option<f64>,
    pub median_days_to_removal: Option<f64>,
    /// The numbers of the notices issued in the month.
    pub numbers: Vec<String>,
    #[serde(skip)]
    removal_days: Vec<f64>,
}

impl PlatformFigures {
    /// The summary's counts, in the order of its columns (scans … relisted).
    pub fn summary_counts(&self) -> [i64; 12] {
        [
            self.scans,
            self.checked,
            self.flagged,
            self.unjudged,
            self.newly_flagged,
            self.confirmed,
            self.dismissed,
            self.batches,
            self.noticed,
            self.removed,
            self.overdue,
            self.relisted,
        ]
    }
}

/// Flagged listings of one product group by verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRow {
    pub group: String,
    /// In the order of [`flagged_verdicts`].
    pub by_verdict: Vec<i64>,
    pub total: i64,
}

/// The month's report.
#[derive(Debug, Clone, Serialize)]
pub struct MonthlyReport {
    pub month: String,
    pub month_label: String,
    /// Local time (UTC+8) the report was made, `YYYY-MM-DD HH:MM`.
    pub generated_at: String,
    pub platforms: Vec<PlatformFigures>,
    pub total: PlatformFigures,
    pub groups: Vec<GroupRow>,
}

/// What each figure means (指标, 定义): on the page, in the XLSX and in the README.
pub const DEFINITIONS: [(&str, &str); 14] = [
    (
        "统计月份",
        "按北京时间（UTC+8）计，自当月1日0时起至次月1日0时止；系统中的时间以 UTC 保存，统计时换算。",
    ),
    (
        "扫描次数",
        "本月开始的平台抓取任务数（含中断、失败的任务）。",
    ),
    (
        "检查商品数",
        "本月有记录表明被看到的商品数（按平台与商品编号去重）：本月抓取过其商品页（含已下架商品的 404 或下架页面），或其首次、最近一次被抓取或由平台数据接口导入的时间在本月。仅从搜索结果页或数据接口获得、且本月之后又被看到的商品，系统不保留其在本月的记录，不计入。",
    ),
    (
        "问题商品",
        "检查商品中，截至月末最后一次判定为问题类判定（未获认证、证书编号不存在、证书与商品不符、证书已过期、已暂停、已撤销、已注销）的商品数；按判定细分见“发现问题”表。月末尚无判定的计为“未判定”。",
    ),
    (
        "新发现问题商品",
        "本月内判定由无判定、合规或不属于目录变为问题类判定的商品数（按商品去重）。",
    ),
    (
        "确认违规 / 排除",
        "本月作出审核决定的商品，以该商品本月最后一次决定为准，分别计“确认违规”和“排除”（“需补充信息”不计）。",
    ),
    (
        "产品类别",
        "问题商品按当前判定的产品目录编码归入产品大类（目录 certdb/catalog.toml）；无目录编码的计“（未归类）”。",
    ),
    ("通知书份数", "本月发出的下架通知书份数。"),
    ("通知商品数", "本月发出的通知书所列商品数。"),
    (
        "核实下架",
        "通知状态为“已核实下架”、且发现商品下架的时间在本月的通知商品数。其后又重新上架的改计入“重新上架”。",
    ),
    (
        "逾期未下架",
        "截至报表生成时仍处于逾期（整改期限已过仍在线）状态、且整改期限在本月末之前的通知商品数（按商品去重）。",
    ),
    (
        "重新上架",
        "核实下架后又被发现在线、且发现时间在本月的通知商品数（按商品去重）。",
    ),
    (
        "下架率",
        "本月发出的通知所列商品中，截至报表生成时已核实下架的比例。",
    ),
    (
        "下架用时中位数（天）",
        "本月核实下架的商品，自通知书发出至发现下架所经天数的中位数。",
    ),
];

impl PlatformFigures {
    fn new(platform: &str, verdicts: usize) -> PlatformFigures {
        PlatformFigures {
            platform: platform.to_string(),
            label: platform.to_string(),
            by_verdict: vec![0; verdicts],
            ..PlatformFigures::default()
        }
    }

    fn add(&mut self, o: &PlatformFigures) {
        let sums = [
            (&mut self.scans, o.scans),
            (&mut self.checked, o.checked),
            (&mut self.flagged, o.flagged),
            (&mut self.unjudged, o.unjudged),
            (&mut self.newly_flagged, o.newly_flagged),
            (&mut self.confirmed, o.confirmed),
            (&mut self.dismissed, o.dismissed),
            (&mut self.batches, o.batches),
            (&mut self.noticed, o.noticed),
            (&mut self.noticed_removed, o.noticed_removed),
            (&mut self.removed, o.removed),
            (&mut self.overdue, o.overdue),
            (&mut self.relisted, o.relisted),
        ];
        for (a, b) in sums {
            *a += b;
        }
        for (a, b) in self.by_verdict.iter_mut().zip(&o.by_verdict) {
            *a += b;
        }
        self.numbers.extend(o.numbers.iter().cloned());
        self.removal_days.extend(o.removal_days.iter().copied());
    }

    fn finish(&mut self) {
        self.removal_rate =
            (self.noticed > 0).then(|| self.noticed_removed as f64 / self.noticed as f64);
        self.median_days_to_removal = median(&mut self.removal_days);
    }
}

/// The median, `None` of nothing.
pub fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => None,
        n if n % 2 == 1 => Some(values[n / 2]),
        n => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// Days between two RFC 3339 timestamps, `None` when either is unreadable.
fn days_between(from: &str, to: &str) -> Option<f64> {
    let a = chrono::DateTime::parse_from_rfc3339(from).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(to).ok()?;
    Some((b - a).num_seconds().max(0) as f64 / 86_400.0)
}

/// The product group of a catalog code.
pub fn group_of(catalog: &Catalog, code: Option<&str>) -> String {
    code.and_then(|c| catalog.entry(c))
        .map(|e| e.group.clone())
        .unwrap_or_else(|| UNGROUPED.to_string())
}

/// Assembles the report of `month` from its raw figures.
pub fn assemble(
    month: Month,
    figures: &MonthFigures,
    catalog: &Catalog,
    generated_at: chrono::DateTime<chrono::Utc>,
) -> MonthlyReport {
    let verdicts = flagged_verdicts();
    let mut rows: Vec<PlatformFigures> = Vec::new();
    let mut row = |p: &str| -> usize {
        match rows.iter().position(|r| r.platform == p) {
            Some(i) => i,
            None => {
                rows.push(PlatformFigures::new(p, verdicts.len()));
                rows.len() - 1
            }
        }
    };
    let mut groups: Vec<GroupRow> = Vec::new();
    let mut parts: Vec<(usize, Part)> = Vec::new();
    for (p, n) in &figures.scans {
        parts.push((row(p), Part::Scans(*n)));
    }
    for c in &figures.checked {
        let verdict = c.verdict.as_deref().and_then(Verdict::parse);
        parts.push((row(&c.platform), Part::Checked(verdict, c.listings)));
        if let Some(k) = verdict.and_then(|v| verdicts.iter().position(|x| *x == v)) {
            let g = group_of(catalog, c.category_code.as_deref());
            let i = match groups.iter().position(|r| r.group == g) {
                Some(i) => i,
                None => {
                    groups.push(GroupRow {
                        group: g,
                        by_verdict: vec![0; verdicts.len()],
                        total: 0,
                    });
                    groups.len() - 1
                }
            };
            groups[i].by_verdict[k] += c.listings;
            groups[i].total += c.listings;
        }
    }
    for (p, n) in &figures.newly_flagged {
        parts.push((row(p), Part::NewlyFlagged(*n)));
    }
    for (p, action, n) in &figures.decisions {
        parts.push((row(p), Part::Decision(action.clone(), *n)));
    }
    for b in &figures.batches {
        parts.push((
            row(&b.platform),
            Part::Batch(b.number.clone(), b.listings, b.removed_now),
        ));
    }
    for r in &figures.removals {
        parts.push((
            row(&r.platform),
            Part::Removal(days_between(&r.issued_at, &r.removed_at)),
        ));
    }
    for (p, n) in &figures.overdue {
        parts.push((row(p), Part::Overdue(*n)));
    }
    for (p, n) in &figures.relisted {
        parts.push((row(p), Part::Relisted(*n)));
    }
    for (i, part) in parts {
        part.apply(&mut rows[i], &verdicts);
    }
    rows.sort_by(|a, b| a.platform.cmp(&b.platform));
    let mut total = PlatformFigures::new(TOTAL, verdicts.len());
    for r in &mut rows {
        total.add(r);
        r.finish();
    }
    total.finish();
    sort_groups(&mut groups, catalog);
    MonthlyReport {
        month: month.to_string(),
        month_label: month.label_zh(),
        generated_at: generated_at
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset"))
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        platforms: rows,
        total,
        groups,
    }
}

/// One raw figure, on its way into a platform's row.
enum Part {
    Scans(i64),
    Checked(Option<Verdict>, i64),
    NewlyFlagged(i64),
    Decision(String, i64),
    Batch(String, i64, i64),
    Removal(Option<f64>),
    Overdue(i64),
    Relisted(i64),
}

impl Part {
    fn apply(self, r: &mut PlatformFigures, verdicts: &[Verdict]) {
        match self {
            Part::Scans(n) => r.scans += n,
            Part::Checked(v, n) => {
                r.checked += n;
                match v {
                    None => r.unjudged += n,
                    Some(v) => {
                        if let Some(k) = verdicts.iter().position(|x| *x == v) {
                            r.by_verdict[k] += n;
                            r.flagged += n;
                        }
                    }
                }
            }
            Part::NewlyFlagged(n) => r.newly_flagged += n,
            Part::Decision(action, n) => match action.as_str() {
                "confirm" => r.confirmed += n,
                "dismiss" => r.dismissed += n,
                _ => {}
            },
            Part::Batch(number, listings, removed) => {
                r.batches += 1;
                r.noticed += listings;
                r.noticed_removed += removed;
                r.numbers.push(number);
            }
            Part::Removal(days) => {
                r.removed += 1;
                r.removal_days.extend(days);
            }
            Part::Overdue(n) => r.overdue += n,
            Part::Relisted(n) => r.relisted += n,
        }
    }
}

/// Catalog order, the ungrouped last.
fn sort_groups(groups: &mut [GroupRow], catalog: &Catalog) {
    let order = |g: &str| {
        catalog
            .entries()
            .iter()
            .position(|e| e.group == g)
            .unwrap_or(usize::MAX)
    };
    groups.sort_by_key(|g| order(&g.group));
}

/// `66.7%`, or `—` when there is no rate.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or("—".to_string(), |r| format!("{:.1}%", r * 100.0))
}

/// `3.5`, or `—`.
pub fn days(d: Option<f64>) -> String {
    d.map_or("—".to_string(), |d| format!("{d:.1}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CheckedCount, IssuedBatch, VerifiedRemoval};

    fn figures() -> MonthFigures {
        let checked = |p: &str, v: Option<&str>, code: Option<&str>, n| CheckedCount {
            platform: p.into(),
            verdict: v.map(str::to_string),
            category_code: code.map(str::to_string),
            listings: n,
        };
        MonthFigures {
            scans: vec![("jd".into(), 2), ("demo".into(), 1)],
            checked: vec![
                checked("demo", Some("compliant"), Some("0201"), 10),
                checked("demo", Some("uncertified"), Some("0201"), 3),
                checked("demo", Some("expired"), None, 2),
                checked("demo", None, None, 1),
                checked("jd", Some("uncertified"), Some("0201"), 4),
            ],
            newly_flagged: vec![("demo".into(), 5)],
            decisions: vec![
                ("demo".into(), "confirm".into(), 3),
                ("demo".into(), "need_info".into(), 7),
                ("jd".into(), "dismiss".into(), 1),
            ],
            batches: vec![IssuedBatch {
                platform: "demo".into(),
                number: "1号".into(),
                listings: 3,
                removed_now: 2,
            }],
            removals: vec![
                VerifiedRemoval {
                    platform: "demo".into(),
                    issued_at: "2026-11-01T00:00:00Z".into(),
                    removed_at: "2026-11-02T00:00:00Z".into(),
                },
                VerifiedRemoval {
                    platform: "demo".into(),
                    issued_at: "2026-11-01T00:00:00Z".into(),
                    removed_at: "2026-11-05T00:00:00Z".into(),
                },
                VerifiedRemoval {
                    platform: "jd".into(),
                    issued_at: "2026-10-01T00:00:00Z".into(),
                    removed_at: "2026-11-11T00:00:00Z".into(),
                },
            ],
            overdue: vec![("demo".into(), 1)],
            relisted: vec![("jd".into(), 2)],
        }
    }

    #[test]
    fn figures_add_up_per_platform_and_in_total() {
        let month = Month::new(2026, 11).unwrap();
        let r = assemble(month, &figures(), &Catalog::embedded(), chrono::Utc::now());
        assert_eq!(r.platforms.len(), 2);
        let demo = &r.platforms[0];
        assert_eq!(demo.platform, "demo");
        assert_eq!(
            (demo.scans, demo.checked, demo.flagged, demo.unjudged),
            (1, 16, 5, 1)
        );
        let k = |v: Verdict| flagged_verdicts().iter().position(|x| *x == v).unwrap();
        assert_eq!(demo.by_verdict[k(Verdict::Uncertified)], 3);
        assert_eq!(demo.by_verdict[k(Verdict::Expired)], 2);
        assert_eq!(
            (demo.confirmed, demo.dismissed, demo.newly_flagged),
            (3, 0, 5)
        );
        assert_eq!(
            (demo.batches, demo.noticed, demo.removed, demo.overdue),
            (1, 3, 2, 1)
        );
        assert_eq!(demo.removal_rate, Some(2.0 / 3.0));
        assert_eq!(demo.median_days_to_removal, Some(2.5));
        let jd = &r.platforms[1];
        assert_eq!(
            (jd.removal_rate, jd.median_days_to_removal),
            (None, Some(41.0))
        );
        let t = &r.total;
        assert_eq!(
            (t.platform.as_str(), t.scans, t.checked, t.flagged),
            (TOTAL, 3, 20, 9)
        );
        assert_eq!((t.removed, t.relisted, t.dismissed), (3, 2, 1));
        assert_eq!(
            t.median_days_to_removal,
            Some(4.0),
            "over every removal, not per platform"
        );
        // Groups: the socket code's group, then the ungrouped.
        assert_eq!(r.groups.len(), 2);
        assert_eq!(r.groups[0].total, 7);
        assert_eq!(r.groups[1].group, UNGROUPED);
        assert_eq!(r.groups[1].by_verdict[k(Verdict::Expired)], 2);
    }

    #[test]
    fn medians_and_labels() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0]), Some(2.5));
        assert_eq!(percent(Some(2.0 / 3.0)), "66.7%");
        assert_eq!(percent(None), "—");
        assert_eq!(days(Some(2.25)), "2.2");
    }
}
