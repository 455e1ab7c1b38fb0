//! The storage contract for `store::schedule`, run against each backend.

#[allow(unused_imports)]
use super::*;
use crate::domain::RunState;
#[allow(unused_imports)]
use crate::store::schedule::{LockHolder, NewJobRun};

contract!(
    a_scan_lock_is_taken_renewed_and_released_only_by_its_holder,
    |db, _clock| {
        assert!(db.platform_locks().await.unwrap().is_empty());
        // Free: taken.
        assert_eq!(
            db.try_lock_platform("jd", "host-a:1:aa", "schedule nightly", 1_000, 0)
                .await
                .unwrap(),
            Ok(())
        );
        // Held and fresh: refused, with who holds it.
        let holder = db
            .try_lock_platform("jd", "host-b:2:bb", "cccwatch scan", 2_000, 500)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(
            holder,
            LockHolder {
                platform: "jd".into(),
                owner: "host-a:1:aa".into(),
                purpose: "schedule nightly".into(),
                scan_id: None,
                acquired_ms: 1_000,
                heartbeat_ms: 1_000,
            }
        );
        // Renewed by its holder (with a scan), not by anyone else.
        assert!(
            db.renew_platform_lock("jd", "host-a:1:aa", Some(42), 3_000)
                .await
                .unwrap()
        );
        assert!(
            !db.renew_platform_lock("jd", "host-b:2:bb", Some(7), 3_500)
                .await
                .unwrap()
        );
        assert!(
            !db.renew_platform_lock("tb", "host-a:1:aa", None, 3_500)
                .await
                .unwrap()
        );
        // A renewal without a scan keeps the scan.
        assert!(
            db.renew_platform_lock("jd", "host-a:1:aa", None, 4_000)
                .await
                .unwrap()
        );
        let locks = db.platform_locks().await.unwrap();
        assert_eq!(locks.len(), 1);
        assert_eq!(locks[0].scan_id, Some(42));
        assert_eq!(locks[0].heartbeat_ms, 4_000);
        assert_eq!(locks[0].acquired_ms, 1_000);
        // The holder taking it again restarts it (scan forgotten).
        assert_eq!(
            db.try_lock_platform("jd", "host-a:1:aa", "again", 5_000, 4_500)
                .await
                .unwrap(),
            Ok(())
        );
        let l = &db.platform_locks().await.unwrap()[0];
        assert_eq!(
            (l.purpose.as_str(), l.scan_id, l.acquired_ms),
            ("again", None, 5_000)
        );
        // Stale only when the heartbeat is strictly older than the bound.
        assert!(
            db.try_lock_platform("jd", "host-b:2:bb", "scan", 9_000, 5_000)
                .await
                .unwrap()
                .is_err()
        );
        assert_eq!(
            db.try_lock_platform("jd", "host-b:2:bb", "scan", 9_000, 5_001)
                .await
                .unwrap(),
            Ok(())
        );
        // The old holder lost it: it can neither renew nor release it.
        assert!(
            !db.renew_platform_lock("jd", "host-a:1:aa", None, 9_100)
                .await
                .unwrap()
        );
        db.unlock_platform("jd", "host-a:1:aa").await.unwrap();
        assert_eq!(db.platform_locks().await.unwrap()[0].owner, "host-b:2:bb");

        // Taking over from a dead owner: only from that owner.
        assert!(
            !db.take_over_platform_lock("jd", "host-a:1:aa", "host-c:3:cc", "c", 10_000)
                .await
                .unwrap()
        );
        assert!(
            db.take_over_platform_lock("jd", "host-b:2:bb", "host-c:3:cc", "c", 10_000)
                .await
                .unwrap()
        );
        assert!(
            !db.take_over_platform_lock("nope", "host-b:2:bb", "host-c:3:cc", "c", 10_000)
                .await
                .unwrap()
        );
        let l = &db.platform_locks().await.unwrap()[0];
        assert_eq!(
            (
                l.owner.as_str(),
                l.purpose.as_str(),
                l.acquired_ms,
                l.heartbeat_ms
            ),
            ("host-c:3:cc", "c", 10_000, 10_000)
        );

        // Several platforms, listed by name (byte order: ASCII before Chinese).
        for p in ["tb", "京东", "Amazon", "jd2"] {
            db.try_lock_platform(p, "o", "p", 1, 0)
                .await
                .unwrap()
                .unwrap();
        }
        assert_eq!(
            db.platform_locks()
                .await
                .unwrap()
                .iter()
                .map(|l| l.platform.as_str())
                .collect::<Vec<_>>(),
            vec!["Amazon", "jd", "jd2", "tb", "京东"]
        );
        // Released by its holder.
        db.unlock_platform("jd", "host-c:3:cc").await.unwrap();
        db.unlock_platform("jd", "host-c:3:cc").await.unwrap();
        assert_eq!(db.platform_locks().await.unwrap().len(), 4);
        assert_eq!(
            db.try_lock_platform("jd", "host-d", "d", 11_000, 0)
                .await
                .unwrap(),
            Ok(())
        );
    }
);

contract!(
    of_many_takers_at_once_exactly_one_gets_the_lock,
    |db, _clock| {
        for round in 0..3i64 {
            let platform = format!("race{round}");
            let takers = (0..8).map(|i| {
                let platform = platform.clone();
                async move {
                    let owner = format!("host-{i}:{i}:x");
                    db.try_lock_platform(&platform, &owner, "race", 1_000 + round, 0)
                        .await
                        .unwrap()
                        .map(|()| owner)
                }
            });
            let results = futures_util::future::join_all(takers).await;
            let winners: Vec<&String> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
            assert_eq!(winners.len(), 1, "{results:?}");
            // Every loser names the winner.
            for r in &results {
                if let Err(h) = r {
                    assert_eq!(&h.owner, winners[0]);
                }
            }
            let locks = db.platform_locks().await.unwrap();
            let held = locks.iter().find(|l| l.platform == platform).unwrap();
            assert_eq!(&held.owner, winners[0]);
        }
        // A stale lock raced for: again exactly one new holder.
        let takers = (0..8).map(|i| async move {
            let owner = format!("late-{i}");
            db.try_lock_platform("race0", &owner, "race", 50_000, 10_000)
                .await
                .unwrap()
                .map(|()| owner)
        });
        let results = futures_util::future::join_all(takers).await;
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
    }
);

contract!(a_jobs_last_cron_time_is_kept, |db, _clock| {
    assert_eq!(db.job_last_planned("nightly").await.unwrap(), None);
    db.set_job_last_planned("nightly", "2026-06-30T02:00:00.000Z")
        .await
        .unwrap();
    assert_eq!(
        db.job_last_planned("nightly").await.unwrap().as_deref(),
        Some("2026-06-30T02:00:00.000Z")
    );
    db.set_job_last_planned("nightly", "2026-07-01T02:00:00.000Z")
        .await
        .unwrap();
    assert_eq!(
        db.job_last_planned("nightly").await.unwrap().as_deref(),
        Some("2026-07-01T02:00:00.000Z")
    );
    assert_eq!(db.job_last_planned("weekly").await.unwrap(), None);
    // The scheduler writes `to_rfc3339()`: nanoseconds and +00:00.
    // SQLite keeps the text; PostgreSQL the instant to the millisecond.
    // Both give back the same instant to the millisecond, never later.
    db.set_job_last_planned("feeds", "2026-06-30T08:00:00.123456789+00:00")
        .await
        .unwrap();
    let back = db.job_last_planned("feeds").await.unwrap().unwrap();
    let back = chrono::DateTime::parse_from_rfc3339(&back)
        .unwrap()
        .with_timezone(&Utc);
    let want = start() + chrono::Duration::microseconds(123_456);
    assert!(back <= want + chrono::Duration::nanoseconds(789));
    assert!(want - back < chrono::Duration::milliseconds(1));
});

contract!(
    job_runs_are_recorded_touched_finished_and_listed,
    |db, clock| {
        assert!(db.job_runs(None, 10).await.unwrap().is_empty());
        assert!(db.job_run(1).await.unwrap().is_none());
        let r1 = db
            .start_job_run(&NewJobRun {
                job: "nightly",
                trigger: "schedule",
                planned_at: Some("2026-06-30T02:00:00.000Z".into()),
                requested_by: None,
                state: RunState::Running,
                message: Some("错过 3 次计划运行"),
                now_ms: 1_000,
            })
            .await
            .unwrap();
        clock.advance(chrono::Duration::milliseconds(1500));
        let r2 = db
            .start_job_run(&NewJobRun {
                job: "nightly",
                trigger: "manual",
                planned_at: None,
                requested_by: Some("张三"),
                state: RunState::Skipped,
                message: Some("上一次运行尚未结束 <b>'%_'</b>"),
                now_ms: 2_000,
            })
            .await
            .unwrap();
        let r3 = db
            .start_job_run(&NewJobRun {
                job: "feeds",
                trigger: "catch_up",
                planned_at: Some("2026-06-30T03:00:00.000Z".into()),
                requested_by: None,
                state: RunState::Running,
                message: None,
                now_ms: 3_000,
            })
            .await
            .unwrap();
        assert!(r1 < r2 && r2 < r3);

        let a = db.job_run(r1).await.unwrap().unwrap();
        assert_eq!(a.id, r1);
        assert_eq!(a.job, "nightly");
        assert_eq!(a.trigger, "schedule");
        assert_eq!(a.planned_at.as_deref(), Some("2026-06-30T02:00:00.000Z"));
        assert_eq!(a.requested_by, None);
        assert_eq!(a.started_at, START);
        assert_eq!(a.finished_at, None);
        assert_eq!(a.state, RunState::Running);
        assert!(a.scan_ids.is_empty());
        assert_eq!(a.message.as_deref(), Some("错过 3 次计划运行"));
        assert_eq!(a.heartbeat_ms, 1_000);
        // A skipped run is finished when recorded.
        let b = db.job_run(r2).await.unwrap().unwrap();
        assert_eq!(b.planned_at, None);
        assert_eq!(b.requested_by.as_deref(), Some("张三"));
        assert_eq!(b.started_at, "2026-06-30T08:00:01.500Z");
        assert_eq!(b.finished_at.as_deref(), Some("2026-06-30T08:00:01.500Z"));
        assert_eq!(b.state, RunState::Skipped);
        assert_eq!(b.message.as_deref(), Some("上一次运行尚未结束 <b>'%_'</b>"));

        // Touched: scans (in order) and heartbeat.
        db.touch_job_run(r1, &[7, 3, 12], 5_000).await.unwrap();
        let a = db.job_run(r1).await.unwrap().unwrap();
        assert_eq!(a.scan_ids, vec![7, 3, 12]);
        assert_eq!(a.heartbeat_ms, 5_000);
        assert_eq!(a.state, RunState::Running);
        db.touch_job_run(999, &[1], 5_000).await.unwrap();

        // Finished.
        clock.advance(chrono::Duration::minutes(10));
        db.finish_job_run(
            r1,
            RunState::CompletedWithErrors,
            &[7, 3],
            Some("1 page failed"),
        )
        .await
        .unwrap();
        let a = db.job_run(r1).await.unwrap().unwrap();
        assert_eq!(a.state, RunState::CompletedWithErrors);
        assert_eq!(a.scan_ids, vec![7, 3]);
        assert_eq!(a.message.as_deref(), Some("1 page failed"));
        assert_eq!(a.finished_at.as_deref(), Some("2026-06-30T08:10:01.500Z"));
        assert_eq!(a.heartbeat_ms, 5_000);
        db.finish_job_run(r1, RunState::Completed, &[], None)
            .await
            .unwrap();
        let a = db.job_run(r1).await.unwrap().unwrap();
        assert_eq!((a.state, a.message.clone()), (RunState::Completed, None));
        assert!(a.scan_ids.is_empty());

        // Abandoned: running with a heartbeat older than the bound.
        clock.advance(chrono::Duration::minutes(1));
        assert_eq!(db.close_abandoned_job_runs(3_000).await.unwrap(), 0);
        assert_eq!(db.close_abandoned_job_runs(3_001).await.unwrap(), 1);
        let c = db.job_run(r3).await.unwrap().unwrap();
        assert_eq!(c.state, RunState::Interrupted);
        assert_eq!(c.finished_at.as_deref(), Some("2026-06-30T08:11:01.500Z"));
        assert_eq!(
            c.message.as_deref(),
            Some("the process running it stopped; the next run resumes its scans")
        );
        assert_eq!(db.close_abandoned_job_runs(i64::MAX).await.unwrap(), 0);

        // Listed newest first, by job, cut at the limit.
        let ids =
            |v: Vec<crate::store::schedule::JobRun>| v.iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(db.job_runs(None, 10).await.unwrap()), vec![r3, r2, r1]);
        assert_eq!(ids(db.job_runs(None, 2).await.unwrap()), vec![r3, r2]);
        assert_eq!(
            ids(db.job_runs(Some("nightly"), 10).await.unwrap()),
            vec![r2, r1]
        );
        assert_eq!(
            ids(db.job_runs(Some("nightly"), 1).await.unwrap()),
            vec![r2]
        );
        assert!(db.job_runs(Some("none"), 10).await.unwrap().is_empty());
        assert!(db.job_runs(None, 0).await.unwrap().is_empty());
        assert!(db.job_run(999).await.unwrap().is_none());
    }
);

contract!(hostile_job_text_never_fails, |db, _clock| {
    let long = "错误".repeat(20_000);
    let nul = "page said \0<script>alert('x')</script> 100%_";
    let id = db
        .start_job_run(&NewJobRun {
            job: "nightly",
            trigger: "manual",
            planned_at: None,
            requested_by: Some("a\0b"),
            state: RunState::Running,
            message: Some(nul),
            now_ms: 1,
        })
        .await
        .unwrap();
    db.finish_job_run(id, RunState::Failed, &[], Some(&long))
        .await
        .unwrap();
    let r = db.job_run(id).await.unwrap().unwrap();
    assert_eq!(r.message.as_deref(), Some(long.as_str()));
    // PostgreSQL drops the NUL (its text cannot hold one); SQLite keeps it.
    assert_eq!(r.requested_by.unwrap().replace('\0', ""), "ab");
    db.finish_job_run(id, RunState::Failed, &[], Some(nul))
        .await
        .unwrap();
    let r = db.job_run(id).await.unwrap().unwrap();
    assert_eq!(
        r.message.unwrap().replace('\0', ""),
        "page said <script>alert('x')</script> 100%_"
    );
    // Lock owners with a NUL still lock, renew and release consistently.
    db.try_lock_platform("jd", "o\0x", "p\0", 1, 0)
        .await
        .unwrap()
        .unwrap();
    assert!(db.renew_platform_lock("jd", "o\0x", None, 2).await.unwrap());
    db.unlock_platform("jd", "o\0x").await.unwrap();
    assert!(db.platform_locks().await.unwrap().is_empty());
});

/// PostgreSQL only: two stores (two pools, as two processes would have) on
/// the same database race for the same locks; exactly one wins each time,
/// only the winner renews and releases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_handles_race_for_one_lock() {
    let (_clock, dynamic) = clock();
    let Some(scratch) =
        crate::store::postgres::scratch::database(module_path!(), dynamic.clone()).await
    else {
        return;
    };
    let server = crate::store::postgres::scratch::server_url().unwrap();
    let (base, query) = server.split_once('?').unwrap_or((&server, ""));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    let url = if query.is_empty() {
        format!("{base}/{}", scratch.name)
    } else {
        format!("{base}/{}?{query}", scratch.name)
    };
    let one = scratch.store.clone();
    let two = crate::store::postgres::PgStore::open(&url, dynamic)
        .await
        .expect("a second handle on the scratch database");
    for round in 0..20i64 {
        let platform = format!("p{round}");
        let (a, b) = tokio::join!(
            {
                let one = one.clone();
                let platform = platform.clone();
                tokio::spawn(async move {
                    one.try_lock_platform(&platform, "machine-1", "scan", 1_000, 0)
                        .await
                })
            },
            {
                let two = two.clone();
                let platform = platform.clone();
                tokio::spawn(async move {
                    two.try_lock_platform(&platform, "machine-2", "scan", 1_000, 0)
                        .await
                })
            }
        );
        let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
        assert!(a.is_ok() != b.is_ok(), "round {round}: {a:?} {b:?}");
        let a_won = a.is_ok();
        let (winner, loser, lost) = if a_won {
            (&one, &two, b.unwrap_err())
        } else {
            (&two, &one, a.unwrap_err())
        };
        let (win_owner, lose_owner) = if a_won {
            ("machine-1", "machine-2")
        } else {
            ("machine-2", "machine-1")
        };
        assert_eq!(lost.owner, win_owner);
        // The loser can neither renew nor release it; the winner can.
        assert!(
            !loser
                .renew_platform_lock(&platform, lose_owner, None, 2_000)
                .await
                .unwrap()
        );
        loser.unlock_platform(&platform, lose_owner).await.unwrap();
        assert!(
            winner
                .renew_platform_lock(&platform, win_owner, Some(1), 2_000)
                .await
                .unwrap()
        );
        let seen = loser.platform_locks().await.unwrap();
        assert_eq!(
            seen.iter().find(|l| l.platform == platform).unwrap().owner,
            win_owner
        );
        winner.unlock_platform(&platform, win_owner).await.unwrap();
        assert!(
            loser
                .platform_locks()
                .await
                .unwrap()
                .iter()
                .all(|l| l.platform != platform)
        );
    }
    // A stale lock taken over from the other machine at the same moment by
    // both: one new holder.
    one.try_lock_platform("stale", "machine-0", "scan", 1_000, 0)
        .await
        .unwrap()
        .unwrap();
    let (a, b) = tokio::join!(
        one.try_lock_platform("stale", "machine-1", "scan", 90_000, 60_000),
        two.try_lock_platform("stale", "machine-2", "scan", 90_000, 60_000)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.is_ok() != b.is_ok(), "{a:?} {b:?}");
    two.close().await;
}

contract!(every_run_state_is_stored_and_read_back, |db, _clock| {
    for state in RunState::ALL {
        let id = db
            .start_job_run(&NewJobRun {
                job: "nightly",
                trigger: "manual",
                planned_at: None,
                requested_by: None,
                state: RunState::Running,
                message: None,
                now_ms: 1,
            })
            .await
            .unwrap();
        db.finish_job_run(id, state, &[], None).await.unwrap();
        let r = db.job_run(id).await.unwrap().unwrap();
        assert_eq!(r.state, state);
    }
    let listed: Vec<RunState> = db
        .job_runs(Some("nightly"), 10)
        .await
        .unwrap()
        .iter()
        .rev()
        .map(|r| r.state)
        .collect();
    assert_eq!(listed, RunState::ALL);
});
