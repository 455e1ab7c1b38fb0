//! `cccwatch config show`: the effective settings as TOML, secrets hidden,
//! optionally with the layer that set each value.

use super::{Problem, origin, origin_of_error, problem};
use crate::config::{Settings, Sources};

/// The effective settings as TOML, secrets hidden; with `origins`, a
/// comment after each value names the layer that set it. `Err` lists what
/// keeps the settings from being read.
pub fn show(sources: &Sources, origins: bool) -> Result<String, Vec<Problem>> {
    let fig = Settings::figment(sources)
        .map_err(|e| vec![problem("(configuration)", "-", e.to_string())])?;
    let settings: Settings = fig.extract().map_err(|errors| {
        errors
            .into_iter()
            .map(|e| problem(origin_of_error(&e), e.path.join("."), e.kind.to_string()))
            .collect::<Vec<_>>()
    })?;
    let mut value = toml::Value::try_from(&settings)
        .map_err(|e| vec![problem("(configuration)", "-", e.to_string())])?;
    redact(&mut value);
    let toml::Value::Table(table) = value else {
        return Err(vec![problem("(configuration)", "-", "not a table")]);
    };
    let origin = |key: &str| origins.then(|| origin(&fig, sources, key));
    let mut out = String::new();
    render_table(&mut out, "", &table, &origin);
    Ok(out)
}

/// Hides secrets: values of keys that name a password, secret or token,
/// and passwords inside URLs (`postgres://user:***@host/db`).
pub fn redact(value: &mut toml::Value) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t.iter_mut() {
                if is_secret_key(k) && !v.is_table() {
                    *v = toml::Value::String("***".into());
                } else {
                    redact(v);
                }
            }
        }
        toml::Value::Array(a) => a.iter_mut().for_each(redact),
        toml::Value::String(s) => {
            if let Some(masked) = mask_url_password(s) {
                *s = masked;
            }
        }
        _ => {}
    }
}

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "private_key",
    ]
    .iter()
    .any(|w| k.contains(w))
}

/// The URL with its password and secret query parameters replaced by
/// `***`, when it has any ([`crate::db_url::redact`]).
pub fn mask_url_password(s: &str) -> Option<String> {
    url::Url::parse(s).ok()?;
    let masked = crate::db_url::redact(s);
    (masked != s).then_some(masked)
}

fn render_table(
    out: &mut String,
    prefix: &str,
    table: &toml::Table,
    origin: &dyn Fn(&str) -> Option<String>,
) {
    use std::fmt::Write as _;
    for (k, v) in table.iter().filter(|(_, v)| !v.is_table()) {
        let key = join_key(prefix, k);
        let _ = write!(out, "{} = {}", bare_or_quoted(k), inline(v));
        if let Some(o) = origin(&key) {
            let _ = write!(out, "  # {o}");
        }
        out.push('\n');
    }
    for (k, v) in table.iter() {
        if let toml::Value::Table(t) = v {
            let key = join_key(prefix, k);
            let header: Vec<String> = key.split('.').map(bare_or_quoted).collect();
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "[{}]", header.join("."));
            render_table(out, &key, t, origin);
        }
    }
}

pub(super) fn join_key(prefix: &str, k: &str) -> String {
    if prefix.is_empty() {
        k.to_string()
    } else {
        format!("{prefix}.{k}")
    }
}

/// A TOML key, bare when it can be, quoted otherwise.
pub(crate) fn bare_or_quoted(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        quote(k)
    }
}

/// A TOML basic string (JSON's escapes are valid TOML escapes).
pub(crate) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// A TOML value written inline (`[..]`, `{ .. }`).
pub(crate) fn inline(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => quote(s),
        toml::Value::Array(a) => {
            format!("[{}]", a.iter().map(inline).collect::<Vec<_>>().join(", "))
        }
        toml::Value::Table(t) => format!(
            "{{ {} }}",
            t.iter()
                .map(|(k, v)| format!("{} = {}", bare_or_quoted(k), inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}
