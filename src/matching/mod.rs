//! Stage 3, match: judges each listing against the certificate index and
//! gives it one finding. Everything here is pure and CPU-bound; the async
//! job that feeds it lives in [`crate::pipeline`].

pub mod brand;
pub mod index;
pub mod model;
pub mod scope;
pub mod verdict;

pub use brand::{Brand, BrandTable, ListingBrand};
pub use index::CertIndex;
pub use verdict::{Judge, Matcher};
