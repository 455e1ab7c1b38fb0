//! Importing an official certificate export (CSV in UTF-8/GBK/GB18030, or
//! XLSX). Parsing runs on a blocking thread and sends batches to the store;
//! each file is one transaction. Bad rows are reported with line, column and
//! reason and written, for Excel, to a rejects file ([`RejectsPlace`] says
//! where); `--strict` stores nothing from a file with any bad row. A file
//! that is not a certificate export is refused with what was found in it.

use crate::certdb::{encoding, models};
use crate::domain::{CertStatus, Certificate};
use crate::export::csv_cell;
use crate::progress::Progress;
use crate::sheet::{self, FoundRow, Kind, RawRow, SheetError};
use crate::store::{ImportCounts, Store, StoreError};
use crate::text::certno;
use crate::text::dates;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// Columns of the export. Required ones first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    CertNo,
    Status,
    ProductName,
    Models,
    Applicant,
    Manufacturer,
    Factory,
    IssuedOn,
    ExpiresOn,
    CategoryCode,
    Issuer,
    FirstIssuedOn,
    StatusChangedOn,
    StatusReason,
    Trademark,
}

/// (field, Chinese label, English label, other labels seen in exports)
const FIELDS: &[(Field, &str, &str, &[&str])] = &[
    (
        Field::CertNo,
        "证书编号",
        "cert_no",
        &["证书号", "认证证书编号"],
    ),
    (Field::Status, "证书状态", "status", &[]),
    (Field::ProductName, "产品名称", "product_name", &[]),
    (
        Field::Models,
        "规格型号",
        "models",
        &["型号规格", "产品型号"],
    ),
    (
        Field::Applicant,
        "认证委托人名称",
        "applicant",
        &["委托人名称", "认证委托人"],
    ),
    (
        Field::Manufacturer,
        "生产者名称",
        "manufacturer",
        &["生产者（制造商）名称", "制造商名称", "生产者"],
    ),
    (
        Field::Factory,
        "生产企业名称",
        "factory",
        &["生产企业", "工厂名称"],
    ),
    (Field::IssuedOn, "颁证日期", "issued_on", &["发证日期"]),
    (
        Field::ExpiresOn,
        "证书到期日期",
        "expires_on",
        &["有效期至", "证书有效期至", "到期日期"],
    ),
    (
        Field::CategoryCode,
        "产品类别代码",
        "category_code",
        &["产品类别", "产品代码"],
    ),
    (
        Field::Issuer,
        "发证机构名称",
        "issuer",
        &["发证机构", "认证机构名称", "认证机构"],
    ),
    (Field::FirstIssuedOn, "初次获证日期", "first_issued_on", &[]),
    (
        Field::StatusChangedOn,
        "状态变更日期",
        "status_changed_on",
        &[],
    ),
    (
        Field::StatusReason,
        "状态变更原因",
        "status_reason",
        &["暂停/撤销/注销原因"],
    ),
    (Field::Trademark, "商标", "trademark", &["品牌"]),
];
const REQUIRED: usize = 9;

/// A bad row: where and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    pub line: u64,
    /// The column's header.
    pub column: String,
    /// The column's place, from 0 (see [`RowError::column_letter`]).
    pub column_index: usize,
    pub value: String,
    pub reason: String,
    #[serde(skip)]
    pub cells: Vec<String>,
}

impl RowError {
    /// The column as Excel letters it (`A`, `B`, ...).
    pub fn column_letter(&self) -> String {
        sheet::column_letter(self.column_index)
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "第 {} 行 {} 列“{}” (line {}, column {}): {}",
            self.line,
            self.column_letter(),
            self.column,
            self.line,
            self.column,
            self.reason
        )?;
        if !self.value.is_empty() {
            write!(f, "; 值 (value) `{}`", self.value)?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read as a table at all (missing, empty, not a workbook).
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error(
        "{path}: 不是证书导出文件，缺少必需的列 (not a certificate export, missing required columns): {}; {}",
        .missing.join(", "), sheet::found_text(.found.as_ref(), HEADER_ROWS)
    )]
    NotAnExport {
        path: PathBuf,
        missing: Vec<String>,
        /// The row most like a header, with the columns it has.
        found: Option<FoundRow>,
    },
    #[error("{path}: 第 {line} 行不是有效的 CSV (line {line}: malformed CSV): {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: --strict: {} bad row(s), nothing was stored; first: {}", .errors.len(), .errors[0])]
    Strict {
        path: PathBuf,
        errors: Vec<RowError>,
    },
    #[error(
        "{path}: 无法写入被拒行文件，本次导入未保存任何数据 (cannot write the rejects file, so nothing from this import was stored): {cause}{}",
        .beside.as_ref().map(|(p, e)| format!("; 输入文件旁的 {} 也无法写入 (nor beside the input: {e})", p.display())).unwrap_or_default()
    )]
    Rejects {
        path: PathBuf,
        cause: std::io::Error,
        /// The place beside the input tried first, when the rejects were to
        /// go elsewhere after it failed, and why it failed.
        beside: Option<(PathBuf, std::io::Error)>,
    },
    #[error("{path}: {source}")]
    Store { path: PathBuf, source: StoreError },
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub strict: bool,
}

/// Where the rejects file of an import goes.
#[derive(Debug, Clone, Default)]
pub struct RejectsPlace {
    /// `--rejects`: a folder (`NAME.rejects.csv` goes inside) or the file
    /// itself. Nothing is stored when it cannot be written.
    pub chosen: Option<PathBuf>,
    /// The folder used when the one of the input cannot be written (an
    /// export on read-only media). Without it such an import stores nothing.
    pub fallback_dir: Option<PathBuf>,
}

/// The rejects went to the fallback folder: where they should have gone, and why not.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RejectsMoved {
    pub beside: PathBuf,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportReport {
    pub file: PathBuf,
    pub format: &'static str,
    pub encoding: &'static str,
    pub rows: u64,
    pub counts: ImportCounts,
    pub rejected: Vec<RowError>,
    pub rejects_file: Option<PathBuf>,
    /// Set when the rejects file is not beside the input.
    pub rejects_moved: Option<RejectsMoved>,
}

/// Parsed rows sent from the parser thread to the writer.
enum Msg {
    Start {
        encoding: &'static str,
        format: &'static str,
    },
    Batch(Vec<(Certificate, u64)>),
}

struct ParseOutcome {
    rows: u64,
    errors: Vec<RowError>,
    headers: Vec<String>,
}

const BATCH_ROWS: usize = 2000;

/// Imports one export file into the store, the rejects file beside it.
pub async fn import_file(
    store: &Store,
    path: &Path,
    opts: &ImportOptions,
    progress: &Progress,
) -> Result<ImportReport, ImportError> {
    import_file_with(store, path, opts, &RejectsPlace::default(), progress).await
}

/// Imports one export file into the store, the rejects file where `rejects` says.
pub async fn import_file_with(
    store: &Store,
    path: &Path,
    opts: &ImportOptions,
    rejects: &RejectsPlace,
    progress: &Progress,
) -> Result<ImportReport, ImportError> {
    let (tx, mut rx) = mpsc::channel::<Msg>(8);
    let parse_path = path.to_path_buf();
    let bar = progress.clone();
    let parser = tokio::task::spawn_blocking(move || parse_file(&parse_path, &tx, &bar));
    let store_err = |source| ImportError::Store {
        path: path.to_path_buf(),
        source,
    };

    let (encoding, format) = match rx.recv().await {
        Some(Msg::Start { encoding, format }) => (encoding, format),
        _ => {
            // The parser stopped before the data: its error says why.
            return Err(parser
                .await
                .expect("parser thread panicked")
                .err()
                .expect("parser failed before data"));
        }
    };
    let mut writer = store
        .begin_cert_import(&path.display().to_string(), encoding, opts.strict)
        .await
        .map_err(store_err)?;
    let mut write_failed = None;
    while let Some(msg) = rx.recv().await {
        if let Msg::Batch(batch) = msg
            && write_failed.is_none()
            && let Err(e) = writer.write(&batch).await
        {
            write_failed = Some(e);
        }
    }
    let outcome = match parser.await.expect("parser thread panicked") {
        Ok(o) => o,
        Err(e) => {
            writer.rollback().await.map_err(store_err)?;
            return Err(e);
        }
    };
    if let Some(e) = write_failed {
        let _ = writer.rollback().await;
        return Err(store_err(e));
    }
    if opts.strict && !outcome.errors.is_empty() {
        writer.rollback().await.map_err(store_err)?;
        return Err(ImportError::Strict {
            path: path.to_path_buf(),
            errors: outcome.errors,
        });
    }
    // The rejects file comes first: if it cannot be written, nothing is
    // stored, so no rejected row goes unrecorded.
    let (rejects_file, rejects_moved) = if outcome.errors.is_empty() {
        (None, None)
    } else {
        match place_rejects(path, rejects, &outcome.headers, &outcome.errors) {
            Ok((p, moved)) => (Some(p), moved),
            Err(e) => {
                writer.rollback().await.map_err(store_err)?;
                return Err(e);
            }
        }
    };
    let counts = writer
        .commit(outcome.rows, outcome.errors.len() as u64)
        .await
        .map_err(store_err)?;
    crate::crash::point("certdb.import.committed");
    Ok(ImportReport {
        file: path.to_path_buf(),
        format,
        encoding,
        rows: outcome.rows,
        counts,
        rejected: outcome.errors,
        rejects_file,
        rejects_moved,
    })
}

/// `dir/name.csv` → `dir/name.rejects.csv`, written as UTF-8 with BOM for Excel.
pub fn rejects_path(path: &Path) -> PathBuf {
    path.with_file_name(rejects_name(path))
}

/// Writes the rejects where `place` says: the chosen place, else beside
/// the input, else (read-only media) the fallback folder. Returns the file
/// and, when it is not beside the input, why.
fn place_rejects(
    input: &Path,
    place: &RejectsPlace,
    headers: &[String],
    errors: &[RowError],
) -> Result<(PathBuf, Option<RejectsMoved>), ImportError> {
    if let Some(chosen) = &place.chosen {
        return write_chosen(chosen, input, headers, errors).map(|p| (p, None));
    }
    let beside = rejects_path(input);
    let first = match write_rejects(&beside, headers, errors) {
        Ok(()) => return Ok((beside, None)),
        Err(cause) => cause,
    };
    let Some(dir) = &place.fallback_dir else {
        return Err(ImportError::Rejects {
            path: beside,
            cause: first,
            beside: None,
        });
    };
    let out = dir.join(rejects_name(input));
    match std::fs::create_dir_all(dir).and_then(|()| write_rejects(&out, headers, errors)) {
        Ok(()) => Ok((
            out,
            Some(RejectsMoved {
                beside,
                reason: first.to_string(),
            }),
        )),
        Err(cause) => Err(ImportError::Rejects {
            path: out,
            cause,
            beside: Some((beside, first)),
        }),
    }
}

/// `--rejects PATH`: a folder (made when missing) or the file itself.
fn write_chosen(
    chosen: &Path,
    input: &Path,
    headers: &[String],
    errors: &[RowError],
) -> Result<PathBuf, ImportError> {
    let folder = names_folder(chosen);
    let out = if folder {
        chosen.join(rejects_name(input))
    } else {
        chosen.to_path_buf()
    };
    let made = if folder {
        std::fs::create_dir_all(chosen)
    } else {
        Ok(())
    };
    match made.and_then(|()| write_rejects(&out, headers, errors)) {
        Ok(()) => Ok(out),
        Err(cause) => Err(ImportError::Rejects {
            path: out,
            cause,
            beside: None,
        }),
    }
}

/// Whether `--rejects PATH` names a folder: one that exists, or a path
/// written with a trailing `/`.
pub fn names_folder(path: &Path) -> bool {
    path.is_dir() || path.as_os_str().to_string_lossy().ends_with(['/', '\\'])
}

/// `name.csv` → `name.rejects.csv`.
fn rejects_name(input: &Path) -> String {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".into());
    format!("{stem}.rejects.csv")
}

/// The rejects as CSV in UTF-8 with BOM, every cell safe to open in Excel
/// (the rows come from outside: a cell `=HYPERLINK(...)` stays text).
fn write_rejects(out: &Path, headers: &[String], errors: &[RowError]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(out)?;
    std::io::Write::write_all(&mut file, b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(file);
    let mut head = vec!["行号".to_string(), "列".into(), "值".into(), "原因".into()];
    head.extend(headers.iter().cloned());
    w.write_record(head.iter().map(|c| csv_cell(c)))?;
    for e in errors {
        let mut rec = vec![
            e.line.to_string(),
            format!("{}（{}列）", e.column, e.column_letter()),
            e.value.clone(),
            e.reason.clone(),
        ];
        rec.extend(e.cells.iter().cloned());
        w.write_record(rec.iter().map(|c| csv_cell(c)))?;
    }
    w.flush()
}

fn parse_file(
    path: &Path,
    tx: &mpsc::Sender<Msg>,
    progress: &Progress,
) -> Result<ParseOutcome, ImportError> {
    let kind = sheet::classify(path)?;
    if let Kind::Workbook(content) = kind {
        let rows = sheet::read_workbook(path, content)?;
        let mut iter = rows.into_iter().map(Ok);
        let format = if content == sheet::Content::Ole {
            "xls"
        } else {
            "xlsx"
        };
        parse_rows(path, &mut iter, format, format, tx, progress)
    } else {
        let open_err = |cause| SheetError::Read {
            path: path.to_path_buf(),
            cause,
        };
        let mut file = std::fs::File::open(path).map_err(open_err)?;
        let mut prefix = vec![0u8; 256 * 1024];
        let n = read_full(&mut file, &mut prefix).map_err(open_err)?;
        prefix.truncate(n);
        let enc = encoding::detect(&prefix, n < 256 * 1024);
        let reader = std::io::Cursor::new(prefix).chain(file);
        let decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(enc))
            .bom_override(true)
            .build(reader);
        let lines = LineIndex::default();
        let counted = CountLines {
            inner: decoded,
            offset: 0,
            lines: lines.clone(),
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(counted);
        let path_buf = path.to_path_buf();
        let mut iter = rdr.records().map(move |r| match r {
            Ok(rec) => Ok(RawRow {
                line: lines.line_of(rec.position().map_or(0, |p| p.byte())),
                cells: rec.iter().map(str::to_string).collect(),
                problems: Vec::new(),
            }),
            Err(e) => Err(ImportError::Csv {
                path: path_buf.clone(),
                line: e.position().map_or(0, |p| p.line()),
                message: e.to_string(),
            }),
        });
        parse_rows(path, &mut iter, "csv", encoding::label(enc), tx, progress)
    }
}

/// Offsets of the newlines read so far, to turn a record's byte offset into
/// its line number (the csv crate's own line count is off for CRLF files).
#[derive(Clone, Default)]
struct LineIndex(std::rc::Rc<std::cell::RefCell<Vec<u64>>>);

impl LineIndex {
    fn line_of(&self, byte: u64) -> u64 {
        self.0.borrow().partition_point(|&nl| nl <= byte) as u64 + 1
    }
}

struct CountLines<R> {
    inner: R,
    offset: u64,
    lines: LineIndex,
}

impl<R: Read> Read for CountLines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut lines = self.lines.0.borrow_mut();
        for (i, _) in buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n') {
            lines.push(self.offset + i as u64);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Finds the header row among the first rows (exports sometimes put a title above it).
/// Rows searched for the header.
const HEADER_ROWS: usize = 10;

fn find_header(
    rows: &mut dyn Iterator<Item = Result<RawRow, ImportError>>,
    path: &Path,
) -> Result<(Vec<String>, Vec<Option<Field>>), ImportError> {
    let mut best: Option<(Vec<String>, FoundRow)> = None;
    for _ in 0..HEADER_ROWS {
        let Some(row) = rows.next() else { break };
        let row = row?;
        let headers: Vec<String> = row
            .cells
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .collect();
        let fields: Vec<Option<Field>> = headers.iter().map(|h| header_field(h)).collect();
        let missing = missing_fields(&fields);
        if missing.is_empty() {
            return Ok((headers, fields));
        }
        let blank = headers.iter().all(|h| h.is_empty());
        if !blank && best.as_ref().is_none_or(|(b, _)| missing.len() < b.len()) {
            let found = FoundRow {
                line: row.line,
                cells: headers,
            };
            best = Some((missing, found));
        }
    }
    let (missing, found) = match best {
        Some((missing, found)) => (missing, Some(found)),
        None => (missing_fields(&[]), None),
    };
    Err(ImportError::NotAnExport {
        path: path.to_path_buf(),
        missing,
        found,
    })
}

/// The required columns `fields` lacks, as `证书状态 (status)`.
fn missing_fields(fields: &[Option<Field>]) -> Vec<String> {
    FIELDS[..REQUIRED]
        .iter()
        .filter(|(f, ..)| !fields.contains(&Some(*f)))
        .map(|(_, zh, en, _)| format!("{zh} ({en})"))
        .collect()
}

fn header_field(header: &str) -> Option<Field> {
    let key: String = crate::text::normalize::fold_width(header)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let lower = key.to_lowercase();
    FIELDS
        .iter()
        .find(|(_, zh, en, other)| key == *zh || lower == *en || other.contains(&key.as_str()))
        .map(|(f, ..)| *f)
}

fn parse_rows(
    path: &Path,
    rows: &mut dyn Iterator<Item = Result<RawRow, ImportError>>,
    format: &'static str,
    encoding: &'static str,
    tx: &mpsc::Sender<Msg>,
    progress: &Progress,
) -> Result<ParseOutcome, ImportError> {
    let (headers, fields) = find_header(rows, path)?;
    if tx.blocking_send(Msg::Start { encoding, format }).is_err() {
        return Ok(ParseOutcome {
            rows: 0,
            errors: Vec::new(),
            headers,
        });
    }
    let columns: HashMap<Field, usize> = fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.map(|f| (f, i)))
        .rev()
        .collect();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut errors = Vec::new();
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut total = 0u64;
    for row in rows {
        let row = row?;
        if row.cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        total += 1;
        progress.inc(1);
        match parse_row(&row, &columns, &headers) {
            Ok(cert) => {
                if let Some(first) = seen.insert(cert.cert_no.clone(), row.line) {
                    errors.push(row_error(
                        &row,
                        &headers,
                        columns[&Field::CertNo],
                        format!("证书编号重复，已在第 {first} 行出现 (duplicate of line {first})"),
                    ));
                    continue;
                }
                let hash = row_hash(&cert);
                batch.push((cert, hash));
                if batch.len() == BATCH_ROWS
                    && tx
                        .blocking_send(Msg::Batch(std::mem::take(&mut batch)))
                        .is_err()
                {
                    break;
                }
            }
            Err(e) => errors.push(e),
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Msg::Batch(batch));
    }
    Ok(ParseOutcome {
        rows: total,
        errors,
        headers,
    })
}

fn row_error(row: &RawRow, headers: &[String], col: usize, reason: String) -> RowError {
    RowError {
        line: row.line,
        column: headers
            .get(col)
            .cloned()
            .unwrap_or_else(|| format!("#{}", col + 1)),
        column_index: col,
        value: row.cells.get(col).cloned().unwrap_or_default(),
        reason,
        cells: row.cells.clone(),
    }
}

fn parse_row(
    row: &RawRow,
    columns: &HashMap<Field, usize>,
    headers: &[String],
) -> Result<Certificate, RowError> {
    if let Some((col, reason)) = row
        .problems
        .iter()
        .find(|(c, _)| Some(c) == columns.get(&Field::CertNo))
    {
        return Err(row_error(row, headers, *col, reason.clone()));
    }
    let cell = |f: Field| {
        columns
            .get(&f)
            .and_then(|&i| row.cells.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    };
    let opt = |f: Field| Some(cell(f)).filter(|s| !s.is_empty()).map(str::to_string);
    let fail = |f: Field, reason: String| row_error(row, headers, columns[&f], reason);
    let required = |f: Field| -> Result<String, RowError> {
        let v = cell(f);
        if v.is_empty() {
            Err(fail(f, "必填项为空 (required value is empty)".into()))
        } else {
            Ok(v.to_string())
        }
    };
    let date = |f: Field| -> Result<Option<chrono::NaiveDate>, RowError> {
        let v = cell(f);
        if v.is_empty() {
            return Ok(None);
        }
        dates::parse_date(v)
            .map(Some)
            .ok_or_else(|| fail(f, "不是可识别的日期，应为 YYYY-MM-DD、YYYY/MM/DD、YYYY年MM月DD日 或 Excel 日期 (not a date)".into()))
    };
    let cert_no = certno::normalize_export_number(&required(Field::CertNo)?);
    let status_raw = required(Field::Status)?;
    let (status, note) = CertStatus::parse(&status_raw).ok_or_else(|| {
        fail(
            Field::Status,
            "未知的证书状态，应为 有效/暂停/撤销/注销/过期失效 或 01–05 (unknown status)".into(),
        )
    })?;
    let models_raw = required(Field::Models)?;
    let issued_on = date(Field::IssuedOn)?.ok_or_else(|| {
        fail(
            Field::IssuedOn,
            "必填项为空 (required value is empty)".into(),
        )
    })?;
    let expires_on = date(Field::ExpiresOn)?.ok_or_else(|| {
        fail(
            Field::ExpiresOn,
            "必填项为空 (required value is empty)".into(),
        )
    })?;
    if expires_on < issued_on {
        return Err(fail(
            Field::ExpiresOn,
            format!("到期日期早于颁证日期 {issued_on} (expires before it was issued)"),
        ));
    }
    let category_code = match opt(Field::CategoryCode) {
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()) => Some(format!("0{c}")),
        Some(c) if c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()) => Some(c),
        Some(_) => {
            return Err(fail(
                Field::CategoryCode,
                "产品类别代码应为4位数字 (category code must be 4 digits)".into(),
            ));
        }
        None => None,
    };
    Ok(Certificate {
        cert_no,
        status,
        status_raw,
        category_code,
        product_name: required(Field::ProductName)?,
        models: models::parse_model_list(&models_raw),
        models_raw,
        applicant: required(Field::Applicant)?,
        manufacturer: required(Field::Manufacturer)?,
        factory: required(Field::Factory)?,
        issued_on,
        expires_on,
        first_issued_on: date(Field::FirstIssuedOn)?,
        issuer: opt(Field::Issuer),
        status_changed_on: date(Field::StatusChangedOn)?,
        status_reason: opt(Field::StatusReason).or(note),
        trademark: opt(Field::Trademark),
    })
}

/// A stable hash of a certificate's content, to tell changed rows from unchanged.
pub fn row_hash(cert: &Certificate) -> u64 {
    let bytes = serde_json::to_vec(cert).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) >> 1
}
