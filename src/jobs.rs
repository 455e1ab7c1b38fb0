//! Scheduled jobs as configured: the `[schedule]` settings, and each job
//! parsed into its cron times, time zone and deadline. In: settings; out:
//! [`Job`]s, or a [`JobError`] naming the key. Pure (no clock of its own, no
//! store): the configuration validates with it, and the scheduler
//! ([`crate::schedule`]) runs what it yields.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

/// Scheduled scans run by `cccwatch serve` (`[schedule]`, `[[schedule.jobs]]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleSettings {
    /// Run the jobs inside `cccwatch serve` (false: only the web app; use
    /// cron or systemd timers with `cccwatch scan` instead).
    pub enabled: bool,
    /// Time zone of the cron expressions.
    pub time_zone: String,
    /// A platform lock not renewed for this long belongs to a process that
    /// died and is taken over.
    pub lock_stale_secs: u64,
    /// How often a running scan renews its lock.
    pub lock_renew_secs: u64,
    /// When `[retention]` is applied (cron, in `time_zone`); empty: never
    /// (then run `cccwatch prune` yourself).
    pub prune_cron: String,
    pub jobs: Vec<JobSettings>,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        ScheduleSettings {
            enabled: true,
            time_zone: "Asia/Shanghai".into(),
            lock_stale_secs: 300,
            lock_renew_secs: 30,
            prune_cron: "0 4 * * *".into(),
            jobs: Vec::new(),
        }
    }
}

/// One scheduled scan job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct JobSettings {
    /// Shown in the UI and `cccwatch schedule list`; unique.
    pub name: String,
    /// Cron expression: minute hour day-of-month month day-of-week, with an
    /// optional leading seconds field.
    pub cron: String,
    /// Overrides `schedule.time_zone` for this job.
    pub time_zone: Option<String>,
    /// Platform files (names in `crawl.platforms_dir`); empty means all.
    pub platforms: Vec<String>,
    /// Keyword sets: groups of the platform's `[keywords]`; with `keywords`
    /// empty too, all of the platform's keywords.
    pub groups: Vec<String>,
    /// More keywords to search.
    pub keywords: Vec<String>,
    /// Result pages per keyword at most (default: the platform's).
    pub max_pages: Option<u32>,
    /// Longest a run may take, e.g. "5h"; then it stops and the next run resumes.
    pub max_duration: Option<String>,
    /// Local time by which a run stops, e.g. "07:00".
    pub stop_at: Option<String>,
}

/// A job of `[schedule]` that does not parse, with the key that says where.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("schedule.jobs `{job}`: cron expression `{cron}`: {message}")]
    Cron {
        job: String,
        cron: String,
        message: String,
    },
    #[error("{key}: unknown time zone `{zone}` (use a name such as Asia/Shanghai)")]
    TimeZone { key: String, zone: String },
    #[error("schedule.jobs `{job}`: {key} = `{value}`: {message}")]
    Field {
        job: String,
        key: &'static str,
        value: String,
        message: String,
    },
}

/// A parsed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub settings: JobSettings,
    /// Scans, or the retention policy's nightly pruning.
    pub prune: bool,
    cron: Cron,
    pub tz: Tz,
    max_duration: Option<Duration>,
    stop_at: Option<NaiveTime>,
}

/// The cron times between the last handled one and now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Due {
    /// How many (counted up to [`MISSED_COUNT_CAP`]).
    pub count: u32,
    pub latest: DateTime<Utc>,
}

/// Missed runs are counted up to this many (for the message only).
pub const MISSED_COUNT_CAP: u32 = 10_000;
/// A cron time noticed later than this counts as missed (server was down).
pub const LATE_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

impl Job {
    pub fn new(s: &JobSettings, default_tz: &str) -> Result<Job, JobError> {
        let cron = Cron::from_str(s.cron.trim()).map_err(|e| JobError::Cron {
            job: s.name.clone(),
            cron: s.cron.clone(),
            message: e.to_string(),
        })?;
        let zone = s.time_zone.as_deref().unwrap_or(default_tz);
        let tz = parse_tz(
            zone,
            if s.time_zone.is_some() {
                format!("schedule.jobs `{}`: time_zone", s.name)
            } else {
                "schedule.time_zone".to_string()
            },
        )?;
        let field = |key: &'static str, value: &str, message: String| JobError::Field {
            job: s.name.clone(),
            key,
            value: value.to_string(),
            message,
        };
        let max_duration = s
            .max_duration
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .map(|d| {
                humantime::parse_duration(d.trim()).map_err(|e| {
                    field(
                        "max_duration",
                        d,
                        format!("{e} (write e.g. \"5h\", \"90m\", \"30s\")"),
                    )
                })
            })
            .transpose()?;
        if max_duration.is_some_and(|d| d.is_zero()) {
            return Err(field(
                "max_duration",
                s.max_duration.as_deref().unwrap_or(""),
                "must be longer than zero".into(),
            ));
        }
        let stop_at = s
            .stop_at
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| {
                NaiveTime::parse_from_str(t.trim(), "%H:%M")
                    .map_err(|_| field("stop_at", t, "write a local time such as \"06:30\"".into()))
            })
            .transpose()?;
        if s.name.trim().is_empty() {
            return Err(field("name", &s.name, "every job needs a name".into()));
        }
        Ok(Job {
            settings: s.clone(),
            prune: false,
            cron,
            tz,
            max_duration,
            stop_at,
        })
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// The first cron time after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&t.with_timezone(&self.tz), false)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// The cron times in (`after`, `now`], if any.
    pub fn due(&self, after: DateTime<Utc>, now: DateTime<Utc>) -> Option<Due> {
        let first = self.next_after(after).filter(|t| *t <= now)?;
        let mut due = Due {
            count: 1,
            latest: first,
        };
        while due.count < MISSED_COUNT_CAP {
            match self.next_after(due.latest) {
                Some(t) if t <= now => {
                    due.count += 1;
                    due.latest = t;
                }
                _ => return Some(due),
            }
        }
        // Very many: find the latest by walking back from now.
        if let Ok(t) = self
            .cron
            .find_previous_occurrence(&now.with_timezone(&self.tz), true)
        {
            due.latest = t.with_timezone(&Utc);
        }
        Some(due)
    }

    /// When a run started at `started` must stop: the earlier of
    /// `max_duration` after the start and the next `stop_at` local time.
    pub fn deadline(&self, started: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let by_duration = self
            .max_duration
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| started + d);
        let by_clock = self.stop_at.and_then(|at| {
            let local = started.with_timezone(&self.tz);
            let mut day = local.date_naive();
            loop {
                let candidate = self
                    .tz
                    .from_local_datetime(&day.and_time(at))
                    .earliest()
                    .map(|t| t.with_timezone(&Utc));
                match candidate {
                    Some(t) if t > started => return Some(t),
                    _ => day = day.succ_opt()?,
                }
                if day > local.date_naive() + chrono::Days::new(2) {
                    return None;
                }
            }
        });
        match (by_duration, by_clock) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn parse_tz(zone: &str, key: String) -> Result<Tz, JobError> {
    zone.trim().parse::<Tz>().map_err(|_| JobError::TimeZone {
        key,
        zone: zone.to_string(),
    })
}

/// Parses every job of the settings; the first problem is returned.
pub fn parse_jobs(s: &ScheduleSettings) -> Result<Vec<Job>, JobError> {
    parse_tz(&s.time_zone, "schedule.time_zone".into())?;
    let mut seen = HashSet::new();
    let mut jobs = Vec::new();
    for j in &s.jobs {
        let job = Job::new(j, &s.time_zone)?;
        if job.name() == PRUNE_JOB {
            return Err(JobError::Field {
                job: job.name().to_string(),
                key: "name",
                value: job.name().to_string(),
                message: "is the name of the built-in pruning job (schedule.prune_cron)".into(),
            });
        }
        if !seen.insert(job.name().to_string()) {
            return Err(JobError::Field {
                job: job.name().to_string(),
                key: "name",
                value: job.name().to_string(),
                message: "two jobs have this name".into(),
            });
        }
        jobs.push(job);
    }
    if !s.prune_cron.trim().is_empty() {
        let settings = JobSettings {
            name: PRUNE_JOB.into(),
            cron: s.prune_cron.clone(),
            ..JobSettings::default()
        };
        let mut job = Job::new(&settings, &s.time_zone).map_err(|e| match e {
            JobError::Cron { cron, message, .. } => JobError::Field {
                job: PRUNE_JOB.into(),
                key: "schedule.prune_cron",
                value: cron,
                message,
            },
            e => e,
        })?;
        job.prune = true;
        jobs.push(job);
    }
    Ok(jobs)
}

/// The built-in job that applies `[retention]` (`schedule.prune_cron`).
pub const PRUNE_JOB: &str = "prune";
