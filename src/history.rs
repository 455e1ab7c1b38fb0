//! Scan history: every scan keeps its figures, and every completed scan
//! records the listings it left behind (see
//! [`Store::record_scan_listings`]), so any two scans of a platform can be
//! compared: listings newly flagged, resolved (flagged before, not any
//! more, or gone), gone, certificates whose status or expiry changed in
//! between, and counts by verdict in both. In: scan ids; out: [`ScanDiff`]
//! for `cccwatch scans` and the 扫描记录 pages.

use crate::domain::{RunState, Verdict};
use crate::store::{DiffListing, DiffLists, DiffScope, ScanRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("scan {0} does not exist")]
    NoSuchScan(i64),
    #[error("scan {0} compared with itself: give two different scans")]
    SameScan(i64),
    #[error(
        "scans {a} and {b} are of different platforms ({pa} and {pb}): compare two scans of one platform"
    )]
    Platforms {
        a: i64,
        pa: String,
        b: i64,
        pb: String,
    },
    #[error("scan {id} cannot be compared: {why}")]
    NotRecorded { id: i64, why: NoComparison },
}

/// Why a scan has no comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoComparison {
    /// Interrupted, failed or still running: its listings were not recorded.
    Incomplete,
    /// Completed before scan history was kept.
    BeforeHistory,
    /// Its recorded listings were removed by `retention.scan_history_days`.
    Pruned,
    /// No earlier recorded scan of the platform (for `scans show`).
    NoPrevious,
}

impl std::fmt::Display for NoComparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NoComparison::Incomplete => "it did not complete, so its listings were not recorded",
            NoComparison::BeforeHistory => {
                "its listings were not recorded (it ran before scan history was kept)"
            }
            NoComparison::Pruned => {
                "its recorded listings were removed by retention (retention.scan_history_days)"
            }
            NoComparison::NoPrevious => "no earlier completed scan of this platform was recorded",
        })
    }
}

impl NoComparison {
    pub fn label_zh(self) -> &'static str {
        match self {
            NoComparison::Incomplete => "该次扫描未完成，未记录商品状态",
            NoComparison::BeforeHistory => "该次扫描早于扫描记录功能，未记录商品状态",
            NoComparison::Pruned => {
                "该次扫描的商品记录已按保存期限清理（retention.scan_history_days）"
            }
            NoComparison::NoPrevious => "该平台此前没有已完成并有记录的扫描",
        }
    }
}

/// One verdict's count in two scans.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerdictDelta {
    pub verdict: String,
    pub label: String,
    pub before: i64,
    pub after: i64,
    pub delta: i64,
}

/// What changed from one scan of a platform to a later one.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScanDiff {
    pub platform: String,
    /// The earlier scan.
    pub from: ScanRecord,
    /// The later scan.
    pub to: ScanRecord,
    /// True when the scans were given later first (they are compared in time order).
    pub swapped: bool,
    /// Listings each scan judged, by verdict (the scans' own figures).
    pub judged: Vec<VerdictDelta>,
    /// Listings flagged and online at the end of each scan, by verdict.
    pub flagged: Vec<VerdictDelta>,
    pub flagged_before: i64,
    pub flagged_after: i64,
    #[serde(flatten)]
    pub lists: DiffLists,
}

/// A scan with its comparison against the previous recorded scan of its platform.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScanShow {
    pub scan: ScanRecord,
    /// Why there is no comparison, when there is none.
    pub note: Option<String>,
    #[serde(skip)]
    pub why: Option<NoComparison>,
    pub previous: Option<ScanDiff>,
}

/// The Chinese name of a verdict code; `None` is 未判定.
pub fn verdict_label(v: Option<&str>) -> String {
    match v {
        None => "未判定".into(),
        Some(s) => Verdict::parse(s).map_or_else(|| s.to_string(), |v| v.label_zh().to_string()),
    }
}

/// A scan's listings judged, by verdict, from its stored figures.
pub fn judged_counts(scan: &ScanRecord) -> Vec<(String, i64)> {
    scan.findings
        .as_ref()
        .and_then(|f| f.as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// How many listings a scan judged to be flagged.
pub fn flagged_count(scan: &ScanRecord) -> i64 {
    judged_counts(scan)
        .iter()
        .filter(|(v, _)| Verdict::parse(v).is_some_and(Verdict::is_flagged))
        .map(|(_, n)| n)
        .sum()
}

/// Counts by verdict in two scans, in the order of [`Verdict::ALL`] (only
/// flagged verdicts with `flagged_only`), then any unknown codes.
pub fn verdict_deltas(
    before: &[(String, i64)],
    after: &[(String, i64)],
    flagged_only: bool,
) -> Vec<VerdictDelta> {
    let get = |list: &[(String, i64)], v: &str| {
        list.iter()
            .filter(|(k, _)| k == v)
            .map(|(_, n)| *n)
            .sum::<i64>()
    };
    let mut codes: Vec<String> = Verdict::ALL
        .into_iter()
        .filter(|v| !flagged_only || v.is_flagged())
        .map(|v| v.as_str().to_string())
        .collect();
    for (k, _) in before.iter().chain(after) {
        if !codes.contains(k) && (!flagged_only || Verdict::parse(k).is_none()) {
            codes.push(k.clone());
        }
    }
    codes
        .into_iter()
        .map(|v| {
            let (b, a) = (get(before, &v), get(after, &v));
            VerdictDelta {
                label: verdict_label(Some(&v)),
                verdict: v,
                before: b,
                after: a,
                delta: a - b,
            }
        })
        .collect()
}

/// What a listing was at the earlier scan, in Chinese: its verdict, or,
/// when not recorded then, new (first seen later) or not flagged.
pub fn before_zh(l: &DiffListing) -> String {
    match (l.verdict_before.as_deref(), l.new_listing) {
        (Some(v), _) => verdict_label(Some(v)),
        (None, true) => "新商品".into(),
        (None, false) => "非疑似问题".into(),
    }
}

/// What became of a resolved listing, in Chinese: gone, or its new verdict.
pub fn resolution_zh(l: &DiffListing) -> String {
    if l.state_after == "gone" {
        return "已下架（不再在线）".into();
    }
    match l.verdict_after.as_deref() {
        Some(v) if Verdict::parse(v).is_some_and(Verdict::is_flagged) => {
            format!("仍为{}，但未在本次扫描中确认在线", verdict_label(Some(v)))
        }
        v => format!("结论变为：{}", verdict_label(v)),
    }
}

/// A signed count: `+3`, `-2`, `0`.
pub fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// Why a scan cannot be compared, if it cannot.
fn not_recorded(scan: &ScanRecord) -> Option<NoComparison> {
    match (scan.snapshot.as_deref(), scan.state) {
        (Some("kept"), _) => None,
        (Some("pruned"), _) => Some(NoComparison::Pruned),
        (_, RunState::Completed) => Some(NoComparison::BeforeHistory),
        (_, _) => Some(NoComparison::Incomplete),
    }
}

async fn scan(store: &Store, id: i64) -> Result<ScanRecord, HistoryError> {
    store.scan(id).await?.ok_or(HistoryError::NoSuchScan(id))
}

/// Compares two scans of one platform (in time order whatever the order given).
pub async fn diff(store: &Store, a: i64, b: i64) -> Result<ScanDiff, HistoryError> {
    if a == b {
        return Err(HistoryError::SameScan(a));
    }
    let (sa, sb) = (scan(store, a).await?, scan(store, b).await?);
    if sa.platform != sb.platform {
        return Err(HistoryError::Platforms {
            a,
            pa: sa.platform,
            b,
            pb: sb.platform,
        });
    }
    let swapped = a > b;
    let (from, to) = if swapped { (sb, sa) } else { (sa, sb) };
    for s in [&from, &to] {
        if let Some(why) = not_recorded(s) {
            return Err(HistoryError::NotRecorded { id: s.id, why });
        }
    }
    let end = |s: &ScanRecord| {
        s.finished_at
            .clone()
            .unwrap_or_else(|| s.started_at.clone())
    };
    let (a_end, b_end) = (end(&from), end(&to));
    let mut lists = store
        .scan_diff_lists(DiffScope {
            platform: &from.platform,
            a: from.id,
            b: to.id,
            a_end: &a_end,
            b_end: &b_end,
        })
        .await?;
    for list in [&mut lists.new_flagged, &mut lists.resolved, &mut lists.gone] {
        for l in &mut list.entries {
            l.new_listing = l.first_seen_at > a_end;
        }
    }
    let sum = |l: &[(String, i64)]| l.iter().map(|(_, n)| n).sum::<i64>();
    Ok(ScanDiff {
        platform: from.platform.clone(),
        judged: verdict_deltas(&judged_counts(&from), &judged_counts(&to), false),
        flagged: verdict_deltas(&lists.flagged_before, &lists.flagged_after, true),
        flagged_before: sum(&lists.flagged_before),
        flagged_after: sum(&lists.flagged_after),
        from,
        to,
        swapped,
        lists,
    })
}

/// A scan and its comparison with the previous recorded scan of its platform.
pub async fn show(store: &Store, id: i64) -> Result<ScanShow, HistoryError> {
    let scan = scan(store, id).await?;
    let why = match not_recorded(&scan) {
        Some(why) => Some(why),
        None => match store.previous_recorded_scan(id).await? {
            Some(prev) => {
                let previous = diff(store, prev.id, id).await?;
                return Ok(ScanShow {
                    scan,
                    note: None,
                    why: None,
                    previous: Some(previous),
                });
            }
            None => Some(NoComparison::NoPrevious),
        },
    };
    Ok(ScanShow {
        scan,
        note: why.map(|w| format!("no comparison: {w}")),
        why,
        previous: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(findings: serde_json::Value) -> ScanRecord {
        ScanRecord {
            findings: Some(findings),
            ..Default::default()
        }
    }

    #[test]
    fn flagged_counts_only_flagged_verdicts() {
        let s = rec(
            serde_json::json!({"compliant": 10, "uncertified": 3, "revoked": 2, "not_in_scope": 7}),
        );
        assert_eq!(flagged_count(&s), 5);
        assert_eq!(flagged_count(&ScanRecord::default()), 0);
    }

    #[test]
    fn deltas_follow_the_verdict_order_and_keep_unknown_codes() {
        let before = vec![("uncertified".to_string(), 3), ("compliant".to_string(), 5)];
        let after = vec![
            ("uncertified".to_string(), 1),
            ("revoked".to_string(), 2),
            ("weird".to_string(), 1),
        ];
        let all = verdict_deltas(&before, &after, false);
        assert_eq!(all.len(), Verdict::ALL.len() + 1);
        assert_eq!(all[0].verdict, Verdict::ALL[0].as_str());
        let u = all.iter().find(|d| d.verdict == "uncertified").unwrap();
        assert_eq!((u.before, u.after, u.delta), (3, 1, -2));
        let c = all.iter().find(|d| d.verdict == "compliant").unwrap();
        assert_eq!((c.before, c.after, c.delta), (5, 0, -5));
        assert_eq!(all.last().unwrap().label, "weird");
        let flagged = verdict_deltas(&before, &after, true);
        assert!(flagged.iter().all(|d| d.verdict != "compliant"));
        assert!(flagged.iter().any(|d| d.verdict == "weird"));
        assert_eq!(flagged.iter().map(|d| d.delta).sum::<i64>(), 1);
    }

    #[test]
    fn resolutions_say_gone_or_the_new_verdict() {
        let mut l = DiffListing {
            listing_id: 1,
            item_id: "1".into(),
            title: String::new(),
            seller: None,
            url: None,
            verdict_before: Some("uncertified".into()),
            verdict_after: Some("compliant".into()),
            state_after: "online".into(),
            ..Default::default()
        };
        assert_eq!(resolution_zh(&l), "结论变为：合规");
        l.state_after = "gone".into();
        assert!(resolution_zh(&l).contains("下架"));
        l.state_after = "online".into();
        l.verdict_after = None;
        assert_eq!(resolution_zh(&l), "结论变为：未判定");
        assert_eq!(before_zh(&l), "未获认证");
        l.verdict_before = None;
        assert_eq!(before_zh(&l), "非疑似问题");
        l.new_listing = true;
        assert_eq!(before_zh(&l), "新商品");
    }

    #[test]
    fn scans_not_recorded_say_why() {
        let mut s = ScanRecord {
            state: RunState::Interrupted,
            ..Default::default()
        };
        assert_eq!(not_recorded(&s), Some(NoComparison::Incomplete));
        s.state = RunState::Completed;
        assert_eq!(not_recorded(&s), Some(NoComparison::BeforeHistory));
        s.snapshot = Some("pruned".into());
        let why = not_recorded(&s).unwrap();
        assert!(why.to_string().contains("retention") && why.label_zh().contains("清理"));
        s.snapshot = Some("kept".into());
        assert!(not_recorded(&s).is_none());
        assert_eq!(signed(3), "+3");
        assert_eq!(signed(-2), "-2");
        assert_eq!(signed(0), "0");
    }
}
