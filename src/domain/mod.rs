//! Pure domain types shared by every stage: certificates, listings, findings,
//! verdicts and the states of runs. With them, the review data the store
//! keeps: a user's [`Role`], decisions on findings ([`decision`]), the
//! queue's filter and cursors ([`queue`]) and the audit log's hash chain
//! ([`audit`]); the review stage's rules on these (permissions, valid
//! decisions, the query string) stay in `review`. Nothing here does I/O,
//! and nothing here uses the stages above it (store, review, web): they all
//! build on it.

pub mod audit;
mod brand;
mod certificate;
pub mod decision;
mod finding;
mod listing;
pub mod queue;
mod role;
mod run_state;

pub use brand::Brand;
pub use certificate::{CertRecord, CertStatus, Certificate, ModelList};
pub use finding::{Finding, Verdict};
pub use listing::{Listing, MODEL_LABELS, is_model_label};
pub use role::Role;
pub use run_state::{RunState, UnknownRunState};
