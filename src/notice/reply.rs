//! Act stage, replies: a platform answers a notice by returning the list
//! (`list.xlsx` or `list.csv`) with its result and date filled in, or any
//! table with the item ID and the result. Replies are recorded per listing;
//! rows that cannot be used are reported with their row number.

use super::list::{Field, ListTemplate};
use crate::store::{Ack, AckRefused, Store, StoreError};
use crate::tabular::{Table, TableError, cell};
use serde::Serialize;
use std::path::Path;

/// Headers the item ID may have.
pub const ITEM_HEADERS: &[&str] = &["平台商品编号", "商品编号", "商品ID", "item_id", "itemid"];
/// Headers the platform's result may have.
pub const RESULT_HEADERS: &[&str] = &[
    "平台处理结果",
    "处理结果",
    "处理情况",
    "平台回复",
    "回复",
    "result",
];
/// Headers the date the platform acted may have.
pub const DATE_HEADERS: &[&str] = &["处理日期", "处理时间", "下架时间", "date"];

#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{path}: 没有平台处理结果列，应为 {wanted} 之一 (no column for the platform's result, one of {wanted}); 表头的列为 (the header has): {found}"
    )]
    NoResultColumn {
        path: String,
        wanted: String,
        found: String,
    },
}

/// A row that was not recorded, and why (in Chinese, for the user).
#[derive(Debug, Clone, Serialize)]
pub struct RowProblem {
    pub line: u64,
    pub item_id: Option<String>,
    pub problem: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplyReport {
    pub recorded: usize,
    /// Rows left blank by the platform (no result yet).
    pub blank: usize,
    pub problems: Vec<RowProblem>,
}

/// The headers looked for: the list layout's own (`list.toml`, which the
/// bureau may have renamed) first, then the usual names.
fn names<'a>(list: &'a ListTemplate, field: Field, usual: &[&'a str]) -> Vec<&'a str> {
    list.header_of(field)
        .into_iter()
        .chain(usual.iter().copied())
        .collect()
}

/// Reads the replies in `path` and records them against batch `batch_id`.
pub async fn import(
    store: &Store,
    batch_id: i64,
    path: &Path,
    list: &ListTemplate,
    source_name: &str,
    by: &str,
) -> Result<ReplyReport, ReplyError> {
    let table = Table::read(path, &names(list, Field::ItemId, ITEM_HEADERS))?;
    let (acks, mut report) = parse(&table, list)?;
    record(store, batch_id, acks, source_name, by, &mut report).await?;
    Ok(report)
}

/// Records replies typed in (the batch page's form) or parsed from a file.
pub async fn record(
    store: &Store,
    batch_id: i64,
    acks: Vec<(u64, Ack)>,
    source: &str,
    by: &str,
    report: &mut ReplyReport,
) -> Result<(), StoreError> {
    let only: Vec<Ack> = acks.iter().map(|(_, a)| a.clone()).collect();
    let outcome = store.record_acks(batch_id, &only, by, source).await?;
    for ((line, ack), refused) in acks.into_iter().zip(outcome) {
        match refused {
            None => report.recorded += 1,
            Some(AckRefused::NotInBatch) => report.problems.push(RowProblem {
                line,
                item_id: Some(ack.item_id),
                problem: "该商品编号不在本批通知中".into(),
            }),
        }
    }
    Ok(())
}

/// The replies of a table, with the rows that cannot be used.
pub fn parse(
    table: &Table,
    list: &ListTemplate,
) -> Result<(Vec<(u64, Ack)>, ReplyReport), ReplyError> {
    let item = table.column(&names(list, Field::ItemId, ITEM_HEADERS));
    let results = names(list, Field::ReplyResult, RESULT_HEADERS);
    let result = table
        .column(&results)
        .ok_or_else(|| ReplyError::NoResultColumn {
            path: table.path.display().to_string(),
            wanted: results.join(" / "),
            found: table
                .headers
                .iter()
                .map(|h| h.trim())
                .filter(|h| !h.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let date = table.column(&names(list, Field::ReplyDate, DATE_HEADERS));
    let mut report = ReplyReport::default();
    let mut acks = Vec::new();
    for (line, row) in &table.rows {
        let problem = |p: &str, id: Option<&str>| RowProblem {
            line: *line,
            item_id: id.map(str::to_string),
            problem: p.to_string(),
        };
        let Some(id) = cell(row, item) else {
            report.problems.push(problem("缺少平台商品编号", None));
            continue;
        };
        let Some(text) = cell(row, Some(result)) else {
            report.blank += 1;
            continue;
        };
        let at = match cell(row, date) {
            None => None,
            Some(d) => match parse_date(d) {
                Some(d) => Some(d),
                None => {
                    report.problems.push(problem(
                        &format!("处理日期“{d}”无法识别（应为 2026-12-01 或 2026/12/1）"),
                        Some(id),
                    ));
                    continue;
                }
            },
        };
        acks.push((
            *line,
            Ack {
                item_id: id.to_string(),
                text: text.chars().take(500).collect(),
                at,
            },
        ));
    }
    Ok((acks, report))
}

/// `2026-12-01`, `2026/12/1`, `2026.12.1`, `2026年12月1日`, optionally with
/// a time after a space, as `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<String> {
    let day = s.split_whitespace().next()?;
    crate::text::dates::parse_date(day).map(|d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&[&str]]) -> Table {
        let raw = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (i as u64 + 1, r.iter().map(|s| s.to_string()).collect()))
            .collect();
        Table::from_rows(Path::new("reply.xlsx"), raw, ITEM_HEADERS).unwrap()
    }

    #[test]
    fn reads_a_returned_list() {
        let t = table(&[
            &[
                "序号",
                "平台商品编号",
                "商品标题",
                "平台处理结果（由平台填写）",
                "处理日期（由平台填写）",
            ],
            &["1", "1001", "插座", "已下架", "2026/12/1"],
            &["2", "1002", "插座", "", ""],
            &["3", "", "插座", "已下架", ""],
            &["4", "1004", "插座", "已整改", "明天"],
            &["5", "1005", "插座", "已要求商家整改", "2026-12-02 10:00"],
        ]);
        let (acks, report) = parse(&t, &ListTemplate::built_in()).unwrap();
        assert_eq!(acks.len(), 2);
        assert_eq!(acks[0].1.item_id, "1001");
        assert_eq!(acks[0].1.at.as_deref(), Some("2026-12-01"));
        assert_eq!(acks[1].1.at.as_deref(), Some("2026-12-02"));
        assert_eq!(report.blank, 1);
        let lines: Vec<u64> = report.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![4, 5]);
        assert!(report.problems[1].problem.contains("明天"));
    }

    #[test]
    fn without_a_result_column_it_says_which_names_it_knows() {
        let t = table(&[&["平台商品编号", "标题"], &["1", "x"]]);
        let e = parse(&t, &ListTemplate::built_in())
            .unwrap_err()
            .to_string();
        assert!(e.contains("平台处理结果"), "{e}");
        assert!(e.contains("(the header has): 平台商品编号, 标题"), "{e}");
    }

    #[test]
    fn headers_renamed_in_the_list_layout_are_found() {
        let list = ListTemplate::parse(
            "[[column]]\nkey = \"item_id\"\nheader = \"链接编码\"\n\
             [[column]]\nkey = \"reply_result\"\nheader = \"反馈\"\n\
             [[column]]\nkey = \"reply_date\"\nheader = \"完成于\"\n",
            Path::new("list.toml"),
        )
        .unwrap();
        let raw = vec![
            (
                1,
                vec!["链接编码".to_string(), "反馈".into(), "完成于".into()],
            ),
            (
                2,
                vec!["1001".to_string(), "已下架".into(), "2026-12-03".into()],
            ),
        ];
        let t = Table::from_rows(Path::new("reply.csv"), raw, &["链接编码"]).unwrap();
        let (acks, report) = parse(&t, &list).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(acks[0].1.item_id, "1001");
        assert_eq!(acks[0].1.text, "已下架");
        assert_eq!(acks[0].1.at.as_deref(), Some("2026-12-03"));
    }
}
