//! Scan stage: how a scan ended, decided from its frontier.
//!
//! In: the frontier's counts at the end of a run, whether it was stopped,
//! and the share of failed pages tolerated (`crawl.max_failed_share`). Out:
//! a [`ScanEnd`] — completed, completed with errors, failed or stopped —
//! with its stored state, its Chinese label, its exit code and, when it did
//! not simply complete, the sentence that says why. A failed scan must never
//! look like a good one: the summary, the scan history, the schedule page
//! and `/metrics` all read the same [`ScanEnd`].

use crate::domain::RunState;
use crate::store::FrontierCounts;

/// How a scan run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScanEnd {
    /// Every page was fetched (or refused by robots.txt, or gone).
    Completed,
    /// Some pages failed for good, fewer than the share tolerated.
    CompletedWithErrors,
    /// Stopped before the frontier was empty; `--resume` continues.
    Stopped,
    /// The platform could not be reached, or too many pages failed.
    Failed,
}

/// Exit codes of `cccwatch scan` (also `schedule run`), documented in `--help`
/// and the README.
pub mod exit {
    pub const COMPLETED: u8 = 0;
    /// Some pages failed; the rest were fetched and matched.
    pub const COMPLETED_WITH_ERRORS: u8 = 4;
    /// Stopped before the end; resumable.
    pub const STOPPED: u8 = 3;
    /// The platform could not be reached, or too many pages failed.
    pub const FAILED: u8 = 5;
}

impl ScanEnd {
    /// The state stored in `scans.state` (and `/metrics`' `outcome` label).
    pub fn state(self) -> RunState {
        match self {
            ScanEnd::Completed => RunState::Completed,
            ScanEnd::CompletedWithErrors => RunState::CompletedWithErrors,
            ScanEnd::Stopped => RunState::Interrupted,
            ScanEnd::Failed => RunState::Failed,
        }
    }

    /// The stored state read back; `None` for `running` (not ended) and
    /// `skipped` (never a scan's).
    pub fn from_state(state: RunState) -> Option<ScanEnd> {
        Some(match state {
            RunState::Completed => ScanEnd::Completed,
            RunState::CompletedWithErrors => ScanEnd::CompletedWithErrors,
            RunState::Interrupted => ScanEnd::Stopped,
            RunState::Failed => ScanEnd::Failed,
            RunState::Running | RunState::Skipped => return None,
        })
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ScanEnd::Completed => "已完成",
            ScanEnd::CompletedWithErrors => "已完成（部分页面失败）",
            ScanEnd::Stopped => "已中断（可继续）",
            ScanEnd::Failed => "失败",
        }
    }

    pub fn exit_code(self) -> u8 {
        match self {
            ScanEnd::Completed => exit::COMPLETED,
            ScanEnd::CompletedWithErrors => exit::COMPLETED_WITH_ERRORS,
            ScanEnd::Stopped => exit::STOPPED,
            ScanEnd::Failed => exit::FAILED,
        }
    }

    /// Whether the listings it saw were matched (the crawl reached its end).
    pub fn crawled_to_the_end(self) -> bool {
        matches!(self, ScanEnd::Completed | ScanEnd::CompletedWithErrors)
    }
}

/// The end of a run and, unless it simply completed, why.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub end: ScanEnd,
    pub why: Option<String>,
}

/// Decides how a run ended from its frontier at the end.
///
/// Pages that answered are `done` and `gone`; pages refused by robots.txt
/// are the platform's wish, not a failure, but a scan that could fetch
/// nothing at all did not audit anything and fails.
pub fn judge(f: &FrontierCounts, stopped: bool, max_failed_share: f64) -> Judged {
    let answered = f.done + f.gone;
    let tried = answered + f.failed;
    if stopped || f.open() > 0 {
        return Judged {
            end: ScanEnd::Stopped,
            why: Some("在抓取完成前停止；运行 `cccwatch scan --resume` 继续".into()),
        };
    }
    if answered == 0 && f.failed > 0 {
        return Judged {
            end: ScanEnd::Failed,
            why: Some(format!("平台无法访问：{} 个页面全部失败", f.failed)),
        };
    }
    if answered == 0 && f.robots > 0 {
        return Judged {
            end: ScanEnd::Failed,
            why: Some(format!(
                "robots.txt 禁止抓取全部 {} 个页面，未能检查任何商品",
                f.robots
            )),
        };
    }
    if answered == 0 {
        return Judged {
            end: ScanEnd::Failed,
            why: Some("没有抓取到任何页面".into()),
        };
    }
    if f.failed == 0 {
        return Judged {
            end: ScanEnd::Completed,
            why: None,
        };
    }
    let share = f.failed as f64 / tried as f64;
    let pct = |x: f64| format!("{:.0}%", x * 100.0);
    if share > max_failed_share {
        Judged {
            end: ScanEnd::Failed,
            why: Some(format!(
                "{} 个页面中有 {} 个失败（{}），超过允许的 {}（crawl.max_failed_share）",
                tried,
                f.failed,
                pct(share),
                pct(max_failed_share)
            )),
        }
    } else {
        Judged {
            end: ScanEnd::CompletedWithErrors,
            why: Some(format!(
                "{} 个页面中有 {} 个失败（{}）",
                tried,
                f.failed,
                pct(share)
            )),
        }
    }
}

/// The worst of several ends: what one exit code reports for many platforms.
pub fn worst(ends: impl IntoIterator<Item = ScanEnd>) -> Option<ScanEnd> {
    ends.into_iter().max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(done: i64, failed: i64, robots: i64, pending: i64) -> FrontierCounts {
        FrontierCounts {
            done,
            failed,
            robots,
            pending,
            ..FrontierCounts::default()
        }
    }

    #[test]
    fn ends_by_what_the_frontier_holds() {
        let j = |c: FrontierCounts| judge(&c, false, 0.2).end;
        assert_eq!(j(counts(10, 0, 0, 0)), ScanEnd::Completed);
        assert_eq!(j(counts(10, 0, 3, 0)), ScanEnd::Completed);
        assert_eq!(j(counts(9, 1, 0, 0)), ScanEnd::CompletedWithErrors);
        assert_eq!(j(counts(7, 3, 0, 0)), ScanEnd::Failed);
        assert_eq!(j(counts(0, 5, 0, 0)), ScanEnd::Failed);
        assert_eq!(j(counts(0, 0, 5, 0)), ScanEnd::Failed);
        assert_eq!(j(counts(0, 0, 0, 0)), ScanEnd::Failed);
        assert_eq!(j(counts(5, 0, 0, 2)), ScanEnd::Stopped);
        assert_eq!(judge(&counts(10, 0, 0, 0), true, 0.2).end, ScanEnd::Stopped);
    }

    #[test]
    fn the_reason_names_the_counts() {
        let why = judge(&counts(0, 4, 0, 0), false, 0.2).why.unwrap();
        assert!(why.contains("平台无法访问") && why.contains('4'), "{why}");
        let why = judge(&counts(8, 2, 0, 0), false, 0.1).why.unwrap();
        assert!(
            why.contains("20%") && why.contains("max_failed_share"),
            "{why}"
        );
    }

    #[test]
    fn states_round_trip_and_the_worst_wins() {
        for e in [
            ScanEnd::Completed,
            ScanEnd::CompletedWithErrors,
            ScanEnd::Stopped,
            ScanEnd::Failed,
        ] {
            assert_eq!(ScanEnd::from_state(e.state()), Some(e));
        }
        assert_eq!(ScanEnd::from_state(RunState::Running), None);
        assert_eq!(ScanEnd::from_state(RunState::Skipped), None);
        assert_eq!(
            worst([ScanEnd::Completed, ScanEnd::Failed, ScanEnd::Stopped]),
            Some(ScanEnd::Failed)
        );
        let codes: std::collections::HashSet<u8> = [
            ScanEnd::Completed,
            ScanEnd::CompletedWithErrors,
            ScanEnd::Stopped,
            ScanEnd::Failed,
        ]
        .iter()
        .map(|e| e.exit_code())
        .collect();
        assert_eq!(codes.len(), 4);
    }
}
