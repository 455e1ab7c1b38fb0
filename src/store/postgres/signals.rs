//! PostgreSQL statements for `store::signals`: what the front in `../signals.rs` dispatches to, beside the SQLite ones in `../sqlite/signals.rs`.

use super::PgStore;

impl PgStore {}
