//! Storage: the only module that speaks SQL. SQLite is the embedded default;
//! the public methods are what a PostgreSQL implementation will provide too
//! (migrations per backend live in `migrations/<backend>/`).

mod certs;
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

pub use certs::{
    CertFreshness, CertHistoryRow, CertImportWriter, CertStats, ExistingCert, ImportCounts,
    StoredCert,
};
pub use crawl::{
    Applied, EntryKind, EntryResult, EntryUpdate, FrontierCounts, FrontierEntry, NewEntry,
    PageMeta, PageWrite, ScanRecord,
};
pub use feeds::{
    CertEvent, CitingListing, ConfirmedFinding, FeedCertificate, FeedChannel, FeedDelivery,
    FeedLists, FeedToken, FeedTruncated, RepeatSeller, stamp as feed_stamp,
};
pub use findings::{ExportRow, FindingWrite, MATCH_RUN_STALE, MatchRunWriter};
pub use gauges::GaugeCounts;
pub use history::{CertChange, DIFF_LIST_CAP, DiffList, DiffListing, DiffLists, DiffScope};
pub use listings::{Change, ListingCounts, ListingFilter, ListingWrite, StoredListing};
pub use notices::{
    Ack, AckRefused, BatchOutcome, NoticeBatch, NoticeCheck, NoticeLine, NoticeRow, NoticeStep,
    PlatformPeriod, RECHECK_REMOVED_DAYS, RELIST_PRIORITY, RelistCandidate, VerifyScope,
};
pub use report::{
    CheckedCount, IssuedBatch, MonthFigures, MonthWindow, SellerCounts, VerifiedRemoval,
};
pub use retention::PageBatch;
pub use review::{
    AuditPage, COUNT_CAP as QUEUE_COUNT_CAP, CaptureRow, DashboardData, DecideOutcome, DecisionRow,
    FindingDetail, HistoryRow, QueuePage, QueueRow, ScanTrend, SessionInfo, User, VerdictChange,
};
pub use schedule::{JobRun, LockHolder, NewJobRun};
pub use signals::{ActiveSignal, LeadRow, NewSignal, PriorityRow};

use crate::clock::Clock;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::sync::Arc;
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
    #[error("{what} `{key}` already exists")]
    Exists { what: &'static str, key: String },
    #[error("no {what} `{key}`")]
    NotFound { what: &'static str, key: String },
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

/// A handle on the database; cheap to clone. Every time it stamps comes
/// from its clock (the system clock unless [`Store::with_clock`] says
/// otherwise).
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
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
                        url: url.to_string(),
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
        let store = Store {
            pool,
            clock: crate::clock::system(),
        };
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

    /// The same database, stamping times from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Store {
        self.clock = clock;
        self
    }

    /// The store's clock, for whatever stamps times that the store keeps.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Now, by the store's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Now as stored: RFC 3339 in UTC with milliseconds.
    pub(crate) fn now_rfc3339(&self) -> String {
        stamp_rfc3339(self.now())
    }

    pub async fn close(&self) {
        self.pool.close().await;
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

/// The database file a `sqlite:` URL names (`sqlite://data/cccwatch.db?mode=rwc`
/// → `data/cccwatch.db`); `None` for an in-memory database or another URL.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

pub(crate) fn stamp_rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
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

#[cfg(test)]
mod tests {
    use super::sqlite_file;
    use std::path::Path;

    #[test]
    fn the_database_file_of_a_url() {
        assert_eq!(
            sqlite_file("sqlite://data/cccwatch.db?mode=rwc").as_deref(),
            Some(Path::new("data/cccwatch.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///var/lib/cccwatch/c.db").as_deref(),
            Some(Path::new("/var/lib/cccwatch/c.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:c.db").as_deref(),
            Some(Path::new("c.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x/y"), None);
    }
}
