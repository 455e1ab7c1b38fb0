//! `cccwatch user` and `cccwatch audit`: accounts of the review workspace,
//! and the audit log's hash chain.

use super::{App, actor};
use anyhow::{Context, bail};
use cccwatch::domain::Role;
use cccwatch::review::auth;
use clap::Subcommand;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account.
    #[command(after_help = "Examples:\n  \
cccwatch user add admin --role admin --name 系统管理员\n  \
cccwatch user add wangli --role reviewer --name 王丽\n  \
echo 'a long password' | cccwatch user add zhao --role viewer --name 赵敏 --password-stdin\n\n\
The password (at least 10 characters) is asked twice on a terminal. Without a\n\
terminal (a script, ssh without -t, cron) it is the first line of standard\n\
input; when nothing is piped in, the command says so and stores nothing.")]
    Add {
        username: String,
        /// admin | supervisor | reviewer | viewer
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The person's name as shown in the workspace (default: the user name).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input (also the
        /// default when standard input is not a terminal).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (also unlocks the account and ends its sessions).
    #[command(
        after_help = "Example:\n  cccwatch user passwd wangli          # asks twice on the terminal\n  \
echo 'a new long password' | cccwatch user passwd wangli --password-stdin\n\n\
Without a terminal the password is the first line of standard input."
    )]
    Passwd {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account: it can no longer log in, its sessions end.
    #[command(
        after_help = "Example:\n  cccwatch user disable wangli        # e.g. when someone leaves the section"
    )]
    Disable { username: String },
    /// Enable a disabled account again.
    #[command(after_help = "Example:\n  cccwatch user enable wangli")]
    Enable { username: String },
    /// Change an account's role.
    #[command(after_help = "Example:\n  cccwatch user role wangli supervisor\n\n\
Roles: admin, supervisor, reviewer, viewer. The user's sessions end.")]
    Role {
        username: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// List accounts.
    #[command(after_help = "Example:\n  cccwatch user list\n  cccwatch user list --json")]
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create a personal token for the JSON API; it is printed once.
    #[command(
        after_help = "Example:\n  cccwatch user token wangli --name 对接系统\n  \
curl -H 'Authorization: Bearer TOKEN' http://127.0.0.1:8080/api/queue"
    )]
    Token {
        username: String,
        /// What the token is for.
        #[arg(long, default_value = "api")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; names every changed or deleted entry.
    #[command(after_help = "Examples:\n  cccwatch audit verify\n  \
cccwatch audit verify --anchor 3f5a…   # a head hash written down earlier must still be there\n\n\
Exit code 0 when the chain is intact, 1 when something was changed or deleted.")]
    Verify {
        /// A hash printed by an earlier `audit verify`, kept outside the server.
        #[arg(long)]
        anchor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show the latest entries.
    #[command(
        after_help = "Examples:\n  cccwatch audit log --limit 20\n  cccwatch audit log --target listing:123 --json"
    )]
    Log {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Only entries about this target, e.g. listing:123 or user:wangli.
        #[arg(long)]
        target: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s)
        .ok_or_else(|| format!("unknown role `{s}`: use admin, supervisor, reviewer or viewer"))
}

/// The password: asked twice on a terminal; otherwise (piped, or
/// `--password-stdin`) the first line of standard input. Nothing there is
/// said as such, not as a password that is too short.
/// `command` is the command's arguments after `user`, for the example.
fn read_password(username: &str, from_stdin: bool, command: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let password = if from_stdin || !stdin.is_terminal() {
        let mut line = String::new();
        let read = stdin
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        if read == 0 || password.is_empty() {
            bail!(
                "no password for {username}: standard input is not a terminal and {}. \
                 Run the command on a terminal to be asked for it twice, or give it as \
                 the first line of standard input with --password-stdin:\n  \
                 echo 'a long password' | cccwatch user {command} --password-stdin",
                if read == 0 {
                    "gave nothing (end of input)"
                } else {
                    "its first line is empty"
                }
            );
        }
        password
    } else {
        let first = rpassword::prompt_password(format!("password for {username}: "))?;
        let second = rpassword::prompt_password("again: ")?;
        if first != second {
            bail!("the two passwords differ");
        }
        first
    };
    auth::check_password(username, &password)?;
    Ok(password)
}

pub async fn run_user(app: &App, c: UserCommand) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    match c {
        UserCommand::Add {
            username,
            role,
            name,
            password_stdin,
        } => {
            auth::check_username(&username)?;
            let command = format!("add {username} --role {role}");
            let password = read_password(&username, password_stdin, &command)?;
            let hash =
                tokio::task::spawn_blocking(move || auth::hash_password(&password)).await??;
            let display = name.unwrap_or_else(|| username.clone());
            store
                .add_user(&username, display.trim(), role, &hash, &actor())
                .await?;
            println!("added {username} ({role})");
        }
        UserCommand::Passwd {
            username,
            password_stdin,
        } => {
            let command = format!("passwd {username}");
            let password = read_password(&username, password_stdin, &command)?;
            let hash =
                tokio::task::spawn_blocking(move || auth::hash_password(&password)).await??;
            store.set_password(&username, &hash, &actor()).await?;
            println!("password of {username} changed; its sessions have ended");
        }
        UserCommand::Disable { username } => {
            store.set_disabled(&username, true, &actor()).await?;
            println!("disabled {username}");
        }
        UserCommand::Enable { username } => {
            store.set_disabled(&username, false, &actor()).await?;
            println!("enabled {username}");
        }
        UserCommand::Role { username, role } => {
            store.set_role(&username, role, &actor()).await?;
            println!("{username} is now {role}");
        }
        UserCommand::List { json } => {
            let users = store.users().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                println!(
                    "{:<20} {:<12} {:<8} {:<22} NAME",
                    "USER", "ROLE", "STATE", "LAST LOGIN"
                );
                for u in users {
                    let state = if u.disabled { "disabled" } else { "active" };
                    println!(
                        "{:<20} {:<12} {:<8} {:<22} {}",
                        u.username,
                        u.role.as_str(),
                        state,
                        u.last_login_at.as_deref().unwrap_or("never"),
                        u.display_name
                    );
                }
            }
        }
        UserCommand::Token { username, name } => {
            let token = auth::random_token();
            store
                .add_api_token(&username, &name, &auth::token_hash(&token), &actor())
                .await?;
            eprintln!("API token for {username} (shown once; keep it like a password):");
            println!("{token}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_audit(app: &App, c: AuditCommand) -> anyhow::Result<ExitCode> {
    let store = app.store().await?;
    match c {
        AuditCommand::Verify { anchor, json } => {
            let report = store.verify_audit(anchor).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else if report.ok() {
                println!(
                    "audit log intact: {} entries; head {} (entry {})",
                    report.entries,
                    report.last_hash.as_deref().unwrap_or("-"),
                    report.last_id.unwrap_or(0)
                );
                println!(
                    "write the head hash down somewhere else; `audit verify --anchor HASH` checks it later"
                );
            } else {
                println!("audit log NOT intact ({} entries read):", report.entries);
                for p in &report.problems {
                    println!("  - {p}");
                }
            }
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        AuditCommand::Log {
            limit,
            target,
            json,
        } => {
            let page = store
                .audit_page(None, target.as_deref(), limit.clamp(1, 10_000))
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page.entries)?);
            } else {
                for e in page.entries {
                    println!(
                        "#{:<6} {}  {:<18} {:<16} {:<18} {}",
                        e.id,
                        e.at,
                        e.actor,
                        e.action,
                        e.target.as_deref().unwrap_or("-"),
                        e.details
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
