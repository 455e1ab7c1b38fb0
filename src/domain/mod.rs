//! Pure domain types shared by every stage: certificates, listings, findings
//! and verdicts. Nothing here does I/O.

mod brand;
mod certificate;
mod finding;
mod listing;

pub use brand::Brand;
pub use certificate::{CertRecord, CertStatus, Certificate, ModelList};
pub use finding::{Finding, Verdict};
pub use listing::{Listing, MODEL_LABELS, is_model_label};
