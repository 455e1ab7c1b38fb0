//! Pure domain types shared by every stage: certificates, listings, findings
//! and verdicts. Nothing here does I/O.

mod certificate;
mod finding;
mod listing;

pub use certificate::{CertStatus, Certificate, ModelList};
pub use finding::{Finding, Verdict};
pub use listing::Listing;
