//! SQLite statements for `store::certs`: what the front in `../certs.rs` dispatches to.

use super::SqliteStore;
use crate::domain::Brand;
use crate::domain::CertRecord;
use crate::domain::{CertStatus, Certificate, ModelList};
use crate::store::certs::*;
use crate::store::{Ctx, Result, StoreError, parse_date, parse_opt_date};
use chrono::NaiveDate;
use futures_util::TryStreamExt;
use sqlx::{QueryBuilder, Sqlite, Transaction};
use std::collections::HashMap;

/// Rows per multi-row INSERT (23 bound values each, well under SQLite's limit).
const BATCH: usize = 400;

/// Writes one import file inside one transaction: all of it or nothing.
pub(crate) struct CertImportWriter {
    tx: Transaction<'static, Sqlite>,
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
    expires_on: String,
    row_hash: String,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    cert_no: String,
    status: String,
    status_changed_on: Option<String>,
    status_reason: Option<String>,
    issued_on: String,
    expires_on: String,
    category_code: Option<String>,
    product_name: String,
    applicant: String,
    manufacturer: String,
    models: String,
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
    models: String,
    models_complete: bool,
    applicant: String,
    manufacturer: String,
    factory: String,
    issued_on: String,
    expires_on: String,
    first_issued_on: Option<String>,
    issuer: Option<String>,
    status_changed_on: Option<String>,
    status_reason: Option<String>,
    trademark: Option<String>,
    updated_at: String,
    file: String,
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    field: String,
    old_value: Option<String>,
    new_value: Option<String>,
    changed_at: String,
    source_file: String,
}

impl SqliteStore {
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
        let import_id: i64 = sqlx::query_scalar(
            "INSERT INTO cert_imports (file, encoding, strict, started_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(file)
        .bind(encoding)
        .bind(strict)
        .bind(self.now_rfc3339())
        .fetch_one(&mut *tx)
        .await
        .ctx("recording the import")?;
        let mut existing = HashMap::new();
        let mut rows = sqlx::query_as::<_, ExistingRow>(
            "SELECT cert_no, status, expires_on, row_hash FROM certificates",
        )
        .fetch(&mut *tx);
        while let Some(row) = rows.try_next().await.ctx("loading stored certificates")? {
            let no = row.cert_no;
            let status = CertStatus::from_db(&row.status).ok_or_else(|| StoreError::Corrupt {
                what: "certificate status",
                detail: no.clone(),
            })?;
            let expires_on = parse_date(&row.expires_on, "certificate expiry")?;
            let row_hash = u64::from_str_radix(&row.row_hash, 16).unwrap_or(0);
            existing.insert(
                no.into_boxed_str(),
                ExistingCert {
                    status,
                    expires_on,
                    row_hash,
                },
            );
        }
        drop(rows);
        Ok(CertImportWriter {
            tx,
            import_id,
            file: file.to_string(),
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
             product_name, applicant, manufacturer, models, models_complete FROM certificates",
        )
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await.ctx("reading certificates")? {
            let cert_no = row.cert_no;
            let status = CertStatus::from_db(&row.status).ok_or_else(|| StoreError::Corrupt {
                what: "certificate status",
                detail: cert_no.clone(),
            })?;
            let models: Vec<String> =
                serde_json::from_str(&row.models).map_err(|e| StoreError::Corrupt {
                    what: "certificate models",
                    detail: format!("{cert_no}: {e}"),
                })?;
            out.push(CertRecord {
                status,
                status_changed_on: parse_opt_date(row.status_changed_on, "status change date")?,
                status_reason: row.status_reason,
                issued_on: parse_date(&row.issued_on, "issue date")?,
                expires_on: parse_date(&row.expires_on, "expiry date")?,
                category_code: row.category_code,
                product_name: row.product_name,
                applicant: row.applicant,
                manufacturer: row.manufacturer,
                models,
                models_complete: row.models_complete,
                cert_no,
            });
        }
        Ok(out)
    }

    pub async fn certificate(&self, cert_no: &str) -> Result<Option<StoredCert>> {
        let row = sqlx::query_as::<_, CertRow>(
            "SELECT c.cert_no, c.status, c.status_raw, c.category_code, c.product_name, c.models_raw, c.models, \
             c.models_complete, c.applicant, c.manufacturer, c.factory, c.issued_on, c.expires_on, c.first_issued_on, \
             c.issuer, c.status_changed_on, c.status_reason, c.trademark, c.updated_at, i.file \
             FROM certificates c JOIN cert_imports i ON i.id = c.import_id WHERE c.cert_no = ?",
        )
        .bind(cert_no)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a certificate")?;
        let Some(row) = row else { return Ok(None) };
        let status = CertStatus::from_db(&row.status).ok_or_else(|| StoreError::Corrupt {
            what: "certificate status",
            detail: cert_no.to_string(),
        })?;
        let models: Vec<String> =
            serde_json::from_str(&row.models).map_err(|e| StoreError::Corrupt {
                what: "certificate models",
                detail: e.to_string(),
            })?;
        let cert = Certificate {
            cert_no: row.cert_no,
            status,
            status_raw: row.status_raw,
            category_code: row.category_code,
            product_name: row.product_name,
            models_raw: row.models_raw,
            models: ModelList {
                models,
                complete: row.models_complete,
            },
            applicant: row.applicant,
            manufacturer: row.manufacturer,
            factory: row.factory,
            issued_on: parse_date(&row.issued_on, "issue date")?,
            expires_on: parse_date(&row.expires_on, "expiry date")?,
            first_issued_on: parse_opt_date(row.first_issued_on, "first issue date")?,
            issuer: row.issuer,
            status_changed_on: parse_opt_date(row.status_changed_on, "status change date")?,
            status_reason: row.status_reason,
            trademark: row.trademark,
        };
        Ok(Some(StoredCert {
            cert,
            updated_at: row.updated_at,
            source_file: row.file,
        }))
    }

    pub async fn cert_history(&self, cert_no: &str) -> Result<Vec<CertHistoryRow>> {
        let rows = sqlx::query_as::<_, HistoryRow>(
            "SELECT field, old_value, new_value, changed_at, source_file FROM cert_history WHERE cert_no = ? ORDER BY id",
        )
        .bind(cert_no)
        .fetch_all(&self.pool)
        .await
        .ctx("reading certificate history")?;
        Ok(rows
            .into_iter()
            .map(|r| CertHistoryRow {
                field: r.field,
                old_value: r.old_value,
                new_value: r.new_value,
                changed_at: r.changed_at,
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
        let latest_import: Option<(String, String)> = sqlx::query_as(
            "SELECT file, finished_at FROM cert_imports WHERE finished_at IS NOT NULL \
             ORDER BY finished_at DESC, id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .ctx("reading the latest certificate import")?;
        Ok(CertFreshness {
            certificates,
            latest_import,
        })
    }

    /// Counts for `certdb stats`, judged on `as_of` with a window of `days`.
    pub async fn cert_stats(&self, as_of: NaiveDate, days: i64) -> Result<CertStats> {
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
            pairs("SELECT status, COUNT(*) FROM certificates GROUP BY status ORDER BY 2 DESC")
                .await?;
        let by_category = pairs("SELECT COALESCE(category_code, '(none)'), COUNT(*) FROM certificates GROUP BY 1 ORDER BY 2 DESC").await?;
        let by_issuer = pairs("SELECT COALESCE(issuer, '(none)'), COUNT(*) FROM certificates GROUP BY 1 ORDER BY 2 DESC").await?;
        let today = as_of.to_string();
        let until = (as_of + chrono::Duration::days(days)).to_string();
        let expired_by_date: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM certificates WHERE status = 'valid' AND expires_on < ?",
        )
        .bind(&today)
        .fetch_one(&self.pool)
        .await
        .ctx("counting expired certificates")?;
        let expiring: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM certificates WHERE status = 'valid' AND expires_on >= ? AND expires_on <= ?",
        )
        .bind(&today)
        .bind(&until)
        .fetch_one(&self.pool)
        .await
        .ctx("counting expiring certificates")?;
        let expiring_first: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT cert_no, expires_on, applicant FROM certificates WHERE status = 'valid' AND expires_on >= ? AND expires_on <= ? \
             ORDER BY expires_on, cert_no LIMIT 20",
        )
        .bind(&today)
        .bind(&until)
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
            expiring_first,
        })
    }

    /// Replaces the brand alias table.
    pub async fn replace_brands(&self, brands: &[Brand]) -> Result<()> {
        let mut tx = self.write_tx().await.ctx("starting the brand import")?;
        sqlx::query("DELETE FROM brands")
            .execute(&mut *tx)
            .await
            .ctx("clearing brands")?;
        let now = self.now_rfc3339();
        for chunk in brands.chunks(BATCH) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO brands (name, aliases, companies, title_search, updated_at) ",
            );
            qb.push_values(chunk, |mut b, brand| {
                b.push_bind(&brand.name)
                    .push_bind(serde_json::to_string(&brand.aliases).unwrap_or_default())
                    .push_bind(serde_json::to_string(&brand.companies).unwrap_or_default())
                    .push_bind(brand.title_search)
                    .push_bind(&now);
            });
            qb.build().execute(&mut *tx).await.ctx("storing brands")?;
        }
        sqlx::query("UPDATE cert_generation SET value = value + 1 WHERE one = 1")
            .execute(&mut *tx)
            .await
            .ctx("moving the certificate generation")?;
        tx.commit().await.ctx("committing brands")
    }

    /// The stored alias table, in name order; empty when none was imported.
    pub async fn brands(&self) -> Result<Vec<Brand>> {
        let rows: Vec<(String, String, String, bool)> = sqlx::query_as(
            "SELECT name, aliases, companies, title_search FROM brands ORDER BY rowid",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("reading brands")?;
        rows.into_iter()
            .map(|(name, a, c, title_search)| {
                let parse = |s: &str| {
                    serde_json::from_str::<Vec<String>>(s).map_err(|e| StoreError::Corrupt {
                        what: "brand lists",
                        detail: e.to_string(),
                    })
                };
                Ok(Brand {
                    aliases: parse(&a)?,
                    companies: parse(&c)?,
                    name,
                    title_search,
                })
            })
            .collect()
    }
}

impl SqliteStore {
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
            "SELECT DISTINCT cert_no FROM cert_history WHERE id > ? AND id <= ? \
             AND field IN ('status', 'expires_on') ORDER BY cert_no",
        )
        .bind(after)
        .bind(through)
        .fetch_all(&self.pool)
        .await
        .ctx("reading certificate changes")
    }
}

impl CertImportWriter {
    pub fn import_id(&self) -> i64 {
        self.import_id
    }

    /// Writes a batch of parsed certificates with their content hashes.
    pub async fn write(&mut self, rows: &[(Certificate, u64)]) -> Result<()> {
        let now = crate::store::stamp_rfc3339(self.clock.now());
        let mut changed: Vec<&(Certificate, u64)> = Vec::with_capacity(rows.len());
        let mut history: Vec<(String, &'static str, String, String)> = Vec::new();
        for row @ (cert, hash) in rows {
            match self.existing.get(cert.cert_no.as_str()) {
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
                cert.cert_no.clone().into_boxed_str(),
                ExistingCert {
                    status: cert.status,
                    expires_on: cert.expires_on,
                    row_hash: *hash,
                },
            );
        }
        for chunk in changed.chunks(BATCH) {
            self.upsert(chunk, &now).await?;
        }
        self.counts.history += history.len() as u64;
        for chunk in history.chunks(BATCH) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO cert_history (cert_no, field, old_value, new_value, changed_at, import_id, source_file) ",
            );
            qb.push_values(chunk, |mut b, (no, field, old, new)| {
                b.push_bind(no)
                    .push_bind(*field)
                    .push_bind(old)
                    .push_bind(new)
                    .push_bind(&now)
                    .push_bind(self.import_id)
                    .push_bind(&self.file);
            });
            qb.build()
                .execute(&mut *self.tx)
                .await
                .ctx("recording certificate history")?;
        }
        Ok(())
    }

    async fn upsert(&mut self, chunk: &[&(Certificate, u64)], now: &str) -> Result<()> {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO certificates (cert_no, standard_number, status, status_raw, category_code, product_name, \
             models_raw, models, models_complete, applicant, manufacturer, factory, issued_on, expires_on, \
             first_issued_on, issuer, status_changed_on, status_reason, trademark, row_hash, import_id, updated_at) ",
        );
        qb.push_values(chunk, |mut b, (c, hash)| {
            b.push_bind(&c.cert_no)
                .push_bind(crate::text::certno::is_standard(&c.cert_no))
                .push_bind(c.status.as_str())
                .push_bind(&c.status_raw)
                .push_bind(&c.category_code)
                .push_bind(&c.product_name)
                .push_bind(&c.models_raw)
                .push_bind(serde_json::to_string(&c.models.models).unwrap_or_else(|_| "[]".into()))
                .push_bind(c.models.complete)
                .push_bind(&c.applicant)
                .push_bind(&c.manufacturer)
                .push_bind(&c.factory)
                .push_bind(c.issued_on.to_string())
                .push_bind(c.expires_on.to_string())
                .push_bind(c.first_issued_on.map(|d| d.to_string()))
                .push_bind(&c.issuer)
                .push_bind(c.status_changed_on.map(|d| d.to_string()))
                .push_bind(&c.status_reason)
                .push_bind(&c.trademark)
                .push_bind(format!("{hash:016x}"))
                .push_bind(self.import_id)
                .push_bind(now);
        });
        qb.push(
            " ON CONFLICT(cert_no) DO UPDATE SET standard_number = excluded.standard_number, status = excluded.status, \
             status_raw = excluded.status_raw, category_code = excluded.category_code, product_name = excluded.product_name, \
             models_raw = excluded.models_raw, models = excluded.models, models_complete = excluded.models_complete, \
             applicant = excluded.applicant, manufacturer = excluded.manufacturer, factory = excluded.factory, \
             issued_on = excluded.issued_on, expires_on = excluded.expires_on, first_issued_on = excluded.first_issued_on, \
             issuer = excluded.issuer, status_changed_on = excluded.status_changed_on, status_reason = excluded.status_reason, \
             trademark = excluded.trademark, row_hash = excluded.row_hash, import_id = excluded.import_id, updated_at = excluded.updated_at",
        );
        qb.build()
            .execute(&mut *self.tx)
            .await
            .ctx("storing certificates")?;
        Ok(())
    }

    /// Commits the file's rows and records the import's figures.
    pub async fn commit(mut self, total: u64, rejected: u64) -> Result<ImportCounts> {
        sqlx::query(
            "UPDATE cert_imports SET finished_at = ?, rows_total = ?, rows_inserted = ?, rows_updated = ?, \
             rows_unchanged = ?, rows_rejected = ? WHERE id = ?",
        )
        .bind(crate::store::stamp_rfc3339(self.clock.now()))
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
