//! SQLite statements for `store::review`: what the front in `../review.rs` dispatches to.

use super::SqliteStore;
use crate::domain::Role;
use crate::domain::audit::{self, AuditEntry, Report, Verifier};
use crate::domain::decision::{Decision, DecisionError, ReviewState};
use crate::domain::queue::{Cursor, Direction, Key, QueueFilter, Sort, StateFilter};
use crate::domain::{Finding, Verdict};
use crate::store::listings::ListingRow;
use crate::store::review::*;
use crate::store::{Ctx, PageMeta, Result, StoreError, StoredListing};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

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
    created_at: String,
    last_login_at: Option<String>,
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
            created_at: self.created_at,
            last_login_at: self.last_login_at,
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

/// Appends an audit entry inside `tx` (which must hold the write lock) and
/// moves the head. Returns the entry's id.
pub(crate) async fn append_audit(
    at: chrono::DateTime<chrono::Utc>,
    tx: &mut SqliteConnection,
    actor: &str,
    action: &str,
    target: Option<&str>,
    details: &serde_json::Value,
) -> Result<i64> {
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
    let details = details.to_string();
    let hash = audit::entry_hash(id, &at, actor, action, target, &details, &prev);
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor, action, target, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(&at)
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(&details)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *tx)
    .await
    .ctx("writing the audit log")?;
    sqlx::query(
        "INSERT INTO audit_head (one, last_id, hash) VALUES (1, ?, ?) \
         ON CONFLICT(one) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash",
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
    decided_at: String,
    revises: Option<i64>,
    audit_id: i64,
}

#[derive(sqlx::FromRow)]
struct DecideRow {
    verdict: String,
    review_state: Option<String>,
    decision_id: Option<i64>,
    platform: String,
    item_id: String,
}

#[derive(sqlx::FromRow)]
struct DetailRow {
    #[sqlx(flatten)]
    listing: ListingRow,
    state: String,
    gone_at: Option<String>,
    first_seen_at: String,
    last_seen_at: String,
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
    f_as_of: Option<String>,
    f_matched_at: Option<String>,
    f_review_state: Option<String>,
    f_queued_at: Option<String>,
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
    fetched_at: String,
    status: i64,
    headers: String,
    encoding: Option<String>,
    body_len: i64,
    sha256: String,
}

#[derive(sqlx::FromRow)]
struct HistoryDbRow {
    changed_at: String,
    source: String,
    old_content: String,
}

#[derive(sqlx::FromRow)]
struct VerdictChangeRow {
    run_id: i64,
    old_verdict: Option<String>,
    new_verdict: String,
    changed_at: String,
}

#[derive(sqlx::FromRow)]
struct CaptureDbRow {
    id: i64,
    scan_id: i64,
    fetched_at: String,
    status: i64,
    sha256: String,
    body_len: i64,
}

#[derive(sqlx::FromRow)]
struct PlatformCount {
    platform: String,
    verdict: String,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct BacklogRow {
    d1: i64,
    d3: i64,
    d7: i64,
    d30: i64,
    older: i64,
    oldest: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ScanTrendRow {
    id: i64,
    platform: String,
    started_at: String,
    listings_new: i64,
    listings_changed: i64,
    listings_unchanged: i64,
    findings: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RecentScan {
    id: i64,
    platform: String,
    started_at: String,
}

impl SqliteStore {
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
        let mut tx = self.write_tx().await.ctx("adding a user")?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = ?")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await
            .ctx("looking up a user")?;
        if exists.is_some() {
            return Err(StoreError::Exists {
                what: "user",
                key: username.to_string(),
            });
        }
        let now = self.now_rfc3339();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, role, password_hash, created_at, password_changed_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(username)
        .bind(display_name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(&now)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .ctx("adding a user")?;
        append_audit(
            self.now(),
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
        let rows: Vec<UserRow> = sqlx::query_as(user_select!(" FROM users u ORDER BY u.username"))
            .fetch_all(&self.pool)
            .await
            .ctx("listing users")?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<(User, String)>> {
        let row: Option<UserWithHash> = sqlx::query_as(user_select!(
            ", u.password_hash FROM users u WHERE u.username = ?"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .ctx("looking up a user")?;
        row.map(|r| Ok((r.user.into_user()?, r.password_hash)))
            .transpose()
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(user_select!(" FROM users u WHERE u.id = ?"))
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
        let mut tx = self.write_tx().await.ctx("changing a password")?;
        let id = user_id(&mut tx, username).await?;
        sqlx::query(
            "UPDATE users SET password_hash = ?, password_changed_at = ?, failed_logins = 0, locked_until = NULL WHERE id = ?",
        )
        .bind(password_hash)
        .bind(self.now_rfc3339())
        .bind(id)
        .execute(&mut *tx)
        .await
        .ctx("changing a password")?;
        end_sessions(&mut tx, id).await?;
        append_audit(
            self.now(),
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
        let mut tx = self.write_tx().await.ctx("disabling a user")?;
        let id = user_id(&mut tx, username).await?;
        sqlx::query(
            "UPDATE users SET disabled = ?, failed_logins = 0, locked_until = NULL WHERE id = ?",
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
        let mut tx = self.write_tx().await.ctx("changing a role")?;
        let id = user_id(&mut tx, username).await?;
        let old: String = sqlx::query_scalar("SELECT role FROM users WHERE id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .ctx("changing a role")?;
        sqlx::query("UPDATE users SET role = ? WHERE id = ?")
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
        let (failures, username): (i64, String) = sqlx::query_as(
            "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins, username",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await
        .ctx("counting a failed login")?;
        let lock = lockout(failures);
        if lock > 0 {
            sqlx::query("UPDATE users SET locked_until = ? WHERE id = ?")
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
        let mut tx = self.write_tx().await.ctx("starting a session")?;
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = ? WHERE id = ?")
            .bind(self.now_rfc3339())
            .bind(user.id)
            .execute(&mut *tx)
            .await
            .ctx("recording a login")?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(user.id)
        .bind(csrf_token)
        .bind(now)
        .bind(now)
        .bind(now + lifetime_secs)
        .bind(ip)
        .bind(user_agent.map(|u| u.chars().take(200).collect::<String>()))
        .execute(&mut *tx)
        .await
        .ctx("starting a session")?;
        sqlx::query("DELETE FROM sessions WHERE expires_at < ?")
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
        let row: Option<SessionRow> = sqlx::query_as(user_select!(
            ", s.csrf_token, s.expires_at, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = ?"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a session")?;
        let Some(r) = row else { return Ok(None) };
        let user = r.user.into_user()?;
        let (csrf_token, expires_at, last_seen) = (r.csrf_token, r.expires_at, r.last_seen_at);
        if user.disabled || expires_at <= now || last_seen + idle_secs <= now {
            return Ok(None);
        }
        // Touch at most once a minute: every page view would otherwise write.
        if now - last_seen >= 60 {
            sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?")
                .bind(now)
                .bind(token_hash)
                .execute(&self.pool)
                .await
                .ctx("touching a session")?;
        }
        Ok(Some(SessionInfo {
            user,
            csrf_token,
            expires_at,
        }))
    }

    pub async fn end_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
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
        let mut tx = self.write_tx().await.ctx("adding an API token")?;
        let uid = user_id(&mut tx, username).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(uid)
        .bind(name)
        .bind(token_hash)
        .bind(self.now_rfc3339())
        .fetch_one(&mut *tx)
        .await
        .ctx("adding an API token")?;
        append_audit(
            self.now(),
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
             WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.disabled = 0"
        ))
        .bind(token_hash)
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
        let row: Option<DecideRow> = sqlx::query_as(
            "SELECT f.verdict, f.review_state, f.decision_id, l.platform, l.item_id \
             FROM findings f JOIN listings l ON l.id = f.listing_id WHERE f.listing_id = ?",
        )
        .bind(listing_id)
        .fetch_optional(&mut *tx)
        .await
        .ctx("reading a finding")?;
        let Some(DecideRow {
            verdict,
            review_state: state,
            decision_id: current,
            platform,
            item_id,
        }) = row
        else {
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
        let audit_id = append_audit(
            self.now(),
            &mut tx,
            &user.username,
            action,
            Some(&format!("listing:{listing_id}")),
            &details,
        )
        .await?;
        let decision_id: i64 = sqlx::query_scalar(
            "INSERT INTO decisions (listing_id, action, measure, reason, note, verdict, user_id, decided_at, revises, audit_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(listing_id)
        .bind(decision.action.as_str())
        .bind(decision.measure.map(|m| m.as_str()))
        .bind(decision.reason.map(|r| r.as_str()))
        .bind((!decision.note.is_empty()).then_some(&decision.note))
        .bind(&verdict)
        .bind(user.id)
        .bind(self.now_rfc3339())
        .bind(if revised { current } else { None })
        .bind(audit_id)
        .fetch_one(&mut *tx)
        .await
        .ctx("recording a decision")?;
        sqlx::query("UPDATE findings SET review_state = ?, decision_id = ? WHERE listing_id = ?")
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
             d.revises, d.audit_id FROM decisions d JOIN users u ON u.id = d.user_id WHERE d.listing_id = ? ORDER BY d.id DESC",
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
                decided_at: r.decided_at,
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
        let broad = self.broad_search(filter).await?;
        let mut qb = queue_query(filter, cursor.map(|c| (direction, c)), broad);
        // Reading backwards for the previous page, then reversing.
        let forward = direction == Direction::After;
        push_order(&mut qb, filter.sort, forward);
        qb.push(" LIMIT ").push_bind(limit);
        // The count runs beside the page, on another connection.
        let (rows, (total, total_capped)) = tokio::try_join!(
            async {
                qb.build_query_as::<QueueDbRow>()
                    .fetch_all(&self.pool)
                    .await
                    .ctx("reading the queue")
            },
            self.queue_count(filter, broad),
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

    /// Whether the search matches so many listings that reading the queue
    /// in order and testing each row beats starting from the matches.
    async fn broad_search(&self, filter: &QueueFilter) -> Result<bool> {
        let Some(q) = &filter.fts else {
            return Ok(false);
        };
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT rowid FROM listing_fts WHERE listing_fts MATCH ? LIMIT 2000)",
        )
        .bind(q)
        .fetch_one(&self.pool)
        .await
        .ctx("searching listings")?;
        Ok(n >= 2000)
    }

    async fn queue_count(&self, filter: &QueueFilter, broad: bool) -> Result<(i64, bool)> {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new("SELECT COUNT(*) FROM (");
        push_queue_from_where(&mut qb, filter, None, true, broad);
        qb.push(" LIMIT ").push_bind(COUNT_CAP + 1).push(")");
        let n: i64 = qb
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .ctx("counting the queue")?;
        Ok((n.min(COUNT_CAP), n > COUNT_CAP))
    }

    /// The row after `listing_id` in the queue's order (for "next"), or the
    /// first row when the listing is not in the queue.
    pub async fn queue_next(&self, filter: &QueueFilter, listing_id: i64) -> Result<Option<i64>> {
        let key: Option<(f64, Option<String>)> =
            sqlx::query_as("SELECT confidence, queued_at FROM findings WHERE listing_id = ?")
                .bind(listing_id)
                .fetch_optional(&self.pool)
                .await
                .ctx("reading a finding")?;
        let cursor = key.and_then(|(conf, queued)| {
            let key = if filter.sort.by_confidence() {
                Key::Conf(conf)
            } else {
                Key::Time(queued?)
            };
            Some(Cursor {
                key,
                id: listing_id,
            })
        });
        let broad = self.broad_search(filter).await?;
        let mut qb = QueryBuilder::new("SELECT f.listing_id");
        push_queue_from_where(
            &mut qb,
            filter,
            cursor.as_ref().map(|c| (Direction::After, c)),
            false,
            broad,
        );
        push_order(&mut qb, filter.sort, true);
        qb.push(" LIMIT 2");
        let ids: Vec<i64> = qb
            .build_query_scalar()
            .fetch_all(&self.pool)
            .await
            .ctx("reading the queue")?;
        Ok(ids.into_iter().find(|id| *id != listing_id))
    }

    // ---- a finding in detail ----------------------------------------------

    pub async fn finding_detail(&self, listing_id: i64) -> Result<Option<FindingDetail>> {
        let row: Option<DetailRow> = sqlx::query_as(
            "SELECT l.id, l.platform, l.item_id, l.url, l.title, l.brand, l.model, l.params, l.description, l.seller, \
             l.shop_url, l.price, l.category, l.state, l.gone_at, l.first_seen_at, l.last_seen_at, l.last_scan_id, \
             l.source, l.page_id, f.verdict AS f_verdict, f.confidence AS f_confidence, \
             f.matched_cert AS f_matched_cert, f.cert_numbers AS f_cert_numbers, f.category_code AS f_category_code, \
             f.brand AS f_brand, f.model AS f_model, f.reasons AS f_reasons, f.as_of AS f_as_of, \
             f.matched_at AS f_matched_at, f.review_state AS f_review_state, f.queued_at AS f_queued_at, \
             f.decision_id AS f_decision_id, COALESCE(f.priority, 0) AS f_priority, f.priority_note AS f_priority_note \
             FROM listings l LEFT JOIN findings f ON f.listing_id = l.id WHERE l.id = ?",
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
            gone_at: r.gone_at,
            first_seen_at: r.first_seen_at,
            last_seen_at: r.last_seen_at,
            last_scan_id: r.last_scan_id,
            source: r.source,
            page,
            finding,
            as_of: r.f_as_of,
            matched_at: r.f_matched_at,
            review_state: r.f_review_state.as_deref().and_then(ReviewState::parse),
            queued_at: r.f_queued_at,
            decision_id: r.f_decision_id,
            priority: r.f_priority,
            priority_note: r.f_priority_note,
        }))
    }

    pub async fn page_meta(&self, page_id: i64) -> Result<Option<PageMeta>> {
        let row: Option<PageRow> = sqlx::query_as(
            "SELECT id, scan_id, platform, item_id, kind, url, final_url, fetched_at, status, headers, encoding, body_len, sha256 \
             FROM pages WHERE id = ?",
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
            fetched_at: r.fetched_at,
            status: r.status,
            headers: serde_json::from_str(&r.headers).unwrap_or_default(),
            encoding: r.encoding,
            body_len: r.body_len,
            sha256: r.sha256,
        }))
    }

    pub async fn listing_history(&self, listing_id: i64) -> Result<Vec<HistoryRow>> {
        let rows: Vec<HistoryDbRow> = sqlx::query_as(
            "SELECT changed_at, source, old_content FROM listing_history WHERE listing_id = ? ORDER BY id DESC LIMIT 50",
        )
        .bind(listing_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading listing history")?;
        Ok(rows
            .into_iter()
            .map(|r| HistoryRow {
                changed_at: r.changed_at,
                source: r.source,
                old_content: serde_json::from_str(&r.old_content)
                    .unwrap_or(serde_json::Value::String(r.old_content)),
            })
            .collect())
    }

    pub async fn verdict_history(&self, listing_id: i64) -> Result<Vec<VerdictChange>> {
        let rows: Vec<VerdictChangeRow> = sqlx::query_as(
            "SELECT run_id, old_verdict, new_verdict, changed_at FROM finding_history WHERE listing_id = ? ORDER BY id DESC LIMIT 50",
        )
        .bind(listing_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading verdict history")?;
        Ok(rows
            .into_iter()
            .map(|r| VerdictChange {
                run_id: r.run_id,
                old_verdict: r.old_verdict,
                new_verdict: r.new_verdict,
                changed_at: r.changed_at,
            })
            .collect())
    }

    /// The item pages captured for a listing, newest first.
    pub async fn captures(&self, platform: &str, item_id: &str) -> Result<Vec<CaptureRow>> {
        let rows: Vec<CaptureDbRow> = sqlx::query_as(
            "SELECT id, scan_id, fetched_at, status, sha256, body_len FROM pages \
             WHERE platform = ? AND item_id = ? ORDER BY id DESC LIMIT 50",
        )
        .bind(platform)
        .bind(item_id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading captures")?;
        Ok(rows
            .into_iter()
            .map(|r| CaptureRow {
                page_id: r.id,
                scan_id: r.scan_id,
                fetched_at: r.fetched_at,
                status: r.status,
                sha256: r.sha256,
                body_len: r.body_len,
            })
            .collect())
    }

    // ---- dashboard ------------------------------------------------------

    /// The dashboard's figures; `now` dates the backlog ages.
    pub async fn dashboard(&self, now: chrono::DateTime<chrono::Utc>) -> Result<DashboardData> {
        let by_verdict: Vec<(String, i64)> = sqlx::query_as(
            "SELECT verdict, COUNT(*) FROM findings GROUP BY verdict ORDER BY 2 DESC",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("counting findings")?;
        let by_platform: Vec<PlatformCount> = sqlx::query_as(
            "SELECT platform, verdict, COUNT(*) AS n FROM findings \
             WHERE review_state IS NOT NULL AND platform IS NOT NULL GROUP BY platform, verdict ORDER BY platform, 3 DESC",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("counting findings by platform")?;
        let by_platform: Vec<(String, String, i64)> = by_platform
            .into_iter()
            .map(|r| (r.platform, r.verdict, r.n))
            .collect();
        let by_category: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT category_code, COUNT(*) FROM findings WHERE review_state IS NOT NULL GROUP BY category_code ORDER BY 2 DESC",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("counting findings by category")?;
        let by_state: Vec<(String, i64)> = sqlx::query_as(
            "SELECT review_state, COUNT(*) FROM findings WHERE review_state IS NOT NULL GROUP BY review_state",
        )
        .fetch_all(&self.pool)
        .await
        .ctx("counting review states")?;
        let day = |d: i64| {
            (now - chrono::Duration::days(d)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        let edges = [day(1), day(3), day(7), day(30)];
        let ages: BacklogRow = sqlx::query_as(
            "SELECT COALESCE(SUM(queued_at >= ?1), 0) AS d1, COALESCE(SUM(queued_at < ?1 AND queued_at >= ?2), 0) AS d3, \
             COALESCE(SUM(queued_at < ?2 AND queued_at >= ?3), 0) AS d7, \
             COALESCE(SUM(queued_at < ?3 AND queued_at >= ?4), 0) AS d30, \
             COALESCE(SUM(queued_at < ?4), 0) AS older, MIN(queued_at) AS oldest \
             FROM findings WHERE review_state IN ('pending', 'need_info')",
        )
        .bind(&edges[0])
        .bind(&edges[1])
        .bind(&edges[2])
        .bind(&edges[3])
        .fetch_one(&self.pool)
        .await
        .ctx("measuring the backlog")?;
        let decisions_by_day: Vec<(String, i64)> = sqlx::query_as(
            "SELECT substr(decided_at, 1, 10), COUNT(*) FROM decisions WHERE decided_at >= ? GROUP BY 1 ORDER BY 1",
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
            oldest_pending: ages.oldest,
            decisions_by_day,
            scans,
            computed_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
    }

    /// The latest `limit` completed scans with their findings, oldest first.
    pub async fn scan_trends(&self, limit: i64) -> Result<Vec<ScanTrend>> {
        let rows: Vec<ScanTrendRow> = sqlx::query_as(
            "SELECT id, platform, started_at, listings_new, listings_changed, listings_unchanged, findings FROM scans \
             WHERE state = 'completed' AND findings IS NOT NULL ORDER BY id DESC LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("reading scans")?;
        let mut out: Vec<ScanTrend> = rows
            .into_iter()
            .map(
                |ScanTrendRow {
                     id: scan_id,
                     platform,
                     started_at,
                     listings_new: new,
                     listings_changed: changed,
                     listings_unchanged: unchanged,
                     findings,
                 }| {
                    let map: serde_json::Map<String, serde_json::Value> = findings
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
                        scan_id,
                        platform,
                        started_at,
                        listings: new + changed + unchanged,
                        flagged,
                        by_verdict,
                    }
                },
            )
            .collect();
        out.reverse();
        Ok(out)
    }

    /// Platforms, scans and sellers for the queue's filter lists.
    pub async fn platforms(&self) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT DISTINCT platform FROM listings ORDER BY platform")
            .fetch_all(&self.pool)
            .await
            .ctx("listing platforms")
    }

    pub async fn recent_scan_ids(&self, limit: i64) -> Result<Vec<(i64, String, String)>> {
        let rows: Vec<RecentScan> =
            sqlx::query_as("SELECT id, platform, started_at FROM scans ORDER BY id DESC LIMIT ?")
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .ctx("listing scans")?;
        Ok(rows
            .into_iter()
            .map(|r| (r.id, r.platform, r.started_at))
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
             WHERE id < ? AND (? IS NULL OR target = ?) ORDER BY id DESC LIMIT ?",
        )
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(target)
        .bind(target)
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
                "SELECT id, at, actor, action, target, details, prev_hash, hash FROM audit_log WHERE id > ? ORDER BY id LIMIT 5000",
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
                "SELECT id, platform, item_id, url, title, brand, model, params, description, seller, shop_url, price, category \
                 FROM listings WHERE id > ? AND search_text = '' ORDER BY id LIMIT 2000",
            )
            .bind(after)
            .fetch_all(&self.pool)
            .await
            .ctx("reading listings to index")?;
            if rows.is_empty() {
                break;
            }
            let listings: Vec<StoredListing> = rows
                .into_iter()
                .map(ListingRow::into_stored)
                .collect::<Result<_>>()?;
            let mut tx = self.write_tx().await.ctx("indexing listings")?;
            for l in &listings {
                after = l.id;
                let text = crate::store::listings::listing_search_text(&l.listing);
                if text.is_empty() {
                    continue;
                }
                sqlx::query("UPDATE listings SET search_text = ? WHERE id = ?")
                    .bind(text)
                    .bind(l.id)
                    .execute(&mut *tx)
                    .await
                    .ctx("indexing listings")?;
                done += 1;
            }
            tx.commit().await.ctx("indexing listings")?;
        }
        if done > 0 {
            tracing::info!(listings = done, "indexed listings for search");
        }
        Ok(done)
    }

    /// Refreshes the query planner's statistics (cheap; run at start).
    pub async fn optimize(&self) -> Result<()> {
        sqlx::query("PRAGMA analysis_limit = 1000")
            .execute(&self.pool)
            .await
            .ctx("optimizing")?;
        sqlx::query("PRAGMA optimize = 0x10002")
            .execute(&self.pool)
            .await
            .ctx("optimizing")?;
        Ok(())
    }
}

async fn user_id(tx: &mut SqliteConnection, username: &str) -> Result<i64> {
    sqlx::query_scalar("SELECT id FROM users WHERE username = ?")
        .bind(username)
        .fetch_optional(&mut *tx)
        .await
        .ctx("looking up a user")?
        .ok_or_else(|| StoreError::NotFound {
            what: "user",
            key: username.to_string(),
        })
}

async fn end_sessions(tx: &mut SqliteConnection, user_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = ?")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .ctx("ending sessions")?;
    Ok(())
}

const QUEUE_COLS: &str = "SELECT f.listing_id, l.platform, l.item_id, l.title, COALESCE(f.brand, l.brand) AS brand, \
     COALESCE(f.model, l.model) AS model, l.seller, l.price, f.verdict, f.confidence, f.category_code, f.review_state, \
     f.queued_at, f.matched_cert, l.state AS listing_state, f.decision_id";

fn queue_query<'a>(
    filter: &'a QueueFilter,
    cursor: Option<(Direction, &'a Cursor)>,
    broad: bool,
) -> QueryBuilder<Sqlite> {
    let mut qb = QueryBuilder::new(QUEUE_COLS);
    push_queue_from_where(&mut qb, filter, cursor, false, broad);
    qb
}

/// `FROM ... WHERE ...` of the queue. Every value is a bound parameter.
fn push_queue_from_where<'a>(
    qb: &mut QueryBuilder<Sqlite>,
    filter: &'a QueueFilter,
    cursor: Option<(Direction, &'a Cursor)>,
    select_one: bool,
    broad: bool,
) {
    if select_one {
        qb.push("SELECT 1");
    }
    qb.push(" FROM findings f JOIN listings l ON l.id = f.listing_id WHERE ");
    match filter.state {
        StateFilter::One(s) => {
            qb.push("f.review_state = ").push_bind(s.as_str());
        }
        StateFilter::All => {
            qb.push("f.review_state IS NOT NULL");
        }
    }
    if let Some(p) = &filter.platform {
        qb.push(" AND f.platform = ").push_bind(p);
    }
    if !filter.categories.is_empty() {
        qb.push(" AND f.category_code IN (");
        let mut sep = qb.separated(", ");
        for c in &filter.categories {
            sep.push_bind(c);
        }
        qb.push(")");
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
        qb.push(" AND l.seller = ").push_bind(s);
    }
    if let Some(q) = &filter.fts {
        // A search matching many listings is checked row by row while the
        // queue is read in order (`+` keeps SQLite from starting at the
        // matches and sorting them all); a narrow one starts at its matches.
        qb.push(if broad {
            " AND +f.listing_id IN"
        } else {
            " AND f.listing_id IN"
        })
        .push(" (SELECT rowid FROM listing_fts WHERE listing_fts MATCH ")
        .push_bind(q.clone())
        .push(")");
    }
    if let Some((direction, c)) = cursor {
        // Rows strictly beyond the cursor in the direction of reading.
        let later = filter.sort.descending() == (direction == Direction::After);
        let op = if later { " < " } else { " > " };
        let (col, key) = if filter.sort.by_confidence() {
            ("f.confidence", &c.key)
        } else {
            ("f.queued_at", &c.key)
        };
        qb.push(" AND (")
            .push(col)
            .push(", f.listing_id)")
            .push(op)
            .push("(");
        match key {
            Key::Conf(v) => qb.push_bind(*v),
            Key::Time(t) => qb.push_bind(t.as_str()),
        };
        qb.push(", ").push_bind(c.id).push(")");
    }
}

fn push_order(qb: &mut QueryBuilder<Sqlite>, sort: Sort, forward: bool) {
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
    queued_at: Option<String>,
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
        let key = if sort.by_confidence() {
            Key::Conf(self.confidence)
        } else {
            Key::Time(self.queued_at.clone().unwrap_or_default())
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
            queued_at: self.queued_at,
            matched_cert: self.matched_cert,
            listing_state: self.listing_state,
            decision_id: self.decision_id,
            cursor: Cursor { key, id },
        })
    }
}
