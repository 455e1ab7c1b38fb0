//! A file someone hands over as a table (a certificate export, a platform's
//! reply, sampling results): what kind of file it is, the rows of a
//! workbook's first sheet, and, when it cannot be read, why, in plain
//! Chinese and English with the file named. In: a path. Out: [`Kind`] (read
//! it as CSV text or as a workbook) and [`RawRow`]s, or a [`SheetError`].
//! [`crate::cert_import`] and [`crate::tabular`] read through it.

use crate::text::dates;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// Nothing, or only a byte order mark and blank lines.
    Empty,
    /// A zip container: XLSX, ODS.
    Zip,
    /// An OLE container: old XLS, or a workbook with a password.
    Ole,
    /// A web page (some systems save an HTML table as `.xls`).
    Html,
    Pdf,
    Text,
    /// Anything else that is not text.
    Binary,
}

impl Content {
    /// What the file is, for messages: (Chinese, English).
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Content::Empty => ("空文件", "an empty file"),
            Content::Zip => ("Excel 工作簿（XLSX）", "an Excel workbook (XLSX)"),
            Content::Ole => ("旧版 Excel 工作簿（XLS）", "an old Excel workbook (XLS)"),
            Content::Html => ("网页（HTML）", "a web page (HTML)"),
            Content::Pdf => ("PDF 文件", "a PDF"),
            Content::Text => ("文本（可能是 CSV）", "text, perhaps CSV"),
            Content::Binary => ("无法识别的二进制文件", "binary data of an unknown kind"),
        }
    }
}

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Csv,
    Workbook(Content),
}

/// A file that cannot be read as a table: the file, and what is wrong in
/// words an officer can act on.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("{path}: 无法读取文件：{} (cannot read the file: {cause})", io_words(.cause))]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: 文件是空的，没有任何内容 (the file is empty)")]
    Empty { path: PathBuf },
    #[error(
        "{path}: 不是 Excel 工作簿：文件内容是{}{} (not an Excel workbook: the file is {}{})",
        .found.words().0, advice_zh(*.found), .found.words().1, advice_en(*.found)
    )]
    NotWorkbook { path: PathBuf, found: Content },
    #[error(
        "{path}: 不是 CSV 文本文件：文件内容是{}；请在 Excel 中另存为 .xlsx 或 .csv 后再导入 (not a CSV text file: the file is {}; save it from Excel as .xlsx or .csv)",
        .found.words().0, .found.words().1
    )]
    NotText { path: PathBuf, found: Content },
    #[error(
        "{path}: Excel 工作簿已损坏、不完整或设置了打开密码，无法打开；请重新导出或重新下载 (the workbook is damaged, incomplete or password-protected and cannot be opened)"
    )]
    Damaged {
        path: PathBuf,
        /// What the workbook reader said, for developers.
        cause: calamine::Error,
    },
    #[error(
        "{path}: 工作簿设置了打开密码，无法读取；请在 Excel 中取消密码后另存 (the workbook is password-protected)"
    )]
    Protected { path: PathBuf },
    #[error("{path}: 工作簿中没有工作表 (the workbook has no sheets)")]
    NoSheets { path: PathBuf },
    #[error(
        "{path}: 第一个工作表“{sheet}”是空的，没有任何内容 (the first sheet, “{sheet}”, is empty)"
    )]
    EmptySheet { path: PathBuf, sheet: String },
}

fn advice_zh(found: Content) -> &'static str {
    match found {
        Content::Text => "；请把扩展名改为 .csv，或在 Excel 中打开后另存为 .xlsx",
        Content::Html => "（有的系统把网页表格存成 .xls）；请在 Excel 中打开后另存为 .xlsx",
        _ => "；请在 Excel 中另存为 .xlsx 后再导入",
    }
}

fn advice_en(found: Content) -> &'static str {
    match found {
        Content::Text => "; rename it to .csv, or open it in Excel and save it as .xlsx",
        Content::Html => "; open it in Excel and save it as .xlsx",
        _ => "; save it from Excel as .xlsx",
    }
}

/// What went wrong reading a file, in Chinese.
fn io_words(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "文件不存在",
        PermissionDenied => "没有读取权限",
        IsADirectory => "这是一个文件夹，不是文件",
        _ => "读取出错",
    }
}

/// Bytes looked at to tell what a file is.
const HEAD: usize = 4096;

/// What `head`, the first bytes of a file (all of it when shorter than
/// [`HEAD`]), says the file is.
pub fn sniff(head: &[u8]) -> Content {
    const OLE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
    let bom_less = strip_bom(head);
    if bom_less.iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
        return Content::Empty;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Content::Zip;
    }
    if head.starts_with(OLE) {
        return Content::Ole;
    }
    if head.starts_with(b"%PDF") {
        return Content::Pdf;
    }
    let start = String::from_utf8_lossy(&bom_less[..bom_less.len().min(512)]).to_lowercase();
    let start = start.trim_start();
    if start.starts_with('<')
        && ["<html", "<!doctype html", "<table"]
            .iter()
            .any(|t| start.contains(t))
    {
        return Content::Html;
    }
    let utf16 = head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF");
    if !utf16 && head.contains(&0) {
        return Content::Binary;
    }
    Content::Text
}

fn strip_bom(b: &[u8]) -> &[u8] {
    for bom in [&b"\xEF\xBB\xBF"[..], b"\xFF\xFE", b"\xFE\xFF"] {
        if let Some(rest) = b.strip_prefix(bom) {
            return rest;
        }
    }
    b
}

/// Whether the name says workbook (`.xlsx`, `.xls`, ...).
pub fn named_workbook(path: &Path) -> bool {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "xlsb" | "ods")
}

/// How to read `path`: a workbook when its content is one, whatever its
/// name; CSV when it is text and not named as a workbook. Anything else
/// (an empty file, a web page, text named `.xlsx`) is refused with the reason.
pub fn classify(path: &Path) -> Result<Kind, SheetError> {
    let head = read_head(path)?;
    let found = sniff(&head);
    match (found, named_workbook(path)) {
        (Content::Empty, _) => Err(SheetError::Empty {
            path: path.to_path_buf(),
        }),
        (Content::Zip | Content::Ole, _) => Ok(Kind::Workbook(found)),
        (Content::Text, false) => Ok(Kind::Csv),
        (_, true) => Err(SheetError::NotWorkbook {
            path: path.to_path_buf(),
            found,
        }),
        (_, false) => Err(SheetError::NotText {
            path: path.to_path_buf(),
            found,
        }),
    }
}

fn read_head(path: &Path) -> Result<Vec<u8>, SheetError> {
    let err = |cause| SheetError::Read {
        path: path.to_path_buf(),
        cause,
    };
    let file = std::fs::File::open(path).map_err(err)?;
    let mut head = Vec::with_capacity(HEAD);
    file.take(HEAD as u64).read_to_end(&mut head).map_err(err)?;
    Ok(head)
}

/// One row as read: its line (CSV) or row number (XLSX), the cells, and
/// cell-level problems found while reading (numbers Excel truncated).
pub(crate) struct RawRow {
    pub(crate) line: u64,
    pub(crate) cells: Vec<String>,
    pub(crate) problems: Vec<(usize, String)>,
}

/// The rows of the first sheet of the workbook at `path`, whose content
/// [`classify`] found to be `content`.
pub(crate) fn read_workbook(path: &Path, content: Content) -> Result<Vec<RawRow>, SheetError> {
    use calamine::Reader;
    let mut wb = open(path, content)?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| SheetError::NoSheets {
            path: path.to_path_buf(),
        })?;
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|cause| workbook_error(path, cause))?;
    if range.is_empty() {
        return Err(SheetError::EmptySheet {
            path: path.to_path_buf(),
            sheet,
        });
    }
    let first_row = range.start().map_or(0, |(r, _)| r as u64);
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, row)| raw_row(first_row + i as u64 + 1, row))
        .collect())
}

/// Opens the workbook by what it contains, so that a renamed file still opens.
fn open(
    path: &Path,
    content: Content,
) -> Result<calamine::Sheets<std::io::BufReader<std::fs::File>>, SheetError> {
    use calamine::{Sheets, open_workbook};
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let opened = match (content, ext.as_str()) {
        (Content::Ole, _) => open_workbook(path).map(Sheets::Xls).map_err(Into::into),
        (_, "ods") => open_workbook(path).map(Sheets::Ods).map_err(Into::into),
        (_, "xlsb") => open_workbook(path).map(Sheets::Xlsb).map_err(Into::into),
        _ => open_workbook(path).map(Sheets::Xlsx).map_err(Into::into),
    };
    opened.map_err(|cause| workbook_error(path, cause))
}

fn workbook_error(path: &Path, cause: calamine::Error) -> SheetError {
    use calamine::{Error, OdsError, XlsError};
    match cause {
        Error::Xls(XlsError::Password) | Error::Ods(OdsError::Password) => SheetError::Protected {
            path: path.to_path_buf(),
        },
        cause => {
            // The reader's own words, for whoever runs with -vv.
            tracing::debug!(path = %path.display(), error = %cause, "the workbook cannot be opened");
            SheetError::Damaged {
                path: path.to_path_buf(),
                cause,
            }
        }
    }
}

fn raw_row(line: u64, row: &[calamine::Data]) -> RawRow {
    use calamine::Data;
    let mut problems = Vec::new();
    let cells = row
        .iter()
        .enumerate()
        .map(|(col, c)| match c {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => {
                if f.abs() >= 1e15 {
                    problems.push((col, "Excel 把该单元格存成了数字，超过15位的证书编号会丢失末位；请把该列设为文本后重新导出".to_string()));
                }
                format!("{}", *f as i64)
            }
            Data::Float(f) => f.to_string(),
            Data::Int(i) => i.to_string(),
            Data::Bool(b) => b.to_string(),
            Data::DateTime(dt) => dates::excel_serial_to_date(dt.as_f64())
                .map(|d| d.to_string())
                .unwrap_or_else(|| dt.to_string()),
            Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
            Data::Error(e) => format!("#ERROR {e:?}"),
        })
        .collect();
    RawRow {
        line,
        cells,
        problems,
    }
}

/// A row of a table as found, for messages that say what a file has
/// where the header was looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRow {
    pub line: u64,
    pub cells: Vec<String>,
}

/// Cells named at most in a message.
const MAX_SHOWN: usize = 20;

impl std::fmt::Display for FoundRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let filled: Vec<&str> = self
            .cells
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        write!(
            f,
            "第 {} 行的列为 (columns on line {}): {}",
            self.line,
            self.line,
            filled[..filled.len().min(MAX_SHOWN)].join(", ")
        )?;
        if filled.len() > MAX_SHOWN {
            f.write_str(", …")?;
        }
        Ok(())
    }
}

/// What was found where a header was looked for: the row, or that the
/// first `searched` rows were all blank.
pub fn found_text(found: Option<&FoundRow>, searched: usize) -> String {
    match found {
        Some(row) => row.to_string(),
        None => format!("前 {searched} 行都是空行 (the first {searched} rows are empty)"),
    }
}

/// Column `i` (from 0) as Excel names it: 0 → `A`, 26 → `AA`.
pub fn column_letter(i: usize) -> String {
    let mut n = i + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes_tell_the_kind() {
        assert_eq!(sniff(b""), Content::Empty);
        assert_eq!(sniff(b"\xEF\xBB\xBF\r\n\r\n"), Content::Empty);
        assert_eq!(sniff(b"PK\x03\x04rest"), Content::Zip);
        assert_eq!(sniff(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1..."), Content::Ole);
        assert_eq!(sniff(b"%PDF-1.7"), Content::Pdf);
        assert_eq!(
            sniff(b"\xEF\xBB\xBF <HTML><body><table><tr><td>1</td></tr></table>"),
            Content::Html
        );
        assert_eq!(
            sniff("证书编号,证书状态\n1,有效\n".as_bytes()),
            Content::Text
        );
        assert_eq!(sniff(b"\xFF\xFEa\x00,\x00b\x00"), Content::Text, "UTF-16");
        assert_eq!(sniff(b"\x00\x01\x02garbage"), Content::Binary);
    }

    #[test]
    fn the_name_and_the_content_decide_together() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let csv = write("a.csv", b"a,b\n1,2\n");
        assert_eq!(classify(&csv).unwrap(), Kind::Csv);
        let zipped = write("b.csv", b"PK\x03\x04....");
        assert_eq!(classify(&zipped).unwrap(), Kind::Workbook(Content::Zip));
        let text = write("c.xlsx", b"a,b\n1,2\n");
        let e = classify(&text).unwrap_err().to_string();
        assert!(
            e.contains("c.xlsx") && e.contains("不是 Excel 工作簿") && e.contains(".csv"),
            "{e}"
        );
        let empty = write("d.csv", b"");
        assert!(matches!(classify(&empty), Err(SheetError::Empty { .. })));
        let pdf = write("e.csv", b"%PDF-1.4");
        let e = classify(&pdf).unwrap_err().to_string();
        assert!(e.contains("PDF") && e.contains("e.csv"), "{e}");
        let missing = classify(&dir.path().join("none.csv")).unwrap_err();
        assert!(missing.to_string().contains("文件不存在"), "{missing}");
    }

    #[test]
    fn a_broken_workbook_is_named_in_plain_words() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.xlsx");
        std::fs::write(&p, b"PK\x03\x04 cut short by a failed download").unwrap();
        let e = read_workbook(&p, Content::Zip).err().unwrap();
        let msg = e.to_string();
        assert!(matches!(e, SheetError::Damaged { .. }), "{msg}");
        assert!(msg.contains("cut.xlsx") && msg.contains("已损坏"), "{msg}");
        assert!(!msg.contains("EOCD") && !msg.contains("Zip error"), "{msg}");
    }

    #[test]
    fn columns_are_lettered_as_excel_does() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(8), "I");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27 * 26), "AAA");
    }
}
