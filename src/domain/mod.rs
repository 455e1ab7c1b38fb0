//! Pure domain types shared by every stage: certificates, listings, findings,
//! verdicts and the states of runs; a user's [`Role`], decisions on findings
//! as data ([`decision`]) and the audit log's hash chain ([`audit`]). Nothing
//! here does I/O, and nothing here uses the stages above it (store, review,
//! web): they all build on it. The review stage's rules on these types
//! (permissions, valid decisions) stay in the review stage.

pub mod audit;
mod brand;
mod certificate;
pub mod decision;
mod finding;
mod listing;
mod role;
mod run_state;

pub use brand::Brand;
pub use certificate::{CertRecord, CertStatus, Certificate, ModelList};
pub use finding::{Finding, Verdict};
pub use listing::{Listing, MODEL_LABELS, is_model_label};
pub use role::Role;
pub use run_state::{RunState, UnknownRunState};
