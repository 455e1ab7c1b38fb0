//! `cccwatch explain`: judge listings typed on the command line or read
//! from a file of titles, without storing anything. In: a title (and
//! optionally category path, spec fields, brand, model, description), the
//! configured catalog and the certificate database. Out: the verdict,
//! product code, confidence and reasons the workspace would show, so that
//! an operator can see why a listing was (not) flagged, and what an edit of
//! the catalog changes, before running `cccwatch match`.

use super::App;
use anyhow::{Context, bail};
use cccwatch::domain::{Finding, Listing};
use cccwatch::matching::{Judge, Matcher};
use cccwatch::pipeline::MatchContext;
use clap::Args;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
cccwatch explain \"公牛 插线板 USB 排插 1.8米\"\n  \
cccwatch explain \"适用美的电饭煲内胆 4L\" --category \"厨房电器>电饭煲配件\"\n  \
cccwatch explain \"儿童滑板车\" --spec 适用年龄=3-6岁 --spec 3C证书编号=2020012202123456\n  \
cccwatch explain --titles titles.txt > verdicts.tsv\n\n\
Nothing is stored. The catalog is certdb.catalog (or the built-in one), the certificates\n\
and brand table those of the database. With --titles, each line of the file is one title,\n\
optionally followed by a tab and its category path (two columns pasted from Excel); UTF-8,\n\
empty lines and lines starting with # are skipped. The output is tab-separated: line,\n\
verdict, 中文, product code, confidence, scope uncertain (yes/no), title, reasons.")]
pub struct ExplainArgs {
    /// The listing's title.
    #[arg(required_unless_present = "titles", conflicts_with = "titles")]
    title: Option<String>,
    /// A file of titles, one per line, each optionally followed by a tab and
    /// its category path (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    titles: Option<PathBuf>,
    /// The platform's category path (`家用电器>生活电器>电风扇`).
    #[arg(long)]
    category: Option<String>,
    /// A spec-table entry `LABEL=VALUE` (repeatable): `3C证书编号=…`, `适用年龄=3-6岁`.
    #[arg(long, value_name = "LABEL=VALUE")]
    spec: Vec<String>,
    /// The listing's brand field.
    #[arg(long)]
    brand: Option<String>,
    /// The listing's model field.
    #[arg(long)]
    model: Option<String>,
    /// The listing's description.
    #[arg(long)]
    description: Option<String>,
    /// Date statuses and expiry are judged on (default today in Beijing, UTC+8).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<chrono::NaiveDate>,
    /// Print JSON (one object per title).
    #[arg(long)]
    json: bool,
}

pub async fn run(app: &App, a: ExplainArgs) -> anyhow::Result<ExitCode> {
    let params = a
        .spec
        .iter()
        .map(|s| match s.split_once(['=', '：', ':']) {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().into(), v.trim().into())),
            _ => bail!("--spec {s:?}: expected LABEL=VALUE, for example 适用年龄=3-6岁"),
        })
        .collect::<anyhow::Result<Vec<(String, String)>>>()?;
    let template = Listing {
        platform: "explain".into(),
        category: a.category.clone(),
        params,
        brand: a.brand.clone(),
        model: a.model.clone(),
        description: a.description.clone(),
        ..Listing::default()
    };
    let titles: Vec<(usize, String, Option<String>)> = match (&a.title, &a.titles) {
        (Some(t), _) => vec![(1, t.clone(), None)],
        (None, Some(path)) => read_titles(path)?,
        (None, None) => unreachable!("clap requires one"),
    };
    // A SQLite file that does not exist yet is not created just to explain.
    let url = app.settings.database.url.expose();
    let ctx = match cccwatch::store::sqlite_file(url) {
        Some(file) if !file.exists() => {
            eprintln!(
                "note: {} does not exist, so no certificate is checked: only scope is meaningful (cccwatch certdb import FILE)",
                file.display()
            );
            MatchContext::without_certificates(&app.settings)?
        }
        _ => {
            let ctx = MatchContext::load(&app.store().await?, &app.settings).await?;
            if ctx.index.is_empty() {
                eprintln!(
                    "note: the certificate database is empty, so only scope is meaningful (cccwatch certdb import FILE)"
                );
            }
            ctx
        }
    };
    let matcher = Matcher::new(
        &ctx.index,
        &ctx.brands,
        &ctx.catalog,
        super::as_of_or_today(a.as_of),
    );
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let one = a.title.is_some();
    for (line, title, category) in titles {
        let listing = Listing {
            item_id: line.to_string(),
            title: title.clone(),
            category: category.or_else(|| template.category.clone()),
            ..template.clone()
        };
        let f = matcher.judge(&listing);
        if a.json {
            let v = serde_json::json!({
                "line": line,
                "title": title,
                "verdict": f.verdict.as_str(),
                "verdict_zh": f.verdict.label_zh(),
                "category_code": f.category_code,
                "confidence": f.confidence,
                "scope_uncertain": scope_uncertain(&f),
                "brand": f.brand,
                "model": f.model,
                "matched_cert": f.matched_cert,
                "cert_numbers": f.cert_numbers,
                "reasons": f.reasons,
            });
            writeln!(out, "{v}")?;
        } else if one {
            print_one(&mut out, &title, &f)?;
        } else {
            writeln!(
                out,
                "{line}\t{}\t{}\t{}\t{:.2}\t{}\t{}\t{}",
                f.verdict.as_str(),
                f.verdict.label_zh(),
                f.category_code.as_deref().unwrap_or(""),
                f.confidence,
                if scope_uncertain(&f) { "yes" } else { "no" },
                one_line(&title),
                one_line(&f.reasons.join("；")),
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The scope rule marks an uncertain scope in its reason's first words.
fn scope_uncertain(f: &Finding) -> bool {
    f.reasons.iter().any(|r| r.starts_with("目录归属不确定"))
}

/// Tabs and line breaks would break the TSV's columns.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn print_one(out: &mut impl Write, title: &str, f: &Finding) -> std::io::Result<()> {
    writeln!(out, "标题      {title}")?;
    writeln!(
        out,
        "结论      {} {}（置信度 {:.2}）",
        f.verdict.as_str(),
        f.verdict.label_zh(),
        f.confidence
    )?;
    if let Some(c) = &f.category_code {
        writeln!(out, "产品类别  {c}")?;
    }
    if let Some(b) = &f.brand {
        writeln!(out, "品牌      {b}")?;
    }
    if let Some(m) = &f.model {
        writeln!(out, "型号      {m}")?;
    }
    if let Some(c) = &f.matched_cert {
        writeln!(out, "对应证书  {c}")?;
    }
    for (i, r) in f.reasons.iter().enumerate() {
        writeln!(out, "理由{}     {r}", i + 1)?;
    }
    Ok(())
}

/// Lines of `title` or `title<TAB>category path`, with their line numbers.
fn read_titles(path: &PathBuf) -> anyhow::Result<Vec<(usize, String, Option<String>)>> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        ))
    };
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| {
            format!(
                "{} line {}: not UTF-8 text (save the file as UTF-8)",
                path.display(),
                i + 1
            )
        })?;
        let line = line.trim_start_matches('\u{feff}');
        let (title, category) = match line.split_once('\t') {
            Some((t, c)) => (t.trim(), Some(c.trim()).filter(|c| !c.is_empty())),
            None => (line.trim(), None),
        };
        if title.is_empty() || title.starts_with('#') {
            continue;
        }
        out.push((i + 1, title.to_string(), category.map(str::to_string)));
    }
    Ok(out)
}
