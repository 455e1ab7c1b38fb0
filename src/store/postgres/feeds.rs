//! PostgreSQL statements for `store::feeds`: what the front in `../feeds.rs` dispatches to, beside the SQLite ones in `../sqlite/feeds.rs`.

use super::PgStore;

impl PgStore {}
