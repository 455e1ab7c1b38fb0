//! SQLite statements for `store::feeds`: what the front in `../feeds.rs` dispatches to.

use super::SqliteStore;
use super::review::append_audit;
use crate::review::decision::Measure;
use crate::store::feeds::*;
use crate::store::{Ctx, Result, StoreError};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::HashMap;

macro_rules! token_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, platform, name, created_at, created_by, revoked_at, last_used_at FROM feed_tokens",
            $rest
        )
    };
}

fn token_from_row(r: &sqlx::sqlite::SqliteRow) -> FeedToken {
    FeedToken {
        id: r.get(0),
        platform: r.get(1),
        name: r.get(2),
        created_at: r.get(3),
        created_by: r.get(4),
        revoked_at: r.get(5),
        last_used_at: r.get(6),
    }
}

impl SqliteStore {
    /// Stores a new feed token of `platform` (only its hash), with its audit entry.
    pub async fn add_feed_token(
        &self,
        platform: &str,
        name: &str,
        token_hash: &str,
        actor: &str,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await.ctx("adding a feed token")?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO feed_tokens (platform, name, token_hash, created_at, created_by) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(platform)
        .bind(name)
        .bind(token_hash)
        .bind(self.now_rfc3339())
        .bind(actor)
        .fetch_one(&mut *tx)
        .await
        .ctx("adding a feed token")?;
        append_audit(
            self.now(),
            &mut tx,
            actor,
            "feed_token.add",
            Some(&format!("platform:{platform}")),
            &serde_json::json!({"token_id": id, "name": name}),
        )
        .await?;
        tx.commit().await.ctx("adding a feed token")?;
        Ok(id)
    }

    /// Feed tokens (of `platform`, or all), oldest first.
    pub async fn feed_tokens(&self, platform: Option<&str>) -> Result<Vec<FeedToken>> {
        let rows = sqlx::query(token_select!(
            " WHERE (? IS NULL OR platform = ?) ORDER BY id"
        ))
        .bind(platform)
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("listing feed tokens")?;
        Ok(rows.iter().map(token_from_row).collect())
    }

    /// The token with this hash, revoked or not.
    pub async fn feed_token_by_hash(&self, token_hash: &str) -> Result<Option<FeedToken>> {
        let row = sqlx::query(token_select!(" WHERE token_hash = ?"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .ctx("checking a feed token")?;
        Ok(row.as_ref().map(token_from_row))
    }

    /// Revokes a token (with its audit entry). Returns the token as it is
    /// now; revoking a revoked token changes nothing.
    pub async fn revoke_feed_token(&self, id: i64, actor: &str) -> Result<FeedToken> {
        let mut tx = self.write_tx().await.ctx("revoking a feed token")?;
        let row = sqlx::query(token_select!(" WHERE id = ?"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .ctx("revoking a feed token")?;
        let mut token = row
            .as_ref()
            .map(token_from_row)
            .ok_or_else(|| StoreError::NotFound {
                what: "feed token",
                key: id.to_string(),
            })?;
        if token.revoked_at.is_none() {
            let now = self.now_rfc3339();
            sqlx::query("UPDATE feed_tokens SET revoked_at = ? WHERE id = ?")
                .bind(&now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx("revoking a feed token")?;
            append_audit(
                self.now(),
                &mut tx,
                actor,
                "feed_token.revoke",
                Some(&format!("platform:{}", token.platform)),
                &serde_json::json!({"token_id": id, "name": token.name}),
            )
            .await?;
            token.revoked_at = Some(now);
        }
        tx.commit().await.ctx("revoking a feed token")?;
        Ok(token)
    }

    /// Where the last delivery of this kind ended (its `until`), if any.
    pub async fn feed_cursor(
        &self,
        platform: &str,
        channel: FeedChannel,
        token_id: Option<i64>,
    ) -> Result<Option<String>> {
        sqlx::query_scalar(
            "SELECT until FROM feed_deliveries WHERE platform = ? AND channel = ? AND token_id IS ? \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(platform)
        .bind(channel.as_str())
        .bind(token_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading the feed cursor")
    }

    /// Records a delivery, and the token's last use, in one transaction.
    pub async fn record_feed_delivery(&self, d: &FeedDelivery<'_>) -> Result<i64> {
        let now = self.now_rfc3339();
        let mut tx = self.write_tx().await.ctx("recording a feed delivery")?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO feed_deliveries (token_id, platform, channel, requested_by, delivered_at, since, until, counts) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(d.token_id)
        .bind(d.platform)
        .bind(d.channel.as_str())
        .bind(d.requested_by)
        .bind(&now)
        .bind(stamp(d.since))
        .bind(stamp(d.until))
        .bind(d.counts.to_string())
        .fetch_one(&mut *tx)
        .await
        .ctx("recording a feed delivery")?;
        if let Some(token_id) = d.token_id {
            sqlx::query("UPDATE feed_tokens SET last_used_at = ? WHERE id = ?")
                .bind(&now)
                .bind(token_id)
                .execute(&mut *tx)
                .await
                .ctx("recording a feed delivery")?;
        }
        tx.commit().await.ctx("recording a feed delivery")?;
        Ok(id)
    }

    /// The three lists of `platform`'s feed for `[since, until)`, each cut
    /// at `cap` entries.
    pub async fn feed_lists(
        &self,
        platform: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        cap: usize,
    ) -> Result<FeedLists> {
        let (certificates, certs_cut) = self.feed_certificates(platform, since, until, cap).await?;
        let (confirmed_findings, confirmed_cut) =
            self.feed_confirmed(platform, since, until, cap).await?;
        let (repeat_sellers, sellers_cut) = self.repeat_sellers(platform, cap).await?;
        Ok(FeedLists {
            certificates,
            confirmed_findings,
            repeat_sellers,
            truncated: FeedTruncated {
                certificates: certs_cut,
                confirmed_findings: confirmed_cut,
                repeat_sellers: sellers_cut,
            },
        })
    }

    /// Status changes to suspended/revoked/cancelled/expired recorded in the
    /// window, expiry dates passing in it, and expiry dates moved to before
    /// the window by an import in it: (certificate, event), in time order.
    /// At most `limit` events; the flag says whether more were left.
    async fn cert_events(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<(Vec<(String, CertEvent)>, bool)> {
        let (lo, hi) = expiry_dates(since, until)
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .unwrap_or_else(|| ("9999-12-31".into(), "0000-01-01".into()));
        let (since, until) = (stamp(since), stamp(until));
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT cert_no, new_value, changed_at, old_value FROM cert_history \
             WHERE field = 'status' AND new_value IN ('suspended', 'revoked', 'cancelled', 'expired') \
             AND changed_at >= ?1 AND changed_at < ?2 \
             UNION ALL \
             SELECT cert_no, 'expired', changed_at, old_value FROM cert_history \
             WHERE field = 'expires_on' AND changed_at >= ?1 AND changed_at < ?2 \
             AND strftime('%Y-%m-%dT00:00:00.000Z', new_value, '+1 day') < ?1 \
             UNION ALL \
             SELECT cert_no, 'expired', strftime('%Y-%m-%dT00:00:00.000Z', expires_on, '+1 day'), NULL \
             FROM certificates WHERE expires_on >= ?3 AND expires_on <= ?4 \
             ORDER BY 3, 1 LIMIT ?5",
        )
        .bind(&since)
        .bind(&until)
        .bind(&lo)
        .bind(&hi)
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await
        .ctx("reading certificate changes")?;
        let more = rows.len() > limit;
        let events = rows
            .into_iter()
            .take(limit)
            .map(|(no, kind, at, from)| {
                let kind_label = status_label(&kind);
                (
                    no,
                    CertEvent {
                        kind,
                        kind_label,
                        at,
                        from,
                    },
                )
            })
            .collect();
        Ok((events, more))
    }

    async fn feed_certificates(
        &self,
        platform: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        cap: usize,
    ) -> Result<(Vec<FeedCertificate>, bool)> {
        let mut order: Vec<String> = Vec::new();
        let mut events: HashMap<String, Vec<CertEvent>> = HashMap::new();
        // A certificate has few events: twice the cap is plenty.
        let (events_in_window, mut truncated) = self
            .cert_events(since, until, cap.saturating_mul(2))
            .await?;
        for (no, event) in events_in_window {
            if !events.contains_key(&no) {
                if order.len() == cap {
                    truncated = true;
                    continue;
                }
                order.push(no.clone());
            }
            events.entry(no).or_default().push(event);
        }
        if order.is_empty() {
            return Ok((Vec::new(), truncated));
        }
        let numbers = serde_json::to_string(&order).unwrap_or_default();
        let mut listings = self.citing_listings(platform, &numbers).await?;
        let rows = sqlx::query(
            "SELECT cert_no, status, product_name, applicant, manufacturer, expires_on, status_changed_on, status_reason \
             FROM certificates WHERE cert_no IN (SELECT value FROM json_each(?))",
        )
        .bind(&numbers)
        .fetch_all(&self.pool)
        .await
        .ctx("reading certificates")?;
        let mut certs: HashMap<String, FeedCertificate> = rows
            .iter()
            .map(|r| {
                let no: String = r.get(0);
                let c = FeedCertificate {
                    cert_no: no.clone(),
                    status: r.get(1),
                    status_label: status_label(r.get(1)),
                    product_name: r.get(2),
                    applicant: r.get(3),
                    manufacturer: r.get(4),
                    expires_on: r.get(5),
                    status_changed_on: r.get(6),
                    status_reason: r.get(7),
                    events: events.remove(&no).unwrap_or_default(),
                    listings: listings.remove(&no).unwrap_or_default(),
                };
                (no, c)
            })
            .collect();
        let out = order.iter().filter_map(|no| certs.remove(no)).collect();
        Ok((out, truncated))
    }

    /// The platform's listings citing or matched to any of `numbers` (a JSON
    /// array), by certificate.
    async fn citing_listings(
        &self,
        platform: &str,
        numbers: &str,
    ) -> Result<HashMap<String, Vec<CitingListing>>> {
        let rows = sqlx::query(
            "WITH wanted(cert_no) AS (SELECT value FROM json_each(?1)) \
             SELECT f.matched_cert, l.id, l.item_id, l.url, l.title, l.seller, l.state, f.verdict, 0 \
             FROM findings f JOIN listings l ON l.id = f.listing_id \
             WHERE f.platform = ?2 AND f.matched_cert IN wanted \
             UNION ALL \
             SELECT j.value, l.id, l.item_id, l.url, l.title, l.seller, l.state, f.verdict, 1 \
             FROM findings f JOIN json_each(f.cert_numbers) j JOIN listings l ON l.id = f.listing_id \
             WHERE f.platform = ?2 AND j.value IN wanted \
             ORDER BY 1, 2",
        )
        .bind(numbers)
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("reading listings citing certificates")?;
        let mut out: HashMap<String, Vec<CitingListing>> = HashMap::new();
        let mut last: Option<(String, i64)> = None;
        for r in &rows {
            let key: (String, i64) = (r.get(0), r.get(1));
            let cites: bool = r.get(8);
            let list = out.entry(key.0.clone()).or_default();
            // Matched and cited: one entry (rows of a listing are adjacent).
            if last.as_ref() == Some(&key) {
                if let Some(prev) = list.last_mut() {
                    prev.cites |= cites;
                }
                continue;
            }
            list.push(CitingListing {
                item_id: r.get(2),
                url: r.get(3),
                title: r.get(4),
                seller: r.get(5),
                state: r.get(6),
                verdict_label: verdict_label(r.get(7)),
                verdict: r.get(7),
                cites,
            });
            last = Some(key);
        }
        Ok(out)
    }

    /// Findings of the platform whose current decision is a confirmation
    /// made in the window, oldest first.
    async fn feed_confirmed(
        &self,
        platform: &str,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        cap: usize,
    ) -> Result<(Vec<ConfirmedFinding>, bool)> {
        let rows = sqlx::query(
            "SELECT l.item_id, l.url, l.title, l.seller, l.shop_url, l.state, f.verdict, f.reasons, \
             COALESCE(f.matched_cert, json_extract(f.cert_numbers, '$[0]')), f.cert_numbers, d.decided_at, d.measure \
             FROM decisions d JOIN findings f ON f.decision_id = d.id JOIN listings l ON l.id = f.listing_id \
             WHERE d.action = 'confirm' AND d.decided_at >= ? AND d.decided_at < ? \
             AND f.review_state = 'confirmed' AND f.platform = ? \
             ORDER BY d.decided_at, d.id LIMIT ?",
        )
        .bind(stamp(since))
        .bind(stamp(until))
        .bind(platform)
        .bind(cap as i64 + 1)
        .fetch_all(&self.pool)
        .await
        .ctx("reading confirmed findings")?;
        let truncated = rows.len() > cap;
        let out = rows
            .iter()
            .take(cap)
            .map(|r| {
                let item: String = r.get(0);
                Ok(ConfirmedFinding {
                    url: r.get(1),
                    title: r.get(2),
                    seller: r.get(3),
                    shop_url: r.get(4),
                    state: r.get(5),
                    verdict: r.get(6),
                    verdict_label: verdict_label(r.get(6)),
                    reasons: json_list(r.get(7), "finding reasons", &item)?,
                    certificate: r.get(8),
                    cert_numbers: json_list(r.get(9), "finding numbers", &item)?,
                    decided_at: r.get(10),
                    measure: r.get(11),
                    measure_label: r
                        .get::<Option<&str>, _>(11)
                        .and_then(Measure::parse)
                        .map(|m| m.label_zh().to_string()),
                    item_id: item,
                })
            })
            .collect::<Result<_>>()?;
        Ok((out, truncated))
    }

    /// Sellers of the platform with two or more confirmed findings, or a
    /// notice overdue or relisted; most confirmed first.
    async fn repeat_sellers(
        &self,
        platform: &str,
        cap: usize,
    ) -> Result<(Vec<RepeatSeller>, bool)> {
        let rows: Vec<(String, Option<String>, i64, i64, i64)> = sqlx::query_as(
            "SELECT l.seller, MIN(l.shop_url), \
             SUM(CASE WHEN f.review_state = 'confirmed' THEN 1 ELSE 0 END), \
             SUM((SELECT COUNT(*) FROM notices n WHERE n.listing_id = l.id AND n.state = 'overdue')), \
             SUM((SELECT COUNT(*) FROM notices n WHERE n.listing_id = l.id AND n.state = 'relisted')) \
             FROM listings l LEFT JOIN findings f ON f.listing_id = l.id \
             WHERE l.platform = ? AND l.seller IS NOT NULL AND l.seller <> '' \
             AND (f.review_state = 'confirmed' OR EXISTS (SELECT 1 FROM notices n WHERE n.listing_id = l.id \
                  AND n.state IN ('overdue', 'relisted'))) \
             GROUP BY l.seller HAVING SUM(CASE WHEN f.review_state = 'confirmed' THEN 1 ELSE 0 END) >= 2 \
                OR SUM((SELECT COUNT(*) FROM notices n WHERE n.listing_id = l.id AND n.state IN ('overdue', 'relisted'))) > 0 \
             ORDER BY 3 DESC, 4 DESC, 5 DESC, 1 LIMIT ?",
        )
        .bind(platform)
        .bind(cap as i64 + 1)
        .fetch_all(&self.pool)
        .await
        .ctx("reading repeat sellers")?;
        let truncated = rows.len() > cap;
        let out = rows
            .into_iter()
            .take(cap)
            .map(
                |(seller, shop_url, confirmed, overdue, relisted)| RepeatSeller {
                    seller,
                    shop_url,
                    confirmed,
                    overdue,
                    relisted,
                },
            )
            .collect();
        Ok((out, truncated))
    }
}
