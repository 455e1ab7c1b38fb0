//! Storage: the only module that speaks SQL. In: what the pipeline writes
//! (frontier, pages, listings, findings, decisions, notices, ...); out: what
//! it reads back, as plain types.
//!
//! [`Store`] is the front every caller holds. Each area (`certs`, `crawl`,
//! `review`, ...) defines its types and the front's methods, and each method
//! dispatches once to the backend that holds the database: the SQL of a
//! backend lives in its own folder, one file per area, with its migrations
//! in `migrations/<backend>/`. SQLite (`sqlite/`) is the embedded default;
//! PostgreSQL (`postgres/`) is for several processes on several machines
//! (`cccwatch worker`, see docs/SCALING.md).

/// Runs `$body` on whichever backend holds the database: the one place a
/// front method chooses. `dispatch!(self, |db| db.scan(id).await)`.
macro_rules! dispatch {
    ($self:ident, |$db:ident| $body:expr) => {
        match &$self.db {
            $crate::store::Db::Sqlite($db) => $body,
            $crate::store::Db::Postgres($db) => $body,
        }
    };
}

mod certs;
mod cluster;
#[cfg(test)]
mod contract;
pub mod copy;
mod crawl;
mod feeds;
mod findings;
mod gauges;
mod history;
mod listings;
mod notices;
mod postgres;
mod report;
mod retention;
mod review;
mod schedule;
mod signals;
mod sqlite;

pub use certs::{
    CertFreshness, CertHistoryRow, CertImportWriter, CertStats, ExistingCert, ImportCounts,
    StoredCert,
};
pub use cluster::{ClusterSnapshot, DueScan, Heartbeat, HostLease, ProcessView, WorkerRow};
pub use crawl::{
    Applied, Claimant, EntryKind, EntryResult, EntryUpdate, FrontierCounts, FrontierEntry,
    NewEntry, PageMeta, PageWrite, ScanRecord, host_of,
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
    DecisionRule, FindingDetail, HistoryRow, QueuePage, QueueRow, ScanTrend, SessionInfo, User,
    VerdictChange,
};
pub use schedule::{JobRun, LockHolder, NewJobRun};
pub use signals::{ActiveSignal, LeadRow, NewSignal, PriorityRow};

use crate::clock::Clock;
use crate::db_url::DbUrl;
use std::sync::Arc;

/// Errors from the store, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL prints redacted ([`DbUrl`]).
    #[error("cannot open database `{url}`: {source}")]
    Open { url: DbUrl, source: sqlx::Error },
    #[error(
        "unsupported database URL `{url}` (key database.url): use sqlite://PATH or postgres://USER@HOST/DATABASE"
    )]
    Unsupported { url: DbUrl },
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

impl StoreError {
    /// Whether the database broke a lock cycle by aborting this transaction
    /// (PostgreSQL `40P01`): the whole transaction may be run again.
    pub fn is_deadlock(&self) -> bool {
        match self {
            StoreError::Query { source, .. } => source
                .as_database_error()
                .and_then(|e| e.code())
                .is_some_and(|c| c == "40P01"),
            _ => false,
        }
    }
}

pub(crate) trait Ctx<T> {
    fn ctx(self, what: &'static str) -> Result<T>;
}

impl<T> Ctx<T> for std::result::Result<T, sqlx::Error> {
    fn ctx(self, what: &'static str) -> Result<T> {
        self.map_err(|source| StoreError::Query { what, source })
    }
}

/// [`RunState`](crate::domain::RunState) is a TEXT column on every backend
/// (`scans.state`, `job_runs.state`): bound as its word, read back by
/// parsing it; a word it does not know is a decode error that names it.
impl<DB: sqlx::Database> sqlx::Type<DB> for crate::domain::RunState
where
    str: sqlx::Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <str as sqlx::Type<DB>>::type_info()
    }

    fn compatible(ty: &DB::TypeInfo) -> bool {
        <str as sqlx::Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for crate::domain::RunState
where
    &'static str: sqlx::Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&'static str as sqlx::Encode<'q, DB>>::encode_by_ref(&self.as_str(), buf)
    }
}

impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for crate::domain::RunState
where
    &'r str: sqlx::Decode<'r, DB>,
{
    fn decode(
        value: <DB as sqlx::Database>::ValueRef<'r>,
    ) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(<&'r str as sqlx::Decode<'r, DB>>::decode(value)?.parse()?)
    }
}

/// A handle on the database; cheap to clone. Every time it stamps comes
/// from its clock (the system clock unless [`Store::with_clock`] says
/// otherwise).
#[derive(Clone)]
pub struct Store {
    db: Db,
}

/// The backend that holds the database.
#[derive(Clone)]
enum Db {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        dispatch!(self, |db| f.debug_tuple("Store").field(db).finish())
    }
}

impl Store {
    /// Opens (creating it if needed) the database at `url` and applies
    /// migrations. Errors name the URL redacted.
    pub async fn open(url: &str) -> Result<Store> {
        let clock = crate::clock::system();
        if url.starts_with("sqlite:") {
            let db = sqlite::SqliteStore::open(url, clock).await?;
            return Ok(Store { db: Db::Sqlite(db) });
        }
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let db = postgres::PgStore::open(url, clock).await?;
            return Ok(Store {
                db: Db::Postgres(db),
            });
        }
        Err(StoreError::Unsupported { url: url.into() })
    }

    /// The same database, stamping times from `clock`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Store {
        match self.db {
            Db::Sqlite(db) => Store {
                db: Db::Sqlite(db.with_clock(clock)),
            },
            Db::Postgres(db) => Store {
                db: Db::Postgres(db.with_clock(clock)),
            },
        }
    }

    /// Whether the database is PostgreSQL (shared by several machines).
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    /// The store's clock, for whatever stamps times that the store keeps.
    pub fn clock(&self) -> Arc<dyn Clock> {
        dispatch!(self, |db| db.clock())
    }

    /// Now, by the store's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock().now()
    }

    /// The migrations recorded as applied to this database, in order.
    pub async fn migrations(&self) -> Result<Vec<i64>> {
        dispatch!(self, |db| db.migrations().await)
    }

    pub async fn close(&self) {
        dispatch!(self, |db| db.close().await)
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
