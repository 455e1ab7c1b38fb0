//! The storage contract for `store::report`, run against each backend.

#[allow(unused_imports)]
use super::*;
