//! Pure domain types shared by every stage: certificates, listings, findings,
//! verdicts and the states of runs, and the audit log's hash chain
//! ([`audit`]). Nothing here does I/O, and nothing here uses the stages
//! above it (store, review, web): they all build on it.

pub mod audit;
mod brand;
mod certificate;
mod finding;
mod listing;
mod run_state;

pub use brand::Brand;
pub use certificate::{CertRecord, CertStatus, Certificate, ModelList};
pub use finding::{Finding, Verdict};
pub use listing::{Listing, MODEL_LABELS, is_model_label};
pub use run_state::{RunState, UnknownRunState};
