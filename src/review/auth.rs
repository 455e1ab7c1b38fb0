//! Review stage: who may do what. The roles' permissions, password
//! hashing (argon2id), and the random tokens behind sessions, CSRF and the
//! API.

use crate::domain::Role;
use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// Something a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read the queue, listings, evidence and the dashboard.
    View,
    /// Decide a pending finding (or one waiting for information).
    Decide,
    /// Change a decision someone already made.
    Revise,
    /// Read the audit log.
    ViewAudit,
    /// Add, change and disable users.
    ManageUsers,
    /// Issue a notice batch to a platform.
    IssueNotices,
    /// Record a platform's reply to a notice.
    RecordReplies,
    /// Start a scheduled scan job now.
    RunScans,
}

// A role is data (in `crate::domain`); what each role may do is this
// stage's rule, kept here beside the permissions.
impl Role {
    /// The permission table. An administrator runs the system (users,
    /// settings, audit log) but does not decide findings: separation of
    /// duties, as in the bureau's own procedures.
    pub fn can(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => matches!(p, View | ViewAudit | ManageUsers | RunScans),
            Role::Supervisor => matches!(
                p,
                View | Decide | Revise | ViewAudit | IssueNotices | RecordReplies | RunScans
            ),
            Role::Reviewer => matches!(p, View | Decide | RecordReplies),
            Role::Viewer => matches!(p, View),
        }
    }
}

/// Why a password or user name is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("the password must have at least {min} characters")]
    PasswordTooShort { min: usize },
    #[error("the password must not be the user name")]
    PasswordIsUsername,
    #[error(
        "user names are 2–32 letters, digits, `.`, `_` or `-` (Chinese characters allowed), got `{0}`"
    )]
    BadUsername(String),
    #[error("hashing the password failed: {0}")]
    Hash(String),
}

pub const MIN_PASSWORD_LEN: usize = 10;

pub fn check_username(name: &str) -> Result<(), CredentialError> {
    let n = name.chars().count();
    let ok = (2..=32).contains(&n)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(CredentialError::BadUsername(name.to_string()))
    }
}

pub fn check_password(username: &str, password: &str) -> Result<(), CredentialError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(CredentialError::PasswordTooShort {
            min: MIN_PASSWORD_LEN,
        });
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(CredentialError::PasswordIsUsername);
    }
    Ok(())
}

/// An argon2id PHC string (default parameters: 19 MiB, 2 passes). Takes
/// tens of milliseconds: call it off the async runtime.
pub fn hash_password(password: &str) -> Result<String, CredentialError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CredentialError::Hash(e.to_string()))
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that a wrong
/// user name takes as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("cccwatch-no-such-user").unwrap_or_default())
}

/// 32 random bytes from the operating system's generator, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What is stored for a token: its SHA-256, hex-encoded.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// How long an account is locked after `failures` failed logins in a row:
/// nothing for the first four, then 1 minute, doubling up to 30 minutes.
pub fn lockout_secs(failures: i64) -> i64 {
    if failures < 5 {
        0
    } else {
        (60i64 << (failures - 5).min(5)).min(1800)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_table() {
        use Permission::*;
        assert!(Role::Supervisor.can(Revise));
        assert!(!Role::Reviewer.can(Revise));
        assert!(Role::Reviewer.can(Decide));
        assert!(!Role::Viewer.can(Decide));
        assert!(!Role::Admin.can(Decide));
        assert!(Role::Admin.can(ManageUsers));
        assert!(!Role::Supervisor.can(ManageUsers));
        for r in Role::ALL {
            assert!(r.can(View));
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn credential_rules() {
        assert!(check_username("wang.li").is_ok());
        assert!(check_username("王丽").is_ok());
        assert!(check_username("a").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username("<script>").is_err());
        assert_eq!(
            check_password("u", "short"),
            Err(CredentialError::PasswordTooShort { min: 10 })
        );
        assert_eq!(
            check_password("administrator", "Administrator"),
            Err(CredentialError::PasswordIsUsername)
        );
    }

    #[test]
    fn tokens_and_lockout() {
        let t = random_token();
        assert_eq!(t.len(), 64);
        assert_ne!(t, random_token());
        assert_eq!(token_hash("abc").len(), 64);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
        assert_eq!(lockout_secs(4), 0);
        assert_eq!(lockout_secs(5), 60);
        assert_eq!(lockout_secs(6), 120);
        assert_eq!(lockout_secs(40), 1800);
    }
}
