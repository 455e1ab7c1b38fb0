//! Prints SQLite's plan and time for a query on a database (development aid):
//! `cargo run --release --example explain_queue -- DB 'SQL' [ARGS...]`
//! Arguments that parse as integers or floats are bound as such.

use sqlx::{Row, sqlite::SqlitePoolOptions};
use std::time::Instant;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let db = args.next().expect("DB");
    let sql = args.next().expect("SQL");
    let binds: Vec<String> = args.collect();
    let pool = SqlitePoolOptions::new()
        .connect(&format!("sqlite://{db}?mode=ro"))
        .await?;
    for prefix in ["EXPLAIN QUERY PLAN ", ""] {
        let text = format!("{prefix}{sql}");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(text));
        for b in &binds {
            q = if let Ok(i) = b.parse::<i64>() {
                q.bind(i)
            } else if let Ok(f) = b.parse::<f64>() {
                q.bind(f)
            } else {
                q.bind(b.clone())
            };
        }
        let t = Instant::now();
        let rows = q.fetch_all(&pool).await?;
        if prefix.is_empty() {
            println!(
                "{} rows in {:.1} ms",
                rows.len(),
                t.elapsed().as_secs_f64() * 1000.0
            );
        } else {
            for r in &rows {
                let last = r.columns().len() - 1;
                println!("  {}", r.get::<String, _>(last));
            }
        }
    }
    Ok(())
}
