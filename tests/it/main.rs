//! The integration tests: one test binary, so the crate is linked once
//! instead of once per file, with a module per feature. Test names are
//! `MODULE::TEST` (`cargo test --release --test it -- crawl::`).
//!
//! Two features keep binaries of their own, for a reason of their process:
//! `tests/observability.rs` compares the process-wide Prometheus counters
//! with one database, so no other test may scan in its process, and
//! `tests/browser.rs` drives Chromium with timeouts and should not share
//! two cores with the other tests. `soak` is `#[ignore]`d: `.ci/run` runs
//! it as a step of its own.
//!
//! The data stay beside: `tests/data`, `tests/devset`, `tests/independent`;
//! the helpers shared with the other binaries are in `tests/support`.

#[path = "../support/mod.rs"]
mod support;

mod adapters_fixtures;
mod certdb_import;
mod cli;
mod config_cli;
mod crawl;
mod db_copy;
mod decode_fixtures;
mod devset;
mod end_to_end;
mod failures;
mod feeds;
mod fetch;
mod independent;
mod notices;
mod report;
mod resume;
mod robots_spec;
mod scan_history;
mod schedule;
mod soak;
mod synth;
mod web;
mod workers;
