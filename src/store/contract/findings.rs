//! The storage contract for `store::findings`, run against each backend.

#[allow(unused_imports)]
use super::*;
