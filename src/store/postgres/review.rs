//! PostgreSQL statements for `store::review`: what the front in `../review.rs` dispatches to, beside the SQLite ones in `../sqlite/review.rs`.
//!
//! SQLite's `BEGIN IMMEDIATE` serialises every writer; here the statements
//! that read then write take locks of their own: the audit chain an
//! advisory lock ([`append_audit`]), a user's row `FOR UPDATE` while it is
//! changed, a finding's row `FOR UPDATE` while it is decided. Text that
//! PostgreSQL cannot hold (U+0000) is dropped from every text bound
//! ([`clean`]), so hostile input never fails a statement.

use super::PgStore;
use super::clean;
use crate::domain::Role;
use crate::domain::audit::{self, AuditEntry, Report, Verifier};
use crate::domain::decision::{Decision, DecisionError, ReviewState};
use crate::domain::queue::{Cursor, Direction, Key, QueueFilter, Sort, StateFilter};
use crate::domain::{Finding, Verdict};
use crate::store::listings::ListingRow;
use crate::store::review::*;
use crate::store::{Ctx, PageMeta, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

/// The advisory lock that serialises appends to the audit chain across
/// processes and machines ("cccaudit"); every appender goes through
/// [`append_audit`].
const AUDIT_LOCK: i64 = 0x6363_6361_7564_6974;

fn clean_opt(s: Option<&str>) -> Option<String> {
    s.map(|s| clean(s).into_owned())
}

macro_rules! user_select {
    ($rest:literal) => {
        concat!(
            "SELECT u.id, u.username, u.display_name, u.role, u.disabled, u.failed_logins, u.locked_until, \
             u.created_at, u.last_login_at",
            $rest
        )
    };
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    disabled: bool,
    failed_logins: i64,
    locked_until: Option<i64>,
    created_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
}

impl UserRow {
    fn into_user(self) -> Result<User> {
        Ok(User {
            role: Role::parse(&self.role).ok_or_else(|| StoreError::Corrupt {
                what: "user role",
                detail: self.role.clone(),
            })?,
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            disabled: self.disabled,
            failed_logins: self.failed_logins,
            locked_until: self.locked_until,
            created_at: super::stamp(self.created_at),
            last_login_at: self.last_login_at.map(super::stamp),
        })
    }
}

#[derive(sqlx::FromRow)]
struct UserWithHash {
    #[sqlx(flatten)]
    user: UserRow,
    password_hash: String,
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    csrf_token: String,
    expires_at: i64,
    last_seen_at: i64,
}

/// Appends an audit entry inside `tx` and moves the head. Returns the
/// entry's id. The next id and the previous hash come from `audit_head`:
/// appenders in other transactions (other processes) are kept out by a
/// transaction-scoped advisory lock, taken first (it also covers the very
/// first entry, when there is no head row to lock), and held to commit.
/// The entry's text and hash are those the SQLite backend makes for the
/// same input (actor, action and target without U+0000).
pub(crate) async fn append_audit(
    at: DateTime<Utc>,
    tx: &mut PgConnection,
    actor: &str,
    action: &str,
    target: Option<&str>,
    details: &serde_json::Value,
) -> Result<i64> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(&mut *tx)
        .await
        .ctx("locking the audit log")?;
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT last_id, hash FROM audit_head WHERE one = 1")
            .fetch_optional(&mut *tx)
            .await
            .ctx("reading the audit head")?;
    let (id, prev) = match head {
        Some((last, hash)) => (last + 1, hash),
        None => (1, audit::GENESIS.to_string()),
    };
    let at = crate::store::stamp_rfc3339(at);
    let (actor, action) = (clean(actor), clean(action));
    let target = target.map(clean);
    // serde_json escapes U+0000 inside strings: the text holds none.
    let details = details.to_string();
    let hash = audit::entry_hash(id, &at, &actor, &action, target.as_deref(), &details, &prev);
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, action, target, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(&at)
    .bind(actor.as_ref())
    .bind(action.as_ref())
    .bind(target.as_deref())
    .bind(&details)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *tx)
    .await
    .ctx("writing the audit log")?;
    sqlx::query(
        "INSERT INTO audit_head (one, last_id, hash) VALUES (1, $1, $2) \
         ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash",
    )
    .bind(id)
    .bind(&hash)
    .execute(&mut *tx)
    .await
    .ctx("moving the audit head")?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct DecisionDbRow {
    id: i64,
    action: String,
    measure: Option<String>,
    reason: Option<String>,
    note: Option<String>,
    verdict: String,
    username: String,
    display_name: String,
    decided_at: DateTime<Utc>,
    revises: Option<i64>,
    audit_id: i64,
}

#[derive(sqlx::FromRow)]
struct DetailRow {
    #[sqlx(flatten)]
    listing: ListingRow,
    state: String,
    gone_at: Option<DateTime<Utc>>,
    first_seen_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    last_scan_id: Option<i64>,
    source: String,
    page_id: Option<i64>,
    f_verdict: Option<String>,
    f_confidence: Option<f64>,
    f_matched_cert: Option<String>,
    f_cert_numbers: Option<String>,
    f_category_code: Option<String>,
    f_brand: Option<String>,
    f_model: Option<String>,
    f_reasons: Option<String>,
    f_as_of: Option<NaiveDate>,
    f_matched_at: Option<DateTime<Utc>>,
    f_review_state: Option<String>,
    f_queued_at: Option<DateTime<Utc>>,
    f_decision_id: Option<i64>,
    f_priority: i64,
    f_priority_note: Option<String>,
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

#[derive(sqlx::FromRow)]
struct ScanTrendRow {
    id: i64,
    platform: String,
    started_at: DateTime<Utc>,
    listings_new: i64,
    listings_changed: i64,
    listings_unchanged: i64,
    findings: Option<String>,
}

#[derive(sqlx::FromRow)]
struct BacklogRow {
    d1: i64,
    d3: i64,
    d7: i64,
    d30: i64,
    older: i64,
    oldest: Option<DateTime<Utc>>,
}

impl PgStore {
    // ---- users ----------------------------------------------------------

    /// Adds a user; `actor` is who did it (for the audit log).
    pub async fn add_user(
        &self,
        username: &str,
        display_name: &str,
        role: Role,
        password_hash: &str,
        actor: &str,
    ) -> Result<i64> {
        let (username, display_name) = (clean(username), clean(display_name));
        let mut tx = self.write_tx().await.ctx("adding a user")?;
        let now = self.now();
        // One statement: a concurrent add of the same name (any case) waits
        // on the unique index and then inserts nothing.
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, role, password_hash, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (username) DO NOTHING RETURNING id",
        )
        .bind(username.as_ref())
        .bind(display_name.as_ref())
        .bind(role.as_str())
        .bind(clean(password_hash).as_ref())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .ctx("adding a user")?;
        let Some(id) = id else {
            return Err(StoreError::Exists {
                what: "user",
                key: username.into_owned(),
            });
        };
        append_audit(
            now,
            &mut tx,
            actor,
            "user.add",
            Some(&format!("user:{username}")),
            &serde_json::json!({"username": username, "display_name": display_name, "role": role.as_str()}),
        )
        .await?;
        tx.commit().await.ctx("adding a user")?;
        Ok(id)
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        // The collation ignores case; ties (names equal but for case cannot
        // exist: UNIQUE) need no tie-breaker.
        let rows: Vec<UserRow> =
            sqlx::query_as(user_select!(" FROM users u ORDER BY u.username, u.id"))
                .fetch_all(&self.pool)
                .await
                .ctx("listing users")?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<(User, String)>> {
        let row: Option<UserWithHash> = sqlx::query_as(user_select!(
            ", u.password_hash FROM users u WHERE u.username = $1"
        ))
        .bind(clean(username).as_ref())
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a user")?;
        row.map(|r| Ok((r.user.into_user()?, r.password_hash)))
            .transpose()
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(user_select!(" FROM users u WHERE u.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("looking up a user")?;
        row.map(UserRow::into_user).transpose()
    }

    /// Sets a new password hash, unlocks the account and ends its sessions.
    pub async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        actor: &str,
    ) -> Result<()> {
        let username = clean(username);
        let mut tx = self.write_tx().await.ctx("changing a password")?;
        let id = user_id(&mut tx, &username).await?;
        let now = self.now();
        sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, failed_logins = 0, locked_until = NULL \
             WHERE id = $3",
        )
        .bind(clean(password_hash).as_ref())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .ctx("changing a password")?;
        end_sessions(&mut tx, id).await?;
        append_audit(
            now,
            &mut tx,
            actor,
            "user.password",
            Some(&format!("user:{username}")),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await.ctx("changing a password")
    }

    /// Disables or re-enables an account; disabling ends its sessions and tokens.
    pub async fn set_disabled(&self, username: &str, disabled: bool, actor: &str) -> Result<()> {
        let username = clean(username);
        let mut tx = self.write_tx().await.ctx("disabling a user")?;
        let id = user_id(&mut tx, &username).await?;
        sqlx::query(
            "UPDATE users SET disabled = $1, failed_logins = 0, locked_until = NULL WHERE id = $2",
        )
        .bind(disabled)
        .bind(id)
        .execute(&mut *tx)
        .await
        .ctx("disabling a user")?;
        if disabled {
            end_sessions(&mut tx, id).await?;
        }
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        append_audit(
            self.now(),
            &mut tx,
            actor,
            action,
            Some(&format!("user:{username}")),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await.ctx("disabling a user")
    }

    pub async fn set_role(&self, username: &str, role: Role, actor: &str) -> Result<()> {
        let username = clean(username);
        let mut tx = self.write_tx().await.ctx("changing a role")?;
        let id = user_id(&mut tx, &username).await?;
        // The row is locked (user_id): the old role read here is the one replaced.
        let old: String = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .ctx("changing a role")?;
        sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .ctx("changing a role")?;
        end_sessions(&mut tx, id).await?;
        append_audit(
            self.now(),
            &mut tx,
            actor,
            "user.role",
            Some(&format!("user:{username}")),
            &serde_json::json!({"from": old, "to": role.as_str()}),
        )
        .await?;
        tx.commit().await.ctx("changing a role")
    }

    /// Counts a failed login and locks the account for `lock_secs` (if > 0)
    /// from `now`. Returns the failures in a row.
    pub async fn login_failed(
        &self,
        user_id: i64,
        now: i64,
        lockout: impl Fn(i64) -> i64,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await.ctx("counting a failed login")?;
        // The UPDATE locks the row to commit: concurrent failures count one by one.
        let (failures, username): (i64, String) = sqlx::query_as(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins, username",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await
        .ctx("counting a failed login")?;
        let lock = lockout(failures);
        if lock > 0 {
            sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
                .bind(now + lock)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .ctx("locking an account")?;
            append_audit(
                self.now(),
                &mut tx,
                "system",
                "auth.locked",
                Some(&format!("user:{username}")),
                &serde_json::json!({"failures": failures, "seconds": lock}),
            )
            .await?;
        }
        tx.commit().await.ctx("counting a failed login")?;
        Ok(failures)
    }

    /// Starts a session after a successful login.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_session(
        &self,
        user: &User,
        token_hash: &str,
        csrf_token: &str,
        now: i64,
        lifetime_secs: i64,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<()> {
        let ip = clean_opt(ip);
        let mut tx = self.write_tx().await.ctx("starting a session")?;
        sqlx::query(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2",
        )
        .bind(self.now())
        .bind(user.id)
        .execute(&mut *tx)
        .await
        .ctx("recording a login")?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $4, $5, $6, $7)",
        )
        .bind(clean(token_hash).as_ref())
        .bind(user.id)
        .bind(clean(csrf_token).as_ref())
        .bind(now)
        .bind(now + lifetime_secs)
        .bind(&ip)
        .bind(user_agent.map(|u| clean(u).chars().take(200).collect::<String>()))
        .execute(&mut *tx)
        .await
        .ctx("starting a session")?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .ctx("removing expired sessions")?;
        append_audit(
            self.now(),
            &mut tx,
            &user.username,
            "auth.login",
            Some(&format!("user:{}", user.username)),
            &serde_json::json!({"ip": ip}),
        )
        .await?;
        tx.commit().await.ctx("starting a session")
    }

    /// The session behind a cookie, if it is live: not past its absolute
    /// expiry, used within `idle_secs`, its user enabled. Touches it.
    pub async fn session(
        &self,
        token_hash: &str,
        now: i64,
        idle_secs: i64,
    ) -> Result<Option<SessionInfo>> {
        let token_hash = clean(token_hash);
        let row: Option<SessionRow> = sqlx::query_as(user_select!(
            ", s.csrf_token, s.expires_at, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1"
        ))
        .bind(token_hash.as_ref())
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a session")?;
        let Some(r) = row else { return Ok(None) };
        let user = r.user.into_user()?;
        if user.disabled || r.expires_at <= now || r.last_seen_at + idle_secs <= now {
            return Ok(None);
        }
        // Touch at most once a minute: every page view would otherwise write.
        // GREATEST: a slower request touching later never moves it back.
        if now - r.last_seen_at >= 60 {
            sqlx::query(
                "UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $1) WHERE token_hash = $2",
            )
            .bind(now)
            .bind(token_hash.as_ref())
            .execute(&self.pool)
            .await
            .ctx("touching a session")?;
        }
        Ok(Some(SessionInfo {
            user,
            csrf_token: r.csrf_token,
            expires_at: r.expires_at,
        }))
    }

    pub async fn end_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(clean(token_hash).as_ref())
            .execute(&self.pool)
            .await
            .ctx("ending a session")?;
        Ok(())
    }

    /// Stores a new API token for `username` (only its hash).
    pub async fn add_api_token(
        &self,
        username: &str,
        name: &str,
        token_hash: &str,
        actor: &str,
    ) -> Result<i64> {
        let (username, name) = (clean(username), clean(name));
        let mut tx = self.write_tx().await.ctx("adding an API token")?;
        let uid = user_id(&mut tx, &username).await?;
        let now = self.now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(uid)
        .bind(name.as_ref())
        .bind(clean(token_hash).as_ref())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .ctx("adding an API token")?;
        append_audit(
            now,
            &mut tx,
            actor,
            "token.add",
            Some(&format!("user:{username}")),
            &serde_json::json!({"token_id": id, "name": name}),
        )
        .await?;
        tx.commit().await.ctx("adding an API token")?;
        Ok(id)
    }

    /// The enabled user behind an API token.
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(user_select!(
            " FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT u.disabled"
        ))
        .bind(clean(token_hash).as_ref())
        .fetch_optional(&self.pool)
        .await
        .ctx("checking an API token")?;
        row.map(UserRow::into_user).transpose()
    }

    // ---- decisions ------------------------------------------------------

    /// Records a decision on the finding of `listing_id`, with its audit
    /// entry, in one transaction. `seen_decision`: the decision the user was
    /// looking at (`Some(None)`: none); when another decision was made
    /// since, nothing is written and the outcome is a conflict. `None` skips
    /// that check (bulk decisions, where the state rules alone apply).
    /// `allowed` is the rule the decision must pass (see [`DecisionRule`]),
    /// applied after the conflict check and before anything is written.
    pub async fn decide(
        &self,
        listing_id: i64,
        user: &User,
        decision: &Decision,
        seen_decision: Option<Option<i64>>,
        allowed: &DecisionRule<'_>,
    ) -> Result<DecideOutcome> {
        let mut tx = self.write_tx().await.ctx("recording a decision")?;
        // The finding's row stays locked to commit: two reviewers deciding
        // at once are taken one after the other, the second seeing the
        // first's decision (a conflict, or a revision).
        type Row = (String, Option<String>, Option<i64>, String, String);
        let row: Option<Row> = sqlx::query_as(
            "SELECT f.verdict, f.review_state, f.decision_id, l.platform, l.item_id \
             FROM findings f JOIN listings l ON l.id = f.listing_id WHERE f.listing_id = $1 FOR UPDATE OF f",
        )
        .bind(listing_id)
        .fetch_optional(&mut *tx)
        .await
        .ctx("reading a finding")?;
        let Some((verdict, state, current, platform, item_id)) = row else {
            return Ok(DecideOutcome::NotFound);
        };
        let Some(state) = state.as_deref().and_then(ReviewState::parse) else {
            return Ok(DecideOutcome::Rejected(DecisionError::NotFlagged));
        };
        if let Some(seen) = seen_decision
            && seen != current
        {
            return Ok(DecideOutcome::Rejected(DecisionError::Conflict(
                state.label_zh(),
            )));
        }
        let revised = match allowed(user.role, state, decision) {
            Ok(r) => r,
            Err(e) => return Ok(DecideOutcome::Rejected(e)),
        };
        let details = serde_json::json!({
            "listing_id": listing_id,
            "platform": platform,
            "item_id": item_id,
            "verdict": verdict,
            "action": decision.action.as_str(),
            "measure": decision.measure.map(|m| m.as_str()),
            "reason": decision.reason.map(|r| r.as_str()),
            "note": decision.note,
            "from_state": state.as_str(),
            "revises": if revised { current } else { None },
        });
        let action = if revised {
            "decision.revise"
        } else {
            "decision.make"
        };
        let now = self.now();
        let audit_id = append_audit(
            now,
            &mut tx,
            &user.username,
            action,
            Some(&format!("listing:{listing_id}")),
            &details,
        )
        .await?;
        let note = clean(&decision.note);
        let decision_id: i64 = sqlx::query_scalar(
            "INSERT INTO decisions (listing_id, action, measure, reason, note, verdict, user_id, decided_at, revises, audit_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(listing_id)
        .bind(decision.action.as_str())
        .bind(decision.measure.map(|m| m.as_str()))
        .bind(decision.reason.map(|r| r.as_str()))
        .bind((!decision.note.is_empty()).then_some(note.as_ref()))
        .bind(&verdict)
        .bind(user.id)
        .bind(now)
        .bind(if revised { current } else { None })
        .bind(audit_id)
        .fetch_one(&mut *tx)
        .await
        .ctx("recording a decision")?;
        sqlx::query(
            "UPDATE findings SET review_state = $1, decision_id = $2 WHERE listing_id = $3",
        )
        .bind(decision.action.resulting_state().as_str())
        .bind(decision_id)
        .bind(listing_id)
        .execute(&mut *tx)
        .await
        .ctx("recording a decision")?;
        tx.commit().await.ctx("recording a decision")?;
        Ok(DecideOutcome::Done {
            decision_id,
            revised,
        })
    }

    pub async fn decisions_for(&self, listing_id: i64) -> Result<Vec<DecisionRow>> {
        let rows: Vec<DecisionDbRow> = sqlx::query_as(
            "SELECT d.id, d.action, d.measure, d.reason, d.note, d.verdict, u.username, u.display_name, d.decided_at, \
             d.revises, d.audit_id FROM decisions d JOIN users u ON u.id = d.user_id WHERE d.listing_id = $1 \
             ORDER BY d.id DESC",
        )
        .bind(listing_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading decisions")?;
        Ok(rows
            .into_iter()
            .map(|r| DecisionRow {
                id: r.id,
                action: r.action,
                measure: r.measure,
                reason: r.reason,
                note: r.note,
                verdict: r.verdict,
                username: r.username,
                display_name: r.display_name,
                decided_at: super::stamp(r.decided_at),
                revises: r.revises,
                audit_id: r.audit_id,
            })
            .collect())
    }

    // ---- queue ----------------------------------------------------------

    /// One page of the queue.
    pub async fn queue(&self, filter: &QueueFilter) -> Result<QueuePage> {
        let limit = filter.per_page + 1;
        let (direction, cursor) = match &filter.cursor {
            Some((d, c)) => (*d, Some(c)),
            None => (Direction::After, None),
        };
        let plan = self.search_plan(filter).await?;
        let mut qb = queue_query(filter, cursor.map(|c| (direction, c)), plan);
        // Reading backwards for the previous page, then reversing.
        let forward = direction == Direction::After;
        push_order(&mut qb, filter.sort, forward);
        qb.push(" LIMIT ").push_bind(limit);
        // The count runs beside the page, on another connection.
        let (rows, (total, total_capped)) = tokio::try_join!(
            async {
                let mut tx = self.queue_tx(plan).await?;
                // Unprepared: planned with the values (a search's
                // selectivity decides the plan), as every queue statement.
                let rows = qb
                    .build_query_as::<QueueDbRow>()
                    .persistent(false)
                    .fetch_all(&mut *tx)
                    .await
                    .ctx("reading the queue")?;
                tx.commit().await.ctx("reading the queue")?;
                Ok(rows)
            },
            self.queue_count(filter),
        )?;
        let mut rows: Vec<QueueRow> = rows
            .into_iter()
            .map(|r| r.into_row(filter.sort))
            .collect::<Result<_>>()?;
        let more = rows.len() as i64 > filter.per_page;
        rows.truncate(filter.per_page as usize);
        if !forward {
            rows.reverse();
        }
        let (has_prev, has_next) = match (&filter.cursor, forward) {
            (None, _) => (false, more),
            (Some(_), true) => (true, more),
            (Some(_), false) => (more, true),
        };
        let prev = has_prev
            .then(|| rows.first().map(|r| r.cursor.encode()))
            .flatten();
        let next = has_next
            .then(|| rows.last().map(|r| r.cursor.encode()))
            .flatten();
        Ok(QueuePage {
            rows,
            total,
            total_capped,
            prev,
            next,
        })
    }

    async fn queue_count(&self, filter: &QueueFilter) -> Result<(i64, bool)> {
        let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1");
        // Counting starts from the search's matches whatever their number:
        // up to COUNT_CAP rows are read either way, and the index gives
        // them without testing the rows that do not match.
        push_queue_from_where(&mut qb, filter, None, SearchPlan::FromMatches, false);
        qb.push(" LIMIT ").push_bind(COUNT_CAP + 1).push(") c");
        let n: i64 = qb
            .build_query_scalar()
            .persistent(false)
            .fetch_one(&self.pool)
            .await
            .ctx("counting the queue")?;
        Ok((n.min(COUNT_CAP), n > COUNT_CAP))
    }

    /// How to answer the filter's search: a search matching many queued
    /// findings (a common two-character word matches thousands: `插座`
    /// 12,082 of 430,000) is tested row by row while the queue is read in
    /// its order; a
    /// narrow one starts at its matches and sorts them. The probe reads at
    /// most [`BROAD_SEARCH`] matches from the index (a few ms).
    async fn search_plan(&self, filter: &QueueFilter) -> Result<SearchPlan> {
        let Some(q) = &filter.fts else {
            return Ok(SearchPlan::FromMatches);
        };
        let mut qb: QueryBuilder<Postgres> =
            QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM findings f WHERE ");
        push_search(&mut qb, q, SearchPlan::FromMatches);
        qb.push(" LIMIT ").push_bind(BROAD_SEARCH).push(") c");
        let n: i64 = qb
            .build_query_scalar()
            .persistent(false)
            .fetch_one(&self.pool)
            .await
            .ctx("searching the queue")?;
        Ok(if n >= BROAD_SEARCH {
            SearchPlan::InQueueOrder
        } else {
            SearchPlan::FromMatches
        })
    }

    /// The transaction one queue statement runs in. For a broad search
    /// it tells the planner to read the queue in its order: PostgreSQL
    /// guesses a `LIKE '%…%'` with no index to match a handful of rows, and
    /// would rather scan and sort every queued finding (275 ms at 430,000
    /// flagged) than walk the ordering index and stop at the page's end
    /// (2–5 ms). Scans other than index scans, sorts, parallel workers and
    /// JIT (which the disabled paths' costs would switch on) are off for
    /// this transaction only.
    async fn queue_tx(&self, plan: SearchPlan) -> Result<sqlx::Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await.ctx("reading the queue")?;
        if plan == SearchPlan::InQueueOrder {
            sqlx::raw_sql(
                "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; \
                 SET LOCAL enable_sort = off; SET LOCAL max_parallel_workers_per_gather = 0; \
                 SET LOCAL jit = off",
            )
            .execute(&mut *tx)
            .await
            .ctx("reading the queue")?;
        }
        Ok(tx)
    }

    /// The row after `listing_id` in the queue's order (for "next"), or the
    /// first row when the listing is not in the queue.
    pub async fn queue_next(&self, filter: &QueueFilter, listing_id: i64) -> Result<Option<i64>> {
        let key: Option<(f64, Option<DateTime<Utc>>)> =
            sqlx::query_as("SELECT confidence, queued_at FROM findings WHERE listing_id = $1")
                .bind(listing_id)
                .fetch_optional(&self.pool)
                .await
                .ctx("reading a finding")?;
        let cursor = key.and_then(|(conf, queued)| {
            let key = if filter.sort.by_confidence() {
                Key::Conf(conf)
            } else {
                Key::Time(super::stamp(queued?))
            };
            Some(Cursor {
                key,
                id: listing_id,
            })
        });
        let plan = self.search_plan(filter).await?;
        let mut qb = QueryBuilder::new("SELECT f.listing_id");
        push_queue_from_where(
            &mut qb,
            filter,
            cursor.as_ref().map(|c| (Direction::After, c)),
            plan,
            false,
        );
        push_order(&mut qb, filter.sort, true);
        qb.push(" LIMIT 2");
        let mut tx = self.queue_tx(plan).await?;
        let ids: Vec<i64> = qb
            .build_query_scalar()
            .persistent(false)
            .fetch_all(&mut *tx)
            .await
            .ctx("reading the queue")?;
        tx.commit().await.ctx("reading the queue")?;
        Ok(ids.into_iter().find(|id| *id != listing_id))
    }

    // ---- a finding in detail ----------------------------------------------

    pub async fn finding_detail(&self, listing_id: i64) -> Result<Option<FindingDetail>> {
        let row: Option<DetailRow> = sqlx::query_as(
            "SELECT l.id, l.platform, l.item_id, l.url, l.title, l.brand, l.model, l.params::text AS params, \
             l.description, l.seller, l.shop_url, l.price, l.category, l.state, l.gone_at, l.first_seen_at, \
             l.last_seen_at, l.last_scan_id, l.source, l.page_id, f.verdict AS f_verdict, \
             f.confidence AS f_confidence, f.matched_cert AS f_matched_cert, \
             f.cert_numbers::text AS f_cert_numbers, f.category_code AS f_category_code, f.brand AS f_brand, \
             f.model AS f_model, f.reasons::text AS f_reasons, f.as_of AS f_as_of, f.matched_at AS f_matched_at, \
             f.review_state AS f_review_state, f.queued_at AS f_queued_at, f.decision_id AS f_decision_id, \
             COALESCE(f.priority, 0) AS f_priority, f.priority_note AS f_priority_note \
             FROM listings l LEFT JOIN findings f ON f.listing_id = l.id WHERE l.id = $1",
        )
        .bind(listing_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a listing")?;
        let Some(r) = row else { return Ok(None) };
        let corrupt = |what, e: &dyn std::fmt::Display| StoreError::Corrupt {
            what,
            detail: format!("listing {listing_id}: {e}"),
        };
        let finding = match &r.f_verdict {
            None => None,
            Some(v) => Some(Finding {
                verdict: Verdict::parse(v).ok_or_else(|| corrupt("verdict", v))?,
                confidence: r.f_confidence.unwrap_or_default() as f32,
                matched_cert: r.f_matched_cert.clone(),
                cert_numbers: serde_json::from_str(r.f_cert_numbers.as_deref().unwrap_or(""))
                    .map_err(|e| corrupt("finding numbers", &e))?,
                category_code: r.f_category_code.clone(),
                brand: r.f_brand.clone(),
                model: r.f_model.clone(),
                reasons: serde_json::from_str(r.f_reasons.as_deref().unwrap_or(""))
                    .map_err(|e| corrupt("finding reasons", &e))?,
            }),
        };
        let page = match r.page_id {
            Some(id) => self.page_meta(id).await?,
            None => None,
        };
        Ok(Some(FindingDetail {
            listing: r.listing.into_stored()?,
            state: r.state,
            gone_at: r.gone_at.map(super::stamp),
            first_seen_at: super::stamp(r.first_seen_at),
            last_seen_at: super::stamp(r.last_seen_at),
            last_scan_id: r.last_scan_id,
            source: r.source,
            page,
            finding,
            as_of: r.f_as_of.map(super::day_text),
            matched_at: r.f_matched_at.map(super::stamp),
            review_state: r.f_review_state.as_deref().and_then(ReviewState::parse),
            queued_at: r.f_queued_at.map(super::stamp),
            decision_id: r.f_decision_id,
            priority: r.f_priority,
            priority_note: r.f_priority_note,
        }))
    }

    pub async fn page_meta(&self, page_id: i64) -> Result<Option<PageMeta>> {
        let row: Option<PageRow> = sqlx::query_as(
            "SELECT id, scan_id, platform, item_id, kind, url, final_url, fetched_at, status, headers::text AS headers, \
             encoding, body_len, sha256 FROM pages WHERE id = $1",
        )
        .bind(page_id)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a page")?;
        Ok(row.map(|r| PageMeta {
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
        }))
    }

    pub async fn listing_history(&self, listing_id: i64) -> Result<Vec<HistoryRow>> {
        let rows: Vec<(DateTime<Utc>, String, String)> = sqlx::query_as(
            "SELECT changed_at, source, old_content::text FROM listing_history WHERE listing_id = $1 \
             ORDER BY id DESC LIMIT 50",
        )
        .bind(listing_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading listing history")?;
        Ok(rows
            .into_iter()
            .map(|(changed_at, source, old)| HistoryRow {
                changed_at: super::stamp(changed_at),
                source,
                old_content: serde_json::from_str(&old).unwrap_or(serde_json::Value::String(old)),
            })
            .collect())
    }

    pub async fn verdict_history(&self, listing_id: i64) -> Result<Vec<VerdictChange>> {
        let rows: Vec<(i64, Option<String>, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT run_id, old_verdict, new_verdict, changed_at FROM finding_history WHERE listing_id = $1 \
             ORDER BY id DESC LIMIT 50",
        )
        .bind(listing_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading verdict history")?;
        Ok(rows
            .into_iter()
            .map(
                |(run_id, old_verdict, new_verdict, changed_at)| VerdictChange {
                    run_id,
                    old_verdict,
                    new_verdict,
                    changed_at: super::stamp(changed_at),
                },
            )
            .collect())
    }

    /// The item pages captured for a listing, newest first.
    pub async fn captures(&self, platform: &str, item_id: &str) -> Result<Vec<CaptureRow>> {
        let rows: Vec<(i64, i64, DateTime<Utc>, i64, String, i64)> = sqlx::query_as(
            "SELECT id, scan_id, fetched_at, status, sha256, body_len FROM pages \
             WHERE platform = $1 AND item_id = $2 ORDER BY id DESC LIMIT 50",
        )
        .bind(clean(platform).as_ref())
        .bind(clean(item_id).as_ref())
        .fetch_all(&self.pool)
        .await
        .ctx("reading captures")?;
        Ok(rows
            .into_iter()
            .map(
                |(page_id, scan_id, fetched_at, status, sha256, body_len)| CaptureRow {
                    page_id,
                    scan_id,
                    fetched_at: super::stamp(fetched_at),
                    status,
                    sha256,
                    body_len,
                },
            )
            .collect())
    }

    // ---- dashboard ------------------------------------------------------

    /// The dashboard's figures; `now` dates the backlog ages.
    pub async fn dashboard(&self, now: chrono::DateTime<chrono::Utc>) -> Result<DashboardData> {
        // Ties in the counts are ordered by key (SQLite's stable sort of the
        // grouped rows gives the same).
        let by_verdict: Vec<(String, i64)> = sqlx::query_as(
            "SELECT verdict, COUNT(*) FROM findings GROUP BY verdict ORDER BY 2 DESC, 1",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("counting findings")?;
        let by_platform: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT platform, verdict, COUNT(*) FROM findings \
             WHERE review_state IS NOT NULL AND platform IS NOT NULL GROUP BY platform, verdict \
             ORDER BY platform, 3 DESC, verdict",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("counting findings by platform")?;
        let by_category: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT category_code, COUNT(*) FROM findings WHERE review_state IS NOT NULL GROUP BY category_code \
             ORDER BY 2 DESC, 1 NULLS FIRST",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("counting findings by category")?;
        let by_state: Vec<(String, i64)> = sqlx::query_as(
            "SELECT review_state, COUNT(*) FROM findings WHERE review_state IS NOT NULL GROUP BY review_state \
             ORDER BY review_state",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("counting review states")?;
        // The edges as SQLite compares them: cut to the millisecond.
        let day = |d: i64| super::truncate_ms(now - chrono::Duration::days(d));
        let ages: BacklogRow = sqlx::query_as(
            "SELECT COUNT(*) FILTER (WHERE queued_at >= $1) AS d1, \
             COUNT(*) FILTER (WHERE queued_at < $1 AND queued_at >= $2) AS d3, \
             COUNT(*) FILTER (WHERE queued_at < $2 AND queued_at >= $3) AS d7, \
             COUNT(*) FILTER (WHERE queued_at < $3 AND queued_at >= $4) AS d30, \
             COUNT(*) FILTER (WHERE queued_at < $4) AS older, MIN(queued_at) AS oldest \
             FROM findings WHERE review_state IN ('pending', 'need_info')",
        )
        .bind(day(1))
        .bind(day(3))
        .bind(day(7))
        .bind(day(30))
        .fetch_one(&self.pool)
        .await
        .ctx("measuring the backlog")?;
        let decisions_by_day: Vec<(String, i64)> = sqlx::query_as(
            "SELECT to_char(decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), COUNT(*) FROM decisions \
             WHERE decided_at >= $1 GROUP BY 1 ORDER BY 1",
        )
        .bind(day(30))
        .fetch_all(&self.pool)
        .await
        .ctx("counting decisions")?;
        let scans = self.scan_trends(60).await?;
        let findings = by_verdict.iter().map(|(_, n)| n).sum();
        let flagged = by_verdict
            .iter()
            .filter(|(v, _)| Verdict::parse(v).is_some_and(Verdict::is_flagged))
            .map(|(_, n)| n)
            .sum();
        Ok(DashboardData {
            findings,
            flagged,
            by_verdict,
            by_platform,
            by_category,
            by_state,
            backlog_age: vec![
                ("1天内", ages.d1),
                ("1–3天", ages.d3),
                ("3–7天", ages.d7),
                ("7–30天", ages.d30),
                ("30天以上", ages.older),
            ],
            oldest_pending: ages.oldest.map(super::stamp),
            decisions_by_day,
            scans,
            computed_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
    }

    /// The latest `limit` completed scans with their findings, oldest first.
    pub async fn scan_trends(&self, limit: i64) -> Result<Vec<ScanTrend>> {
        // `findings` is JSON (kept verbatim): its key order is the chart's.
        let rows: Vec<ScanTrendRow> = sqlx::query_as(
            "SELECT id, platform, started_at, listings_new, listings_changed, listings_unchanged, \
             findings::text AS findings FROM scans \
             WHERE state = 'completed' AND findings IS NOT NULL ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("reading scans")?;
        let mut out: Vec<ScanTrend> = rows
            .into_iter()
            .map(|r| {
                let map: serde_json::Map<String, serde_json::Value> = r
                    .findings
                    .as_deref()
                    .and_then(|f| serde_json::from_str(f).ok())
                    .unwrap_or_default();
                let by_verdict: Vec<(String, i64)> = map
                    .into_iter()
                    .map(|(k, v)| (k, v.as_i64().unwrap_or(0)))
                    .collect();
                let flagged = by_verdict
                    .iter()
                    .filter(|(v, _)| Verdict::parse(v).is_some_and(Verdict::is_flagged))
                    .map(|(_, n)| n)
                    .sum();
                ScanTrend {
                    scan_id: r.id,
                    platform: r.platform,
                    started_at: super::stamp(r.started_at),
                    listings: r.listings_new + r.listings_changed + r.listings_unchanged,
                    flagged,
                    by_verdict,
                }
            })
            .collect();
        out.reverse();
        Ok(out)
    }

    /// Platforms, scans and sellers for the queue's filter lists.
    pub async fn platforms(&self) -> Result<Vec<String>> {
        // A loose index scan over (platform, item_id): one index probe per
        // platform. `SELECT DISTINCT` reads every listing (214 ms at a
        // million, on every queue page; this takes under 1 ms).
        sqlx::query_scalar(
            "WITH RECURSIVE p AS ( \
                 (SELECT platform FROM listings ORDER BY platform LIMIT 1) \
                 UNION ALL \
                 SELECT (SELECT l.platform FROM listings l WHERE l.platform > p.platform \
                         ORDER BY l.platform LIMIT 1) \
                 FROM p WHERE p.platform IS NOT NULL) \
             SELECT platform FROM p WHERE platform IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("listing platforms")
    }

    pub async fn recent_scan_ids(&self, limit: i64) -> Result<Vec<(i64, String, String)>> {
        let rows: Vec<(i64, String, DateTime<Utc>)> =
            sqlx::query_as("SELECT id, platform, started_at FROM scans ORDER BY id DESC LIMIT $1")
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .ctx("listing scans")?;
        Ok(rows
            .into_iter()
            .map(|(id, platform, at)| (id, platform, super::stamp(at)))
            .collect())
    }

    // ---- audit log ----------------------------------------------------------

    /// Appends an entry for an action outside the decision flow (an admin
    /// action from the command line, say).
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        details: &serde_json::Value,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await.ctx("writing the audit log")?;
        let id = append_audit(self.now(), &mut tx, actor, action, target, details).await?;
        tx.commit().await.ctx("writing the audit log")?;
        Ok(id)
    }

    /// Entries newest first, before `before_id`, optionally of one target.
    pub async fn audit_page(
        &self,
        before_id: Option<i64>,
        target: Option<&str>,
        limit: i64,
    ) -> Result<AuditPage> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, actor, action, target, details, prev_hash, hash FROM audit_log \
             WHERE id < $1 AND ($2::text IS NULL OR target = $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(clean_opt(target))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await
        .ctx("reading the audit log")?;
        let mut entries: Vec<AuditEntry> = rows.into_iter().map(AuditEntry::from).collect();
        let older = (entries.len() as i64 > limit).then(|| {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.id)
        });
        Ok(AuditPage {
            entries,
            older: older.flatten(),
        })
    }

    /// Checks the whole chain, `batch` entries at a time.
    pub async fn verify_audit(&self, anchor: Option<String>) -> Result<Report> {
        let mut v = Verifier::new(anchor);
        let mut after = i64::MIN;
        loop {
            let rows: Vec<AuditRow> = sqlx::query_as(
                "SELECT id, at, actor, action, target, details, prev_hash, hash FROM audit_log \
                 WHERE id > $1 ORDER BY id LIMIT 5000",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await
            .ctx("reading the audit log")?;
            if rows.is_empty() {
                break;
            }
            for r in rows {
                let e = AuditEntry::from(r);
                after = e.id;
                v.push(&e);
            }
        }
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT last_id, hash FROM audit_head WHERE one = 1")
                .fetch_optional(&self.pool)
                .await
                .ctx("reading the audit head")?;
        Ok(v.finish(head))
    }

    // ---- search index ---------------------------------------------------------

    /// Fills `search_text` for listings stored before the search index existed.
    pub(crate) async fn backfill_search_text(&self) -> Result<u64> {
        let mut after = 0i64;
        let mut done = 0u64;
        loop {
            let rows: Vec<ListingRow> = sqlx::query_as(
                "SELECT id, platform, item_id, url, title, brand, model, params::text AS params, description, \
                 seller, shop_url, price, category \
                 FROM listings WHERE id > $1 AND search_text = '' ORDER BY id LIMIT 2000",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await
            .ctx("reading listings to index")?;
            let Some(last) = rows.last() else { break };
            after = last.id;
            let mut ids = Vec::with_capacity(rows.len());
            let mut texts = Vec::with_capacity(rows.len());
            for r in rows {
                let stored = r.into_stored()?;
                let text = crate::store::listings::listing_search_text(&stored.listing);
                if text.is_empty() {
                    continue;
                }
                ids.push(stored.id);
                texts.push(clean(&text).into_owned());
            }
            if ids.is_empty() {
                continue;
            }
            // One statement per batch; `search_text = ''` again, so that a
            // listing rewritten meanwhile keeps its newer text.
            let n = sqlx::query(
                "UPDATE listings l SET search_text = b.text \
                 FROM UNNEST($1::bigint[], $2::text[]) AS b(id, text) \
                 WHERE l.id = b.id AND l.search_text = ''",
            )
            .bind(&ids)
            .bind(&texts)
            .execute(&self.pool)
            .await
            .ctx("indexing listings")?
            .rows_affected();
            done += n;
        }
        if done > 0 {
            tracing::info!(listings = done, "indexed listings for search");
        }
        Ok(done)
    }

    /// Refreshes the query planner's statistics (cheap; run at start).
    ///
    /// PostgreSQL's autovacuum keeps statistics; as SQLite's `PRAGMA
    /// optimize` does, this analyses only the tables of this schema that
    /// were never analysed (a fresh copy, say).
    pub async fn optimize(&self) -> Result<()> {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables \
             WHERE schemaname = current_schema() AND last_analyze IS NULL AND last_autoanalyze IS NULL \
             ORDER BY relname",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("optimizing")?;
        for t in tables {
            // `t` is quoted by format('%I').
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {t}")))
                .execute(&self.pool)
                .await
                .ctx("optimizing")?;
        }
        Ok(())
    }
}

/// The id of `username`, its row locked to commit.
async fn user_id(tx: &mut PgConnection, username: &str) -> Result<i64> {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1 FOR UPDATE")
        .bind(username)
        .fetch_optional(&mut *tx)
        .await
        .ctx("looking up a user")?
        .ok_or_else(|| StoreError::NotFound {
            what: "user",
            key: username.to_string(),
        })
}

async fn end_sessions(tx: &mut PgConnection, user_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .ctx("ending sessions")?;
    Ok(())
}

const QUEUE_COLS: &str = "SELECT f.listing_id, l.platform, l.item_id, l.title, COALESCE(f.brand, l.brand) AS brand, \
     COALESCE(f.model, l.model) AS model, l.seller, l.price, f.verdict, f.confidence, f.category_code, f.review_state, \
     f.queued_at, f.matched_cert, l.state AS listing_state, f.decision_id";

#[derive(sqlx::FromRow)]
struct QueueDbRow {
    listing_id: i64,
    platform: String,
    item_id: String,
    title: String,
    brand: Option<String>,
    model: Option<String>,
    seller: Option<String>,
    price: Option<String>,
    verdict: String,
    confidence: f64,
    category_code: Option<String>,
    review_state: Option<String>,
    queued_at: Option<DateTime<Utc>>,
    matched_cert: Option<String>,
    listing_state: String,
    decision_id: Option<i64>,
}

impl QueueDbRow {
    fn into_row(self, sort: Sort) -> Result<QueueRow> {
        let id = self.listing_id;
        let corrupt = |what, v: String| StoreError::Corrupt {
            what,
            detail: format!("listing {id}: {v}"),
        };
        let queued_at = self.queued_at.map(super::stamp);
        let key = if sort.by_confidence() {
            Key::Conf(self.confidence)
        } else {
            Key::Time(queued_at.clone().unwrap_or_default())
        };
        Ok(QueueRow {
            listing_id: id,
            verdict: Verdict::parse(&self.verdict)
                .ok_or_else(|| corrupt("verdict", self.verdict.clone()))?,
            review_state: self
                .review_state
                .as_deref()
                .and_then(ReviewState::parse)
                .ok_or_else(|| {
                    corrupt(
                        "review state",
                        self.review_state.clone().unwrap_or_default(),
                    )
                })?,
            platform: self.platform,
            item_id: self.item_id,
            title: self.title,
            brand: self.brand,
            model: self.model,
            seller: self.seller,
            price: self.price,
            confidence: self.confidence,
            category_code: self.category_code,
            queued_at,
            matched_cert: self.matched_cert,
            listing_state: self.listing_state,
            decision_id: self.decision_id,
            cursor: Cursor { key, id },
        })
    }
}

fn queue_query<'a>(
    filter: &'a QueueFilter,
    cursor: Option<(Direction, &'a Cursor)>,
    plan: SearchPlan,
) -> QueryBuilder<Postgres> {
    let mut qb = QueryBuilder::new(QUEUE_COLS);
    push_queue_from_where(&mut qb, filter, cursor, plan, true);
    qb
}

/// Matches at which a search counts as broad (see `search_plan`).
const BROAD_SEARCH: i64 = 2_000;

/// How the search condition is written, and so where the planner starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchPlan {
    /// The expression of the trigram index `findings_search`: the planner
    /// starts at the matches.
    FromMatches,
    /// The same test in an expression no index answers (one more empty
    /// string appended), in a transaction that leaves the planner only
    /// index scans and no sort (`queue_tx`): it reads the queue in its
    /// order through the ordering indexes and tests each row, stopping at
    /// the page's end.
    InQueueOrder,
}

/// The search conditions on `f.search_text` (a copy of the listing's,
/// kept on queued findings by migration 007), ANDed.
fn push_search(qb: &mut QueryBuilder<Postgres>, fts: &str, plan: SearchPlan) {
    // Written exactly `(' ' || f.search_text || ' ')`, with the partial
    // index's predicate, when the index is to be used.
    let expr = match plan {
        SearchPlan::FromMatches => "(' ' || f.search_text || ' ')",
        SearchPlan::InQueueOrder => "(' ' || f.search_text || ' ' || '')",
    };
    qb.push("f.search_text IS NOT NULL");
    for pattern in search_patterns(fts) {
        qb.push(" AND ")
            .push(expr)
            .push(" LIKE ")
            .push_bind(clean(&pattern).into_owned());
    }
}

/// A `LIKE` pattern matching `s` literally.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The `LIKE` patterns, all of which must match `(' ' || search_text || ' ')`,
/// of the FTS5 query [`crate::text::search::fts_query`] makes (quoted
/// pieces joined by `AND`, a piece holding no `"`), per
/// migrations/postgres/README.md ("Search"):
/// - a run of n ≥ 2 Chinese characters, its pairs: `% p1 p2 … %` (pairs are
///   whole words in the stored text; the spaces give pg_trgm trigrams even
///   for two characters, and make it the same phrase FTS5 searches);
/// - one Chinese character: `%c%` (also at the end of a pair: a superset);
/// - Latin letters and digits: each word as a substring `%word%` (FTS5: a
///   token, or a token prefix for the last word; a superset).
pub(crate) fn search_patterns(fts: &str) -> Vec<String> {
    use crate::text::normalize::is_cjk;
    let mut out = Vec::new();
    for (i, piece) in fts.split('"').enumerate() {
        // Odd pieces are inside quotes.
        if i % 2 == 0 || piece.trim().is_empty() {
            continue;
        }
        let cjk = piece.chars().any(is_cjk);
        if cjk && piece.chars().count() == 1 {
            out.push(format!("%{}%", like_escape(piece)));
        } else if cjk {
            let words: Vec<&str> = piece.split_whitespace().collect();
            out.push(format!("% {} %", like_escape(&words.join(" "))));
        } else {
            for word in piece.split_whitespace() {
                out.push(format!("%{}%", like_escape(word)));
            }
        }
    }
    out
}

/// `FROM ... WHERE ...` of the queue. Every value is a bound parameter.
/// `listing_cols`: the statement selects columns of `l` (the listing).
fn push_queue_from_where<'a>(
    qb: &mut QueryBuilder<Postgres>,
    filter: &'a QueueFilter,
    cursor: Option<(Direction, &'a Cursor)>,
    plan: SearchPlan,
    listing_cols: bool,
) {
    // Listings are joined for their columns or their filters only: every
    // finding has its listing (foreign key), so the count is the same, and
    // a count of 10,000 rows does not look up 10,000 listings.
    if listing_cols || filter.seller.is_some() || filter.scan_id.is_some() {
        qb.push(" FROM findings f JOIN listings l ON l.id = f.listing_id WHERE ");
    } else {
        qb.push(" FROM findings f WHERE ");
    }
    match filter.state {
        StateFilter::One(s) => {
            qb.push("f.review_state = ").push_bind(s.as_str());
        }
        StateFilter::All => {
            qb.push("f.review_state IS NOT NULL");
        }
    }
    if let Some(p) = &filter.platform {
        qb.push(" AND f.platform = ")
            .push_bind(clean(p).into_owned());
    }
    if !filter.categories.is_empty() {
        let codes: Vec<String> = filter
            .categories
            .iter()
            .map(|c| clean(c).into_owned())
            .collect();
        qb.push(" AND f.category_code = ANY(")
            .push_bind(codes)
            .push(")");
    }
    if let Some(v) = filter.verdict {
        qb.push(" AND f.verdict = ").push_bind(v.as_str());
    }
    if let Some(c) = filter.min_conf {
        qb.push(" AND f.confidence >= ").push_bind(c);
    }
    if let Some(c) = filter.max_conf {
        qb.push(" AND f.confidence <= ").push_bind(c);
    }
    if let Some(s) = filter.scan_id {
        qb.push(" AND l.last_scan_id = ").push_bind(s);
    }
    if let Some(s) = &filter.seller {
        qb.push(" AND l.seller = ").push_bind(clean(s).into_owned());
    }
    if let Some(q) = &filter.fts {
        qb.push(" AND ");
        push_search(qb, q, plan);
    }
    if let Some((direction, c)) = cursor {
        // Rows strictly beyond the cursor in the direction of reading.
        let later = filter.sort.descending() == (direction == Direction::After);
        let op = if later { " < " } else { " > " };
        match &c.key {
            Key::Conf(v) => {
                qb.push(" AND (f.confidence, f.listing_id)")
                    .push(op)
                    .push("(")
                    .push_bind(*v);
            }
            Key::Time(t) => match super::instant(t, "queue cursor")
                .ok()
                .filter(|at| super::stamp(*at) == *t)
            {
                // A stamp as the queue prints them: compared as an instant
                // (the index's order, and the same order as the text).
                Some(at) => {
                    qb.push(" AND (f.queued_at, f.listing_id)")
                        .push(op)
                        .push("(")
                        .push_bind(at);
                }
                // Any other text (typed into the URL): compared as text, as
                // SQLite compares it with its stamps.
                None => {
                    qb.push(
                        " AND (to_char(f.queued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') \
                         COLLATE \"C\", f.listing_id)",
                    )
                    .push(op)
                    .push("(")
                    .push_bind(t.clone());
                }
            },
        }
        qb.push(", ").push_bind(c.id).push(")");
    }
}

/// The queue's order. `queued_at` is never NULL in the queue (it is set with
/// `review_state`), so PostgreSQL's NULL placement (unlike SQLite's) never
/// shows and the index order is kept.
fn push_order(qb: &mut QueryBuilder<Postgres>, sort: Sort, forward: bool) {
    let desc = sort.descending() == forward;
    let dir = if desc { " DESC" } else { " ASC" };
    let col = if sort.by_confidence() {
        "f.confidence"
    } else {
        "f.queued_at"
    };
    qb.push(" ORDER BY ")
        .push(col)
        .push(dir)
        .push(", f.listing_id")
        .push(dir);
}
