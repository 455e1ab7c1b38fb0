//! PostgreSQL statements for `store::crawl`: what the front in `../crawl.rs` dispatches to, beside the SQLite ones in `../sqlite/crawl.rs`.
//!
//! Several workers on several machines claim from one frontier: a claim
//! takes its rows with `FOR UPDATE SKIP LOCKED`, so two never take the same
//! entry and none waits for another. Writers of one scan's results (and a
//! rebase of its frontier) take the scan's row lock first, which serialises
//! them per scan as SQLite's write lock did (they all update the scan's
//! counters anyway) and orders their row locks on listings. Page ids come
//! from the identity, not `MAX(id) + 1`. Scraped text (URLs, keys, cards,
//! headers, errors) is written without NULs (see `listings.rs`).

use super::PgStore;
use super::listings::{clean, clean_opt, limit, nul_free, upsert_batch};
use crate::domain::RunState;
use crate::store::crawl::*;
use crate::store::listings::SeenIn;
use crate::store::{Ctx, ListingCounts, ListingWrite, Result};
use chrono::{DateTime, NaiveDate, Utc};

/// The columns of a scan, for [`ScanRow`].
macro_rules! scan_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, platform, state, started_at, finished_at, as_of, keywords::text AS keywords, max_pages, \
             pages_fetched, pages_failed, pages_retried, robots_skipped, requests, listings_new, listings_changed, \
             listings_unchanged, listings_gone, match_run_id, findings::text AS findings, message, snapshot FROM scans ",
            $rest
        )
    };
}

/// A row of [`scan_select`].
#[derive(sqlx::FromRow)]
pub(super) struct ScanRow {
    id: i64,
    platform: String,
    state: RunState,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    as_of: NaiveDate,
    keywords: String,
    max_pages: i64,
    pages_fetched: i64,
    pages_failed: i64,
    pages_retried: i64,
    robots_skipped: i64,
    requests: i64,
    listings_new: i64,
    listings_changed: i64,
    listings_unchanged: i64,
    listings_gone: i64,
    match_run_id: Option<i64>,
    findings: Option<String>,
    message: Option<String>,
    snapshot: Option<String>,
}

impl From<ScanRow> for ScanRecord {
    fn from(r: ScanRow) -> ScanRecord {
        ScanRecord {
            id: r.id,
            platform: r.platform,
            state: r.state,
            started_at: super::stamp(r.started_at),
            finished_at: r.finished_at.map(super::stamp),
            as_of: super::day_text(r.as_of),
            keywords: serde_json::from_str(&r.keywords).unwrap_or_default(),
            max_pages: r.max_pages,
            pages_fetched: r.pages_fetched,
            pages_failed: r.pages_failed,
            pages_retried: r.pages_retried,
            robots_skipped: r.robots_skipped,
            requests: r.requests,
            listings_new: r.listings_new,
            listings_changed: r.listings_changed,
            listings_unchanged: r.listings_unchanged,
            listings_gone: r.listings_gone,
            match_run_id: r.match_run_id,
            findings: r.findings.and_then(|f| serde_json::from_str(&f).ok()),
            message: r.message,
            snapshot: r.snapshot,
        }
    }
}

#[derive(sqlx::FromRow)]
struct PageRow {
    id: i64,
    scan_id: i64,
    platform: String,
    item_id: Option<String>,
    kind: String,
    url: String,
    final_url: String,
    fetched_at: DateTime<Utc>,
    status: i64,
    headers: String,
    encoding: Option<String>,
    body_len: i64,
    sha256: String,
}

impl From<PageRow> for PageMeta {
    fn from(r: PageRow) -> PageMeta {
        PageMeta {
            id: r.id,
            scan_id: r.scan_id,
            platform: r.platform,
            item_id: r.item_id,
            kind: r.kind,
            url: r.url,
            final_url: r.final_url,
            fetched_at: super::stamp(r.fetched_at),
            status: r.status,
            headers: serde_json::from_str(&r.headers).unwrap_or_default(),
            encoding: r.encoding,
            body_len: r.body_len,
            sha256: r.sha256,
        }
    }
}

/// A result card (JSON text) as JSONB can hold it: the same value with NULs
/// taken out of its strings (JSONB refuses `\u0000`); text that is not
/// JSON is not kept (the crawler reads an unreadable card as no card).
fn clean_card(card: &Option<String>) -> Option<String> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) if s.contains('\0') => *s = s.replace('\0', ""),
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            serde_json::Value::Object(o) => {
                let entries: Vec<(String, serde_json::Value)> = std::mem::take(o)
                    .into_iter()
                    .map(|(k, mut v)| {
                        strip(&mut v);
                        (clean(&k), v)
                    })
                    .collect();
                o.extend(entries);
            }
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(card.as_deref()?).ok()?;
    strip(&mut v);
    Some(v.to_string())
}

/// Adds entries to a scan's frontier in their order, in one statement; an
/// entry whose key the scan has already is not added. Returns those added.
async fn insert_entries(
    tx: &mut sqlx::PgConnection,
    scan_id: i64,
    entries: &[&NewEntry],
) -> Result<u64> {
    if entries.is_empty() {
        return Ok(0);
    }
    let n = sqlx::query(
        "INSERT INTO frontier (scan_id, kind, key, url, keyword, page, card, host) \
         SELECT $1, u.kind, u.key, u.url, u.keyword, u.page, u.card::jsonb, u.host \
         FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[]) WITH ORDINALITY \
           AS u(kind, key, url, keyword, page, card, host, n) \
         ORDER BY u.n \
         ON CONFLICT (scan_id, key) DO NOTHING",
    )
    .bind(scan_id)
    .bind(entries.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| clean(&e.key)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| clean(&e.url)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| clean_opt(&e.keyword)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| e.page).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| clean_card(&e.card)).collect::<Vec<_>>())
    .bind(entries.iter().map(|e| clean(&e.host)).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .ctx("adding to the frontier")?;
    Ok(n.rows_affected())
}

/// Takes the scan's row lock for the rest of the transaction (see the
/// module's comment).
async fn lock_scan(tx: &mut sqlx::PgConnection, scan_id: i64) -> Result<()> {
    sqlx::query("SELECT id FROM scans WHERE id = $1 FOR NO KEY UPDATE")
        .bind(scan_id)
        .execute(&mut *tx)
        .await
        .ctx("locking a scan")?;
    Ok(())
}

impl PgStore {
    /// Starts a scan record and seeds its frontier in one transaction.
    pub async fn create_scan(
        &self,
        platform: &str,
        as_of: NaiveDate,
        keywords: &[String],
        max_pages: u32,
        seeds: &[NewEntry],
    ) -> Result<i64> {
        let mut tx = self.write_tx().await.ctx("starting a scan")?;
        let keywords: Vec<String> = keywords.iter().map(|k| clean(k)).collect();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO scans (platform, state, started_at, as_of, keywords, max_pages) \
             VALUES ($1, 'running', $2, $3, $4::jsonb, $5) RETURNING id",
        )
        .bind(nul_free(platform))
        .bind(self.now())
        .bind(as_of)
        .bind(serde_json::to_string(&keywords).unwrap_or_else(|_| "[]".into()))
        .bind(max_pages as i64)
        .fetch_one(&mut *tx)
        .await
        .ctx("creating a scan")?;
        let seeds: Vec<&NewEntry> = seeds.iter().collect();
        insert_entries(&mut tx, id, &seeds).await?;
        tx.commit().await.ctx("committing a new scan")?;
        Ok(id)
    }

    pub async fn scan(&self, id: i64) -> Result<Option<ScanRecord>> {
        let row: Option<ScanRow> = sqlx::query_as(scan_select!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a scan")?;
        Ok(row.map(ScanRecord::from))
    }

    /// Scans that did not finish (running when killed, or interrupted), oldest first.
    pub async fn unfinished_scans(&self, platform: Option<&str>) -> Result<Vec<ScanRecord>> {
        let rows: Vec<ScanRow> = sqlx::query_as(scan_select!(
            "WHERE state IN ('running', 'interrupted') AND ($1::text IS NULL OR platform = $1) ORDER BY id"
        ))
        .bind(platform.map(nul_free))
        .fetch_all(&self.pool)
        .await
        .ctx("listing unfinished scans")?;
        Ok(rows.into_iter().map(ScanRecord::from).collect())
    }

    /// Marks a scan running again and returns entries left in flight to the queue.
    pub async fn reopen_scan(&self, id: i64, live_after_ms: i64) -> Result<u64> {
        let mut tx = self.write_tx().await.ctx("reopening a scan")?;
        let n = sqlx::query(
            "UPDATE frontier SET state = 'pending', owner = NULL WHERE scan_id = $1 AND state = 'inflight' \
             AND (owner IS NULL OR NOT EXISTS (SELECT 1 FROM workers w WHERE w.id = frontier.owner \
                  AND w.stopped_ms IS NULL AND w.heartbeat_ms >= $2))",
        )
        .bind(id)
        .bind(live_after_ms)
        .execute(&mut *tx)
        .await
        .ctx("returning in-flight entries")?
        .rows_affected();
        sqlx::query(
            "UPDATE scans SET state = 'running', finished_at = NULL, message = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .ctx("reopening a scan")?;
        tx.commit().await.ctx("committing the reopened scan")?;
        Ok(n)
    }

    /// Ends a scan: `completed`, `completed_with_errors`, `interrupted` or
    /// `failed`, with a message. Unless completed, entries left in flight go
    /// back to the queue.
    pub async fn finish_scan(&self, id: i64, state: RunState, message: Option<&str>) -> Result<()> {
        let mut tx = self.write_tx().await.ctx("finishing a scan")?;
        if state != RunState::Completed {
            sqlx::query(
                "UPDATE frontier SET state = 'pending', owner = NULL WHERE scan_id = $1 AND state = 'inflight'",
            )
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("saving in-flight entries")?;
        }
        sqlx::query("UPDATE scans SET state = $1, finished_at = $2, message = $3 WHERE id = $4")
            .bind(state)
            .bind(self.now())
            .bind(message.map(nul_free))
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("finishing a scan")?;
        tx.commit().await.ctx("committing the scan's end")
    }

    /// Records the match run of a scan and its findings by verdict.
    pub async fn set_scan_findings(
        &self,
        id: i64,
        run_id: i64,
        by_verdict: &serde_json::Value,
    ) -> Result<()> {
        // JSON, not JSONB: the key order is kept as given.
        sqlx::query("UPDATE scans SET match_run_id = $1, findings = $2::json WHERE id = $3")
            .bind(run_id)
            .bind(by_verdict.to_string())
            .bind(id)
            .execute(&self.pool)
            .await
            .ctx("recording a scan's findings")?;
        Ok(())
    }

    /// Takes up to `limit` due entries (items before result pages) and marks them in flight.
    pub async fn claim_entries(
        &self,
        scan_id: i64,
        who: &Claimant<'_>,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<FrontierEntry>> {
        // SKIP LOCKED: entries another worker is claiming right now are
        // passed over, not waited for; the re-check of `state` after the
        // lock keeps an entry claimed and committed meanwhile out. The
        // chosen ids are MATERIALIZED: a subquery the plan rescans would
        // lock (and claim) past the LIMIT.
        let rows: Vec<EntryRow> = sqlx::query_as(
            "WITH c AS MATERIALIZED (\
               SELECT id FROM frontier WHERE scan_id = $1 AND state = 'pending' AND next_at <= $2 \
                 AND ($4::text[] IS NULL OR COALESCE(host, '') = ANY($4)) \
                 AND EXISTS (SELECT 1 FROM scans WHERE id = $1 AND state = 'running') \
               ORDER BY kind, next_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             UPDATE frontier f SET state = 'inflight', owner = $5 FROM c \
             WHERE f.id = c.id AND f.state = 'pending' \
             RETURNING f.id, f.kind, f.key, f.url, f.keyword, f.page, f.card::text AS card, f.attempts",
        )
        .bind(scan_id)
        .bind(now_ms)
        .bind(self::limit(limit))
        .bind(who.hosts.map(|h| h.iter().map(|s| clean(s)).collect::<Vec<_>>()))
        .bind(clean(who.owner))
        .fetch_all(&self.pool)
        .await
        .ctx("claiming frontier entries")?;
        let mut out: Vec<FrontierEntry> = rows
            .into_iter()
            .map(EntryRow::into_entry)
            .collect::<Result<_>>()?;
        out.sort_by_key(|e| (e.kind == EntryKind::Search, e.id));
        Ok(out)
    }

    /// When the next pending entry falls due (unix ms), if any is pending.
    /// Entries not yet finished (pending or in flight): ID, URL, key.
    pub async fn open_entries(&self, scan_id: i64) -> Result<Vec<(i64, String, String)>> {
        sqlx::query_as(
            "SELECT id, url, key FROM frontier WHERE scan_id = $1 AND state IN ('pending', 'inflight') ORDER BY id",
        )
        .bind(scan_id)
        .fetch_all(&self.pool)
        .await
        .ctx("listing open entries")
    }

    /// Rewrites open entries' URLs and keys (a moved platform) in one
    /// transaction. An entry whose new key is already in the frontier is
    /// the same page: the stale copy is dropped. Returns entries rewritten.
    pub async fn rebase_entries(
        &self,
        scan_id: i64,
        rewrites: &[(i64, String, String)],
    ) -> Result<u64> {
        if rewrites.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write_tx().await.ctx("moving the frontier")?;
        // SQLite applies each rewrite in turn with UPDATE OR IGNORE (a key
        // taken by another entry: drop this one). PostgreSQL has no such
        // statement: the same outcome is worked out here from the scan's
        // keys, under the scan's lock and the entries' row locks, then
        // written with three statements.
        lock_scan(&mut tx, scan_id).await?;
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, key FROM frontier WHERE scan_id = $1 ORDER BY id FOR UPDATE",
        )
        .bind(scan_id)
        .fetch_all(&mut *tx)
        .await
        .ctx("reading the frontier's keys")?;
        let mut key_of: std::collections::HashMap<i64, String> = rows.iter().cloned().collect();
        let mut id_of: std::collections::HashMap<String, i64> =
            rows.into_iter().map(|(id, key)| (key, id)).collect();
        let mut moved: Vec<(i64, String, String)> = Vec::new();
        let mut dropped: Vec<i64> = Vec::new();
        for (id, url, key) in rewrites {
            let (url, key) = (clean(url), clean(key));
            let Some(old) = key_of.get(id).cloned() else {
                continue; // not an entry of this scan (or dropped already)
            };
            match id_of.get(&key) {
                Some(other) if other != id => {
                    id_of.remove(&old);
                    key_of.remove(id);
                    dropped.push(*id);
                }
                _ => {
                    id_of.remove(&old);
                    id_of.insert(key.clone(), *id);
                    key_of.insert(*id, key.clone());
                    moved.push((*id, url, key));
                }
            }
        }
        // The last rewrite of an entry is the one that stands.
        let mut last: std::collections::HashMap<i64, (String, String)> =
            std::collections::HashMap::new();
        for (id, url, key) in &moved {
            last.insert(*id, (url.clone(), key.clone()));
        }
        let mut ids: Vec<i64> = last
            .keys()
            .copied()
            .filter(|id| key_of.contains_key(id))
            .collect();
        ids.sort_unstable();
        if !dropped.is_empty() {
            sqlx::query("DELETE FROM frontier WHERE scan_id = $1 AND id = ANY($2)")
                .bind(scan_id)
                .bind(&dropped)
                .execute(&mut *tx)
                .await
                .ctx("dropping a duplicate frontier entry")?;
        }
        if !ids.is_empty() {
            // Keys are unique per scan and checked row by row: park the
            // moving entries on keys no crawl makes before giving them their
            // new ones, so that two entries trading keys do not collide.
            sqlx::query(
                "UPDATE frontier SET key = chr(1) || 'rebase:' || id::text WHERE scan_id = $1 AND id = ANY($2)",
            )
            .bind(scan_id)
            .bind(&ids)
            .execute(&mut *tx)
            .await
            .ctx("moving a frontier entry")?;
            sqlx::query(
                "UPDATE frontier f SET url = u.url, key = u.key, host = u.host \
                 FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[]) AS u(id, url, key, host) \
                 WHERE f.id = u.id AND f.scan_id = $1",
            )
            .bind(scan_id)
            .bind(&ids)
            .bind(ids.iter().map(|id| last[id].0.as_str()).collect::<Vec<_>>())
            .bind(ids.iter().map(|id| last[id].1.as_str()).collect::<Vec<_>>())
            // The host moves with the URL: its lease is what covers the entry.
            .bind(ids.iter().map(|id| host_of(&last[id].0)).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await
            .ctx("moving a frontier entry")?;
        }
        tx.commit().await.ctx("committing the moved frontier")?;
        Ok(moved.len() as u64)
    }

    /// The pending entry due first: when (ms) and the error of its last
    /// attempt, if it is a retry. What a waiting scan is waiting for.
    pub async fn next_retry(&self, scan_id: i64) -> Result<Option<(i64, Option<String>)>> {
        sqlx::query_as(
            "SELECT next_at, error FROM frontier WHERE scan_id = $1 AND state = 'pending' \
             ORDER BY next_at, id LIMIT 1",
        )
        .bind(scan_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("finding the next retry")
    }

    pub async fn frontier_counts(&self, scan_id: i64) -> Result<FrontierCounts> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) FROM frontier WHERE scan_id = $1 GROUP BY state",
        )
        .bind(scan_id)
        .fetch_all(&self.pool)
        .await
        .ctx("counting the frontier")?;
        let mut c = FrontierCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "pending" => c.pending = n,
                "inflight" => c.inflight = n,
                "done" => c.done = n,
                "gone" => c.gone = n,
                "failed" => c.failed = n,
                _ => c.robots = n,
            }
        }
        Ok(c)
    }

    /// Entries that failed for good, with their errors.
    pub async fn failed_entries(
        &self,
        scan_id: i64,
        limit: i64,
    ) -> Result<Vec<(String, Option<i64>, String)>> {
        sqlx::query_as(
            "SELECT url, status, COALESCE(error, '') FROM frontier WHERE scan_id = $1 AND state = 'failed' \
             ORDER BY id LIMIT $2",
        )
        .bind(scan_id)
        .bind(self::limit(limit))
        .fetch_all(&self.pool)
        .await
        .ctx("listing failed entries")
    }

    /// Writes a batch of results in one transaction, with a few multi-row
    /// statements rather than several per page.
    pub async fn apply_results(
        &self,
        scan_id: i64,
        platform: &str,
        owner: &str,
        results: &[EntryResult],
    ) -> Result<Applied> {
        let now = self.now();
        let source = format!("scan:{scan_id}");
        let mut applied = Applied::default();
        let mut tx = self.write_tx().await.ctx("starting a crawl batch")?;
        lock_scan(&mut tx, scan_id).await?;
        // Row locks on the batch's entries: a reclaim or hand-back waits for
        // this commit, and one that came first is seen here.
        let held: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM frontier WHERE id = ANY($1) AND state = 'inflight' AND owner = $2 \
             ORDER BY id FOR UPDATE",
        )
        .bind(results.iter().map(|r| r.entry_id).collect::<Vec<_>>())
        .bind(clean(owner))
        .fetch_all(&mut *tx)
        .await
        .ctx("checking the batch's entries are still held")?;
        let (results, lost) = crate::store::crawl::keep_held(results, &held);
        let results: &[EntryResult] = &results;
        applied.lost = lost;
        let page_ids = insert_pages(&mut tx, scan_id, platform, results).await?;
        let found: Vec<&NewEntry> = results
            .iter()
            .flat_map(|r| match &r.update {
                EntryUpdate::Search { found, .. } => found.as_slice(),
                _ => &[],
            })
            .collect();
        applied.queued = insert_entries(&mut tx, scan_id, &found).await?;
        let mut writes: Vec<(&ListingWrite, Option<SeenIn>)> = Vec::new();
        let mut gone: Vec<(String, String, i64)> = Vec::new();
        for (r, page_id) in results.iter().zip(&page_ids) {
            let seen = Some(SeenIn {
                scan_id,
                page_id: *page_id,
            });
            match &r.update {
                EntryUpdate::Item { listing, .. } => writes.push((listing, seen)),
                EntryUpdate::Search { listings, .. } => {
                    writes.extend(listings.iter().map(|l| (l, seen)))
                }
                EntryUpdate::Gone {
                    platform: p,
                    item_id,
                    ..
                } => gone.push((clean(p), clean(item_id), page_id.unwrap_or_default())),
                _ => {}
            }
        }
        applied.gone = mark_gone(&mut tx, &gone, scan_id, now).await?;
        if !writes.is_empty() {
            for c in upsert_batch(&mut tx, &writes, &source, now).await? {
                applied.listings.add(c);
            }
        }
        update_entries(&mut tx, results, &page_ids).await?;
        let mut delta = ScanDelta::of(results);
        delta.listings = applied.listings;
        delta.gone = applied.gone as i64;
        delta.write(&mut tx, scan_id).await?;
        tx.commit().await.ctx("committing a crawl batch")?;
        Ok(applied)
    }

    /// Every page kept for an item, oldest first.
    pub async fn item_pages(&self, platform: Option<&str>, item_id: &str) -> Result<Vec<PageMeta>> {
        let rows: Vec<PageRow> = sqlx::query_as(
            "SELECT id, scan_id, platform, item_id, kind, url, final_url, fetched_at, status, \
             headers::text AS headers, encoding, body_len, sha256 \
             FROM pages WHERE item_id = $1 AND ($2::text IS NULL OR platform = $2) ORDER BY id",
        )
        .bind(nul_free(item_id))
        .bind(platform.map(nul_free))
        .fetch_all(&self.pool)
        .await
        .ctx("listing an item's pages")?;
        Ok(rows.into_iter().map(PageMeta::from).collect())
    }

    /// The gzip body of a page.
    pub async fn page_body_gz(&self, page_id: i64) -> Result<Vec<u8>> {
        sqlx::query_scalar("SELECT body_gz FROM pages WHERE id = $1")
            .bind(page_id)
            .fetch_one(&self.pool)
            .await
            .ctx("reading a page body")
    }

    /// Number of listings of a platform by state (online, gone).
    pub async fn listing_states(&self, platform: &str) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT state, COUNT(*) FROM listings WHERE platform = $1 GROUP BY state ORDER BY state",
        )
        .bind(nul_free(platform))
        .fetch_all(&self.pool)
        .await
        .ctx("counting listing states")
    }
}

/// What a batch adds to a scan's counters.
#[derive(Default)]
struct ScanDelta {
    fetched: i64,
    failed: i64,
    retried: i64,
    robots: i64,
    requests: i64,
    listings: ListingCounts,
    gone: i64,
}

impl ScanDelta {
    fn of(results: &[EntryResult]) -> ScanDelta {
        let mut d = ScanDelta::default();
        for r in results {
            d.requests += r.requests as i64;
            match r.update {
                EntryUpdate::Search { .. }
                | EntryUpdate::Item { .. }
                | EntryUpdate::Gone { .. } => d.fetched += 1,
                EntryUpdate::Retry { .. } => d.retried += 1,
                EntryUpdate::Failed { .. } => d.failed += 1,
                EntryUpdate::Robots => d.robots += 1,
            }
        }
        d
    }

    async fn write(&self, tx: &mut sqlx::PgConnection, scan_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE scans SET pages_fetched = pages_fetched + $1, pages_failed = pages_failed + $2, \
             pages_retried = pages_retried + $3, robots_skipped = robots_skipped + $4, requests = requests + $5, \
             listings_new = listings_new + $6, listings_changed = listings_changed + $7, \
             listings_unchanged = listings_unchanged + $8, listings_gone = listings_gone + $9 WHERE id = $10",
        )
        .bind(self.fetched)
        .bind(self.failed)
        .bind(self.retried)
        .bind(self.robots)
        .bind(self.requests)
        .bind(self.listings.inserted as i64)
        .bind(self.listings.updated as i64)
        .bind(self.listings.unchanged as i64)
        .bind(self.gone)
        .bind(scan_id)
        .execute(&mut *tx)
        .await
        .ctx("updating scan counters")?;
        Ok(())
    }
}

/// Inserts the pages of a batch in one statement, with ids drawn from the
/// identity first (several processes write pages: `MAX(id) + 1` would
/// collide), returning each result's page id.
async fn insert_pages(
    tx: &mut sqlx::PgConnection,
    scan_id: i64,
    platform: &str,
    results: &[EntryResult],
) -> Result<Vec<Option<i64>>> {
    let pages: Vec<&PageWrite> = results.iter().filter_map(|r| r.update.page()).collect();
    if pages.is_empty() {
        return Ok(vec![None; results.len()]);
    }
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('pages', 'id')) FROM generate_series(1, $1::bigint)",
    )
    .bind(pages.len() as i64)
    .fetch_all(&mut *tx)
    .await
    .ctx("numbering pages")?;
    ids.sort_unstable();
    let fetched_at = pages
        .iter()
        .map(|p| super::instant(&p.fetched_at, "pages.fetched_at").map(super::truncate_ms))
        .collect::<Result<Vec<_>>>()?;
    let headers: Vec<String> = pages
        .iter()
        .map(|p| {
            let h: Vec<(String, String)> = p
                .headers
                .iter()
                .map(|(k, v)| (clean(k), clean(v)))
                .collect();
            serde_json::to_string(&h).unwrap_or_else(|_| "[]".into())
        })
        .collect();
    sqlx::query(
        "INSERT INTO pages (id, scan_id, platform, item_id, kind, url, final_url, fetched_at, status, headers, \
           encoding, body_gz, body_len, sha256) \
         SELECT u.id, $2, $3, u.item_id, u.kind, u.url, u.final_url, u.fetched_at, u.status, u.headers::jsonb, \
           u.encoding, u.body_gz, u.body_len, u.sha256 \
         FROM UNNEST($1::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], \
           $9::bigint[], $10::text[], $11::text[], $12::bytea[], $13::bigint[], $14::text[]) \
           AS u(id, item_id, kind, url, final_url, fetched_at, status, headers, encoding, body_gz, body_len, sha256) \
         ORDER BY u.id",
    )
    .bind(&ids)
    .bind(scan_id)
    .bind(nul_free(platform))
    .bind(pages.iter().map(|p| clean_opt(&p.item_id)).collect::<Vec<_>>())
    .bind(pages.iter().map(|p| p.kind.as_str()).collect::<Vec<_>>())
    .bind(pages.iter().map(|p| clean(&p.url)).collect::<Vec<_>>())
    .bind(pages.iter().map(|p| clean(&p.final_url)).collect::<Vec<_>>())
    .bind(&fetched_at)
    .bind(pages.iter().map(|p| p.status as i64).collect::<Vec<_>>())
    .bind(&headers)
    .bind(pages.iter().map(|p| clean_opt(&p.encoding)).collect::<Vec<_>>())
    .bind(pages.iter().map(|p| p.body_gz.as_slice()).collect::<Vec<_>>())
    .bind(pages.iter().map(|p| p.body_len as i64).collect::<Vec<_>>())
    .bind(pages.iter().map(|p| clean(&p.sha256)).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .ctx("keeping pages")?;
    let mut next = ids.into_iter();
    Ok(results
        .iter()
        .map(|r| r.update.page().and_then(|_| next.next()))
        .collect())
}

/// Every entry's new state in one statement.
async fn update_entries(
    tx: &mut sqlx::PgConnection,
    results: &[EntryResult],
    page_ids: &[Option<i64>],
) -> Result<()> {
    if results.is_empty() {
        return Ok(());
    }
    let states: Vec<_> = results.iter().map(|r| r.update.entry_state()).collect();
    sqlx::query(
        "UPDATE frontier f SET state = u.state, owner = NULL, attempts = f.attempts + 1, status = u.status, error = u.error, \
         page_id = COALESCE(u.page_id, f.page_id), next_at = COALESCE(u.next_at, f.next_at) \
         FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[]) \
           AS u(id, state, status, error, page_id, next_at) \
         WHERE f.id = u.id",
    )
    .bind(results.iter().map(|r| r.entry_id).collect::<Vec<_>>())
    .bind(states.iter().map(|s| s.0).collect::<Vec<_>>())
    .bind(
        states
            .iter()
            .map(|s| s.1.map(i64::from))
            .collect::<Vec<_>>(),
    )
    .bind(states.iter().map(|s| s.2.map(clean)).collect::<Vec<_>>())
    .bind(page_ids)
    .bind(states.iter().map(|s| s.3).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .ctx("updating frontier entries")?;
    Ok(())
}

/// Marks listings gone by their pages, in one statement; returns how many
/// changed. The first page of a listing named twice in a batch is the one
/// kept (as SQLite, applying them in turn, does).
async fn mark_gone(
    tx: &mut sqlx::PgConnection,
    gone: &[(String, String, i64)],
    scan_id: i64,
    now: DateTime<Utc>,
) -> Result<u64> {
    if gone.is_empty() {
        return Ok(0);
    }
    let mut seen = std::collections::HashSet::new();
    let gone: Vec<&(String, String, i64)> = gone
        .iter()
        .filter(|(p, i, _)| seen.insert((p, i)))
        .collect();
    let n = sqlx::query(
        "UPDATE listings l SET state = 'gone', gone_how = 'page', gone_at = COALESCE(l.gone_at, $1), \
         last_scan_id = $2, page_id = u.page_id \
         FROM UNNEST($3::text[], $4::text[], $5::bigint[]) AS u(platform, item_id, page_id) \
         WHERE l.platform = u.platform AND l.item_id = u.item_id \
           AND (l.state <> 'gone' OR l.gone_how = 'absent')",
    )
    .bind(now)
    .bind(scan_id)
    .bind(gone.iter().map(|g| g.0.as_str()).collect::<Vec<_>>())
    .bind(gone.iter().map(|g| g.1.as_str()).collect::<Vec<_>>())
    .bind(gone.iter().map(|g| g.2).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await
    .ctx("marking a listing gone")?;
    Ok(n.rows_affected())
}

pub(super) use scan_select;
