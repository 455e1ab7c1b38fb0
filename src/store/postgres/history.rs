//! PostgreSQL statements for `store::history`: what the front in `../history.rs` dispatches to, beside the SQLite ones in `../sqlite/history.rs`.

use super::PgStore;

impl PgStore {}
