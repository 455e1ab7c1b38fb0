//! The independent scope set (tests/independent/scope_labels.csv): real
//! listing titles that no one here wrote (../shared/fixtures: JD and
//! Taobao pages, the GAIIC 2022 JD titles, the MultiDigraph e-commerce
//! titles), labelled for scope and product code by reading each title
//! against the official catalog texts, not by running the matcher (see
//! tests/independent/README.md). Half the rows are held out: the catalog
//! is tuned on `tune` only; the floors below are on `heldout`.
//!
//! Titles are read from ../shared/fixtures at test time and joined to the
//! labels by a hash of the title; without the fixtures the test says it was
//! skipped.

use cccwatch::certdb::Catalog;
use cccwatch::domain::Listing;
use cccwatch::domain::Verdict;
use cccwatch::matching::{BrandTable, CertIndex, Judge, Matcher};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// How a reason says that scope is uncertain.
const UNCERTAIN: &str = "目录归属不确定";

fn fixtures() -> Option<PathBuf> {
    let p = Path::new(ROOT).join("../shared/fixtures");
    p.is_dir().then_some(p)
}

fn key(title: &str) -> String {
    hex::encode(&Sha256::digest(title.trim().as_bytes())[..6])
}

/// Sentences of a one-character-per-line tagged file (BIO / BIEOS).
fn tagged_titles(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.split('\n') {
        if line.is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        cur.push(line.chars().next().expect("not empty"));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn page_titles(path: &Path, selector: &str, squash: bool) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let html = String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes));
    let doc = scraper::Html::parse_document(&html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel)
        .map(|e| {
            let t: String = e.text().collect();
            if squash {
                t.split_whitespace().collect()
            } else {
                t.trim().to_string()
            }
        })
        .collect()
}

/// Every title of the sources the labels name, by (source, index).
fn titles(fx: &Path) -> HashMap<(String, usize), String> {
    let mut out = HashMap::new();
    let mut add = |source: &str, list: Vec<String>| {
        for (i, t) in list.into_iter().enumerate() {
            out.insert((source.to_string(), i), t);
        }
    };
    let md = fx.join("titles/cn_ecommerce_ner_multidigraph");
    for part in ["train", "dev", "test"] {
        add(
            &format!("multidigraph/{part}"),
            tagged_titles(&md.join(format!("{part}.txt.bieos"))),
        );
    }
    add(
        "gaiic2022",
        tagged_titles(&fx.join("titles/cn_jd_titles_gaiic2022/train_500.txt")),
    );
    add(
        "jd_search",
        page_titles(
            &fx.join("pages/jd_search_yaohuiwu/jd_search.html"),
            "div.p-name em",
            false,
        ),
    );
    add(
        "taobao_search",
        page_titles(
            &fx.join("pages/taobao_search_python3webspider/taobao_search_ipad.html"),
            "div.row.row-2.title",
            true,
        ),
    );
    out
}

#[derive(Debug)]
struct Label {
    source: String,
    index: usize,
    key: String,
    split: String,
    scope: String,
    code: String,
}

fn labels() -> Vec<Label> {
    let mut r =
        csv::Reader::from_path(Path::new(ROOT).join("tests/independent/scope_labels.csv")).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            Label {
                source: rec[0].to_string(),
                index: rec[1].parse().unwrap(),
                key: rec[2].to_string(),
                split: rec[3].to_string(),
                scope: rec[4].to_string(),
                code: rec[5].to_string(),
            }
        })
        .collect()
}

/// The product group of a code, as the figures are reported.
fn group(code: &str) -> &'static str {
    match code.get(..2) {
        Some("02") => "插头插座开关",
        Some("07") => "家用电器",
        Some("22") => "玩具童车",
        _ => "其他目录产品",
    }
}

/// Toys are one product (2202) in the 2023 catalog; certificates still
/// carry the older sub-codes.
fn same_product(a: &str, b: &str) -> bool {
    let toy = |c: &str| matches!(c, "2202" | "2203" | "2204" | "2205" | "2206");
    a == b || (toy(a) && toy(b))
}

#[derive(Default, Debug)]
struct Tally {
    tp: usize,
    fp: usize,
    fn_: usize,
    tn: usize,
    /// Judged in scope without a scope doubt, and truly in scope / not.
    sure_tp: usize,
    sure_fp: usize,
    uncertain: usize,
    total: usize,
    code_right: usize,
    code_known: usize,
}

impl Tally {
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    /// Precision of the flags whose scope is certain: what a reviewer
    /// acts on without a scope doubt (uncertain ones are marked as such).
    fn sure_precision(&self) -> f64 {
        self.sure_tp as f64 / (self.sure_tp + self.sure_fp).max(1) as f64
    }
    fn uncertain_share(&self) -> f64 {
        self.uncertain as f64 / self.total.max(1) as f64
    }

    /// Counts one listing: its truth, what the matcher said, and whether the
    /// product code was right when it can be checked.
    fn count(&mut self, truth_in: bool, said_in: bool, uncertain: bool, code_right: Option<bool>) {
        self.total += 1;
        self.uncertain += usize::from(uncertain);
        if said_in && !uncertain {
            if truth_in {
                self.sure_tp += 1;
            } else {
                self.sure_fp += 1;
            }
        }
        match (truth_in, said_in) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
        if let Some(right) = code_right {
            self.code_known += 1;
            self.code_right += usize::from(right);
        }
    }
}

/// Prints one line per (split, group).
fn print_tallies(tallies: &BTreeMap<(String, String), Tally>) {
    println!("split    group          n     prec   recall uncertain code  prec(certain)");
    for ((split, g), t) in tallies {
        println!(
            "{split:<8} {g:<12} {:>5} {:>7.3} {:>7.3} {:>8.3} {}/{} {:>7.3}",
            t.total,
            t.precision(),
            t.recall(),
            t.uncertain_share(),
            t.code_right,
            t.code_known,
            t.sure_precision()
        );
    }
}

/// The built-in catalog, or an edited file (CCCWATCH_CATALOG) measured
/// without a rebuild.
fn catalog_under_test() -> Catalog {
    match std::env::var_os("CCCWATCH_CATALOG") {
        Some(p) => Catalog::from_path(Path::new(&p)).unwrap(),
        None => Catalog::embedded(),
    }
}

#[test]
fn independent_scope_set_precision_recall_and_uncertain_share() {
    let Some(fx) = fixtures() else {
        eprintln!("skipped: ../shared/fixtures is absent");
        return;
    };
    let titles = titles(&fx);
    let catalog = catalog_under_test();
    let brands = BrandTable::embedded();
    let index = CertIndex::build(Vec::new(), &brands);
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let matcher = Matcher::new(&index, &brands, &catalog, as_of);
    let labels = labels();
    assert!(labels.len() >= 1000, "at least 1,000 labelled titles");
    let mut missing = Vec::new();
    // (split, group) and (split, "全部") tallies.
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut errors: Vec<String> = Vec::new();
    for l in &labels {
        let Some(title) = titles.get(&(l.source.clone(), l.index)) else {
            missing.push(format!("{}#{}", l.source, l.index));
            continue;
        };
        if key(title) != l.key {
            missing.push(format!("{}#{} (changed)", l.source, l.index));
            continue;
        }
        if l.scope == "unclear" {
            continue;
        }
        let listing = Listing {
            title: title.clone(),
            ..Listing::default()
        };
        // Read through the verdict, as a user sees it (and as any version
        // of the matcher can be measured).
        let finding = matcher.judge(&listing);
        let truth_in = l.scope == "in";
        let said_in = finding.verdict != Verdict::NotInScope;
        let uncertain = finding.reasons.iter().any(|r| r.starts_with(UNCERTAIN));
        let code = finding.category_code.clone();
        let g = if l.code.is_empty() {
            "非目录商品"
        } else {
            group(&l.code)
        };
        let code_right =
            (truth_in && said_in && l.code.len() == 4 && group(&l.code) != "其他目录产品")
                .then(|| code.as_deref().is_some_and(|c| same_product(c, &l.code)));
        for bucket in [g, "全部"] {
            tallies
                .entry((l.split.clone(), bucket.to_string()))
                .or_default()
                .count(truth_in, said_in, uncertain, code_right);
        }
        if uncertain && l.split == "tune" && std::env::var_os("CCCWATCH_SHOW_UNCERTAIN").is_some() {
            println!(
                "UNCERTAIN {} {} {}: {:?}",
                l.scope, l.key, title, finding.reasons[0]
            );
        }
        if truth_in != said_in && l.split == "tune" {
            errors.push(format!(
                "{} {} [{}] {}: {:?}",
                if truth_in { "MISS" } else { "FALSE" },
                l.key,
                l.code,
                title,
                finding.reasons
            ));
        }
    }
    assert!(
        missing.len() * 50 <= labels.len(),
        "titles missing from the fixtures: {missing:?}"
    );
    print_tallies(&tallies);
    if std::env::var_os("CCCWATCH_SHOW_ERRORS").is_some() {
        for e in &errors {
            println!("{e}");
        }
    }
    tallies[&("heldout".to_string(), "全部".to_string())].assert_floors(
        FLOOR_PRECISION,
        FLOOR_RECALL,
        CEILING_UNCERTAIN,
    );
}

/// Floors on the held-out half, set below the figures measured when the
/// set was made (docs/BENCHMARKS.md) so that a regression fails.
const FLOOR_PRECISION: f64 = 0.54;
const FLOOR_RECALL: f64 = 0.88;
const CEILING_UNCERTAIN: f64 = 0.12;

/// Spans tagged `tag` (BIO, one character a line) in each title.
fn tagged_spans(path: &Path, tag: &str) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    let (mut title, mut spans, mut cur) = (String::new(), Vec::new(), String::new());
    let begin = format!("B-{tag}");
    let inside = format!("I-{tag}");
    for line in text.split('\n').chain(std::iter::once("")) {
        if line.is_empty() {
            if !cur.is_empty() {
                spans.push(std::mem::take(&mut cur));
            }
            if !title.is_empty() {
                out.push((std::mem::take(&mut title), std::mem::take(&mut spans)));
            }
            continue;
        }
        let c = line.chars().next().expect("not empty");
        let t = line[c.len_utf8()..].trim();
        title.push(c);
        if t == begin {
            if !cur.is_empty() {
                spans.push(std::mem::take(&mut cur));
            }
            cur.push(c);
        } else if t == inside && !cur.is_empty() {
            cur.push(c);
        } else if !cur.is_empty() {
            spans.push(std::mem::take(&mut cur));
        }
    }
    out
}

/// Models read from real JD titles (GAIIC 2022, tag 3 = model number, as
/// labelled by its authors): how many labelled models the title reader
/// finds, and how many of the tokens it reads are labelled models or the
/// models of compatible products (tag 38).
#[test]
fn models_in_real_jd_titles() {
    use cccwatch::matching::model::title_models;
    use cccwatch::text::normalize::{fold_width, model_key};
    let Some(fx) = fixtures() else {
        eprintln!("skipped: ../shared/fixtures is absent");
        return;
    };
    let path = fx.join("titles/cn_jd_titles_gaiic2022/train_500.txt");
    let models = tagged_spans(&path, "3");
    let compatible = tagged_spans(&path, "38");
    let (mut labelled, mut found, mut read, mut read_right) = (0, 0, 0, 0);
    for ((title, spans), (_, compat)) in models.iter().zip(&compatible) {
        let got: Vec<String> = title_models(&fold_width(title))
            .into_iter()
            .map(|m| m.key)
            .collect();
        // Only models a reader could find: with a digit, 4+ characters.
        let want: Vec<String> = spans
            .iter()
            .filter(|s| s.chars().any(|c| c.is_ascii_digit()) && s.chars().count() >= 4)
            .map(|s| model_key(&fold_width(s)))
            .collect();
        let known: Vec<String> = want
            .iter()
            .cloned()
            .chain(compat.iter().map(|s| model_key(&fold_width(s))))
            .collect();
        labelled += want.len();
        found += want
            .iter()
            .filter(|w| {
                got.iter()
                    .any(|g| g == *w || g.contains(w.as_str()) || w.contains(g.as_str()))
            })
            .count();
        read += got.len();
        read_right += got
            .iter()
            .filter(|g| {
                known
                    .iter()
                    .any(|k| k == *g || k.contains(g.as_str()) || g.contains(k.as_str()))
            })
            .count();
    }
    let recall = found as f64 / labelled.max(1) as f64;
    let precision = read_right as f64 / read.max(1) as f64;
    println!(
        "GAIIC 2022 JD titles: {labelled} labelled models, {found} found (recall {recall:.3}); {read} tokens read as models, {read_right} labelled (precision {precision:.3})"
    );
    assert!(labelled >= 50, "the fixture has model labels");
    assert!(recall >= MODEL_RECALL_FLOOR, "model recall {recall:.3}");
}

const MODEL_RECALL_FLOOR: f64 = 0.75;

/// The blind listing set (tests/independent/blind_listings.tsv): 936
/// listings of catalog products in everyday sellers' words, their
/// accessories and look-alikes, half of them with a category path, written
/// and labelled by a helper who did not see the matcher or its catalog (see
/// tests/independent/README.md). Weaker evidence than the real titles above
/// (the titles are written, not crawled), but shaped like what a bureau
/// scans: the three first product groups, accessories, look-alikes. Split
/// by title hash like the real set; the floors are on `heldout`.
#[test]
fn blind_listing_set_precision_recall_and_uncertain_share() {
    let held = blind_set("blind_listings.tsv", 900);
    held.assert_floors(BLIND_FLOOR_PRECISION, BLIND_FLOOR_RECALL, CEILING_UNCERTAIN);
}

/// A second blind set, written later by another helper blind to the matcher
/// and told to use seller words the first set did not (Hong Kong and Taiwan
/// names, misspellings, brands used as product names, model-only titles)
/// and consumables, covers and services (see tests/independent/README.md).
#[test]
fn second_blind_set_precision_recall_and_uncertain_share() {
    let held = blind_set("blind2_listings.tsv", 900);
    held.assert_floors(
        BLIND2_FLOOR_PRECISION,
        BLIND2_FLOOR_RECALL,
        BLIND2_CEILING_UNCERTAIN,
    );
}

/// A third blind set, written by a third helper blind to the matcher, with
/// a spec table (`params`) on 40% of the rows, and weighted to what the
/// first two sets found hardest: accessories named by ordinary nouns (278),
/// goods outside the catalog and its scope limits (233), products named by
/// form, region, typo or model alone (see tests/independent/README.md).
#[test]
fn third_blind_set_with_spec_tables() {
    let held = blind_set("blind3_listings.tsv", 900);
    held.assert_floors(
        BLIND3_FLOOR_PRECISION,
        BLIND3_FLOOR_RECALL,
        BLIND3_CEILING_UNCERTAIN,
    );
}

/// A fourth blind set, written by a fourth helper blind to the matcher,
/// mixed like a bureau's scan (54% products, 25% accessories, 19% other
/// goods) and weighted to products named by brand and model alone, by
/// nickname, purpose, user or form, toys named by play, and accessories
/// named only by their spec table (see tests/independent/README.md).
#[test]
fn fourth_blind_set_mixed_like_a_scan() {
    let held = blind_set("blind4_listings.tsv", 900);
    held.assert_floors(
        BLIND4_FLOOR_PRECISION,
        BLIND4_FLOOR_RECALL,
        BLIND4_CEILING_UNCERTAIN,
    );
}

/// Judges one blind set (tab separated, columns found by the header:
/// `label code category title`, an optional spec table `params` written
/// `label=value;label=value`, and notes) with the catalog under test, prints its tallies (and the tune
/// errors with `CCCWATCH_SHOW_ERRORS`) and returns the held-out tally.
fn blind_set(file: &str, min_rows: usize) -> Tally {
    let catalog = catalog_under_test();
    let brands = BrandTable::embedded();
    let index = CertIndex::build(Vec::new(), &brands);
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let matcher = Matcher::new(&index, &brands, &catalog, as_of);
    let text =
        std::fs::read_to_string(Path::new(ROOT).join("tests/independent").join(file)).unwrap();
    let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut rows = 0;
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines.next().expect("a header line").1.split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let at = |name: &str| column(name).unwrap_or_else(|| panic!("{file}: no column {name}"));
    let (label_at, code_at, category_at, title_at) =
        (at("label"), at("code"), at("category"), at("title"));
    let params_at = column("params");
    for (i, line) in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), header.len(), "{file} line {}: {line}", i + 1);
        let (label, code, category, title) = (
            cols[label_at],
            cols[code_at],
            cols[category_at],
            cols[title_at],
        );
        let params = params_at.map_or("", |p| cols[p]);
        rows += 1;
        if label == "unclear" {
            continue;
        }
        let listing = Listing {
            title: title.to_string(),
            category: (!category.is_empty()).then(|| category.to_string()),
            params: spec_table(params),
            ..Listing::default()
        };
        let finding = matcher.judge(&listing);
        let truth_in = label == "in";
        let said_in = finding.verdict != Verdict::NotInScope;
        let uncertain = finding.reasons.iter().any(|r| r.starts_with(UNCERTAIN));
        let k = key(title);
        let split = if u64::from_str_radix(&k, 16).unwrap().is_multiple_of(2) {
            "heldout"
        } else {
            "tune"
        };
        let g = if code.is_empty() {
            "未标代码"
        } else {
            group(code)
        };
        let code_right = (truth_in && said_in && code.len() == 4).then(|| {
            finding
                .category_code
                .as_deref()
                .is_some_and(|c| same_product(c, code))
        });
        for bucket in [g, "全部"] {
            tallies
                .entry((split.to_string(), bucket.to_string()))
                .or_default()
                .count(truth_in, said_in, uncertain, code_right);
        }
        if code_right == Some(false) && split == "tune" {
            errors.push(format!(
                "CODE [{code}] {title} | {category} | {params}: read {:?}",
                finding.category_code
            ));
        }
        if truth_in != said_in && split == "tune" {
            errors.push(format!(
                "{} {label} [{code}] {title} | {category} | {params}: {:?}",
                if truth_in { "MISS" } else { "FALSE" },
                finding.reasons
            ));
        }
    }
    assert!(rows >= min_rows, "{file}: {rows} rows");
    println!("{file}");
    print_tallies(&tallies);
    if std::env::var_os("CCCWATCH_SHOW_ERRORS").is_some() {
        for e in &errors {
            println!("{e}");
        }
    }
    tallies
        .remove(&("heldout".to_string(), "全部".to_string()))
        .unwrap()
}

/// A spec table written `label=value;label=value` (the blind sets' `params`).
fn spec_table(params: &str) -> Vec<(String, String)> {
    params
        .split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.split_once('=') {
            Some((label, value)) => (label.trim().to_string(), value.trim().to_string()),
            None => panic!("params entry without '=': {p}"),
        })
        .collect()
}

impl Tally {
    /// The held-out floors of a set, and its uncertain ceiling.
    fn assert_floors(&self, precision: f64, recall: f64, uncertain: f64) {
        assert!(
            self.precision() >= precision,
            "held-out precision {:.3}",
            self.precision()
        );
        assert!(
            self.recall() >= recall,
            "held-out recall {:.3}",
            self.recall()
        );
        assert!(
            self.uncertain_share() <= uncertain,
            "held-out uncertain share {:.3}",
            self.uncertain_share()
        );
    }
}

/// The second blind set's floors, a little under what the held-out half
/// gave on 2026-12-07 (0.835 / 0.886 / 0.171). Its words were new to the
/// catalog, so more of it is left for review than of the first set.
/// After the seventh round (2026-12-08): 0.868 / 0.891 / 0.140.
const BLIND2_FLOOR_PRECISION: f64 = 0.85;
const BLIND2_FLOOR_RECALL: f64 = 0.88;
const BLIND2_CEILING_UNCERTAIN: f64 = 0.19;
/// Blind set 3 held out: measured 0.615 / 0.870 / 0.190 on the matcher
/// before any tuning on it, 0.663 / 0.870 / 0.175 after (2026-12-07),
/// 0.673 / 0.892 / 0.181 after the seventh round (2026-12-08).
const BLIND3_FLOOR_PRECISION: f64 = 0.66;
const BLIND3_FLOOR_RECALL: f64 = 0.88;
const BLIND3_CEILING_UNCERTAIN: f64 = 0.19;
/// Blind set 4 held out: measured 0.786 / 0.864 / 0.169 on the matcher
/// before any tuning on it, 0.794 / 0.893 / 0.182 after (2026-12-08).
const BLIND4_FLOOR_PRECISION: f64 = 0.78;
const BLIND4_FLOOR_RECALL: f64 = 0.88;
const BLIND4_CEILING_UNCERTAIN: f64 = 0.19;
const BLIND_FLOOR_PRECISION: f64 = 0.88;
const BLIND_FLOOR_RECALL: f64 = 0.96;
