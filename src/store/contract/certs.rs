//! The storage contract for `store::certs`, run against each backend.

#[allow(unused_imports)]
use super::*;
