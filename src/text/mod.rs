//! Pure text rules under every stage: width folding and keys
//! ([`normalize`]), traditional to simplified characters ([`simplify`]),
//! certificate numbers in free text ([`certno`]), dates as exports write
//! them ([`dates`]), the split text of the queue's full-text search
//! ([`search`]). In: strings; out: strings, numbers, dates. Nothing
//! here knows about listings, certificates or storage, so the domain types,
//! the certificate database, matching, review and the store all build on it
//! without depending on each other.

pub mod certno;
pub mod dates;
pub mod normalize;
pub mod search;
pub mod simplify;
