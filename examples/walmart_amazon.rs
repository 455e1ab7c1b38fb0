//! Brand + model matching on real noise: the Walmart–Amazon product-matching
//! benchmark. Pairs a Walmart item with an Amazon item when their model
//! numbers are equal under cccwatch's model normalisation (model field, else
//! model-like tokens of the title) and their brands agree. Prints precision
//! and recall against the true matches.
//!
//! cargo run --release --example walmart_amazon -- ../shared/fixtures/matching/walmart_amazon

use cccwatch::matching::model::title_models;
use cccwatch::text::normalize::{fold_width, model_key, name_key};
use std::collections::{HashMap, HashSet};

struct Item {
    id: String,
    brand: String,
    models: Vec<String>,
    from_field: bool,
}

fn read(path: &std::path::Path) -> Vec<Item> {
    let mut rdr = csv::Reader::from_path(path).expect("readable table");
    rdr.records()
        .map(|r| {
            let r = r.expect("valid CSV row");
            let modelno = r.get(2).unwrap_or("").trim();
            let key = model_key(modelno);
            let (models, from_field) = if key.len() >= 3 {
                (vec![key], true)
            } else {
                (
                    title_models(&fold_width(r.get(1).unwrap_or("")))
                        .into_iter()
                        .map(|m| m.key)
                        .collect(),
                    false,
                )
            };
            Item {
                id: r.get(0).unwrap_or("").to_string(),
                brand: name_key(r.get(5).unwrap_or("")),
                models,
                from_field,
            }
        })
        .collect()
}

/// Brands agree when equal, when one contains the other (`sony` / `sonyelectronics`),
/// when Jaro–Winkler similarity is high (typos), or when either is missing.
fn brands_agree(a: &str, b: &str) -> bool {
    a.is_empty()
        || b.is_empty()
        || a == b
        || (a.len() >= 3 && b.contains(a))
        || (b.len() >= 3 && a.contains(b))
        || strsim::jaro_winkler(a, b) >= 0.92
}

fn main() {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "../shared/fixtures/matching/walmart_amazon".into()),
    );
    let a = read(&dir.join("tableA.csv"));
    let b = read(&dir.join("tableB.csv"));
    let mut by_model: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, item) in b.iter().enumerate() {
        for m in &item.models {
            by_model.entry(m.as_str()).or_default().push(i);
        }
    }
    let started = std::time::Instant::now();
    let mut predicted: HashSet<(String, String)> = HashSet::new();
    for item in &a {
        for m in &item.models {
            for &j in by_model.get(m.as_str()).into_iter().flatten() {
                if brands_agree(&item.brand, &b[j].brand) {
                    predicted.insert((item.id.clone(), b[j].id.clone()));
                }
            }
        }
    }
    let elapsed = started.elapsed();
    let mut gold: HashSet<(String, String)> = HashSet::new();
    let mut rdr = csv::Reader::from_path(dir.join("matches.csv")).expect("matches.csv");
    for r in rdr.records() {
        let r = r.expect("row");
        gold.insert((r[0].to_string(), r[1].to_string()));
    }
    let tp = predicted.intersection(&gold).count();
    let a_field: HashMap<&str, bool> = a.iter().map(|i| (i.id.as_str(), i.from_field)).collect();
    let b_field: HashMap<&str, bool> = b.iter().map(|i| (i.id.as_str(), i.from_field)).collect();
    let both = |p: &(String, String)| {
        a_field.get(p.0.as_str()) == Some(&true) && b_field.get(p.1.as_str()) == Some(&true)
    };
    let gold_both: HashSet<_> = gold.iter().filter(|p| both(p)).collect();
    let tp_both = predicted.iter().filter(|p| gold_both.contains(p)).count();
    let pred_both = predicted.iter().filter(|p| both(p)).count();
    println!(
        "Walmart {} items, Amazon {} items, {} true matches",
        a.len(),
        b.len(),
        gold.len()
    );
    println!(
        "all pairs:            predicted {}, correct {tp}, precision {:.3}, recall {:.3}",
        predicted.len(),
        tp as f64 / predicted.len().max(1) as f64,
        tp as f64 / gold.len() as f64
    );
    println!(
        "both model fields set: predicted {pred_both}, correct {tp_both}, precision {:.3}, recall {:.3} (of {} true matches)",
        tp_both as f64 / pred_both.max(1) as f64,
        tp_both as f64 / gold_both.len().max(1) as f64,
        gold_both.len()
    );
    println!("matching took {:.1} ms", elapsed.as_secs_f64() * 1000.0);
}
