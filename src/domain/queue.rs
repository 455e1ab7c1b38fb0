//! The review queue's request as the store reads it. In: a filter parsed
//! from the workspace's query string (`review::queue` does that) or built by
//! a caller; out: which findings to list, in which order ([`Sort`]), from
//! which position ([`Cursor`], [`Direction`]) and how many. Paging is by key
//! (the sort value and the listing id of the last row shown), so page 1,000
//! costs what page 1 costs.

use crate::domain::Verdict;
use crate::domain::decision::ReviewState;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Most certain findings first.
    #[default]
    ConfDesc,
    ConfAsc,
    /// Longest waiting first.
    Oldest,
    Newest,
}

impl Sort {
    pub const ALL: [Sort; 4] = [Sort::ConfDesc, Sort::ConfAsc, Sort::Oldest, Sort::Newest];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::ConfDesc => "conf_desc",
            Sort::ConfAsc => "conf_asc",
            Sort::Oldest => "oldest",
            Sort::Newest => "newest",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Sort::ConfDesc => "置信度从高到低",
            Sort::ConfAsc => "置信度从低到高",
            Sort::Oldest => "等待最久优先",
            Sort::Newest => "最新进入优先",
        }
    }

    /// Whether the sort goes down (both keys descending).
    pub fn descending(self) -> bool {
        matches!(self, Sort::ConfDesc | Sort::Newest)
    }

    pub fn by_confidence(self) -> bool {
        matches!(self, Sort::ConfDesc | Sort::ConfAsc)
    }
}

/// Which review states to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum StateFilter {
    One(ReviewState),
    /// Every flagged finding, decided or not.
    All,
}

impl StateFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::One(s) => s.as_str(),
            StateFilter::All => "all",
        }
    }
}

/// The sort key of a row: confidence or queue time, then listing id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Key {
    Conf(f64),
    Time(String),
}

/// A position in the queue: the key of a row and its listing id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cursor {
    pub key: Key,
    pub id: i64,
}

impl Cursor {
    /// `0.93~1234` or `2026-11-29T01:02:03.000Z~1234`.
    pub fn encode(&self) -> String {
        match &self.key {
            Key::Conf(c) => format!("{c}~{}", self.id),
            Key::Time(t) => format!("{t}~{}", self.id),
        }
    }

    pub fn decode(s: &str, sort: Sort) -> Option<Cursor> {
        let (key, id) = s.rsplit_once('~')?;
        let id = id.parse().ok()?;
        let key = if sort.by_confidence() {
            Key::Conf(key.parse().ok().filter(|c: &f64| c.is_finite())?)
        } else {
            if key.len() > 40
                || !key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-:.+".contains(&b))
            {
                return None;
            }
            Key::Time(key.to_string())
        };
        Some(Cursor { key, id })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Rows after the cursor in sort order (the next page).
    After,
    /// Rows before it (the previous page).
    Before,
}

/// The parsed queue request.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueFilter {
    pub platform: Option<String>,
    pub group: Option<String>,
    /// Catalog codes: the chosen category, or all codes of the chosen group.
    pub categories: Vec<String>,
    pub category: Option<String>,
    pub verdict: Option<Verdict>,
    pub min_conf: Option<f64>,
    pub max_conf: Option<f64>,
    pub scan_id: Option<i64>,
    pub seller: Option<String>,
    pub state: StateFilter,
    /// What the user typed, and the FTS5 query made of it.
    pub q: Option<String>,
    pub fts: Option<String>,
    pub sort: Sort,
    pub cursor: Option<(Direction, Cursor)>,
    pub per_page: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = Cursor {
            key: Key::Conf(0.8500000238418579),
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode(), Sort::ConfDesc), Some(c));
        let t = Cursor {
            key: Key::Time("2026-11-29T01:02:03.456Z".into()),
            id: 7,
        };
        assert_eq!(Cursor::decode(&t.encode(), Sort::Oldest), Some(t));
        assert_eq!(Cursor::decode("nan~1", Sort::ConfDesc), None);
        assert_eq!(Cursor::decode("x' OR 1~1", Sort::Oldest), None);
    }
}
