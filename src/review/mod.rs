//! Review stage: what people do with findings, as rules. Each role's
//! permissions, passwords and tokens ([`auth`]), which decisions are valid
//! and who may revise them ([`decision`]), the queue's filters and paging
//! ([`queue`]; its search text is [`crate::text::search`]) and the
//! side-by-side comparison of listing and certificate ([`compare`]). The
//! data these rules judge (roles, decisions, the audit log's hash chain) is
//! in [`crate::domain`]; the web workspace on top of all this is
//! [`crate::web`].

pub mod auth;
pub mod compare;
pub mod decision;
pub mod queue;
