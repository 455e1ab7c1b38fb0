//! PostgreSQL statements for `store::crawl`: what the front in `../crawl.rs` dispatches to, beside the SQLite ones in `../sqlite/crawl.rs`.

use super::PgStore;

impl PgStore {}
