//! PostgreSQL statements for `store::certs`: what the front in `../certs.rs` dispatches to, beside the SQLite ones in `../sqlite/certs.rs`.

use super::PgStore;

impl PgStore {}
