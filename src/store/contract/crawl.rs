//! The storage contract for `store::crawl`, run against each backend.

#[allow(unused_imports)]
use super::*;
