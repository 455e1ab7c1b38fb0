//! SQLite statements for `store::cluster`: what the front in `../cluster.rs`
//! dispatches to. Several processes on one machine may share the file (a
//! `scan` beside a `worker`); every write is one `BEGIN IMMEDIATE`
//! transaction, so each lease decision is serialised.

use super::SqliteStore;
use crate::store::cluster::*;
use crate::store::{Ctx, Result};

const LEASE_SELECT: &str =
    "SELECT host, owner, scan_id, acquired_ms, heartbeat_ms, quiet_until_ms FROM host_leases";

fn json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

impl SqliteStore {
    pub async fn register_worker(&self, w: &WorkerRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO workers (id, machine, pid, role, started_ms, heartbeat_ms, stopped_ms, scan_id, doing, pages) \
             VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, 0) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms, stopped_ms = NULL",
        )
        .bind(&w.id)
        .bind(&w.machine)
        .bind(w.pid)
        .bind(&w.role)
        .bind(w.started_ms)
        .bind(w.heartbeat_ms)
        .bind(w.scan_id)
        .bind(&w.doing)
        .execute(&self.pool)
        .await
        .ctx("registering a worker")?;
        Ok(())
    }

    pub async fn worker_heartbeat(&self, id: &str, beat: &Heartbeat<'_>) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE workers SET heartbeat_ms = ?, scan_id = ?, doing = ?, pages = pages + ? \
             WHERE id = ? AND stopped_ms IS NULL",
        )
        .bind(beat.now_ms)
        .bind(beat.scan_id)
        .bind(beat.doing)
        .bind(beat.pages)
        .bind(id)
        .execute(&self.pool)
        .await
        .ctx("renewing a worker's heartbeat")?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn stop_workers(&self, ids: &[String], now_ms: i64) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        Ok(sqlx::query(
            "UPDATE workers SET stopped_ms = ?, doing = NULL \
             WHERE id IN (SELECT value FROM json_each(?)) AND stopped_ms IS NULL",
        )
        .bind(now_ms)
        .bind(json(ids))
        .execute(&self.pool)
        .await
        .ctx("marking workers stopped")?
        .rows_affected())
    }

    pub async fn workers(&self, stopped_since_ms: i64) -> Result<Vec<WorkerRow>> {
        let rows: Vec<WorkerRow> = sqlx::query_as(
            "SELECT id, machine, pid, role, started_ms, heartbeat_ms, stopped_ms, scan_id, doing, pages \
             FROM workers WHERE stopped_ms IS NULL OR stopped_ms >= ? ORDER BY started_ms, id",
        )
        .bind(stopped_since_ms)
        .fetch_all(&self.pool)
        .await
        .ctx("listing workers")?;
        Ok(rows)
    }

    pub async fn prune_workers(&self, before_ms: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM workers WHERE stopped_ms IS NOT NULL AND stopped_ms < ?")
                .bind(before_ms)
                .execute(&self.pool)
                .await
                .ctx("forgetting stopped workers")?
                .rows_affected(),
        )
    }

    pub async fn lease_host(
        &self,
        host: &str,
        owner: &str,
        scan_id: Option<i64>,
        now_ms: i64,
        stale_before_ms: i64,
        dead: &[String],
    ) -> Result<std::result::Result<i64, HostLease>> {
        let mut tx = self.write_tx().await.ctx("taking a host lease")?;
        let taken: Option<i64> = sqlx::query_scalar(
            "INSERT INTO host_leases (host, owner, scan_id, acquired_ms, heartbeat_ms, quiet_until_ms) \
             VALUES (?1, ?2, ?3, ?4, ?4, 0) \
             ON CONFLICT (host) DO UPDATE SET owner = excluded.owner, scan_id = excluded.scan_id, \
               acquired_ms = CASE WHEN host_leases.owner = excluded.owner AND host_leases.heartbeat_ms >= ?5 \
                                  THEN host_leases.acquired_ms ELSE excluded.acquired_ms END, \
               heartbeat_ms = excluded.heartbeat_ms \
             WHERE host_leases.heartbeat_ms < ?5 OR host_leases.owner = excluded.owner \
               OR host_leases.owner IN (SELECT value FROM json_each(?6)) \
             RETURNING quiet_until_ms",
        )
        .bind(host)
        .bind(owner)
        .bind(scan_id)
        .bind(now_ms)
        .bind(stale_before_ms)
        .bind(json(dead))
        .fetch_optional(&mut *tx)
        .await
        .ctx("taking a host lease")?;
        let out = match taken {
            Some(quiet) => Ok(quiet),
            None => {
                let row: HostLease = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{LEASE_SELECT} WHERE host = ?"
                )))
                .bind(host)
                .fetch_one(&mut *tx)
                .await
                .ctx("reading a host lease")?;
                Err(row)
            }
        };
        tx.commit().await.ctx("committing a host lease")?;
        Ok(out)
    }

    pub async fn renew_host_leases(
        &self,
        owner: &str,
        hosts: &[String],
        now_ms: i64,
    ) -> Result<Vec<String>> {
        if hosts.is_empty() {
            return Ok(Vec::new());
        }
        sqlx::query_scalar(
            "UPDATE host_leases SET heartbeat_ms = ? \
             WHERE owner = ? AND host IN (SELECT value FROM json_each(?)) RETURNING host",
        )
        .bind(now_ms)
        .bind(owner)
        .bind(json(hosts))
        .fetch_all(&self.pool)
        .await
        .ctx("renewing host leases")
    }

    pub async fn set_host_quiet(&self, host: &str, owner: &str, quiet_until_ms: i64) -> Result<()> {
        sqlx::query(
            "UPDATE host_leases SET quiet_until_ms = MAX(quiet_until_ms, ?) WHERE host = ? AND owner = ?",
        )
        .bind(quiet_until_ms)
        .bind(host)
        .bind(owner)
        .execute(&self.pool)
        .await
        .ctx("recording a host's pause")?;
        Ok(())
    }

    pub async fn release_host(&self, host: &str, owner: &str, quiet_until_ms: i64) -> Result<()> {
        // Heartbeat 0: stale for everyone at once; the row keeps the pause.
        sqlx::query(
            "UPDATE host_leases SET heartbeat_ms = 0, scan_id = NULL, \
             quiet_until_ms = MAX(quiet_until_ms, ?) WHERE host = ? AND owner = ?",
        )
        .bind(quiet_until_ms)
        .bind(host)
        .bind(owner)
        .execute(&self.pool)
        .await
        .ctx("releasing a host lease")?;
        Ok(())
    }

    pub async fn host_leases(&self, live_after_ms: i64) -> Result<Vec<HostLease>> {
        let rows: Vec<HostLease> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{LEASE_SELECT} WHERE heartbeat_ms >= ? ORDER BY host"
        )))
        .bind(live_after_ms)
        .fetch_all(&self.pool)
        .await
        .ctx("listing host leases")?;
        Ok(rows)
    }

    pub async fn reclaim_entries(&self, scan_id: Option<i64>, live_after_ms: i64) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE frontier SET state = 'pending', owner = NULL \
             WHERE state = 'inflight' AND (?1 IS NULL OR scan_id = ?1) \
               AND (owner IS NULL OR owner NOT IN (SELECT id FROM workers \
                    WHERE stopped_ms IS NULL AND heartbeat_ms >= ?2))",
        )
        .bind(scan_id)
        .bind(live_after_ms)
        .execute(&self.pool)
        .await
        .ctx("returning a dead process's entries")?
        .rows_affected())
    }

    pub async fn hand_back_entries(&self, owner: &str, host: Option<&str>) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE frontier SET state = 'pending', owner = NULL \
             WHERE state = 'inflight' AND owner = ?1 AND (?2 IS NULL OR host = ?2)",
        )
        .bind(owner)
        .bind(host)
        .execute(&self.pool)
        .await
        .ctx("handing entries back")?
        .rows_affected())
    }

    pub async fn due_hosts(&self, scan_id: i64, now_ms: i64) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT DISTINCT COALESCE(host, '') FROM frontier \
             WHERE scan_id = ? AND state = 'pending' AND next_at <= ? ORDER BY 1",
        )
        .bind(scan_id)
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .ctx("listing hosts with work")
    }

    pub async fn due_scans(&self, now_ms: i64) -> Result<Vec<DueScan>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT s.id, s.platform FROM scans s WHERE s.state = 'running' AND EXISTS (\
               SELECT 1 FROM frontier f WHERE f.scan_id = s.id AND f.state = 'pending' AND f.next_at <= ?) \
             ORDER BY s.id",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .ctx("listing scans with work")?;
        Ok(rows
            .into_iter()
            .map(|(scan_id, platform)| DueScan { scan_id, platform })
            .collect())
    }

    pub async fn entries_without_host(&self, scan_id: i64) -> Result<Vec<(i64, String)>> {
        sqlx::query_as(
            "SELECT id, url FROM frontier WHERE scan_id = ? AND host IS NULL \
             AND state IN ('pending', 'inflight') ORDER BY id",
        )
        .bind(scan_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing entries without a host")
    }

    pub async fn set_entry_hosts(&self, rows: &[(i64, String)]) -> Result<()> {
        let mut tx = self.write_tx().await.ctx("recording entry hosts")?;
        for (id, host) in rows {
            sqlx::query("UPDATE frontier SET host = ? WHERE id = ?")
                .bind(host)
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx("recording an entry's host")?;
        }
        tx.commit().await.ctx("committing entry hosts")
    }

    pub async fn cert_generation(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT value FROM cert_generation WHERE one = 1")
            .fetch_one(&self.pool)
            .await
            .ctx("reading the certificate generation")
    }
}
