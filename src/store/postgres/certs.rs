//! PostgreSQL statements for `store::certs`: what the front in `../certs.rs` dispatches to, beside the SQLite ones in `../sqlite/certs.rs`.
//!
//! The import is the hot path (a full export holds about a million
//! certificates): each batch of new or changed rows goes to a temporary
//! staging table with `COPY` (text format), then into `certificates` with
//! one `INSERT ... SELECT ... ON CONFLICT`.

use super::PgStore;
use super::clean;
use crate::domain::Brand;
use crate::domain::CertRecord;
use crate::domain::{CertStatus, Certificate, ModelList};
use crate::store::certs::*;
use crate::store::{Ctx, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use sqlx::types::Json;
use sqlx::{Postgres, Transaction};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// Serialises certificate imports across processes (`pg_advisory_xact_lock`):
/// a writer compares rows with what was stored when it began, as SQLite's
/// `BEGIN IMMEDIATE` guarantees there, so two imports must not interleave.
const CERT_IMPORT_LOCK: i64 = 0x6363_6377_6365_7274; // "cccwcert"

/// [`clean`] for an optional value, owned (for binding in arrays).
pub(super) fn clean_opt(s: Option<&str>) -> Option<String> {
    s.map(|s| clean(s).into_owned())
}

/// A JSON array of strings, each [`clean`]ed, as text to cast to JSONB.
pub(super) fn clean_json_list(list: &[String]) -> String {
    let cleaned: Vec<Cow<'_, str>> = list.iter().map(|s| clean(s)).collect();
    serde_json::to_string(&cleaned).unwrap_or_else(|_| "[]".into())
}

/// `LIMIT` as SQLite reads it: a negative limit means none (PostgreSQL
/// refuses a negative one; `LIMIT NULL` is none).
pub(super) fn limit(n: i64) -> Option<i64> {
    (n >= 0).then_some(n)
}

/// Writes one import file inside one transaction: all of it or nothing.
pub(crate) struct CertImportWriter {
    tx: Transaction<'static, Postgres>,
    import_id: i64,
    file: String,
    existing: HashMap<Box<str>, ExistingCert>,
    counts: ImportCounts,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

#[derive(sqlx::FromRow)]
struct ExistingRow {
    cert_no: String,
    status: String,
    expires_on: NaiveDate,
    row_hash: String,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    cert_no: String,
    status: String,
    status_changed_on: Option<NaiveDate>,
    status_reason: Option<String>,
    issued_on: NaiveDate,
    expires_on: NaiveDate,
    category_code: Option<String>,
    product_name: String,
    applicant: String,
    manufacturer: String,
    models: Json<Vec<String>>,
    models_complete: bool,
}

#[derive(sqlx::FromRow)]
struct CertRow {
    cert_no: String,
    status: String,
    status_raw: String,
    category_code: Option<String>,
    product_name: String,
    models_raw: String,
    models: Json<Vec<String>>,
    models_complete: bool,
    applicant: String,
    manufacturer: String,
    factory: String,
    issued_on: NaiveDate,
    expires_on: NaiveDate,
    first_issued_on: Option<NaiveDate>,
    issuer: Option<String>,
    status_changed_on: Option<NaiveDate>,
    status_reason: Option<String>,
    trademark: Option<String>,
    updated_at: DateTime<Utc>,
    file: String,
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    field: String,
    old_value: Option<String>,
    new_value: Option<String>,
    changed_at: DateTime<Utc>,
    source_file: String,
}

#[derive(sqlx::FromRow)]
struct BrandRow {
    name: String,
    aliases: Json<Vec<String>>,
    companies: Json<Vec<String>>,
    title_search: bool,
}

fn status_of(s: &str, cert_no: &str) -> Result<CertStatus> {
    CertStatus::from_db(s).ok_or_else(|| StoreError::Corrupt {
        what: "certificate status",
        detail: cert_no.to_string(),
    })
}

/// The staging table one import's batches are copied into (dropped at the
/// end of the transaction). Typed like `certificates`, so `COPY` parses
/// the dates, flags and JSON.
const CREATE_STAGE: &str = "CREATE TEMP TABLE cert_stage (\
     cert_no TEXT NOT NULL, standard_number BOOLEAN NOT NULL, status TEXT NOT NULL, status_raw TEXT NOT NULL, \
     category_code TEXT, product_name TEXT NOT NULL, models_raw TEXT NOT NULL, models JSONB NOT NULL, \
     models_complete BOOLEAN NOT NULL, applicant TEXT NOT NULL, manufacturer TEXT NOT NULL, factory TEXT NOT NULL, \
     issued_on DATE NOT NULL, expires_on DATE NOT NULL, first_issued_on DATE, issuer TEXT, status_changed_on DATE, \
     status_reason TEXT, trademark TEXT, row_hash TEXT NOT NULL) ON COMMIT DROP";

const STAGE_COLUMNS: &str = "cert_no, standard_number, status, status_raw, category_code, product_name, \
     models_raw, models, models_complete, applicant, manufacturer, factory, issued_on, expires_on, \
     first_issued_on, issuer, status_changed_on, status_reason, trademark, row_hash";

impl PgStore {
    /// Starts importing `file`; loads what is stored to tell new, changed and
    /// unchanged rows apart.
    pub async fn begin_cert_import(
        &self,
        file: &str,
        encoding: &str,
        strict: bool,
    ) -> Result<CertImportWriter> {
        let mut tx = self
            .write_tx()
            .await
            .ctx("starting the import transaction")?;
        // One import at a time (see CERT_IMPORT_LOCK), taken before the
        // stored rows are read.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CERT_IMPORT_LOCK)
            .execute(&mut *tx)
            .await
            .ctx("waiting for other certificate imports")?;
        let import_id: i64 = sqlx::query_scalar(
            "INSERT INTO cert_imports (file, encoding, strict, started_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(clean(file))
        .bind(clean(encoding))
        .bind(strict)
        .bind(self.now())
        .fetch_one(&mut *tx)
        .await
        .ctx("recording the import")?;
        sqlx::query(CREATE_STAGE)
            .persistent(false)
            .execute(&mut *tx)
            .await
            .ctx("creating the import's staging table")?;
        let mut existing = HashMap::new();
        {
            let mut rows = sqlx::query_as::<_, ExistingRow>(
                "SELECT cert_no, status, expires_on, row_hash FROM certificates",
            )
            .fetch(&mut *tx);
            while let Some(row) = rows.try_next().await.ctx("loading stored certificates")? {
                let status = status_of(&row.status, &row.cert_no)?;
                let row_hash = u64::from_str_radix(&row.row_hash, 16).unwrap_or(0);
                existing.insert(
                    row.cert_no.into_boxed_str(),
                    ExistingCert {
                        status,
                        expires_on: row.expires_on,
                        row_hash,
                    },
                );
            }
        }
        Ok(CertImportWriter {
            tx,
            import_id,
            file: clean(file).into_owned(),
            existing,
            counts: ImportCounts::default(),
            clock: self.clock.clone(),
        })
    }

    /// Every certificate in the form the matching index needs.
    pub async fn cert_records(&self) -> Result<Vec<CertRecord>> {
        let mut out = Vec::new();
        let mut rows = sqlx::query_as::<_, RecordRow>(
            "SELECT cert_no, status, status_changed_on, status_reason, issued_on, expires_on, category_code, \
             product_name, applicant, manufacturer, models, models_complete FROM certificates ORDER BY id",
        )
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await.ctx("reading certificates")? {
            out.push(CertRecord {
                status: status_of(&r.status, &r.cert_no)?,
                status_changed_on: r.status_changed_on,
                status_reason: r.status_reason,
                issued_on: r.issued_on,
                expires_on: r.expires_on,
                category_code: r.category_code,
                product_name: r.product_name,
                applicant: r.applicant,
                manufacturer: r.manufacturer,
                models: r.models.0,
                models_complete: r.models_complete,
                cert_no: r.cert_no,
            });
        }
        Ok(out)
    }

    pub async fn certificate(&self, cert_no: &str) -> Result<Option<StoredCert>> {
        let row = sqlx::query_as::<_, CertRow>(
            "SELECT c.cert_no, c.status, c.status_raw, c.category_code, c.product_name, c.models_raw, c.models, \
             c.models_complete, c.applicant, c.manufacturer, c.factory, c.issued_on, c.expires_on, c.first_issued_on, \
             c.issuer, c.status_changed_on, c.status_reason, c.trademark, c.updated_at, i.file \
             FROM certificates c JOIN cert_imports i ON i.id = c.import_id WHERE c.cert_no = $1",
        )
        .bind(clean(cert_no))
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a certificate")?;
        let Some(r) = row else { return Ok(None) };
        let cert = Certificate {
            status: status_of(&r.status, cert_no)?,
            cert_no: r.cert_no,
            status_raw: r.status_raw,
            category_code: r.category_code,
            product_name: r.product_name,
            models_raw: r.models_raw,
            models: ModelList {
                models: r.models.0,
                complete: r.models_complete,
            },
            applicant: r.applicant,
            manufacturer: r.manufacturer,
            factory: r.factory,
            issued_on: r.issued_on,
            expires_on: r.expires_on,
            first_issued_on: r.first_issued_on,
            issuer: r.issuer,
            status_changed_on: r.status_changed_on,
            status_reason: r.status_reason,
            trademark: r.trademark,
        };
        Ok(Some(StoredCert {
            cert,
            updated_at: super::stamp(r.updated_at),
            source_file: r.file,
        }))
    }

    pub async fn cert_history(&self, cert_no: &str) -> Result<Vec<CertHistoryRow>> {
        let rows = sqlx::query_as::<_, HistoryRow>(
            "SELECT field, old_value, new_value, changed_at, source_file FROM cert_history \
             WHERE cert_no = $1 ORDER BY id",
        )
        .bind(clean(cert_no))
        .fetch_all(&self.pool)
        .await
        .ctx("reading certificate history")?;
        Ok(rows
            .into_iter()
            .map(|r| CertHistoryRow {
                field: r.field,
                old_value: r.old_value,
                new_value: r.new_value,
                changed_at: super::stamp(r.changed_at),
                source_file: r.source_file,
            })
            .collect())
    }

    /// How many certificates there are and when the latest import finished.
    pub async fn cert_freshness(&self) -> Result<CertFreshness> {
        let certificates: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM certificates")
            .fetch_one(&self.pool)
            .await
            .ctx("counting certificates")?;
        let latest: Option<(String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT file, finished_at FROM cert_imports WHERE finished_at IS NOT NULL \
             ORDER BY finished_at DESC, id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .ctx("reading the latest certificate import")?;
        Ok(CertFreshness {
            certificates,
            latest_import: latest.map(|(file, at)| (file, super::stamp(at))),
        })
    }

    /// Counts for `certdb stats`, judged on `as_of` with a window of `days`.
    pub async fn cert_stats(&self, as_of: NaiveDate, days: i64) -> Result<CertStats> {
        // Ties in count come in name order (SQLite leaves their order open;
        // it gives name order too, having grouped by name).
        let pairs = |sql: &'static str| async move {
            sqlx::query_as::<_, (String, i64)>(sql)
                .fetch_all(&self.pool)
                .await
                .ctx("computing statistics")
        };
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM certificates")
            .fetch_one(&self.pool)
            .await
            .ctx("counting certificates")?;
        let by_status =
            pairs("SELECT status, COUNT(*) FROM certificates GROUP BY status ORDER BY 2 DESC, 1")
                .await?;
        let by_category = pairs(
            "SELECT COALESCE(category_code, '(none)'), COUNT(*) FROM certificates GROUP BY 1 ORDER BY 2 DESC, 1",
        )
        .await?;
        let by_issuer = pairs(
            "SELECT COALESCE(issuer, '(none)'), COUNT(*) FROM certificates GROUP BY 1 ORDER BY 2 DESC, 1",
        )
        .await?;
        let until = as_of + chrono::Duration::days(days);
        let expired_by_date: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM certificates WHERE status = 'valid' AND expires_on < $1",
        )
        .bind(as_of)
        .fetch_one(&self.pool)
        .await
        .ctx("counting expired certificates")?;
        let expiring: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM certificates WHERE status = 'valid' AND expires_on >= $1 AND expires_on <= $2",
        )
        .bind(as_of)
        .bind(until)
        .fetch_one(&self.pool)
        .await
        .ctx("counting expiring certificates")?;
        let first: Vec<(String, NaiveDate, String)> = sqlx::query_as(
            "SELECT cert_no, expires_on, applicant FROM certificates \
             WHERE status = 'valid' AND expires_on >= $1 AND expires_on <= $2 \
             ORDER BY expires_on, cert_no LIMIT 20",
        )
        .bind(as_of)
        .bind(until)
        .fetch_all(&self.pool)
        .await
        .ctx("listing expiring certificates")?;
        Ok(CertStats {
            total,
            by_status,
            by_category,
            by_issuer,
            expired_by_date,
            expiring,
            expiring_first: first
                .into_iter()
                .map(|(no, on, applicant)| (no, super::day_text(on), applicant))
                .collect(),
        })
    }

    /// Replaces the brand alias table.
    pub async fn replace_brands(&self, brands: &[Brand]) -> Result<()> {
        let mut tx = self.write_tx().await.ctx("starting the brand import")?;
        // Two replacements at once would each delete only the rows they
        // see and then collide on the names the other inserted: one at a
        // time (readers are not blocked).
        sqlx::query("LOCK TABLE brands IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .ctx("locking brands")?;
        sqlx::query("DELETE FROM brands")
            .execute(&mut *tx)
            .await
            .ctx("clearing brands")?;
        let names: Vec<String> = brands.iter().map(|b| clean(&b.name).into_owned()).collect();
        let aliases: Vec<String> = brands.iter().map(|b| clean_json_list(&b.aliases)).collect();
        let companies: Vec<String> = brands
            .iter()
            .map(|b| clean_json_list(&b.companies))
            .collect();
        let title_search: Vec<bool> = brands.iter().map(|b| b.title_search).collect();
        // import_order (an identity) numbers them in the slice's order: the
        // first brand claiming an alias wins when the table is read back.
        sqlx::query(
            "INSERT INTO brands (name, aliases, companies, title_search, updated_at) \
             SELECT name, aliases::jsonb, companies::jsonb, title_search, $5 \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $4::boolean[]) WITH ORDINALITY \
                  AS b(name, aliases, companies, title_search, n) \
             ORDER BY n",
        )
        .bind(&names)
        .bind(&aliases)
        .bind(&companies)
        .bind(&title_search)
        .bind(self.now())
        .execute(&mut *tx)
        .await
        .ctx("storing brands")?;
        sqlx::query("UPDATE cert_generation SET value = value + 1 WHERE one = 1")
            .execute(&mut *tx)
            .await
            .ctx("moving the certificate generation")?;
        tx.commit().await.ctx("committing brands")
    }

    /// The stored alias table, in name order; empty when none was imported.
    pub async fn brands(&self) -> Result<Vec<Brand>> {
        let rows = sqlx::query_as::<_, BrandRow>(
            "SELECT name, aliases, companies, title_search FROM brands ORDER BY import_order",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading brands")?;
        Ok(rows
            .into_iter()
            .map(|r| Brand {
                name: r.name,
                aliases: r.aliases.0,
                companies: r.companies.0,
                title_search: r.title_search,
            })
            .collect())
    }
}

impl PgStore {
    /// How many certificates are stored.
    pub async fn count_certs(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM certificates")
            .fetch_one(&self.pool)
            .await
            .ctx("counting certificates")
    }

    /// The last recorded certificate change (0 when none), to tell later ones apart.
    pub async fn cert_history_mark(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM cert_history")
            .fetch_one(&self.pool)
            .await
            .ctx("reading certificate changes")
    }

    /// Certificates whose status or expiry changed after `after`, up to
    /// and including `through` (marks from [`Store::cert_history_mark`]).
    pub async fn certs_changed_between(&self, after: i64, through: i64) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT DISTINCT cert_no FROM cert_history WHERE id > $1 AND id <= $2 \
             AND field IN ('status', 'expires_on') ORDER BY cert_no",
        )
        .bind(after)
        .bind(through)
        .fetch_all(&self.pool)
        .await
        .ctx("reading certificate changes")
    }
}

/// Appends `s` to a `COPY ... (FORMAT text)` row: backslash, tab, newline
/// and carriage return escaped; NUL dropped (see [`clean`]).
fn copy_text(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\0' => {}
            c => out.push(c),
        }
    }
}

fn copy_opt(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => copy_text(out, s),
        None => out.push_str("\\N"),
    }
}

/// One staging row (the columns of [`STAGE_COLUMNS`], in order).
fn copy_row(out: &mut String, c: &Certificate, hash: u64) {
    use std::fmt::Write;
    let flag = |b: bool| if b { "t" } else { "f" };
    copy_text(out, &c.cert_no);
    out.push('\t');
    out.push_str(flag(crate::text::certno::is_standard(&c.cert_no)));
    out.push('\t');
    out.push_str(c.status.as_str());
    out.push('\t');
    copy_text(out, &c.status_raw);
    out.push('\t');
    copy_opt(out, c.category_code.as_deref());
    out.push('\t');
    copy_text(out, &c.product_name);
    out.push('\t');
    copy_text(out, &c.models_raw);
    out.push('\t');
    copy_text(out, &clean_json_list(&c.models.models));
    out.push('\t');
    out.push_str(flag(c.models.complete));
    out.push('\t');
    copy_text(out, &c.applicant);
    out.push('\t');
    copy_text(out, &c.manufacturer);
    out.push('\t');
    copy_text(out, &c.factory);
    out.push('\t');
    let _ = write!(out, "{}\t{}\t", c.issued_on, c.expires_on);
    copy_opt(out, c.first_issued_on.map(|d| d.to_string()).as_deref());
    out.push('\t');
    copy_opt(out, c.issuer.as_deref());
    out.push('\t');
    copy_opt(out, c.status_changed_on.map(|d| d.to_string()).as_deref());
    out.push('\t');
    copy_opt(out, c.status_reason.as_deref());
    out.push('\t');
    copy_opt(out, c.trademark.as_deref());
    let _ = writeln!(out, "\t{hash:016x}");
}

impl CertImportWriter {
    pub fn import_id(&self) -> i64 {
        self.import_id
    }

    /// Writes a batch of parsed certificates with their content hashes.
    pub async fn write(&mut self, rows: &[(Certificate, u64)]) -> Result<()> {
        let now = super::truncate_ms(self.clock.now());
        let mut changed: Vec<&(Certificate, u64)> = Vec::with_capacity(rows.len());
        let mut history: Vec<(String, &'static str, String, String)> = Vec::new();
        for row @ (cert, hash) in rows {
            // Keyed as stored (NULs dropped), like the map loaded at the start.
            let key = clean(&cert.cert_no);
            match self.existing.get(key.as_ref()) {
                None => {
                    self.counts.inserted += 1;
                    changed.push(row);
                }
                Some(old) if old.row_hash == *hash => self.counts.unchanged += 1,
                Some(old) => {
                    self.counts.updated += 1;
                    if old.status != cert.status {
                        history.push((
                            cert.cert_no.clone(),
                            "status",
                            old.status.as_str().into(),
                            cert.status.as_str().into(),
                        ));
                    }
                    if old.expires_on != cert.expires_on {
                        history.push((
                            cert.cert_no.clone(),
                            "expires_on",
                            old.expires_on.to_string(),
                            cert.expires_on.to_string(),
                        ));
                    }
                    changed.push(row);
                }
            }
            self.existing.insert(
                key.into_owned().into_boxed_str(),
                ExistingCert {
                    status: cert.status,
                    expires_on: cert.expires_on,
                    row_hash: *hash,
                },
            );
        }
        // A number twice in one batch: SQLite's upserts apply in order, the
        // last row winning; one INSERT ... ON CONFLICT may touch a row only
        // once, so only the last of them is written (the same end state).
        // Numbers are compared as stored (NULs dropped).
        let mut seen = HashSet::new();
        let mut last: Vec<&(Certificate, u64)> = changed
            .into_iter()
            .rev()
            .filter(|(c, _)| seen.insert(clean(&c.cert_no).into_owned()))
            .collect();
        last.reverse();
        if !last.is_empty() {
            self.upsert(&last, now).await?;
        }
        self.counts.history += history.len() as u64;
        if !history.is_empty() {
            let mut nos = Vec::with_capacity(history.len());
            let mut fields = Vec::with_capacity(history.len());
            let mut olds = Vec::with_capacity(history.len());
            let mut news = Vec::with_capacity(history.len());
            for (no, field, old, new) in history {
                nos.push(clean(&no).into_owned());
                fields.push(field);
                olds.push(old);
                news.push(new);
            }
            sqlx::query(
                "INSERT INTO cert_history (cert_no, field, old_value, new_value, changed_at, import_id, source_file) \
                 SELECT cert_no, field, old_value, new_value, $5, $6, $7 \
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY \
                      AS h(cert_no, field, old_value, new_value, n) \
                 ORDER BY n",
            )
            .bind(&nos)
            .bind(&fields)
            .bind(&olds)
            .bind(&news)
            .bind(now)
            .bind(self.import_id)
            .bind(&self.file)
            .execute(&mut *self.tx)
            .await
            .ctx("recording certificate history")?;
        }
        Ok(())
    }

    /// Copies the rows into the staging table, then upserts them all with
    /// one statement.
    async fn upsert(&mut self, rows: &[&(Certificate, u64)], now: DateTime<Utc>) -> Result<()> {
        sqlx::query("TRUNCATE cert_stage")
            .persistent(false)
            .execute(&mut *self.tx)
            .await
            .ctx("emptying the staging table")?;
        let mut buf = String::with_capacity(rows.len() * 400);
        for (cert, hash) in rows {
            copy_row(&mut buf, cert, *hash);
        }
        let mut copy = self
            .tx
            .copy_in_raw(&format!(
                "COPY cert_stage ({STAGE_COLUMNS}) FROM STDIN (FORMAT text)"
            ))
            .await
            .ctx("storing certificates")?;
        if let Err(e) = copy.send(buf.into_bytes()).await {
            let _ = copy.abort(e.to_string()).await;
            return Err(e).ctx("storing certificates");
        }
        copy.finish().await.ctx("storing certificates")?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO certificates ({STAGE_COLUMNS}, import_id, updated_at) \
             SELECT {STAGE_COLUMNS}, $1, $2 FROM cert_stage \
             ON CONFLICT (cert_no) DO UPDATE SET standard_number = excluded.standard_number, status = excluded.status, \
             status_raw = excluded.status_raw, category_code = excluded.category_code, product_name = excluded.product_name, \
             models_raw = excluded.models_raw, models = excluded.models, models_complete = excluded.models_complete, \
             applicant = excluded.applicant, manufacturer = excluded.manufacturer, factory = excluded.factory, \
             issued_on = excluded.issued_on, expires_on = excluded.expires_on, first_issued_on = excluded.first_issued_on, \
             issuer = excluded.issuer, status_changed_on = excluded.status_changed_on, status_reason = excluded.status_reason, \
             trademark = excluded.trademark, row_hash = excluded.row_hash, import_id = excluded.import_id, updated_at = excluded.updated_at"
        )))
        .persistent(false)
        .bind(self.import_id)
        .bind(now)
        .execute(&mut *self.tx)
        .await
        .ctx("storing certificates")?;
        Ok(())
    }

    /// Commits the file's rows and records the import's figures.
    pub async fn commit(mut self, total: u64, rejected: u64) -> Result<ImportCounts> {
        sqlx::query(
            "UPDATE cert_imports SET finished_at = $1, rows_total = $2, rows_inserted = $3, rows_updated = $4, \
             rows_unchanged = $5, rows_rejected = $6 WHERE id = $7",
        )
        .bind(super::truncate_ms(self.clock.now()))
        .bind(total as i64)
        .bind(self.counts.inserted as i64)
        .bind(self.counts.updated as i64)
        .bind(self.counts.unchanged as i64)
        .bind(rejected as i64)
        .bind(self.import_id)
        .execute(&mut *self.tx)
        .await
        .ctx("recording import figures")?;
        sqlx::query("UPDATE cert_generation SET value = value + 1 WHERE one = 1")
            .execute(&mut *self.tx)
            .await
            .ctx("moving the certificate generation")?;
        self.tx.commit().await.ctx("committing the import")?;
        Ok(self.counts)
    }

    /// Discards everything written for this file.
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await.ctx("rolling back the import")
    }
}
