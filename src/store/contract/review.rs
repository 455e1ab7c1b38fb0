//! The storage contract for `store::review`, run against each backend.
//!
//! Listings, findings, scans and pages belong to other areas: they are
//! seeded with SQL both backends accept (explicit ids, text stamps).

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use crate::domain::Role;
#[allow(unused_imports)]
use crate::domain::decision::{
    Action, Decision, DecisionError, DismissReason, Measure, ReviewState,
};
#[allow(unused_imports)]
use crate::domain::queue::QueueFilter;
#[allow(unused_imports)]
use crate::store::StoreError;
#[allow(unused_imports)]
use crate::store::review::{DecideOutcome, User};

// Two review rules these tests hold the store to. `decide` applies the rule
// it is handed inside its transaction: the decision tests check that it
// applies the real one (who may decide, who may revise) to the state it
// read there. The queue tests build their filters with the workspace's
// parser (its defaults, `q` turned into the search query), so the store is
// tested on the filters it really gets.
#[allow(unused_imports)]
use crate::review::decision::check_allowed;
#[allow(unused_imports)]
use crate::review::queue::QueueParams;

/// A text literal for SQL (quotes doubled).
#[allow(dead_code)]
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[allow(dead_code)]
fn opt(s: Option<&str>) -> String {
    s.map_or_else(|| "NULL".to_string(), lit)
}

/// The one match run findings point at.
#[allow(dead_code)]
const MATCH_RUN: &str = "INSERT INTO match_runs (id, started_at, as_of, listings) \
     VALUES (1, '2026-06-30T07:00:00.000Z', '2026-06-30', 0)";

/// A listing, its search text written as the listings area writes it.
#[allow(dead_code)]
struct L<'a> {
    id: i64,
    platform: &'a str,
    title: &'a str,
    brand: Option<&'a str>,
    model: Option<&'a str>,
    seller: Option<&'a str>,
    scan: Option<i64>,
}

#[allow(dead_code)]
impl L<'_> {
    fn sql(&self) -> String {
        let listing = crate::domain::Listing {
            platform: self.platform.to_string(),
            item_id: format!("item{}", self.id),
            url: Some(format!("https://example.com/{}", self.id)),
            title: self.title.to_string(),
            brand: self.brand.map(str::to_string),
            model: self.model.map(str::to_string),
            params: vec![],
            description: None,
            seller: self.seller.map(str::to_string),
            shop_url: None,
            price: Some("¥99.00".into()),
            category: None,
        };
        let text = crate::store::listings::listing_search_text(&listing);
        format!(
            "INSERT INTO listings (id, platform, item_id, url, title, brand, model, params, description, seller, \
             shop_url, price, category, content_hash, source, first_seen_at, last_seen_at, updated_at, state, \
             last_scan_id, search_text) VALUES ({id}, {platform}, {item}, {url}, {title}, {brand}, {model}, '[]', NULL, \
             {seller}, NULL, '¥99.00', NULL, 'h{id}', 'scan:1', '2026-06-30T07:00:00.000Z', '2026-06-30T07:30:00.000Z', \
             '2026-06-30T07:30:00.000Z', 'online', {scan}, {text})",
            id = self.id,
            platform = lit(self.platform),
            item = lit(&listing.item_id),
            url = opt(listing.url.as_deref()),
            title = lit(self.title),
            brand = opt(self.brand),
            model = opt(self.model),
            seller = opt(self.seller),
            scan = self.scan.map_or("NULL".into(), |s| s.to_string()),
            text = lit(&text),
        )
    }
}

/// A finding of listing `id` (its platform copied as the findings area does).
#[allow(dead_code)]
fn finding_sql(
    id: i64,
    platform: &str,
    verdict: &str,
    conf: f64,
    state: Option<&str>,
    queued_at: Option<&str>,
    category: Option<&str>,
) -> String {
    format!(
        "INSERT INTO findings (listing_id, verdict, confidence, matched_cert, cert_numbers, category_code, brand, model, \
         reasons, as_of, run_id, matched_at, review_state, queued_at, platform, priority) VALUES \
         ({id}, {verdict}, {conf}, NULL, '[]', {category}, NULL, NULL, '[]', '2026-06-30', 1, \
         '2026-06-30T07:45:00.000Z', {state}, {queued}, {platform}, 0)",
        verdict = lit(verdict),
        category = opt(category),
        state = opt(state),
        queued = opt(queued_at),
        platform = lit(platform),
    )
}

#[allow(dead_code)]
fn params(f: impl FnOnce(&mut QueueParams)) -> QueueFilter {
    let mut p = QueueParams::default();
    f(&mut p);
    p.parse(|_| None).expect("a valid filter")
}

#[allow(dead_code)]
fn ids(page: &crate::store::review::QueuePage) -> Vec<i64> {
    page.rows.iter().map(|r| r.listing_id).collect()
}

#[allow(dead_code)]
fn decision(action: Action, reason: Option<DismissReason>, note: &str) -> Decision {
    Decision {
        action,
        measure: (action == Action::Confirm).then_some(Measure::TakeDown),
        reason,
        note: note.to_string(),
    }
}

contract!(
    an_empty_database_has_no_users_queue_or_audit,
    |db, clock| {
        assert!(db.users().await.unwrap().is_empty());
        assert!(db.user(1).await.unwrap().is_none());
        assert!(db.user_by_name("nobody").await.unwrap().is_none());
        assert!(db.api_token_user("x").await.unwrap().is_none());
        assert!(db.session("x", 1000, 600).await.unwrap().is_none());
        db.end_session("x").await.unwrap();
        let page = db.queue(&params(|_| {})).await.unwrap();
        assert!(page.rows.is_empty());
        assert_eq!((page.total, page.total_capped), (0, false));
        assert_eq!((page.prev, page.next), (None, None));
        assert_eq!(db.queue_next(&params(|_| {}), 1).await.unwrap(), None);
        assert!(db.finding_detail(1).await.unwrap().is_none());
        assert!(db.page_meta(1).await.unwrap().is_none());
        assert!(db.listing_history(1).await.unwrap().is_empty());
        assert!(db.verdict_history(1).await.unwrap().is_empty());
        assert!(db.captures("jd", "1").await.unwrap().is_empty());
        assert!(db.decisions_for(1).await.unwrap().is_empty());
        assert!(db.platforms().await.unwrap().is_empty());
        assert!(db.recent_scan_ids(10).await.unwrap().is_empty());
        assert!(db.scan_trends(10).await.unwrap().is_empty());
        let page = db.audit_page(None, None, 10).await.unwrap();
        assert!(page.entries.is_empty() && page.older.is_none());
        let report = db.verify_audit(None).await.unwrap();
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!((report.entries, report.last_id), (0, None));
        let dash = db.dashboard(clock.now()).await.unwrap();
        assert_eq!((dash.findings, dash.flagged), (0, 0));
        assert!(dash.by_verdict.is_empty() && dash.by_state.is_empty() && dash.scans.is_empty());
        assert_eq!(dash.backlog_age.iter().map(|(_, n)| n).sum::<i64>(), 0);
        assert_eq!(dash.oldest_pending, None);
        assert_eq!(dash.computed_at, "2026-06-30T08:00:00Z");
        assert_eq!(db.backfill_search_text().await.unwrap(), 0);
        db.optimize().await.unwrap();
    }
);

contract!(
    users_are_added_listed_and_found_ignoring_case,
    |db, clock| {
        let id = db
            .add_user("alice", "Alice 王", Role::Reviewer, "$argon2id$a", "cli")
            .await
            .unwrap();
        clock.advance(chrono::Duration::milliseconds(1234));
        let hostile = "O'Brien \"<script>alert(1)</script>\" 100%_ 审核员";
        let bob = db
            .add_user("Bob", hostile, Role::Admin, "$argon2id$b", "alice")
            .await
            .unwrap();
        assert!(bob > id);
        // Names differing only in (ASCII) case are the same user.
        for name in ["ALICE", "bob"] {
            let err = db
                .add_user(name, "x", Role::Viewer, "h", "cli")
                .await
                .unwrap_err();
            assert!(
                matches!(&err, StoreError::Exists { what: "user", key } if key == name),
                "{err:?}"
            );
        }
        let users = db.users().await.unwrap();
        assert_eq!(
            users
                .iter()
                .map(|u| u.username.as_str())
                .collect::<Vec<_>>(),
            ["alice", "Bob"],
            "ordered ignoring case"
        );
        let a = &users[0];
        assert_eq!(a.id, id);
        assert_eq!(a.display_name, "Alice 王");
        assert_eq!(a.role, Role::Reviewer);
        assert!(!a.disabled);
        assert_eq!(a.failed_logins, 0);
        assert_eq!(a.locked_until, None);
        assert_eq!(a.created_at, "2026-06-30T08:00:00.000Z");
        assert_eq!(a.last_login_at, None);
        assert_eq!(users[1].created_at, "2026-06-30T08:00:01.234Z");
        assert_eq!(users[1].display_name, hostile);
        let (u, hash) = db.user_by_name("BOB").await.unwrap().unwrap();
        assert_eq!(
            (u.id, u.username.as_str(), hash.as_str()),
            (bob, "Bob", "$argon2id$b")
        );
        assert_eq!(db.user(bob).await.unwrap().unwrap().role, Role::Admin);
        assert!(db.user(bob + 100).await.unwrap().is_none());
        // Each add is audited, under the actor's name.
        let page = db.audit_page(None, None, 10).await.unwrap();
        assert_eq!(page.entries.len(), 2);
        assert_eq!(page.entries[0].actor, "alice");
        assert_eq!(page.entries[0].action, "user.add");
        assert_eq!(page.entries[0].target.as_deref(), Some("user:Bob"));
        let details: serde_json::Value = serde_json::from_str(&page.entries[0].details).unwrap();
        assert_eq!(details["display_name"], hostile);
        // A name with U+0000 never fails; the stored text keeps the rest.
        let nul = db
            .add_user("carol", "Ca\0rol", Role::Viewer, "h", "cli")
            .await
            .unwrap();
        let carol = db.user(nul).await.unwrap().unwrap();
        assert_eq!(carol.display_name.replace('\0', ""), "Carol");
    }
);

contract!(
    password_role_and_disabling_end_sessions_and_are_audited,
    |db, clock| {
        for name in ["nobody"] {
            for err in [
                db.set_password(name, "h", "cli").await.unwrap_err(),
                db.set_disabled(name, true, "cli").await.unwrap_err(),
                db.set_role(name, Role::Admin, "cli").await.unwrap_err(),
            ] {
                assert!(
                    matches!(&err, StoreError::NotFound { what: "user", key } if key == name),
                    "{err:?}"
                );
            }
        }
        let err = db
            .add_api_token("nobody", "t", "h", "cli")
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound { what: "user", .. }),
            "{err:?}"
        );
        let id = db
            .add_user("dave", "Dave", Role::Reviewer, "old", "cli")
            .await
            .unwrap();
        let dave = db.user(id).await.unwrap().unwrap();
        db.create_session(&dave, "s1", "c", 1000, 3600, None, None)
            .await
            .unwrap();
        assert!(db.session("s1", 1001, 600).await.unwrap().is_some());
        // A lockout is lifted by a new password.
        assert_eq!(db.login_failed(id, 1002, |_| 900).await.unwrap(), 1);
        clock.advance(chrono::Duration::seconds(5));
        db.set_password("DAVE", "new", "admin").await.unwrap();
        let (u, hash) = db.user_by_name("dave").await.unwrap().unwrap();
        assert_eq!(hash, "new");
        assert_eq!((u.failed_logins, u.locked_until), (0, None));
        assert!(
            db.session("s1", 1003, 600).await.unwrap().is_none(),
            "sessions end"
        );
        // A role change ends sessions too, and records the old role.
        db.create_session(&u, "s2", "c", 1010, 3600, None, None)
            .await
            .unwrap();
        db.set_role("dave", Role::Supervisor, "admin")
            .await
            .unwrap();
        assert_eq!(db.user(id).await.unwrap().unwrap().role, Role::Supervisor);
        assert!(db.session("s2", 1011, 600).await.unwrap().is_none());
        let entry = &db.audit_page(None, None, 1).await.unwrap().entries[0];
        assert_eq!(entry.action, "user.role");
        assert_eq!(entry.details, r#"{"from":"reviewer","to":"supervisor"}"#);
        // Disabling ends sessions and hides the user behind tokens.
        let u = db.user(id).await.unwrap().unwrap();
        db.create_session(&u, "s3", "c", 1020, 3600, None, None)
            .await
            .unwrap();
        let tok = db.add_api_token("dave", "ci", "th", "admin").await.unwrap();
        assert_eq!(db.api_token_user("th").await.unwrap().unwrap().id, id);
        db.login_failed(id, 1021, |_| 0).await.unwrap();
        db.set_disabled("dave", true, "admin").await.unwrap();
        let u = db.user(id).await.unwrap().unwrap();
        assert!(u.disabled);
        assert_eq!(u.failed_logins, 0);
        assert!(db.session("s3", 1021, 600).await.unwrap().is_none());
        assert!(db.api_token_user("th").await.unwrap().is_none());
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM sessions").await, 0);
        db.set_disabled("dave", false, "admin").await.unwrap();
        assert!(!db.user(id).await.unwrap().unwrap().disabled);
        assert_eq!(db.api_token_user("th").await.unwrap().unwrap().id, id);
        let actions: Vec<String> = db
            .audit_page(None, Some("user:dave"), 20)
            .await
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(
            actions,
            [
                "user.enable",
                "user.disable",
                "token.add",
                "auth.login",
                "user.role",
                "auth.login",
                "auth.locked",
                "auth.login",
                "user.add"
            ],
            "the password change names the user as given (user:DAVE)"
        );
        let add = db.audit_page(None, Some("user:dave"), 20).await.unwrap();
        let token_entry = add
            .entries
            .iter()
            .find(|e| e.action == "token.add")
            .unwrap();
        assert_eq!(
            token_entry.details,
            format!(r#"{{"token_id":{tok},"name":"ci"}}"#)
        );
        assert_eq!(token_entry.at, "2026-06-30T08:00:05.000Z");
    }
);

contract!(
    failed_logins_lock_and_sessions_live_idle_and_expire,
    |db, clock| {
        let id = db
            .add_user("erin", "Erin", Role::Reviewer, "h", "cli")
            .await
            .unwrap();
        let lockout = |n: i64| if n >= 3 { 900 } else { 0 };
        assert_eq!(db.login_failed(id, 1000, lockout).await.unwrap(), 1);
        assert_eq!(db.login_failed(id, 1001, lockout).await.unwrap(), 2);
        assert_eq!(db.user(id).await.unwrap().unwrap().locked_until, None);
        assert_eq!(db.login_failed(id, 1002, lockout).await.unwrap(), 3);
        let u = db.user(id).await.unwrap().unwrap();
        assert_eq!((u.failed_logins, u.locked_until), (3, Some(1902)));
        let e = &db.audit_page(None, None, 1).await.unwrap().entries[0];
        assert_eq!(
            (e.actor.as_str(), e.action.as_str()),
            ("system", "auth.locked")
        );
        assert_eq!(e.details, r#"{"failures":3,"seconds":900}"#);
        // A failure for no such user is an error on both.
        assert!(db.login_failed(id + 99, 1003, lockout).await.is_err());

        // A login clears the failures and starts a session.
        clock.advance(chrono::Duration::milliseconds(42));
        let agent: String = "浏览器".repeat(100);
        db.create_session(
            &u,
            "tok1",
            "csrf1",
            2000,
            3600,
            Some("10.0.0.1"),
            Some(&agent),
        )
        .await
        .unwrap();
        let u = db.user(id).await.unwrap().unwrap();
        assert_eq!((u.failed_logins, u.locked_until), (0, None));
        assert_eq!(u.last_login_at.as_deref(), Some("2026-06-30T08:00:00.042Z"));
        assert_eq!(
            db.scalar_i64("SELECT CAST(length(user_agent) AS BIGINT) FROM sessions")
                .await,
            200,
            "the user agent is cut to 200 characters"
        );
        let e = &db.audit_page(None, None, 1).await.unwrap().entries[0];
        assert_eq!(
            (e.actor.as_str(), e.action.as_str()),
            ("erin", "auth.login")
        );
        assert_eq!(e.details, r#"{"ip":"10.0.0.1"}"#);
        assert_eq!(e.at, "2026-06-30T08:00:00.042Z");
        // Duplicate token: refused on both.
        assert!(
            db.create_session(&u, "tok1", "c", 2001, 3600, None, None)
                .await
                .is_err()
        );

        let s = db.session("tok1", 2030, 600).await.unwrap().unwrap();
        assert_eq!(
            (s.user.id, s.csrf_token.as_str(), s.expires_at),
            (id, "csrf1", 5600)
        );
        // Touched at most once a minute.
        assert_eq!(
            db.scalar_i64("SELECT last_seen_at FROM sessions").await,
            2000
        );
        db.session("tok1", 2060, 600).await.unwrap().unwrap();
        assert_eq!(
            db.scalar_i64("SELECT last_seen_at FROM sessions").await,
            2060
        );
        // Idle: last seen + idle reached.
        assert!(db.session("tok1", 2660, 600).await.unwrap().is_none());
        assert!(db.session("tok1", 2659, 600).await.unwrap().is_some());
        // Absolute expiry.
        assert!(db.session("tok1", 5600, 100_000).await.unwrap().is_none());
        assert!(db.session("unknown", 2100, 600).await.unwrap().is_none());
        // A new login removes expired sessions.
        db.create_session(&u, "tok2", "csrf2", 6000, 3600, None, None)
            .await
            .unwrap();
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM sessions").await, 1);
        db.end_session("tok2").await.unwrap();
        assert!(db.session("tok2", 6001, 600).await.unwrap().is_none());
        // Hostile tokens never fail.
        assert!(db.session("a\0'%_", 6001, 600).await.unwrap().is_none());
        db.end_session("a\0b").await.unwrap();
    }
);

contract!(
    api_tokens_name_their_enabled_user_until_revoked,
    |db, _clock| {
        let id = db
            .add_user("bot", "Bot", Role::Viewer, "h", "cli")
            .await
            .unwrap();
        let t1 = db
            .add_api_token("BOT", "报表 <x>", "hash1", "admin")
            .await
            .unwrap();
        let t2 = db
            .add_api_token("bot", "second", "hash2", "admin")
            .await
            .unwrap();
        assert!(t2 > t1);
        assert_eq!(db.api_token_user("hash1").await.unwrap().unwrap().id, id);
        assert!(db.api_token_user("HASH1").await.unwrap().is_none());
        assert!(
            db.add_api_token("bot", "dup", "hash1", "admin")
                .await
                .is_err()
        );
        db.exec_sql("UPDATE api_tokens SET revoked_at = '2026-06-30T09:00:00.000Z' WHERE token_hash = 'hash1'")
        .await;
        assert!(db.api_token_user("hash1").await.unwrap().is_none());
        assert_eq!(
            db.api_token_user("hash2").await.unwrap().unwrap().username,
            "bot"
        );
        let e = &db.audit_page(None, None, 1).await.unwrap().entries[0];
        assert_eq!(e.details, format!(r#"{{"token_id":{t2},"name":"second"}}"#));
        assert_eq!(e.target.as_deref(), Some("user:bot"));
    }
);

contract!(
    decisions_follow_the_rules_and_revise_with_history,
    |db, clock| {
        db.exec_sql(MATCH_RUN).await;
        let l = L {
            id: 7,
            platform: "jd",
            title: "美的电热水壶",
            brand: Some("美的"),
            model: Some("MK-1"),
            seller: Some("美的旗舰店"),
            scan: None,
        };
        db.exec_sql(&l.sql()).await;
        db.exec_sql(&finding_sql(
            7,
            "jd",
            "uncertified",
            0.875,
            Some("pending"),
            Some("2026-06-30T07:50:00.000Z"),
            Some("0701"),
        ))
        .await;
        db.exec_sql(
            &L {
                id: 8,
                title: "合规商品",
                ..l
            }
            .sql(),
        )
        .await;
        db.exec_sql(&finding_sql(8, "jd", "compliant", 0.99, None, None, None))
            .await;
        let rid = db
            .add_user("rev", "审核员", Role::Reviewer, "h", "cli")
            .await
            .unwrap();
        let sid = db
            .add_user("sup", "负责人", Role::Supervisor, "h", "cli")
            .await
            .unwrap();
        let vid = db
            .add_user("view", "Viewer", Role::Viewer, "h", "cli")
            .await
            .unwrap();
        let rev = db.user(rid).await.unwrap().unwrap();
        let sup = db.user(sid).await.unwrap().unwrap();
        let view = db.user(vid).await.unwrap().unwrap();
        let confirm = decision(Action::Confirm, None, "");
        assert!(matches!(
            db.decide(99, &rev, &confirm, None, &check_allowed)
                .await
                .unwrap(),
            DecideOutcome::NotFound
        ));
        assert!(matches!(
            db.decide(8, &rev, &confirm, None, &check_allowed)
                .await
                .unwrap(),
            DecideOutcome::Rejected(DecisionError::NotFlagged)
        ));
        assert!(matches!(
            db.decide(7, &view, &confirm, None, &check_allowed)
                .await
                .unwrap(),
            DecideOutcome::Rejected(DecisionError::NotAllowed)
        ));
        assert!(matches!(
            db.decide(7, &rev, &confirm, Some(Some(5)), &check_allowed)
                .await
                .unwrap(),
            DecideOutcome::Rejected(DecisionError::Conflict(_))
        ));
        let audits_before = db.scalar_i64("SELECT COUNT(*) FROM audit_log").await;
        clock.advance(chrono::Duration::milliseconds(7));
        let first = match db
            .decide(7, &rev, &confirm, Some(None), &check_allowed)
            .await
            .unwrap()
        {
            DecideOutcome::Done {
                decision_id,
                revised,
            } => {
                assert!(!revised);
                decision_id
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM audit_log").await,
            audits_before + 1
        );
        let d = db.finding_detail(7).await.unwrap().unwrap();
        assert_eq!(d.review_state, Some(ReviewState::Confirmed));
        assert_eq!(d.decision_id, Some(first));
        // Decided: a reviewer may not revise; a stale view conflicts.
        assert!(matches!(
            db.decide(7, &rev, &confirm, Some(Some(first)), &check_allowed)
                .await
                .unwrap(),
            DecideOutcome::Rejected(DecisionError::RevisionNeedsSupervisor)
        ));
        assert!(matches!(
            db.decide(7, &sup, &confirm, Some(None), &check_allowed)
                .await
                .unwrap(),
            DecideOutcome::Rejected(DecisionError::Conflict(_))
        ));
        let note = "误判：证书有效 'quoted' 100%_ <b>\0x";
        let dismiss = decision(Action::Dismiss, Some(DismissReason::CertValid), note);
        clock.advance(chrono::Duration::days(1));
        let second = match db
            .decide(7, &sup, &dismiss, Some(Some(first)), &check_allowed)
            .await
            .unwrap()
        {
            DecideOutcome::Done {
                decision_id,
                revised,
            } => {
                assert!(revised);
                decision_id
            }
            other => panic!("{other:?}"),
        };
        let rows = db.decisions_for(7).await.unwrap();
        assert_eq!(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            [second, first]
        );
        let (r2, r1) = (&rows[0], &rows[1]);
        assert_eq!(r1.action, "confirm");
        assert_eq!(r1.measure.as_deref(), Some("take_down"));
        assert_eq!((r1.reason.as_deref(), r1.note.as_deref()), (None, None));
        assert_eq!(r1.verdict, "uncertified");
        assert_eq!(
            (r1.username.as_str(), r1.display_name.as_str()),
            ("rev", "审核员")
        );
        assert_eq!(r1.decided_at, "2026-06-30T08:00:00.007Z");
        assert_eq!(r1.revises, None);
        assert_eq!(r2.action, "dismiss");
        assert_eq!(r2.reason.as_deref(), Some("cert_valid"));
        assert_eq!(
            r2.note.as_deref().map(|n| n.replace('\0', "")),
            Some(note.replace('\0', ""))
        );
        assert_eq!(r2.revises, Some(first));
        assert_eq!(r2.decided_at, "2026-07-01T08:00:00.007Z");
        let entry = db.audit_page(None, Some("listing:7"), 10).await.unwrap();
        assert_eq!(entry.entries.len(), 2);
        assert_eq!(entry.entries[0].id, r2.audit_id);
        assert_eq!(entry.entries[0].action, "decision.revise");
        assert_eq!(entry.entries[1].action, "decision.make");
        let details: serde_json::Value = serde_json::from_str(&entry.entries[0].details).unwrap();
        assert_eq!(
            details["note"], note,
            "the audit keeps the note as typed (JSON-escaped)"
        );
        assert_eq!(details["revises"], first);
        assert_eq!(details["from_state"], "confirmed");
        assert_eq!(
            entry.entries[1].details,
            r#"{"listing_id":7,"platform":"jd","item_id":"item7","verdict":"uncertified","action":"confirm","measure":"take_down","reason":null,"note":"","from_state":"pending","revises":null}"#
        );
        assert_eq!(
            db.finding_detail(7).await.unwrap().unwrap().review_state,
            Some(ReviewState::Dismissed)
        );
        // Bulk decisions skip the seen check.
        let info = decision(Action::NeedInfo, None, "请补充铭牌照片");
        assert!(matches!(
            db.decide(7, &sup, &info, None, &check_allowed)
                .await
                .unwrap(),
            DecideOutcome::Done { revised: true, .. }
        ));
        assert_eq!(db.decisions_for(7).await.unwrap().len(), 3);
        assert!(db.verify_audit(None).await.unwrap().ok());
    }
);

contract!(
    a_decision_is_judged_by_the_rule_it_is_given,
    |db, _clock| {
        db.exec_sql(MATCH_RUN).await;
        let l = L {
            id: 7,
            platform: "jd",
            title: "美的电热水壶",
            brand: Some("美的"),
            model: Some("MK-1"),
            seller: Some("美的旗舰店"),
            scan: None,
        };
        db.exec_sql(&l.sql()).await;
        db.exec_sql(&finding_sql(
            7,
            "jd",
            "uncertified",
            0.875,
            Some("need_info"),
            Some("2026-06-30T07:50:00.000Z"),
            None,
        ))
        .await;
        let id = db
            .add_user("view", "Viewer", Role::Viewer, "h", "cli")
            .await
            .unwrap();
        let viewer = db.user(id).await.unwrap().unwrap();
        let confirm = decision(Action::Confirm, None, "");
        let audits = db.scalar_i64("SELECT COUNT(*) FROM audit_log").await;
        // The rule sees the role and the state read in the transaction; its
        // refusal is the outcome, and nothing is written.
        let seen = std::sync::Mutex::new(Vec::new());
        let refuse =
            |role: Role, state: ReviewState, _: &Decision| -> Result<bool, DecisionError> {
                seen.lock().unwrap().push((role, state));
                Err(DecisionError::NoteRequiredForRevision)
            };
        assert!(matches!(
            db.decide(7, &viewer, &confirm, None, &refuse)
                .await
                .unwrap(),
            DecideOutcome::Rejected(DecisionError::NoteRequiredForRevision)
        ));
        assert_eq!(
            *seen.lock().unwrap(),
            [(Role::Viewer, ReviewState::NeedInfo)]
        );
        assert!(db.decisions_for(7).await.unwrap().is_empty());
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM audit_log").await,
            audits
        );
        // A conflict is found before the rule is asked.
        assert!(matches!(
            db.decide(7, &viewer, &confirm, Some(Some(1)), &refuse)
                .await
                .unwrap(),
            DecideOutcome::Rejected(DecisionError::Conflict(_))
        ));
        assert_eq!(seen.lock().unwrap().len(), 1);
        // The store holds no rule of its own: one that allows anyone lets a
        // viewer decide, and `Ok(true)` makes it a revision.
        let anyone =
            |_: Role, _: ReviewState, _: &Decision| -> Result<bool, DecisionError> { Ok(true) };
        assert!(matches!(
            db.decide(7, &viewer, &confirm, Some(None), &anyone)
                .await
                .unwrap(),
            DecideOutcome::Done { revised: true, .. }
        ));
        let audit = db.audit_page(None, Some("listing:7"), 10).await.unwrap();
        assert_eq!(audit.entries.len(), 1);
        assert_eq!(audit.entries[0].action, "decision.revise");
        assert_eq!(
            db.finding_detail(7).await.unwrap().unwrap().review_state,
            Some(ReviewState::Confirmed)
        );
    }
);

/// The head of the chain [`audit_chain_hashes_are_the_same_on_both_backends`]
/// leaves: the same actions at the same instants give the same entries, byte
/// for byte, and so the same hashes on every backend.
const CHAIN_HEAD: &str = "d1772c3141b6b3a1536fff8cccb91e34710cdd0d60fe78af34b96a1bd551492e";

contract!(
    audit_chain_hashes_are_the_same_on_both_backends,
    |db, clock| {
        db.exec_sql(MATCH_RUN).await;
        db.exec_sql(
            &L {
                id: 3,
                platform: "taobao",
                title: "公牛插座",
                brand: None,
                model: None,
                seller: None,
                scan: None,
            }
            .sql(),
        )
        .await;
        db.exec_sql(&finding_sql(
            3,
            "taobao",
            "expired",
            0.5,
            Some("pending"),
            Some("2026-06-30T07:50:00.000Z"),
            None,
        ))
        .await;
        let id = db
            .add_user("admin", "管理员", Role::Admin, "h", "cli")
            .await
            .unwrap();
        clock.advance(chrono::Duration::milliseconds(1));
        db.set_role("admin", Role::Supervisor, "cli").await.unwrap();
        clock.advance(chrono::Duration::milliseconds(1));
        db.set_password("admin", "h2", "cli").await.unwrap();
        clock.advance(chrono::Duration::seconds(1));
        let first = db
            .audit(
                "cli",
                "config.reload",
                None,
                &serde_json::json!({"z": 1, "a": [1, 2], "中文": "值\u{0}\"'", "n": null}),
            )
            .await
            .unwrap();
        assert_eq!(first, 4);
        let u = db.user(id).await.unwrap().unwrap();
        clock.advance(chrono::Duration::minutes(1));
        db.decide(
            3,
            &u,
            &decision(Action::Confirm, None, ""),
            Some(None),
            &check_allowed,
        )
        .await
        .unwrap();
        db.set_disabled("admin", true, "cli").await.unwrap();
        let report = db.verify_audit(None).await.unwrap();
        assert!(report.ok(), "{:?}", report.problems);
        assert_eq!((report.entries, report.last_id), (6, Some(6)));
        // Recomputed from the stored text: the chain links and each hash holds.
        let entries = db.audit_page(None, None, 100).await.unwrap().entries;
        let mut prev = crate::domain::audit::GENESIS.to_string();
        for e in entries.iter().rev() {
            assert_eq!(e.prev_hash, prev);
            assert_eq!(e.hash, e.computed_hash());
            prev = e.hash.clone();
        }
        let config = entries.iter().find(|e| e.id == 4).unwrap();
        assert_eq!(config.at, "2026-06-30T08:00:01.002Z");
        assert_eq!(
            config.details, r#"{"z":1,"a":[1,2],"中文":"值\u0000\"'","n":null}"#,
            "details keep their key order and escapes"
        );
        assert_eq!(config.target, None);
        assert_eq!(
            report.last_hash.as_deref(),
            Some(CHAIN_HEAD),
            "{entries:#?}"
        );
        // The anchor (a hash recorded elsewhere) must be found in the chain.
        let anchored = db
            .verify_audit(Some(entries[2].hash.clone()))
            .await
            .unwrap();
        assert!(anchored.ok(), "{:?}", anchored.problems);
        let missing = db.verify_audit(Some("f".repeat(64))).await.unwrap();
        assert!(!missing.ok());
    }
);

contract!(
    audit_pages_go_back_by_id_and_filter_by_target,
    |db, _clock| {
        for i in 1..=5 {
            let target = if i % 2 == 0 { "even" } else { "odd" };
            let id = db
                .audit("cli", "test", Some(target), &serde_json::json!({"i": i}))
                .await
                .unwrap();
            assert_eq!(id, i);
        }
        let page = db.audit_page(None, None, 2).await.unwrap();
        assert_eq!(
            page.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
            [5, 4]
        );
        assert_eq!(page.older, Some(4));
        let page = db.audit_page(page.older, None, 2).await.unwrap();
        assert_eq!(
            page.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
            [3, 2]
        );
        let page = db.audit_page(Some(2), None, 2).await.unwrap();
        assert_eq!(page.entries.iter().map(|e| e.id).collect::<Vec<_>>(), [1]);
        assert_eq!(page.older, None);
        let odd = db.audit_page(None, Some("odd"), 10).await.unwrap();
        assert_eq!(
            odd.entries.iter().map(|e| e.id).collect::<Vec<_>>(),
            [5, 3, 1]
        );
        assert!(
            db.audit_page(None, Some("o%"), 10)
                .await
                .unwrap()
                .entries
                .is_empty()
        );
        assert!(
            db.audit_page(None, Some("x\0"), 10)
                .await
                .unwrap()
                .entries
                .is_empty()
        );
        assert_eq!(odd.entries[0].details, r#"{"i":5}"#);
    }
);

contract!(concurrent_appends_keep_one_chain, |db, _clock| {
    // Many appenders at once on the pool's connections: each takes the
    // next id from the head, none twice, and the chain verifies.
    let appends = (0..24).map(|i| async move {
        let actor = format!("worker{}", i % 4);
        db.audit(
            &actor,
            "test.concurrent",
            Some("chain"),
            &serde_json::json!({"i": i}),
        )
        .await
    });
    let mut ids: Vec<i64> = futures_util::future::try_join_all(appends).await.unwrap();
    ids.sort();
    assert_eq!(ids, (1..=24).collect::<Vec<i64>>());
    let report = db.verify_audit(None).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!((report.entries, report.last_id), (24, Some(24)));
});

/// Six listings with findings, five of them in the queue.
#[allow(dead_code)]
fn queue_seed() -> Vec<String> {
    let listings = [
        L {
            id: 1,
            platform: "jd",
            title: "美的电热水壶 家用",
            brand: Some("美的"),
            model: Some("MK-HJ1705"),
            seller: Some("美的官方旗舰店"),
            scan: Some(1),
        },
        L {
            id: 2,
            platform: "jd",
            title: "苏泊尔电饭煲 4L",
            brand: Some("苏泊尔"),
            model: Some("SF40FC"),
            seller: Some("苏泊尔专卖店"),
            scan: Some(1),
        },
        L {
            id: 3,
            platform: "taobao",
            title: "公牛插座 五孔",
            brand: Some("公牛"),
            model: Some("GN-H3050"),
            seller: Some("公牛官方旗舰店"),
            scan: Some(2),
        },
        L {
            id: 4,
            platform: "jd",
            title: "小米电热水壶2",
            brand: Some("小米"),
            model: None,
            seller: Some("小米之家"),
            scan: Some(1),
        },
        L {
            id: 5,
            platform: "jd",
            title: "合规的电热水壶",
            brand: None,
            model: None,
            seller: None,
            scan: Some(1),
        },
        L {
            id: 6,
            platform: "jd",
            title: "100%_纯铜 <script>alert('x')</script> 插头",
            brand: None,
            model: Some("K8/39-6"),
            seller: Some("it's 店%_"),
            scan: Some(1),
        },
    ];
    let mut out = vec![MATCH_RUN.to_string()];
    out.extend(listings.iter().map(L::sql));
    out.push(finding_sql(
        1,
        "jd",
        "uncertified",
        0.9,
        Some("pending"),
        Some("2026-06-30T07:00:00.000Z"),
        Some("0701"),
    ));
    out.push(finding_sql(
        2,
        "jd",
        "cert_not_found",
        0.9,
        Some("pending"),
        Some("2026-06-29T07:00:00.000Z"),
        Some("0702"),
    ));
    out.push(finding_sql(
        3,
        "taobao",
        "expired",
        0.5,
        Some("pending"),
        Some("2026-06-20T07:00:00.000Z"),
        Some("0703"),
    ));
    out.push(finding_sql(
        4,
        "jd",
        "uncertified",
        0.7,
        Some("need_info"),
        Some("2026-05-01T07:00:00.000Z"),
        Some("0701"),
    ));
    out.push(finding_sql(5, "jd", "compliant", 0.95, None, None, None));
    out.push(finding_sql(
        6,
        "jd",
        "uncertified",
        0.3,
        Some("confirmed"),
        Some("2026-06-30T07:59:59.999Z"),
        None,
    ));
    out
}

contract!(the_queue_filters_sorts_and_pages_both_ways, |db, _clock| {
    for sql in queue_seed() {
        db.exec_sql(&sql).await;
    }
    // Pending only by default, most certain first, ties by id descending.
    let page = db.queue(&params(|_| {})).await.unwrap();
    assert_eq!(ids(&page), [2, 1, 3]);
    assert_eq!((page.total, page.total_capped), (3, false));
    let all = |p: &mut QueueParams| p.state = Some("all".into());
    let page = db.queue(&params(all)).await.unwrap();
    assert_eq!(ids(&page), [2, 1, 4, 3, 6]);
    let r = &page.rows[1];
    assert_eq!(
        (r.platform.as_str(), r.item_id.as_str(), r.title.as_str()),
        ("jd", "item1", "美的电热水壶 家用")
    );
    assert_eq!(
        (r.brand.as_deref(), r.model.as_deref()),
        (Some("美的"), Some("MK-HJ1705"))
    );
    assert_eq!(
        (r.seller.as_deref(), r.price.as_deref()),
        (Some("美的官方旗舰店"), Some("¥99.00"))
    );
    assert_eq!(
        (r.verdict, r.confidence),
        (crate::domain::Verdict::Uncertified, 0.9)
    );
    assert_eq!(r.category_code.as_deref(), Some("0701"));
    assert_eq!(r.review_state, ReviewState::Pending);
    assert_eq!(r.queued_at.as_deref(), Some("2026-06-30T07:00:00.000Z"));
    assert_eq!(
        (
            r.matched_cert.as_deref(),
            r.listing_state.as_str(),
            r.decision_id
        ),
        (None, "online", None)
    );
    assert_eq!(page.rows[4].seller.as_deref(), Some("it's 店%_"));
    assert_eq!(
        page.rows[4].queued_at.as_deref(),
        Some("2026-06-30T07:59:59.999Z")
    );

    // Pages of two, forward then back.
    let two = |p: &mut QueueParams| {
        p.state = Some("all".into());
        p.per_page = Some("2".into());
    };
    let p1 = db.queue(&params(two)).await.unwrap();
    assert_eq!(ids(&p1), [2, 1]);
    assert_eq!(
        (p1.prev.as_deref(), p1.next.as_deref()),
        (None, Some("0.9~1"))
    );
    let p2 = db
        .queue(&params(|p| {
            two(p);
            p.after = p1.next.clone();
        }))
        .await
        .unwrap();
    assert_eq!(ids(&p2), [4, 3]);
    assert_eq!(p2.total, 5, "the count ignores the cursor");
    let p3 = db
        .queue(&params(|p| {
            two(p);
            p.after = p2.next.clone();
        }))
        .await
        .unwrap();
    assert_eq!(ids(&p3), [6]);
    assert_eq!(p3.next, None);
    let back = db
        .queue(&params(|p| {
            two(p);
            p.before = p3.prev.clone();
        }))
        .await
        .unwrap();
    assert_eq!(ids(&back), [4, 3]);
    let back = db
        .queue(&params(|p| {
            two(p);
            p.before = back.prev.clone();
        }))
        .await
        .unwrap();
    assert_eq!(ids(&back), [2, 1]);
    assert_eq!(back.prev, None);

    // By age, both ways, with time cursors.
    let oldest = |p: &mut QueueParams| {
        p.state = Some("all".into());
        p.sort = Some("oldest".into());
        p.per_page = Some("3".into());
    };
    let o1 = db.queue(&params(oldest)).await.unwrap();
    assert_eq!(ids(&o1), [4, 3, 2]);
    assert_eq!(o1.next.as_deref(), Some("2026-06-29T07:00:00.000Z~2"));
    let o2 = db
        .queue(&params(|p| {
            oldest(p);
            p.after = o1.next.clone();
        }))
        .await
        .unwrap();
    assert_eq!(ids(&o2), [1, 6]);
    // A cursor typed by hand (not a stamp as printed) compares as text.
    let typed = db
        .queue(&params(|p| {
            oldest(p);
            p.after = Some("2026-06-30T07:00:00Z~0".into());
        }))
        .await
        .unwrap();
    assert_eq!(ids(&typed), [6]);
    let newest = db
        .queue(&params(|p| {
            p.state = Some("all".into());
            p.sort = Some("newest".into());
        }))
        .await
        .unwrap();
    assert_eq!(ids(&newest), [6, 1, 2, 3, 4]);
    let asc = db
        .queue(&params(|p| {
            p.state = Some("all".into());
            p.sort = Some("conf_asc".into());
        }))
        .await
        .unwrap();
    assert_eq!(ids(&asc), [6, 3, 4, 1, 2]);

    // Filters.
    let with = |f: fn(&mut QueueParams)| {
        params(move |p| {
            p.state = Some("all".into());
            f(p);
        })
    };
    assert_eq!(
        ids(&db
            .queue(&with(|p| p.platform = Some("taobao".into())))
            .await
            .unwrap()),
        [3]
    );
    assert_eq!(
        ids(&db
            .queue(&with(|p| p.verdict = Some("uncertified".into())))
            .await
            .unwrap()),
        [1, 4, 6]
    );
    assert_eq!(
        ids(&db
            .queue(&with(|p| p.min_conf = Some("0.7".into())))
            .await
            .unwrap()),
        [2, 1, 4]
    );
    assert_eq!(
        ids(&db
            .queue(&with(|p| p.max_conf = Some("0.5".into())))
            .await
            .unwrap()),
        [3, 6]
    );
    assert_eq!(
        ids(&db
            .queue(&with(|p| p.scan = Some("2".into())))
            .await
            .unwrap()),
        [3]
    );
    assert_eq!(
        ids(&db
            .queue(&with(|p| p.seller = Some("it's 店%_".into())))
            .await
            .unwrap()),
        [6]
    );
    assert!(
        db.queue(&with(|p| p.seller = Some("it's 店%".into())))
            .await
            .unwrap()
            .rows
            .is_empty()
    );
    assert_eq!(
        ids(&db
            .queue(&with(|p| p.state = Some("need_info".into())))
            .await
            .unwrap()),
        [4]
    );
    let mut cats = with(|_| {});
    cats.categories = vec!["0701".into(), "0703".into(), "x'\0".into()];
    assert_eq!(ids(&db.queue(&cats).await.unwrap()), [1, 4, 3]);

    // Next after a row; the first row for one not in the queue.
    let f = params(all);
    assert_eq!(db.queue_next(&f, 1).await.unwrap(), Some(4));
    assert_eq!(db.queue_next(&f, 6).await.unwrap(), None);
    assert_eq!(db.queue_next(&f, 5).await.unwrap(), Some(2));
    assert_eq!(db.queue_next(&f, 99).await.unwrap(), Some(2));
    let by_age = params(|p| {
        p.state = Some("all".into());
        p.sort = Some("oldest".into());
    });
    assert_eq!(db.queue_next(&by_age, 3).await.unwrap(), Some(2));
    assert_eq!(
        db.queue_next(&by_age, 5).await.unwrap(),
        Some(4),
        "no queue time: first row"
    );
});

contract!(
    the_queue_search_finds_chinese_words_models_and_sellers,
    |db, _clock| {
        for sql in queue_seed() {
            db.exec_sql(&sql).await;
        }
        let search = |q: &str| {
            let q = q.to_string();
            params(move |p| {
                p.state = Some("all".into());
                p.q = Some(q);
            })
        };
        let mut cases: Vec<(&str, Vec<i64>)> = vec![
            // Chinese words of two or more characters: exactly the substrings.
            ("电热水壶", vec![1, 4]),
            ("热水", vec![1, 4]),
            ("插座", vec![3]),
            ("电饭煲", vec![2]),
            ("美的电热水壶", vec![1]),
            ("水壶美的", vec![]),
            ("的电", vec![1]),
            ("纯铜", vec![6]),
            // Sellers.
            ("旗舰店", vec![1, 3]),
            ("美的官方旗舰店", vec![1]),
            ("苏泊尔专卖店", vec![2]),
            ("小米之家", vec![4]),
            // Models, whole or a prefix, any case and width.
            ("MK-HJ1705", vec![1]),
            ("mk-hj17", vec![1]),
            ("ＧＮ－Ｈ３０５０", vec![3]),
            ("gn-h3050", vec![3]),
            ("sf40fc", vec![2]),
            ("k8/39-6", vec![6]),
            // Several words: all must occur.
            ("美的 电热水壶", vec![1]),
            ("小米 电热水壶", vec![4]),
            ("美的 插座", vec![]),
            // Hostile input: operators and LIKE wildcards are plain text.
            ("<script>", vec![6]),
            ("alert('x')", vec![6]),
            ("电热水壶 OR 插座", vec![]),
            ("%", vec![2, 1, 4, 3, 6]),
            ("_", vec![2, 1, 4, 3, 6]),
        ];
        for (q, want) in cases.drain(..) {
            let f = search(q);
            let mut got = ids(&db.queue(&f).await.unwrap());
            let page_total = db.queue(&f).await.unwrap().total;
            assert_eq!(page_total, got.len() as i64, "{q}");
            // Queue order (confidence) is checked elsewhere; compare sets here
            // except where the whole queue is expected.
            let mut want_sorted = want.clone();
            if want.len() < 5 {
                got.sort();
                want_sorted.sort();
            }
            assert_eq!(got, want_sorted, "search {q:?} (fts {:?})", f.fts);
        }
        // One character: FTS5 finds pairs starting with it, the pair-LIKE form
        // any pair holding it (a documented superset): assert what both give.
        let got = ids(&db.queue(&search("壶")).await.unwrap());
        assert!(got.iter().all(|id| [1, 4].contains(id)), "{got:?}");
        let got = ids(&db.queue(&search("插")).await.unwrap());
        assert!(got.contains(&3) && got.contains(&6), "{got:?}");
        // The search combines with filters, the count and the cursor.
        let f = params(|p| {
            p.state = Some("all".into());
            p.q = Some("电热水壶".into());
            p.per_page = Some("1".into());
        });
        let page = db.queue(&f).await.unwrap();
        assert_eq!((ids(&page), page.total), (vec![1], 2));
        let page2 = db
            .queue(&params(|p| {
                p.state = Some("all".into());
                p.q = Some("电热水壶".into());
                p.per_page = Some("1".into());
                p.after = page.next.clone();
            }))
            .await
            .unwrap();
        assert_eq!(ids(&page2), [4]);
        assert_eq!(db.queue_next(&f, 1).await.unwrap(), Some(4));
        // A listing rewritten without its search text is found once backfilled.
        db.exec_sql("UPDATE listings SET search_text = '' WHERE id IN (2, 3)")
            .await;
        assert!(db.queue(&search("电饭煲")).await.unwrap().rows.is_empty());
        assert_eq!(db.backfill_search_text().await.unwrap(), 2);
        assert_eq!(db.backfill_search_text().await.unwrap(), 0);
        assert_eq!(ids(&db.queue(&search("电饭煲")).await.unwrap()), [2]);
        assert_eq!(ids(&db.queue(&search("公牛官方")).await.unwrap()), [3]);
        db.optimize().await.unwrap();
    }
);

contract!(
    the_queue_search_follows_the_matcher_and_the_listings,
    |db, _clock| {
        use crate::domain::Verdict;
        use crate::store::contract::findings::{SEED, finding, fw};
        let day = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        db.exec_sql(SEED).await;
        assert_eq!(db.backfill_search_text().await.unwrap(), 4);
        let search = |q: &str| {
            let q = q.to_string();
            params(move |p| {
                p.state = Some("all".into());
                p.q = Some(q);
            })
        };
        let found = |q: &'static str| {
            let f = search(q);
            async move {
                let mut got = ids(&db.queue(&f).await.unwrap());
                got.sort();
                got
            }
        };
        // Findings the matcher writes are searchable once queued, and only then.
        let run = db.begin_match_run(day, None).await.unwrap();
        run.write(&[
            fw(1, finding(Verdict::Uncertified, 0.5)),
            fw(3, finding(Verdict::Compliant, 0.9)),
            fw(4, finding(Verdict::Revoked, 0.7)),
        ])
        .await
        .unwrap();
        assert_eq!(found("电热水壶").await, [1]);
        assert_eq!(found("插座").await, Vec::<i64>::new());
        assert_eq!(found("苏泊尔").await, [4]);
        // A later run queues 3 and takes 1 out of the queue.
        run.write(&[
            fw(1, finding(Verdict::Compliant, 0.9)),
            fw(3, finding(Verdict::Uncertified, 0.6)),
        ])
        .await
        .unwrap();
        assert_eq!(found("电热水壶").await, Vec::<i64>::new());
        assert_eq!(found("插座").await, [3]);
        // A decision keeps the finding searchable.
        db.exec_sql("UPDATE findings SET review_state = 'confirmed' WHERE listing_id = 3")
            .await;
        assert_eq!(found("公牛插座").await, [3]);
        // A listing whose title changes is found by its new words only.
        db.exec_sql("UPDATE listings SET title = '公牛排插 GN-1', search_text = '' WHERE id = 3")
            .await;
        assert_eq!(db.backfill_search_text().await.unwrap(), 1);
        assert_eq!(found("排插").await, [3]);
        assert_eq!(found("插座").await, Vec::<i64>::new());
        run.finish(3, &[]).await.unwrap();
    }
);

contract!(
    a_broad_search_pages_and_counts_like_a_narrow_one,
    |db, _clock| {
        // 4,200 queued listings: the even ones hold 插座 (2,100 matches, a
        // broad search on both backends), the odd ones 开关.
        db.exec_sql(MATCH_RUN).await;
        db.exec_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4200) \
             INSERT INTO listings (id, platform, item_id, url, title, brand, model, params, seller, shop_url, \
                                   content_hash, source, first_seen_at, last_seen_at, updated_at) \
             SELECT i, 'jd', 'item' || i, NULL, \
                    CASE WHEN i % 2 = 0 THEN '公牛插座 五孔 ' ELSE '开关面板 ' END || 'x' || i, \
                    NULL, NULL, '[]', NULL, NULL, 'h', 'scan:1', \
                    '2026-06-30T07:00:00.000Z', '2026-06-30T07:00:00.000Z', '2026-06-30T07:00:00.000Z' FROM n",
        )
        .await;
        db.exec_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4200) \
             INSERT INTO findings (listing_id, verdict, confidence, matched_cert, cert_numbers, category_code, \
                                   brand, model, reasons, as_of, run_id, matched_at, review_state, queued_at, \
                                   platform, priority) \
             SELECT i, 'uncertified', i / 10000.0, NULL, '[]', NULL, NULL, NULL, '[]', '2026-06-30', 1, \
                    '2026-06-30T07:45:00.000Z', 'pending', '2026-06-30T07:45:00.000Z', 'jd', 0 FROM n",
        )
        .await;
        assert_eq!(db.backfill_search_text().await.unwrap(), 4200);
        let page = |q: &str, after: Option<String>| {
            params(|p| {
                p.q = Some(q.into());
                p.per_page = Some("3".into());
                p.after = after;
            })
        };
        // Highest confidence first: 4200, 4198, 4196, then on.
        let first = db.queue(&page("插座", None)).await.unwrap();
        assert_eq!(ids(&first), [4200, 4198, 4196]);
        assert_eq!((first.total, first.total_capped), (2100, false));
        let second = db.queue(&page("插座", first.next.clone())).await.unwrap();
        assert_eq!(ids(&second), [4194, 4192, 4190]);
        assert_eq!(
            ids(&db.queue(&page("开关", None)).await.unwrap()),
            [4199, 4197, 4195]
        );
        assert_eq!(
            db.queue_next(&page("插座", None), 4198).await.unwrap(),
            Some(4196)
        );
        // Broad and narrow words together; a narrow one alone.
        let both = db.queue(&page("插座 x420", None)).await.unwrap();
        assert_eq!((ids(&both), both.total), (vec![4200, 420], 2));
        let one = db.queue(&page("x4199", None)).await.unwrap();
        assert_eq!((ids(&one), one.total), (vec![4199], 1));
        let none = db.queue(&page("插座 开关", None)).await.unwrap();
        assert_eq!((ids(&none), none.total), (vec![], 0));
    }
);

#[allow(dead_code)]
const SCANS: &str = "INSERT INTO scans (id, platform, state, started_at, as_of, keywords, max_pages, listings_new, \
     listings_changed, listings_unchanged, findings) VALUES \
     (1, 'jd', 'completed', '2026-06-28T01:00:00.000Z', '2026-06-28', '[\"插座\"]', 10, 5, 2, 1, \
      '{\"uncertified\":3,\"compliant\":5,\"expired\":1}'), \
     (2, 'taobao', 'running', '2026-06-29T01:00:00.000Z', '2026-06-29', '[]', 10, 0, 0, 0, NULL), \
     (3, 'jd', 'completed', '2026-06-30T01:00:00.123Z', '2026-06-30', '[]', 10, 1, 0, 0, \
      '{\"revoked\":2,\"not_in_scope\":4,\"cert_mismatch\":1}'), \
     (4, 'jd', 'completed', '2026-06-30T02:00:00.000Z', '2026-06-30', '[]', 10, 0, 0, 0, NULL)";

#[allow(dead_code)]
const PAGES: &str = "INSERT INTO pages (id, scan_id, platform, item_id, kind, url, final_url, fetched_at, status, \
     headers, encoding, body_gz, body_len, sha256) VALUES \
     (10, 1, 'jd', 'item1', 'item', 'https://example.com/1', 'https://example.com/1?r=1', '2026-06-28T01:02:03.456Z', \
      200, '[[\"content-type\",\"text/html; charset=gbk\"],[\"x-b\",\"2\"],[\"x-a\",\"1\"]]', 'gbk', '', 1234, 'abc'), \
     (11, 3, 'jd', 'item1', 'item', 'https://example.com/1', 'https://example.com/1', '2026-06-30T01:02:03.000Z', \
      404, '[]', NULL, '', 0, 'def'), \
     (12, 3, 'jd', NULL, 'search', 'https://example.com/s?q=1', 'https://example.com/s?q=1', '2026-06-30T01:00:00.000Z', \
      200, '[]', 'utf-8', '', 10, 'ghi')";

contract!(
    a_finding_in_detail_with_its_page_history_and_captures,
    |db, _clock| {
        for sql in queue_seed() {
            db.exec_sql(&sql).await;
        }
        db.exec_sql(SCANS).await;
        db.exec_sql(PAGES).await;
        db.exec_sql(
        "UPDATE listings SET page_id = 11, state = 'gone', gone_at = '2026-06-30T05:06:07.089Z', \
         params = '[[\"型号\",\"MK-HJ1705\"],[\"功率\",\"1800W\"]]', description = '说明 \"quoted\"', \
         shop_url = 'https://shop', category = '厨房电器' WHERE id = 1",
    )
    .await;
        db.exec_sql(
        "UPDATE findings SET matched_cert = '2020010701234567', cert_numbers = '[\"2020010701234567\",\"2019\"]', \
         brand = '美的', model = 'MKHJ1705', reasons = '[\"证书已过期\",\"型号不符\"]', decision_id = NULL, \
         priority = 3, priority_note = '复上架' WHERE listing_id = 1",
    )
    .await;
        db.exec_sql(
        "INSERT INTO listing_history (id, listing_id, changed_at, source, old_content) VALUES \
         (1, 1, '2026-06-29T00:00:00.000Z', 'scan:1', '{\"title\":\"旧标题\",\"price\":\"¥1\",\"brand\":null}'), \
         (2, 1, '2026-06-29T12:00:00.500Z', 'scan:2', '{\"z\":1,\"a\":2}'); \
         INSERT INTO finding_history (id, listing_id, run_id, old_verdict, new_verdict, changed_at) VALUES \
         (1, 1, 1, NULL, 'cert_not_found', '2026-06-28T00:00:00.000Z'), \
         (2, 1, 1, 'cert_not_found', 'uncertified', '2026-06-29T00:00:00.001Z')",
    )
    .await;
        let d = db.finding_detail(1).await.unwrap().unwrap();
        let l = &d.listing.listing;
        assert_eq!(d.listing.id, 1);
        assert_eq!((l.platform.as_str(), l.item_id.as_str()), ("jd", "item1"));
        assert_eq!(l.url.as_deref(), Some("https://example.com/1"));
        assert_eq!(l.title, "美的电热水壶 家用");
        assert_eq!(
            (l.brand.as_deref(), l.model.as_deref()),
            (Some("美的"), Some("MK-HJ1705"))
        );
        assert_eq!(
            l.params,
            [
                ("型号".to_string(), "MK-HJ1705".to_string()),
                ("功率".into(), "1800W".into())
            ]
        );
        assert_eq!(l.description.as_deref(), Some("说明 \"quoted\""));
        assert_eq!(
            (l.seller.as_deref(), l.shop_url.as_deref()),
            (Some("美的官方旗舰店"), Some("https://shop"))
        );
        assert_eq!(
            (l.price.as_deref(), l.category.as_deref()),
            (Some("¥99.00"), Some("厨房电器"))
        );
        assert_eq!(d.state, "gone");
        assert_eq!(d.gone_at.as_deref(), Some("2026-06-30T05:06:07.089Z"));
        assert_eq!(d.first_seen_at, "2026-06-30T07:00:00.000Z");
        assert_eq!(d.last_seen_at, "2026-06-30T07:30:00.000Z");
        assert_eq!((d.last_scan_id, d.source.as_str()), (Some(1), "scan:1"));
        let f = d.finding.as_ref().unwrap();
        assert_eq!(
            (f.verdict, f.confidence),
            (crate::domain::Verdict::Uncertified, 0.9)
        );
        assert_eq!(f.matched_cert.as_deref(), Some("2020010701234567"));
        assert_eq!(f.cert_numbers, ["2020010701234567", "2019"]);
        assert_eq!(f.category_code.as_deref(), Some("0701"));
        assert_eq!(
            (f.brand.as_deref(), f.model.as_deref()),
            (Some("美的"), Some("MKHJ1705"))
        );
        assert_eq!(f.reasons, ["证书已过期", "型号不符"]);
        assert_eq!(d.as_of.as_deref(), Some("2026-06-30"));
        assert_eq!(d.matched_at.as_deref(), Some("2026-06-30T07:45:00.000Z"));
        assert_eq!(d.review_state, Some(ReviewState::Pending));
        assert_eq!(d.queued_at.as_deref(), Some("2026-06-30T07:00:00.000Z"));
        assert_eq!(d.decision_id, None);
        assert_eq!(
            (d.priority, d.priority_note.as_deref()),
            (3, Some("复上架"))
        );
        let page = d.page.as_ref().unwrap();
        assert_eq!((page.id, page.scan_id, page.status), (11, 3, 404));
        // A listing without a finding or page.
        db.exec_sql("DELETE FROM findings WHERE listing_id = 5")
            .await;
        let d5 = db.finding_detail(5).await.unwrap().unwrap();
        assert!(d5.finding.is_none() && d5.page.is_none());
        assert_eq!((d5.review_state, d5.priority, d5.as_of), (None, 0, None));
        assert_eq!((d5.state.as_str(), d5.gone_at), ("online", None));
        assert!(db.finding_detail(99).await.unwrap().is_none());

        let p = db.page_meta(10).await.unwrap().unwrap();
        assert_eq!(
            (p.id, p.scan_id, p.platform.as_str(), p.item_id.as_deref()),
            (10, 1, "jd", Some("item1"))
        );
        assert_eq!(
            (p.kind.as_str(), p.url.as_str()),
            ("item", "https://example.com/1")
        );
        assert_eq!(p.final_url, "https://example.com/1?r=1");
        assert_eq!(p.fetched_at, "2026-06-28T01:02:03.456Z");
        assert_eq!(
            p.headers,
            [
                (
                    "content-type".to_string(),
                    "text/html; charset=gbk".to_string()
                ),
                ("x-b".into(), "2".into()),
                ("x-a".into(), "1".into())
            ]
        );
        assert_eq!(
            (p.encoding.as_deref(), p.body_len, p.sha256.as_str()),
            (Some("gbk"), 1234, "abc")
        );
        assert_eq!(db.page_meta(12).await.unwrap().unwrap().item_id, None);

        let caps = db.captures("jd", "item1").await.unwrap();
        assert_eq!(caps.iter().map(|c| c.page_id).collect::<Vec<_>>(), [11, 10]);
        assert_eq!(
            (
                caps[1].scan_id,
                caps[1].fetched_at.as_str(),
                caps[1].status,
                caps[1].sha256.as_str(),
                caps[1].body_len
            ),
            (1, "2026-06-28T01:02:03.456Z", 200, "abc", 1234)
        );
        assert!(
            db.captures("jd", "item1' OR '1'='1")
                .await
                .unwrap()
                .is_empty()
        );
        // U+0000 never fails a lookup. (PostgreSQL drops it from keys as it
        // does from what is written, so it finds `jd` here; SQLite finds none.)
        assert!(db.captures("jd\0", "item1").await.unwrap().len() <= 2);

        let h = db.listing_history(1).await.unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(
            (h[0].changed_at.as_str(), h[0].source.as_str()),
            ("2026-06-29T12:00:00.500Z", "scan:2")
        );
        assert_eq!(
            h[0].old_content.to_string(),
            r#"{"z":1,"a":2}"#,
            "key order kept"
        );
        assert_eq!(
            h[1].old_content.to_string(),
            r#"{"title":"旧标题","price":"¥1","brand":null}"#
        );
        let v = db.verdict_history(1).await.unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            (
                v[0].run_id,
                v[0].old_verdict.as_deref(),
                v[0].new_verdict.as_str(),
                v[0].changed_at.as_str()
            ),
            (
                1,
                Some("cert_not_found"),
                "uncertified",
                "2026-06-29T00:00:00.001Z"
            )
        );
        assert_eq!(v[1].old_verdict, None);
        assert!(db.verdict_history(2).await.unwrap().is_empty());
    }
);

contract!(
    the_dashboard_counts_findings_backlog_decisions_and_scans,
    |db, clock| {
        for sql in queue_seed() {
            db.exec_sql(&sql).await;
        }
        db.exec_sql(SCANS).await;
        let sid = db
            .add_user("sup", "S", Role::Supervisor, "h", "cli")
            .await
            .unwrap();
        let sup = db.user(sid).await.unwrap().unwrap();
        // A decision 40 days ago (outside the chart), two today.
        clock.set(start() - chrono::Duration::days(40));
        db.decide(
            2,
            &sup,
            &decision(Action::Confirm, None, ""),
            None,
            &check_allowed,
        )
        .await
        .unwrap();
        clock.set(start());
        db.exec_sql("UPDATE findings SET review_state = 'pending' WHERE listing_id = 2")
            .await;
        db.decide(
            3,
            &sup,
            &decision(Action::NeedInfo, None, "照片"),
            None,
            &check_allowed,
        )
        .await
        .unwrap();
        clock.advance(chrono::Duration::hours(16) - chrono::Duration::milliseconds(1));
        db.decide(
            1,
            &sup,
            &decision(Action::NeedInfo, None, "照片"),
            None,
            &check_allowed,
        )
        .await
        .unwrap();
        clock.advance(chrono::Duration::milliseconds(1));
        db.decide(
            6,
            &sup,
            &decision(Action::Confirm, None, "改判"),
            None,
            &check_allowed,
        )
        .await
        .unwrap();
        let now =
            start() + chrono::Duration::milliseconds(500) + chrono::Duration::microseconds(250);
        let d = db.dashboard(now).await.unwrap();
        assert_eq!((d.findings, d.flagged), (6, 5));
        assert_eq!(d.by_verdict[0], ("uncertified".to_string(), 3));
        // Ties in a count: by key on both (SQLite groups in key order and its
        // sort keeps that order; PostgreSQL says so with a tie-breaker).
        let rest = d.by_verdict[1..].to_vec();
        assert_eq!(
            rest,
            [
                ("cert_not_found".to_string(), 1),
                ("compliant".into(), 1),
                ("expired".into(), 1)
            ]
        );
        assert_eq!(
            d.by_platform,
            [
                ("jd".to_string(), "uncertified".to_string(), 3),
                ("jd".into(), "cert_not_found".into(), 1),
                ("taobao".into(), "expired".into(), 1)
            ]
        );
        assert_eq!(d.by_category[0], (Some("0701".to_string()), 2));
        let cats = d.by_category[1..].to_vec();
        assert_eq!(
            cats,
            [
                (None, 1),
                (Some("0702".to_string()), 1),
                (Some("0703".into()), 1)
            ]
        );
        let states = d.by_state.clone();
        assert_eq!(
            states,
            [
                ("confirmed".to_string(), 1),
                ("need_info".into(), 3),
                ("pending".into(), 1)
            ]
        );
        // Backlog: pending 2 (queued a day ago), need_info 1 (today), 3 (10 days), 4 (60 days).
        let ages: Vec<i64> = d.backlog_age.iter().map(|(_, n)| *n).collect();
        assert_eq!(ages, [1, 1, 0, 1, 1]);
        assert_eq!(d.backlog_age[0].0, "1天内");
        assert_eq!(
            d.oldest_pending.as_deref(),
            Some("2026-05-01T07:00:00.000Z")
        );
        assert_eq!(
            d.decisions_by_day,
            [("2026-06-30".to_string(), 2), ("2026-07-01".to_string(), 1)]
        );
        assert_eq!(d.computed_at, "2026-06-30T08:00:00Z");
        // Edges: queued exactly one day before `now` (to the ms) is within a day.
        db.exec_sql(
            "UPDATE findings SET queued_at = '2026-06-29T08:00:00.500Z' WHERE listing_id = 2",
        )
        .await;
        let d = db.dashboard(now).await.unwrap();
        assert_eq!(
            d.backlog_age.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            [2, 0, 0, 1, 1]
        );
        assert_eq!(
            d.scans.iter().map(|s| s.scan_id).collect::<Vec<_>>(),
            [1, 3]
        );

        let t = db.scan_trends(60).await.unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].platform.as_str(), t[0].started_at.as_str()),
            ("jd", "2026-06-28T01:00:00.000Z")
        );
        assert_eq!((t[0].listings, t[0].flagged), (8, 4));
        assert_eq!(
            t[0].by_verdict,
            [
                ("uncertified".to_string(), 3),
                ("compliant".into(), 5),
                ("expired".into(), 1)
            ]
        );
        assert_eq!(t[1].started_at, "2026-06-30T01:00:00.123Z");
        assert_eq!(
            t[1].by_verdict,
            [
                ("revoked".to_string(), 2),
                ("not_in_scope".into(), 4),
                ("cert_mismatch".into(), 1)
            ]
        );
        assert_eq!((t[1].listings, t[1].flagged), (1, 3));
        assert_eq!(
            db.scan_trends(1)
                .await
                .unwrap()
                .iter()
                .map(|s| s.scan_id)
                .collect::<Vec<_>>(),
            [3]
        );
        assert_eq!(
            db.recent_scan_ids(2).await.unwrap(),
            [
                (4, "jd".to_string(), "2026-06-30T02:00:00.000Z".to_string()),
                (3, "jd".into(), "2026-06-30T01:00:00.123Z".into())
            ]
        );
        assert_eq!(db.platforms().await.unwrap(), ["jd", "taobao"]);
    }
);
