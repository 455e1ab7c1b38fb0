//! Where a run stands: a scan (`scans.state`) or a scheduled job's run
//! (`job_runs.state`). Stored, serialised (`scans --json`, `schedule run
//! --json`, the API) and shown in `/metrics` as the same snake_case words.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The state of a scan or of a job run.
///
/// Scans take every state but [`RunState::Skipped`]: a scan that could not
/// start is not recorded (the PostgreSQL schema's CHECK on `scans.state`
/// refuses it). Job runs take all six: a run is skipped when the previous
/// one is still going, or when every platform it would scan is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Started and not ended (or its process died; see `--resume`).
    #[default]
    Running,
    /// Every page was fetched (or refused by robots.txt, or gone).
    Completed,
    /// Some pages failed for good, fewer than the share tolerated.
    CompletedWithErrors,
    /// Stopped before the end; resumable.
    Interrupted,
    /// The platform could not be reached, too many pages failed, or the job
    /// itself failed.
    Failed,
    /// Job runs only: not started, because its work was already going.
    Skipped,
}

impl RunState {
    pub const ALL: [RunState; 6] = [
        RunState::Running,
        RunState::Completed,
        RunState::CompletedWithErrors,
        RunState::Interrupted,
        RunState::Failed,
        RunState::Skipped,
    ];

    /// The stored word.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Completed => "completed",
            RunState::CompletedWithErrors => "completed_with_errors",
            RunState::Interrupted => "interrupted",
            RunState::Failed => "failed",
            RunState::Skipped => "skipped",
        }
    }

    /// Whether the run has ended (any state but `running`).
    pub fn is_finished(self) -> bool {
        self != RunState::Running
    }
}

impl fmt::Display for RunState {
    /// The stored word; honours width and alignment (`{:<21}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A state word that is not one of [`RunState::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown run state `{0}` (expected running, completed, completed_with_errors, interrupted, failed or skipped)"
)]
pub struct UnknownRunState(pub String);

impl FromStr for RunState {
    type Err = UnknownRunState;

    fn from_str(s: &str) -> Result<RunState, UnknownRunState> {
        RunState::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRunState(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_round_trips() {
        for s in RunState::ALL {
            assert_eq!(s.as_str().parse::<RunState>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<RunState>(&json).unwrap(), s);
        }
        let words: std::collections::HashSet<&str> =
            RunState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(words.len(), RunState::ALL.len());
    }

    #[test]
    fn a_bad_word_is_named() {
        let e = "Completed".parse::<RunState>().unwrap_err();
        assert_eq!(e, UnknownRunState("Completed".into()));
        assert!(e.to_string().contains("`Completed`"), "{e}");
        assert!(" running".parse::<RunState>().is_err());
        assert!("".parse::<RunState>().is_err());
    }

    #[test]
    fn pads_like_a_str() {
        assert_eq!(format!("{:<11}|", RunState::Failed), "failed     |");
        assert_eq!(format!("{:>8}", RunState::Skipped), " skipped");
    }
}
