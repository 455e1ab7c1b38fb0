//! PostgreSQL statements for `store::report`: what the front in `../report.rs` dispatches to, beside the SQLite ones in `../sqlite/report.rs`.

use super::PgStore;

impl PgStore {}
