//! cccwatch: an independent audit of e-commerce listings against the China
//! Compulsory Certification (CCC) database.
//!
//! Data flows through the modules in this order: [`feed`] (platform data
//! feeds) → [`certdb`] (certificate exports, catalog, model lists) →
//! [`matching`] (numbers, brands, models, verdicts) → [`pipeline`] (the match
//! job) → [`export`]. [`store`] is the only module with SQL. Files handed
//! over as tables (exports, replies, sampling results) are read through
//! [`sheet`] and [`tabular`].

pub mod cert_import;
pub mod certdb;
pub mod clock;
pub mod config;
pub mod config_check;
pub mod crash;
pub mod crawl;
pub mod db_url;
pub mod domain;
pub mod export;
pub mod extract;
pub mod feed;
pub mod history;
pub mod jobs;
#[cfg(feature = "demo")]
pub mod market;
pub mod matching;
pub mod monitoring;
pub mod notice;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod retention;
pub mod review;
pub mod scan;
pub mod schedule;
pub mod setup;
pub mod sheet;
pub mod signals;
pub mod store;
#[cfg(feature = "demo")]
pub mod synth;
pub mod tabular;
pub mod telemetry;
pub mod text;
pub mod web;
