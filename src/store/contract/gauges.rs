//! The storage contract for `store::gauges`, run against each backend.

#[allow(unused_imports)]
use super::*;

contract!(
    an_empty_database_answers_and_counts_nothing,
    |db, _clock| {
        db.ping().await.unwrap();
        let counts = db.gauge_counts().await.unwrap();
        assert_eq!(counts, crate::store::GaugeCounts::default());
        // The seeding helpers every area's tests lean on.
        db.exec_sql(
            "CREATE TABLE contract_probe (n BIGINT); INSERT INTO contract_probe VALUES (7)",
        )
        .await;
        assert_eq!(db.scalar_i64("SELECT n FROM contract_probe").await, 7);
    }
);
