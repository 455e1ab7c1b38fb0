//! PostgreSQL statements for `store::feeds`: what the front in `../feeds.rs` dispatches to, beside the SQLite ones in `../sqlite/feeds.rs`.

use super::PgStore;
use super::clean;
use super::review::append_audit;
use crate::domain::decision::Measure;
use crate::store::feeds::*;
use crate::store::{Ctx, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;

/// An instant as the feed binds it: to the millisecond, as SQLite's stamps
/// (truncated, not rounded by the `TIMESTAMPTZ(3)` column).
fn ms(t: DateTime<Utc>) -> DateTime<Utc> {
    super::truncate_ms(t)
}

const TOKEN_SELECT: &str =
    "SELECT id, platform, name, created_at, created_by, revoked_at, last_used_at FROM feed_tokens";

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    platform: String,
    name: String,
    created_at: DateTime<Utc>,
    created_by: String,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
}

impl From<TokenRow> for FeedToken {
    fn from(r: TokenRow) -> FeedToken {
        FeedToken {
            id: r.id,
            platform: r.platform,
            name: r.name,
            created_at: super::stamp(r.created_at),
            created_by: r.created_by,
            revoked_at: r.revoked_at.map(super::stamp),
            last_used_at: r.last_used_at.map(super::stamp),
        }
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    cert_no: String,
    kind: String,
    at: DateTime<Utc>,
    from_value: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CertRow {
    cert_no: String,
    status: String,
    product_name: String,
    applicant: String,
    manufacturer: String,
    expires_on: NaiveDate,
    status_changed_on: Option<NaiveDate>,
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
    decided_at: DateTime<Utc>,
    measure: Option<String>,
}

impl PgStore {
    /// Stores a new feed token of `platform` (only its hash), with its audit entry.
    pub async fn add_feed_token(
        &self,
        platform: &str,
        name: &str,
        token_hash: &str,
        actor: &str,
    ) -> Result<i64> {
        let (platform, name, actor) = (clean(platform), clean(name), clean(actor));
        let mut tx = self.write_tx().await.ctx("adding a feed token")?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO feed_tokens (platform, name, token_hash, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(platform.as_ref())
        .bind(name.as_ref())
        .bind(clean(token_hash).as_ref())
        .bind(self.now())
        .bind(actor.as_ref())
        .fetch_one(&mut *tx)
        .await
        .ctx("adding a feed token")?;
        append_audit(
            self.now(),
            &mut tx,
            &actor,
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
        let platform = platform.map(clean);
        let rows: Vec<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TOKEN_SELECT} WHERE ($1::text IS NULL OR platform = $1) ORDER BY id"
        )))
        .bind(platform.as_deref())
        .fetch_all(&self.pool)
        .await
        .ctx("listing feed tokens")?;
        Ok(rows.into_iter().map(FeedToken::from).collect())
    }

    /// The token with this hash, revoked or not.
    pub async fn feed_token_by_hash(&self, token_hash: &str) -> Result<Option<FeedToken>> {
        let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TOKEN_SELECT} WHERE token_hash = $1"
        )))
        .bind(clean(token_hash).as_ref())
        .fetch_optional(&self.pool)
        .await
        .ctx("checking a feed token")?;
        Ok(row.map(FeedToken::from))
    }

    /// Revokes a token (with its audit entry). Returns the token as it is
    /// now; revoking a revoked token changes nothing.
    pub async fn revoke_feed_token(&self, id: i64, actor: &str) -> Result<FeedToken> {
        let mut tx = self.write_tx().await.ctx("revoking a feed token")?;
        // FOR UPDATE: of two revocations at once, the second waits and sees
        // the first's revoked_at (one audit entry, as under SQLite's lock).
        let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TOKEN_SELECT} WHERE id = $1 FOR UPDATE"
        )))
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
            let now = self.now();
            sqlx::query("UPDATE feed_tokens SET revoked_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await
                .ctx("revoking a feed token")?;
            append_audit(
                now,
                &mut tx,
                actor,
                "feed_token.revoke",
                Some(&format!("platform:{}", token.platform)),
                &serde_json::json!({"token_id": id, "name": token.name}),
            )
            .await?;
            token.revoked_at = Some(super::stamp(now));
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
        // SQLite's `token_id IS ?` would be IS NOT DISTINCT FROM, which no
        // index serves: one statement for each case.
        let sql = match token_id {
            Some(_) => {
                "SELECT until FROM feed_deliveries WHERE platform = $1 AND channel = $2 \
                 AND token_id = $3 ORDER BY id DESC LIMIT 1"
            }
            None => {
                "SELECT until FROM feed_deliveries WHERE platform = $1 AND channel = $2 \
                 AND token_id IS NULL AND $3::bigint IS NULL ORDER BY id DESC LIMIT 1"
            }
        };
        let until: Option<DateTime<Utc>> = sqlx::query_scalar(sql)
            .bind(clean(platform).as_ref())
            .bind(channel.as_str())
            .bind(token_id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading the feed cursor")?;
        Ok(until.map(super::stamp))
    }

    /// Records a delivery, and the token's last use, in one transaction.
    pub async fn record_feed_delivery(&self, d: &FeedDelivery<'_>) -> Result<i64> {
        let now = self.now();
        let mut tx = self.write_tx().await.ctx("recording a feed delivery")?;
        // counts is JSON (not JSONB): bound as text, its key order is kept.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO feed_deliveries (token_id, platform, channel, requested_by, delivered_at, since, until, counts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8::json) RETURNING id",
        )
        .bind(d.token_id)
        .bind(clean(d.platform).as_ref())
        .bind(d.channel.as_str())
        .bind(clean(d.requested_by).as_ref())
        .bind(now)
        .bind(ms(d.since))
        .bind(ms(d.until))
        .bind(d.counts.to_string())
        .fetch_one(&mut *tx)
        .await
        .ctx("recording a feed delivery")?;
        if let Some(token_id) = d.token_id {
            sqlx::query("UPDATE feed_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
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
        let platform = clean(platform);
        let (since, until) = (ms(since), ms(until));
        let (certificates, certs_cut) =
            self.feed_certificates(&platform, since, until, cap).await?;
        let (confirmed_findings, confirmed_cut) =
            self.feed_confirmed(&platform, since, until, cap).await?;
        let (repeat_sellers, sellers_cut) = self.repeat_sellers(&platform, cap).await?;
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
        // SQLite binds the empty range 9999-12-31 .. 0000-01-01 when no
        // expiry date falls in the window; 0000-01-01 is no PostgreSQL date,
        // so the third branch is switched off by NULL bounds instead.
        let (lo, hi) = match expiry_dates(since, until) {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        // An expiry date moved by an import: the day after the new date, at
        // 00:00 UTC, before the window. new_value is TEXT (a date for this
        // field); the pattern keeps a malformed one from failing the cast
        // (SQLite's strftime gives NULL for it).
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT cert_no, new_value AS kind, changed_at AS at, old_value AS from_value FROM cert_history \
             WHERE field = 'status' AND new_value IN ('suspended', 'revoked', 'cancelled', 'expired') \
             AND changed_at >= $1 AND changed_at < $2 \
             UNION ALL \
             SELECT cert_no, 'expired', changed_at, old_value FROM cert_history \
             WHERE field = 'expires_on' AND changed_at >= $1 AND changed_at < $2 \
             AND (CASE WHEN new_value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' \
                  THEN (new_value::date + 1)::timestamp AT TIME ZONE 'UTC' END) < $1 \
             UNION ALL \
             SELECT cert_no, 'expired', (expires_on + 1)::timestamp AT TIME ZONE 'UTC', NULL \
             FROM certificates WHERE $3::date IS NOT NULL AND expires_on >= $3 AND expires_on <= $4 \
             ORDER BY 3, 1, 2, 4 LIMIT $5",
        )
        .bind(since)
        .bind(until)
        .bind(lo)
        .bind(hi)
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
                        at: super::stamp(r.at),
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
        let mut listings = self.citing_listings(platform, &order).await?;
        let rows: Vec<CertRow> = sqlx::query_as(
            "SELECT cert_no, status, product_name, applicant, manufacturer, expires_on, status_changed_on, status_reason \
             FROM certificates WHERE cert_no = ANY($1)",
        )
        .bind(&order)
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
                    expires_on: super::day_text(r.expires_on),
                    status_changed_on: r.status_changed_on.map(super::day_text),
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

    /// The platform's listings citing or matched to any of `numbers`, by
    /// certificate.
    async fn citing_listings(
        &self,
        platform: &str,
        numbers: &[String],
    ) -> Result<HashMap<String, Vec<CitingListing>>> {
        // Rows of one (certificate, listing) are adjacent (ORDER BY 1, 2);
        // `cites` last so that the order among them is total too.
        let rows: Vec<CitingRow> = sqlx::query_as(
            "SELECT f.matched_cert AS cert_no, l.id AS listing_id, l.item_id, l.url, l.title, l.seller, \
             l.state, f.verdict, FALSE AS cites \
             FROM findings f JOIN listings l ON l.id = f.listing_id \
             WHERE f.platform = $2 AND f.matched_cert = ANY($1) \
             UNION ALL \
             SELECT j.value, l.id, l.item_id, l.url, l.title, l.seller, l.state, f.verdict, TRUE \
             FROM findings f CROSS JOIN LATERAL jsonb_array_elements_text( \
               CASE WHEN jsonb_typeof(f.cert_numbers) = 'array' THEN f.cert_numbers ELSE '[]' END) AS j(value) \
             JOIN listings l ON l.id = f.listing_id \
             WHERE f.platform = $2 AND j.value = ANY($1) \
             ORDER BY 1, 2, 9",
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
        // reasons / cert_numbers are read as text and parsed as SQLite's are,
        // so that a malformed value is the same Corrupt error on both.
        let rows: Vec<ConfirmedRow> = sqlx::query_as(
            "SELECT l.item_id, l.url, l.title, l.seller, l.shop_url, l.state, f.verdict, \
             f.reasons::text AS reasons, \
             COALESCE(f.matched_cert, CASE WHEN jsonb_typeof(f.cert_numbers) = 'array' \
                      THEN f.cert_numbers->>0 END) AS certificate, \
             f.cert_numbers::text AS cert_numbers, d.decided_at, d.measure \
             FROM decisions d JOIN findings f ON f.decision_id = d.id JOIN listings l ON l.id = f.listing_id \
             WHERE d.action = 'confirm' AND d.decided_at >= $1 AND d.decided_at < $2 \
             AND f.review_state = 'confirmed' AND f.platform = $3 \
             ORDER BY d.decided_at, d.id LIMIT $4",
        )
        .bind(since)
        .bind(until)
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
                    decided_at: super::stamp(r.decided_at),
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
        // A listing has at most one finding (listing_id is its key) and its
        // notices are counted once, beside it (LATERAL).
        let rows: Vec<SellerRow> = sqlx::query_as(
            "SELECT l.seller AS seller, MIN(l.shop_url) AS shop_url, \
             COUNT(*) FILTER (WHERE f.review_state = 'confirmed') AS confirmed, \
             COALESCE(SUM(n.overdue), 0)::bigint AS overdue, \
             COALESCE(SUM(n.relisted), 0)::bigint AS relisted \
             FROM listings l LEFT JOIN findings f ON f.listing_id = l.id \
             CROSS JOIN LATERAL (SELECT COUNT(*) FILTER (WHERE x.state = 'overdue') AS overdue, \
                                        COUNT(*) FILTER (WHERE x.state = 'relisted') AS relisted \
                                 FROM notices x WHERE x.listing_id = l.id) n \
             WHERE l.platform = $1 AND l.seller IS NOT NULL AND l.seller <> '' \
             AND (f.review_state = 'confirmed' OR n.overdue + n.relisted > 0) \
             GROUP BY l.seller \
             HAVING COUNT(*) FILTER (WHERE f.review_state = 'confirmed') >= 2 \
                OR SUM(n.overdue + n.relisted) > 0 \
             ORDER BY 3 DESC, 4 DESC, 5 DESC, 1 LIMIT $2",
        )
        .bind(platform)
        .bind(cap as i64 + 1)
        .fetch_all(&self.pool)
        .await
        .ctx("reading repeat sellers")?;
        Ok(repeat_sellers_of(rows, cap))
    }
}
