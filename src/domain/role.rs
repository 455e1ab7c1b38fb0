//! A user's role in the review workspace. In: the word stored for a user,
//! or typed on the command line; out: the role, its word and its Chinese
//! label. What each role may do is the review stage's rule: [`Role::can`],
//! with the permissions, is in `review::auth`. The store keeps roles; it
//! does not judge them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A user's role. What each role may do is [`Role::can`] (the review
/// stage's permission table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Supervisor,
    Reviewer,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Supervisor, Role::Reviewer, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Reviewer => "reviewer",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::Supervisor => "审核负责人",
            Role::Reviewer => "审核员",
            Role::Viewer => "只读用户",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
