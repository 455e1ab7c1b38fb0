//! `cccwatch config`: check the configuration, show the effective settings.

use cccwatch::config::Sources;
use cccwatch::config_check;
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// Exit code for a configuration problem (EX_CONFIG of sysexits.h).
pub const EXIT_CONFIG: u8 = 78;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check the settings and every file they name; print each problem as FILE: KEY: problem.
    Check(CheckArgs),
    /// Print the effective settings (all layers merged) as TOML, secrets hidden.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
cccwatch config check                         # all layers: files, CCCWATCH__* variables, flags\n  \
cccwatch --config /etc/cccwatch/cccwatch.toml config check\n  \
cccwatch config check --json\n\n\
Checks: every key of every layer (unknown keys, wrong types, bad values; FILE is\n\
the layer that set it: a file, `environment CCCWATCH__SECTION__KEY`, `--db` or\n\
`(default)`), the database URL, every platform file in crawl.platforms_dir, the\n\
catalog (certdb.catalog), and letter.html and list.toml in notices.templates_dir.\n\n\
Warnings (`warning: FILE: KEY: ...`, after the summary) name what works but is\n\
not ready: the bureau's name, the contact line or a platform's addressee or\n\
name still the shipped placeholder (`cccwatch init` fills them in), a PDF\n\
browser (notices.pdf_browser) not installed, a certificate database that is\n\
empty or whose latest import is older than certdb.stale_days (30).\n\n\
Exit codes: 0 no problem (a summary line, then any warnings), 78 (EX_CONFIG)\n\
any problem.")]
pub struct CheckArgs {
    /// Print the report as JSON ({"ok", "problems": [{"file", "key", "problem"}], ...}).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
cccwatch config show\n  \
cccwatch config show --origin                      # which layer set each value\n  \
CCCWATCH__WEB__BIND=0.0.0.0:8080 cccwatch config show --origin\n\n\
Passwords in URLs (postgres://user:***@host/db) and values of keys naming a\n\
password, secret or token are shown as ***.")]
pub struct ShowArgs {
    /// After each value, name the layer that set it (file, environment variable, --db, default).
    #[arg(long)]
    origin: bool,
}

pub fn run(sources: &Sources, c: ConfigCommand) -> ExitCode {
    match c {
        ConfigCommand::Check(a) => check(sources, a),
        ConfigCommand::Show(a) => show(sources, a),
    }
}

fn check(sources: &Sources, a: CheckArgs) -> ExitCode {
    let report = match run_check(sources) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if a.json {
        let mut v = serde_json::to_value(&report).unwrap_or_default();
        v["ok"] = report.ok().into();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print_report(&report);
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CONFIG)
    }
}

/// Runs [`config_check::check`] (it reads the database) on a runtime of its own.
pub fn run_check(sources: &Sources) -> std::io::Result<config_check::CheckReport> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(config_check::check(sources)))
}

/// The problems (or the summary line), then the warnings.
pub fn print_report(report: &config_check::CheckReport) {
    if report.ok() {
        println!("{}", report.summary());
    } else {
        for p in &report.problems {
            println!("{p}");
        }
    }
    for w in &report.warnings {
        println!("warning: {w}");
    }
    if !report.ok() {
        eprintln!("{} configuration problem(s)", report.problems.len());
    }
    if !report.warnings.is_empty() {
        eprintln!(
            "{} warning(s): not ready for real use until they are dealt with (`cccwatch init` fills in the bureau's settings)",
            report.warnings.len()
        );
    }
}

fn show(sources: &Sources, a: ShowArgs) -> ExitCode {
    match config_check::show(sources, a.origin) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in problems {
                eprintln!("{p}");
            }
            eprintln!("the settings cannot be read; `cccwatch config check` lists every problem");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}
