//! Act stage: the risk feed to platforms (outbound; `crate::feed` is the
//! inbound product feed). For one platform and a window `[since, until)`:
//! certificates that became suspended, revoked, cancelled or expired, with
//! the platform's listings that cite them; findings confirmed by reviewers;
//! repeat sellers. Served as JSON over HTTP (`/api/feeds/{platform}`) and
//! written as files (`cccwatch feed write`); every delivery is recorded, and
//! the last one's `until` is where the next one starts.

use crate::clock::beijing_time;
use crate::store::{
    ConfirmedFinding, FeedCertificate, FeedChannel, FeedDelivery, FeedToken, FeedTruncated,
    RepeatSeller, Store, StoreError,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Names the document's format; bumped when a field changes meaning.
pub const SCHEMA: &str = "cccwatch.risk_feed";
pub const SCHEMA_VERSION: u32 = 1;
/// Each list stops at this many entries (`truncated` says so).
pub const LIST_CAP: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("`since` must be an RFC 3339 time or a date YYYY-MM-DD, not `{0}`")]
    BadSince(String),
    #[error("`since` ({since}) must be before the feed's end ({until})")]
    SinceNotBefore { since: String, until: String },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing {path}: {source}")]
    Xlsx { path: PathBuf, source: XlsxError },
}

/// Parses `since`: an RFC 3339 time (any offset) or a date, which means
/// 00:00 UTC of that day.
pub fn parse_since(s: &str) -> Result<DateTime<Utc>, FeedError> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| FeedError::BadSince(s.to_string()))
}

/// Who asks for the feed; each has its own cursor.
#[derive(Debug, Clone, Copy)]
pub enum Requester<'a> {
    /// A platform's feed token.
    Token(&'a FeedToken),
    /// A staff account (user name); reads move no cursor.
    Staff(&'a str),
    /// `cccwatch feed write` (who ran it).
    File(&'a str),
}

impl Requester<'_> {
    fn channel(&self) -> FeedChannel {
        match self {
            Requester::Token(_) => FeedChannel::Token,
            Requester::Staff(_) => FeedChannel::Staff,
            Requester::File(_) => FeedChannel::File,
        }
    }

    fn token_id(&self) -> Option<i64> {
        match self {
            Requester::Token(t) => Some(t.id),
            _ => None,
        }
    }

    fn name(&self) -> &str {
        match self {
            Requester::Token(t) => &t.name,
            Requester::Staff(n) | Requester::File(n) => n,
        }
    }
}

/// A request for one platform's feed.
#[derive(Debug, Clone, Copy)]
pub struct FeedRequest<'a> {
    pub platform: &'a str,
    /// Start of the window; `None`: where this requester's last delivery
    /// ended, or `first_days` back the first time (and always for staff).
    pub since: Option<DateTime<Utc>>,
    pub requester: Requester<'a>,
    pub first_days: i64,
    /// End of the window (exclusive).
    pub until: DateTime<Utc>,
    pub cap: usize,
}

/// Entries per list.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct FeedCounts {
    pub certificates: usize,
    pub certificate_listings: usize,
    pub confirmed_findings: usize,
    pub repeat_sellers: usize,
}

/// The feed document, as served and written.
#[derive(Debug, Clone, Serialize)]
pub struct FeedDocument {
    pub schema: &'static str,
    pub schema_version: u32,
    pub platform: String,
    pub generated_at: String,
    pub since: String,
    pub until: String,
    /// Pass as `since` next time (what a call without `since` does by itself).
    pub next_since: String,
    pub counts: FeedCounts,
    pub truncated: FeedTruncated,
    pub certificates: Vec<FeedCertificate>,
    pub confirmed_findings: Vec<ConfirmedFinding>,
    pub repeat_sellers: Vec<RepeatSeller>,
}

/// Builds the feed for `req`, records the delivery (and the token's last
/// use) and returns the document.
pub async fn deliver(store: &Store, req: &FeedRequest<'_>) -> Result<FeedDocument, FeedError> {
    let since = window_start(store, req).await?;
    let until = req.until;
    if since >= until {
        return Err(FeedError::SinceNotBefore {
            since: crate::store::feed_stamp(since),
            until: crate::store::feed_stamp(until),
        });
    }
    let lists = store
        .feed_lists(req.platform, since, until, req.cap)
        .await?;
    let counts = FeedCounts {
        certificates: lists.certificates.len(),
        certificate_listings: lists.certificates.iter().map(|c| c.listings.len()).sum(),
        confirmed_findings: lists.confirmed_findings.len(),
        repeat_sellers: lists.repeat_sellers.len(),
    };
    store
        .record_feed_delivery(&FeedDelivery {
            token_id: req.requester.token_id(),
            platform: req.platform,
            channel: req.requester.channel(),
            requested_by: req.requester.name(),
            since,
            until,
            counts: serde_json::to_value(counts).unwrap_or_default(),
        })
        .await?;
    tracing::info!(
        platform = req.platform,
        channel = req.requester.channel().as_str(),
        by = req.requester.name(),
        certificates = counts.certificates,
        confirmed = counts.confirmed_findings,
        sellers = counts.repeat_sellers,
        "risk feed delivered"
    );
    let until = crate::store::feed_stamp(until);
    Ok(FeedDocument {
        schema: SCHEMA,
        schema_version: SCHEMA_VERSION,
        platform: req.platform.to_string(),
        generated_at: crate::store::feed_stamp(store.now()),
        since: crate::store::feed_stamp(since),
        next_since: until.clone(),
        until,
        counts,
        truncated: lists.truncated,
        certificates: lists.certificates,
        confirmed_findings: lists.confirmed_findings,
        repeat_sellers: lists.repeat_sellers,
    })
}

async fn window_start(store: &Store, req: &FeedRequest<'_>) -> Result<DateTime<Utc>, FeedError> {
    if let Some(since) = req.since {
        return Ok(since);
    }
    let first = req.until - chrono::Duration::days(req.first_days);
    if matches!(req.requester, Requester::Staff(_)) {
        return Ok(first);
    }
    let cursor = store
        .feed_cursor(
            req.platform,
            req.requester.channel(),
            req.requester.token_id(),
        )
        .await?;
    Ok(cursor
        .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
        .map(|c| c.with_timezone(&Utc))
        .unwrap_or(first))
}

// ---- files ----------------------------------------------------------------

/// `risk-feed-jd-20261129T042344Z`: the platform (made safe for a file
/// name) and the window's end.
pub fn file_stem(doc: &FeedDocument) -> String {
    let platform: String = doc
        .platform
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let until = DateTime::parse_from_rfc3339(&doc.until)
        .map(|t| t.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|_| "unknown".into());
    format!("risk-feed-{platform}-{until}")
}

/// Writes `DIR/<stem>.json` (the document) and `DIR/<stem>.xlsx` (the same
/// lists for staff, Chinese headers). Returns the paths.
pub fn write_files(doc: &FeedDocument, dir: &Path) -> Result<Vec<PathBuf>, FeedError> {
    let werr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FeedError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(werr(dir))?;
    let stem = file_stem(doc);
    let json_path = dir.join(format!("{stem}.json"));
    let json = serde_json::to_vec_pretty(doc).unwrap_or_default();
    std::fs::write(&json_path, json).map_err(werr(&json_path))?;
    let xlsx_path = dir.join(format!("{stem}.xlsx"));
    let bytes = feed_xlsx(doc).map_err(|source| FeedError::Xlsx {
        path: xlsx_path.clone(),
        source,
    })?;
    std::fs::write(&xlsx_path, bytes).map_err(werr(&xlsx_path))?;
    Ok(vec![json_path, xlsx_path])
}

/// Sheet names and headers of the XLSX file.
pub const CERT_SHEET: &str = "证书状态变更";
pub const CERT_COLUMNS: [&str; 14] = [
    "证书编号",
    "当前状态",
    "变更类型",
    "变更时间（北京时间）",
    "产品名称",
    "认证委托人",
    "生产者",
    "证书到期日期",
    "平台商品编号",
    "商品链接",
    "商品标题",
    "店铺/商家",
    "商品状态",
    "商品标注该证书",
];
pub const CONFIRMED_SHEET: &str = "已确认问题商品";
pub const CONFIRMED_COLUMNS: [&str; 11] = [
    "平台商品编号",
    "商品链接",
    "商品标题",
    "店铺/商家",
    "店铺链接",
    "商品状态",
    "问题类型",
    "理由",
    "证书编号",
    "确认时间（北京时间）",
    "处理措施",
];
pub const SELLER_SHEET: &str = "重复违规商家";
pub const SELLER_COLUMNS: [&str; 5] = [
    "店铺/商家",
    "店铺链接",
    "已确认问题商品数",
    "逾期未下架通知数",
    "下架后重新上架数",
];

fn listing_state_label(s: &str) -> &'static str {
    if s == "gone" { "已下架" } else { "在售" }
}

fn cert_rows(certs: &[FeedCertificate]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for c in certs {
        let event = c.events.last();
        let head = vec![
            c.cert_no.clone(),
            c.status_label.clone(),
            c.events
                .iter()
                .map(|e| e.kind_label.clone())
                .collect::<Vec<_>>()
                .join("、"),
            event.map(|e| beijing_time(&e.at)).unwrap_or_default(),
            c.product_name.clone(),
            c.applicant.clone(),
            c.manufacturer.clone(),
            c.expires_on.clone(),
        ];
        if c.listings.is_empty() {
            let mut row = head.clone();
            row.extend(std::iter::repeat_n(String::new(), 6));
            out.push(row);
        }
        for l in &c.listings {
            let mut row = head.clone();
            row.extend([
                l.item_id.clone(),
                l.url.clone().unwrap_or_default(),
                l.title.clone(),
                l.seller.clone().unwrap_or_default(),
                listing_state_label(&l.state).to_string(),
                if l.cites {
                    "是"
                } else {
                    "否（型号匹配）"
                }
                .to_string(),
            ]);
            out.push(row);
        }
    }
    out
}

fn confirmed_rows(rows: &[ConfirmedFinding]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|f| {
            vec![
                f.item_id.clone(),
                f.url.clone().unwrap_or_default(),
                f.title.clone(),
                f.seller.clone().unwrap_or_default(),
                f.shop_url.clone().unwrap_or_default(),
                listing_state_label(&f.state).to_string(),
                f.verdict_label.clone(),
                f.reasons.join("；"),
                f.certificate.clone().unwrap_or_default(),
                beijing_time(&f.decided_at),
                f.measure_label.clone().unwrap_or_default(),
            ]
        })
        .collect()
}

fn seller_rows(rows: &[RepeatSeller]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|s| {
            vec![
                s.seller.clone(),
                s.shop_url.clone().unwrap_or_default(),
                s.confirmed.to_string(),
                s.overdue.to_string(),
                s.relisted.to_string(),
            ]
        })
        .collect()
}

/// A sheet: name, headers, rows.
type Sheet<'a> = (&'a str, &'a [&'a str], Vec<Vec<String>>);

fn feed_xlsx(doc: &FeedDocument) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let title = format!(
        "{} 风险信息 {} 至 {}（北京时间）",
        doc.platform,
        beijing_time(&doc.since),
        beijing_time(&doc.until)
    );
    let sheets: [Sheet; 3] = [
        (CERT_SHEET, &CERT_COLUMNS, cert_rows(&doc.certificates)),
        (
            CONFIRMED_SHEET,
            &CONFIRMED_COLUMNS,
            confirmed_rows(&doc.confirmed_findings),
        ),
        (
            SELLER_SHEET,
            &SELLER_COLUMNS,
            seller_rows(&doc.repeat_sellers),
        ),
    ];
    for (name, columns, rows) in sheets {
        let sheet = wb.add_worksheet();
        sheet.set_name(name)?;
        write_sheet(sheet, columns, &rows)?;
        sheet.set_header(format!("&L{title}&R第 &P 页"));
    }
    wb.save_to_buffer()
}

fn write_sheet(
    sheet: &mut Worksheet,
    columns: &[&str],
    rows: &[Vec<String>],
) -> Result<(), XlsxError> {
    let header = Format::new()
        .set_bold()
        .set_background_color("#DDE7F0")
        .set_text_wrap();
    for (i, c) in columns.iter().enumerate() {
        sheet.set_column_width(i as u16, 18.0)?;
        sheet.write_string_with_format(0, i as u16, *c, &header)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, v)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, rows.len().max(1) as u32, (columns.len() - 1) as u16)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_rfc3339_or_a_date() {
        assert_eq!(
            parse_since("2026-11-01").unwrap().to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_since("2026-11-01T08:00:00+08:00")
                .unwrap()
                .to_rfc3339(),
            "2026-11-01T00:00:00+00:00"
        );
        for bad in ["yesterday", "2026-13-01", "2026/11/01", ""] {
            assert!(
                matches!(parse_since(bad), Err(FeedError::BadSince(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn staff_read_times_in_beijing_time() {
        let f = ConfirmedFinding {
            item_id: "1001".into(),
            url: None,
            title: "插座".into(),
            seller: None,
            shop_url: None,
            state: "gone".into(),
            verdict: "revoked".into(),
            verdict_label: "证书已撤销".into(),
            reasons: vec!["证书已撤销".into()],
            certificate: None,
            cert_numbers: Vec::new(),
            decided_at: "2026-11-29T04:00:00.000Z".into(),
            measure: None,
            measure_label: None,
        };
        let row = &confirmed_rows(&[f])[0];
        let at = CONFIRMED_COLUMNS
            .iter()
            .position(|c| *c == "确认时间（北京时间）")
            .unwrap();
        assert_eq!(row[at], "2026-11-29 12:00:00");
        assert_eq!(row[5], "已下架");
    }

    #[test]
    fn file_names_are_safe() {
        let doc = FeedDocument {
            schema: SCHEMA,
            schema_version: SCHEMA_VERSION,
            platform: "../jd 京东".into(),
            generated_at: String::new(),
            since: "2026-11-01T00:00:00.000Z".into(),
            until: "2026-11-29T04:23:44.123Z".into(),
            next_since: String::new(),
            counts: FeedCounts {
                certificates: 0,
                certificate_listings: 0,
                confirmed_findings: 0,
                repeat_sellers: 0,
            },
            truncated: FeedTruncated::default(),
            certificates: Vec::new(),
            confirmed_findings: Vec::new(),
            repeat_sellers: Vec::new(),
        };
        assert_eq!(file_stem(&doc), "risk-feed-___jd___-20261129T042344Z");
    }
}
