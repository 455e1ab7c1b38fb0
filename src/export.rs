//! Exporting findings for people and other systems: JSON Lines, CSV (UTF-8
//! with BOM so Excel opens it) and XLSX (header row, filters, widths).

use crate::store::{ExportRow, Store, StoreError};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
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

pub const COLUMNS: [&str; 12] = [
    "platform",
    "item_id",
    "url",
    "title",
    "brand",
    "model",
    "cert_numbers",
    "category_code",
    "verdict",
    "confidence",
    "matched_cert",
    "reasons",
];
/// Column widths in the XLSX, in characters.
const WIDTHS: [f64; 12] = [
    10.0, 14.0, 36.0, 50.0, 12.0, 16.0, 20.0, 10.0, 15.0, 10.0, 20.0, 80.0,
];

fn cells(r: &ExportRow) -> [String; 12] {
    [
        r.platform.clone(),
        r.item_id.clone(),
        r.url.clone().unwrap_or_default(),
        r.title.clone(),
        r.brand.clone().unwrap_or_default(),
        r.model.clone().unwrap_or_default(),
        r.cert_numbers.join(";"),
        r.category_code.clone().unwrap_or_default(),
        r.verdict.as_str().to_string(),
        format!("{:.2}", r.confidence),
        r.matched_cert.clone().unwrap_or_default(),
        r.reasons.join("；"),
    ]
}

const PAGE: i64 = 10_000;

/// Writes findings to `out`; returns the number of rows.
pub async fn export_findings(
    store: &Store,
    out: &Path,
    format: ExportFormat,
    platform: Option<&str>,
    flagged_only: bool,
) -> Result<u64, ExportError> {
    let io = |source| ExportError::Io {
        path: out.to_path_buf(),
        source,
    };
    match format {
        ExportFormat::Jsonl => {
            let mut w = std::io::BufWriter::new(std::fs::File::create(out).map_err(io)?);
            let n = for_each_page(store, platform, flagged_only, |rows| {
                for r in rows {
                    serde_json::to_writer(&mut w, r).map_err(|e| io(e.into()))?;
                    w.write_all(b"\n").map_err(io)?;
                }
                Ok(())
            })
            .await?;
            w.flush().map_err(io)?;
            Ok(n)
        }
        ExportFormat::Csv => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(out).map_err(io)?);
            file.write_all(b"\xEF\xBB\xBF").map_err(io)?;
            let mut w = csv::Writer::from_writer(file);
            w.write_record(COLUMNS).map_err(|e| io(e.into()))?;
            let n = for_each_page(store, platform, flagged_only, |rows| {
                rows.iter().try_for_each(|r| {
                    w.write_record(cells(r).iter().map(|c| csv_cell(c)))
                        .map_err(|e| io(e.into()))
                })
            })
            .await?;
            w.flush().map_err(io)?;
            Ok(n)
        }
        ExportFormat::Xlsx => export_xlsx(store, out, platform, flagged_only).await,
    }
}

async fn for_each_page(
    store: &Store,
    platform: Option<&str>,
    flagged_only: bool,
    mut f: impl FnMut(&[ExportRow]) -> Result<(), ExportError>,
) -> Result<u64, ExportError> {
    let mut after = 0;
    let mut n = 0;
    loop {
        let rows = store
            .export_page(platform, flagged_only, after, PAGE)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.listing_id;
        n += rows.len() as u64;
        f(&rows)?;
    }
    Ok(n)
}

async fn export_xlsx(
    store: &Store,
    out: &Path,
    platform: Option<&str>,
    flagged_only: bool,
) -> Result<u64, ExportError> {
    let xerr = |source| ExportError::Xlsx {
        path: out.to_path_buf(),
        source,
    };
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet_with_constant_memory().map_err(xerr)?;
    sheet.set_name("findings").map_err(xerr)?;
    for (i, w) in WIDTHS.iter().enumerate() {
        sheet.set_column_width(i as u16, *w).map_err(xerr)?;
    }
    let header = Format::new()
        .set_bold()
        .set_background_color("#DDE7F0")
        .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin);
    let wrap = Format::new().set_text_wrap();
    for (i, c) in COLUMNS.iter().enumerate() {
        sheet
            .write_string_with_format(0, i as u16, *c, &header)
            .map_err(xerr)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xerr)?;
    let mut row = 0u32;
    let n = for_each_page(store, platform, flagged_only, |rows| {
        for r in rows {
            row += 1;
            for (i, v) in cells(r).iter().enumerate() {
                if i == 9 {
                    sheet.write_number(row, 9, r.confidence).map_err(xerr)?;
                } else if i == 11 {
                    sheet
                        .write_string_with_format(row, 11, v, &wrap)
                        .map_err(xerr)?;
                } else {
                    sheet.write_string(row, i as u16, v).map_err(xerr)?;
                }
            }
        }
        Ok(())
    })
    .await?;
    sheet
        .autofilter(0, 0, row.max(1), (COLUMNS.len() - 1) as u16)
        .map_err(xerr)?;
    wb.save(out).map_err(xerr)?;
    Ok(n)
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
mod csv_cell_tests {
    use super::csv_cell;

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
}
