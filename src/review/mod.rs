//! Review stage: what people do with findings. Accounts and roles
//! ([`auth`]), decisions and who may revise them ([`decision`]), the queue's
//! filters and paging ([`queue`]; its search text is [`crate::text::search`]),
//! the side-by-side comparison of listing and certificate ([`compare`]) and
//! the hash-chained audit log ([`audit`]). The web workspace on top of these
//! is [`crate::web`].

pub mod audit;
pub mod auth;
pub mod compare;
pub mod decision;
pub mod queue;
