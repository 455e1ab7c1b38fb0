//! PostgreSQL statements for `store::notices`: what the front in `../notices.rs` dispatches to, beside the SQLite ones in `../sqlite/notices.rs`.

use super::PgStore;

impl PgStore {}
