//! The storage contract for `store::review`, run against each backend.

#[allow(unused_imports)]
use super::*;
