//! `db copy` and `db migrate`: a bureau's SQLite database moved to
//! PostgreSQL and back, verified; re-runs insert nothing; a bad value stops
//! the copy naming table, row and column and loses nothing. Needs
//! `CCCWATCH_TEST_PG` (says skipped without it).

use crate::support::{self, pg_database, seeded};
use cccwatch::store::Store;
use cccwatch::store::copy::{self, CopyReport};

fn inserted(r: &CopyReport) -> u64 {
    r.tables.iter().map(|t| t.inserted).sum()
}

fn rows(r: &CopyReport) -> u64 {
    r.tables.iter().map(|t| t.source).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_postgres_and_back_keeps_every_row_hash_and_the_audit_chain() {
    let Some(pg) = pg_database("db_copy::sqlite_to_postgres_and_back").await else {
        return;
    };
    let world = seeded(60).await;
    let sqlite_url = format!("sqlite://{}", world.dir.path().join("t.db").display());
    world.store.close().await;

    let there = copy::copy(&sqlite_url, &pg.url, 500, &mut ())
        .await
        .unwrap();
    assert!(there.ok(), "{there:#?}");
    assert!(rows(&there) > 700, "a real database: {there:#?}");
    assert_eq!(inserted(&there), rows(&there), "every row inserted once");
    assert!(there.evidence.bodies_verified > 0, "{:?}", there.evidence);
    assert!(
        there.destination_audit.entries >= 4,
        "the accounts' audit entries"
    );

    // A second run finds everything there and inserts nothing.
    let again = copy::copy(&sqlite_url, &pg.url, 500, &mut ())
        .await
        .unwrap();
    assert!(again.ok(), "{again:#?}");
    assert_eq!(inserted(&again), 0, "{again:#?}");

    // And back into a new SQLite file: the same rows, hashes and chain.
    let back_url = format!(
        "sqlite://{}?mode=rwc",
        world.dir.path().join("back.db").display()
    );
    let back = copy::copy(&pg.url, &back_url, 700, &mut ()).await.unwrap();
    assert!(back.ok(), "{back:#?}");
    assert_eq!(
        back.tables
            .iter()
            .map(|t| (t.table, t.source))
            .collect::<Vec<_>>(),
        there
            .tables
            .iter()
            .map(|t| (t.table, t.source))
            .collect::<Vec<_>>()
    );
    assert_eq!(back.destination_audit, there.source_audit);

    // The PostgreSQL copy serves the same verdicts as the original.
    let original = Store::open(&sqlite_url).await.unwrap();
    let shared = Store::open(&pg.url).await.unwrap();
    let verdicts = |rows: Vec<cccwatch::store::ExportRow>| {
        rows.into_iter()
            .map(|r| format!("{r:?}"))
            .collect::<Vec<_>>()
    };
    let a = verdicts(original.export_page(None, false, 0, 100_000).await.unwrap());
    let b = verdicts(shared.export_page(None, false, 0, 100_000).await.unwrap());
    assert!(!a.is_empty());
    assert_eq!(a, b, "the same findings, field for field");
    original.close().await;
    shared.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_value_names_table_row_and_column_and_a_rerun_finishes_the_copy() {
    let Some(pg) = pg_database("db_copy::a_bad_value").await else {
        return;
    };
    let world = seeded(20).await;
    let path = world.dir.path().join("t.db");
    let sqlite_url = format!("sqlite://{}", path.display());
    let scan_id: i64 = {
        let store = &world.store;
        let scans = store.scans(None, 1).await.unwrap();
        scans[0].id
    };
    world.store.close().await;
    let raw = |sql: &'static str| {
        let url = sqlite_url.clone();
        async move {
            use sqlx::Connection;
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
        }
    };
    raw("UPDATE scans SET started_at = 'yesterday'").await;

    let err = copy::copy(&sqlite_url, &pg.url, 100, &mut ())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("table scans")
            && err.contains(&format!("row {scan_id}"))
            && err.contains("started_at")
            && err.contains("yesterday"),
        "{err}"
    );
    // What came before the bad table is in, and stays.
    let shared = Store::open(&pg.url).await.unwrap();
    let certs = shared.count_certs().await.unwrap();
    assert!(certs > 0, "certificates were copied before the scans");
    shared.close().await;

    // Mended at the source, the copy runs again and completes.
    raw("UPDATE scans SET started_at = '2026-11-18T01:00:00.000Z'").await;
    let done = copy::copy(&sqlite_url, &pg.url, 100, &mut ())
        .await
        .unwrap();
    assert!(done.ok(), "{done:#?}");
    let certs_row = done
        .tables
        .iter()
        .find(|t| t.table == "certificates")
        .unwrap();
    assert_eq!(certs_row.inserted, 0, "certificates were in already");
    assert_eq!(certs_row.destination as i64, certs);
}

#[test]
fn db_migrate_and_copy_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .current_dir(dir.path())
        .args(["--db", &db, "db", "migrate"])
        .output()
        .unwrap();
    let text = support::text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("migrations applied"), "{text}");
    // Re-running is harmless.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .current_dir(dir.path())
        .args(["--db", &db, "db", "migrate"])
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", support::text(&again));
    assert_eq!(support::text(&again), text);

    // A copy onto itself is refused, with the URL redacted.
    let secret = "postgres://u:hunter2@127.0.0.1:1/x";
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .current_dir(dir.path())
        .args(["db", "copy", "--from", secret, "--to", secret])
        .output()
        .unwrap();
    let t = support::text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(t.contains("same database") && !t.contains("hunter2"), "{t}");

    // SQLite to SQLite: the whole report, verified.
    let to = format!("sqlite://{}?mode=rwc", dir.path().join("copy.db").display());
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .current_dir(dir.path())
        .args(["db", "copy", "--from", &db, "--to", &to])
        .output()
        .unwrap();
    let t = support::text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("copy verified") && t.contains("certificates"),
        "{t}"
    );
}
