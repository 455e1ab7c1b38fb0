//! PostgreSQL statements for `store::review`: what the front in `../review.rs` dispatches to, beside the SQLite ones in `../sqlite/review.rs`.

use super::PgStore;

impl PgStore {}
