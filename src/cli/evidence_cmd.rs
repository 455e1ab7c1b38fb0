//! `cccwatch evidence`: the pages kept for an item, for a case file.

use super::App;
use anyhow::Context;
use cccwatch::scan::process::sha256_hex;
use cccwatch::store::PageMeta;
use clap::{Args, Subcommand};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// List the pages kept for an item: when, from where, status, size, SHA-256.
    Show(ShowArgs),
    /// Write an item's pages as they were received, with a manifest of hashes and times.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  cccwatch evidence show 100023 --platform demo")]
pub struct ShowArgs {
    /// The platform's item ID.
    item: String,
    /// The platform (needed when two platforms use the same item ID).
    #[arg(long)]
    platform: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  cccwatch evidence export 100023 --platform demo --out case-2026-017/\n\n\
Writes one file per page (the raw bytes as received, named PAGEID_TIME.html), the\n\
response headers, manifest.json (URLs, times, status, sizes, SHA-256) and SHA256SUMS\n\
(check with `sha256sum -c SHA256SUMS`)."
)]
pub struct ExportArgs {
    item: String,
    #[arg(long)]
    platform: Option<String>,
    /// Folder to write (created if needed).
    #[arg(long)]
    out: PathBuf,
}

pub async fn run(app: &App, c: EvidenceCommand) -> anyhow::Result<ExitCode> {
    match c {
        EvidenceCommand::Show(a) => show(app, a).await,
        EvidenceCommand::Export(a) => export(app, a).await,
    }
}

async fn pages(app: &App, item: &str, platform: Option<&str>) -> anyhow::Result<Vec<PageMeta>> {
    let store = app.store().await?;
    let pages = store.item_pages(platform, item).await?;
    if pages.is_empty() {
        anyhow::bail!(
            "no pages kept for item {item}{}",
            platform.map(|p| format!(" of {p}")).unwrap_or_default()
        );
    }
    let platforms: std::collections::BTreeSet<&str> =
        pages.iter().map(|p| p.platform.as_str()).collect();
    if platforms.len() > 1 {
        anyhow::bail!(
            "item {item} exists on several platforms ({}); add --platform",
            platforms.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(pages)
}

async fn show(app: &App, a: ShowArgs) -> anyhow::Result<ExitCode> {
    let pages = pages(app, &a.item, a.platform.as_deref()).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&pages)?);
        return Ok(ExitCode::SUCCESS);
    }
    let store = app.store().await?;
    println!(
        "item {} on {}: {} page(s) kept",
        a.item,
        pages[0].platform,
        pages.len()
    );
    for p in &pages {
        println!("page {} (scan {})", p.id, p.scan_id);
        println!("  fetched   {}", p.fetched_at);
        println!("  url       {}", p.url);
        if p.final_url != p.url {
            println!("  final url {}", p.final_url);
        }
        println!("  status    {}", p.status);
        println!(
            "  size      {} bytes, encoding {}",
            p.body_len,
            p.encoding.as_deref().unwrap_or("-")
        );
        println!("  sha256    {}", p.sha256);
        if let Some(at) = store.page_pruned_at(p.id).await? {
            println!("  body      pruned {at} (retention.pages_days); the record above stays");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(app: &App, a: ExportArgs) -> anyhow::Result<ExitCode> {
    let pages = pages(app, &a.item, a.platform.as_deref()).await?;
    let store = app.store().await?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut sums = String::new();
    let mut manifest = Vec::new();
    let mut pruned = 0;
    for p in &pages {
        if let Some(at) = store.page_pruned_at(p.id).await? {
            // Retention removed the body: the record of the page stays.
            pruned += 1;
            manifest.push(serde_json::json!({
                "page_id": p.id, "scan_id": p.scan_id, "platform": p.platform, "item_id": p.item_id,
                "url": p.url, "final_url": p.final_url, "fetched_at": p.fetched_at, "status": p.status,
                "bytes": p.body_len, "sha256": p.sha256, "pruned_at": at,
            }));
            continue;
        }
        let gz = store.page_body_gz(p.id).await?;
        let mut body = Vec::with_capacity(p.body_len.max(0) as usize);
        GzDecoder::new(&gz[..])
            .read_to_end(&mut body)
            .with_context(|| format!("page {}: stored body is damaged", p.id))?;
        let sha = sha256_hex(&body);
        if sha != p.sha256 {
            anyhow::bail!(
                "page {}: stored body does not match its SHA-256 (stored {}, now {sha})",
                p.id,
                p.sha256
            );
        }
        let stamp: String = p
            .fetched_at
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(14)
            .collect();
        let name = format!("{}_{stamp}.html", p.id);
        let headers_name = format!("{}_{stamp}.headers.txt", p.id);
        std::fs::write(a.out.join(&name), &body)?;
        let headers: String = p
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect();
        std::fs::write(
            a.out.join(&headers_name),
            format!("HTTP {}\n{headers}", p.status),
        )?;
        sums.push_str(&format!(
            "{sha}  {name}\n{}  {headers_name}\n",
            sha256_hex(format!("HTTP {}\n{headers}", p.status).as_bytes())
        ));
        manifest.push(serde_json::json!({
            "file": name, "headers_file": headers_name, "page_id": p.id, "scan_id": p.scan_id,
            "platform": p.platform, "item_id": p.item_id, "url": p.url, "final_url": p.final_url,
            "fetched_at": p.fetched_at, "status": p.status, "bytes": p.body_len, "encoding": p.encoding,
            "sha256": sha,
        }));
    }
    let manifest = serde_json::json!({
        "item_id": a.item, "platform": pages[0].platform,
        "exported_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "exported_by": format!("cccwatch {}", env!("CARGO_PKG_VERSION")),
        "pages": manifest,
    });
    let manifest_text = serde_json::to_string_pretty(&manifest)?;
    std::fs::write(a.out.join("manifest.json"), &manifest_text)?;
    sums.push_str(&format!(
        "{}  manifest.json\n",
        sha256_hex(manifest_text.as_bytes())
    ));
    std::fs::write(a.out.join("SHA256SUMS"), sums)?;
    println!(
        "{} page(s) of item {} written to {} (manifest.json, SHA256SUMS)",
        pages.len() - pruned,
        a.item,
        a.out.display()
    );
    if pruned > 0 {
        println!("{pruned} page(s) pruned by retention: listed in manifest.json without a file");
    }
    Ok(ExitCode::SUCCESS)
}
