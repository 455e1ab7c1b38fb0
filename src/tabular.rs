//! Small tables the bureau receives back (platform replies to notices,
//! platform sampling results, consumer complaints): a CSV in any encoding
//! Excel writes (UTF-8 with or without BOM, GBK/GB18030, UTF-16) or a
//! workbook. The header row is found among the first rows by the columns
//! the caller knows, so a title line above it does no harm. A file that is
//! not a table, or has no such header, is refused with what it does hold.

use crate::certdb::encoding;
use crate::sheet::{self, FoundRow, Kind, SheetError};
use crate::text::normalize::label_key;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file cannot be read as a table at all (missing, empty, not a workbook).
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error("{path}: 第 {line} 行不是有效的 CSV (line {line}: malformed CSV): {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error(
        "{path}: 前 {HEADER_SEARCH} 行中没有含 {wanted} 列的表头 (no header row with a column {wanted} in the first {HEADER_SEARCH} rows); {}",
        sheet::found_text(.found.as_ref(), HEADER_SEARCH)
    )]
    NoHeader {
        path: PathBuf,
        wanted: String,
        /// The first row with anything in it.
        found: Option<FoundRow>,
    },
}

/// Rows searched for the header.
pub const HEADER_SEARCH: usize = 10;

/// A table: its header and its data rows with their line (row) numbers.
#[derive(Debug, Clone)]
pub struct Table {
    pub path: PathBuf,
    pub headers: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    /// Reads `path`; the header is the first row having a column named by
    /// any of `required` (see [`Table::column`] for how names compare).
    pub fn read(path: &Path, required: &[&str]) -> Result<Table, TableError> {
        let raw = match sheet::classify(path)? {
            Kind::Workbook(content) => sheet::read_workbook(path, content)?
                .into_iter()
                .map(|r| (r.line, r.cells))
                .collect(),
            Kind::Csv => {
                let bytes = std::fs::read(path).map_err(|cause| SheetError::Read {
                    path: path.to_path_buf(),
                    cause,
                })?;
                csv_rows(path, &bytes)?
            }
        };
        Table::from_rows(path, raw, required)
    }

    /// A table from rows already read (line number, cells).
    pub fn from_rows(
        path: &Path,
        raw: Vec<(u64, Vec<String>)>,
        required: &[&str],
    ) -> Result<Table, TableError> {
        let at = raw
            .iter()
            .take(HEADER_SEARCH)
            .position(|(_, cells)| find(cells, required).is_some())
            .ok_or_else(|| TableError::NoHeader {
                path: path.to_path_buf(),
                wanted: required
                    .iter()
                    .map(|n| format!("“{n}”"))
                    .collect::<Vec<_>>()
                    .join(" / "),
                found: raw
                    .iter()
                    .take(HEADER_SEARCH)
                    .find(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
                    .map(|(line, cells)| FoundRow {
                        line: *line,
                        cells: cells.clone(),
                    }),
            })?;
        let mut rows = raw;
        let rest = rows.split_off(at + 1);
        let headers = rows.pop().map(|(_, h)| h).unwrap_or_default();
        let rows = rest
            .into_iter()
            .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
            .collect();
        Ok(Table {
            path: path.to_path_buf(),
            headers,
            rows,
        })
    }

    /// The column whose header is one of `names` (ignoring spaces, width and
    /// a trailing note such as `（由平台填写）`), first match wins.
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        find(&self.headers, names)
    }
}

fn find(headers: &[String], names: &[&str]) -> Option<usize> {
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    names.iter().find_map(|n| {
        let want = header_key(n);
        keys.iter().position(|k| *k == want)
    })
}

/// A header without spaces, width differences, case and a bracketed note.
fn header_key(h: &str) -> String {
    let k = label_key(h).to_lowercase();
    let cut = k.find(['（', '(']).filter(|&i| i > 0).unwrap_or(k.len());
    k[..cut].to_string()
}

/// The cell of `row` in column `col`, trimmed; `None` when empty or absent.
pub fn cell(row: &[String], col: Option<usize>) -> Option<&str> {
    col.and_then(|c| row.get(c))
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

fn csv_rows(path: &Path, bytes: &[u8]) -> Result<Vec<(u64, Vec<String>)>, TableError> {
    let enc = encoding::detect(bytes, true);
    let (text, _, _) = enc.decode(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| TableError::Csv {
            path: path.to_path_buf(),
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        // After a CRLF the csv crate may place a record at the LF before it.
        let byte = rec.position().map_or(0, |p| p.byte()) as usize;
        let line = text.as_bytes()[..(byte + 1).min(text.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64
            + 1;
        out.push((line, rec.iter().map(str::to_string).collect()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_header_below_a_title_in_gbk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reply.csv");
        let text = "京东平台处理结果\r\n序号,平台商品编号,平台处理结果（由平台填写）\r\n1,1001,已下架\r\n,,\r\n2,1002,\"已要求商家\r\n整改\"\r\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        std::fs::write(&path, &gbk).unwrap();
        let t = Table::read(&path, &["平台商品编号"]).unwrap();
        assert_eq!(t.column(&["商品编号", "平台商品编号"]), Some(1));
        assert_eq!(t.column(&["平台处理结果"]), Some(2));
        assert_eq!(t.rows.len(), 2, "the empty row is skipped");
        assert_eq!(
            t.rows[0],
            (3, vec!["1".into(), "1001".into(), "已下架".into()])
        );
        assert_eq!(t.rows[1].0, 5);
        assert_eq!(t.rows[1].1[2], "已要求商家\r\n整改");
    }

    #[test]
    fn a_missing_header_names_the_columns_wanted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        std::fs::write(&path, "a,b\n1,2\n").unwrap();
        let e = Table::read(&path, &["平台商品编号", "item_id"]).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("x.csv") && msg.contains("“平台商品编号” / “item_id”"),
            "{msg}"
        );
        assert!(
            msg.contains("第 1 行的列为 (columns on line 1): a, b"),
            "{msg}"
        );
    }

    #[test]
    fn headers_compare_without_width_case_and_notes() {
        let h = vec!["Item_ID".to_string(), "处理日期 (由平台填写)".to_string()];
        assert_eq!(find(&h, &["item_id"]), Some(0));
        assert_eq!(find(&h, &["处理日期"]), Some(1));
        assert_eq!(find(&h, &["日期"]), None);
    }
}
