//! SQLite statements for `store::feeds`: what the front in `../feeds.rs` dispatches to.

use super::SqliteStore;
use super::review::append_audit;
use crate::domain::decision::Measure;
use crate::store::feeds::*;
use crate::store::{Ctx, Result, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

macro_rules! token_select {
    ($rest:literal) => {
        concat!(
            "SELECT id, platform, name, created_at, created_by, revoked_at, last_used_at FROM feed_tokens",
            $rest
        )
    };
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    platform: String,
    name: String,
    created_at: String,
    created_by: String,
    revoked_at: Option<String>,
    last_used_at: Option<String>,
}

impl From<TokenRow> for FeedToken {
    fn from(r: TokenRow) -> FeedToken {
        FeedToken {
            id: r.id,
            platform: r.platform,
            name: r.name,
            created_at: r.created_at,
            created_by: r.created_by,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    cert_no: String,
    kind: String,
    at: String,
    from_value: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CertRow {
    cert_no: String,
    status: String,
    product_name: String,
    applicant: String,
    manufacturer: String,
    expires_on: String,
    status_changed_on: Option<String>,
    status_reason: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ConfirmedRow {
    item_id: String,
    url: Option<String>,
    title: String,
    seller: Option<String>,
    shop_url: Option<String>,
    state: String,
    verdict: String,
    reasons: String,
    certificate: Option<String>,
    cert_numbers: String,
    decided_at: String,
    measure: Option<String>,
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
        let rows: Vec<TokenRow> = sqlx::query_as(token_select!(
            " WHERE (? IS NULL OR platform = ?) ORDER BY id"
        ))
        .bind(platform)
        .bind(platform)
        .fetch_all(&self.pool)
        .await
        .ctx("listing feed tokens")?;
        Ok(rows.into_iter().map(FeedToken::from).collect())
    }

    /// The token with this hash, revoked or not.
    pub async fn feed_token_by_hash(&self, token_hash: &str) -> Result<Option<FeedToken>> {
        let row: Option<TokenRow> = sqlx::query_as(token_select!(" WHERE token_hash = ?"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .ctx("checking a feed token")?;
        Ok(row.map(FeedToken::from))
    }

    /// Revokes a token (with its audit entry). Returns the token as it is
    /// now; revoking a revoked token changes nothing.
    pub async fn revoke_feed_token(&self, id: i64, actor: &str) -> Result<FeedToken> {
        let mut tx = self.write_tx().await.ctx("revoking a feed token")?;
        let row: Option<TokenRow> = sqlx::query_as(token_select!(" WHERE id = ?"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .ctx("revoking a feed token")?;
        let mut token = row
            .map(FeedToken::from)
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
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT cert_no, new_value AS kind, changed_at AS at, old_value AS from_value FROM cert_history \
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
            .map(|r| {
                let kind_label = status_label(&r.kind);
                (
                    r.cert_no,
                    CertEvent {
                        kind: r.kind,
                        kind_label,
                        at: r.at,
                        from: r.from_value,
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
        let rows: Vec<CertRow> = sqlx::query_as(
            "SELECT cert_no, status, product_name, applicant, manufacturer, expires_on, status_changed_on, status_reason \
             FROM certificates WHERE cert_no IN (SELECT value FROM json_each(?))",
        )
        .bind(&numbers)
        .fetch_all(&self.pool)
        .await
        .ctx("reading certificates")?;
        let mut certs: HashMap<String, FeedCertificate> = rows
            .into_iter()
            .map(|r| {
                let no = r.cert_no;
                let c = FeedCertificate {
                    cert_no: no.clone(),
                    status_label: status_label(&r.status),
                    status: r.status,
                    product_name: r.product_name,
                    applicant: r.applicant,
                    manufacturer: r.manufacturer,
                    expires_on: r.expires_on,
                    status_changed_on: r.status_changed_on,
                    status_reason: r.status_reason,
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
        let rows: Vec<CitingRow> = sqlx::query_as(
            "WITH wanted(cert_no) AS (SELECT value FROM json_each(?1)) \
             SELECT f.matched_cert AS cert_no, l.id AS listing_id, l.item_id, l.url, l.title, l.seller, \
             l.state, f.verdict, 0 AS cites \
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
        Ok(group_citing(rows))
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
        let rows: Vec<ConfirmedRow> = sqlx::query_as(
            "SELECT l.item_id, l.url, l.title, l.seller, l.shop_url, l.state, f.verdict, f.reasons, \
             COALESCE(f.matched_cert, json_extract(f.cert_numbers, '$[0]')) AS certificate, f.cert_numbers, \
             d.decided_at, d.measure \
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
            .into_iter()
            .take(cap)
            .map(|r| {
                Ok(ConfirmedFinding {
                    reasons: json_list(&r.reasons, "finding reasons", &r.item_id)?,
                    cert_numbers: json_list(&r.cert_numbers, "finding numbers", &r.item_id)?,
                    url: r.url,
                    title: r.title,
                    seller: r.seller,
                    shop_url: r.shop_url,
                    state: r.state,
                    verdict_label: verdict_label(&r.verdict),
                    verdict: r.verdict,
                    certificate: r.certificate,
                    decided_at: r.decided_at,
                    measure_label: r
                        .measure
                        .as_deref()
                        .and_then(Measure::parse)
                        .map(|m| m.label_zh().to_string()),
                    measure: r.measure,
                    item_id: r.item_id,
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
        let rows: Vec<SellerRow> = sqlx::query_as(
            "SELECT l.seller AS seller, MIN(l.shop_url) AS shop_url, \
             SUM(CASE WHEN f.review_state = 'confirmed' THEN 1 ELSE 0 END) AS confirmed, \
             SUM((SELECT COUNT(*) FROM notices n WHERE n.listing_id = l.id AND n.state = 'overdue')) AS overdue, \
             SUM((SELECT COUNT(*) FROM notices n WHERE n.listing_id = l.id AND n.state = 'relisted')) AS relisted \
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
        Ok(repeat_sellers_of(rows, cap))
    }
}
