//! SQLite statements for `store::listings`: what the front in `../listings.rs` dispatches to.

use super::SqliteStore;
use crate::store::listings::*;
use crate::store::{Ctx, Result};

/// Upserts a batch of listings inside `tx` with a handful of statements per
/// run of distinct listings: a lookup, one multi-row insert, one bulk update
/// of the listings seen again; a changed listing keeps its old content as
/// history. A listing that comes twice is applied in order (the batch is cut
/// before its second appearance). A crawled listing (`seen`) is also marked
/// online with its scan and evidence page. Returns what changed, in order.
pub(crate) async fn upsert_batch(
    tx: &mut sqlx::SqliteConnection,
    writes: &[(&ListingWrite, Option<SeenIn>)],
    source: &str,
    now: &str,
) -> Result<Vec<Change>> {
    let mut out = Vec::with_capacity(writes.len());
    let mut start = 0;
    while start < writes.len() {
        let mut keys = std::collections::HashSet::new();
        let mut end = start;
        while end < writes.len()
            && end - start < CHUNK
            && keys.insert((
                &writes[end].0.listing.platform,
                &writes[end].0.listing.item_id,
            ))
        {
            end += 1;
        }
        out.extend(upsert_distinct(tx, &writes[start..end], source, now).await?);
        start = end;
    }
    Ok(out)
}

async fn upsert_distinct(
    tx: &mut sqlx::SqliteConnection,
    writes: &[(&ListingWrite, Option<SeenIn>)],
    source: &str,
    now: &str,
) -> Result<Vec<Change>> {
    let existing = existing_hashes(tx, writes).await?;
    let mut out = Vec::with_capacity(writes.len());
    let mut fresh: Vec<&(&ListingWrite, Option<SeenIn>)> = Vec::new();
    let mut again: Vec<(i64, Option<SeenIn>)> = Vec::new();
    for pair in writes {
        let (w, seen) = pair;
        match existing.get(&(w.listing.platform.clone(), w.listing.item_id.clone())) {
            None => {
                fresh.push(pair);
                out.push(Change::Inserted);
            }
            Some((id, hash)) if *hash == w.content_hash => {
                again.push((*id, *seen));
                out.push(Change::Unchanged);
            }
            Some((id, _)) => {
                update_listing(tx, *id, w, source, now).await?;
                again.push((*id, *seen));
                out.push(Change::Updated);
            }
        }
    }
    insert_many(tx, &fresh, source, now).await?;
    let scans: std::collections::BTreeSet<Option<i64>> =
        again.iter().map(|(_, s)| s.map(|s| s.scan_id)).collect();
    for scan in scans {
        let rows: Vec<(i64, Option<i64>)> = again
            .iter()
            .filter(|(_, s)| s.map(|s| s.scan_id) == scan)
            .map(|(id, s)| (*id, s.and_then(|s| s.page_id)))
            .collect();
        mark_seen(tx, &rows, scan, now).await?;
    }
    Ok(out)
}

async fn existing_hashes(
    tx: &mut sqlx::SqliteConnection,
    writes: &[(&ListingWrite, Option<SeenIn>)],
) -> Result<HashMapByKey> {
    let mut qb: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
        "SELECT id, platform, item_id, content_hash FROM listings WHERE (platform, item_id) IN (",
    );
    qb.push_values(writes, |mut b, (w, _)| {
        b.push_bind(&w.listing.platform)
            .push_bind(&w.listing.item_id);
    });
    qb.push(")");
    let rows: Vec<ExistingRow> = qb
        .build_query_as()
        .fetch_all(&mut *tx)
        .await
        .ctx("looking up listings")?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.platform, r.item_id), (r.id, r.content_hash)))
        .collect())
}

async fn insert_many(
    tx: &mut sqlx::SqliteConnection,
    fresh: &[&(&ListingWrite, Option<SeenIn>)],
    source: &str,
    now: &str,
) -> Result<()> {
    if fresh.is_empty() {
        return Ok(());
    }
    let mut qb: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
        "INSERT INTO listings (platform, item_id, url, title, brand, model, params, description, seller, shop_url, \
         price, category, content_hash, source, first_seen_at, last_seen_at, updated_at, state, last_scan_id, page_id, \
         search_text) ",
    );
    qb.push_values(fresh, |mut b, (w, seen)| {
        let l = &w.listing;
        let params = serde_json::to_string(&l.params).unwrap_or_else(|_| "[]".into());
        b.push_bind(l.platform.clone())
            .push_bind(l.item_id.clone())
            .push_bind(l.url.clone())
            .push_bind(l.title.clone())
            .push_bind(l.brand.clone())
            .push_bind(l.model.clone())
            .push_bind(params)
            .push_bind(l.description.clone())
            .push_bind(l.seller.clone())
            .push_bind(l.shop_url.clone())
            .push_bind(l.price.clone())
            .push_bind(l.category.clone())
            .push_bind(w.content_hash.clone())
            .push_bind(source.to_string())
            .push_bind(now.to_string())
            .push_bind(now.to_string())
            .push_bind(now.to_string())
            .push_bind("online")
            .push_bind(seen.map(|s| s.scan_id))
            .push_bind(seen.and_then(|s| s.page_id))
            .push_bind(listing_search_text(l));
    });
    qb.build()
        .execute(&mut *tx)
        .await
        .ctx("inserting listings")?;
    Ok(())
}

async fn mark_seen(
    tx: &mut sqlx::SqliteConnection,
    rows: &[(i64, Option<i64>)],
    scan_id: Option<i64>,
    now: &str,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut qb: sqlx::QueryBuilder<sqlx::Sqlite> =
        sqlx::QueryBuilder::new("WITH u(id, page_id) AS (");
    qb.push_values(rows, |mut b, (id, page)| {
        b.push_bind(*id).push_bind(*page);
    });
    qb.push(") UPDATE listings SET last_seen_at = ")
        .push_bind(now.to_string());
    // A feed only says the listing was delivered again; a scan saw it online.
    if let Some(scan_id) = scan_id {
        qb.push(", state = 'online', gone_at = NULL, gone_how = NULL, last_scan_id = ")
            .push_bind(scan_id)
            .push(", page_id = COALESCE(u.page_id, listings.page_id)");
    }
    qb.push(" FROM u WHERE listings.id = u.id");
    qb.build()
        .execute(&mut *tx)
        .await
        .ctx("marking listings seen")?;
    Ok(())
}

async fn update_listing(
    tx: &mut sqlx::SqliteConnection,
    id: i64,
    w: &ListingWrite,
    source: &str,
    now: &str,
) -> Result<()> {
    let l = &w.listing;
    let params = serde_json::to_string(&l.params).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO listing_history (listing_id, changed_at, source, old_content) \
         SELECT id, ?, ?, json_object('url', url, 'title', title, 'brand', brand, 'model', model, \
         'params', json(params), 'description', description, 'seller', seller, 'shop_url', shop_url, \
         'price', price, 'category', category, 'content_hash', content_hash, 'updated_at', updated_at) \
         FROM listings WHERE id = ?",
    )
    .bind(now)
    .bind(source)
    .bind(id)
    .execute(&mut *tx)
    .await
    .ctx("keeping listing history")?;
    sqlx::query(
        "UPDATE listings SET url = ?, title = ?, brand = ?, model = ?, params = ?, description = ?, seller = ?, \
         shop_url = ?, price = ?, category = ?, content_hash = ?, source = ?, last_seen_at = ?, updated_at = ?, \
         search_text = ? WHERE id = ?",
    )
    .bind(&l.url)
    .bind(&l.title)
    .bind(&l.brand)
    .bind(&l.model)
    .bind(&params)
    .bind(&l.description)
    .bind(&l.seller)
    .bind(&l.shop_url)
    .bind(&l.price)
    .bind(&l.category)
    .bind(&w.content_hash)
    .bind(source)
    .bind(now)
    .bind(now)
    .bind(listing_search_text(l))
    .bind(id)
    .execute(&mut *tx)
    .await
    .ctx("updating a listing")?;
    Ok(())
}

impl SqliteStore {
    /// Inserts new listings and updates changed ones (the old content goes to
    /// `listing_history`); unchanged ones only get `last_seen_at`. One transaction.
    pub async fn upsert_listings(
        &self,
        batch: &[ListingWrite],
        source: &str,
    ) -> Result<ListingCounts> {
        let mut counts = ListingCounts::default();
        let now = self.now_rfc3339();
        let mut tx = self.write_tx().await.ctx("starting the listing batch")?;
        let writes: Vec<(&ListingWrite, Option<SeenIn>)> =
            batch.iter().map(|w| (w, None)).collect();
        for change in upsert_batch(&mut tx, &writes, source, &now).await? {
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
            let mut qb: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
                "SELECT id, platform, item_id, url, title, brand, model, params, description, seller, shop_url, price, category \
                 FROM listings WHERE id IN (",
            );
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY id");
            let rows: Vec<ListingRow> = qb
                .build_query_as()
                .fetch_all(&self.pool)
                .await
                .ctx("reading listings")?;
            return rows.into_iter().map(ListingRow::into_stored).collect();
        }
        let rows: Vec<ListingRow> = sqlx::query_as(
            "SELECT id, platform, item_id, url, title, brand, model, params, description, seller, shop_url, price, category \
             FROM listings WHERE id > ? AND (? IS NULL OR platform = ?) AND (? IS NULL OR last_scan_id = ?) \
             ORDER BY id LIMIT ?",
        )
            .bind(after_id)
            .bind(filter.platform.as_deref())
            .bind(filter.platform.as_deref())
            .bind(filter.scan_id)
            .bind(filter.scan_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .ctx("reading listings")?;
        rows.into_iter().map(ListingRow::into_stored).collect()
    }

    /// Listings whose finding cites or was matched to one of `certs`, ascending.
    pub async fn listings_citing(&self, certs: &[String]) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        for chunk in certs.chunks(500) {
            let mut qb: sqlx::QueryBuilder<sqlx::Sqlite> =
                sqlx::QueryBuilder::new("SELECT listing_id FROM findings WHERE matched_cert IN (");
            let mut sep = qb.separated(", ");
            for c in chunk {
                sep.push_bind(c.clone());
            }
            qb.push(
                ") UNION SELECT f.listing_id FROM findings f, json_each(f.cert_numbers) j \
                     WHERE f.cert_numbers <> '[]' AND j.value IN (",
            );
            let mut sep = qb.separated(", ");
            for c in chunk {
                sep.push_bind(c.clone());
            }
            qb.push(")");
            let found: Vec<(i64,)> = qb
                .build_query_as()
                .fetch_all(&self.pool)
                .await
                .ctx("finding listings citing certificates")?;
            ids.extend(found.into_iter().map(|(id,)| id));
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    pub async fn count_listings(&self, platform: Option<&str>) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM listings WHERE (? IS NULL OR platform = ?)")
            .bind(platform)
            .bind(platform)
            .fetch_one(&self.pool)
            .await
            .ctx("counting listings")
    }

    /// Number of earlier versions kept for a listing.
    pub async fn listing_history_len(&self, platform: &str, item_id: &str) -> Result<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM listing_history h JOIN listings l ON l.id = h.listing_id WHERE l.platform = ? AND l.item_id = ?",
        )
        .bind(platform)
        .bind(item_id)
        .fetch_one(&self.pool)
        .await
        .ctx("counting listing history")
    }
}

#[derive(sqlx::FromRow)]
struct ExistingRow {
    id: i64,
    platform: String,
    item_id: String,
    content_hash: String,
}

/// Rows per multi-row statement (20 values each, well under SQLite's limit).
const CHUNK: usize = 500;

type HashMapByKey = std::collections::HashMap<(String, String), (i64, String)>;
