//! PostgreSQL statements for `store::retention`: what the front in `../retention.rs` dispatches to, beside the SQLite ones in `../sqlite/retention.rs`.

use super::PgStore;

impl PgStore {}
