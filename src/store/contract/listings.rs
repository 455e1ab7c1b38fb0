//! The storage contract for `store::listings`, run against each backend.

#[allow(unused_imports)]
use super::*;
