//! Review stage: what people do with findings. Accounts and roles
//! ([`auth`]), decisions and who may revise them ([`decision`]), the queue's
//! filters and paging ([`queue`]; its search text is [`crate::text::search`])
//! and the side-by-side comparison of listing and certificate ([`compare`]).
//! The audit log's hash chain is [`crate::domain::audit`]; the web workspace
//! on top of all this is [`crate::web`].

pub mod auth;
pub mod compare;
pub mod decision;
pub mod queue;
