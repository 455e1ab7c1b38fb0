//! Metrics for Prometheus: process-wide counters and histograms (the
//! `metrics` facade with `metrics-exporter-prometheus`, installed once per
//! process, no listener of its own) and gauges read from the database at
//! scrape time. `/metrics` on the review workspace renders them
//! ([`render`]). Only counts are exported, never listing text.
//!
//! Page counters are incremented where a scan commits its results
//! ([`pages_committed`], called after `Store::apply_results`), with exactly
//! the classification that updates `scans.pages_*`, so that for one process
//! and a fresh database `sum(cccwatch_pages_fetched_total)` equals
//! `SELECT SUM(pages_fetched) FROM scans` (likewise failed, retried, robots
//! skipped and requests). The names are listed in the README, "Metrics".

use crate::domain::RunState;
use crate::store::{EntryResult, EntryUpdate, GaugeCounts};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

pub const PAGES_FETCHED: &str = "cccwatch_pages_fetched_total";
pub const PAGES_FAILED: &str = "cccwatch_pages_failed_total";
pub const PAGES_RETRIED: &str = "cccwatch_pages_retried_total";
pub const ROBOTS_SKIPPED: &str = "cccwatch_robots_skipped_total";
pub const REQUESTS: &str = "cccwatch_requests_total";
pub const RATE_LIMIT_WAIT: &str = "cccwatch_rate_limit_wait_seconds";
pub const SCAN_DURATION: &str = "cccwatch_scan_duration_seconds";
pub const SCANS_RUNNING: &str = "cccwatch_scans_running";
pub const SCANS_ENDED: &str = "cccwatch_scans_total";
pub const HTTP_REQUESTS: &str = "cccwatch_http_requests_total";
pub const HTTP_DURATION: &str = "cccwatch_http_request_duration_seconds";
pub const BUILD_INFO: &str = "cccwatch_build_info";
pub const JOB_RUNS: &str = "cccwatch_job_runs_total";
pub const HOST_LEASES_HELD: &str = "cccwatch_host_leases_held";
pub const RESULTS_LOST: &str = "cccwatch_results_dropped_total";

const SCAN_BUCKETS: &[f64] = &[
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0, 14400.0,
    28800.0,
];
const WAIT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0,
];
const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Waits shorter than this are not counted as rate-limit waits.
const MIN_WAIT: Duration = Duration::from_millis(1);

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the global recorder (once per process) and returns its handle;
/// `None` when another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE.get_or_init(install).as_ref()
}

fn install() -> Option<PrometheusHandle> {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(SCAN_DURATION.into()), SCAN_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(RATE_LIMIT_WAIT.into()), WAIT_BUCKETS))
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), HTTP_BUCKETS));
    let handle = match builder.and_then(PrometheusBuilder::install_recorder) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!("metrics are off: {e}");
            return None;
        }
    };
    describe();
    gauge!(SCANS_RUNNING).set(0.0);
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    Some(handle)
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        SCANS_ENDED,
        "Scan runs ended, by platform and outcome (completed, completed_with_errors, failed, interrupted)"
    );
    describe_counter!(
        PAGES_FETCHED,
        "Pages fetched and committed by scans (search, item and gone pages), by platform and HTTP status"
    );
    describe_counter!(
        PAGES_FAILED,
        "Pages given up on by scans, by platform and HTTP status (none: no answer)"
    );
    describe_counter!(
        PAGES_RETRIED,
        "Fetches that failed transiently and were rescheduled, by platform and HTTP status"
    );
    describe_counter!(
        ROBOTS_SKIPPED,
        "Pages skipped because robots.txt forbids them"
    );
    describe_counter!(
        REQUESTS,
        "HTTP requests sent to platforms by scans (redirect hops and robots.txt included)"
    );
    describe_histogram!(
        RATE_LIMIT_WAIT,
        Unit::Seconds,
        "Waits before a request to a host (rate limit, Crawl-delay, Retry-After pauses)"
    );
    describe_histogram!(
        SCAN_DURATION,
        Unit::Seconds,
        "Duration of scan runs (crawl and match), by platform and outcome"
    );
    describe_gauge!(SCANS_RUNNING, "Scans running in this process");
    describe_counter!(
        HTTP_REQUESTS,
        "Requests to the review workspace, by method, route pattern and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer requests to the review workspace, by route pattern"
    );
    describe_gauge!(BUILD_INFO, "Always 1; the version as a label");
    describe_counter!(
        JOB_RUNS,
        "Scheduled job runs ended in this process, by job and state (completed, interrupted, skipped, failed)"
    );
}

fn status_label(status: Option<u16>) -> String {
    status.map_or_else(|| "none".to_string(), |s| s.to_string())
}

/// A batch of scan results was committed: count its pages the way
/// `scans.pages_*` counts them.
pub fn pages_committed(platform: &str, results: &[EntryResult]) {
    if handle().is_none() {
        return;
    }
    let p = platform.to_string();
    let mut requests = 0u64;
    for r in results {
        requests += u64::from(r.requests);
        match &r.update {
            EntryUpdate::Search { page, .. }
            | EntryUpdate::Item { page, .. }
            | EntryUpdate::Gone { page, .. } => {
                counter!(PAGES_FETCHED, "platform" => p.clone(), "status" => page.status.to_string())
                    .increment(1)
            }
            EntryUpdate::Retry { status, .. } => {
                counter!(PAGES_RETRIED, "platform" => p.clone(), "status" => status_label(*status))
                    .increment(1)
            }
            EntryUpdate::Failed { status, .. } => {
                counter!(PAGES_FAILED, "platform" => p.clone(), "status" => status_label(*status))
                    .increment(1)
            }
            EntryUpdate::Robots => counter!(ROBOTS_SKIPPED, "platform" => p.clone()).increment(1),
        }
    }
    counter!(REQUESTS, "platform" => p).increment(requests);
}

/// A request to `host` waited `waited` for politeness before it went.
/// A scheduled job run ended (or was skipped).
pub fn job_run_ended(job: &str, state: RunState) {
    let _ = handle();
    counter!(JOB_RUNS, "job" => job.to_string(), "state" => state.as_str()).increment(1);
}

/// This process took (true) or gave up a host's lease.
pub fn host_lease_changed(host: &str, held: bool) {
    let _ = handle();
    gauge!(HOST_LEASES_HELD, "host" => host.to_string()).set(if held { 1.0 } else { 0.0 });
}

/// Results a scan dropped because their entries were handed back meanwhile.
pub fn results_dropped(platform: &str, n: u64) {
    let _ = handle();
    counter!(RESULTS_LOST, "platform" => platform.to_string()).increment(n);
}

pub fn rate_limit_waited(host: &str, waited: Duration) {
    if waited < MIN_WAIT || handle().is_none() {
        return;
    }
    histogram!(RATE_LIMIT_WAIT, "host" => host.to_string()).record(waited.as_secs_f64());
}

/// Counts a scan run as running until dropped, then records its duration
/// with the outcome set by [`ScanTimer::outcome`] (`failed` if none was).
pub struct ScanTimer {
    platform: String,
    started: std::time::Instant,
    outcome: RunState,
}

impl ScanTimer {
    pub fn start(platform: &str) -> ScanTimer {
        if handle().is_some() {
            gauge!(SCANS_RUNNING).increment(1.0);
        }
        ScanTimer {
            platform: platform.to_string(),
            started: std::time::Instant::now(),
            outcome: RunState::Failed,
        }
    }

    /// How the scan ended (its stored state).
    pub fn outcome(&mut self, outcome: RunState) {
        self.outcome = outcome;
    }
}

impl Drop for ScanTimer {
    fn drop(&mut self) {
        if handle().is_none() {
            return;
        }
        gauge!(SCANS_RUNNING).decrement(1.0);
        histogram!(SCAN_DURATION, "platform" => self.platform.clone(), "outcome" => self.outcome.as_str())
            .record(self.started.elapsed().as_secs_f64());
        counter!(SCANS_ENDED, "platform" => self.platform.clone(), "outcome" => self.outcome.as_str())
            .increment(1);
    }
}

/// A request to the review workspace was answered. `route` is the matched
/// route pattern (never the raw path).
pub fn http_request(method: &str, route: &str, status: u16, took: Duration) {
    if handle().is_none() {
        return;
    }
    counter!(HTTP_REQUESTS, "method" => method.to_string(), "route" => route.to_string(), "status" => status.to_string())
        .increment(1);
    histogram!(HTTP_DURATION, "route" => route.to_string()).record(took.as_secs_f64());
}

/// The Prometheus text exposition: this process's counters and histograms,
/// then the gauges read from the database (`None`: it did not answer, and
/// `cccwatch_database_up` is 0), then the cluster's processes and host
/// leases as the database holds them (every process's, not only this one's).
pub fn render(
    gauges: Option<&GaugeCounts>,
    cluster: Option<&crate::store::ClusterSnapshot>,
) -> String {
    let mut out = match handle() {
        Some(h) => {
            h.run_upkeep();
            h.render()
        }
        None => String::new(),
    };
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    gauge_text(
        &mut out,
        "cccwatch_database_up",
        "1 when the database answered this scrape",
        None,
        &[(String::new(), i64::from(gauges.is_some()))],
    );
    if let Some(g) = gauges {
        gauge_text(
            &mut out,
            "cccwatch_findings",
            "Findings in the database by verdict",
            Some("verdict"),
            &g.findings,
        );
        gauge_text(
            &mut out,
            "cccwatch_review_backlog",
            "Flagged findings waiting for a decision (review_state pending)",
            None,
            &[(String::new(), g.review_backlog)],
        );
        gauge_text(
            &mut out,
            "cccwatch_notices",
            "Noticed listings by notice state",
            Some("state"),
            &g.notices,
        );
    }
    if let Some(c) = cluster {
        cluster_text(&mut out, c);
    }
    out
}

/// Processes by role and state, each process's committed pages and
/// heartbeat age, and who holds each host.
fn cluster_text(out: &mut String, c: &crate::store::ClusterSnapshot) {
    let mut by: std::collections::BTreeMap<(String, &str), i64> = Default::default();
    for p in &c.processes {
        *by.entry((p.worker.role.clone(), p.state)).or_default() += 1;
    }
    let _ = writeln!(
        out,
        "# HELP cccwatch_cluster_processes Processes that crawl with this database, by role and state"
    );
    let _ = writeln!(out, "# TYPE cccwatch_cluster_processes gauge");
    for ((role, state), n) in &by {
        let _ = writeln!(
            out,
            "cccwatch_cluster_processes{{role=\"{}\",state=\"{state}\"}} {n}",
            escape(role)
        );
    }
    let live: Vec<_> = c.processes.iter().filter(|p| p.state == "alive").collect();
    let _ = writeln!(
        out,
        "# HELP cccwatch_worker_pages Pages each live process committed since it started"
    );
    let _ = writeln!(out, "# TYPE cccwatch_worker_pages gauge");
    for p in &live {
        let _ = writeln!(
            out,
            "cccwatch_worker_pages{{process=\"{}\",role=\"{}\"}} {}",
            escape(&p.worker.id),
            escape(&p.worker.role),
            p.worker.pages
        );
    }
    let _ = writeln!(
        out,
        "# HELP cccwatch_worker_heartbeat_age_seconds Seconds since each live process's last heartbeat"
    );
    let _ = writeln!(out, "# TYPE cccwatch_worker_heartbeat_age_seconds gauge");
    for p in &live {
        let _ = writeln!(
            out,
            "cccwatch_worker_heartbeat_age_seconds{{process=\"{}\"}} {}",
            escape(&p.worker.id),
            p.seconds_since_beat
        );
    }
    let _ = writeln!(
        out,
        "# HELP cccwatch_host_lease Host leases held now (1 per host, labelled with its holder)"
    );
    let _ = writeln!(out, "# TYPE cccwatch_host_lease gauge");
    for l in &c.leases {
        let _ = writeln!(
            out,
            "cccwatch_host_lease{{host=\"{}\",process=\"{}\"}} 1",
            escape(&l.host),
            escape(&l.owner)
        );
    }
}

fn gauge_text(
    out: &mut String,
    name: &str,
    help: &str,
    label: Option<&str>,
    rows: &[(String, i64)],
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (value, n) in rows {
        match label {
            Some(l) => {
                let _ = writeln!(out, "{name}{{{l}=\"{}\"}} {n}", escape(value));
            }
            None => {
                let _ = writeln!(out, "{name} {n}");
            }
        }
    }
}

/// A label value as the text format wants it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_gauges_are_rendered_with_escaped_labels() {
        let g = GaugeCounts {
            findings: vec![("uncertified".into(), 3), ("a\"b".into(), 1)],
            review_backlog: 2,
            notices: vec![("issued".into(), 4)],
        };
        let text = render(Some(&g), None);
        assert!(
            text.contains("cccwatch_findings{verdict=\"uncertified\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("cccwatch_findings{verdict=\"a\\\"b\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("cccwatch_review_backlog 2\n"), "{text}");
        assert!(
            text.contains("cccwatch_notices{state=\"issued\"} 4\n"),
            "{text}"
        );
        assert!(text.contains("cccwatch_database_up 1\n"), "{text}");
        assert!(render(None, None).contains("cccwatch_database_up 0\n"));
    }

    #[test]
    fn scans_running_goes_up_and_down() {
        let running = || {
            render(None, None)
                .lines()
                .find_map(|l| l.strip_prefix("cccwatch_scans_running "))
                .map(|v| v.trim().parse::<f64>().unwrap())
                .unwrap()
        };
        let mut t = ScanTimer::start("unit-test");
        assert!(running() >= 1.0);
        t.outcome(RunState::Completed);
        drop(t);
        let text = render(None, None);
        assert!(
            text.contains("cccwatch_scan_duration_seconds_count{platform=\"unit-test\",outcome=\"completed\"} 1"),
            "{text}"
        );
    }
}
