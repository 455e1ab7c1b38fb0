//! Exporting findings for people and other systems. JSON Lines is for
//! machines: codes (`revoked`), confidence in `[0, 1]`, times as stored
//! (RFC 3339, UTC). CSV (UTF-8 with BOM so Excel opens it) and XLSX (header
//! row, filters, widths) are for officers: Chinese headers, the verdict in
//! words with its code in a column of its own, confidence as a percentage,
//! the product category by name and the capture time in Beijing time.

use crate::certdb::Catalog;
use crate::clock::{beijing_datetime, beijing_time};
use crate::extract::PlatformLabels;
use crate::store::{ExportRow, Store, StoreError};
use chrono::{Datelike, NaiveDateTime, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum ExportFormat {
    Jsonl,
    Csv,
    Xlsx,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: writing XLSX: {source}")]
    Xlsx { path: PathBuf, source: XlsxError },
}

/// What a column of the CSV and XLSX shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Platform,
    ItemId,
    Title,
    Seller,
    ShopUrl,
    Brand,
    Model,
    CertNumbers,
    MatchedCert,
    Verdict,
    VerdictCode,
    Confidence,
    Reasons,
    Category,
    CapturedAt,
    Sha256,
    Url,
}

/// The columns for people, left to right: what, header, width in characters.
const LAYOUT: [(Col, &str, f64); 17] = [
    (Col::Platform, "平台", 10.0),
    (Col::ItemId, "商品编号", 16.0),
    (Col::Title, "标题", 50.0),
    (Col::Seller, "店铺/卖家", 20.0),
    (Col::ShopUrl, "店铺链接", 30.0),
    (Col::Brand, "品牌", 12.0),
    (Col::Model, "型号", 16.0),
    (Col::CertNumbers, "引用证书编号", 20.0),
    (Col::MatchedCert, "比对证书编号", 20.0),
    (Col::Verdict, "结论", 14.0),
    (Col::VerdictCode, "结论代码", 15.0),
    (Col::Confidence, "置信度", 8.0),
    (Col::Reasons, "原因", 80.0),
    (Col::Category, "产品类别", 22.0),
    (Col::CapturedAt, "抓取时间（北京时间）", 20.0),
    (Col::Sha256, "证据哈希（SHA-256）", 66.0),
    (Col::Url, "链接", 40.0),
];

/// The headers of the CSV and XLSX, in order.
pub const COLUMNS: [&str; LAYOUT.len()] = {
    let mut out = [""; LAYOUT.len()];
    let mut i = 0;
    while i < LAYOUT.len() {
        out[i] = LAYOUT[i].1;
        i += 1;
    }
    out
};

/// The sheet of the XLSX.
pub const SHEET: &str = "商品检查结果";

/// What to export, and the catalog that names product categories.
#[derive(Debug, Clone, Copy)]
pub struct ExportRequest<'a> {
    pub format: ExportFormat,
    pub platform: Option<&'a str>,
    /// Only flagged findings (everything but compliant and not_in_scope).
    pub flagged_only: bool,
    pub catalog: &'a Catalog,
    /// Platform names for people (京东 for `jd`); JSONL keeps the short name.
    pub labels: &'a PlatformLabels,
}

const PAGE: i64 = 10_000;

/// Writes findings to `out` with the built-in catalog naming categories
/// and platforms by their short names; returns the number of rows.
pub async fn export_findings(
    store: &Store,
    out: &Path,
    format: ExportFormat,
    platform: Option<&str>,
    flagged_only: bool,
) -> Result<u64, ExportError> {
    let catalog = Catalog::embedded();
    let labels = PlatformLabels::default();
    let req = ExportRequest {
        format,
        platform,
        flagged_only,
        catalog: &catalog,
        labels: &labels,
    };
    write_findings(store, out, &req).await
}

/// Writes the findings `req` asks for to `out`; returns the number of rows.
pub async fn write_findings(
    store: &Store,
    out: &Path,
    req: &ExportRequest<'_>,
) -> Result<u64, ExportError> {
    match req.format {
        ExportFormat::Jsonl => write_jsonl(store, out, req).await,
        ExportFormat::Csv => write_csv(store, out, req).await,
        ExportFormat::Xlsx => write_xlsx(store, out, req).await,
    }
}

fn io_error(out: &Path) -> impl Fn(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: out.to_path_buf(),
        source,
    }
}

async fn write_jsonl(
    store: &Store,
    out: &Path,
    req: &ExportRequest<'_>,
) -> Result<u64, ExportError> {
    let io = io_error(out);
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).map_err(&io)?);
    let n = for_each_page(store, req, |rows| {
        for r in rows {
            serde_json::to_writer(&mut w, r).map_err(|e| io(e.into()))?;
            w.write_all(b"\n").map_err(&io)?;
        }
        Ok(())
    })
    .await?;
    w.flush().map_err(&io)?;
    Ok(n)
}

async fn write_csv(store: &Store, out: &Path, req: &ExportRequest<'_>) -> Result<u64, ExportError> {
    let io = io_error(out);
    let mut file = std::io::BufWriter::new(std::fs::File::create(out).map_err(&io)?);
    file.write_all(b"\xEF\xBB\xBF").map_err(&io)?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record(COLUMNS).map_err(|e| io(e.into()))?;
    let n = for_each_page(store, req, |rows| {
        rows.iter().try_for_each(|r| {
            w.write_record(LAYOUT.iter().map(|(c, ..)| csv_cell(&text(*c, r, req))))
                .map_err(|e| io(e.into()))
        })
    })
    .await?;
    w.flush().map_err(&io)?;
    Ok(n)
}

async fn for_each_page(
    store: &Store,
    req: &ExportRequest<'_>,
    mut f: impl FnMut(&[ExportRow]) -> Result<(), ExportError>,
) -> Result<u64, ExportError> {
    let mut after = 0;
    let mut n = 0;
    loop {
        let rows = store
            .export_page(req.platform, req.flagged_only, after, PAGE)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.listing_id;
        n += rows.len() as u64;
        f(&rows)?;
    }
    Ok(n)
}

/// A cell as people read it.
fn text(col: Col, r: &ExportRow, req: &ExportRequest<'_>) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    match col {
        Col::Platform => req.labels.label(&r.platform).to_string(),
        Col::ItemId => r.item_id.clone(),
        Col::Title => r.title.clone(),
        Col::Seller => opt(&r.seller),
        Col::ShopUrl => opt(&r.shop_url),
        Col::Brand => opt(&r.brand),
        Col::Model => opt(&r.model),
        Col::CertNumbers => r.cert_numbers.join("、"),
        Col::MatchedCert => opt(&r.matched_cert),
        Col::Verdict => r.verdict.label_zh().to_string(),
        Col::VerdictCode => r.verdict.as_str().to_string(),
        Col::Confidence => percent(r.confidence),
        Col::Reasons => r.reasons.join("；"),
        Col::Category => category(r.category_code.as_deref(), req.catalog),
        Col::CapturedAt => r
            .captured_at
            .as_deref()
            .map(beijing_time)
            .unwrap_or_default(),
        Col::Sha256 => opt(&r.evidence_sha256),
        Col::Url => opt(&r.url),
    }
}

/// `0.97` → `97%`.
pub fn percent(confidence: f64) -> String {
    format!("{}%", (confidence.clamp(0.0, 1.0) * 100.0).round() as i64)
}

/// `0201` → `插头插座（0201）`, as the reasons name products; the code alone
/// when the catalog does not know it.
fn category(code: Option<&str>, catalog: &Catalog) -> String {
    match code {
        None => String::new(),
        Some(c) => catalog
            .entry(c)
            .map(|e| format!("{}（{}）", e.name, e.code))
            .unwrap_or_else(|| c.to_string()),
    }
}

struct Formats {
    header: Format,
    wrap: Format,
    percent: Format,
    time: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new()
                .set_bold()
                .set_background_color("#DDE7F0")
                .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin),
            wrap: Format::new().set_text_wrap(),
            percent: Format::new().set_num_format("0%"),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        }
    }
}

async fn write_xlsx(
    store: &Store,
    out: &Path,
    req: &ExportRequest<'_>,
) -> Result<u64, ExportError> {
    let xerr = |source| ExportError::Xlsx {
        path: out.to_path_buf(),
        source,
    };
    let f = Formats::new();
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet_with_constant_memory().map_err(xerr)?;
    sheet.set_name(SHEET).map_err(xerr)?;
    for (i, (_, header, width)) in LAYOUT.iter().enumerate() {
        sheet.set_column_width(i as u16, *width).map_err(xerr)?;
        sheet
            .write_string_with_format(0, i as u16, *header, &f.header)
            .map_err(xerr)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xerr)?;
    let mut row = 0u32;
    let n = for_each_page(store, req, |rows| {
        for r in rows {
            row += 1;
            for (i, (col, ..)) in LAYOUT.iter().enumerate() {
                xlsx_cell(sheet, &f, (row, i as u16), *col, r, req).map_err(xerr)?;
            }
        }
        Ok(())
    })
    .await?;
    sheet
        .autofilter(0, 0, row.max(1), (LAYOUT.len() - 1) as u16)
        .map_err(xerr)?;
    wb.save(out).map_err(xerr)?;
    Ok(n)
}

/// One cell: confidence as a percent number, the capture time as a date
/// and time, long text wrapped, the rest as text (never a formula).
fn xlsx_cell(
    sheet: &mut Worksheet,
    f: &Formats,
    (row, c): (u32, u16),
    col: Col,
    r: &ExportRow,
    req: &ExportRequest<'_>,
) -> Result<(), XlsxError> {
    match col {
        Col::Confidence => {
            let rounded = (r.confidence.clamp(0.0, 1.0) * 100.0).round() / 100.0;
            sheet.write_number_with_format(row, c, rounded, &f.percent)?;
        }
        Col::CapturedAt => match r.captured_at.as_deref().and_then(beijing_datetime) {
            Some(t) => {
                sheet.write_datetime_with_format(row, c, excel_time(t)?, &f.time)?;
            }
            None => {
                sheet.write_string(row, c, text(col, r, req))?;
            }
        },
        Col::Title | Col::Reasons => {
            sheet.write_string_with_format(row, c, text(col, r, req), &f.wrap)?;
        }
        _ => {
            sheet.write_string(row, c, text(col, r, req))?;
        }
    }
    Ok(())
}

fn excel_time(t: NaiveDateTime) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)?.and_hms(
        t.hour() as u16,
        t.minute() as u8,
        t.second(),
    )
}

/// A CSV cell Excel will not run as a formula: text starting with `=`,
/// `+`, `-`, `@`, tab or carriage return gets a leading apostrophe (listing
/// titles are written by sellers; OWASP "CSV injection").
pub fn csv_cell(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Verdict;

    #[test]
    fn formulas_are_written_as_text() {
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\",\"点我\")"),
            "'=HYPERLINK(\"http://x\",\"点我\")"
        );
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("公牛 GN-H3050"), "公牛 GN-H3050");
        assert_eq!(csv_cell(""), "");
    }

    fn row() -> ExportRow {
        ExportRow {
            listing_id: 1,
            platform: "jd".into(),
            item_id: "100012345670".into(),
            url: Some("https://item.jd.com/100012345670.html".into()),
            title: "公牛插座 GN-H3050".into(),
            brand: Some("公牛".into()),
            model: Some("GN-H3050".into()),
            cert_numbers: vec!["2021010201234567".into(), "2016010201931890".into()],
            category_code: Some("0201".into()),
            verdict: Verdict::Revoked,
            confidence: 0.970_000_028_610_229_5,
            matched_cert: Some("2021010201234567".into()),
            reasons: vec!["证书已撤销".into(), "型号一致".into()],
            seller: Some("公牛插座旗舰店".into()),
            shop_url: None,
            captured_at: Some("2026-11-28T16:32:10.250Z".into()),
            evidence_sha256: Some("3f2a".into()),
        }
    }

    #[test]
    fn cells_for_people_speak_chinese() {
        let catalog = Catalog::embedded();
        let labels = PlatformLabels::from_pairs([("jd", "京东")]);
        let req = ExportRequest {
            format: ExportFormat::Csv,
            platform: None,
            flagged_only: false,
            catalog: &catalog,
            labels: &labels,
        };
        let r = row();
        let cell = |c| text(c, &r, &req);
        assert_eq!(cell(Col::Platform), "京东");
        assert_eq!(cell(Col::Verdict), "证书已撤销");
        assert_eq!(cell(Col::VerdictCode), "revoked");
        assert_eq!(cell(Col::Confidence), "97%");
        assert_eq!(cell(Col::CapturedAt), "2026-11-29 00:32:10");
        assert_eq!(cell(Col::CertNumbers), "2021010201234567、2016010201931890");
        assert_eq!(cell(Col::Reasons), "证书已撤销；型号一致");
        let named = cell(Col::Category);
        assert!(
            named.ends_with("（0201）") && named.len() > "（0201）".len(),
            "{named}"
        );
        assert_eq!(category(Some("9999"), &catalog), "9999");
    }

    #[test]
    fn confidence_is_a_whole_percentage() {
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.555), "56%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(1.2), "100%");
    }

    #[test]
    fn the_layout_names_every_column_once() {
        let mut headers = COLUMNS.to_vec();
        headers.sort();
        headers.dedup();
        assert_eq!(headers.len(), LAYOUT.len());
        assert!(COLUMNS.contains(&"抓取时间（北京时间）"));
    }
}
