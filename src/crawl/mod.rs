//! Crawl stage: polite fetching. [`fetch`] sends requests through per-host
//! politeness ([`host`]: rate limit, concurrency, crawl-delay, slow-down after
//! 429/503), obeys [`robots`], refuses private addresses ([`address`]) and
//! hands back raw responses; [`decode`] turns bytes into text. The frontier
//! and the scan loop that drive it are in [`crate::scan`].

pub mod address;
pub mod decode;
pub mod failure;
pub mod fetch;
pub mod host;
pub mod robots;
