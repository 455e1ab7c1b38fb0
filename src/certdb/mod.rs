//! Stage 2, the certificate database: reading official exports (CSV in any
//! Chinese encoding, XLSX), the model-list parser, the catalog and the brand
//! alias table.

pub mod catalog;
pub mod dates;
pub mod encoding;
pub mod import;
pub mod models;

pub use catalog::{Catalog, CatalogEntry, TextScope};
pub use import::{ImportError, ImportOptions, ImportReport, RejectsPlace, RowError};
