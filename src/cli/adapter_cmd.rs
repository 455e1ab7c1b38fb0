//! `cccwatch adapter`: check a platform adapter against a saved page or a URL.

use super::App;
use super::scan_cmd::load_adapter;
use cccwatch::crawl::decode::decode;
use cccwatch::crawl::fetch::{Fetched, Fetcher};
use cccwatch::extract::{Adapter, Fields, ItemPage, SearchPage};
use cccwatch::scan::site_rules;
use clap::{Args, Subcommand, ValueEnum};
use std::process::ExitCode;
use url::Url;

#[derive(Debug, Subcommand)]
pub enum AdapterCommand {
    /// Show what an adapter extracts from a saved page or a URL, field by field.
    Test(TestArgs),
    /// Check every platform file in crawl.platforms_dir.
    Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PageKind {
    /// Decide from the page: a result page if result cards are found.
    Auto,
    Search,
    Item,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cccwatch adapter test --platform jd saved/jd_search.html\n  \
cccwatch adapter test --platform tmall --page item saved/tmall.html\n  \
cccwatch adapter test --platform demo --base-url http://127.0.0.1:8080 http://127.0.0.1:8080/item/100001.html\n\n\
A URL is fetched like a scan would (robots.txt, rate limit); it must be on the platform's hosts.\n\
Exit code 1 when a selector matched nothing, so the command can guard adapter edits."
)]
pub struct TestArgs {
    /// Platform file name (config/platforms/NAME.toml).
    #[arg(long)]
    platform: String,
    /// Which kind of page it is.
    #[arg(long, value_enum, default_value_t = PageKind::Auto)]
    page: PageKind,
    /// Replace the platform's base_url.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// A saved page (file) or a URL.
    file_or_url: String,
}

pub async fn run(app: &App, c: AdapterCommand) -> anyhow::Result<ExitCode> {
    match c {
        AdapterCommand::Test(a) => test(app, a).await,
        AdapterCommand::Check => check(app),
    }
}

fn check(app: &App) -> anyhow::Result<ExitCode> {
    let dir = &app.settings.crawl.platforms_dir;
    let mut bad = 0;
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for p in paths {
        match Adapter::from_file(&p) {
            Ok(a) => println!(
                "ok    {} ({}, {} keywords)",
                p.display(),
                a.config.label,
                a.config.all_keywords().len()
            ),
            Err(e) => {
                bad += 1;
                println!("error {e}");
            }
        }
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::config_cmd::EXIT_CONFIG)
    })
}

async fn test(app: &App, a: TestArgs) -> anyhow::Result<ExitCode> {
    let adapter = load_adapter(
        &app.settings.crawl.platforms_dir,
        &a.platform,
        a.base_url.as_deref(),
    )?;
    let (bytes, content_type, page_url) =
        if a.file_or_url.starts_with("http://") || a.file_or_url.starts_with("https://") {
            fetch(app, &adapter, &a.file_or_url).await?
        } else {
            let bytes = std::fs::read(&a.file_or_url)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", a.file_or_url))?;
            (bytes, None, adapter.base().clone())
        };
    let host = page_url.host_str().map(str::to_string);
    let decoded = decode(&bytes, content_type.as_deref(), host.as_deref());
    println!(
        "page: {} bytes, encoding {} (from {:?})",
        bytes.len(),
        decoded.encoding.name(),
        decoded.source
    );
    let search = adapter.search_page(&decoded.text, &page_url);
    let kind = match a.page {
        PageKind::Auto if !search.cards.is_empty() => PageKind::Search,
        PageKind::Auto => PageKind::Item,
        k => k,
    };
    let unmatched = if kind == PageKind::Search {
        print_search(&adapter, &search, a.json)?;
        search.unmatched
    } else {
        let item = adapter.item_page(&decoded.text, &page_url);
        print_item(&item, a.json)?;
        item.unmatched
    };
    if unmatched.is_empty() {
        println!("every selector matched");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("matched nothing: {}", unmatched.join(", "));
        Ok(ExitCode::FAILURE)
    }
}

async fn fetch(
    app: &App,
    adapter: &Adapter,
    url: &str,
) -> anyhow::Result<(Vec<u8>, Option<String>, Url)> {
    let fetcher = Fetcher::new(app.settings.crawl.fetch_settings())?;
    fetcher.register(site_rules(adapter));
    let res = fetcher.fetch(url, 0).await;
    match res.outcome {
        Fetched::Page(r) | Fetched::Gone(r) => {
            println!("fetched {} → HTTP {}", r.final_url, r.status);
            let ct = r.header("content-type").map(str::to_string);
            let u = Url::parse(&r.final_url)?;
            Ok((r.body, ct, u))
        }
        Fetched::Robots => anyhow::bail!("{url}: robots.txt does not allow it"),
        Fetched::Retry { reason, .. } | Fetched::Failed { reason, .. } => {
            anyhow::bail!("{url}: {reason}")
        }
    }
}

fn print_search(adapter: &Adapter, p: &SearchPage, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(p)?);
        return Ok(());
    }
    println!(
        "result page: {} cards; next page: {}",
        p.cards.len(),
        p.next.as_deref().unwrap_or("(none)")
    );
    for (i, c) in p.cards.iter().enumerate() {
        let id = adapter.card_item_id(c).unwrap_or_else(|| "(no id)".into());
        let url = adapter
            .canonical_item_url(Some(&id), c.link.as_deref())
            .unwrap_or_default();
        println!("{:>3}. item {id}  {url}", i + 1);
        print_fields(&c.fields, "       ");
    }
    Ok(())
}

fn print_item(p: &ItemPage, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(p)?);
        return Ok(());
    }
    println!(
        "item page{}",
        if p.gone {
            " (says the listing is taken down)"
        } else {
            ""
        }
    );
    print_fields(&p.fields, "  ");
    Ok(())
}

fn print_fields(f: &Fields, indent: &str) {
    for name in [
        "title",
        "price",
        "seller",
        "shop_url",
        "brand",
        "model",
        "cert_no",
        "description",
        "category",
    ] {
        if let Some(v) = f.get(name) {
            let v: String = v.chars().take(100).collect();
            println!("{indent}{name:<12} {v}");
        }
    }
    if !f.spec.is_empty() {
        println!("{indent}spec ({} rows):", f.spec.len());
        for (l, v) in &f.spec {
            println!("{indent}  {l}: {v}");
        }
    }
}
