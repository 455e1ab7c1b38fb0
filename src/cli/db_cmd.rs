//! `cccwatch db`: apply the migrations, and copy one database into another
//! (a bureau's SQLite file into the shared PostgreSQL database, and back).

use super::App;
use cccwatch::db_url::DbUrl;
use cccwatch::progress::Progress;
use cccwatch::store::copy::{self, CopyProgress, CopyReport};
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create the tables, or bring them to this version (safe to re-run).
    #[command(after_help = "Examples:\n  cccwatch db migrate\n  \
        cccwatch --db postgres://cccwatch@db.example/cccwatch db migrate\n\n\
Every other command migrates the database it opens too; this one does only\n\
that, e.g. before starting workers on several machines. Processes migrating a\n\
PostgreSQL database at the same time wait for each other.")]
    Migrate,
    /// Copy every table of one database into another, then verify the copy.
    Copy(CopyArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    cccwatch db copy --from sqlite://data/cccwatch.db --to postgres://cccwatch@db.example/cccwatch\n  \
    cccwatch db copy --from postgres://cccwatch@db.example/cccwatch --to sqlite://backup.db?mode=rwc\n\n\
Stop `serve`, scans and workers on both databases first. Rows keep their ids;\n\
each batch is a transaction that inserts only rows the destination lacks, so a\n\
copy that stopped half-way is finished by running it again, and re-running a\n\
finished copy changes nothing. Nothing in the destination is updated or\n\
deleted. After the copy: rows of every table counted on both sides, every\n\
evidence page's body checked against its SHA-256 and compared with the\n\
source's, the audit chain verified on the destination and its last hash\n\
compared with the source's. Exit status 1 when any check fails.")]
pub struct CopyArgs {
    /// The database to read (default: database.url / --db).
    #[arg(long, value_name = "URL")]
    from: Option<DbUrl>,
    /// The database to write (created and migrated if needed).
    #[arg(long, value_name = "URL")]
    to: DbUrl,
    /// Rows per transaction.
    #[arg(long, default_value_t = copy::DEFAULT_BATCH, value_name = "N")]
    batch: usize,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub async fn run(app: &App, c: DbCommand) -> anyhow::Result<ExitCode> {
    match c {
        DbCommand::Migrate => {
            let url = &app.settings.database.url;
            let versions = copy::migrate(url.expose()).await?;
            println!(
                "{url}: {} migrations applied, the latest {}",
                versions.len(),
                versions.last().map_or("none".into(), i64::to_string)
            );
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Copy(a) => copy_cmd(app, a).await,
    }
}

async fn copy_cmd(app: &App, a: CopyArgs) -> anyhow::Result<ExitCode> {
    let from = a.from.unwrap_or_else(|| app.settings.database.url.clone());
    eprintln!("copying {from} → {}", a.to);
    let mut bars = Bars {
        enabled: app.progress,
        bar: None,
    };
    let report = copy::copy(from.expose(), a.to.expose(), a.batch, &mut bars).await?;
    bars.done();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    if report.ok() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("error: the copy does not check out (see above)");
        Ok(ExitCode::FAILURE)
    }
}

/// One bar per table.
struct Bars {
    enabled: bool,
    bar: Option<Progress>,
}

impl Bars {
    fn done(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish();
        }
    }
}

impl CopyProgress for Bars {
    fn table(&mut self, table: &str, rows: u64) {
        self.done();
        let bar = Progress::new(Some(rows), "rows", self.enabled);
        bar.set_message(table.to_string());
        self.bar = Some(bar);
    }
    fn rows(&mut self, done: u64) {
        if let Some(b) = &self.bar {
            b.set_position(done);
        }
    }
    fn verifying(&mut self, what: &str) {
        self.done();
        let bar = Progress::new(None, "", self.enabled);
        bar.set_message(format!("verifying {what}"));
        self.bar = Some(bar);
    }
}

fn print(r: &CopyReport) {
    println!(
        "{:<18} {:>10} {:>10} {:>12}",
        "table", "source", "inserted", "destination"
    );
    for t in &r.tables {
        let mark = if t.source == t.destination {
            ""
        } else {
            "  ≠"
        };
        println!(
            "{:<18} {:>10} {:>10} {:>12}{mark}",
            t.table, t.source, t.inserted, t.destination
        );
    }
    if r.nul_removed > 0 {
        println!("NUL characters removed from text: {}", r.nul_removed);
    }
    let e = &r.evidence;
    println!(
        "evidence: {} pages, {} bodies verified against their SHA-256, {} pruned earlier; {}",
        e.pages,
        e.bodies_verified,
        e.pruned,
        if e.same_as_source {
            "identical to the source"
        } else {
            "DIFFERENT from the source"
        }
    );
    if !e.mismatched.is_empty() {
        println!(
            "  bodies that do not match their hash: page ids {:?}",
            e.mismatched
        );
    }
    let (s, d) = (&r.source_audit, &r.destination_audit);
    println!(
        "audit chain: source {} entries, destination {} entries, {} problems; last hash {} {}",
        s.entries,
        d.entries,
        d.problems,
        d.last_hash.as_deref().unwrap_or("-"),
        if d.last_hash == s.last_hash {
            "(same as the source)"
        } else {
            "(NOT the source's)"
        }
    );
    println!(
        "{}",
        if r.ok() {
            "copy verified"
        } else {
            "copy NOT verified"
        }
    );
}
