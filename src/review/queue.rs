//! Review stage: the queue's filters, parsed from (and written back to) the
//! query string: [`QueueParams`] as received, [`QueueParams::parse`] into
//! the [`QueueFilter`] the store reads, [`QueueFilter::query_string`] back.
//! The filter, its sort orders and page cursors, as data, are
//! [`crate::domain::queue`].

use crate::domain::Verdict;
use crate::domain::decision::ReviewState;
use crate::domain::queue::{Cursor, Direction, QueueFilter, Sort, StateFilter};
use serde::{Deserialize, Serialize};

/// The query string as received; every field optional and unparsed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct QueueParams {
    pub platform: Option<String>,
    pub group: Option<String>,
    pub category: Option<String>,
    pub verdict: Option<String>,
    pub min_conf: Option<String>,
    pub max_conf: Option<String>,
    pub scan: Option<String>,
    pub seller: Option<String>,
    pub state: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub after: Option<String>,
    pub before: Option<String>,
    pub per_page: Option<String>,
}

/// A filter value the user cannot have meant, named for the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("筛选条件“{field}”的值无效：{value}")]
pub struct FilterError {
    pub field: &'static str,
    pub value: String,
}

pub const DEFAULT_PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 200;

fn nonblank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl QueueParams {
    /// Parses the parameters. `group_codes` gives the catalog codes of a
    /// product group (None: no such group).
    pub fn parse(
        &self,
        group_codes: impl Fn(&str) -> Option<Vec<String>>,
    ) -> Result<QueueFilter, FilterError> {
        let bad = |field: &'static str, value: &str| FilterError {
            field,
            value: value.chars().take(60).collect(),
        };
        let sort = match nonblank(&self.sort) {
            None => Sort::default(),
            Some(s) => Sort::parse(&s).ok_or_else(|| bad("排序", &s))?,
        };
        let verdict = match nonblank(&self.verdict) {
            None => None,
            Some(v) => Some(Verdict::parse(&v).ok_or_else(|| bad("判定", &v))?),
        };
        let state = match nonblank(&self.state).as_deref() {
            None => StateFilter::One(ReviewState::Pending),
            Some("all") => StateFilter::All,
            Some(s) => StateFilter::One(ReviewState::parse(s).ok_or_else(|| bad("审核状态", s))?),
        };
        let conf = |field, v: &Option<String>| -> Result<Option<f64>, FilterError> {
            match nonblank(v) {
                None => Ok(None),
                Some(s) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|c| (0.0..=1.0).contains(c))
                    .map(Some)
                    .ok_or_else(|| bad(field, &s)),
            }
        };
        let min_conf = conf("最低置信度", &self.min_conf)?;
        let max_conf = conf("最高置信度", &self.max_conf)?;
        let scan_id = match nonblank(&self.scan) {
            None => None,
            Some(s) => Some(
                s.trim_start_matches('#')
                    .parse::<i64>()
                    .map_err(|_| bad("扫描批次", &s))?,
            ),
        };
        let group = nonblank(&self.group);
        let category = nonblank(&self.category);
        let mut categories = Vec::new();
        if let Some(c) = &category {
            if c.len() > 8 || !c.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("产品类别", c));
            }
            categories.push(c.clone());
        } else if let Some(g) = &group {
            categories = group_codes(g).ok_or_else(|| bad("产品大类", g))?;
        }
        let per_page = match nonblank(&self.per_page) {
            None => DEFAULT_PER_PAGE,
            Some(s) => s
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_PER_PAGE).contains(n))
                .ok_or_else(|| bad("每页条数", &s))?,
        };
        let cursor = match (nonblank(&self.after), nonblank(&self.before)) {
            (Some(a), _) => Some((
                Direction::After,
                Cursor::decode(&a, sort).ok_or_else(|| bad("分页位置", &a))?,
            )),
            (None, Some(b)) => Some((
                Direction::Before,
                Cursor::decode(&b, sort).ok_or_else(|| bad("分页位置", &b))?,
            )),
            (None, None) => None,
        };
        let q = nonblank(&self.q).map(|q| q.chars().take(100).collect::<String>());
        let fts = q.as_deref().and_then(crate::text::search::fts_query);
        Ok(QueueFilter {
            platform: nonblank(&self.platform),
            group,
            categories,
            category,
            verdict,
            min_conf,
            max_conf,
            scan_id,
            seller: nonblank(&self.seller),
            state,
            q,
            fts,
            sort,
            cursor,
            per_page,
        })
    }
}

// The filter is data (in `crate::domain::queue`); its query string, and
// what counts as its defaults, are this stage's, kept beside the parser.
impl QueueFilter {
    /// The query string of these filters, without the page position;
    /// `extra` pairs are appended (a cursor, say).
    pub fn query_string(&self, extra: &[(&str, &str)]) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        let mut put = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                s.append_pair(k, v);
            }
        };
        put("platform", self.platform.as_deref());
        put("group", self.group.as_deref());
        put("category", self.category.as_deref());
        put("verdict", self.verdict.map(|v| v.as_str()));
        let min = self.min_conf.map(|c| c.to_string());
        let max = self.max_conf.map(|c| c.to_string());
        put("min_conf", min.as_deref());
        put("max_conf", max.as_deref());
        let scan = self.scan_id.map(|c| c.to_string());
        put("scan", scan.as_deref());
        put("seller", self.seller.as_deref());
        if self.state != StateFilter::One(ReviewState::Pending) {
            put("state", Some(self.state.as_str()));
        }
        put("q", self.q.as_deref());
        if self.sort != Sort::default() {
            put("sort", Some(self.sort.as_str()));
        }
        if self.per_page != DEFAULT_PER_PAGE {
            let n = self.per_page.to_string();
            put("per_page", Some(&n));
        }
        for (k, v) in extra {
            put(k, Some(v));
        }
        s.finish()
    }

    /// Whether anything but the defaults is set.
    pub fn is_filtered(&self) -> bool {
        self.platform.is_some()
            || !self.categories.is_empty()
            || self.verdict.is_some()
            || self.min_conf.is_some()
            || self.max_conf.is_some()
            || self.scan_id.is_some()
            || self.seller.is_some()
            || self.q.is_some()
            || self.state != StateFilter::One(ReviewState::Pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(g: &str) -> Option<Vec<String>> {
        (g == "玩具").then(|| vec!["2201".to_string(), "2202".to_string()])
    }

    #[test]
    fn defaults_and_round_trip() {
        let f = QueueParams::default().parse(groups).unwrap();
        assert_eq!(f.state, StateFilter::One(ReviewState::Pending));
        assert_eq!(f.sort, Sort::ConfDesc);
        assert_eq!(f.per_page, DEFAULT_PER_PAGE);
        assert!(!f.is_filtered());
        let p = QueueParams {
            platform: Some("demo".into()),
            group: Some("玩具".into()),
            verdict: Some("expired".into()),
            q: Some("<b>电热 水壶</b>".into()),
            state: Some("all".into()),
            sort: Some("oldest".into()),
            ..Default::default()
        };
        let f = p.parse(groups).unwrap();
        assert_eq!(f.categories, vec!["2201", "2202"]);
        let qs = f.query_string(&[]);
        let back: QueueParams = serde_urlencoded_from(&qs);
        assert_eq!(back.parse(groups).unwrap(), f);
    }

    fn serde_urlencoded_from(qs: &str) -> QueueParams {
        let mut p = QueueParams::default();
        for (k, v) in url::form_urlencoded::parse(qs.as_bytes()) {
            let v = Some(v.into_owned());
            match &*k {
                "platform" => p.platform = v,
                "group" => p.group = v,
                "verdict" => p.verdict = v,
                "q" => p.q = v,
                "state" => p.state = v,
                "sort" => p.sort = v,
                other => panic!("unexpected {other}"),
            }
        }
        p
    }

    #[test]
    fn bad_values_name_the_field() {
        let e = QueueParams {
            verdict: Some("bogus".into()),
            ..Default::default()
        }
        .parse(groups)
        .unwrap_err();
        assert_eq!(e.field, "判定");
        let e = QueueParams {
            min_conf: Some("1.5".into()),
            ..Default::default()
        }
        .parse(groups)
        .unwrap_err();
        assert_eq!(e.field, "最低置信度");
        let e = QueueParams {
            group: Some("家具".into()),
            ..Default::default()
        }
        .parse(groups)
        .unwrap_err();
        assert_eq!(e.field, "产品大类");
        let e = QueueParams {
            after: Some("x~y".into()),
            ..Default::default()
        }
        .parse(groups)
        .unwrap_err();
        assert_eq!(e.field, "分页位置");
        let e = QueueParams {
            category: Some("12' OR 1".into()),
            ..Default::default()
        }
        .parse(groups)
        .unwrap_err();
        assert_eq!(e.field, "产品类别");
    }
}
