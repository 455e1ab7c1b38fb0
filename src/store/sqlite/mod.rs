//! The SQLite backend: one file per area of the store, each `impl
//! SqliteStore` with that area's statements. In: a `sqlite:` URL; out: the
//! handle the front [`Store`](super::Store) dispatches to. WAL, `BEGIN
//! IMMEDIATE` for writes, FTS5 for the queue's search.

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

pub(crate) use certs::CertImportWriter;
pub(crate) use findings::MatchRunWriter;

use super::{Result, StoreError};
use crate::clock::Clock;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// A pool on one SQLite file, and the clock its stamps come from.
#[derive(Clone)]
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it if needed) the database at `url` and applies migrations.
    pub(crate) async fn open(url: &str, clock: Arc<dyn Clock>) -> Result<SqliteStore> {
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|source| StoreError::Open {
                url: url.into(),
                source,
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", "-131072")
            .pragma("temp_store", "memory");
        // Creating the file and switching it to WAL takes a lock that the
        // busy timeout does not cover; another process doing the same at the
        // same moment makes the first connection fail: try again shortly.
        let mut attempt = 0;
        let pool = loop {
            match SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(opts.clone())
                .await
            {
                Ok(pool) => break pool,
                Err(source) if attempt >= 10 || !is_locked(&source) => {
                    return Err(StoreError::Open {
                        url: url.into(),
                        source,
                    });
                }
                Err(_) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
            }
        };
        migrate(&pool).await?;
        let store = SqliteStore { pool, clock };
        store.backfill_search_text().await?;
        Ok(store)
    }

    /// A write transaction. `BEGIN IMMEDIATE` takes the write lock at the
    /// start, so concurrent writers wait (busy_timeout) instead of failing
    /// when a read inside a deferred transaction would have to be upgraded.
    pub(crate) async fn write_tx(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub(crate) fn with_clock(mut self, clock: Arc<dyn Clock>) -> SqliteStore {
        self.clock = clock;
        self
    }

    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Now, by the store's clock.
    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Now as stored: RFC 3339 in UTC with milliseconds.
    pub(crate) fn now_rfc3339(&self) -> String {
        crate::store::stamp_rfc3339(self.now())
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool, for `db copy`, which reads and writes every table as it is.
    pub(super) fn pool(&self) -> &SqlitePool {
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

fn is_locked(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.code().is_some_and(|c| c == "5" || c == "6"))
}

/// Applies the embedded migrations. SQLite has no migration lock: when two
/// processes open a new database at once, one of them fails on a migration
/// the other has just applied; trying again then finds it applied.
async fn migrate(pool: &SqlitePool) -> Result<()> {
    let migrator = sqlx::migrate!("./migrations/sqlite");
    let mut attempt = 0;
    loop {
        match migrator.run(pool).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 10 => {
                attempt += 1;
                tracing::debug!(error = %e, attempt, "migration raced with another process; retrying");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
