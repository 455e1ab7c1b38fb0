//! `cccwatch feed`: the risk feed to platforms (act stage): feed tokens for
//! `/api/feeds/PLATFORM`, and the feed written as files.

use super::{App, actor};
use anyhow::Context;
use cccwatch::notice::feed::{self, FeedRequest, LIST_CAP, Requester};
use cccwatch::review::auth;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Feed tokens: one per platform connection, read only that platform's feed.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write a platform's risk feed as files: JSON (as the API serves it) and
    /// XLSX for staff (Chinese headers).
    #[command(after_help = "Examples:\n  cccwatch feed write --platform jd\n  \
cccwatch feed write --platform jd --since 2026-11-01 --out feeds/\n\n\
Writes DIR/risk-feed-PLATFORM-UNTIL.json and .xlsx (UNTIL like 20261129T042344Z)\n\
and records the delivery. Without --since the window starts where the last\n\
file of the platform ended (the first time: web.feed_first_days back).")]
    Write {
        #[arg(long)]
        platform: String,
        /// Start of the window: RFC 3339 time or YYYY-MM-DD (00:00 UTC).
        #[arg(long)]
        since: Option<String>,
        /// Folder for the files.
        #[arg(long, default_value = "feeds")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a feed token for a platform; it is printed once, only its hash is kept.
    #[command(
        after_help = "Example:\n  cccwatch feed token add --platform jd --name \"京东风控对接\"\n\n\
The platform sends it as `Authorization: Bearer TOKEN` to GET /api/feeds/jd."
    )]
    Add {
        #[arg(long)]
        platform: String,
        /// What the token is for (shown in `feed token list`).
        #[arg(long)]
        name: String,
    },
    /// List feed tokens with their last use.
    #[command(after_help = "Example:\n  cccwatch feed token list --platform jd")]
    List {
        #[arg(long)]
        platform: Option<String>,
    },
    /// Revoke a feed token by its ID (from `feed token list`).
    #[command(after_help = "Example:\n  cccwatch feed token revoke 3")]
    Revoke { id: i64 },
}

pub async fn run(app: &App, c: FeedCommand) -> anyhow::Result<ExitCode> {
    let store = app.judging_store().await?;
    match c {
        FeedCommand::Token(TokenCommand::Add { platform, name }) => {
            let token = auth::random_token();
            let id = store
                .add_feed_token(&platform, &name, &auth::token_hash(&token), &actor())
                .await?;
            eprintln!(
                "feed token {id} for platform `{platform}` ({name}); shown only now, keep it safe:"
            );
            println!("{token}");
        }
        FeedCommand::Token(TokenCommand::List { platform }) => {
            println!(
                "{:>4} {:<10} {:<24} {:<25} {:<16} {:<25} REVOKED",
                "ID", "PLATFORM", "NAME", "CREATED", "BY", "LAST USED"
            );
            for t in store.feed_tokens(platform.as_deref()).await? {
                println!(
                    "{:>4} {:<10} {:<24} {:<25} {:<16} {:<25} {}",
                    t.id,
                    t.platform,
                    t.name,
                    t.created_at,
                    t.created_by,
                    t.last_used_at.as_deref().unwrap_or("-"),
                    t.revoked_at.as_deref().unwrap_or("-")
                );
            }
        }
        FeedCommand::Token(TokenCommand::Revoke { id }) => {
            let t = store.revoke_feed_token(id, &actor()).await?;
            println!(
                "feed token {} ({}, {}) revoked at {}",
                t.id,
                t.platform,
                t.name,
                t.revoked_at.unwrap_or_default()
            );
        }
        FeedCommand::Write {
            platform,
            since,
            out,
        } => {
            let since = since
                .as_deref()
                .map(feed::parse_since)
                .transpose()
                .context("--since")?;
            let actor = actor();
            let req = FeedRequest {
                platform: &platform,
                since,
                requester: Requester::File(&actor),
                first_days: app.settings.web.feed_first_days,
                until: store.now(),
                cap: LIST_CAP,
            };
            let doc = feed::deliver(&store, &req).await?;
            let files = feed::write_files(&doc, &out)?;
            println!(
                "risk feed of {platform} from {} to {}: {} certificate(s) with {} listing(s), {} confirmed finding(s), {} repeat seller(s)",
                doc.since,
                doc.until,
                doc.counts.certificates,
                doc.counts.certificate_listings,
                doc.counts.confirmed_findings,
                doc.counts.repeat_sellers
            );
            if doc.truncated != Default::default() {
                println!("lists cut at {LIST_CAP} entries: {:?}", doc.truncated);
            }
            for f in files {
                println!("  {}", f.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
