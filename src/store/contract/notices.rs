//! The storage contract for `store::notices`, run against each backend.

#[allow(unused_imports)]
use super::*;
