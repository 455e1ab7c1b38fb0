//! The database URL, a secret: a PostgreSQL URL carries a password, and
//! query parameters may carry more (`?password=`, `?sslpassword=`).
//! [`DbUrl`] keeps the whole URL for connecting ([`DbUrl::expose`]); its
//! `Display` and `Debug` show it redacted, so a message, a log line or an
//! error never prints it whole: `postgres://user:***@host/db`. A SQLite
//! URL names a file, and its path stays visible.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What replaces a secret.
const MASK: &str = "***";

/// A database URL that prints redacted. Serialises whole (settings files
/// need it); `config show` redacts what it prints.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DbUrl(String);

impl DbUrl {
    pub fn new(url: impl Into<String>) -> DbUrl {
        DbUrl(url.into())
    }

    /// The whole URL, password included: for connecting, never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `sqlite:PATH` or `sqlite://PATH`.
    pub fn is_sqlite(&self) -> bool {
        is_sqlite(&self.0)
    }

    /// A `postgres://` (or `postgresql://`) URL.
    pub fn is_postgres(&self) -> bool {
        let u = self.0.trim_start();
        u.starts_with("postgres://") || u.starts_with("postgresql://")
    }

    /// The URL with its secrets replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl From<String> for DbUrl {
    fn from(url: String) -> DbUrl {
        DbUrl(url)
    }
}

impl From<&str> for DbUrl {
    fn from(url: &str) -> DbUrl {
        DbUrl(url.to_string())
    }
}

impl std::str::FromStr for DbUrl {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<DbUrl, Self::Err> {
        Ok(DbUrl::from(s))
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DbUrl").field(&self.redacted()).finish()
    }
}

/// `url` with the password of its user part and the values of secret-looking
/// query parameters replaced by `***`. When in doubt it hides more: a
/// password holding an unescaped `@`, `/` or `?` is hidden whole, up to the
/// last `@`. Text that is no URL (a libpq `key=value` string) has its
/// secret-looking values replaced.
pub fn redact(url: &str) -> String {
    if is_sqlite(url) {
        return mask_after_query(url);
    }
    let Some(scheme_end) = url.find("://") else {
        return mask_pairs(url, ' ');
    };
    let (scheme, rest) = url.split_at(scheme_end + "://".len());
    match password_span(rest) {
        Some((colon, at)) => format!(
            "{scheme}{}:{MASK}@{}",
            &rest[..colon],
            mask_after_query(&rest[at + 1..])
        ),
        None => format!("{scheme}{}", mask_after_query(rest)),
    }
}

fn is_sqlite(url: &str) -> bool {
    url.trim_start().starts_with("sqlite:")
}

/// Where the password of `user:password@host...` starts (the `:`) and ends
/// (the last `@`), when the user name before the `:` is plain.
fn password_span(rest: &str) -> Option<(usize, usize)> {
    let colon = rest.find(':')?;
    if rest[..colon].contains(['/', '?', '#', '@']) {
        return None;
    }
    let at = rest.rfind('@').filter(|&at| at > colon)?;
    Some((colon, at))
}

/// The text up to `?` as it is, then the query masked (a `#fragment` kept).
fn mask_after_query(text: &str) -> String {
    let Some((base, query)) = text.split_once('?') else {
        return text.to_string();
    };
    match query.split_once('#') {
        Some((q, fragment)) => format!("{base}?{}#{fragment}", mask_pairs(q, '&')),
        None => format!("{base}?{}", mask_pairs(query, '&')),
    }
}

/// `key=value` pairs separated by `sep`, secret-looking values masked.
fn mask_pairs(text: &str, sep: char) -> String {
    text.split(sep)
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if looks_secret(key) => format!("{key}={MASK}"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join(&sep.to_string())
}

/// A parameter name that says it holds a secret: it contains `password`,
/// `secret`, `token` ..., or one of its words is `key`, `pwd`, `auth` ...
/// (`api_key` is secret, `keyword` is not).
pub fn looks_secret(key: &str) -> bool {
    let k = key.trim().to_ascii_lowercase();
    let words = ["key", "apikey", "pwd", "pass", "auth"];
    ["password", "passwd", "secret", "token", "credential"]
        .iter()
        .any(|w| k.contains(w))
        || k.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| words.contains(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(url: &str) -> String {
        DbUrl::from(url).to_string()
    }

    #[test]
    fn the_password_of_a_user_is_hidden() {
        assert_eq!(
            shown("postgres://audit:s3cret@db.example:5432/cccwatch"),
            "postgres://audit:***@db.example:5432/cccwatch"
        );
        // An unescaped `@`, `/` or `?` in the password hides with it.
        for url in [
            "postgres://audit:p@ss/w@db.example/cccwatch",
            "postgres://audit:p?ss#w@db.example/cccwatch",
        ] {
            assert_eq!(shown(url), "postgres://audit:***@db.example/cccwatch");
        }
    }

    #[test]
    fn a_url_without_a_password_is_shown_whole() {
        for url in [
            "postgres://audit@db.example/cccwatch",
            "postgres://db.example/cccwatch",
            "postgresql:///cccwatch?host=/run/postgresql",
        ] {
            assert_eq!(shown(url), url);
        }
    }

    #[test]
    fn a_sqlite_path_stays_visible() {
        for url in [
            "sqlite://cccwatch.db",
            "sqlite:///var/lib/cccwatch/c.db?mode=rwc",
            "sqlite:data/cccwatch.db",
            "sqlite://./dir:with@odd/chars.db",
            "sqlite::memory:",
        ] {
            assert_eq!(shown(url), url);
        }
    }

    #[test]
    fn secret_query_parameters_are_hidden() {
        assert_eq!(
            shown("postgres://audit@db.example/cccwatch?sslmode=require&password=s3cret"),
            "postgres://audit@db.example/cccwatch?sslmode=require&password=***"
        );
        assert_eq!(
            shown("postgres://u:p@h/db?sslpassword=x&application_name=cccwatch&auth_token=y#f"),
            "postgres://u:***@h/db?sslpassword=***&application_name=cccwatch&auth_token=***#f"
        );
        assert_eq!(
            shown("postgres://h/db?api_key=x&keyword=a&pwd=y"),
            "postgres://h/db?api_key=***&keyword=a&pwd=***"
        );
    }

    #[test]
    fn a_key_value_string_hides_its_password() {
        assert_eq!(
            shown("host=db.example user=audit password=s3cret dbname=cccwatch"),
            "host=db.example user=audit password=*** dbname=cccwatch"
        );
    }

    #[test]
    fn debug_is_redacted_and_expose_is_whole() {
        let url = DbUrl::from("postgres://audit:s3cret@db.example/cccwatch");
        assert!(!format!("{url:?}").contains("s3cret"), "{url:?}");
        assert!(format!("{url:?}").starts_with("DbUrl("));
        assert_eq!(url.expose(), "postgres://audit:s3cret@db.example/cccwatch");
        assert!(!url.is_sqlite());
        assert!(DbUrl::from("sqlite://x.db").is_sqlite());
    }

    #[test]
    fn it_serialises_whole() {
        let url = DbUrl::from("postgres://audit:s3cret@db.example/cccwatch");
        let json = serde_json::to_string(&url).unwrap();
        assert_eq!(json, "\"postgres://audit:s3cret@db.example/cccwatch\"");
        assert_eq!(serde_json::from_str::<DbUrl>(&json).unwrap(), url);
    }
}
