//! Stage 2, the certificate database as data: encodings of official exports,
//! the model-list parser and the product catalog (pure; importing an export
//! into the store is [`crate::cert_import`]).

pub mod catalog;
pub mod encoding;
pub mod models;

pub use catalog::{Catalog, CatalogEntry, TextScope};
