//! PostgreSQL statements for `store::cluster`: what the front in
//! `../cluster.rs` dispatches to, beside the SQLite ones in
//! `../sqlite/cluster.rs`. Processes on several machines share these rows:
//! each lease decision is one statement on the lease's row (`INSERT ... ON
//! CONFLICT DO UPDATE ... WHERE` locks the row and tests its latest
//! version, so of two takers at once exactly one wins); renewals and
//! releases name the holder in their `WHERE`.

use super::{PgStore, clean};
use crate::store::cluster::*;
use crate::store::{Ctx, Result};

const LEASE_SELECT: &str =
    "SELECT host, owner, scan_id, acquired_ms, heartbeat_ms, quiet_until_ms FROM host_leases";

fn cleaned(list: &[String]) -> Vec<String> {
    list.iter().map(|s| clean(s).into_owned()).collect()
}

impl PgStore {
    pub async fn register_worker(&self, w: &WorkerRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO workers (id, machine, pid, role, started_ms, heartbeat_ms, stopped_ms, scan_id, doing, pages) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8, 0) \
             ON CONFLICT (id) DO UPDATE SET heartbeat_ms = EXCLUDED.heartbeat_ms, stopped_ms = NULL",
        )
        .bind(clean(&w.id))
        .bind(clean(&w.machine))
        .bind(w.pid)
        .bind(clean(&w.role))
        .bind(w.started_ms)
        .bind(w.heartbeat_ms)
        .bind(w.scan_id)
        .bind(w.doing.as_deref().map(clean))
        .execute(&self.pool)
        .await
        .ctx("registering a worker")?;
        Ok(())
    }

    pub async fn worker_heartbeat(&self, id: &str, beat: &Heartbeat<'_>) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE workers SET heartbeat_ms = $1, scan_id = $2, doing = $3, pages = pages + $4 \
             WHERE id = $5 AND stopped_ms IS NULL",
        )
        .bind(beat.now_ms)
        .bind(beat.scan_id)
        .bind(beat.doing.map(clean))
        .bind(beat.pages)
        .bind(clean(id))
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
            "UPDATE workers SET stopped_ms = $1, doing = NULL \
             WHERE id = ANY($2) AND stopped_ms IS NULL",
        )
        .bind(now_ms)
        .bind(cleaned(ids))
        .execute(&self.pool)
        .await
        .ctx("marking workers stopped")?
        .rows_affected())
    }

    pub async fn workers(&self, stopped_since_ms: i64) -> Result<Vec<WorkerRow>> {
        let rows: Vec<WorkerRow> = sqlx::query_as(
            "SELECT id, machine, pid, role, started_ms, heartbeat_ms, stopped_ms, scan_id, doing, pages \
             FROM workers WHERE stopped_ms IS NULL OR stopped_ms >= $1 ORDER BY started_ms, id",
        )
        .bind(stopped_since_ms)
        .fetch_all(&self.pool)
        .await
        .ctx("listing workers")?;
        Ok(rows)
    }

    pub async fn prune_workers(&self, before_ms: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM workers WHERE stopped_ms IS NOT NULL AND stopped_ms < $1")
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
        let (host, owner) = (clean(host), clean(owner));
        // Taken, or the holder read after; if the holder released it in
        // between there is nobody to name: try again.
        for _ in 0..5 {
            let taken: Option<i64> = sqlx::query_scalar(
                "INSERT INTO host_leases (host, owner, scan_id, acquired_ms, heartbeat_ms, quiet_until_ms) \
                 VALUES ($1, $2, $3, $4, $4, 0) \
                 ON CONFLICT (host) DO UPDATE SET owner = EXCLUDED.owner, scan_id = EXCLUDED.scan_id, \
                   acquired_ms = CASE WHEN host_leases.owner = EXCLUDED.owner AND host_leases.heartbeat_ms >= $5 \
                                      THEN host_leases.acquired_ms ELSE EXCLUDED.acquired_ms END, \
                   heartbeat_ms = EXCLUDED.heartbeat_ms \
                 WHERE host_leases.heartbeat_ms < $5 OR host_leases.owner = EXCLUDED.owner \
                   OR host_leases.owner = ANY($6) \
                 RETURNING quiet_until_ms",
            )
            .bind(host.as_ref())
            .bind(owner.as_ref())
            .bind(scan_id)
            .bind(now_ms)
            .bind(stale_before_ms)
            .bind(cleaned(dead))
            .fetch_optional(&self.pool)
            .await
            .ctx("taking a host lease")?;
            if let Some(quiet) = taken {
                return Ok(Ok(quiet));
            }
            let row: Option<HostLease> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{LEASE_SELECT} WHERE host = $1"
            )))
            .bind(host.as_ref())
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a host lease")?;
            if let Some(row) = row.filter(|r| r.heartbeat_ms >= stale_before_ms) {
                return Ok(Err(row));
            }
        }
        Err(crate::store::StoreError::Corrupt {
            what: "host lease",
            detail: format!("{host}: changed hands five times while being taken"),
        })
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
            "UPDATE host_leases SET heartbeat_ms = $1 \
             WHERE owner = $2 AND host = ANY($3) RETURNING host",
        )
        .bind(now_ms)
        .bind(clean(owner))
        .bind(cleaned(hosts))
        .fetch_all(&self.pool)
        .await
        .ctx("renewing host leases")
    }

    pub async fn set_host_quiet(&self, host: &str, owner: &str, quiet_until_ms: i64) -> Result<()> {
        sqlx::query(
            "UPDATE host_leases SET quiet_until_ms = GREATEST(quiet_until_ms, $1) WHERE host = $2 AND owner = $3",
        )
        .bind(quiet_until_ms)
        .bind(clean(host))
        .bind(clean(owner))
        .execute(&self.pool)
        .await
        .ctx("recording a host's pause")?;
        Ok(())
    }

    pub async fn release_host(&self, host: &str, owner: &str, quiet_until_ms: i64) -> Result<()> {
        // Heartbeat 0: stale for everyone at once; the row keeps the pause.
        sqlx::query(
            "UPDATE host_leases SET heartbeat_ms = 0, scan_id = NULL, \
             quiet_until_ms = GREATEST(quiet_until_ms, $1) WHERE host = $2 AND owner = $3",
        )
        .bind(quiet_until_ms)
        .bind(clean(host))
        .bind(clean(owner))
        .execute(&self.pool)
        .await
        .ctx("releasing a host lease")?;
        Ok(())
    }

    pub async fn host_leases(&self, live_after_ms: i64) -> Result<Vec<HostLease>> {
        let rows: Vec<HostLease> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{LEASE_SELECT} WHERE heartbeat_ms >= $1 ORDER BY host"
        )))
        .bind(live_after_ms)
        .fetch_all(&self.pool)
        .await
        .ctx("listing host leases")?;
        Ok(rows)
    }

    pub async fn reclaim_entries(&self, scan_id: Option<i64>, live_after_ms: i64) -> Result<u64> {
        Ok(sqlx::query(
            // Rows locked in ID order, as a crawl batch locks them: no deadlock.
            "UPDATE frontier SET state = 'pending', owner = NULL WHERE id IN (\
               SELECT id FROM frontier WHERE state = 'inflight' AND ($1::bigint IS NULL OR scan_id = $1) \
                 AND (owner IS NULL OR NOT EXISTS (SELECT 1 FROM workers w \
                      WHERE w.id = frontier.owner AND w.stopped_ms IS NULL AND w.heartbeat_ms >= $2)) \
               ORDER BY id FOR UPDATE) AND state = 'inflight'",
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
            "UPDATE frontier SET state = 'pending', owner = NULL WHERE id IN (\
               SELECT id FROM frontier WHERE state = 'inflight' AND owner = $1 \
                 AND ($2::text IS NULL OR host = $2) ORDER BY id FOR UPDATE) \
             AND state = 'inflight' AND owner = $1",
        )
        .bind(clean(owner))
        .bind(host.map(clean))
        .execute(&self.pool)
        .await
        .ctx("handing entries back")?
        .rows_affected())
    }

    pub async fn due_hosts(&self, scan_id: i64, now_ms: i64) -> Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT DISTINCT COALESCE(host, '') FROM frontier \
             WHERE scan_id = $1 AND state = 'pending' AND next_at <= $2 ORDER BY 1",
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
               SELECT 1 FROM frontier f WHERE f.scan_id = s.id AND f.state = 'pending' AND f.next_at <= $1) \
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
            "SELECT id, url FROM frontier WHERE scan_id = $1 AND host IS NULL \
             AND state IN ('pending', 'inflight') ORDER BY id",
        )
        .bind(scan_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing entries without a host")
    }

    pub async fn set_entry_hosts(&self, rows: &[(i64, String)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE frontier f SET host = u.host FROM UNNEST($1::bigint[], $2::text[]) AS u(id, host) \
             WHERE f.id = u.id",
        )
        .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| clean(&r.1).into_owned()).collect::<Vec<_>>())
        .execute(&self.pool)
        .await
        .ctx("recording entry hosts")?;
        Ok(())
    }

    pub async fn cert_generation(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT value FROM cert_generation WHERE one = 1")
            .fetch_one(&self.pool)
            .await
            .ctx("reading the certificate generation")
    }
}
