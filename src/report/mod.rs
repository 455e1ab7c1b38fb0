//! Report stage, after review and notices: the monthly statistics report
//! for the bureau's monthly return (per platform: listings checked,
//! findings by verdict and product group, decisions, notices issued,
//! removals verified, overdue notices, relists) and the seller risk
//! ranking. Figures come from `Store::month_figures` and
//! `Store::seller_counts`; [`monthly`] and [`sellers`] assemble them
//! (pure), [`xlsx`] writes the workbooks. Every figure is defined in
//! [`monthly::DEFINITIONS`] (口径说明), shown with the report.

pub mod month;
pub mod monthly;
pub mod sellers;
pub mod xlsx;

pub use month::{Month, MonthError, beijing_today};
pub use monthly::{DEFINITIONS, GroupRow, MonthlyReport, PlatformFigures};
pub use sellers::SellerRisk;

use crate::certdb::Catalog;
use crate::extract::PlatformLabels;
use crate::store::{Store, StoreError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Xlsx {
        path: PathBuf,
        source: rust_xlsxwriter::XlsxError,
    },
    #[error("writing {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: the ranking is written as .xlsx or .csv (flag --out)")]
    Format { path: PathBuf },
}

/// The report of `month`, made now; platforms named by `labels`.
pub async fn monthly_report(
    store: &Store,
    catalog: &Catalog,
    labels: &PlatformLabels,
    month: Month,
) -> Result<MonthlyReport, StoreError> {
    let figures = store.month_figures(&month.window()).await?;
    let mut r = monthly::assemble(month, &figures, catalog, store.now());
    for p in &mut r.platforms {
        p.label = labels.label(&p.platform).to_string();
    }
    Ok(r)
}

/// The seller ranking (of `platform`, or all), the first `limit` when
/// given; platforms named by `labels`.
pub async fn seller_ranking(
    store: &Store,
    labels: &PlatformLabels,
    platform: Option<&str>,
    limit: Option<usize>,
) -> Result<Vec<SellerRisk>, StoreError> {
    let mut rows = sellers::rank(store.seller_counts(platform).await?, limit);
    for r in &mut rows {
        r.platform_label = labels.label(&r.platform).to_string();
    }
    Ok(rows)
}

/// `月报-2026-11.xlsx`.
pub fn monthly_file_name(month: &str) -> String {
    format!("月报-{month}.xlsx")
}

/// Writes the report's workbook into `dir` (created when missing); returns its path.
pub fn write_monthly(report: &MonthlyReport, dir: &Path) -> Result<PathBuf, ReportError> {
    let path = dir.join(monthly_file_name(&report.month));
    let bytes = xlsx::monthly(report).map_err(|source| ReportError::Xlsx {
        path: path.clone(),
        source,
    })?;
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    std::fs::write(&path, bytes).map_err(|source| ReportError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Writes the ranking to `path`, as XLSX or CSV by its extension.
pub fn write_sellers(rows: &[SellerRisk], path: &Path) -> Result<(), ReportError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match ext.as_deref() {
        Some("xlsx") => xlsx::sellers(rows).map_err(|source| ReportError::Xlsx {
            path: path.to_path_buf(),
            source,
        })?,
        Some("csv") => sellers::csv(rows).map_err(|source| ReportError::Csv {
            path: path.to_path_buf(),
            source,
        })?,
        _ => {
            return Err(ReportError::Format {
                path: path.to_path_buf(),
            });
        }
    };
    std::fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}
