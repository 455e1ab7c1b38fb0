//! PostgreSQL statements for `store::listings`: what the front in `../listings.rs` dispatches to, beside the SQLite ones in `../sqlite/listings.rs`.

use super::PgStore;

impl PgStore {}
