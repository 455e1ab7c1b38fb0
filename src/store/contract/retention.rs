//! The storage contract for `store::retention`, run against each backend.

#[allow(unused_imports)]
use super::*;
