//! Report stage: the monthly report and the seller ranking as XLSX
//! workbooks (Chinese sheet names and headers, numbers as numbers).

use super::monthly::{DEFINITIONS, MonthlyReport, PlatformFigures, TOTAL, flagged_verdicts};
use super::sellers::{self, SellerRisk};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

/// The sheets of the monthly workbook, in order.
pub const MONTHLY_SHEETS: [&str; 5] = ["汇总", "发现问题", "产品类别", "通知与下架", "口径说明"];

/// The columns of the 汇总 sheet.
pub const SUMMARY_COLUMNS: [&str; 15] = [
    "平台",
    "扫描次数",
    "检查商品数",
    "问题商品",
    "未判定",
    "新发现问题商品",
    "确认违规",
    "排除",
    "通知书份数",
    "通知商品数",
    "核实下架",
    "逾期未下架",
    "重新上架",
    "下架率",
    "下架用时中位数（天）",
];

/// The columns of the 通知与下架 sheet.
pub const NOTICE_COLUMNS: [&str; 10] = [
    "平台",
    "通知书份数",
    "通知书编号",
    "通知商品数",
    "其中已下架",
    "下架率",
    "核实下架",
    "下架用时中位数（天）",
    "逾期未下架",
    "重新上架",
];

/// A cell: text, a count, a rate (percent) or a number of days; `None` is `—`.
enum Cell {
    Text(String),
    Count(i64),
    Rate(Option<f64>),
    Days(Option<f64>),
}

struct Formats {
    header: Format,
    total: Format,
    percent: Format,
    days: Format,
    wrap: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new()
                .set_bold()
                .set_background_color("#DDE7F0")
                .set_text_wrap(),
            total: Format::new().set_bold(),
            percent: Format::new().set_num_format("0.0%"),
            days: Format::new().set_num_format("0.0"),
            wrap: Format::new().set_text_wrap(),
        }
    }
}

fn table(
    sheet: &mut Worksheet,
    f: &Formats,
    headers: &[String],
    rows: &[Vec<Cell>],
    widths: &[f64],
) -> Result<(), XlsxError> {
    for (i, w) in widths.iter().enumerate() {
        sheet.set_column_width(i as u16, *w)?;
    }
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &f.header)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) if c == 0 && t == TOTAL => {
                    sheet.write_string_with_format(r, c, t, &f.total)?
                }
                Cell::Text(t) => sheet.write_string_with_format(r, c, t, &f.wrap)?,
                Cell::Count(n) => sheet.write_number(r, c, *n as f64)?,
                Cell::Rate(Some(x)) => sheet.write_number_with_format(r, c, *x, &f.percent)?,
                Cell::Days(Some(x)) => sheet.write_number_with_format(r, c, *x, &f.days)?,
                Cell::Rate(None) | Cell::Days(None) => sheet.write_string(r, c, "—")?,
            };
        }
    }
    sheet.set_freeze_panes(1, 1)?;
    Ok(())
}

fn strings<const N: usize>(a: [&str; N]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn summary_row(p: &PlatformFigures) -> Vec<Cell> {
    let mut row = vec![Cell::Text(p.label.clone())];
    row.extend(p.summary_counts().into_iter().map(Cell::Count));
    row.push(Cell::Rate(p.removal_rate));
    row.push(Cell::Days(p.median_days_to_removal));
    row
}

fn notice_row(p: &PlatformFigures) -> Vec<Cell> {
    vec![
        Cell::Text(p.label.clone()),
        Cell::Count(p.batches),
        Cell::Text(p.numbers.join("、")),
        Cell::Count(p.noticed),
        Cell::Count(p.noticed_removed),
        Cell::Rate(p.removal_rate),
        Cell::Count(p.removed),
        Cell::Days(p.median_days_to_removal),
        Cell::Count(p.overdue),
        Cell::Count(p.relisted),
    ]
}

/// Verdict rows × platform columns (flagged listings at month end).
fn verdict_rows(r: &MonthlyReport) -> (Vec<String>, Vec<Vec<Cell>>) {
    let mut headers = vec!["判定".to_string()];
    headers.extend(r.platforms.iter().map(|p| p.label.clone()));
    headers.push(TOTAL.to_string());
    let mut rows: Vec<Vec<Cell>> = flagged_verdicts()
        .iter()
        .enumerate()
        .map(|(k, v)| {
            let mut row = vec![Cell::Text(v.label_zh().to_string())];
            row.extend(r.platforms.iter().map(|p| Cell::Count(p.by_verdict[k])));
            row.push(Cell::Count(r.total.by_verdict[k]));
            row
        })
        .collect();
    let mut total = vec![Cell::Text(TOTAL.to_string())];
    total.extend(r.platforms.iter().map(|p| Cell::Count(p.flagged)));
    total.push(Cell::Count(r.total.flagged));
    rows.push(total);
    (headers, rows)
}

/// Product group rows × verdict columns.
fn group_rows(r: &MonthlyReport) -> (Vec<String>, Vec<Vec<Cell>>) {
    let verdicts = flagged_verdicts();
    let mut headers = vec!["产品大类".to_string()];
    headers.extend(verdicts.iter().map(|v| v.label_zh().to_string()));
    headers.push(TOTAL.to_string());
    let mut rows: Vec<Vec<Cell>> = r
        .groups
        .iter()
        .map(|g| {
            let mut row = vec![Cell::Text(g.group.clone())];
            row.extend(g.by_verdict.iter().map(|n| Cell::Count(*n)));
            row.push(Cell::Count(g.total));
            row
        })
        .collect();
    let mut total = vec![Cell::Text(TOTAL.to_string())];
    total.extend(r.total.by_verdict.iter().map(|n| Cell::Count(*n)));
    total.push(Cell::Count(r.total.flagged));
    rows.push(total);
    (headers, rows)
}

/// The monthly report's workbook.
pub fn monthly(r: &MonthlyReport) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let title = format!("&L{} CCC 网络监测月报&R第 &P 页", r.month_label);
    let all = |p: &dyn Fn(&PlatformFigures) -> Vec<Cell>| {
        let mut rows: Vec<Vec<Cell>> = r.platforms.iter().map(p).collect();
        rows.push(p(&r.total));
        rows
    };

    let sheet = wb.add_worksheet().set_name(MONTHLY_SHEETS[0])?;
    let mut widths = vec![14.0];
    widths.extend([10.0; 14]);
    table(
        sheet,
        &f,
        &strings(SUMMARY_COLUMNS),
        &all(&summary_row),
        &widths,
    )?;
    sheet.set_header(&title);
    sheet.set_landscape();

    let (headers, rows) = verdict_rows(r);
    let sheet = wb.add_worksheet().set_name(MONTHLY_SHEETS[1])?;
    let mut widths = vec![16.0];
    widths.extend(vec![12.0; headers.len() - 1]);
    table(sheet, &f, &headers, &rows, &widths)?;
    sheet.set_header(&title);

    let (headers, rows) = group_rows(r);
    let sheet = wb.add_worksheet().set_name(MONTHLY_SHEETS[2])?;
    let mut widths = vec![22.0];
    widths.extend(vec![12.0; headers.len() - 1]);
    table(sheet, &f, &headers, &rows, &widths)?;
    sheet.set_header(&title);

    let sheet = wb.add_worksheet().set_name(MONTHLY_SHEETS[3])?;
    let widths = [14.0, 10.0, 36.0, 10.0, 10.0, 10.0, 10.0, 12.0, 10.0, 10.0];
    table(
        sheet,
        &f,
        &strings(NOTICE_COLUMNS),
        &all(&notice_row),
        &widths,
    )?;
    sheet.set_header(&title);
    sheet.set_landscape();

    let sheet = wb.add_worksheet().set_name(MONTHLY_SHEETS[4])?;
    let mut rows = vec![
        vec![
            Cell::Text("报表月份".into()),
            Cell::Text(format!("{}（{}）", r.month_label, r.month)),
        ],
        vec![
            Cell::Text("生成时间".into()),
            Cell::Text(format!("{}（北京时间）", r.generated_at)),
        ],
    ];
    rows.extend(
        DEFINITIONS
            .iter()
            .map(|(k, v)| vec![Cell::Text(k.to_string()), Cell::Text(v.to_string())]),
    );
    table(sheet, &f, &strings(["指标", "定义"]), &rows, &[20.0, 100.0])?;
    sheet.set_header(&title);

    wb.save_to_buffer()
}

/// The seller ranking's workbook (one sheet, 商家风险排名).
pub fn sellers(rows: &[SellerRisk]) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet().set_name("商家风险排名")?;
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|r| {
            vec![
                Cell::Count(r.rank as i64),
                Cell::Text(r.platform_label.clone()),
                Cell::Text(r.seller_label().to_string()),
                Cell::Count(r.confirmed),
                Cell::Count(r.overdue),
                Cell::Count(r.relisted),
                Cell::Count(r.under_notice),
                Cell::Count(r.score),
            ]
        })
        .collect();
    let widths = [6.0, 12.0, 30.0, 12.0, 12.0, 10.0, 12.0, 10.0];
    table(sheet, &f, &strings(sellers::COLUMNS), &cells, &widths)?;
    let note = rows.len() as u32 + 2;
    sheet.write_string(note, 0, sellers::SCORE_FORMULA_ZH)?;
    sheet.set_header(format!("&L商家风险排名&R{}", "第 &P 页"));
    wb.save_to_buffer()
}
