//! The PostgreSQL backend: one file per area of the store, each `impl
//! PgStore` with that area's statements, beside the SQLite ones in
//! `../sqlite/`. In: a `postgres://` URL; out: the handle the front
//! [`Store`](super::Store) dispatches to.
//!
//! The schema is `migrations/postgres/` (see its README for how each SQLite
//! construct maps): instants are `TIMESTAMPTZ(3)`, calendar days `DATE`,
//! flags `BOOLEAN`; the front's types keep instants as RFC 3339 text, so
//! this backend binds them with [`instant`] and reads them back with
//! [`stamp`]. Bulk writes use `UNNEST` arrays or `COPY`; claims use
//! `FOR UPDATE SKIP LOCKED`.

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

// The front's writer wrappers take these once it dispatches to PostgreSQL.
pub(crate) use certs::CertImportWriter;
pub(crate) use findings::MatchRunWriter;

use super::{Result, StoreError};
use crate::clock::Clock;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// A pool on one PostgreSQL database, and the clock its stamps come from.
#[derive(Clone)]
pub(crate) struct PgStore {
    pool: PgPool,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database at `url` and applies the migrations (the
    /// migrator takes an advisory lock: processes starting together wait
    /// for each other instead of racing).
    pub(crate) async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<PgStore> {
        let opts = PgConnectOptions::from_str(url)
            .map_err(|source| StoreError::Open {
                url: url.into(),
                source,
            })?
            .application_name("cccwatch")
            // Instants are cut into days in UTC unless a query says otherwise.
            .options([("timezone", "UTC")]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await
            .map_err(|source| StoreError::Open {
                url: url.into(),
                source,
            })?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let store = PgStore { pool, clock };
        // Rows written by other means than this program get their search text.
        store.backfill_search_text().await?;
        Ok(store)
    }

    /// A write transaction (READ COMMITTED; statements that must not race
    /// take their own row or advisory locks).
    pub(crate) async fn write_tx(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    pub(crate) fn with_clock(mut self, clock: Arc<dyn Clock>) -> PgStore {
        self.clock = clock;
        self
    }

    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Now, by the store's clock, to the millisecond (as stored).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        truncate_ms(self.clock.now())
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool, for `db copy`, which reads and writes every table as it is.
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The migrations recorded as applied, in order.
    pub(crate) async fn migrations(&self) -> Result<Vec<i64>> {
        use crate::store::Ctx;
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&self.pool)
            .await
            .ctx("listing applied migrations")
    }

    /// Tests only: runs `sql` (one or more statements, no parameters), for
    /// seeding rows that no method of the area under test writes. Keep it
    /// to SQL both backends read the same (text stamps such as
    /// `'2026-06-30T08:00:00.000Z'`, `TRUE`/`FALSE`, no `?`/`$1`).
    #[cfg(test)]
    pub(crate) async fn exec_sql(&self, sql: &str) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("seeding with `{sql}`: {e}"));
    }

    /// Tests only: the one integer `sql` selects (a count, an id).
    #[cfg(test)]
    pub(crate) async fn scalar_i64(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("reading `{sql}`: {e}"))
    }
}

/// `s` without U+0000, which PostgreSQL text cannot hold: scraped text
/// and keys are cleaned so on every write and every lookup (SQLite keeps
/// them; `db copy` removes and counts them).
pub(crate) fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains('\0') {
        std::borrow::Cow::Owned(s.replace('\0', ""))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

fn truncate_ms(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{DurationRound, TimeDelta};
    at.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(at)
}

/// An instant the front passes as RFC 3339 text, for binding to a
/// `TIMESTAMPTZ` column.
pub(crate) fn instant(text: &str, what: &'static str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            what,
            detail: format!("{text}: {e}"),
        })
}

/// A `TIMESTAMPTZ` read back, as the front's types carry it (the same text
/// the SQLite backend stores: `2026-12-06T08:00:00.000Z`).
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    super::stamp_rfc3339(at)
}

/// A calendar day the front passes as `YYYY-MM-DD`, for a `DATE` column.
pub(crate) fn day(text: &str, what: &'static str) -> Result<NaiveDate> {
    super::parse_date(text, what)
}

/// A `DATE` read back as `YYYY-MM-DD`.
pub(crate) fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Scratch databases for tests: each test gets its own database on the
/// server named by `CCCWATCH_TEST_PG`, dropped when the handle is.
#[cfg(test)]
pub(crate) mod scratch {
    use super::PgStore;
    use crate::clock::Clock;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// The server for PostgreSQL tests, if the environment names one.
    pub(crate) fn server_url() -> Option<String> {
        std::env::var("CCCWATCH_TEST_PG")
            .ok()
            .filter(|u| !u.trim().is_empty())
    }

    /// A fresh database and a store on it; dropping it drops the database.
    pub(crate) struct Scratch {
        pub store: PgStore,
        admin_url: String,
        pub name: String,
    }

    /// `None` (and a line saying the test was skipped) without `CCCWATCH_TEST_PG`.
    pub(crate) async fn database(test: &str, clock: Arc<dyn Clock>) -> Option<Scratch> {
        let Some(admin_url) = server_url() else {
            eprintln!("skipped: {test} needs CCCWATCH_TEST_PG (a PostgreSQL URL)");
            return None;
        };
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "cccwatch_t_{}_{}_{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        let mut admin = admin(&admin_url).await;
        // The name is ours (digits and underscores): safe to splice.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
             LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )))
        .execute(&mut admin)
        .await
        .expect("creating a scratch database");
        let url = with_database(&admin_url, &name);
        let store = PgStore::open(&url, clock)
            .await
            .expect("opening the scratch database");
        Some(Scratch {
            store,
            admin_url,
            name,
        })
    }

    /// A connection to the server's administrative database.
    pub(crate) async fn admin(url: &str) -> sqlx::PgConnection {
        use sqlx::Connection;
        sqlx::PgConnection::connect(url)
            .await
            .expect("connecting to CCCWATCH_TEST_PG")
    }

    /// `url` with its database name replaced by `name`.
    fn with_database(url: &str, name: &str) -> String {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let scheme_end = base.find("://").map_or(0, |i| i + 3);
        let path_start = base[scheme_end..]
            .find('/')
            .map_or(base.len(), |i| scheme_end + i);
        let mut out = format!("{}/{name}", &base[..path_start]);
        if !query.is_empty() {
            out.push('?');
            out.push_str(query);
        }
        out
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let (url, name) = (self.admin_url.clone(), self.name.clone());
            // Drop may run inside a runtime: do the async work on a thread
            // of its own, and wait for it. The store's pool is driven by the
            // test's runtime, which waits here: closing it from this thread
            // would never finish; `WITH (FORCE)` ends its connections.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime");
                rt.block_on(async move {
                    let mut admin = admin(&url).await;
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                });
            })
            .join();
        }
    }

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}

#[cfg(test)]
mod tests {
    use super::scratch;

    #[test]
    fn instants_and_days_round_trip_through_the_fronts_text() {
        let at = super::instant("2026-12-06T08:00:00.123Z", "a test").unwrap();
        assert_eq!(super::stamp(at), "2026-12-06T08:00:00.123Z");
        // Another offset is the same instant, printed in UTC.
        let east = super::instant("2026-12-06T16:00:00.123+08:00", "a test").unwrap();
        assert_eq!(east, at);
        let err = super::instant("yesterday", "scans.started_at").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("scans.started_at") && msg.contains("yesterday"),
            "{msg}"
        );
        let d = super::day("2026-12-06", "a test").unwrap();
        assert_eq!(super::day_text(d), "2026-12-06");
        assert!(super::day("2026-13-01", "notices.deadline").is_err());
    }

    #[test]
    fn now_is_cut_to_the_millisecond_as_stored() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-06T08:00:00.123456789Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            super::stamp(super::truncate_ms(t)),
            "2026-12-06T08:00:00.123Z"
        );
        assert_eq!(super::truncate_ms(t).timestamp_subsec_nanos(), 123_000_000);
    }

    #[tokio::test]
    async fn a_scratch_database_is_migrated_and_dropped() {
        let Some(db) = scratch::database(
            "a_scratch_database_is_migrated_and_dropped",
            crate::clock::system(),
        )
        .await
        else {
            return;
        };
        let tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_one(&db.store.pool)
        .await
        .unwrap();
        assert!(tables >= 31, "{tables} tables");
        let name = db.name.clone();
        let admin = scratch::server_url().unwrap();
        drop(db);
        let mut conn = scratch::admin(&admin).await;
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(left, 0, "the scratch database is dropped");
    }
}
