//! Report stage: the seller risk ranking. Sellers (per platform) ordered by
//! a score over their confirmed findings and how they answered notices:
//! `score = confirmed + 2 × overdue + 3 × relisted` (each counted in
//! listings), so a seller who ignores or undoes takedowns ranks above one
//! who only has findings. Pure: no I/O.

use crate::store::SellerCounts;
use serde::Serialize;

/// The weight of a listing overdue after its notice's deadline.
pub const OVERDUE_WEIGHT: i64 = 2;
/// The weight of a listing back online after its removal was verified.
pub const RELISTED_WEIGHT: i64 = 3;

/// How the score is made, for the page, the files and `--help`.
pub const SCORE_FORMULA_ZH: &str =
    "风险分 = 确认违规商品数 + 2 × 逾期未下架商品数 + 3 × 重新上架商品数";

/// The label of listings that name no seller.
pub const NO_SELLER: &str = "（未标明商家）";

/// One ranked seller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SellerRisk {
    pub rank: usize,
    pub platform: String,
    /// The platform's name for people.
    pub platform_label: String,
    pub seller: Option<String>,
    pub confirmed: i64,
    pub overdue: i64,
    pub relisted: i64,
    pub under_notice: i64,
    pub score: i64,
}

impl SellerRisk {
    pub fn seller_label(&self) -> &str {
        self.seller.as_deref().unwrap_or(NO_SELLER)
    }
}

pub fn score(c: &SellerCounts) -> i64 {
    c.confirmed + OVERDUE_WEIGHT * c.overdue + RELISTED_WEIGHT * c.relisted
}

/// Highest score first; ties by confirmed findings, then platform and
/// seller name. The first `limit` when given.
pub fn rank(counts: Vec<SellerCounts>, limit: Option<usize>) -> Vec<SellerRisk> {
    let mut out: Vec<SellerRisk> = counts
        .into_iter()
        .map(|c| SellerRisk {
            rank: 0,
            score: score(&c),
            platform_label: c.platform.clone(),
            platform: c.platform,
            seller: c.seller,
            confirmed: c.confirmed,
            overdue: c.overdue,
            relisted: c.relisted,
            under_notice: c.under_notice,
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(b.confirmed.cmp(&a.confirmed))
            .then_with(|| a.platform.cmp(&b.platform))
            .then_with(|| a.seller.cmp(&b.seller))
    });
    out.truncate(limit.unwrap_or(usize::MAX));
    for (i, r) in out.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    out
}

/// The columns of the ranking's XLSX and CSV files.
pub const COLUMNS: [&str; 8] = [
    "排名",
    "平台",
    "商家",
    "确认违规商品",
    "逾期未下架",
    "重新上架",
    "在通知中商品",
    "风险分",
];

/// One row of the files, as text.
pub fn cells(r: &SellerRisk) -> Vec<String> {
    vec![
        r.rank.to_string(),
        r.platform_label.clone(),
        r.seller_label().to_string(),
        r.confirmed.to_string(),
        r.overdue.to_string(),
        r.relisted.to_string(),
        r.under_notice.to_string(),
        r.score.to_string(),
    ]
}

/// The ranking as CSV, UTF-8 with a BOM so that Excel reads the Chinese.
pub fn csv(rows: &[SellerRisk]) -> Result<Vec<u8>, csv::Error> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(COLUMNS)?;
        for r in rows {
            w.write_record(cells(r).iter().map(|c| crate::export::csv_cell(c)))?;
        }
        w.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(platform: &str, seller: Option<&str>, counts: [i64; 4]) -> SellerCounts {
        SellerCounts {
            platform: platform.into(),
            seller: seller.map(str::to_string),
            confirmed: counts[0],
            overdue: counts[1],
            relisted: counts[2],
            under_notice: counts[3],
        }
    }

    #[test]
    fn relists_and_overdue_weigh_more_than_findings() {
        let ranked = rank(
            vec![
                c("demo", Some("甲"), [5, 0, 0, 0]),
                c("demo", Some("乙"), [1, 0, 1, 1]),
                c("jd", Some("丙"), [2, 1, 0, 1]),
                c("demo", None, [4, 0, 0, 0]),
                c("demo", Some("丁"), [3, 0, 0, 0]),
            ],
            None,
        );
        let order: Vec<(&str, i64)> = ranked.iter().map(|r| (r.seller_label(), r.score)).collect();
        assert_eq!(
            order,
            [("甲", 5), (NO_SELLER, 4), ("丙", 4), ("乙", 4), ("丁", 3)],
            "ties: more confirmed first, then platform and name"
        );
        assert_eq!(ranked[0].rank, 1);
        assert_eq!(ranked[4].rank, 5);
        let top = rank(
            vec![
                c("a", Some("x"), [1, 0, 0, 0]),
                c("a", Some("y"), [2, 0, 0, 0]),
            ],
            Some(1),
        );
        assert_eq!((top.len(), top[0].seller.as_deref()), (1, Some("y")));
    }

    #[test]
    fn csv_has_a_bom_and_the_header() {
        let bytes = csv(&rank(vec![c("demo", Some("a,b"), [1, 1, 1, 1])], None)).unwrap();
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
        assert!(text.starts_with("排名,平台,商家,"));
        assert!(text.contains("1,demo,\"a,b\",1,1,1,1,6"));
    }
}
