//! The review workspace over HTTP, as browsers and API clients use it: who
//! may do what, CSRF and sessions, login throttling, decisions and their
//! revision, bulk decisions, the audit chain, escaping of hostile listings,
//! the queue's filters and paging, and the JSON API.

use crate::support::{
    self, PASSWORD, Seeded, csrf_of, raw_i64, raw_sql, web_client as client, web_login as login,
};
use cccwatch::domain::audit::Problem;
use cccwatch::market::HOSTILE_TITLE_PREFIX;
use cccwatch::review::auth;
use cccwatch::review::decision::check_allowed;
use cccwatch::review::queue::QueueParams;
use cccwatch::store::{QueueRow, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Env {
    seeded: Seeded,
    base: String,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn env_with(items: usize, web: cccwatch::config::WebSettings) -> Env {
    let seeded = support::seeded(items).await;
    let (base, stop) = support::start(&seeded.store, &seeded.brands, web).await;
    Env {
        seeded,
        base,
        _stop: stop,
    }
}

async fn env() -> Env {
    env_with(120, support::web_settings()).await
}

async fn login_as(base: &str, user: &str, password: &str) -> (reqwest::Client, reqwest::Response) {
    let c = client();
    let page = c
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let resp = c
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf_of(&page).as_str()),
            ("username", user),
            ("password", password),
            ("next", "/queue"),
        ])
        .send()
        .await
        .unwrap();
    (c, resp)
}

async fn queue(store: &Store, params: QueueParams) -> Vec<QueueRow> {
    let f = params.parse(|_| None).unwrap();
    store.queue(&f).await.unwrap().rows
}

async fn pending(store: &Store) -> Vec<QueueRow> {
    queue(
        store,
        QueueParams {
            per_page: Some("200".into()),
            ..Default::default()
        },
    )
    .await
}

async fn decide(
    c: &reqwest::Client,
    base: &str,
    csrf: &str,
    id: i64,
    seen: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form: Vec<(&str, &str)> = vec![("_csrf", csrf), ("seen", seen), ("ctx", "")];
    form.extend_from_slice(fields);
    c.post(format!("{base}/listings/{id}/decision"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

async fn get(c: &reqwest::Client, url: String) -> StatusCode {
    c.get(url).send().await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_each_role_as_the_permission_table_says() {
    let e = env().await;
    let base = &e.base;
    let rows = pending(&e.seeded.store).await;
    assert!(rows.len() >= 10, "the seeded crawl flags listings");
    let id = rows[0].listing_id;
    let detail = e.seeded.store.finding_detail(id).await.unwrap().unwrap();
    let page_id = detail.page.expect("a crawled listing has evidence").id;

    // Not logged in: pages send to the login page, the API says 401, writes are refused.
    let anon = client();
    let r = anon
        .get(format!("{base}/queue?verdict=expired"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/login?next=%2Fqueue%3Fverdict%3Dexpired"
    );
    for path in ["/api/queue", "/api/me", &format!("/api/findings/{id}")] {
        let r = anon.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
    let r = anon
        .post(format!("{base}/listings/{id}/decision"))
        .form(&[("action", "confirm")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(&anon, format!("{base}/static/app.css")).await,
        StatusCode::OK
    );
    assert_eq!(get(&anon, format!("{base}/healthz")).await, StatusCode::OK);

    let ok = StatusCode::OK;
    let no = StatusCode::FORBIDDEN;
    // (user, audit, admin/users)
    for (user, audit, users) in [
        ("admin", ok, ok),
        ("boss", ok, no),
        ("wang", no, no),
        ("zhao", no, no),
    ] {
        let (c, _) = login(base, user).await;
        for path in [
            "/queue".to_string(),
            "/queue?state=all&sort=oldest".to_string(),
            "/dashboard".to_string(),
            "/account".to_string(),
            format!("/listings/{id}"),
            format!("/evidence/{page_id}"),
            format!("/evidence/{page_id}/raw"),
            "/api/me".to_string(),
            "/api/queue".to_string(),
            format!("/api/findings/{id}"),
            "/api/dashboard".to_string(),
            "/reports/monthly".to_string(),
            "/reports/monthly.xlsx".to_string(),
            "/reports/sellers".to_string(),
            "/help".to_string(),
        ] {
            assert_eq!(
                get(&c, format!("{base}{path}")).await,
                ok,
                "{user} GET {path}"
            );
        }
        assert_eq!(
            get(&c, format!("{base}/audit")).await,
            audit,
            "{user} GET /audit"
        );
        assert_eq!(
            get(&c, format!("{base}/admin/users")).await,
            users,
            "{user} GET /admin/users"
        );
        assert_eq!(
            get(&c, format!("{base}/listings/999999")).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get(&c, format!("{base}/no/such/page")).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            get(&c, format!("{base}/queue?verdict=bogus")).await,
            StatusCode::BAD_REQUEST
        );
    }

    // The 帮助 page is the quick-start guide; platforms are named in Chinese.
    let (c, _) = login(base, "zhao").await;
    let help = c
        .get(format!("{base}/help"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(help.contains("<h1>cccwatch 快速上手</h1>"), "the guide");
    assert!(help.contains("<code>cccwatch init</code>"));
    assert!(help.contains("href=\"/help\" class=\"active\">帮助<"));
    let queue = c
        .get(format!("{base}/queue"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        queue.contains("<option value=\"demo\" >演示商城</option>")
            && queue.contains("<td>演示商城<div"),
        "the platform filter and the rows show 演示商城"
    );
    assert!(
        queue.contains("<a href=\"/help\" >帮助</a>"),
        "every page links the guide"
    );

    // Writes: reviewers and supervisors decide; viewers and administrators may not.
    for (user, expected, target) in [
        ("zhao", StatusCode::FORBIDDEN, rows[1].listing_id),
        ("admin", StatusCode::FORBIDDEN, rows[1].listing_id),
        ("wang", StatusCode::SEE_OTHER, rows[1].listing_id),
        ("boss", StatusCode::SEE_OTHER, rows[2].listing_id),
    ] {
        let (c, csrf) = login(base, user).await;
        let r = decide(&c, base, &csrf, target, "none", &[("action", "confirm")]).await;
        assert_eq!(r.status(), expected, "{user} decides");
        let api = c
            .post(format!(
                "{base}/api/findings/{}/decision",
                rows[3].listing_id
            ))
            .header("x-csrf-token", &csrf)
            .json(&json!({"action": "need_info", "note": "请提供证书照片"}))
            .send()
            .await
            .unwrap();
        let api_expected = if expected == StatusCode::FORBIDDEN {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::OK
        };
        // The second decider finds it in need_info, which anyone may decide again.
        assert_eq!(api.status(), api_expected, "{user} decides through the API");
        let r = c
            .post(format!("{base}/admin/users"))
            .form(&[
                ("_csrf", csrf.as_str()),
                ("username", "newbie"),
                ("display_name", "新人"),
                ("role", "viewer"),
                ("password", "a long enough pw"),
            ])
            .send()
            .await
            .unwrap();
        let add_expected = if user == "admin" {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(r.status(), add_expected, "{user} adds a user");
    }
    assert_eq!(
        e.seeded
            .store
            .decisions_for(rows[1].listing_id)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_csrf_expired_sessions_and_logout_are_refused() {
    let e = env().await;
    let base = &e.base;
    let id = pending(&e.seeded.store).await[0].listing_id;
    let (c, csrf) = login(base, "wang").await;

    // A forged or missing token changes nothing.
    for token in ["", "0000", &"a".repeat(64)] {
        let r = decide(&c, base, token, id, "none", &[("action", "confirm")]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.text().await.unwrap().contains("安全令牌"));
    }
    let api = c
        .post(format!("{base}/api/findings/{id}/decision"))
        .json(&json!({"action": "confirm"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.status(),
        StatusCode::FORBIDDEN,
        "a cookie-authenticated API write needs the header"
    );
    assert!(e.seeded.store.decisions_for(id).await.unwrap().is_empty());
    // The login form has its own token.
    let r = client()
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", "forged"),
            ("username", "wang"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Another user's token does not work in this session.
    let (_, other_csrf) = login(base, "boss").await;
    assert_eq!(
        decide(&c, base, &other_csrf, id, "none", &[("action", "confirm")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        decide(&c, base, &csrf, id, "none", &[("action", "confirm")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // An idle session expires: pages send to the login page, writes are refused.
    let url = e.seeded.url.clone();
    raw_sql(
        &url,
        "UPDATE sessions SET last_seen_at = last_seen_at - 3600",
    )
    .await
    .unwrap();
    let r = c.get(format!("{base}/queue")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    let other = pending(&e.seeded.store).await[0].listing_id;
    assert_eq!(
        decide(&c, base, &csrf, other, "none", &[("action", "confirm")])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Past the absolute limit too, however active.
    let (c2, csrf2) = login(base, "wang").await;
    raw_sql(&url, "UPDATE sessions SET expires_at = 0")
        .await
        .unwrap();
    assert_eq!(
        get(&c2, format!("{base}/api/me")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        decide(&c2, base, &csrf2, other, "none", &[("action", "confirm")])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Logging out ends the session on the server, not just in the browser.
    let (c3, csrf3) = login(base, "wang").await;
    let cookie_before = get(&c3, format!("{base}/api/me")).await;
    assert_eq!(cookie_before, StatusCode::OK);
    let r = c3
        .post(format!("{base}/logout"))
        .form(&[("_csrf", csrf3.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let sessions = raw_i64(&url, "SELECT COUNT(*) FROM sessions WHERE expires_at > 0").await;
    assert_eq!(sessions, Some(0));

    // Disabling a user ends its sessions at once.
    let (c4, _) = login(base, "zhao").await;
    e.seeded
        .store
        .set_disabled("zhao", true, "test")
        .await
        .unwrap();
    assert_eq!(
        get(&c4, format!("{base}/api/me")).await,
        StatusCode::UNAUTHORIZED
    );
    let (_, r) = login_as(base, "zhao", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // `next` never leaves the site.
    let c6 = client();
    let page = c6
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c6
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf_of(&page).as_str()),
            ("username", "boss"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_lock_the_account_and_one_address_is_throttled() {
    let e = env_with(
        40,
        cccwatch::config::WebSettings {
            login_attempts_per_minute: 7,
            ..support::web_settings()
        },
    )
    .await;
    let base = &e.base;
    for _ in 0..5 {
        let (_, r) = login_as(base, "wang", "wrong password!").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.text().await.unwrap().contains("用户名或密码错误"));
    }
    // Locked now, even with the right password.
    let (_, r) = login_as(base, "wang", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("锁定"));
    let log = e
        .seeded
        .store
        .audit_page(None, Some("user:wang"), 10)
        .await
        .unwrap();
    assert!(log.entries.iter().any(|a| a.action == "auth.locked"));
    // An unknown user gets the same answer as a wrong password.
    let (_, r) = login_as(base, "nobody", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Seven attempts a minute from one address, then it must wait.
    let (_, r) = login_as(base, "boss", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("过于频繁"));
    // An administrator's password reset unlocks the account.
    let hash = auth::hash_password("a brand new password").unwrap();
    e.seeded
        .store
        .set_password("wang", &hash, "admin")
        .await
        .unwrap();
    let user = e
        .seeded
        .store
        .user_by_name("wang")
        .await
        .unwrap()
        .unwrap()
        .0;
    assert_eq!(user.failed_logins, 0);
    assert_eq!(user.locked_until, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_are_revised_only_by_supervisors_and_never_silently() {
    let e = env().await;
    let base = &e.base;
    let store = &e.seeded.store;
    let rows = pending(store).await;
    let (a, b) = (rows[0].listing_id, rows[1].listing_id);
    let (wang, wcsrf) = login(base, "wang").await;
    let (boss, bcsrf) = login(base, "boss").await;

    let r = decide(
        &wang,
        base,
        &wcsrf,
        a,
        "none",
        &[("action", "confirm"), ("measure", "take_down")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.contains(&format!("done={a}")), "{loc}");
    let first = store.finding_detail(a).await.unwrap().unwrap();
    assert_eq!(first.review_state.unwrap().as_str(), "confirmed");
    let seen = first.decision_id.unwrap().to_string();

    // A reviewer cannot change it; a supervisor must say why.
    let r = decide(
        &wang,
        base,
        &wcsrf,
        a,
        &seen,
        &[("action", "dismiss"), ("reason", "cert_valid")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("审核负责人"));
    let r = decide(
        &boss,
        base,
        &bcsrf,
        a,
        &seen,
        &[("action", "dismiss"), ("reason", "cert_valid")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("修改理由"));
    // A form opened before the first decision is stale.
    let r = decide(
        &boss,
        base,
        &bcsrf,
        a,
        "none",
        &[
            ("action", "dismiss"),
            ("reason", "cert_valid"),
            ("note", "复核"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = decide(
        &boss,
        base,
        &bcsrf,
        a,
        &seen,
        &[
            ("action", "dismiss"),
            ("reason", "cert_valid"),
            ("note", "复核后证书有效"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let history = store.decisions_for(a).await.unwrap();
    assert_eq!(history.len(), 2, "the first decision is kept");
    assert_eq!(history[0].revises, Some(history[1].id));
    assert_eq!(history[0].note.as_deref(), Some("复核后证书有效"));
    let page = boss
        .get(format!("{base}/listings/{a}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("修改了决定 #{}", history[1].id)));
    let audit = store
        .audit_page(None, Some(&format!("listing:{a}")), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.entries.iter().map(|x| x.action.as_str()).collect();
    assert_eq!(actions, vec!["decision.revise", "decision.make"]);
    let details: Value = serde_json::from_str(&audit.entries[0].details).unwrap();
    assert_eq!(details["revises"], json!(history[1].id));
    assert_eq!(details["from_state"], "confirmed");

    // What each decision needs.
    let r = decide(&wang, base, &wcsrf, b, "none", &[("action", "dismiss")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = decide(
        &wang,
        base,
        &wcsrf,
        b,
        "none",
        &[("action", "dismiss"), ("reason", "other")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = decide(
        &wang,
        base,
        &wcsrf,
        b,
        "none",
        &[("action", "need_info"), ("note", "")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = decide(
        &wang,
        base,
        &wcsrf,
        b,
        "none",
        &[("action", "need_info"), ("note", "请平台提供证书照片")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Waiting for information is not final: a reviewer may decide it.
    let seen_b = store
        .finding_detail(b)
        .await
        .unwrap()
        .unwrap()
        .decision_id
        .unwrap()
        .to_string();
    let r = decide(&wang, base, &wcsrf, b, &seen_b, &[("action", "confirm")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(store.decisions_for(b).await.unwrap()[0].revises, None);

    // Findings that are not flagged are not reviewed.
    let compliant = queue(
        store,
        QueueParams {
            state: Some("all".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(compliant.iter().all(|r| r.verdict.is_flagged()));
    let ok_id = raw_i64(
        &e.seeded.url,
        "SELECT listing_id FROM findings WHERE review_state IS NULL LIMIT 1",
    )
    .await;
    if let Some(ok_id) = ok_id {
        let r = decide(&wang, base, &wcsrf, ok_id, "none", &[("action", "confirm")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(
        decide(
            &wang,
            base,
            &wcsrf,
            9_999_999,
            "none",
            &[("action", "confirm")]
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_decisions_report_what_was_skipped() {
    let e = env().await;
    let base = &e.base;
    let store = &e.seeded.store;
    let rows = pending(store).await;
    let ids: Vec<i64> = rows.iter().take(4).map(|r| r.listing_id).collect();
    let (wang, csrf) = login(base, "wang").await;
    assert_eq!(
        decide(&wang, base, &csrf, ids[0], "none", &[("action", "confirm")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    let mut form: Vec<(&str, String)> = vec![
        ("_csrf", csrf.clone()),
        ("ctx", "verdict=".into()),
        ("action", "dismiss".into()),
        ("reason", "duplicate".into()),
    ];
    for id in &ids[..3] {
        form.push(("ids", id.to_string()));
    }
    let r = wang
        .post(format!("{base}/queue/bulk"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("已处理 2 条"), "{page}");
    assert!(page.contains("1 条未处理"));
    assert!(page.contains("审核负责人"), "the skipped one says why");
    for id in &ids[1..3] {
        assert_eq!(
            store
                .finding_detail(*id)
                .await
                .unwrap()
                .unwrap()
                .review_state
                .unwrap()
                .as_str(),
            "dismissed"
        );
    }
    // Each bulk decision is its own audit entry.
    for id in &ids[1..3] {
        let log = store
            .audit_page(None, Some(&format!("listing:{id}")), 5)
            .await
            .unwrap();
        assert_eq!(log.entries.len(), 1);
    }
    // Nothing selected, or an invalid decision: refused as a whole.
    let r = wang
        .post(format!("{base}/queue/bulk"))
        .form(&[("_csrf", csrf.as_str()), ("action", "confirm")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The API does the same.
    let r = wang
        .post(format!("{base}/api/decisions"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"ids": [ids[2], ids[3]], "action": "confirm"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["done"], 1);
    assert_eq!(body["skipped"], 1);
    assert_eq!(body["results"][0]["ok"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_chain_names_edited_and_deleted_entries() {
    let e = env().await;
    let base = &e.base;
    let store = &e.seeded.store;
    let rows = pending(store).await;
    let (wang, csrf) = login(base, "wang").await;
    for r in rows.iter().take(4) {
        decide(
            &wang,
            base,
            &csrf,
            r.listing_id,
            "none",
            &[("action", "confirm")],
        )
        .await;
    }
    let report = store.verify_audit(None).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    let n = report.entries as i64;
    assert!(n >= 9, "4 users, a login and 4 decisions");
    let anchor = report.last_hash.clone().unwrap();

    // The log refuses changes through SQL.
    let url = e.seeded.url.clone();
    assert!(
        raw_sql(&url, "UPDATE audit_log SET actor = 'x' WHERE id = 2")
            .await
            .is_err()
    );
    assert!(
        raw_sql(&url, "DELETE FROM audit_log WHERE id = 2")
            .await
            .is_err()
    );

    // Someone with the database file drops the guards and edits entry 6,
    // deletes entry 3, and removes the last entry.
    let unguard = if url.starts_with("postgres") {
        "ALTER TABLE audit_log DISABLE TRIGGER USER"
    } else {
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete"
    };
    raw_sql(&url, unguard).await.unwrap();
    raw_sql(
        &url,
        "UPDATE audit_log SET details = replace(details, 'confirm', 'dismiss') WHERE id = 6",
    )
    .await
    .unwrap();
    raw_sql(&url, "DELETE FROM audit_log WHERE id = 3")
        .await
        .unwrap();
    raw_sql(&url, &format!("DELETE FROM audit_log WHERE id = {n}"))
        .await
        .unwrap();
    let report = store.verify_audit(Some(anchor.clone())).await.unwrap();
    assert!(
        report.problems.contains(&Problem::Edited { id: 6 }),
        "{:?}",
        report.problems
    );
    assert!(report.problems.contains(&Problem::Missing {
        from_id: 3,
        to_id: 3
    }));
    assert!(report.problems.contains(&Problem::TruncatedEnd {
        last_id: n - 1,
        head_last_id: n
    }));
    assert!(
        report
            .problems
            .contains(&Problem::AnchorNotFound { hash: anchor })
    );

    // The command line says the same, with exit code 1.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .args(["--db", &url, "audit", "verify"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("entry 6 was changed"), "{text}");
    assert!(text.contains("entry 3 was deleted"), "{text}");

    // And the web page, for supervisors.
    let (boss, _) = login(base, "boss").await;
    let page = boss
        .get(format!("{base}/audit?verify=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("校验未通过"));
    assert!(page.contains("entry 6 was changed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_listings_are_shown_as_text_and_evidence_is_sandboxed() {
    let e = env().await;
    let base = &e.base;
    let store = &e.seeded.store;
    let all = queue(
        store,
        QueueParams {
            state: Some("all".into()),
            per_page: Some("200".into()),
            ..Default::default()
        },
    )
    .await;
    let listings = store
        .listings_page(&Default::default(), 0, 10_000)
        .await
        .unwrap();
    let hostile = listings
        .iter()
        .find(|l| l.listing.title.starts_with(HOSTILE_TITLE_PREFIX))
        .expect("the marketplace serves hostile listings");
    let (c, _) = login(base, "wang").await;

    let page = c
        .get(format!("{base}/listings/{}", hostile.id))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers().clone();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert!(
        !h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("unsafe-inline")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<script>window.__pwned"),
        "the title is escaped"
    );
    assert!(!html.contains("<img src=x"));
    assert!(
        html.contains("&#60;script&#62;window.__pwned"),
        "{}",
        &html[html.find("listing-title").unwrap()..][..300]
    );
    assert!(html.contains("sandbox"), "the evidence frame is sandboxed");
    assert!(
        !html.contains("<script>") || html.matches("<script").count() == 1,
        "only our own script tag"
    );

    if all.iter().any(|r| r.listing_id == hostile.id) {
        let q = c
            .get(format!("{base}/queue?state=all&per_page=200"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!q.contains("<script>window.__pwned"));
        assert!(q.contains("&#60;script&#62;window.__pwned"));
    }
    // The API returns the text as data.
    let api: Value = c
        .get(format!("{base}/api/findings/{}", hostile.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        api["listing"]["title"]
            .as_str()
            .unwrap()
            .starts_with(HOSTILE_TITLE_PREFIX)
    );

    // The captured page keeps its script, but is served in a sandbox with
    // no way to load anything, and its refresh is disarmed.
    let page_id = store
        .finding_detail(hostile.id)
        .await
        .unwrap()
        .unwrap()
        .page
        .unwrap()
        .id;
    let ev = c
        .get(format!("{base}/evidence/{page_id}"))
        .send()
        .await
        .unwrap();
    let csp = ev.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.starts_with("sandbox;"), "{csp}");
    assert!(csp.contains("default-src 'none'"));
    assert_eq!(ev.headers()["x-frame-options"], "SAMEORIGIN");
    let body = ev.text().await.unwrap();
    assert!(
        body.contains("window.top.__pwned"),
        "the evidence is shown as captured"
    );
    assert!(!body.to_ascii_lowercase().contains("http-equiv"));
    // The raw download is an attachment, never rendered by the browser.
    let raw = c
        .get(format!("{base}/evidence/{page_id}/raw"))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-type"], "application/octet-stream");
    assert!(
        raw.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_filters_searches_and_pages_without_gaps() {
    let e = env_with(300, support::web_settings()).await;
    let base = &e.base;
    let store = &e.seeded.store;
    let (c, _) = login(base, "zhao").await;

    // Paging by five over every flagged finding: each exactly once, in order.
    let api = |q: String| {
        let c = c.clone();
        let base = base.clone();
        async move {
            let r = c.get(format!("{base}/api/queue?{q}")).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{q}");
            r.json::<Value>().await.unwrap()
        }
    };
    let first = api("state=all&per_page=5".into()).await;
    let total = first["total"].as_i64().unwrap();
    assert!(total > 20);
    let mut seen = Vec::new();
    let mut page = first;
    let mut pages = vec![];
    loop {
        let ids: Vec<i64> = page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["listing_id"].as_i64().unwrap())
            .collect();
        let confs: Vec<f64> = page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["confidence"].as_f64().unwrap())
            .collect();
        assert!(
            confs.windows(2).all(|w| w[0] >= w[1]),
            "sorted by confidence"
        );
        seen.extend(ids.clone());
        pages.push((ids, page["prev"].clone()));
        match page["next"].as_str() {
            Some(next) => {
                page = api(format!("state=all&per_page=5&after={}", urlencode(next))).await
            }
            None => break,
        }
    }
    let unique: std::collections::HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no row twice");
    assert_eq!(seen.len() as i64, total, "no row missed");
    // Back one page from the third gives the second again.
    let back = api(format!(
        "state=all&per_page=5&before={}",
        urlencode(pages[2].1.as_str().unwrap())
    ))
    .await;
    let back_ids: Vec<i64> = back["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["listing_id"].as_i64().unwrap())
        .collect();
    assert_eq!(back_ids, pages[1].0);

    // Filters narrow; every row matches them.
    let some = queue(
        store,
        QueueParams {
            state: Some("all".into()),
            ..Default::default()
        },
    )
    .await;
    let verdict = some[0].verdict;
    let v = api(format!(
        "state=all&per_page=200&verdict={}",
        verdict.as_str()
    ))
    .await;
    assert!(
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["verdict"] == verdict.as_str())
    );
    let seller = some.iter().find_map(|r| r.seller.clone()).unwrap();
    let s = api(format!(
        "state=all&per_page=200&seller={}",
        urlencode(&seller)
    ))
    .await;
    assert!(!s["rows"].as_array().unwrap().is_empty());
    assert!(
        s["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["seller"] == seller.as_str())
    );
    let conf = api("state=all&per_page=200&min_conf=0.9".into()).await;
    assert!(
        conf["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["confidence"].as_f64().unwrap() >= 0.9)
    );
    let code = some.iter().find_map(|r| r.category_code.clone()).unwrap();
    let cat = api(format!("state=all&per_page=200&category={code}")).await;
    assert!(!cat["rows"].as_array().unwrap().is_empty());
    assert!(
        cat["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["category_code"] == code.as_str())
    );
    let html = c
        .get(format!("{base}/queue?state=all&category={code}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("<option value=\"{code}\" selected>")),
        "the category stays chosen"
    );
    let oldest = api("state=all&per_page=200&sort=oldest".into()).await;
    assert_eq!(oldest["total"], json!(total));

    // Search: a two-character Chinese word, a model number prefix, a seller.
    let titled = some
        .iter()
        .find(|r| {
            r.title
                .chars()
                .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
                .count()
                >= 4
        })
        .unwrap();
    let word: String = titled
        .title
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .take(2)
        .collect();
    let found = api(format!("state=all&per_page=200&q={}", urlencode(&word))).await;
    let rows = found["rows"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["listing_id"] == titled.listing_id),
        "searching {word}"
    );
    for r in rows {
        let hay = format!("{}{}{}{}", r["title"], r["brand"], r["model"], r["seller"]);
        assert!(hay.contains(&word), "{word} in {hay}");
    }
    if let Some(model) = some
        .iter()
        .find_map(|r| r.model.clone().filter(|m| m.len() >= 5 && m.is_ascii()))
    {
        let prefix: String = model.chars().take(model.len() - 1).collect();
        let found = api(format!("state=all&per_page=200&q={}", urlencode(&prefix))).await;
        assert!(
            found["rows"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["model"].as_str() == Some(model.as_str())),
            "model prefix {prefix}"
        );
    }
    // Operators typed into the box are plain words, not syntax errors.
    assert_eq!(
        c.get(format!("{base}/queue?q={}", urlencode("\" OR * NEAR(")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // The HTML queue carries the filters into its links.
    let html = c
        .get(format!(
            "{base}/queue?state=all&verdict={}&per_page=5",
            verdict.as_str()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("verdict={}", verdict.as_str())));
    assert!(html.contains("next-page") || total <= 5);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_work_without_cookies_and_keep_roles() {
    let e = env().await;
    let base = &e.base;
    let store = &e.seeded.store;
    let id = pending(store).await[0].listing_id;
    let token = auth::random_token();
    store
        .add_api_token("wang", "对接", &auth::token_hash(&token), "test")
        .await
        .unwrap();
    let viewer = auth::random_token();
    store
        .add_api_token("zhao", "只读", &auth::token_hash(&viewer), "test")
        .await
        .unwrap();
    let c = reqwest::Client::new();

    let me: Value = c
        .get(format!("{base}/api/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "wang");
    assert!(
        me["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("decide"))
    );
    let f: Value = c
        .get(format!("{base}/api/findings/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(f["review_state"], "pending");
    assert!(!f["finding"]["reasons"].as_array().unwrap().is_empty());
    // Bearer requests need no CSRF token: browsers never send them on their own.
    let r = c
        .post(format!("{base}/api/findings/{id}/decision"))
        .bearer_auth(&token)
        .json(&json!({"action": "dismiss", "reason": "exempt", "note": "已提供免办证明", "seen_decision": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["review_state"], "dismissed");
    // The same stale view again: conflict.
    let r = c
        .post(format!("{base}/api/findings/{id}/decision"))
        .bearer_auth(&token)
        .json(&json!({"action": "confirm", "seen_decision": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // A viewer's token reads but may not decide.
    let r = c
        .post(format!("{base}/api/findings/{id}/decision"))
        .bearer_auth(&viewer)
        .json(&json!({"action": "confirm"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        c.get(format!("{base}/api/queue"))
            .bearer_auth(&viewer)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Unknown tokens and malformed bodies.
    assert_eq!(
        c.get(format!("{base}/api/queue"))
            .bearer_auth("nope")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let r = c
        .post(format!("{base}/api/findings/{id}/decision"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );
    let r = c
        .get(format!("{base}/api/queue?verdict=nope"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let d: Value = c
        .get(format!("{base}/api/dashboard"))
        .bearer_auth(&viewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(d["flagged"].as_i64().unwrap() > 0);
    assert_eq!(
        d["by_state"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s[0] == "dismissed")
            .unwrap()[1],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_manage_accounts_and_every_change_is_audited() {
    let e = env_with(40, support::web_settings()).await;
    let base = &e.base;
    let store = &e.seeded.store;
    let (admin, csrf) = login(base, "admin").await;
    let add = |u: &'static str, pw: &'static str| {
        let admin = admin.clone();
        let csrf = csrf.clone();
        let base = base.clone();
        async move {
            admin
                .post(format!("{base}/admin/users"))
                .form(&[
                    ("_csrf", csrf.as_str()),
                    ("username", u),
                    ("display_name", "孙悦"),
                    ("role", "reviewer"),
                    ("password", pw),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // The page also shows the workspace's settings, read-only.
    let page = admin
        .get(format!("{base}/admin/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("web.session_idle_minutes") && page.contains("30 分钟"));
    let r = add("sunyue", "a long enough pw").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("已新增用户 sunyue"));
    assert_eq!(
        add("sunyue", "a long enough pw").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "exists"
    );
    assert_eq!(
        add("x y", "a long enough pw").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad name"
    );
    assert_eq!(
        add("shortpw", "short").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "short password"
    );
    let (_, r) = login_as(base, "sunyue", "a long enough pw").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    let change = |u: &'static str, fields: Vec<(&'static str, &'static str)>| {
        let admin = admin.clone();
        let csrf = csrf.clone();
        let base = base.clone();
        async move {
            let mut f = vec![("_csrf", csrf.as_str())];
            f.extend(fields);
            admin
                .post(format!("{base}/admin/users/{u}"))
                .form(&f)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        change("sunyue", vec![("op", "role"), ("role", "supervisor")]).await,
        StatusCode::OK
    );
    assert_eq!(
        store
            .user_by_name("sunyue")
            .await
            .unwrap()
            .unwrap()
            .0
            .role
            .as_str(),
        "supervisor"
    );
    assert_eq!(
        change("sunyue", vec![("op", "disable")]).await,
        StatusCode::OK
    );
    assert!(
        store
            .user_by_name("sunyue")
            .await
            .unwrap()
            .unwrap()
            .0
            .disabled
    );
    assert_eq!(
        change("sunyue", vec![("op", "enable")]).await,
        StatusCode::OK
    );
    assert_eq!(
        change(
            "sunyue",
            vec![("op", "password"), ("password", "another long pw")]
        )
        .await,
        StatusCode::OK
    );
    let (_, r) = login_as(base, "sunyue", "another long pw").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Not on oneself: an administrator cannot lock themselves out.
    assert_eq!(
        change("admin", vec![("op", "disable")]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        change("nobody", vec![("op", "disable")]).await,
        StatusCode::NOT_FOUND
    );

    let log = store
        .audit_page(None, Some("user:sunyue"), 20)
        .await
        .unwrap();
    let actions: Vec<&str> = log.entries.iter().map(|a| a.action.as_str()).collect();
    for a in [
        "user.add",
        "user.role",
        "user.disable",
        "user.enable",
        "user.password",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert!(
        log.entries
            .iter()
            .filter(|a| a.action != "auth.login")
            .all(|a| a.actor == "admin")
    );

    // Changing one's own password ends one's sessions.
    let (wang, wcsrf) = login(base, "wang").await;
    let r = wang
        .post(format!("{base}/account"))
        .form(&[
            ("_csrf", wcsrf.as_str()),
            ("current", PASSWORD),
            ("password", "my new password"),
            ("confirm", "my new password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get(&wang, format!("{base}/api/me")).await,
        StatusCode::UNAUTHORIZED
    );
    let (_, r) = login_as(base, "wang", "my new password").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_verdict_sends_a_decided_finding_back_to_the_queue() {
    use cccwatch::domain::Verdict;
    use cccwatch::store::FindingWrite;
    let e = env_with(40, support::web_settings()).await;
    let store = &e.seeded.store;
    let row = pending(store).await.into_iter().next().unwrap();
    let boss = store.user_by_name("boss").await.unwrap().unwrap().0;
    let confirm = cccwatch::review::decision::DecisionInput {
        action: "confirm".into(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    store
        .decide(row.listing_id, &boss, &confirm, Some(None), &check_allowed)
        .await
        .unwrap();
    let before = store.finding_detail(row.listing_id).await.unwrap().unwrap();
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();

    // The same verdict again (a nightly re-match): the decision stands.
    let mut finding = before.finding.clone().unwrap();
    let run = store.begin_match_run(as_of, None).await.unwrap();
    run.write(&[FindingWrite {
        listing_id: row.listing_id,
        finding: finding.clone(),
    }])
    .await
    .unwrap();
    let same = store.finding_detail(row.listing_id).await.unwrap().unwrap();
    assert_eq!(same.review_state.unwrap().as_str(), "confirmed");
    assert_eq!(same.decision_id, before.decision_id);

    // Another flagged verdict (the certificate was revoked since): back to
    // the queue, the old decision kept in the history.
    finding.verdict = if finding.verdict == Verdict::Revoked {
        Verdict::Expired
    } else {
        Verdict::Revoked
    };
    let run = store.begin_match_run(as_of, None).await.unwrap();
    run.write(&[FindingWrite {
        listing_id: row.listing_id,
        finding: finding.clone(),
    }])
    .await
    .unwrap();
    let again = store.finding_detail(row.listing_id).await.unwrap().unwrap();
    assert_eq!(again.review_state.unwrap().as_str(), "pending");
    assert_eq!(again.decision_id, None);
    assert_ne!(again.queued_at, before.queued_at);
    assert_eq!(store.decisions_for(row.listing_id).await.unwrap().len(), 1);

    // Compliant now (a renewed certificate): out of the queue altogether.
    finding.verdict = Verdict::Compliant;
    let run = store.begin_match_run(as_of, None).await.unwrap();
    run.write(&[FindingWrite {
        listing_id: row.listing_id,
        finding,
    }])
    .await
    .unwrap();
    let ok = store.finding_detail(row.listing_id).await.unwrap().unwrap();
    assert_eq!(ok.review_state, None);
    let all = queue(
        store,
        QueueParams {
            state: Some("all".into()),
            per_page: Some("200".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(all.iter().all(|r| r.listing_id != row.listing_id));
}

/// Notices in the workspace: a supervisor issues a batch from the page, the
/// files download (zip, list), a reviewer records replies typed in and
/// uploaded as the returned list, a viewer only reads; hostile titles stay
/// text; files outside the batch are not served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_are_issued_downloaded_and_answered_from_the_workspace() {
    let seeded = support::seeded(100).await;
    let store = &seeded.store;
    let out = tempfile::tempdir().unwrap();
    let notices = support::notice_settings(out.path());
    let (base, _stop) =
        support::start_with_notices(store, &seeded.brands, support::web_settings(), notices).await;
    // Confirm three, the hostile listing among them.
    let flagged = pending(store).await;
    let mut ids: Vec<i64> = flagged
        .iter()
        .filter(|r| r.title.starts_with(HOSTILE_TITLE_PREFIX))
        .map(|r| r.listing_id)
        .take(1)
        .collect();
    let more: Vec<i64> = flagged
        .iter()
        .map(|r| r.listing_id)
        .filter(|i| !ids.contains(i))
        .take(3 - ids.len())
        .collect();
    ids.extend(more);
    let boss = store.user_by_name("boss").await.unwrap().unwrap().0;
    let confirm = cccwatch::review::decision::DecisionInput {
        action: "confirm".into(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    for id in &ids {
        store
            .decide(*id, &boss, &confirm, None, &check_allowed)
            .await
            .unwrap();
    }

    // A viewer sees what waits but cannot issue.
    let (viewer, viewer_csrf) = login(&base, "zhao").await;
    let page = viewer
        .get(format!("{base}/notices"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("3 条") && !page.contains("签发通知</button>"),
        "viewer: count, no button"
    );
    let r = viewer
        .post(format!("{base}/notices/issue"))
        .form(&[("_csrf", viewer_csrf.as_str()), ("platform", "demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // With the shipped settings the page says what to fill in, and issuing
    // is refused before a number is taken.
    let shipped = cccwatch::config::NoticeSettings {
        out_dir: out.path().join("shipped"),
        templates_dir: out.path().join("none"),
        pdf_browser: String::new(),
        ..Default::default()
    };
    let (raw_base, _raw_stop) =
        support::start_with_notices(store, &seeded.brands, support::web_settings(), shipped).await;
    let (raw_sup, raw_csrf) = login(&raw_base, "boss").await;
    let page = raw_sup
        .get(format!("{raw_base}/notices"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("暂不能签发")
            && page.contains("notices.contact")
            && page.contains("cccwatch init"),
        "the page names what to fill in"
    );
    assert!(
        !page.contains("签发通知</button>"),
        "no button while it would be refused"
    );
    let r = raw_sup
        .post(format!("{raw_base}/notices/issue"))
        .form(&[("_csrf", raw_csrf.as_str()), ("platform", "demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("未签发，未占用文号") && text.contains("notices.platform_names.demo"),
        "the refusal says why"
    );
    assert!(store.notice_batches(None).await.unwrap().is_empty());
    assert!(!out.path().join("shipped").exists(), "nothing written");

    // The supervisor issues; a forged token is refused first.
    let (sup, csrf) = login(&base, "boss").await;
    let page = sup
        .get(format!("{base}/notices"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<td>演示商城</td>") && page.contains("演示商城运营有限公司"),
        "the platform by its Chinese name, and its addressee"
    );
    let r = sup
        .post(format!("{base}/notices/issue"))
        .form(&[("_csrf", csrf.as_str()), ("platform", "JD")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("未知平台“JD”") && text.contains("jd（京东）"),
        "an unknown platform is named with the known ones"
    );
    let r = sup
        .post(format!("{base}/notices/issue"))
        .form(&[("_csrf", "forged"), ("platform", "demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = sup
        .post(format!("{base}/notices/issue"))
        .form(&[("_csrf", csrf.as_str()), ("platform", "demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let at = r.headers()["location"].to_str().unwrap().to_string();
    assert!(at.starts_with("/notices/"), "{at}");
    let batch = store.notice_batches(Some("demo")).await.unwrap().remove(0);
    let page = sup
        .get(format!("{base}{at}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&batch.number) && page.contains("通知已签发"));
    assert!(
        page.contains("<dd>演示商城</dd>") && page.contains("<dd>演示商城运营有限公司</dd>"),
        "the batch names the platform in Chinese and its addressee"
    );
    assert!(
        !page.contains("<script>window.__pwned"),
        "hostile title escaped"
    );
    assert_eq!(page.matches("已发出").count(), 3);
    // Nothing left: issuing again says so.
    let r = sup
        .post(format!("{base}/notices/issue"))
        .form(&[("_csrf", csrf.as_str()), ("platform", "demo")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Files: the zip and the list as attachments; the letter sandboxed; nothing else.
    let zip = sup
        .get(format!("{base}/notices/{}/files/batch.zip", batch.id))
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), StatusCode::OK);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let zip_bytes = zip.bytes().await.unwrap();
    assert!(zip_bytes.starts_with(b"PK"));
    let xlsx = sup
        .get(format!("{base}/notices/{}/files/list.xlsx", batch.id))
        .send()
        .await
        .unwrap();
    assert!(
        xlsx.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let xlsx_bytes = xlsx.bytes().await.unwrap();
    let letter = sup
        .get(format!("{base}/notices/{}/files/letter.html", batch.id))
        .send()
        .await
        .unwrap();
    assert!(
        letter.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    for bad in [
        "..%2F..%2Fetc%2Fpasswd",
        "manifest.json",
        "evidence",
        "letter.pdf",
    ] {
        let r = sup
            .get(format!("{base}/notices/{}/files/{bad}", batch.id))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
    }

    // A reviewer types one reply in, then uploads the platform's returned list for the rest.
    let (rev, rev_csrf) = login(&base, "wang").await;
    let lines = store.notice_lines(batch.id).await.unwrap();
    let r = rev
        .post(format!("{base}/notices/{}/reply", batch.id))
        .form(&[
            ("_csrf", rev_csrf.as_str()),
            ("item_id", lines[0].item_id.as_str()),
            ("text", "已下架"),
            ("date", "2026/11/30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The returned list: our list.xlsx read back, result filled in for row 2, an unknown ID added.
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx_bytes.to_vec())).unwrap();
    use calamine::Reader;
    let sheet = book.worksheet_range("商品清单").unwrap();
    let mut csv = String::from("\u{feff}");
    for (i, row) in sheet.rows().enumerate() {
        let mut cells: Vec<String> = row.iter().map(|c| c.to_string()).collect();
        cells.resize(17, String::new());
        if i == 2 {
            cells[15] = "已要求商家整改".into();
            cells[16] = "2026-12-01".into();
        }
        csv.push_str(
            &cells
                .iter()
                .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push('\n');
    }
    csv.push_str(&format!(
        "{}\n",
        [
            "9",
            "demo",
            "123456789",
            "",
            "",
            "x",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "已下架",
            ""
        ]
        .join(",")
    ));
    let form = reqwest::multipart::Form::new()
        .text("_csrf", rev_csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("京东回传.csv"),
        );
    let page = rev
        .post(format!("{base}/notices/{}/reply-file", batch.id))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("记录 1 条平台回复"),
        "one filled-in row recorded"
    );
    assert!(page.contains("该商品编号不在本批通知中") && page.contains("123456789"));
    let lines = store.notice_lines(batch.id).await.unwrap();
    assert_eq!(
        lines.iter().filter(|l| l.state == "acknowledged").count(),
        2
    );
    assert_eq!(lines[0].ack_source.as_deref(), Some("页面录入"));
    assert_eq!(lines[1].ack_source.as_deref(), Some("京东回传.csv"));
    // A viewer cannot record replies.
    let r = viewer
        .post(format!("{base}/notices/{}/reply", batch.id))
        .form(&[
            ("_csrf", viewer_csrf.as_str()),
            ("item_id", lines[2].item_id.as_str()),
            ("text", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The listing page shows the notice.
    let page = rev
        .get(format!("{base}/listings/{}", lines[0].listing_id))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&batch.number) && page.contains("平台已回复"));
    let log = store
        .audit_page(None, Some(&format!("notice:{}", batch.number)), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = log.entries.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"notice.issue") && actions.contains(&"notice.reply"),
        "{actions:?}"
    );
}
