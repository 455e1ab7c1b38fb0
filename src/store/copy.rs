//! `cccwatch db copy`: one database into another (SQLite → PostgreSQL when a
//! bureau moves to the shared database, and back), table by table in
//! foreign-key order. In: two URLs; out: a [`CopyReport`] with the rows of
//! every table on both sides, the evidence pages checked against their
//! SHA-256, and the audit chain verified on the destination.
//!
//! Rows keep their ids. Each batch is its own transaction and inserts only
//! rows the destination does not have (`ON CONFLICT DO NOTHING` /
//! `INSERT OR IGNORE`): a copy that stopped half-way is finished by running
//! it again, and a second run of a finished copy inserts nothing. Nothing in
//! the destination is updated or deleted. Values are converted by the
//! destination's column type: RFC 3339 text ↔ `TIMESTAMPTZ`, `YYYY-MM-DD` ↔
//! `DATE` (an empty date is no date), 0/1 ↔ `BOOLEAN`, JSON text as is,
//! blobs ↔ `BYTEA`. PostgreSQL text cannot hold U+0000: such characters in
//! crawled text are removed and counted. A value that fits no column type
//! stops the copy with the table, row and column.

use super::{Result as StoreResult, Store, StoreError, postgres::PgStore, sqlite::SqliteStore};
use crate::domain::audit::Report as AuditReport;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::{Row, TypeInfo, ValueRef};
use std::collections::BTreeSet;
use std::io::Read;

/// Every table, each after the tables its foreign keys name.
pub const TABLES: &[&str] = &[
    "cert_imports",
    "certificates",
    "cert_history",
    "brands",
    "match_runs",
    "listings",
    "listing_history",
    "findings",
    "finding_history",
    "scans",
    "pages",
    "frontier",
    "scan_listings",
    "users",
    "sessions",
    "api_tokens",
    "decisions",
    "audit_log",
    "audit_head",
    "notice_batches",
    "notices",
    "notice_events",
    "relists",
    "risk_signals",
    "feed_tokens",
    "feed_deliveries",
    "scan_locks",
    "job_state",
    "job_runs",
    "catalog_state",
    "judged_state",
];

/// Tables of the running cluster, not of the bureau's data: the processes
/// registered with a database, the host leases they hold, and the
/// certificate generation that tells them to reload. They must exist on
/// both sides but are not copied: the destination's processes are its own,
/// and its generation moves after the copy (the certificates changed).
pub const RUNTIME_TABLES: &[&str] = &["workers", "host_leases", "cert_generation"];

/// Columns one backend has and the other has not, on purpose: PostgreSQL
/// keeps the brands' file order in a column (SQLite uses the rowid), and
/// queued findings carry their listing's search text for the queue's
/// trigram index (SQLite searches FTS5); a trigger fills it as rows come
/// in (migrations/postgres/20261207000007_findings_search.sql).
const BACKEND_ONLY: &[(&str, &str)] = &[("brands", "import_order"), ("findings", "search_text")];

/// Rows per batch (one transaction each) unless told otherwise.
pub const DEFAULT_BATCH: usize = 2_000;

/// What went wrong, with where.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{side} database, table {table}: {what}: {source}")]
    Query {
        side: Side,
        table: String,
        what: &'static str,
        source: sqlx::Error,
    },
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    Url(crate::db_url::DbUrl),
    #[error("the source and the destination are the same database (`{0}`)")]
    Same(crate::db_url::DbUrl),
    #[error(
        "table {table}: {detail} (the two databases are at different schema versions? run `cccwatch db migrate` on both)"
    )]
    Schema { table: String, detail: String },
    #[error("table {table}, row {row}, column {column}: {detail}")]
    Value {
        table: String,
        row: String,
        column: String,
        detail: String,
    },
}

/// Which end of the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Destination,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Destination => "destination",
        })
    }
}

/// One table's rows: in the source, inserted by this run, in the destination after it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCount {
    pub table: &'static str,
    pub source: u64,
    pub inserted: u64,
    pub destination: u64,
}

/// Evidence pages after the copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EvidenceCheck {
    pub pages: u64,
    /// Bodies whose gunzipped bytes hash to the stored SHA-256.
    pub bodies_verified: u64,
    /// Pages whose body retention has removed (only their hash is kept).
    pub pruned: u64,
    /// Destination pages whose body does not hash to its SHA-256 (ids).
    pub mismatched: Vec<i64>,
    /// Every page's id, SHA-256 and stored body are byte for byte those of the source.
    pub same_as_source: bool,
}

/// What a copy did and found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CopyReport {
    pub tables: Vec<TableCount>,
    /// U+0000 characters removed from text on the way to PostgreSQL.
    pub nul_removed: u64,
    pub evidence: EvidenceCheck,
    pub source_audit: AuditSummary,
    pub destination_audit: AuditSummary,
}

/// The audit chain as `audit verify` sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditSummary {
    pub entries: u64,
    pub last_hash: Option<String>,
    pub problems: usize,
}

impl From<&AuditReport> for AuditSummary {
    fn from(r: &AuditReport) -> Self {
        AuditSummary {
            entries: r.entries,
            last_hash: r.last_hash.clone(),
            problems: r.problems.len(),
        }
    }
}

impl CopyReport {
    /// Every count equal, every body verified and equal to the source's, and
    /// the destination's audit chain intact and ending where the source's does.
    pub fn ok(&self) -> bool {
        self.tables.iter().all(|t| t.source == t.destination)
            && self.evidence.mismatched.is_empty()
            && self.evidence.same_as_source
            && self.destination_audit.problems == 0
            && self.destination_audit.last_hash == self.source_audit.last_hash
            && self.destination_audit.entries == self.source_audit.entries
    }
}

/// Progress of a copy, for a bar: the table, rows done, rows in it.
pub trait CopyProgress {
    fn table(&mut self, _table: &str, _rows: u64) {}
    fn rows(&mut self, _done: u64) {}
    fn verifying(&mut self, _what: &str) {}
}

impl CopyProgress for () {}

/// Copies every table of `from` into `to` (both migrated first), then checks
/// the result. Run it while nothing else writes to either database.
pub async fn copy(
    from: &str,
    to: &str,
    batch: usize,
    progress: &mut dyn CopyProgress,
) -> Result<CopyReport, CopyError> {
    if from.trim() == to.trim() {
        return Err(CopyError::Same(from.into()));
    }
    let source = End::open(from, Side::Source).await?;
    let dest = End::open(to, Side::Destination).await?;
    let batch = batch.max(1);
    source.check_tables().await?;
    dest.check_tables().await?;

    let mut tables = Vec::with_capacity(TABLES.len());
    let mut nul_removed = 0;
    for &table in TABLES {
        let columns = shared_columns(&source, &dest, table).await?;
        let total = source.count(table).await?;
        progress.table(table, total);
        let copied = copy_table(&source, &dest, table, &columns, batch, progress).await?;
        nul_removed += copied.nul_removed;
        tables.push(TableCount {
            table,
            source: total,
            inserted: copied.inserted,
            destination: 0,
        });
    }
    dest.after_copy().await?;
    for t in &mut tables {
        t.destination = dest.count(t.table).await?;
    }

    progress.verifying("evidence pages");
    let src_pages = source.page_digest(false).await?;
    let dst_pages = dest.page_digest(true).await?;
    let evidence = EvidenceCheck {
        pages: dst_pages.pages,
        bodies_verified: dst_pages.verified,
        pruned: dst_pages.pruned,
        mismatched: dst_pages.mismatched,
        same_as_source: src_pages.digest == dst_pages.digest && src_pages.pages == dst_pages.pages,
    };
    progress.verifying("audit chain");
    let source_audit = AuditSummary::from(&source.store.verify_audit(None).await?);
    let destination_audit = AuditSummary::from(&dest.store.verify_audit(None).await?);
    source.store.close().await;
    dest.store.close().await;
    Ok(CopyReport {
        tables,
        nul_removed,
        evidence,
        source_audit,
        destination_audit,
    })
}

/// Applies the migrations to the database at `url`; returns the versions
/// applied (all of them, old and new).
pub async fn migrate(url: &str) -> StoreResult<Vec<i64>> {
    let store = Store::open(url).await?;
    let versions = store.migrations().await;
    store.close().await;
    versions
}

/// One end of a copy: the front (for the audit check) and the backend's pool.
struct End {
    side: Side,
    store: Store,
    pool: Pool,
}

enum Pool {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// A value on its way between backends.
#[derive(Debug, Clone)]
enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Bool(bool),
    Instant(chrono::DateTime<chrono::Utc>),
    Day(chrono::NaiveDate),
}

/// A column and how its backend types it: SQLite's declared type, or
/// PostgreSQL's `udt_name` (`int8`, `timestamptz`, `jsonb`, ...).
#[derive(Debug, Clone)]
struct Column {
    name: String,
    dest_type: String,
    source_type: String,
}

struct Copied {
    inserted: u64,
    nul_removed: u64,
}

impl End {
    async fn open(url: &str, side: Side) -> Result<End, CopyError> {
        let clock = crate::clock::system();
        let pool = if url.starts_with("sqlite:") {
            Pool::Sqlite(SqliteStore::open(url, clock.clone()).await?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Pool::Postgres(PgStore::open(url, clock.clone()).await?)
        } else {
            return Err(CopyError::Url(url.into()));
        };
        let store = match &pool {
            Pool::Sqlite(db) => Store {
                db: super::Db::Sqlite(db.clone()),
            },
            Pool::Postgres(db) => Store {
                db: super::Db::Postgres(db.clone()),
            },
        };
        Ok(End { side, store, pool })
    }

    fn err(&self, table: &str, what: &'static str) -> impl FnOnce(sqlx::Error) -> CopyError {
        let (side, table) = (self.side, table.to_string());
        move |source| CopyError::Query {
            side,
            table,
            what,
            source,
        }
    }

    /// Every table of the database is one `db copy` knows.
    async fn check_tables(&self) -> Result<(), CopyError> {
        let names: Vec<String> = match &self.pool {
            Pool::Sqlite(db) => {
                sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'listing_fts%' \
                 AND name <> '_sqlx_migrations'",
                )
                .fetch_all(db.pool())
                .await
            }
            Pool::Postgres(db) => {
                sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 AND table_name <> '_sqlx_migrations'",
                )
                .fetch_all(db.pool())
                .await
            }
        }
        .map_err(self.err("*", "listing tables"))?;
        let known: BTreeSet<&str> = TABLES.iter().chain(RUNTIME_TABLES).copied().collect();
        let have: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        if let Some(unknown) = have.difference(&known).next() {
            return Err(CopyError::Schema {
                table: unknown.to_string(),
                detail: format!("the {} has a table db copy does not know", self.side),
            });
        }
        if let Some(missing) = known.difference(&have).next() {
            return Err(CopyError::Schema {
                table: missing.to_string(),
                detail: format!("missing from the {}", self.side),
            });
        }
        Ok(())
    }

    /// `(name, type)` of each column in table order.
    async fn columns(&self, table: &str) -> Result<Vec<(String, String)>, CopyError> {
        match &self.pool {
            Pool::Sqlite(db) => {
                sqlx::query_as("SELECT name, type FROM pragma_table_info(?) ORDER BY cid")
                    .bind(table)
                    .fetch_all(db.pool())
                    .await
            }
            Pool::Postgres(db) => {
                sqlx::query_as(
                    "SELECT column_name::text, udt_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position",
                )
                .bind(table)
                .fetch_all(db.pool())
                .await
            }
        }
        .map_err(self.err(table, "reading its columns"))
    }

    async fn count(&self, table: &str) -> Result<u64, CopyError> {
        let sql = format!("SELECT COUNT(*) FROM \"{table}\"");
        let n: i64 = match &self.pool {
            Pool::Sqlite(db) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(db.pool())
                    .await
            }
            Pool::Postgres(db) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(db.pool())
                    .await
            }
        }
        .map_err(self.err(table, "counting rows"))?;
        Ok(n.max(0) as u64)
    }

    /// The order rows are read in: the primary key, so that ids come in
    /// ascending order (decisions name earlier decisions), and for brands the
    /// order of the file they came from.
    async fn order_by(&self, table: &str) -> Result<String, CopyError> {
        let keys: Vec<String> = match &self.pool {
            Pool::Sqlite(db) => {
                if table != "scan_listings" {
                    // Every other table has a rowid: insertion order.
                    return Ok("rowid".into());
                }
                sqlx::query_scalar("SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk")
                    .bind(table)
                    .fetch_all(db.pool())
                    .await
            }
            Pool::Postgres(db) => {
                if table == "brands" {
                    return Ok("import_order".into());
                }
                sqlx::query_scalar(
                    "SELECT a.attname::text FROM pg_index i \
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
                     WHERE i.indrelid = to_regclass($1) AND i.indisprimary \
                     ORDER BY array_position(i.indkey::int2[], a.attnum)",
                )
                .bind(table)
                .fetch_all(db.pool())
                .await
            }
        }
        .map_err(self.err(table, "reading its primary key"))?;
        if keys.is_empty() {
            return Err(CopyError::Schema {
                table: table.into(),
                detail: format!("no primary key in the {}", self.side),
            });
        }
        Ok(keys
            .iter()
            .map(|k| format!("\"{k}\""))
            .collect::<Vec<_>>()
            .join(", "))
    }

    /// After rows were inserted with their ids: identities move past them.
    async fn after_copy(&self) -> Result<(), CopyError> {
        // Workers on the destination reload their certificate index.
        let bump = "UPDATE cert_generation SET value = value + 1 WHERE one = 1";
        match &self.pool {
            Pool::Sqlite(db) => sqlx::query(bump).execute(db.pool()).await.map(|_| ()),
            Pool::Postgres(db) => sqlx::query(bump).execute(db.pool()).await.map(|_| ()),
        }
        .map_err(self.err("cert_generation", "moving the certificate generation"))?;
        if let Pool::Postgres(db) = &self.pool {
            sqlx::raw_sql(
                "DO $$
                 DECLARE c record;
                 BEGIN
                     FOR c IN SELECT table_name, column_name FROM information_schema.columns
                               WHERE table_schema = current_schema() AND is_identity = 'YES'
                     LOOP
                         EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), '
                                        'COALESCE(MAX(%I), 0) + 1, false) FROM %I',
                                        c.table_name, c.column_name, c.column_name, c.table_name);
                     END LOOP;
                 END
                 $$;
                 ANALYZE;",
            )
            .execute(db.pool())
            .await
            .map_err(self.err("*", "moving identities past the copied ids"))?;
        }
        Ok(())
    }
}

/// The columns both sides have, with both types; any other difference is
/// a schema mismatch.
async fn shared_columns(
    source: &End,
    dest: &End,
    table: &'static str,
) -> Result<Vec<Column>, CopyError> {
    let src = source.columns(table).await?;
    let dst = dest.columns(table).await?;
    let backend_only = |c: &str| BACKEND_ONLY.contains(&(table, c));
    let mut out = Vec::with_capacity(src.len());
    for (name, source_type) in &src {
        match dst.iter().find(|(n, _)| n == name) {
            Some((_, dest_type)) => out.push(Column {
                name: name.clone(),
                dest_type: dest_type.to_ascii_lowercase(),
                source_type: source_type.to_ascii_lowercase(),
            }),
            None if backend_only(name) => {}
            None => {
                return Err(CopyError::Schema {
                    table: table.into(),
                    detail: format!("column {name} is in the source but not in the destination"),
                });
            }
        }
    }
    if let Some((name, _)) = dst
        .iter()
        .find(|(n, _)| !backend_only(n) && !src.iter().any(|(s, _)| s == n))
    {
        return Err(CopyError::Schema {
            table: table.into(),
            detail: format!("column {name} is in the destination but not in the source"),
        });
    }
    Ok(out)
}

async fn copy_table(
    source: &End,
    dest: &End,
    table: &'static str,
    columns: &[Column],
    batch: usize,
    progress: &mut dyn CopyProgress,
) -> Result<Copied, CopyError> {
    let select = select_list(source, columns);
    let order = source.order_by(table).await?;
    let sql = format!("SELECT {select} FROM \"{table}\" ORDER BY {order}");
    let mut copied = Copied {
        inserted: 0,
        nul_removed: 0,
    };
    let mut rows: Vec<Vec<Val>> = Vec::with_capacity(batch);
    let mut done = 0u64;
    let mut writer = Writer::new(dest, table, columns).await?;
    macro_rules! drain {
        ($stream:expr, $read:expr) => {{
            let mut stream = $stream;
            while let Some(row) = stream
                .try_next()
                .await
                .map_err(source.err(table, "reading rows"))?
            {
                rows.push($read(&row)?);
                if rows.len() >= batch {
                    done += rows.len() as u64;
                    writer.write(&mut rows, &mut copied).await?;
                    progress.rows(done);
                }
            }
        }};
    }
    match &source.pool {
        Pool::Sqlite(db) => drain!(
            sqlx::query(sqlx::AssertSqlSafe(sql.clone())).fetch(db.pool()),
            |row: &sqlx::sqlite::SqliteRow| read_sqlite(row, table, columns)
        ),
        Pool::Postgres(db) => drain!(
            sqlx::query(sqlx::AssertSqlSafe(sql.clone())).fetch(db.pool()),
            |row: &sqlx::postgres::PgRow| read_postgres(row, table, columns)
        ),
    }
    done += rows.len() as u64;
    writer.write(&mut rows, &mut copied).await?;
    writer.finish().await?;
    progress.rows(done);
    Ok(copied)
}

/// The select list: PostgreSQL JSON comes out as its text.
fn select_list(source: &End, columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| match (&source.pool, c.source_type.as_str()) {
            (Pool::Postgres(_), "json" | "jsonb") => format!("\"{0}\"::text AS \"{0}\"", c.name),
            _ => format!("\"{}\"", c.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_of(row: &[Val]) -> String {
    match row.first() {
        Some(Val::Int(n)) => n.to_string(),
        Some(Val::Text(s)) => format!("`{}`", s.chars().take(40).collect::<String>()),
        Some(v) => format!("{v:?}"),
        None => "?".into(),
    }
}

fn read_sqlite(
    row: &sqlx::sqlite::SqliteRow,
    table: &str,
    columns: &[Column],
) -> Result<Vec<Val>, CopyError> {
    let mut out = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let raw = row.try_get_raw(i).map_err(|source| CopyError::Query {
            side: Side::Source,
            table: table.into(),
            what: "reading a value",
            source,
        })?;
        let v = if raw.is_null() {
            Val::Null
        } else {
            let kind = raw.type_info().name().to_string();
            let got = match kind.as_str() {
                "INTEGER" => row.try_get_unchecked::<i64, _>(i).map(Val::Int),
                "REAL" => row.try_get_unchecked::<f64, _>(i).map(Val::Real),
                "BLOB" => row.try_get_unchecked::<Vec<u8>, _>(i).map(Val::Blob),
                _ => row.try_get_unchecked::<String, _>(i).map(Val::Text),
            };
            got.map_err(|e| CopyError::Value {
                table: table.into(),
                row: key_of(&out),
                column: c.name.clone(),
                detail: e.to_string(),
            })?
        };
        out.push(v);
    }
    Ok(out)
}

fn read_postgres(
    row: &sqlx::postgres::PgRow,
    table: &str,
    columns: &[Column],
) -> Result<Vec<Val>, CopyError> {
    use chrono::{DateTime, NaiveDate, Utc};
    let mut out = Vec::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        let got = match c.source_type.as_str() {
            "int8" => row.try_get::<Option<i64>, _>(i).map(|v| v.map(Val::Int)),
            "int4" => row
                .try_get::<Option<i32>, _>(i)
                .map(|v| v.map(|n| Val::Int(n.into()))),
            "int2" => row
                .try_get::<Option<i16>, _>(i)
                .map(|v| v.map(|n| Val::Int(n.into()))),
            "float8" | "float4" => row.try_get::<Option<f64>, _>(i).map(|v| v.map(Val::Real)),
            "bool" => row.try_get::<Option<bool>, _>(i).map(|v| v.map(Val::Bool)),
            "bytea" => row
                .try_get::<Option<Vec<u8>>, _>(i)
                .map(|v| v.map(Val::Blob)),
            "timestamptz" => row
                .try_get::<Option<DateTime<Utc>>, _>(i)
                .map(|v| v.map(Val::Instant)),
            "date" => row
                .try_get::<Option<NaiveDate>, _>(i)
                .map(|v| v.map(Val::Day)),
            _ => row
                .try_get::<Option<String>, _>(i)
                .map(|v| v.map(Val::Text)),
        };
        let v = got.map_err(|e| CopyError::Value {
            table: table.into(),
            row: key_of(&out),
            column: c.name.clone(),
            detail: e.to_string(),
        })?;
        out.push(v.unwrap_or(Val::Null));
    }
    Ok(out)
}

/// Writes batches into the destination: PostgreSQL through `COPY` into a
/// staging table and one `INSERT ... ON CONFLICT DO NOTHING`; SQLite with
/// `INSERT OR IGNORE` in one transaction per batch.
struct Writer<'a> {
    dest: &'a End,
    table: &'static str,
    columns: &'a [Column],
    pg: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
}

impl<'a> Writer<'a> {
    async fn new(
        dest: &'a End,
        table: &'static str,
        columns: &'a [Column],
    ) -> Result<Writer<'a>, CopyError> {
        let mut pg = None;
        if let Pool::Postgres(db) = &dest.pool {
            let mut conn = db
                .pool()
                .acquire()
                .await
                .map_err(dest.err(table, "taking a connection"))?;
            let cols = quoted(columns);
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP TABLE IF EXISTS pg_temp.copy_stage; \
                 CREATE TEMP TABLE copy_stage AS SELECT {cols} FROM \"{table}\" WITH NO DATA"
            )))
            .execute(&mut *conn)
            .await
            .map_err(dest.err(table, "making a staging table"))?;
            pg = Some(conn);
        }
        Ok(Writer {
            dest,
            table,
            columns,
            pg,
        })
    }

    async fn write(&mut self, rows: &mut Vec<Vec<Val>>, out: &mut Copied) -> Result<(), CopyError> {
        if rows.is_empty() {
            return Ok(());
        }
        match &self.dest.pool {
            Pool::Postgres(_) => self.write_postgres(rows, out).await?,
            Pool::Sqlite(db) => self.write_sqlite(db, rows, out).await?,
        }
        rows.clear();
        Ok(())
    }

    async fn write_postgres(
        &mut self,
        rows: &[Vec<Val>],
        out: &mut Copied,
    ) -> Result<(), CopyError> {
        let mut csv = Vec::with_capacity(rows.len() * 128);
        for row in rows {
            for (i, (v, c)) in row.iter().zip(self.columns).enumerate() {
                if i > 0 {
                    csv.push(b',');
                }
                let text = pg_text(v, c).map_err(|detail| CopyError::Value {
                    table: self.table.into(),
                    row: key_of(row),
                    column: c.name.clone(),
                    detail,
                })?;
                if let Some(text) = text {
                    let (text, removed) = without_nul(&text, &c.dest_type);
                    out.nul_removed += removed;
                    csv.push(b'"');
                    for b in text.bytes() {
                        if b == b'"' {
                            csv.push(b'"');
                        }
                        csv.push(b);
                    }
                    csv.push(b'"');
                }
            }
            csv.push(b'\n');
        }
        let (dest, table) = (self.dest, self.table);
        let cols = quoted(self.columns);
        let conn = self
            .pg
            .as_mut()
            .expect("a PostgreSQL destination has a connection");
        let mut tx = sqlx::Connection::begin(&mut **conn)
            .await
            .map_err(dest.err(table, "starting a batch"))?;
        let mut copy_in = tx
            .copy_in_raw(&format!(
                "COPY copy_stage ({cols}) FROM STDIN WITH (FORMAT csv)"
            ))
            .await
            .map_err(dest.err(table, "starting COPY"))?;
        copy_in
            .send(csv)
            .await
            .map_err(dest.err(table, "sending rows"))?;
        copy_in
            .finish()
            .await
            .map_err(dest.err(table, "loading rows (COPY)"))?;
        let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO \"{table}\" ({cols}) SELECT {cols} FROM copy_stage ON CONFLICT DO NOTHING"
        )))
        .execute(&mut *tx)
        .await
        .map_err(dest.err(table, "inserting rows"))?
        .rows_affected();
        sqlx::query("TRUNCATE copy_stage")
            .execute(&mut *tx)
            .await
            .map_err(dest.err(table, "emptying the staging table"))?;
        tx.commit()
            .await
            .map_err(dest.err(table, "committing a batch"))?;
        out.inserted += inserted;
        Ok(())
    }

    async fn write_sqlite(
        &self,
        db: &SqliteStore,
        rows: &[Vec<Val>],
        out: &mut Copied,
    ) -> Result<(), CopyError> {
        let (dest, table) = (self.dest, self.table);
        let marks = vec!["?"; self.columns.len()].join(", ");
        let sql = format!(
            "INSERT OR IGNORE INTO \"{table}\" ({}) VALUES ({marks})",
            quoted(self.columns)
        );
        let mut tx = db
            .write_tx()
            .await
            .map_err(dest.err(table, "starting a batch"))?;
        for row in rows {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for v in row {
                q = match v {
                    Val::Null => q.bind(None::<String>),
                    Val::Int(n) => q.bind(*n),
                    Val::Real(x) => q.bind(*x),
                    Val::Text(s) => q.bind(s.clone()),
                    Val::Blob(b) => q.bind(b.clone()),
                    Val::Bool(b) => q.bind(i64::from(*b)),
                    Val::Instant(t) => q.bind(super::stamp_rfc3339(*t)),
                    Val::Day(d) => q.bind(d.format("%Y-%m-%d").to_string()),
                };
            }
            out.inserted += q
                .execute(&mut *tx)
                .await
                .map_err(|e| CopyError::Value {
                    table: table.into(),
                    row: key_of(row),
                    column: "*".into(),
                    detail: e.to_string(),
                })?
                .rows_affected();
        }
        tx.commit()
            .await
            .map_err(dest.err(table, "committing a batch"))?;
        Ok(())
    }

    async fn finish(mut self) -> Result<(), CopyError> {
        if let Some(mut conn) = self.pg.take() {
            sqlx::query("DROP TABLE IF EXISTS pg_temp.copy_stage")
                .execute(&mut *conn)
                .await
                .map_err(self.dest.err(self.table, "dropping the staging table"))?;
        }
        Ok(())
    }
}

fn quoted(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value as PostgreSQL's input syntax for the destination column's type;
/// `None` for NULL. The error says what is wrong with the value.
fn pg_text(v: &Val, c: &Column) -> Result<Option<String>, String> {
    let shown = |s: &str| s.chars().take(60).collect::<String>();
    Ok(Some(match (c.dest_type.as_str(), v) {
        (_, Val::Null) => return Ok(None),
        ("int8" | "int4" | "int2", Val::Int(n)) => n.to_string(),
        ("int8" | "int4" | "int2", Val::Text(s)) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("`{}` is not an integer", shown(s)))?
            .to_string(),
        ("float8" | "float4", Val::Real(x)) => format!("{x:?}"),
        ("float8" | "float4", Val::Int(n)) => n.to_string(),
        ("bool", Val::Int(0)) | ("bool", Val::Bool(false)) => "f".into(),
        ("bool", Val::Int(1)) | ("bool", Val::Bool(true)) => "t".into(),
        ("timestamptz", Val::Text(s)) => {
            let t = chrono::DateTime::parse_from_rfc3339(s.trim())
                .map_err(|e| format!("`{}` is not an RFC 3339 instant: {e}", shown(s)))?;
            super::stamp_rfc3339(t.with_timezone(&chrono::Utc))
        }
        ("timestamptz", Val::Instant(t)) => super::stamp_rfc3339(*t),
        ("date", Val::Text(s)) if s.trim().is_empty() => return Ok(None),
        ("date", Val::Text(s)) => super::parse_date(s.trim(), "a date")
            .map_err(|_| format!("`{}` is not a YYYY-MM-DD date", shown(s)))?
            .format("%Y-%m-%d")
            .to_string(),
        ("date", Val::Day(d)) => d.format("%Y-%m-%d").to_string(),
        ("json" | "jsonb", Val::Text(s)) => {
            serde_json::from_str::<serde::de::IgnoredAny>(s)
                .map_err(|e| format!("not JSON ({e}): `{}`", shown(s)))?;
            s.clone()
        }
        ("bytea", Val::Blob(b)) => format!("\\x{}", hex::encode(b)),
        ("bytea", Val::Text(s)) => format!("\\x{}", hex::encode(s.as_bytes())),
        ("text" | "varchar" | "bpchar", Val::Text(s)) => s.clone(),
        ("text" | "varchar" | "bpchar", Val::Int(n)) => n.to_string(),
        ("text" | "varchar" | "bpchar", Val::Real(x)) => x.to_string(),
        ("text" | "varchar" | "bpchar", Val::Instant(t)) => super::stamp_rfc3339(*t),
        ("text" | "varchar" | "bpchar", Val::Day(d)) => d.format("%Y-%m-%d").to_string(),
        (ty, v) => return Err(format!("a {} cannot go into a {ty} column", kind(v))),
    }))
}

fn kind(v: &Val) -> &'static str {
    match v {
        Val::Null => "NULL",
        Val::Int(_) => "integer",
        Val::Real(_) => "real number",
        Val::Text(_) => "text",
        Val::Blob(_) => "blob",
        Val::Bool(_) => "boolean",
        Val::Instant(_) => "instant",
        Val::Day(_) => "date",
    }
}

/// Text without U+0000, which PostgreSQL text cannot hold (JSONB neither
/// as the escape `\u0000`), and how many were removed.
fn without_nul<'t>(text: &'t str, dest_type: &str) -> (std::borrow::Cow<'t, str>, u64) {
    let mut removed = text.matches('\0').count() as u64;
    let mut out = std::borrow::Cow::Borrowed(text);
    if removed > 0 {
        out = std::borrow::Cow::Owned(text.replace('\0', ""));
    }
    if dest_type == "jsonb" && out.contains("\\u0000") {
        removed += out.matches("\\u0000").count() as u64;
        out = std::borrow::Cow::Owned(out.replace("\\u0000", ""));
    }
    (out, removed)
}

/// Pages of one side: a digest over every page's id, recorded SHA-256 and
/// stored (gzip) body; on the destination also each body checked.
struct PageDigest {
    pages: u64,
    verified: u64,
    pruned: u64,
    mismatched: Vec<i64>,
    digest: [u8; 32],
}

impl End {
    async fn page_digest(&self, check_bodies: bool) -> Result<PageDigest, CopyError> {
        let sql = "SELECT id, sha256, body_gz FROM pages ORDER BY id";
        let mut acc = PageDigest {
            pages: 0,
            verified: 0,
            pruned: 0,
            mismatched: Vec::new(),
            digest: [0; 32],
        };
        let mut hasher = Sha256::new();
        let mut add = |id: i64, sha: String, body: Vec<u8>| {
            acc.pages += 1;
            hasher.update(id.to_le_bytes());
            hasher.update(sha.as_bytes());
            hasher.update(Sha256::digest(&body));
            if body.is_empty() {
                acc.pruned += 1;
            } else if check_bodies {
                let mut raw = Vec::new();
                let ok = flate2::read::GzDecoder::new(&body[..])
                    .read_to_end(&mut raw)
                    .is_ok()
                    && hex::encode(Sha256::digest(&raw)) == sha;
                if ok {
                    acc.verified += 1;
                } else {
                    acc.mismatched.push(id);
                }
            }
        };
        match &self.pool {
            Pool::Sqlite(db) => {
                let mut rows = sqlx::query_as::<_, (i64, String, Vec<u8>)>(sql).fetch(db.pool());
                while let Some((id, sha, body)) = rows
                    .try_next()
                    .await
                    .map_err(self.err("pages", "reading evidence"))?
                {
                    add(id, sha, body);
                }
            }
            Pool::Postgres(db) => {
                let mut rows = sqlx::query_as::<_, (i64, String, Vec<u8>)>(sql).fetch(db.pool());
                while let Some((id, sha, body)) = rows
                    .try_next()
                    .await
                    .map_err(self.err("pages", "reading evidence"))?
                {
                    add(id, sha, body);
                }
            }
        }
        acc.digest = hasher.finalize().into();
        Ok(acc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(ty: &str) -> Column {
        Column {
            name: "c".into(),
            dest_type: ty.into(),
            source_type: String::new(),
        }
    }

    #[test]
    fn values_take_the_destination_columns_syntax() {
        let t = |v: Val, ty: &str| pg_text(&v, &col(ty));
        assert_eq!(t(Val::Int(1), "bool").unwrap().as_deref(), Some("t"));
        assert_eq!(t(Val::Int(0), "bool").unwrap().as_deref(), Some("f"));
        assert!(t(Val::Int(2), "bool").is_err());
        assert_eq!(
            t(
                Val::Text("2026-06-30T16:00:00.123456+08:00".into()),
                "timestamptz"
            )
            .unwrap()
            .as_deref(),
            Some("2026-06-30T08:00:00.123Z")
        );
        let bad = t(Val::Text("yesterday".into()), "timestamptz").unwrap_err();
        assert!(bad.contains("yesterday"), "{bad}");
        assert_eq!(t(Val::Text(String::new()), "date").unwrap(), None);
        assert!(t(Val::Text("2026-13-01".into()), "date").is_err());
        assert_eq!(
            t(Val::Blob(vec![0x1f, 0x8b]), "bytea").unwrap().as_deref(),
            Some("\\x1f8b")
        );
        assert!(t(Val::Text("{\"a\":".into()), "jsonb").is_err());
        assert_eq!(t(Val::Null, "int8").unwrap(), None);
        assert!(t(Val::Blob(vec![1]), "int8").is_err());
    }

    #[test]
    fn nul_characters_are_removed_and_counted() {
        assert_eq!(without_nul("a\0b\0", "text"), ("ab".into(), 2));
        assert_eq!(
            without_nul("[\"a\\u0000\"]", "jsonb"),
            ("[\"a\"]".into(), 1)
        );
        // JSON (kept verbatim) may hold the escape.
        assert_eq!(without_nul("[\"a\\u0000\"]", "json").1, 0);
        assert_eq!(without_nul("plain", "text"), ("plain".into(), 0));
    }
}
