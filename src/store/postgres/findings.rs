//! PostgreSQL statements for `store::findings`: what the front in `../findings.rs` dispatches to, beside the SQLite ones in `../sqlite/findings.rs`.

use super::PgStore;

impl PgStore {}
