//! Storage: the only module that speaks SQL. SQLite is the embedded default;
//! the public methods are what a PostgreSQL implementation will provide too
//! (migrations per backend live in `migrations/<backend>/`).

mod certs;
mod crawl;
mod findings;
mod listings;

pub use certs::{
    CertHistoryRow, CertImportWriter, CertStats, ExistingCert, ImportCounts, StoredCert,
};
pub use crawl::{
    Applied, EntryKind, EntryResult, EntryUpdate, FrontierCounts, FrontierEntry, NewEntry,
    PageMeta, PageWrite, ScanRecord,
};
pub use findings::{ExportRow, FindingWrite, MatchRunWriter};
pub use listings::{Change, ListingCounts, ListingFilter, ListingWrite, StoredListing};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// Errors from the store, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database `{url}`: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error(
        "unsupported database URL `{url}` (key database.url): use sqlite://PATH (PostgreSQL support comes later)"
    )]
    Unsupported { url: String },
    #[error("applying database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error while {what}: {source}")]
    Query {
        what: &'static str,
        source: sqlx::Error,
    },
    #[error("stored data is invalid ({what}): {detail}")]
    Corrupt { what: &'static str, detail: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub(crate) trait Ctx<T> {
    fn ctx(self, what: &'static str) -> Result<T>;
}

impl<T> Ctx<T> for std::result::Result<T, sqlx::Error> {
    fn ctx(self, what: &'static str) -> Result<T> {
        self.map_err(|source| StoreError::Query { what, source })
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating it if needed) the database at `url` and applies migrations.
    pub async fn open(url: &str) -> Result<Store> {
        if !url.starts_with("sqlite:") {
            return Err(StoreError::Unsupported {
                url: url.to_string(),
            });
        }
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|source| StoreError::Open {
                url: url.to_string(),
                source,
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", "-131072")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|source| StoreError::Open {
                url: url.to_string(),
                source,
            })?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Store { pool })
    }

    /// A write transaction. `BEGIN IMMEDIATE` takes the write lock at the
    /// start, so concurrent writers wait (busy_timeout) instead of failing
    /// when a read inside a deferred transaction would have to be upgraded.
    pub(crate) async fn write_tx(
        &self,
    ) -> std::result::Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(crate) fn parse_date(s: &str, what: &'static str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| StoreError::Corrupt {
        what,
        detail: format!("{s}: {e}"),
    })
}

pub(crate) fn parse_opt_date(
    s: Option<String>,
    what: &'static str,
) -> Result<Option<chrono::NaiveDate>> {
    s.filter(|s| !s.is_empty())
        .map(|s| parse_date(&s, what))
        .transpose()
}
