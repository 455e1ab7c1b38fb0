//! The storage contract for `store::schedule`, run against each backend.

#[allow(unused_imports)]
use super::*;
