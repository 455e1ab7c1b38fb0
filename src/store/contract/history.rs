//! The storage contract for `store::history`, run against each backend.

#[allow(unused_imports)]
use super::*;
