//! Configuration: defaults, then `config/cccwatch.toml` (or `--config`),
//! then `config/local.toml`, then `CCCWATCH__SECTION__KEY` environment
//! variables, then command-line flags. Validated once at start; errors name
//! the key.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
#[derive(Default)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub certdb: CertdbSettings,
    pub matching: MatchingSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` (created on first use).
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CertdbSettings {
    /// Catalog CSV; empty means the built-in `certdb/catalog.csv`.
    pub catalog: Option<PathBuf>,
    /// Days ahead that `certdb stats` counts as "expiring soon".
    pub expiring_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MatchingSettings {
    /// Listings per batch read, matched in parallel and written together.
    pub batch_size: usize,
    /// Worker threads for matching (0 = one per core).
    pub threads: usize,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: "sqlite://cccwatch.db".into(),
        }
    }
}

impl Default for MatchingSettings {
    fn default() -> Self {
        MatchingSettings {
            batch_size: 5000,
            threads: 0,
        }
    }
}

/// A configuration problem: the file or source, the key, what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    Missing(PathBuf),
    #[error("invalid configuration: {0}")]
    Parse(String),
    #[error("invalid configuration: key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

/// Where settings are read from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// An explicit file (`--config`); its absence is an error.
    pub file: Option<PathBuf>,
    /// `--db`, the highest layer for `database.url`.
    pub database_url: Option<String>,
}

impl Settings {
    pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        match &sources.file {
            Some(f) if !f.exists() => return Err(ConfigError::Missing(f.clone())),
            Some(f) => fig = fig.merge(Toml::file(f)),
            None => {
                let main = Path::new("config/cccwatch.toml");
                if main.exists() {
                    fig = fig.merge(Toml::file(main));
                }
            }
        }
        let local = sources
            .file
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new("config"))
            .join("local.toml");
        if local.exists() {
            fig = fig.merge(Toml::file(local));
        }
        fig = fig.merge(
            Env::prefixed("CCCWATCH__")
                .split("__")
                .map(|k| k.as_str().to_lowercase().into()),
        );
        if let Some(url) = &sources.database_url {
            fig = fig.merge(Serialized::default("database.url", url));
        }
        let settings: Settings = fig.extract().map_err(|e| ConfigError::Parse(describe(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database.url.trim();
        if url.is_empty() {
            return Err(ConfigError::Invalid {
                key: "database.url",
                message: "is empty".into(),
            });
        }
        if !url.starts_with("sqlite:") {
            return Err(ConfigError::Invalid {
                key: "database.url",
                message: format!("`{url}` is not supported: use sqlite://PATH"),
            });
        }
        if self.matching.batch_size == 0 || self.matching.batch_size > 1_000_000 {
            return Err(ConfigError::Invalid {
                key: "matching.batch_size",
                message: "must be between 1 and 1000000".into(),
            });
        }
        if let Some(c) = &self.certdb.catalog
            && !c.as_os_str().is_empty()
            && !c.exists()
        {
            return Err(ConfigError::Invalid {
                key: "certdb.catalog",
                message: format!("file {} does not exist", c.display()),
            });
        }
        if let Some(d) = self.certdb.expiring_days
            && !(1..=3650).contains(&d)
        {
            return Err(ConfigError::Invalid {
                key: "certdb.expiring_days",
                message: "must be between 1 and 3650".into(),
            });
        }
        Ok(())
    }
}

/// Figment's errors name the key and the source; keep all of them.
fn describe(e: figment::Error) -> String {
    e.into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = e
                .metadata
                .as_ref()
                .map(|m| m.interpolate(&e.profile.clone().unwrap_or_default(), &e.path))
                .unwrap_or_default();
            let mut s = format!("{}", e.kind);
            if !key.is_empty() {
                s = format!("key `{key}`: {s}");
            }
            if let Some(src) = e.metadata.as_ref().and_then(|m| m.source.as_ref()) {
                s.push_str(&format!(" (in {src})"));
            } else if !source.is_empty() {
                s.push_str(&format!(" ({source})"));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        Settings::default().validate().unwrap();
    }

    #[test]
    fn rejects_bad_values_naming_the_key() {
        let mut s = Settings::default();
        s.database.url = "mysql://x".into();
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .contains("database.url")
        );
        let mut s = Settings::default();
        s.matching.batch_size = 0;
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .contains("matching.batch_size")
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[matching]\nbatch_size = \"many\"\n").unwrap();
        let err = Settings::load(&Sources {
            file: Some(f.clone()),
            database_url: None,
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("matching.batch_size"), "{err}");
        std::fs::write(&f, "[database]\nurl = \"sqlite://x.db\"\nsurl = 1\n").unwrap();
        let err = Settings::load(&Sources {
            file: Some(f),
            database_url: None,
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("surl"), "{err}");
    }
}
