//! The storage contract: behaviour tests written once and run against every
//! backend. In: a test body over a `db` handle and the `clock` its stamps
//! come from; out: one test per backend (`<name>::sqlite`, `<name>::postgres`).
//!
//! Each backend gets a fresh database of its own: SQLite in memory;
//! PostgreSQL a scratch database on the server `CCCWATCH_TEST_PG` names,
//! dropped at the end (without the variable the PostgreSQL test says it was
//! skipped and passes). Both run on a [`ManualClock`] set to
//! [`START`], so stamps and "today" are the same on both.
//!
//! A body calls the backend's methods by name; both backends have the same
//! methods with the same signatures, which is what this suite holds them to.

use crate::clock::{Clock, ManualClock};
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// A claimant that is no registered process, on any host: what a test
/// body claims and writes as.
pub(crate) const ANY: crate::store::Claimant<'static> = crate::store::Claimant {
    owner: "t",
    hosts: None,
};

/// The instant every contract test starts at: 2026-06-30 08:00 UTC
/// (16:00 in Beijing).
pub(crate) const START: &str = "2026-06-30T08:00:00.000Z";

pub(crate) fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(START)
        .expect("START is RFC 3339")
        .with_timezone(&Utc)
}

/// A manual clock at [`START`], and the same as the trait object a store takes.
pub(crate) fn clock() -> (Arc<ManualClock>, Arc<dyn Clock>) {
    let manual = Arc::new(ManualClock::new(start()));
    let dynamic: Arc<dyn Clock> = manual.clone();
    (manual, dynamic)
}

pub(crate) async fn sqlite(clock: Arc<dyn Clock>) -> crate::store::sqlite::SqliteStore {
    crate::store::sqlite::SqliteStore::open("sqlite::memory:", clock)
        .await
        .expect("opening an in-memory SQLite database")
}

/// Runs a body against SQLite and, when `CCCWATCH_TEST_PG` is set, against
/// PostgreSQL: `contract!(name, |db, clock| { ... })`, where `db` is a
/// reference to the backend and `clock` an `Arc<ManualClock>` driving it.
macro_rules! contract {
    ($name:ident, |$db:ident, $clock:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let ($clock, dynamic) = $crate::store::contract::clock();
                let store = $crate::store::contract::sqlite(dynamic).await;
                #[allow(unused_variables)]
                let $db = &store;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let ($clock, dynamic) = $crate::store::contract::clock();
                let Some(scratch) =
                    $crate::store::postgres::scratch::database(module_path!(), dynamic).await
                else {
                    return;
                };
                #[allow(unused_variables)]
                let $db = &scratch.store;
                $body
            }
        }
    };
}

mod certs;
mod cluster;
mod crawl;
mod feeds;
mod findings;
mod gauges;
mod history;
mod listings;
mod notices;
mod report;
mod retention;
mod review;
mod schedule;
mod signals;
