//! The storage contract for `store::feeds`, run against each backend.

#[allow(unused_imports)]
use super::*;
