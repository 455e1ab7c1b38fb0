//! Listings: upsert by (platform, item_id) keeping the previous content as
//! history, and paging through them for matching.

use super::{Result, Store, StoreError};
use crate::domain::Listing;

/// A listing to store, with the hash of its content.
#[derive(Debug, Clone)]
pub struct ListingWrite {
    pub listing: Listing,
    pub content_hash: String,
}

/// A stored listing and its row id.
#[derive(Debug, Clone)]
pub struct StoredListing {
    pub id: i64,
    pub listing: Listing,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ListingCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Which listings a match run reads.
#[derive(Debug, Clone, Default)]
pub struct ListingFilter {
    pub platform: Option<String>,
    /// Only listings last seen by this scan.
    pub scan_id: Option<i64>,
    /// Only these listings (ascending IDs), e.g. those citing certificates
    /// whose status an import changed.
    pub ids: Option<std::sync::Arc<Vec<i64>>>,
}

/// What an upsert did to one listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Inserted,
    Updated,
    Unchanged,
}

impl ListingCounts {
    pub fn add(&mut self, c: Change) {
        match c {
            Change::Inserted => self.inserted += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }
}

/// Where a crawled listing came from: its scan and its evidence page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeenIn {
    pub scan_id: i64,
    pub page_id: Option<i64>,
}

/// What the queue's full-text search indexes for a listing.
/// The model rows of the spec table count too: the model reviewers see
/// may come from there.
pub(crate) fn listing_search_text(l: &Listing) -> String {
    let spec_models = l
        .params
        .iter()
        .filter(|(label, value)| {
            crate::domain::is_model_label(label) && Some(value.as_str()) != l.model.as_deref()
        })
        .map(|(_, value)| Some(value.as_str()));
    crate::text::search::search_text(
        [
            Some(l.title.as_str()),
            l.brand.as_deref(),
            l.model.as_deref(),
            l.seller.as_deref(),
        ]
        .into_iter()
        .chain(spec_models),
    )
}

impl Store {
    /// Inserts new listings and updates changed ones (the old content goes to
    /// `listing_history`); unchanged ones only get `last_seen_at`. One transaction.
    pub async fn upsert_listings(
        &self,
        batch: &[ListingWrite],
        source: &str,
    ) -> Result<ListingCounts> {
        dispatch!(self, |db| db.upsert_listings(batch, source).await)
    }

    /// Listings with id greater than `after_id`, in id order (keyset paging).
    pub async fn listings_page(
        &self,
        filter: &ListingFilter,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<StoredListing>> {
        dispatch!(self, |db| db.listings_page(filter, after_id, limit).await)
    }

    /// Listings whose finding cites or was matched to one of `certs`, ascending.
    pub async fn listings_citing(&self, certs: &[String]) -> Result<Vec<i64>> {
        dispatch!(self, |db| db.listings_citing(certs).await)
    }

    pub async fn count_listings(&self, platform: Option<&str>) -> Result<i64> {
        dispatch!(self, |db| db.count_listings(platform).await)
    }

    /// Number of earlier versions kept for a listing.
    pub async fn listing_history_len(&self, platform: &str, item_id: &str) -> Result<i64> {
        dispatch!(self, |db| db.listing_history_len(platform, item_id).await)
    }
}

/// A listing row as the match, the search backfill and a finding's detail
/// read it, on both backends.
#[derive(sqlx::FromRow)]
pub(crate) struct ListingRow {
    pub(crate) id: i64,
    platform: String,
    item_id: String,
    url: Option<String>,
    title: String,
    brand: Option<String>,
    model: Option<String>,
    params: String,
    description: Option<String>,
    seller: Option<String>,
    shop_url: Option<String>,
    price: Option<String>,
    category: Option<String>,
}

impl ListingRow {
    pub(crate) fn into_stored(self) -> Result<StoredListing> {
        let id = self.id;
        let params: Vec<(String, String)> =
            serde_json::from_str(&self.params).map_err(|e| StoreError::Corrupt {
                what: "listing params",
                detail: format!("listing {id}: {e}"),
            })?;
        Ok(StoredListing {
            id,
            listing: Listing {
                platform: self.platform,
                item_id: self.item_id,
                url: self.url,
                title: self.title,
                brand: self.brand,
                model: self.model,
                params,
                description: self.description,
                seller: self.seller,
                shop_url: self.shop_url,
                price: self.price,
                category: self.category,
            },
        })
    }
}
