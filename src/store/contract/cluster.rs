//! The cluster area: the process registry, host leases, claims by host,
//! results of handed-back entries dropped, entries of dead processes
//! reclaimed, and the certificate generation.

#[allow(unused_imports)]
use super::*;
use crate::store::cluster::*;
use crate::store::contract::crawl::{day, item_entry, item_result, listing, search_entry};
use crate::store::crawl::*;

fn worker(id: &str, now_ms: i64) -> WorkerRow {
    WorkerRow {
        id: id.into(),
        machine: "m1".into(),
        pid: 42,
        role: "worker".into(),
        started_ms: now_ms,
        heartbeat_ms: now_ms,
        stopped_ms: None,
        scan_id: None,
        doing: None,
        pages: 0,
    }
}

fn on_host(mut e: NewEntry, host: &str) -> NewEntry {
    e.host = host.into();
    e.url = format!("https://{host}/{}", e.key);
    e
}

contract!(processes_register_beat_and_stop, |db, _clock| {
    db.register_worker(&worker("m1:42:aa:worker", 1_000))
        .await
        .unwrap();
    db.register_worker(&worker("m1:43:bb:scan", 1_000))
        .await
        .unwrap();
    let beat = Heartbeat {
        now_ms: 2_000,
        scan_id: Some(7),
        doing: Some("扫描 7（jd）\0"),
        pages: 5,
    };
    assert!(db.worker_heartbeat("m1:42:aa:worker", &beat).await.unwrap());
    assert!(db.worker_heartbeat("m1:42:aa:worker", &beat).await.unwrap());
    let all = db.workers(0).await.unwrap();
    assert_eq!(all.len(), 2);
    let w = &all[0];
    assert_eq!(
        (w.id.as_str(), w.heartbeat_ms, w.scan_id, w.pages),
        ("m1:42:aa:worker", 2_000, Some(7), 10)
    );
    assert_eq!(
        w.doing.as_deref().map(|d| d.replace('\0', "")).as_deref(),
        Some("扫描 7（jd）")
    );

    // Stopped: no more heartbeats; listed only when asked for recent stops.
    let ids = vec!["m1:42:aa:worker".to_string(), "nobody".to_string()];
    assert_eq!(db.stop_workers(&ids, 3_000).await.unwrap(), 1);
    assert_eq!(db.stop_workers(&ids, 4_000).await.unwrap(), 0);
    assert!(!db.worker_heartbeat("m1:42:aa:worker", &beat).await.unwrap());
    assert_eq!(db.workers(3_001).await.unwrap().len(), 1);
    assert_eq!(db.workers(3_000).await.unwrap().len(), 2);
    // Registering again brings it back.
    db.register_worker(&worker("m1:42:aa:worker", 5_000))
        .await
        .unwrap();
    assert!(db.worker_heartbeat("m1:42:aa:worker", &beat).await.unwrap());
    assert_eq!(db.prune_workers(i64::MAX).await.unwrap(), 0);
    db.stop_workers(&ids, 6_000).await.unwrap();
    assert_eq!(db.prune_workers(6_001).await.unwrap(), 1);
    assert_eq!(db.workers(0).await.unwrap().len(), 1);
});

contract!(
    a_host_lease_has_one_holder_until_stale_released_or_dead,
    |db, _clock| {
        let h = "shop.example:443";
        // Free: taken.
        assert_eq!(
            db.lease_host(h, "a", Some(1), 10_000, 0, &[])
                .await
                .unwrap(),
            Ok(0)
        );
        // Held and fresh: refused, naming the holder.
        let holder = db
            .lease_host(h, "b", Some(1), 11_000, 5_000, &[])
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(
            (holder.owner.as_str(), holder.scan_id, holder.acquired_ms),
            ("a", Some(1), 10_000)
        );
        // Taking it again is renewing it.
        assert_eq!(
            db.lease_host(h, "a", Some(1), 12_000, 5_000, &[])
                .await
                .unwrap(),
            Ok(0)
        );
        assert_eq!(
            db.renew_host_leases("a", &[h.to_string(), "other:80".into()], 13_000)
                .await
                .unwrap(),
            vec![h.to_string()]
        );
        let leases = db.host_leases(13_000).await.unwrap();
        assert_eq!(leases.len(), 1);
        assert_eq!(
            (leases[0].acquired_ms, leases[0].heartbeat_ms),
            (10_000, 13_000)
        );
        // A Retry-After the holder learnt stays on the row.
        db.set_host_quiet(h, "a", 20_000).await.unwrap();
        db.set_host_quiet(h, "b", 90_000).await.unwrap(); // not the holder: ignored
        // Stale (no renewal since 13 000): taken over, with the pause.
        assert_eq!(
            db.lease_host(h, "b", Some(2), 30_000, 14_000, &[])
                .await
                .unwrap(),
            Ok(20_000)
        );
        assert!(
            db.renew_host_leases("a", &[h.to_string()], 30_001)
                .await
                .unwrap()
                .is_empty()
        );
        // Held by a process known dead: taken at once.
        assert_eq!(
            db.lease_host(h, "c", None, 30_002, 0, &["b".to_string()])
                .await
                .unwrap(),
            Ok(20_000)
        );
        // Released: free at once, with the hand-over gap for the next holder.
        db.release_host(h, "b", 99_999).await.unwrap(); // not the holder: nothing
        assert_eq!(db.host_leases(0).await.unwrap()[0].owner, "c");
        db.release_host(h, "c", 31_000).await.unwrap();
        assert!(db.host_leases(1).await.unwrap().is_empty());
        assert_eq!(
            db.lease_host(h, "d", Some(3), 30_500, 30_400, &[])
                .await
                .unwrap(),
            Ok(31_000)
        );
    }
);

contract!(
    claims_take_leased_hosts_and_handed_back_results_are_dropped,
    |db, _clock| {
        let seeds = vec![
            on_host(item_entry("1"), "a.example:443"),
            on_host(item_entry("2"), "a.example:443"),
            on_host(item_entry("3"), "b.example:443"),
            on_host(search_entry("电饭煲", 1), "b.example:443"),
        ];
        let scan = db.create_scan("jd", day(), &[], 5, &seeds).await.unwrap();
        assert_eq!(
            db.due_hosts(scan, 0).await.unwrap(),
            vec!["a.example:443".to_string(), "b.example:443".to_string()]
        );
        assert_eq!(
            db.due_scans(0).await.unwrap(),
            vec![DueScan {
                scan_id: scan,
                platform: "jd".into()
            }]
        );
        let a_hosts = vec!["a.example:443".to_string()];
        let w1 = Claimant {
            owner: "w1",
            hosts: Some(&a_hosts),
        };
        let mine = db.claim_entries(scan, &w1, 0, 10).await.unwrap();
        assert_eq!(
            mine.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            vec!["1", "2"]
        );
        assert_eq!(
            db.due_hosts(scan, 0).await.unwrap(),
            vec!["b.example:443".to_string()]
        );
        // w1's lease on a.example lapsed: its entries are handed back, and a
        // second claimant takes one of them.
        assert_eq!(
            db.hand_back_entries("w1", Some("a.example:443"))
                .await
                .unwrap(),
            2
        );
        let w2 = Claimant {
            owner: "w2",
            hosts: Some(&a_hosts),
        };
        let theirs = db.claim_entries(scan, &w2, 0, 1).await.unwrap();
        assert_eq!(theirs[0].key, "1");
        // w1's results arrive late: dropped, nothing stored.
        let late = vec![
            item_result(mine[0].id, listing("jd", "1", "电饭煲 w1")),
            item_result(mine[1].id, listing("jd", "2", "电饭煲 w1")),
        ];
        let applied = db.apply_results(scan, "jd", "w1", &late).await.unwrap();
        assert_eq!((applied.lost, applied.listings.inserted), (2, 0));
        assert_eq!(db.scan(scan).await.unwrap().unwrap().pages_fetched, 0);
        assert!(db.item_pages(Some("jd"), "1").await.unwrap().is_empty());
        // w2's result for the entry it holds is written; its entry is done.
        let fresh = vec![item_result(theirs[0].id, listing("jd", "1", "电饭煲 w2"))];
        let applied = db.apply_results(scan, "jd", "w2", &fresh).await.unwrap();
        assert_eq!((applied.lost, applied.listings.inserted), (0, 1));
        assert_eq!(db.item_pages(Some("jd"), "1").await.unwrap().len(), 1);
        let c = db.frontier_counts(scan).await.unwrap();
        assert_eq!((c.done, c.pending, c.inflight), (1, 3, 0));
        // A scan that is not running hands out nothing.
        db.finish_scan(scan, crate::domain::RunState::Interrupted, None)
            .await
            .unwrap();
        assert!(
            db.claim_entries(scan, &ANY, 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(db.due_scans(0).await.unwrap().is_empty());
    }
);

contract!(
    entries_of_dead_processes_go_back_those_of_live_ones_stay,
    |db, _clock| {
        let seeds: Vec<NewEntry> = (1..=4).map(|i| item_entry(&i.to_string())).collect();
        let scan = db.create_scan("jd", day(), &[], 5, &seeds).await.unwrap();
        db.register_worker(&worker("live", 10_000)).await.unwrap();
        db.register_worker(&worker("lapsed", 1_000)).await.unwrap();
        db.register_worker(&worker("stopped", 10_000))
            .await
            .unwrap();
        db.stop_workers(&["stopped".to_string()], 10_000)
            .await
            .unwrap();
        for owner in ["live", "lapsed", "stopped", "never-registered"] {
            let who = Claimant { owner, hosts: None };
            assert_eq!(db.claim_entries(scan, &who, 0, 1).await.unwrap().len(), 1);
        }
        // Alive means a heartbeat at or after 5 000.
        assert_eq!(db.reclaim_entries(Some(scan + 1), 5_000).await.unwrap(), 0);
        assert_eq!(db.reclaim_entries(Some(scan), 5_000).await.unwrap(), 3);
        let c = db.frontier_counts(scan).await.unwrap();
        assert_eq!((c.pending, c.inflight), (3, 1));
        // Reopening a scan leaves the live process's entry in flight too.
        assert_eq!(db.reopen_scan(scan, 5_000).await.unwrap(), 0);
        assert_eq!(db.reclaim_entries(None, 20_000).await.unwrap(), 1);
        assert_eq!(db.frontier_counts(scan).await.unwrap().inflight, 0);
    }
);

contract!(
    hosts_are_filled_in_for_entries_queued_without_one,
    |db, _clock| {
        let mut old = item_entry("9");
        old.host = String::new();
        let scan = db.create_scan("jd", day(), &[], 5, &[old]).await.unwrap();
        // Entries queued before hosts were recorded have none (NULL).
        db.exec_sql("UPDATE frontier SET host = NULL").await;
        let missing = db.entries_without_host(scan).await.unwrap();
        assert_eq!(missing.len(), 1);
        assert_eq!(db.due_hosts(scan, 0).await.unwrap(), vec![String::new()]);
        db.set_entry_hosts(&[(missing[0].0, "jd.example:443".into())])
            .await
            .unwrap();
        assert!(db.entries_without_host(scan).await.unwrap().is_empty());
        assert_eq!(
            db.due_hosts(scan, 0).await.unwrap(),
            vec!["jd.example:443".to_string()]
        );
    }
);

contract!(
    the_certificate_generation_moves_with_imports_and_brands,
    |db, _clock| {
        assert_eq!(db.cert_generation().await.unwrap(), 0);
        let w = db
            .begin_cert_import("one.csv", "utf-8", false)
            .await
            .unwrap();
        w.commit(0, 0).await.unwrap();
        assert_eq!(db.cert_generation().await.unwrap(), 1);
        let w = db
            .begin_cert_import("two.csv", "utf-8", false)
            .await
            .unwrap();
        w.rollback().await.unwrap();
        assert_eq!(
            db.cert_generation().await.unwrap(),
            1,
            "a rolled-back import"
        );
        db.replace_brands(&[]).await.unwrap();
        assert_eq!(db.cert_generation().await.unwrap(), 2);
    }
);
