//! Review stage, inbound: risk signals from outside the crawl — a
//! platform's own sampling results and consumer complaints, imported from
//! CSV/XLSX. Each signal names an item, a seller, or a brand + model; the
//! findings it points at rise in the review queue (their `priority`), and
//! the next scan of the platform searches for the brand + model and
//! re-opens the named items.

use crate::matching::brand::BrandTable;
use crate::store::{NewSignal, PriorityRow, Store, StoreError};
use crate::tabular::{Table, TableError, cell};
use crate::text::normalize::{model_key, name_key, strip_colour_suffix};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// What kind of signal a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// A platform's sampling (抽检) result; only failed samples count.
    Sampling,
    /// A consumer complaint (投诉举报).
    Complaint,
}

impl SignalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Sampling => "sampling",
            SignalKind::Complaint => "complaint",
        }
    }

    pub fn parse(s: &str) -> Option<SignalKind> {
        match s {
            "sampling" => Some(SignalKind::Sampling),
            "complaint" => Some(SignalKind::Complaint),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            SignalKind::Sampling => "平台抽检不合格",
            SignalKind::Complaint => "消费者投诉",
        }
    }

    /// Priority one signal of this kind adds.
    pub fn weight(self) -> i64 {
        match self {
            SignalKind::Sampling => 50,
            SignalKind::Complaint => 20,
        }
    }
}

/// Priority from signals is capped below a relist's.
pub const MAX_SIGNAL_PRIORITY: i64 = 99;
/// Signals count for this long after they were reported (or imported).
pub const ACTIVE_DAYS: i64 = 180;

const PLATFORM: &[&str] = &["平台", "platform"];
const ITEM: &[&str] = &["平台商品编号", "商品编号", "商品ID", "item_id"];
const LINK: &[&str] = &["商品链接", "链接", "url"];
const SELLER: &[&str] = &[
    "店铺",
    "店铺名称",
    "商家",
    "卖家",
    "店铺/商家",
    "被投诉商家",
    "seller",
];
const BRAND: &[&str] = &["品牌", "商标", "brand"];
const MODEL: &[&str] = &["型号", "规格型号", "model"];
const DATE: &[&str] = &["抽检日期", "投诉日期", "日期", "date"];
const RESULT: &[&str] = &["抽检结果", "检验结论", "结论", "结果", "result"];
const DETAIL: &[&str] = &["投诉内容", "问题", "不合格项目", "说明", "detail"];

#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A row that was not used, and why (Chinese, for the user).
#[derive(Debug, Clone, Serialize)]
pub struct SignalProblem {
    pub line: u64,
    pub problem: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SignalReport {
    pub imported: u64,
    /// Rows of this file imported before.
    pub already: u64,
    /// Sampling rows that passed (no signal).
    pub passed: u64,
    pub problems: Vec<SignalProblem>,
    /// Findings whose priority changed.
    pub reprioritised: u64,
}

/// Imports the signals in `path` and re-ranks the findings they point at.
pub async fn import(
    store: &Store,
    brands: &BrandTable,
    path: &Path,
    kind: SignalKind,
    default_platform: Option<&str>,
    by: &str,
) -> Result<SignalReport, SignalError> {
    let table = Table::read(path, &[ITEM, SELLER, BRAND, MODEL].concat())?;
    let source = source_name(path)?;
    let (signals, mut report) = parse(&table, kind, default_platform, brands, &source, by);
    let (added, already) = store.insert_signals(&signals, by).await?;
    report.imported = added;
    report.already = already;
    report.reprioritised = reprioritise(store, brands, None).await?;
    Ok(report)
}

/// The file's name with the start of its SHA-256, so that the same file
/// imported twice is recognised and a changed one is not.
fn source_name(path: &Path) -> Result<String, SignalError> {
    use sha2::Digest;
    let bytes = std::fs::read(path).map_err(|cause| {
        TableError::from(crate::sheet::SheetError::Read {
            path: path.to_path_buf(),
            cause,
        })
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    Ok(format!(
        "{name}#{}",
        &hex::encode(sha2::Sha256::digest(&bytes))[..12]
    ))
}

/// The signals of a table, with the rows that cannot be used.
pub fn parse(
    table: &Table,
    kind: SignalKind,
    default_platform: Option<&str>,
    brands: &BrandTable,
    source: &str,
    by: &str,
) -> (Vec<NewSignal>, SignalReport) {
    let col = |names: &[&str]| table.column(names);
    let (platform, item, link, seller) = (col(PLATFORM), col(ITEM), col(LINK), col(SELLER));
    let (brand, model, date, result, detail) =
        (col(BRAND), col(MODEL), col(DATE), col(RESULT), col(DETAIL));
    let mut report = SignalReport::default();
    let mut out = Vec::new();
    for (line, row) in &table.rows {
        let get = |c| cell(row, c).map(str::to_string);
        let outcome = get(result);
        if kind == SignalKind::Sampling && outcome.as_deref().is_some_and(passed) {
            report.passed += 1;
            continue;
        }
        let item_id = get(item).or_else(|| get(link).and_then(|l| item_in_link(&l)));
        let (brand, model) = (get(brand), get(model));
        let seller = get(seller);
        if item_id.is_none() && seller.is_none() && (brand.is_none() || model.is_none()) {
            report.problems.push(SignalProblem {
                line: *line,
                problem: "没有可用于定位的信息：需要商品编号、店铺，或品牌加型号".into(),
            });
            continue;
        }
        let reported_on = get(date).and_then(|d| crate::notice::reply::parse_date(&d));
        let detail = [outcome, get(detail)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("；");
        out.push(NewSignal {
            kind: kind.as_str().into(),
            source_file: source.into(),
            row_no: *line as i64,
            platform: get(platform).or(default_platform.map(str::to_string)),
            item_id,
            seller,
            brand_key: brand.as_deref().map(|b| brand_key(brands, b)),
            model_key: model.as_deref().map(model_match_key),
            brand,
            model,
            reported_on,
            detail: detail.chars().take(500).collect(),
            weight: kind.weight(),
            imported_by: by.into(),
        });
    }
    (out, report)
}

/// `合格` but not `不合格`.
fn passed(result: &str) -> bool {
    result.contains("合格") && !result.contains("不合格")
}

/// The numeric item ID in a product link (`.../12345678.html`, `id=12345678`).
fn item_in_link(link: &str) -> Option<String> {
    let re = regex::Regex::new(r"(?:[?&]id=|/)(\d{5,})(?:\.html)?(?:[?#&]|$)").ok()?;
    re.captures(link).map(|c| c[1].to_string())
}

/// A brand's comparison key: its canonical name when the alias table knows
/// it, else its name key.
pub fn brand_key(brands: &BrandTable, written: &str) -> String {
    match brands.lookup(written) {
        Some(i) => format!("#{}", brands.get(i).names().next().unwrap_or_default()),
        None => name_key(written),
    }
}

/// A model's comparison key (never equal when a character differs).
pub fn model_match_key(model: &str) -> String {
    model_key(strip_colour_suffix(model.trim()))
}

/// What the active signals point at, for matching findings quickly.
#[derive(Default)]
struct Targets {
    by_item: HashMap<(String, String), Vec<usize>>,
    by_seller: HashMap<(Option<String>, String), Vec<usize>>,
    by_product: HashMap<(String, String), Vec<usize>>,
    signals: Vec<(i64, String)>,
}

/// Recomputes the priority of findings (of `platform`, or all) from the
/// active signals and relists; returns how many changed.
pub async fn reprioritise(
    store: &Store,
    brands: &BrandTable,
    platform: Option<&str>,
) -> Result<u64, StoreError> {
    let since = (store.now() - chrono::Duration::days(ACTIVE_DAYS)).to_rfc3339();
    let active = store.active_signals(&since).await?;
    let mut t = Targets::default();
    for s in &active {
        let i = t.signals.len();
        t.signals.push((s.weight, s.note()));
        if let (Some(p), Some(item)) = (&s.platform, &s.item_id) {
            t.by_item
                .entry((p.clone(), item.clone()))
                .or_default()
                .push(i);
        }
        if let Some(seller) = &s.seller {
            t.by_seller
                .entry((s.platform.clone(), seller.clone()))
                .or_default()
                .push(i);
        }
        if let (Some(b), Some(m)) = (&s.brand_key, &s.model_key) {
            t.by_product
                .entry((b.clone(), m.clone()))
                .or_default()
                .push(i);
        }
    }
    let mut changed = 0;
    let mut after = 0;
    loop {
        let page = store.priority_page(platform, after, 5000).await?;
        let Some(last) = page.last() else { break };
        after = last.listing_id;
        let updates: Vec<(i64, i64, Option<String>)> = page
            .iter()
            .filter_map(|row| {
                let (p, note) = priority_of(&t, brands, row);
                (p != row.priority || (p > 0 && note != row.note)).then_some((
                    row.listing_id,
                    p,
                    note,
                ))
            })
            .collect();
        changed += store.set_priorities(&updates).await?;
    }
    Ok(changed)
}

fn priority_of(t: &Targets, brands: &BrandTable, row: &PriorityRow) -> (i64, Option<String>) {
    let mut hits: Vec<usize> = Vec::new();
    if let Some(v) = t.by_item.get(&(row.platform.clone(), row.item_id.clone())) {
        hits.extend(v);
    }
    if let Some(seller) = &row.seller {
        for key in [
            (Some(row.platform.clone()), seller.clone()),
            (None, seller.clone()),
        ] {
            if let Some(v) = t.by_seller.get(&key) {
                hits.extend(v);
            }
        }
    }
    if let (Some(b), Some(m)) = (&row.brand, &row.model)
        && let Some(v) = t
            .by_product
            .get(&(brand_key(brands, b), model_match_key(m)))
    {
        hits.extend(v);
    }
    hits.sort_unstable();
    hits.dedup();
    let from_signals = hits
        .iter()
        .map(|&i| t.signals[i].0)
        .sum::<i64>()
        .min(MAX_SIGNAL_PRIORITY);
    let mut notes: Vec<String> = Vec::new();
    if let Some(relist) = &row.relist_note {
        notes.push(relist.clone());
    }
    notes.extend(hits.iter().take(3).map(|&i| t.signals[i].1.clone()));
    if hits.len() > 3 {
        notes.push(format!("等 {} 条线索", hits.len()));
    }
    let p = if row.relist_note.is_some() {
        crate::store::RELIST_PRIORITY + from_signals
    } else {
        from_signals
    };
    (p, (!notes.is_empty()).then(|| notes.join("；")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_keys_ignore_aliases_and_separators_but_not_digits() {
        let b = BrandTable::embedded();
        assert_eq!(brand_key(&b, "BULL"), brand_key(&b, "公牛"));
        assert_eq!(
            model_match_key("GN-H3050"),
            model_match_key("gn h3050 白色")
        );
        assert_ne!(model_match_key("GN-H3050"), model_match_key("GN-H3060"));
    }

    #[test]
    fn sampling_rows_that_passed_bring_no_signal() {
        assert!(passed("合格"));
        assert!(!passed("不合格"));
        assert!(!passed("标志不合格"));
    }

    #[test]
    fn item_ids_come_out_of_links() {
        assert_eq!(
            item_in_link("https://item.jd.com/100012345678.html").as_deref(),
            Some("100012345678")
        );
        assert_eq!(
            item_in_link("https://detail.tmall.com/item.htm?spm=a&id=61234567890&sku=1").as_deref(),
            Some("61234567890")
        );
        assert_eq!(item_in_link("https://example.com/shop"), None);
    }
}
