//! PostgreSQL statements for `store::listings`: what the front in `../listings.rs` dispatches to, beside the SQLite ones in `../sqlite/listings.rs`.
//!
//! Listing text is scraped, and PostgreSQL TEXT (and a JSONB string) cannot
//! hold U+0000: every string of a listing is written without its NULs, and
//! lookups by a scraped key (item ID) drop them the same way, so a listing
//! written with a NUL is found again by the key it was written with.

use super::PgStore;
use crate::domain::Listing;
use crate::store::listings::*;
use crate::store::{Ctx, Result, StoreError};
use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// `s` without NUL characters (PostgreSQL text cannot hold them).
pub(super) fn nul_free(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', ""))
    } else {
        Cow::Borrowed(s)
    }
}

/// [`nul_free`], owned.
pub(super) fn clean(s: &str) -> String {
    nul_free(s).into_owned()
}

/// [`clean`] of an optional string.
pub(super) fn clean_opt(s: &Option<String>) -> Option<String> {
    s.as_deref().map(clean)
}

/// A listing with every string cleaned of NULs.
fn clean_listing(l: &Listing) -> Listing {
    Listing {
        platform: clean(&l.platform),
        item_id: clean(&l.item_id),
        url: clean_opt(&l.url),
        title: clean(&l.title),
        brand: clean_opt(&l.brand),
        model: clean_opt(&l.model),
        params: l.params.iter().map(|(k, v)| (clean(k), clean(v))).collect(),
        description: clean_opt(&l.description),
        seller: clean_opt(&l.seller),
        shop_url: clean_opt(&l.shop_url),
        price: clean_opt(&l.price),
        category: clean_opt(&l.category),
    }
}

/// Upserts a batch of listings inside `tx`: per run of distinct listings, one
/// locking lookup, one history insert and one update for the changed, one
/// update for those seen again and one insert of the new (each a single
/// `UNNEST` statement). A changed listing keeps its old content as history.
/// A listing that comes twice is applied in order (the batch is cut before
/// its second appearance). A crawled listing (`seen`) is also marked online
/// with its scan and evidence page. Returns what changed, in order.
///
/// Several processes may upsert the same listings: the existing rows are
/// locked (`FOR NO KEY UPDATE`, in id order) before their hash is compared,
/// and the new ones are inserted with `ON CONFLICT DO NOTHING`; one that
/// another process inserted meanwhile is looked up again and handled as an
/// existing listing.
pub(super) async fn upsert_batch(
    tx: &mut sqlx::PgConnection,
    writes: &[(&ListingWrite, Option<SeenIn>)],
    source: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Change>> {
    let source = clean(source);
    let cleaned: Vec<(ListingWrite, Option<SeenIn>)> = writes
        .iter()
        .map(|(w, seen)| {
            (
                ListingWrite {
                    listing: clean_listing(&w.listing),
                    content_hash: clean(&w.content_hash),
                },
                *seen,
            )
        })
        .collect();
    let mut out = Vec::with_capacity(cleaned.len());
    let mut start = 0;
    while start < cleaned.len() {
        let mut keys = HashSet::new();
        let mut end = start;
        while end < cleaned.len()
            && end - start < CHUNK
            && keys.insert((
                &cleaned[end].0.listing.platform,
                &cleaned[end].0.listing.item_id,
            ))
        {
            end += 1;
        }
        out.extend(upsert_distinct(tx, &cleaned[start..end], &source, now).await?);
        start = end;
    }
    Ok(out)
}

/// One run of listings with distinct keys.
async fn upsert_distinct(
    tx: &mut sqlx::PgConnection,
    writes: &[(ListingWrite, Option<SeenIn>)],
    source: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Change>> {
    let mut out: Vec<Option<Change>> = vec![None; writes.len()];
    let mut todo: Vec<usize> = (0..writes.len()).collect();
    // Each round settles every listing but those another process inserted
    // between the lookup and the insert; the next round finds them.
    for _ in 0..8 {
        if todo.is_empty() {
            break;
        }
        let existing = lock_existing(tx, writes, &todo).await?;
        let mut fresh = Vec::new();
        let mut changed = Vec::new();
        let mut again = Vec::new();
        for &i in &todo {
            let w = &writes[i].0;
            match existing.get(&(w.listing.platform.as_str(), w.listing.item_id.as_str())) {
                None => fresh.push(i),
                Some((id, hash)) if *hash == w.content_hash => {
                    again.push((i, *id));
                    out[i] = Some(Change::Unchanged);
                }
                Some((id, _)) => {
                    changed.push((i, *id));
                    again.push((i, *id));
                    out[i] = Some(Change::Updated);
                }
            }
        }
        update_changed(tx, writes, &changed, source, now).await?;
        mark_seen(tx, writes, &again, now).await?;
        // In key order: two processes inserting overlapping listings wait
        // for each other's keys in the same order, never in a cycle.
        fresh.sort_by(|&a, &b| {
            let (a, b) = (&writes[a].0.listing, &writes[b].0.listing);
            (&a.platform, &a.item_id).cmp(&(&b.platform, &b.item_id))
        });
        let inserted = insert_many(tx, writes, &fresh, source, now).await?;
        todo = Vec::new();
        for i in fresh {
            let l = &writes[i].0.listing;
            if inserted.contains(&(l.platform.clone(), l.item_id.clone())) {
                out[i] = Some(Change::Inserted);
            } else {
                todo.push(i);
            }
        }
    }
    if !todo.is_empty() {
        return Err(StoreError::Corrupt {
            what: "listing upsert",
            detail: format!(
                "{} listings neither inserted nor found after repeated tries",
                todo.len()
            ),
        });
    }
    Ok(out.into_iter().flatten().collect())
}

/// The existing listings among `which`, locked until the transaction ends:
/// (platform, item_id) → (id, content hash).
async fn lock_existing<'a>(
    tx: &mut sqlx::PgConnection,
    writes: &'a [(ListingWrite, Option<SeenIn>)],
    which: &[usize],
) -> Result<HashMap<(&'a str, &'a str), (i64, String)>> {
    let platforms: Vec<&str> = which
        .iter()
        .map(|&i| writes[i].0.listing.platform.as_str())
        .collect();
    let items: Vec<&str> = which
        .iter()
        .map(|&i| writes[i].0.listing.item_id.as_str())
        .collect();
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT l.id, l.platform, l.item_id, l.content_hash \
         FROM listings l JOIN UNNEST($1::text[], $2::text[]) AS k(platform, item_id) \
           ON l.platform = k.platform AND l.item_id = k.item_id \
         ORDER BY l.id FOR NO KEY UPDATE OF l",
    )
    .bind(&platforms)
    .bind(&items)
    .fetch_all(&mut *tx)
    .await
    .ctx("looking up listings")?;
    let by_key: HashMap<(&str, &str), usize> = which
        .iter()
        .map(|&i| {
            let l = &writes[i].0.listing;
            ((l.platform.as_str(), l.item_id.as_str()), i)
        })
        .collect();
    let mut out = HashMap::with_capacity(rows.len());
    for (id, platform, item_id, hash) in rows {
        if let Some(&i) = by_key.get(&(platform.as_str(), item_id.as_str())) {
            let l = &writes[i].0.listing;
            out.insert((l.platform.as_str(), l.item_id.as_str()), (id, hash));
        }
    }
    Ok(out)
}

fn params_json(l: &Listing) -> String {
    serde_json::to_string(&l.params).unwrap_or_else(|_| "[]".into())
}

/// Keeps the old content of each changed listing as history (in the
/// batch's order), then writes the new content.
async fn update_changed(
    tx: &mut sqlx::PgConnection,
    writes: &[(ListingWrite, Option<SeenIn>)],
    changed: &[(usize, i64)],
    source: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = changed.iter().map(|(_, id)| *id).collect();
    // The same object, key order and stamp text as SQLite's json_object.
    sqlx::query(
        "INSERT INTO listing_history (listing_id, changed_at, source, old_content) \
         SELECT l.id, $2, $3, json_build_object('url', l.url, 'title', l.title, 'brand', l.brand, \
           'model', l.model, 'params', l.params, 'description', l.description, 'seller', l.seller, \
           'shop_url', l.shop_url, 'price', l.price, 'category', l.category, \
           'content_hash', l.content_hash, \
           'updated_at', to_char(l.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) \
         FROM UNNEST($1::bigint[]) WITH ORDINALITY AS u(id, n) JOIN listings l ON l.id = u.id \
         ORDER BY u.n",
    )
    .bind(&ids)
    .bind(now)
    .bind(source)
    .execute(&mut *tx)
    .await
    .ctx("keeping listing history")?;
    let ls: Vec<&Listing> = changed.iter().map(|(i, _)| &writes[*i].0.listing).collect();
    let hashes: Vec<&str> = changed
        .iter()
        .map(|(i, _)| writes[*i].0.content_hash.as_str())
        .collect();
    sqlx::query(
        "UPDATE listings l SET url = u.url, title = u.title, brand = u.brand, model = u.model, \
         params = u.params::jsonb, description = u.description, seller = u.seller, shop_url = u.shop_url, \
         price = u.price, category = u.category, content_hash = u.content_hash, source = $12, \
         last_seen_at = $13, updated_at = $13, search_text = u.search_text \
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
           $8::text[], $9::text[], $10::text[], $11::text[], $14::text[], $15::text[]) \
           AS u(id, url, title, brand, model, params, description, seller, shop_url, price, category, \
                content_hash, search_text) \
         WHERE l.id = u.id",
    )
    .bind(&ids)
    .bind(ls.iter().map(|l| l.url.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.title.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.brand.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.model.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| params_json(l)).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.description.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.seller.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.shop_url.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.price.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.category.clone()).collect::<Vec<_>>())
    .bind(source)
    .bind(now)
    .bind(&hashes)
    .bind(
        ls.iter()
            .map(|l| listing_search_text(l))
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await
    .ctx("updating listings")?;
    Ok(())
}

/// Listings delivered again: `last_seen_at`; a scan that saw one also marks
/// it online with its scan and evidence page (a feed only says it was
/// delivered again).
async fn mark_seen(
    tx: &mut sqlx::PgConnection,
    writes: &[(ListingWrite, Option<SeenIn>)],
    again: &[(usize, i64)],
    now: DateTime<Utc>,
) -> Result<()> {
    if again.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = again.iter().map(|(_, id)| *id).collect();
    let scans: Vec<Option<i64>> = again
        .iter()
        .map(|(i, _)| writes[*i].1.map(|s| s.scan_id))
        .collect();
    let pages: Vec<Option<i64>> = again
        .iter()
        .map(|(i, _)| writes[*i].1.and_then(|s| s.page_id))
        .collect();
    sqlx::query(
        "UPDATE listings l SET last_seen_at = $1, \
           state = CASE WHEN u.scan_id IS NULL THEN l.state ELSE 'online' END, \
           gone_at = CASE WHEN u.scan_id IS NULL THEN l.gone_at END, \
           gone_how = CASE WHEN u.scan_id IS NULL THEN l.gone_how END, \
           last_scan_id = COALESCE(u.scan_id, l.last_scan_id), \
           page_id = CASE WHEN u.scan_id IS NULL THEN l.page_id ELSE COALESCE(u.page_id, l.page_id) END \
         FROM UNNEST($2::bigint[], $3::bigint[], $4::bigint[]) AS u(id, scan_id, page_id) \
         WHERE l.id = u.id",
    )
    .bind(now)
    .bind(&ids)
    .bind(&scans)
    .bind(&pages)
    .execute(&mut *tx)
    .await
    .ctx("marking listings seen")?;
    Ok(())
}

/// Inserts the new listings in the order of `fresh`; returns the keys
/// inserted (one another process inserted first is not).
async fn insert_many(
    tx: &mut sqlx::PgConnection,
    writes: &[(ListingWrite, Option<SeenIn>)],
    fresh: &[usize],
    source: &str,
    now: DateTime<Utc>,
) -> Result<HashSet<(String, String)>> {
    if fresh.is_empty() {
        return Ok(HashSet::new());
    }
    let ls: Vec<&Listing> = fresh.iter().map(|i| &writes[*i].0.listing).collect();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "INSERT INTO listings (platform, item_id, url, title, brand, model, params, description, seller, \
           shop_url, price, category, content_hash, source, first_seen_at, last_seen_at, updated_at, state, \
           last_scan_id, page_id, search_text) \
         SELECT u.platform, u.item_id, u.url, u.title, u.brand, u.model, u.params::jsonb, u.description, \
           u.seller, u.shop_url, u.price, u.category, u.content_hash, $17, $18, $18, $18, 'online', \
           u.scan_id, u.page_id, u.search_text \
         FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
           $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bigint[], \
           $15::bigint[], $16::text[]) WITH ORDINALITY \
           AS u(platform, item_id, url, title, brand, model, params, description, seller, shop_url, price, \
                category, content_hash, scan_id, page_id, search_text, n) \
         ORDER BY u.n \
         ON CONFLICT (platform, item_id) DO NOTHING \
         RETURNING platform, item_id",
    )
    .bind(ls.iter().map(|l| l.platform.as_str()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.item_id.as_str()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.url.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.title.as_str()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.brand.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.model.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| params_json(l)).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.description.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.seller.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.shop_url.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.price.clone()).collect::<Vec<_>>())
    .bind(ls.iter().map(|l| l.category.clone()).collect::<Vec<_>>())
    .bind(
        fresh
            .iter()
            .map(|i| writes[*i].0.content_hash.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        fresh
            .iter()
            .map(|i| writes[*i].1.map(|s| s.scan_id))
            .collect::<Vec<_>>(),
    )
    .bind(
        fresh
            .iter()
            .map(|i| writes[*i].1.and_then(|s| s.page_id))
            .collect::<Vec<_>>(),
    )
    .bind(
        ls.iter()
            .map(|l| listing_search_text(l))
            .collect::<Vec<_>>(),
    )
    .bind(source)
    .bind(now)
    .fetch_all(&mut *tx)
    .await
    .ctx("inserting listings")?;
    Ok(rows.into_iter().collect())
}

/// A SQL `LIMIT` as SQLite reads it: a negative one means none.
pub(super) fn limit(n: i64) -> Option<i64> {
    (n >= 0).then_some(n)
}

impl PgStore {
    /// Inserts new listings and updates changed ones (the old content goes to
    /// `listing_history`); unchanged ones only get `last_seen_at`. One transaction.
    ///
    /// A transaction that PostgreSQL aborts to break a deadlock (another
    /// process writing the same listings: `ingest` beside a crawl) is run
    /// again, up to `DEADLOCK_TRIES` times.
    pub async fn upsert_listings(
        &self,
        batch: &[ListingWrite],
        source: &str,
    ) -> Result<ListingCounts> {
        let mut tries = 1;
        loop {
            match self.upsert_listings_once(batch, source).await {
                Err(e) if e.is_deadlock() && tries < DEADLOCK_TRIES => {
                    tracing::warn!(
                        tries,
                        "listing batch aborted by a deadlock; running it again"
                    );
                    tries += 1;
                }
                done => return done,
            }
        }
    }

    async fn upsert_listings_once(
        &self,
        batch: &[ListingWrite],
        source: &str,
    ) -> Result<ListingCounts> {
        let mut counts = ListingCounts::default();
        let now = self.now();
        let mut tx = self.write_tx().await.ctx("starting the listing batch")?;
        let writes: Vec<(&ListingWrite, Option<SeenIn>)> =
            batch.iter().map(|w| (w, None)).collect();
        for change in upsert_batch(&mut tx, &writes, source, now).await? {
            counts.add(change);
        }
        tx.commit().await.ctx("committing listings")?;
        Ok(counts)
    }

    /// Listings with id greater than `after_id`, in id order (keyset paging).
    pub async fn listings_page(
        &self,
        filter: &ListingFilter,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<StoredListing>> {
        if let Some(ids) = &filter.ids {
            let from = ids.partition_point(|&id| id <= after_id);
            let chunk = &ids[from..ids.len().min(from + limit.max(1) as usize)];
            if chunk.is_empty() {
                return Ok(Vec::new());
            }
            let rows: Vec<ListingRow> = sqlx::query_as(
                "SELECT id, platform, item_id, url, title, brand, model, params::text AS params, description, \
                 seller, shop_url, price, category FROM listings WHERE id = ANY($1) ORDER BY id",
            )
            .bind(chunk)
            .fetch_all(&self.pool)
            .await
            .ctx("reading listings")?;
            return rows.into_iter().map(ListingRow::into_stored).collect();
        }
        let rows: Vec<ListingRow> = sqlx::query_as(
            "SELECT id, platform, item_id, url, title, brand, model, params::text AS params, description, \
             seller, shop_url, price, category FROM listings \
             WHERE id > $1 AND ($2::text IS NULL OR platform = $2) AND ($3::bigint IS NULL OR last_scan_id = $3) \
             ORDER BY id LIMIT $4",
        )
        .bind(after_id)
        .bind(filter.platform.as_deref().map(nul_free))
        .bind(filter.scan_id)
        .bind(self::limit(limit))
        .fetch_all(&self.pool)
        .await
        .ctx("reading listings")?;
        rows.into_iter().map(ListingRow::into_stored).collect()
    }

    /// Listings whose finding cites or was matched to one of `certs`, ascending.
    pub async fn listings_citing(&self, certs: &[String]) -> Result<Vec<i64>> {
        if certs.is_empty() {
            return Ok(Vec::new());
        }
        let certs: Vec<String> = certs.iter().map(|c| clean(c)).collect();
        sqlx::query_scalar(
            "SELECT listing_id FROM findings WHERE matched_cert = ANY($1) \
             UNION SELECT listing_id FROM findings WHERE cert_numbers <> '[]'::jsonb AND cert_numbers ?| $1 \
             ORDER BY 1",
        )
        .bind(&certs)
        .fetch_all(&self.pool)
        .await
        .ctx("finding listings citing certificates")
    }

    pub async fn count_listings(&self, platform: Option<&str>) -> Result<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM listings WHERE ($1::text IS NULL OR platform = $1)",
        )
        .bind(platform.map(nul_free))
        .fetch_one(&self.pool)
        .await
        .ctx("counting listings")
    }

    /// Number of earlier versions kept for a listing.
    pub async fn listing_history_len(&self, platform: &str, item_id: &str) -> Result<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM listing_history h JOIN listings l ON l.id = h.listing_id \
             WHERE l.platform = $1 AND l.item_id = $2",
        )
        .bind(nul_free(platform))
        .bind(nul_free(item_id))
        .fetch_one(&self.pool)
        .await
        .ctx("counting listing history")
    }
}

/// Listings per statement: how far a batch is cut into runs (a repeated
/// listing cuts it too).
const CHUNK: usize = 1000;

/// How many times a listing batch is tried when deadlocks abort it.
const DEADLOCK_TRIES: u32 = 4;
