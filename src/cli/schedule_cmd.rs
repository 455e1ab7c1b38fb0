//! `cccwatch schedule`: the scheduled scan jobs of `serve`.

use super::App;
use super::scan_cmd::EXIT_LOCKED;
use cccwatch::crawl::fetch::Fetcher;
use cccwatch::domain::RunState;
use cccwatch::schedule::{self, Scheduler, SystemClock};
use clap::Subcommand;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// The jobs: cron expression, platforms, next run, last run and its result; platform locks held now.
    #[command(
        after_help = "Examples:\n  cccwatch schedule list\n  cccwatch schedule list --json\n\n\
Jobs are [[schedule.jobs]] in the configuration; `cccwatch serve` runs them.\n\
Times are in the job's time zone (schedule.time_zone, default Asia/Shanghai)."
    )]
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Also show this many recent runs of every job.
        #[arg(long, value_name = "N", default_value_t = 0)]
        runs: i64,
    },
    /// Run a job now, in this process, and wait for it (Ctrl-C stops it cleanly).
    #[command(after_help = "Examples:\n  cccwatch schedule run nightly\n\n\
Takes the same platform locks as `serve`, so it never scans a platform that\n\
is being scanned elsewhere; an unfinished scan of a platform is resumed.\n\
Exit codes: 0 completed, 3 stopped before the end (deadline or Ctrl-C; the\n\
next run resumes), 75 every platform was locked by another scan, 1 failed.")]
    Run {
        /// The job's name (see `cccwatch schedule list`).
        job: String,
        /// Print the run as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(app: &App, c: ScheduleCommand) -> anyhow::Result<ExitCode> {
    let store = app.judging_store().await?;
    match c {
        ScheduleCommand::List { json, runs } => {
            let jobs = schedule::status(&store, &app.settings, store.now()).await?;
            let locks = store.platform_locks().await?;
            let recent = if runs > 0 {
                store.job_runs(None, runs).await?
            } else {
                Vec::new()
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "jobs": jobs, "locks": locks, "runs": recent,
                    }))?
                );
                return Ok(ExitCode::SUCCESS);
            }
            if jobs.is_empty() {
                println!(
                    "no scheduled jobs: add [[schedule.jobs]] to the configuration (see config/cccwatch.toml)"
                );
            }
            for j in &jobs {
                println!("{}  [{}  {}]", j.name, j.cron, j.time_zone);
                if j.kind == "prune" {
                    println!(
                        "  applies the retention policy ([retention]), as `cccwatch prune` does"
                    );
                } else {
                    println!(
                        "  platforms: {}{}{}",
                        if j.platforms.is_empty() {
                            "(none found)".to_string()
                        } else {
                            j.platforms.join(", ")
                        },
                        if j.groups.is_empty() {
                            String::new()
                        } else {
                            format!("; keyword sets: {}", j.groups.join(", "))
                        },
                        j.max_pages
                            .map(|n| format!("; {n} result page(s) per keyword"))
                            .unwrap_or_default()
                    );
                }
                if let Some(d) = &j.deadline {
                    println!("  deadline: {d}");
                }
                println!("  next run: {}", j.next_run.as_deref().unwrap_or("never"));
                match &j.last_run {
                    None => println!("  last run: none yet"),
                    Some(r) => {
                        println!(
                            "  last run: #{} {} ({}) {} → {}; scans {:?}",
                            r.id,
                            r.state,
                            r.trigger,
                            r.started_at,
                            r.finished_at.as_deref().unwrap_or("…"),
                            r.scan_ids
                        );
                        if let Some(m) = &r.message {
                            println!("            {m}");
                        }
                    }
                }
            }
            for l in &locks {
                println!("lock: {}", cccwatch::scan::lock::describe_holder(l));
            }
            if !recent.is_empty() {
                println!("recent runs:");
                for r in &recent {
                    println!(
                        "  #{} {} {} ({}) {} → {} scans {:?} {}",
                        r.id,
                        r.job,
                        r.state,
                        r.trigger,
                        r.started_at,
                        r.finished_at.as_deref().unwrap_or("…"),
                        r.scan_ids,
                        r.message.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ScheduleCommand::Run { job, json } => {
            let settings = Arc::new(app.settings.clone());
            let fetcher = Arc::new(Fetcher::new(app.settings.crawl.fetch_settings())?);
            let stop = super::shutdown::stop_on_signal();
            let scheduler = Scheduler::new(
                store.clone(),
                settings,
                fetcher,
                Arc::new(SystemClock),
                stop,
            )?;
            let id = scheduler.run_now(&job, &super::actor()).await?;
            eprintln!("job {job}: run #{id} started");
            scheduler.wait_idle().await;
            let r = store
                .job_run(id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("run #{id} disappeared"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "job {} run #{}: {}; scans {:?}",
                    r.job, r.id, r.state, r.scan_ids
                );
                if let Some(m) = &r.message {
                    println!("  {m}");
                }
                for id in &r.scan_ids {
                    if let Some(s) = store.scan(*id).await? {
                        println!(
                            "  scan {} of {}: {}, {} pages fetched, {} failed",
                            s.id, s.platform, s.state, s.pages_fetched, s.pages_failed
                        );
                    }
                }
            }
            Ok(match r.state {
                RunState::Skipped => ExitCode::from(EXIT_LOCKED),
                state => ExitCode::from(
                    cccwatch::scan::outcome::ScanEnd::from_state(state)
                        .map_or(1, |e| e.exit_code()),
                ),
            })
        }
    }
}
