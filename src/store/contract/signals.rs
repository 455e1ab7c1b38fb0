//! The storage contract for `store::signals`, run against each backend.

#[allow(unused_imports)]
use super::*;
