//! Certificates: import (batched upserts with history), the index feed,
//! lookups and statistics.

use super::{Db, Result, Store};
use crate::domain::Brand;
use crate::domain::CertRecord;
use crate::domain::{CertStatus, Certificate};
use chrono::NaiveDate;

/// What the store already holds for a certificate number.
#[derive(Debug, Clone, Copy)]
pub struct ExistingCert {
    pub status: CertStatus,
    pub expires_on: NaiveDate,
    pub row_hash: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub history: u64,
}

/// A change of status or expiry recorded at import.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertHistoryRow {
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub changed_at: String,
    pub source_file: String,
}

/// A certificate as stored, with where it came from.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredCert {
    pub cert: Certificate,
    pub updated_at: String,
    pub source_file: String,
}

/// How current the certificate database is.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CertFreshness {
    pub certificates: i64,
    /// The latest import that finished: its file and when (RFC 3339, UTC).
    pub latest_import: Option<(String, String)>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CertStats {
    pub total: i64,
    pub by_status: Vec<(String, i64)>,
    pub by_category: Vec<(String, i64)>,
    pub by_issuer: Vec<(String, i64)>,
    /// Valid by status but past their expiry date.
    pub expired_by_date: i64,
    /// Valid certificates expiring within the window.
    pub expiring: i64,
    pub expiring_first: Vec<(String, String, String)>,
}

impl Store {
    /// Starts importing `file`; loads what is stored to tell new, changed and
    /// unchanged rows apart.
    pub async fn begin_cert_import(
        &self,
        file: &str,
        encoding: &str,
        strict: bool,
    ) -> Result<CertImportWriter> {
        match &self.db {
            Db::Sqlite(db) => db
                .begin_cert_import(file, encoding, strict)
                .await
                .map(|w| CertImportWriter(ImportInner::Sqlite(w))),
            Db::Postgres(db) => db
                .begin_cert_import(file, encoding, strict)
                .await
                .map(|w| CertImportWriter(ImportInner::Postgres(w))),
        }
    }

    /// Every certificate in the form the matching index needs.
    pub async fn cert_records(&self) -> Result<Vec<CertRecord>> {
        dispatch!(self, |db| db.cert_records().await)
    }

    pub async fn certificate(&self, cert_no: &str) -> Result<Option<StoredCert>> {
        dispatch!(self, |db| db.certificate(cert_no).await)
    }

    pub async fn cert_history(&self, cert_no: &str) -> Result<Vec<CertHistoryRow>> {
        dispatch!(self, |db| db.cert_history(cert_no).await)
    }

    /// How many certificates there are and when the latest import finished.
    pub async fn cert_freshness(&self) -> Result<CertFreshness> {
        dispatch!(self, |db| db.cert_freshness().await)
    }

    /// Counts for `certdb stats`, judged on `as_of` with a window of `days`.
    pub async fn cert_stats(&self, as_of: NaiveDate, days: i64) -> Result<CertStats> {
        dispatch!(self, |db| db.cert_stats(as_of, days).await)
    }

    /// Replaces the brand alias table.
    pub async fn replace_brands(&self, brands: &[Brand]) -> Result<()> {
        dispatch!(self, |db| db.replace_brands(brands).await)
    }

    /// The stored alias table, in name order; empty when none was imported.
    pub async fn brands(&self) -> Result<Vec<Brand>> {
        dispatch!(self, |db| db.brands().await)
    }
    /// How many certificates are stored.
    pub async fn count_certs(&self) -> Result<i64> {
        dispatch!(self, |db| db.count_certs().await)
    }

    /// The last recorded certificate change (0 when none), to tell later ones apart.
    pub async fn cert_history_mark(&self) -> Result<i64> {
        dispatch!(self, |db| db.cert_history_mark().await)
    }

    /// Certificates whose status or expiry changed after `after`, up to
    /// and including `through` (marks from [`Store::cert_history_mark`]).
    pub async fn certs_changed_between(&self, after: i64, through: i64) -> Result<Vec<String>> {
        dispatch!(self, |db| db.certs_changed_between(after, through).await)
    }
}

/// Writes one import file inside one transaction: all of it or nothing.
pub struct CertImportWriter(ImportInner);

enum ImportInner {
    Sqlite(super::sqlite::CertImportWriter),
    Postgres(super::postgres::CertImportWriter),
}

impl CertImportWriter {
    pub fn import_id(&self) -> i64 {
        match &self.0 {
            ImportInner::Sqlite(w) => w.import_id(),
            ImportInner::Postgres(w) => w.import_id(),
        }
    }

    /// Writes a batch of parsed rows (with their content hashes).
    pub async fn write(&mut self, rows: &[(Certificate, u64)]) -> Result<()> {
        match &mut self.0 {
            ImportInner::Sqlite(w) => w.write(rows).await,
            ImportInner::Postgres(w) => w.write(rows).await,
        }
    }

    /// Commits the import: every row written becomes visible at once.
    pub async fn commit(self, total: u64, rejected: u64) -> Result<ImportCounts> {
        match self.0 {
            ImportInner::Sqlite(w) => w.commit(total, rejected).await,
            ImportInner::Postgres(w) => w.commit(total, rejected).await,
        }
    }

    /// Drops everything written so far.
    pub async fn rollback(self) -> Result<()> {
        match self.0 {
            ImportInner::Sqlite(w) => w.rollback().await,
            ImportInner::Postgres(w) => w.rollback().await,
        }
    }
}
