//! PostgreSQL statements for `store::schedule`: what the front in `../schedule.rs` dispatches to, beside the SQLite ones in `../sqlite/schedule.rs`.

use super::PgStore;

impl PgStore {}
