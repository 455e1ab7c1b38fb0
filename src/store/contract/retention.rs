//! The storage contract for `store::retention`, run against each backend.

#[allow(unused_imports)]
use super::*;

/// Retention's cutoff in these tests: everything before June is old.
#[allow(dead_code)]
const CUTOFF: &str = "2026-06-01T00:00:00.000Z";

/// Scans of jd and tb in every state and snapshot state. Ids by time: the
/// latest recorded jd scan is 7 (after the cutoff), tb's only one is 4.
#[allow(dead_code)]
const SCANS: &str = "
INSERT INTO scans (id, platform, state, started_at, finished_at, as_of, keywords, max_pages, snapshot) VALUES
 (1, 'jd', 'completed', '2026-05-01T00:00:00.000Z', '2026-05-01T01:00:00.000Z', '2026-05-01', '[]', 10, 'kept'),
 (2, 'jd', 'completed_with_errors', '2026-05-10T00:00:00.000Z', '2026-05-10T01:00:00.000Z', '2026-05-10', '[]', 10, 'kept'),
 (3, 'jd', 'running', '2026-05-02T00:00:00.000Z', NULL, '2026-05-02', '[]', 10, 'kept'),
 (4, 'tb', 'failed', '2026-05-01T00:00:00.000Z', '2026-05-01T01:00:00.000Z', '2026-05-01', '[]', 10, 'kept'),
 (5, 'jd', 'interrupted', '2026-05-01T00:00:00.000Z', '2026-05-01T01:00:00.000Z', '2026-05-01', '[]', 10, NULL),
 (6, 'jd', 'completed', '2026-05-01T00:00:00.000Z', '2026-05-01T01:00:00.000Z', '2026-05-01', '[]', 10, 'pruned'),
 (7, 'jd', 'completed', '2026-06-30T00:00:00.000Z', '2026-07-01T01:00:00.000Z', '2026-06-30', '[]', 10, 'kept');
";

/// Listings, findings, a decision, notices, an event and a relist that
/// keep some old pages; pages 1, 11, 2 and 12 (in that order) are the only
/// ones nothing needs.
#[allow(dead_code)]
const PAGES: &str = "
INSERT INTO match_runs (id, started_at, as_of, state) VALUES (1, '2026-05-01T00:00:00.000Z', '2026-05-01', 'completed');
INSERT INTO pages (id, scan_id, platform, item_id, kind, url, final_url, fetched_at, status, headers, encoding, body_gz, body_len, sha256, pruned_at) VALUES
 (1, 1, 'jd', NULL, 'search', 'u1', 'u1', '2026-05-01T00:00:01.000Z', 200, '[]', NULL, 'aaaa', 4, 's', NULL),
 (2, 1, 'jd', 'i1', 'item', 'u2', 'u2', '2026-05-01T00:00:02.000Z', 200, '[]', NULL, 'bbbbbb', 6, 's', NULL),
 (3, 1, 'jd', 'i2', 'item', 'u3', 'u3', '2026-05-01T00:00:03.000Z', 200, '[]', NULL, 'ccc', 3, 's', NULL),
 (4, 1, 'jd', NULL, 'search', 'u4', 'u4', '2026-05-01T00:00:04.000Z', 200, '[]', NULL, 'dddd', 4, 's', NULL),
 (5, 1, 'jd', NULL, 'search', 'u5', 'u5', '2026-05-01T00:00:05.000Z', 200, '[]', NULL, 'eeee', 4, 's', NULL),
 (6, 1, 'jd', 'i3', 'item', 'u6', 'u6', '2026-05-01T00:00:06.000Z', 200, '[]', NULL, 'ffff', 4, 's', NULL),
 (7, 1, 'jd', 'i4', 'item', 'u7', 'u7', '2026-05-01T00:00:07.000Z', 200, '[]', NULL, 'gggg', 4, 's', NULL),
 (8, 7, 'jd', NULL, 'search', 'u8', 'u8', '2026-06-30T00:00:00.000Z', 200, '[]', NULL, 'hhhh', 4, 's', NULL),
 (9, 1, 'jd', 'i1', 'item', 'u9', 'u9', '2026-05-01T00:00:09.000Z', 200, '[]', NULL, 'iiii', 4, 's', NULL),
 (10, 1, 'jd', NULL, 'search', 'u10', 'u10', '2026-05-01T00:00:00.500Z', 200, '[]', NULL, '', 4, 's', '2026-05-20T00:00:00.000Z'),
 (11, 1, 'jd', NULL, 'search', 'u11', 'u11', '2026-05-01T00:00:01.000Z', 200, '[]', NULL, 'j', 1, 's', NULL),
 (12, 4, 'tb', 'i3', 'item', 'u12', 'u12', '2026-05-01T00:00:12.000Z', 200, '[]', NULL, 'kkkkkkkk', 8, 's', NULL),
 (13, 1, 'jd', 'i6', 'item', 'u13', 'u13', '2026-05-01T00:00:13.000Z', 200, '[]', NULL, 'llll', 4, 's', NULL),
 (14, 1, 'jd', 'i7', 'item', 'u14', 'u14', '2026-05-01T00:00:14.000Z', 200, '[]', NULL, 'mmmm', 4, 's', NULL);
INSERT INTO listings (id, platform, item_id, title, params, content_hash, source, first_seen_at, last_seen_at, updated_at, page_id) VALUES
 (1, 'jd', 'i1', 't', '[]', 'h', 'scan:1', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', 9),
 (2, 'jd', 'i2', 't', '[]', 'h', 'scan:1', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', 3),
 (3, 'jd', 'i3', 't', '[]', 'h', 'scan:1', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', NULL),
 (4, 'jd', 'i4', 't', '[]', 'h', 'scan:1', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', NULL),
 (6, 'jd', 'i6', 't', '[]', 'h', 'scan:1', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', NULL),
 (7, 'jd', 'i7', 't', '[]', 'h', 'scan:1', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', NULL);
INSERT INTO findings (listing_id, verdict, confidence, matched_cert, cert_numbers, reasons, as_of, run_id, matched_at, platform) VALUES
 (1, 'compliant', 1.0, NULL, '[]', '[]', '2026-05-01', 1, '2026-05-01T00:00:00.000Z', 'jd'),
 (2, 'compliant', 1.0, NULL, '[]', '[]', '2026-05-01', 1, '2026-05-01T00:00:00.000Z', 'jd'),
 (3, 'uncertified', 1.0, NULL, '[]', '[]', '2026-05-01', 1, '2026-05-01T00:00:00.000Z', 'jd'),
 (4, 'compliant', 1.0, NULL, '[]', '[]', '2026-05-01', 1, '2026-05-01T00:00:00.000Z', 'jd'),
 (6, 'not_in_scope', 1.0, NULL, '[]', '[]', '2026-05-01', 1, '2026-05-01T00:00:00.000Z', 'jd');
INSERT INTO users (id, username, display_name, role, password_hash, created_at, password_changed_at) VALUES
 (1, 'rev', 'Reviewer', 'reviewer', 'x', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z');
INSERT INTO decisions (id, listing_id, action, verdict, user_id, decided_at, audit_id) VALUES
 (1, 4, 'dismiss', 'compliant', 1, '2026-05-02T00:00:00.000Z', 1);
INSERT INTO notice_batches (id, platform, year, seq, number, issued_at, issued_by, deadline, listings) VALUES
 (1, 'jd', 2026, 1, 'N-1', '2026-05-03T00:00:00.000Z', 'sup', '2026-05-20', 2);
INSERT INTO notices (id, batch_id, listing_id, decision_id, state, state_at, evidence_page_id) VALUES
 (1, 1, 4, 1, 'issued', '2026-05-03T00:00:00.000Z', 4),
 (2, 1, 6, 1, 'issued', '2026-05-03T00:00:00.000Z', NULL);
INSERT INTO notice_events (id, notice_id, at, state, page_id, actor) VALUES
 (1, 1, '2026-05-04T00:00:00.000Z', 'still_online', 5, 'verify');
INSERT INTO relists (id, notice_id, listing_id, detected_at) VALUES
 (1, 1, 7, '2026-05-05T00:00:00.000Z');
";

contract!(an_empty_database_has_nothing_to_prune, |db, _clock| {
    let b = db
        .prune_pages_batch(CUTOFF, &(String::new(), 0), 100, false, START)
        .await
        .unwrap();
    assert_eq!((b.pages, b.bytes, b.next), (0, 0, None));
    assert_eq!(db.old_pages_kept(CUTOFF).await.unwrap(), 0);
    assert_eq!(db.page_pruned_at(1).await.unwrap(), None);
    assert!(db.snapshots_before(CUTOFF).await.unwrap().is_empty());
    assert_eq!(db.snapshot_rows(1).await.unwrap(), 0);
    assert_eq!(db.prune_snapshot_batch(1, 10).await.unwrap(), 0);
    assert!(db.finished_frontiers(CUTOFF).await.unwrap().is_empty());
    assert_eq!(db.prune_frontier_batch(1, 10).await.unwrap(), 0);
});

contract!(
    old_page_bodies_that_nothing_needs_are_emptied_in_batches,
    |db, _clock| {
        db.exec_sql(SCANS).await;
        db.exec_sql(PAGES).await;
        let start = (String::new(), 0i64);
        assert_eq!(db.old_pages_kept(CUTOFF).await.unwrap(), 12);

        // A dry run walks the same batches and changes nothing.
        let b1 = db
            .prune_pages_batch(CUTOFF, &start, 2, true, START)
            .await
            .unwrap();
        assert_eq!((b1.pages, b1.bytes), (2, 5));
        // Pages 1 and 11 share their time: by id.
        assert_eq!(b1.next, Some(("2026-05-01T00:00:01.000Z".to_string(), 11)));
        let b2 = db
            .prune_pages_batch(CUTOFF, b1.next.as_ref().unwrap(), 2, true, START)
            .await
            .unwrap();
        assert_eq!((b2.pages, b2.bytes), (2, 14));
        assert_eq!(b2.next, Some(("2026-05-01T00:00:12.000Z".to_string(), 12)));
        let b3 = db
            .prune_pages_batch(CUTOFF, b2.next.as_ref().unwrap(), 2, true, START)
            .await
            .unwrap();
        assert_eq!((b3.pages, b3.bytes, b3.next), (0, 0, None));
        // Resuming between two pages of the same time.
        let mid = ("2026-05-01T00:00:01.000Z".to_string(), 1);
        let b = db
            .prune_pages_batch(CUTOFF, &mid, 1, true, START)
            .await
            .unwrap();
        assert_eq!(b.next, Some(("2026-05-01T00:00:01.000Z".to_string(), 11)));
        assert_eq!(db.old_pages_kept(CUTOFF).await.unwrap(), 12);
        assert_eq!(db.page_pruned_at(1).await.unwrap(), None);

        // For real.
        let now = "2026-06-30T08:00:00.123Z";
        let r1 = db
            .prune_pages_batch(CUTOFF, &start, 3, false, now)
            .await
            .unwrap();
        assert_eq!((r1.pages, r1.bytes), (3, 11));
        assert_eq!(r1.next, Some(("2026-05-01T00:00:02.000Z".to_string(), 2)));
        let r2 = db
            .prune_pages_batch(CUTOFF, r1.next.as_ref().unwrap(), 3, false, now)
            .await
            .unwrap();
        assert_eq!((r2.pages, r2.bytes), (1, 8));
        assert_eq!(r2.next, Some(("2026-05-01T00:00:12.000Z".to_string(), 12)));
        // Nothing left, from the start either.
        let r3 = db
            .prune_pages_batch(CUTOFF, &start, 3, false, now)
            .await
            .unwrap();
        assert_eq!((r3.pages, r3.bytes, r3.next), (0, 0, None));

        for id in [1, 2, 11, 12] {
            assert_eq!(
                db.page_pruned_at(id).await.unwrap().as_deref(),
                Some(now),
                "page {id}"
            );
            assert_eq!(
                db.scalar_i64(&format!(
                    "SELECT CAST(length(body_gz) AS BIGINT) FROM pages WHERE id = {id}"
                ))
                .await,
                0
            );
        }
        for id in [3, 4, 5, 6, 7, 8, 9, 13, 14] {
            assert_eq!(db.page_pruned_at(id).await.unwrap(), None, "page {id}");
            assert!(
                db.scalar_i64(&format!(
                    "SELECT CAST(length(body_gz) AS BIGINT) FROM pages WHERE id = {id}"
                ))
                .await
                    > 0
            );
        }
        // The page pruned before keeps its time.
        assert_eq!(
            db.page_pruned_at(10).await.unwrap().as_deref(),
            Some("2026-05-20T00:00:00.000Z")
        );
        assert_eq!(db.page_pruned_at(999).await.unwrap(), None);
        assert_eq!(db.old_pages_kept(CUTOFF).await.unwrap(), 8);
        // A later cutoff counts the new page too.
        assert_eq!(
            db.old_pages_kept("2026-07-01T00:00:00.000Z").await.unwrap(),
            9
        );
        assert_eq!(
            db.old_pages_kept("2026-01-01T00:00:00.000Z").await.unwrap(),
            0
        );
    }
);

contract!(
    old_scan_records_and_finished_frontiers_are_deleted_in_batches,
    |db, _clock| {
        db.exec_sql(SCANS).await;
        db.exec_sql(
            "INSERT INTO listings (id, platform, item_id, title, params, content_hash, source, first_seen_at, last_seen_at, updated_at) VALUES
              (1, 'jd', 'i1', 't', '[]', 'h', 's', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z'),
              (2, 'jd', 'i2', 't', '[]', 'h', 's', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z'),
              (3, 'jd', 'i3', 't', '[]', 'h', 's', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z');
             INSERT INTO scan_listings (scan_id, listing_id, state, seen) VALUES
              (1, 1, 'online', TRUE), (1, 2, 'online', TRUE), (1, 3, 'gone', FALSE), (2, 1, 'online', TRUE),
              (7, 1, 'online', TRUE);
             INSERT INTO frontier (id, scan_id, kind, key, url, state) VALUES
              (1, 1, 'item', 'k1', 'u', 'done'), (2, 1, 'item', 'k2', 'u', 'done'), (3, 1, 'search', 'k3', 'u', 'failed'),
              (4, 2, 'item', 'k1', 'u', 'done'),
              (5, 4, 'item', 'k1', 'u', 'done'), (6, 4, 'item', 'k2', 'u', 'pending'),
              (7, 5, 'item', 'k1', 'u', 'pending'),
              (8, 7, 'item', 'k1', 'u', 'done'),
              (9, 3, 'item', 'k1', 'u', 'inflight');",
        )
        .await;

        // Kept records ended before the cutoff, except each platform's
        // latest (7 for jd, 4 for tb); a running scan counts by its start.
        assert_eq!(db.snapshots_before(CUTOFF).await.unwrap(), vec![1, 2, 3]);
        assert_eq!(
            db.snapshots_before("2026-05-05T00:00:00.000Z")
                .await
                .unwrap(),
            vec![1, 3]
        );
        assert_eq!(db.snapshot_rows(1).await.unwrap(), 3);
        assert_eq!(db.snapshot_rows(2).await.unwrap(), 1);
        assert_eq!(db.snapshot_rows(99).await.unwrap(), 0);
        assert_eq!(db.prune_snapshot_batch(1, 2).await.unwrap(), 2);
        // A full batch: maybe more, still kept.
        assert_eq!(db.snapshots_before(CUTOFF).await.unwrap(), vec![1, 2, 3]);
        assert_eq!(db.snapshot_rows(1).await.unwrap(), 1);
        assert_eq!(db.prune_snapshot_batch(1, 2).await.unwrap(), 1);
        assert_eq!(db.snapshots_before(CUTOFF).await.unwrap(), vec![2, 3]);
        assert_eq!(
            db.scalar_i64("SELECT COUNT(*) FROM scans WHERE id = 1 AND snapshot = 'pruned'")
                .await,
            1
        );
        assert_eq!(db.prune_snapshot_batch(2, 1).await.unwrap(), 1);
        assert_eq!(db.snapshots_before(CUTOFF).await.unwrap(), vec![2, 3]);
        assert_eq!(db.prune_snapshot_batch(2, 1).await.unwrap(), 0);
        assert_eq!(db.snapshots_before(CUTOFF).await.unwrap(), vec![3]);
        // The latest scan's rows are untouched.
        assert_eq!(db.snapshot_rows(7).await.unwrap(), 1);

        // Frontiers: ended scans only (interrupted and running ones keep theirs).
        assert_eq!(
            db.finished_frontiers(CUTOFF).await.unwrap(),
            vec![(1, 3), (2, 1), (4, 2)]
        );
        assert_eq!(
            db.finished_frontiers("2026-05-05T00:00:00.000Z")
                .await
                .unwrap(),
            vec![(1, 3), (4, 2)]
        );
        assert_eq!(db.prune_frontier_batch(1, 2).await.unwrap(), 2);
        assert_eq!(db.prune_frontier_batch(1, 2).await.unwrap(), 1);
        assert_eq!(db.prune_frontier_batch(1, 2).await.unwrap(), 0);
        assert_eq!(
            db.finished_frontiers(CUTOFF).await.unwrap(),
            vec![(2, 1), (4, 2)]
        );
        assert_eq!(db.prune_frontier_batch(4, 10).await.unwrap(), 2);
        assert_eq!(db.finished_frontiers(CUTOFF).await.unwrap(), vec![(2, 1)]);
        assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM frontier").await, 4);
    }
);

contract!(
    maintenance_after_pruning_runs_where_the_backend_has_any,
    |db, _clock| {
        // SQLite: an in-memory database has no incremental auto-vacuum,
        // so nothing runs (false). PostgreSQL always vacuums the pruned
        // tables (true). Both must succeed, also twice in a row.
        let expected = !std::any::type_name_of_val(db).contains("Sqlite");
        assert_eq!(db.incremental_vacuum().await.unwrap(), expected);
        assert_eq!(db.incremental_vacuum().await.unwrap(), expected);
    }
);
