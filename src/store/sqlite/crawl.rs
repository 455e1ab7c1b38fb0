//! SQLite statements for `store::crawl`: what the front in `../crawl.rs` dispatches to.

use super::SqliteStore;
use super::listings::upsert_batch;
use crate::domain::RunState;
use crate::store::crawl::*;
use crate::store::listings::SeenIn;
use crate::store::{Ctx, ListingCounts, ListingWrite, Result};
use chrono::NaiveDate;
use sqlx::{QueryBuilder, Sqlite};

macro_rules! scan_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, platform, state, started_at, finished_at, as_of, keywords, max_pages, pages_fetched, \
             pages_failed, pages_retried, robots_skipped, requests, listings_new, listings_changed, listings_unchanged, \
             listings_gone, match_run_id, findings, message, snapshot FROM scans ",
            $rest
        )
    };
}

impl SqliteStore {
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
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO scans (platform, state, started_at, as_of, keywords, max_pages) \
             VALUES (?, 'running', ?, ?, ?, ?) RETURNING id",
        )
        .bind(platform)
        .bind(self.now_rfc3339())
        .bind(as_of.to_string())
        .bind(serde_json::to_string(keywords).unwrap_or_else(|_| "[]".into()))
        .bind(max_pages as i64)
        .fetch_one(&mut *tx)
        .await
        .ctx("creating a scan")?;
        for s in seeds {
            insert_entry(&mut tx, id, s).await?;
        }
        tx.commit().await.ctx("committing a new scan")?;
        Ok(id)
    }

    pub async fn scan(&self, id: i64) -> Result<Option<ScanRecord>> {
        let row: Option<ScanRow> = sqlx::query_as(scan_select!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a scan")?;
        Ok(row.map(ScanRecord::from))
    }

    /// Scans that did not finish (running when killed, or interrupted), oldest first.
    pub async fn unfinished_scans(&self, platform: Option<&str>) -> Result<Vec<ScanRecord>> {
        let rows: Vec<ScanRow> = sqlx::query_as(scan_select!(
            "WHERE state IN ('running', 'interrupted') AND (? IS NULL OR platform = ?) ORDER BY id"
        ))
        .bind(platform)
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("listing unfinished scans")?;
        Ok(rows.into_iter().map(ScanRecord::from).collect())
    }

    /// Marks a scan running again and returns entries left in flight to the queue.
    pub async fn reopen_scan(&self, id: i64, live_after_ms: i64) -> Result<u64> {
        let mut tx = self.write_tx().await.ctx("reopening a scan")?;
        let n = sqlx::query(
            "UPDATE frontier SET state = 'pending', owner = NULL WHERE scan_id = ? AND state = 'inflight' \
             AND (owner IS NULL OR owner NOT IN (SELECT id FROM workers \
                  WHERE stopped_ms IS NULL AND heartbeat_ms >= ?))",
        )
        .bind(id)
        .bind(live_after_ms)
        .execute(&mut *tx)
        .await
        .ctx("returning in-flight entries")?
        .rows_affected();
        sqlx::query(
            "UPDATE scans SET state = 'running', finished_at = NULL, message = NULL WHERE id = ?",
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
                "UPDATE frontier SET state = 'pending', owner = NULL WHERE scan_id = ? AND state = 'inflight'",
            )
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("saving in-flight entries")?;
        }
        sqlx::query("UPDATE scans SET state = ?, finished_at = ?, message = ? WHERE id = ?")
            .bind(state)
            .bind(self.now_rfc3339())
            .bind(message)
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
        sqlx::query("UPDATE scans SET match_run_id = ?, findings = ? WHERE id = ?")
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
        let hosts = who
            .hosts
            .map(|h| serde_json::to_string(h).unwrap_or_else(|_| "[]".into()));
        let rows: Vec<EntryRow> = sqlx::query_as(
            "UPDATE frontier SET state = 'inflight', owner = ?1 WHERE id IN (\
               SELECT id FROM frontier WHERE scan_id = ?2 AND state = 'pending' AND next_at <= ?3 \
                 AND (?4 IS NULL OR COALESCE(host, '') IN (SELECT value FROM json_each(?4))) \
                 AND EXISTS (SELECT 1 FROM scans WHERE id = ?2 AND state = 'running') \
               ORDER BY kind, next_at, id LIMIT ?5) \
             RETURNING id, kind, key, url, keyword, page, card, attempts",
        )
        .bind(who.owner)
        .bind(scan_id)
        .bind(now_ms)
        .bind(hosts)
        .bind(limit)
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
            "SELECT id, url, key FROM frontier WHERE scan_id = ? AND state IN ('pending', 'inflight') ORDER BY id",
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
        let mut tx = self.write_tx().await.ctx("moving the frontier")?;
        let mut moved = 0;
        for (id, url, key) in rewrites {
            let n = sqlx::query(
                "UPDATE OR IGNORE frontier SET url = ?, key = ?, host = ? WHERE id = ? AND scan_id = ?",
            )
            .bind(url)
            .bind(key)
            // The host moves with the URL: its lease is what covers the entry.
            .bind(host_of(url))
            .bind(id)
            .bind(scan_id)
            .execute(&mut *tx)
            .await
            .ctx("moving a frontier entry")?
            .rows_affected();
            if n == 0 {
                sqlx::query("DELETE FROM frontier WHERE id = ? AND scan_id = ?")
                    .bind(id)
                    .bind(scan_id)
                    .execute(&mut *tx)
                    .await
                    .ctx("dropping a duplicate frontier entry")?;
            }
            moved += n;
        }
        tx.commit().await.ctx("committing the moved frontier")?;
        Ok(moved)
    }

    /// The pending entry due first: when (ms) and the error of its last
    /// attempt, if it is a retry. What a waiting scan is waiting for.
    pub async fn next_retry(&self, scan_id: i64) -> Result<Option<(i64, Option<String>)>> {
        sqlx::query_as(
            "SELECT next_at, error FROM frontier WHERE scan_id = ? AND state = 'pending' \
             ORDER BY next_at LIMIT 1",
        )
        .bind(scan_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("finding the next retry")
    }

    pub async fn frontier_counts(&self, scan_id: i64) -> Result<FrontierCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM frontier WHERE scan_id = ? GROUP BY state")
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
            "SELECT url, status, COALESCE(error, '') FROM frontier WHERE scan_id = ? AND state = 'failed' ORDER BY id LIMIT ?",
        )
        .bind(scan_id)
        .bind(limit)
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
        let now = self.now_rfc3339();
        let source = format!("scan:{scan_id}");
        let mut applied = Applied::default();
        let mut tx = self.write_tx().await.ctx("starting a crawl batch")?;
        // Under the write lock: only entries still held by `owner` count.
        let ids: Vec<i64> = results.iter().map(|r| r.entry_id).collect();
        let held: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM frontier WHERE id IN (SELECT value FROM json_each(?)) \
             AND state = 'inflight' AND owner = ?",
        )
        .bind(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()))
        .bind(owner)
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
                } => {
                    let page_id = page_id.unwrap_or_default();
                    applied.gone += mark_gone(&mut tx, p, item_id, scan_id, page_id, &now).await?;
                }
                _ => {}
            }
        }
        if !writes.is_empty() {
            for c in upsert_batch(&mut tx, &writes, &source, &now).await? {
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
            "SELECT id, scan_id, platform, item_id, kind, url, final_url, fetched_at, status, headers, encoding, body_len, sha256 \
             FROM pages WHERE item_id = ? AND (? IS NULL OR platform = ?) ORDER BY id",
        )
        .bind(item_id)
        .bind(platform)
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("listing an item's pages")?;
        Ok(rows.into_iter().map(PageMeta::from).collect())
    }

    /// The gzip body of a page.
    pub async fn page_body_gz(&self, page_id: i64) -> Result<Vec<u8>> {
        sqlx::query_scalar("SELECT body_gz FROM pages WHERE id = ?")
            .bind(page_id)
            .fetch_one(&self.pool)
            .await
            .ctx("reading a page body")
    }

    /// Number of listings of a platform by state (online, gone).
    pub async fn listing_states(&self, platform: &str) -> Result<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT state, COUNT(*) FROM listings WHERE platform = ? GROUP BY state ORDER BY state",
        )
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("counting listing states")
    }
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

    async fn write(&self, tx: &mut sqlx::SqliteConnection, scan_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE scans SET pages_fetched = pages_fetched + ?, pages_failed = pages_failed + ?, \
             pages_retried = pages_retried + ?, robots_skipped = robots_skipped + ?, requests = requests + ?, \
             listings_new = listings_new + ?, listings_changed = listings_changed + ?, \
             listings_unchanged = listings_unchanged + ?, listings_gone = listings_gone + ? WHERE id = ?",
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

/// Inserts the pages of a batch with ids assigned here (the write lock is
/// held), returning each result's page id.
async fn insert_pages(
    tx: &mut sqlx::SqliteConnection,
    scan_id: i64,
    platform: &str,
    results: &[EntryResult],
) -> Result<Vec<Option<i64>>> {
    let pages: Vec<&PageWrite> = results.iter().filter_map(|r| r.update.page()).collect();
    if pages.is_empty() {
        return Ok(vec![None; results.len()]);
    }
    let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM pages")
        .fetch_one(&mut *tx)
        .await
        .ctx("numbering pages")?;
    let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
        "INSERT INTO pages (id, scan_id, platform, item_id, kind, url, final_url, fetched_at, status, headers, encoding, body_gz, body_len, sha256) ",
    );
    qb.push_values(pages.iter().enumerate(), |mut b, (i, p)| {
        b.push_bind(first + i as i64)
            .push_bind(scan_id)
            .push_bind(platform.to_string())
            .push_bind(p.item_id.clone())
            .push_bind(p.kind.as_str())
            .push_bind(p.url.clone())
            .push_bind(p.final_url.clone())
            .push_bind(p.fetched_at.clone())
            .push_bind(p.status as i64)
            .push_bind(serde_json::to_string(&p.headers).unwrap_or_else(|_| "[]".into()))
            .push_bind(p.encoding.clone())
            .push_bind(p.body_gz.clone())
            .push_bind(p.body_len as i64)
            .push_bind(p.sha256.clone());
    });
    qb.build().execute(&mut *tx).await.ctx("keeping pages")?;
    let mut next = first;
    Ok(results
        .iter()
        .map(|r| {
            r.update.page().map(|_| {
                next += 1;
                next - 1
            })
        })
        .collect())
}

/// Adds entries found on result pages; an item already in this scan's frontier is not added again.
async fn insert_entries(
    tx: &mut sqlx::SqliteConnection,
    scan_id: i64,
    found: &[&NewEntry],
) -> Result<u64> {
    let mut added = 0;
    for chunk in found.chunks(500) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO frontier (scan_id, kind, key, url, keyword, page, card, host) ",
        );
        qb.push_values(chunk, |mut b, e| {
            b.push_bind(scan_id)
                .push_bind(e.kind.as_str())
                .push_bind(e.key.clone())
                .push_bind(e.url.clone())
                .push_bind(e.keyword.clone())
                .push_bind(e.page)
                .push_bind(e.card.clone())
                .push_bind(e.host.clone());
        });
        qb.push(" ON CONFLICT (scan_id, key) DO NOTHING");
        added += qb
            .build()
            .execute(&mut *tx)
            .await
            .ctx("adding to the frontier")?
            .rows_affected();
    }
    Ok(added)
}

/// Every entry's new state in one statement.
async fn update_entries(
    tx: &mut sqlx::SqliteConnection,
    results: &[EntryResult],
    page_ids: &[Option<i64>],
) -> Result<()> {
    if results.is_empty() {
        return Ok(());
    }
    let mut qb: QueryBuilder<Sqlite> =
        QueryBuilder::new("WITH u(id, state, status, error, page_id, next_at) AS (");
    qb.push_values(results.iter().zip(page_ids), |mut b, (r, page_id)| {
        let (state, status, error, next_at) = r.update.entry_state();
        b.push_bind(r.entry_id)
            .push_bind(state)
            .push_bind(status.map(i64::from))
            .push_bind(error.map(str::to_string))
            .push_bind(*page_id)
            .push_bind(next_at);
    });
    qb.push(
        ") UPDATE frontier SET state = u.state, owner = NULL, attempts = frontier.attempts + 1, status = u.status, error = u.error, \
         page_id = COALESCE(u.page_id, frontier.page_id), next_at = COALESCE(u.next_at, frontier.next_at) \
         FROM u WHERE frontier.id = u.id",
    );
    qb.build()
        .execute(&mut *tx)
        .await
        .ctx("updating frontier entries")?;
    Ok(())
}

async fn insert_entry(tx: &mut sqlx::SqliteConnection, scan_id: i64, e: &NewEntry) -> Result<u64> {
    let n = sqlx::query(
        "INSERT INTO frontier (scan_id, kind, key, url, keyword, page, card, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (scan_id, key) DO NOTHING",
    )
    .bind(scan_id)
    .bind(e.kind.as_str())
    .bind(&e.key)
    .bind(&e.url)
    .bind(&e.keyword)
    .bind(e.page)
    .bind(&e.card)
    .bind(&e.host)
    .execute(&mut *tx)
    .await
    .ctx("adding to the frontier")?;
    Ok(n.rows_affected())
}

async fn mark_gone(
    tx: &mut sqlx::SqliteConnection,
    platform: &str,
    item_id: &str,
    scan_id: i64,
    page_id: i64,
    now: &str,
) -> Result<u64> {
    let n = sqlx::query(
        "UPDATE listings SET state = 'gone', gone_how = 'page', gone_at = COALESCE(gone_at, ?), \
         last_scan_id = ?, page_id = ? \
         WHERE platform = ? AND item_id = ? AND (state <> 'gone' OR gone_how = 'absent')",
    )
    .bind(now)
    .bind(scan_id)
    .bind(page_id)
    .bind(platform)
    .bind(item_id)
    .execute(&mut *tx)
    .await
    .ctx("marking a listing gone")?;
    Ok(n.rows_affected())
}

/// A row of [`scan_select`].
#[derive(sqlx::FromRow)]
pub(super) struct ScanRow {
    id: i64,
    platform: String,
    state: RunState,
    started_at: String,
    finished_at: Option<String>,
    as_of: String,
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
            started_at: r.started_at,
            finished_at: r.finished_at,
            as_of: r.as_of,
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

/// A page's metadata as `page_from_row`'s callers select it.
#[derive(sqlx::FromRow)]
struct PageRow {
    id: i64,
    scan_id: i64,
    platform: String,
    item_id: Option<String>,
    kind: String,
    url: String,
    final_url: String,
    fetched_at: String,
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
            fetched_at: r.fetched_at,
            status: r.status,
            headers: serde_json::from_str(&r.headers).unwrap_or_default(),
            encoding: r.encoding,
            body_len: r.body_len,
            sha256: r.sha256,
        }
    }
}

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

pub(super) use scan_select;
