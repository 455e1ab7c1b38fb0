//! `cccwatch certdb ...`

use super::App;
use anyhow::Context;
use cccwatch::cert_import::{
    ImportError, ImportOptions, ImportReport, RejectsPlace, import_file_with, names_folder,
};
use cccwatch::domain::CertStatus;
use cccwatch::matching::BrandTable;
use cccwatch::progress::Progress;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum CertdbCommand {
    /// Import official certificate exports (CSV in UTF-8/GBK/GB18030, or XLSX).
    #[command(
        after_help = "Examples:\n  cccwatch certdb import certdb/sample/certificates.csv\n  cccwatch certdb import --strict 2026-11.xlsx\n  cccwatch certdb import /media/usb/2026-11.csv --rejects ~/rejects/\n\n\
Headers are the Chinese labels (证书编号, 证书状态, 产品名称, 规格型号, 认证委托人名称, 生产者名称,\n\
生产企业名称, 颁证日期, 证书到期日期 required) or their English names (cert_no, status, ...).\n\
Re-importing updates rows and keeps status and expiry changes as history. Bad rows are\n\
reported with line, column and reason and written to NAME.rejects.csv (UTF-8 with BOM\n\
for Excel; cells starting with = + - @ are written as text) beside the file, or where\n\
--rejects says; when the folder of the file cannot be written (read-only media) they go\n\
to rejects/ beside the database and the output says so. With --strict a file with any\n\
bad row is rejected whole. A file that cannot be used (missing, empty, not a workbook\n\
or damaged, without the required columns) is named with the reason, in Chinese and\n\
English, and nothing from it is stored."
    )]
    Import(ImportArgs),
    /// The brand alias table.
    #[command(subcommand)]
    Brands(BrandsCommand),
    /// Counts by status, category and issuer; certificates expiring soon.
    #[command(after_help = "Example:\n  cccwatch certdb stats --days 90")]
    Stats(StatsArgs),
    /// One certificate: record, parsed models, history.
    #[command(after_help = "Example:\n  cccwatch certdb show 2016010201931890")]
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Export files (.csv, .xlsx).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Reject a whole file when any row is bad; store nothing from it.
    #[arg(long)]
    strict: bool,
    /// Where rejected rows go: a folder (an existing one, or written with a
    /// trailing /; NAME.rejects.csv inside) or, with one file to import, the
    /// file to write. Default: beside each imported file.
    #[arg(long, value_name = "PATH")]
    rejects: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BrandsCommand {
    /// Replace the brand alias table from a CSV `brand,aliases,companies` (lists separated by `|`).
    #[command(
        after_help = "Example:\n  cccwatch certdb brands import certdb/brands.csv\n\nRow example: 公牛,BULL|公牛插座,公牛集团股份有限公司|宁波公牛电器有限公司"
    )]
    Import { file: PathBuf },
    /// Print the brand alias table in use.
    #[command(after_help = "Example:\n  cccwatch certdb brands list")]
    List,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Date the expiry window starts (default today in Beijing, UTC+8).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<chrono::NaiveDate>,
    /// Days ahead counted as "expiring soon" (default: certdb.expiring_days or 90).
    #[arg(long)]
    days: Option<i64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    cert_no: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(app: &App, cmd: CertdbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CertdbCommand::Import(a) => import(app, a).await,
        CertdbCommand::Brands(BrandsCommand::Import { file }) => brands_import(app, file).await,
        CertdbCommand::Brands(BrandsCommand::List) => brands_list(app).await,
        CertdbCommand::Stats(a) => stats(app, a).await,
        CertdbCommand::Show(a) => show(app, a).await,
    }
}

/// Where the rejects go: `--rejects`, else beside each file, else (read-only
/// media) `rejects/` beside the database.
fn rejects_place(app: &App, args: &ImportArgs) -> anyhow::Result<RejectsPlace> {
    if let Some(p) = &args.rejects
        && !names_folder(p)
        && args.files.len() > 1
    {
        anyhow::bail!(
            "--rejects {}: {} files are imported, so give a folder (each file's rejects go inside as NAME.rejects.csv)",
            p.display(),
            args.files.len()
        );
    }
    let fallback_dir = match cccwatch::store::sqlite_file(app.settings.database.url.expose()) {
        Some(db) => db
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("rejects"),
        None => std::env::temp_dir().join("cccwatch-rejects"),
    };
    Ok(RejectsPlace {
        chosen: args.rejects.clone(),
        // Absolute, so that the message saying where they went is plain.
        fallback_dir: Some(std::path::absolute(&fallback_dir).unwrap_or(fallback_dir)),
    })
}

async fn import(app: &App, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let place = rejects_place(app, &args)?;
    let store = app.store().await?;
    let mut failed = 0;
    for file in &args.files {
        let progress = Progress::new(None, "rows", app.progress);
        progress.set_message(file.display().to_string());
        let result = import_file_with(
            &store,
            file,
            &ImportOptions {
                strict: args.strict,
            },
            &place,
            &progress,
        )
        .await;
        progress.finish();
        match result {
            Ok(r) => print_report(&r),
            Err(ImportError::Strict { path, errors }) => {
                failed += 1;
                eprintln!(
                    "error: {}: --strict: {} bad row(s); nothing from this file was stored:",
                    path.display(),
                    errors.len()
                );
                for e in errors.iter().take(20) {
                    eprintln!("  {e}");
                }
                if errors.len() > 20 {
                    eprintln!("  ... and {} more", errors.len() - 20);
                }
            }
            Err(e @ ImportError::Rejects { .. }) => {
                failed += 1;
                eprintln!("error: {e}");
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
                eprintln!(
                    "  nothing from {} was stored / 此文件未导入任何数据",
                    file.display()
                );
            }
        }
    }
    // The certificates are committed; re-judging the listings that cite the
    // changed ones is recorded as pending until it is done, so a process
    // killed here leaves it for the next command (see pipeline::catch_up).
    super::match_cmd::catch_up(app, &store).await?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn print_report(r: &ImportReport) {
    println!(
        "{}: {} rows ({} {}): {} new, {} updated, {} unchanged, {} status/expiry changes recorded, {} rejected",
        r.file.display(),
        r.rows,
        r.format,
        r.encoding,
        r.counts.inserted,
        r.counts.updated,
        r.counts.unchanged,
        r.counts.history,
        r.rejected.len()
    );
    for e in r.rejected.iter().take(10) {
        println!("  rejected {}: {e}", r.file.display());
    }
    if r.rejected.len() > 10 {
        println!("  ... and {} more", r.rejected.len() - 10);
    }
    let Some(p) = &r.rejects_file else { return };
    match &r.rejects_moved {
        None => println!("  rejected rows with reasons: {}", p.display()),
        Some(m) => println!(
            "  {} cannot be written ({}); rejected rows with reasons written to {} instead\n  \
             输入文件所在的文件夹不可写，被拒行及原因已写入 {}",
            m.beside.display(),
            m.reason,
            p.display(),
            p.display()
        ),
    }
}

async fn brands_import(app: &App, file: PathBuf) -> anyhow::Result<ExitCode> {
    let f = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
    let brands = BrandTable::read_csv(f).with_context(|| format!("{}", file.display()))?;
    let mut seen = std::collections::HashMap::new();
    for b in &brands {
        for n in b.names() {
            let key = cccwatch::text::normalize::name_key(n);
            if let Some(other) = seen.insert(key, b.name.clone())
                && other != b.name
            {
                eprintln!(
                    "warning: {}: name `{n}` is used by both `{other}` and `{}`; the first wins",
                    file.display(),
                    b.name
                );
            }
        }
    }
    let store = app.store().await?;
    store.replace_brands(&brands).await?;
    let companies: usize = brands.iter().map(|b| b.companies.len()).sum();
    println!(
        "{}: {} brands, {} aliases, {} companies loaded",
        file.display(),
        brands.len(),
        brands.iter().map(|b| b.aliases.len()).sum::<usize>(),
        companies
    );
    Ok(ExitCode::SUCCESS)
}

async fn brands_list(app: &App) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let stored = store.brands().await?;
    let (brands, note) = if stored.is_empty() {
        (
            BrandTable::embedded().brands().to_vec(),
            " (built-in table; none imported)",
        )
    } else {
        (stored, "")
    };
    println!("{} brands{note}", brands.len());
    for b in brands {
        println!(
            "{}\t{}\t{}",
            b.name,
            b.aliases.join("|"),
            b.companies.join("|")
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn stats(app: &App, a: StatsArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let as_of = super::as_of_or_today(a.as_of);
    let days = a.days.or(app.settings.certdb.expiring_days).unwrap_or(90);
    let s = store.cert_stats(as_of, days).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("certificates: {}", s.total);
    println!("by status:");
    for (st, n) in &s.by_status {
        let label = CertStatus::from_db(st).map(|s| s.label_zh()).unwrap_or("?");
        println!("  {st:<10} {label:<6} {n:>9}");
    }
    println!(
        "  (valid by status but past expiry on {as_of}: {})",
        s.expired_by_date
    );
    println!("by category:");
    for (c, n) in s.by_category.iter().take(30) {
        println!("  {c:<8} {n:>9}");
    }
    println!("by issuer:");
    for (c, n) in s.by_issuer.iter().take(20) {
        println!("  {n:>9}  {c}");
    }
    println!(
        "valid and expiring within {days} days of {as_of}: {}",
        s.expiring
    );
    for (no, exp, who) in &s.expiring_first {
        println!("  {no}  {exp}  {who}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn show(app: &App, a: ShowArgs) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    let no = cccwatch::text::certno::normalize_export_number(&a.cert_no);
    let Some(stored) = store.certificate(&no).await? else {
        eprintln!("certificate {no} is not in the database");
        return Ok(ExitCode::from(1));
    };
    let history = store.cert_history(&no).await?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "certificate": stored, "history": history })
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let c = &stored.cert;
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    println!("证书编号      {}", c.cert_no);
    println!(
        "证书状态      {} ({}){}",
        c.status.label_zh(),
        c.status.as_str(),
        if c.status_raw != c.status.label_zh() {
            format!("  as written: {}", c.status_raw)
        } else {
            String::new()
        }
    );
    println!("产品类别代码  {}", opt(&c.category_code));
    println!("产品名称      {}", c.product_name);
    println!("认证委托人    {}", c.applicant);
    println!("生产者        {}", c.manufacturer);
    println!("生产企业      {}", c.factory);
    println!("颁证日期      {}", c.issued_on);
    println!("证书到期日期  {}", c.expires_on);
    println!(
        "初次获证日期  {}",
        c.first_issued_on
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into())
    );
    println!("发证机构      {}", opt(&c.issuer));
    println!(
        "状态变更      {} {}",
        c.status_changed_on
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into()),
        opt(&c.status_reason)
    );
    println!("规格型号      {}", c.models_raw);
    let list_note = if c.models.is_unknown() {
        "unknown (见附件)"
    } else if !c.models.complete {
        "partial"
    } else {
        "complete"
    };
    println!("parsed models ({} , {list_note}):", c.models.models.len());
    for m in &c.models.models {
        println!("  {m}");
    }
    println!(
        "imported from {} at {}",
        stored.source_file, stored.updated_at
    );
    if history.is_empty() {
        println!("history: no changes recorded");
    } else {
        println!("history:");
        for h in history {
            println!(
                "  {}  {}: {} -> {}  ({})",
                h.changed_at,
                h.field,
                h.old_value.unwrap_or_default(),
                h.new_value.unwrap_or_default(),
                h.source_file
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
