//! Configuration: defaults, then `config/cccwatch.toml` (or `--config`),
//! then `config/local.toml`, then `CCCWATCH__SECTION__KEY` environment
//! variables, then command-line flags. Validated once at start; errors name
//! the key.

use crate::db_url::DbUrl;
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
    pub crawl: CrawlSettings,
    pub web: WebSettings,
    pub notices: NoticeSettings,
    pub platforms: PlatformSettings,
    pub schedule: ScheduleSettings,
    pub retention: RetentionSettings,
    pub cluster: ClusterSettings,
}

pub use crate::jobs::{JobSettings, ScheduleSettings};

/// The generic bureau name the settings start with; `cccwatch init` and
/// `config check` ask for the bureau's own.
pub const DEFAULT_BUREAU: &str = "市场监督管理局";

/// The contact line the settings start with: a request to fill it in, which
/// must never reach a platform in a letter.
pub const CONTACT_PLACEHOLDER: &str = "（请在配置文件 notices.contact 中填写科室、联系人和电话）";

/// Days after which the latest certificate import counts as stale when
/// `certdb.stale_days` is not set.
pub const DEFAULT_STALE_DAYS: i64 = 30;

/// How platforms are named for people (`[platforms]`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformSettings {
    /// Names shown to users, overriding the `label` of the platform file,
    /// e.g. jd = "京东".
    pub labels: std::collections::BTreeMap<String, String>,
}

/// How processes sharing one database divide the crawl (`cccwatch worker`,
/// docs/SCALING.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSettings {
    /// A process, its host leases and the frontier entries it holds are
    /// taken over when it has not renewed them for this long.
    pub lease_secs: u64,
    /// How often a process renews its heartbeat and leases.
    pub renew_secs: u64,
    /// How often an idle worker looks for work, in milliseconds.
    pub poll_ms: u64,
    /// Gap between one host lease holder's last request and the next
    /// holder's first, in milliseconds: the host's rate holds across a hand-over.
    pub handover_ms: u64,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            lease_secs: 30,
            renew_secs: 5,
            poll_ms: 1000,
            handover_ms: 1000,
        }
    }
}

impl ClusterSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.renew_secs == 0 || self.renew_secs * 3 > self.lease_secs {
            return Err(ConfigError::Invalid {
                key: "cluster.renew_secs",
                message: "must be at least 1 and at most a third of cluster.lease_secs".into(),
            });
        }
        if !(50..=60_000).contains(&self.poll_ms) {
            return Err(ConfigError::Invalid {
                key: "cluster.poll_ms",
                message: "must be between 50 and 60000".into(),
            });
        }
        if self.handover_ms > 60_000 {
            return Err(ConfigError::Invalid {
                key: "cluster.handover_ms",
                message: "must be at most 60000".into(),
            });
        }
        Ok(())
    }
}

/// How long raw pages, per-scan listing records and finished frontiers are
/// kept (`cccwatch prune`, and the nightly run). 0 days keeps them forever.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Bodies of raw pages older than this are dropped, except evidence still needed.
    pub pages_days: i64,
    /// Listings recorded per scan (for comparing scans) older than this are deleted.
    pub scan_history_days: i64,
    /// Frontier entries of scans that completed or failed longer ago than this are deleted.
    pub frontier_days: i64,
    /// Rows changed per transaction.
    pub batch_size: i64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            pages_days: 1095,
            scan_history_days: 1095,
            frontier_days: 30,
            batch_size: 500,
        }
    }
}

impl RetentionSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &'static str, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.into(),
            })
        };
        let days = [
            ("retention.pages_days", self.pages_days),
            ("retention.scan_history_days", self.scan_history_days),
            ("retention.frontier_days", self.frontier_days),
        ];
        for (key, d) in days {
            if !(0..=36_500).contains(&d) {
                return bad(key, "must be between 0 (keep forever) and 36500 days");
            }
        }
        if !(1..=100_000).contains(&self.batch_size) {
            return bad("retention.batch_size", "must be between 1 and 100000");
        }
        Ok(())
    }
}

/// Takedown notices (`cccwatch notices issue`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NoticeSettings {
    /// The issuing authority, as printed at the head of the letter.
    pub issuer: String,
    /// The register's number: `{prefix}`, `{year}` and `{seq}` are filled in.
    pub number_format: String,
    pub number_prefix: String,
    /// Days the platform has to act and reply.
    pub deadline_days: i64,
    /// Contact line of the letter.
    pub contact: String,
    /// Printed under the signature where the seal goes.
    pub seal_text: String,
    /// Folder with `letter.html` (a minijinja template); the built-in letter
    /// is used when it has none.
    pub templates_dir: PathBuf,
    /// Where batch folders are written.
    pub out_dir: PathBuf,
    /// Platform names as the letter addresses them, e.g. jd = "北京京东叁佰陆拾度电子商务有限公司".
    pub platform_names: std::collections::BTreeMap<String, String>,
    /// Browser that prints the letter to PDF (headless Chromium); empty
    /// turns PDF off. A missing browser leaves the HTML letter only.
    pub pdf_browser: String,
}

impl Default for NoticeSettings {
    fn default() -> Self {
        NoticeSettings {
            issuer: DEFAULT_BUREAU.into(),
            number_format: "{prefix}CCC〔{year}〕{seq}号".into(),
            number_prefix: "市监".into(),
            deadline_days: 10,
            contact: CONTACT_PLACEHOLDER.into(),
            seal_text: "（盖章）".into(),
            templates_dir: PathBuf::from("config/notices"),
            out_dir: PathBuf::from("notices"),
            platform_names: Default::default(),
            pdf_browser: "chromium".into(),
        }
    }
}

impl NoticeSettings {
    /// How letters address `platform` (`notices.platform_names`), when set.
    pub fn addressee(&self, platform: &str) -> Option<&str> {
        self.platform_names
            .get(platform)
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &'static str, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.into(),
            })
        };
        if !self.number_format.contains("{seq}") {
            return bad(
                "notices.number_format",
                "must contain {seq}, the batch's sequence number",
            );
        }
        if !(1..=180).contains(&self.deadline_days) {
            return bad("notices.deadline_days", "must be between 1 and 180");
        }
        if self.issuer.trim().is_empty() {
            return bad("notices.issuer", "must name the issuing authority");
        }
        Ok(())
    }
}

/// The review workspace (`cccwatch serve`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WebSettings {
    /// Address and port to listen on.
    pub bind: String,
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: i64,
    /// And after this many hours in any case.
    pub session_max_hours: i64,
    /// Mark cookies `Secure` (only sent over HTTPS): set when a reverse proxy
    /// terminates TLS in front of cccwatch.
    pub secure_cookies: bool,
    /// Login attempts per minute from one address before it must wait.
    pub login_attempts_per_minute: u32,
    /// Name of the bureau, shown in the page header.
    pub bureau_name: String,
    /// The risk feed's window when a caller gives no `since` and has had no
    /// delivery yet (days back; also `cccwatch feed write`).
    pub feed_first_days: i64,
    /// On SIGTERM/Ctrl-C, seconds requests in progress may take to finish
    /// before their connections are dropped.
    pub shutdown_timeout_secs: u64,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            bind: "127.0.0.1:8080".into(),
            session_idle_minutes: 30,
            session_max_hours: 12,
            secure_cookies: false,
            login_attempts_per_minute: 10,
            bureau_name: DEFAULT_BUREAU.into(),
            feed_first_days: 30,
            shutdown_timeout_secs: 30,
        }
    }
}

impl WebSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &'static str, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.into(),
            })
        };
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            return bad(
                "web.bind",
                "must be an address and port such as 127.0.0.1:8080",
            );
        }
        if !(1..=24 * 60).contains(&self.session_idle_minutes) {
            return bad("web.session_idle_minutes", "must be between 1 and 1440");
        }
        if !(1..=3650).contains(&self.feed_first_days) {
            return bad("web.feed_first_days", "must be between 1 and 3650");
        }
        if !(1..=24 * 30).contains(&self.session_max_hours) {
            return bad("web.session_max_hours", "must be between 1 and 720");
        }
        if !(1..=1000).contains(&self.login_attempts_per_minute) {
            return bad(
                "web.login_attempts_per_minute",
                "must be between 1 and 1000",
            );
        }
        if self.shutdown_timeout_secs > 3600 {
            return bad("web.shutdown_timeout_secs", "must be between 0 and 3600");
        }
        if self.bureau_name.trim().is_empty() || self.bureau_name.chars().count() > 60 {
            return bad("web.bureau_name", "must be 1 to 60 characters");
        }
        Ok(())
    }
}

/// Crawler settings common to all platforms (each platform's own rate and
/// selectors are in `config/platforms/NAME.toml`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CrawlSettings {
    /// Folder of platform adapter files.
    pub platforms_dir: PathBuf,
    /// The User-Agent sent with every request; robots.txt rules for its first word apply.
    pub user_agent: String,
    /// Requests in flight at once over all platforms.
    pub global_concurrency: usize,
    pub connect_timeout_secs: f64,
    /// Whole request including the body.
    pub timeout_secs: f64,
    /// Larger responses are refused.
    pub max_body_bytes: usize,
    pub max_redirects: usize,
    /// Attempts per page before it is recorded as failed.
    pub max_attempts: u32,
    /// Share of pages that may fail for good before a scan counts as failed
    /// rather than completed with errors.
    pub max_failed_share: f64,
    /// First retry delay; doubled per attempt, with jitter.
    pub retry_min_secs: f64,
    pub retry_max_secs: f64,
    /// How long a robots.txt that could not be read (5xx, no answer) holds
    /// back the host's pages before it is asked for again.
    pub robots_retry_secs: f64,
}

impl Default for CrawlSettings {
    fn default() -> Self {
        CrawlSettings {
            platforms_dir: PathBuf::from("config/platforms"),
            user_agent: format!(
                "cccwatch/{} (market regulation audit)",
                env!("CARGO_PKG_VERSION")
            ),
            global_concurrency: 64,
            connect_timeout_secs: 10.0,
            timeout_secs: 30.0,
            max_body_bytes: 8 << 20,
            max_redirects: 5,
            max_attempts: 4,
            max_failed_share: 0.2,
            retry_min_secs: 1.0,
            retry_max_secs: 300.0,
            robots_retry_secs: 10.0,
        }
    }
}

impl CrawlSettings {
    /// The fetcher's settings.
    pub fn fetch_settings(&self) -> crate::crawl::fetch::FetchSettings {
        use std::time::Duration;
        crate::crawl::fetch::FetchSettings {
            user_agent: self.user_agent.clone(),
            connect_timeout: Duration::from_secs_f64(self.connect_timeout_secs),
            timeout: Duration::from_secs_f64(self.timeout_secs),
            max_body_bytes: self.max_body_bytes,
            max_redirects: self.max_redirects,
            retry_min: Duration::from_secs_f64(self.retry_min_secs),
            retry_max: Duration::from_secs_f64(self.retry_max_secs),
            robots_retry: Duration::from_secs_f64(self.robots_retry_secs),
            global_concurrency: self.global_concurrency,
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &'static str, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.into(),
            })
        };
        if self.user_agent.trim().is_empty() || !self.user_agent.is_ascii() {
            return bad("crawl.user_agent", "must be non-empty ASCII");
        }
        if !(1..=4096).contains(&self.global_concurrency) {
            return bad("crawl.global_concurrency", "must be between 1 and 4096");
        }
        for (key, v) in [
            ("crawl.connect_timeout_secs", self.connect_timeout_secs),
            ("crawl.timeout_secs", self.timeout_secs),
            ("crawl.retry_min_secs", self.retry_min_secs),
            ("crawl.retry_max_secs", self.retry_max_secs),
            ("crawl.robots_retry_secs", self.robots_retry_secs),
        ] {
            if !(v > 0.0 && v <= 86_400.0) {
                return bad(key, "must be a number of seconds between 0 and 86400");
            }
        }
        if self.retry_max_secs < self.retry_min_secs {
            return bad(
                "crawl.retry_max_secs",
                "must not be below crawl.retry_min_secs",
            );
        }
        if self.max_body_bytes < 1024 {
            return bad("crawl.max_body_bytes", "must be at least 1024");
        }
        if self.max_redirects > 20 {
            return bad("crawl.max_redirects", "must be at most 20");
        }
        if !(1..=50).contains(&self.max_attempts) {
            return bad("crawl.max_attempts", "must be between 1 and 50");
        }
        if !(0.0..=1.0).contains(&self.max_failed_share) {
            return bad("crawl.max_failed_share", "must be between 0 and 1");
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` (created on first use). A secret: prints redacted.
    pub url: DbUrl,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CertdbSettings {
    /// Catalog file (TOML, or the older CSV layout); empty means the built-in `certdb/catalog.toml`.
    pub catalog: Option<PathBuf>,
    /// Days ahead that `certdb stats` counts as "expiring soon".
    pub expiring_days: Option<i64>,
    /// `config check` warns when the latest certificate import is older
    /// than this many days (default [`DEFAULT_STALE_DAYS`]).
    pub stale_days: Option<i64>,
}

impl CertdbSettings {
    /// Days after which the certificate database counts as stale.
    pub fn stale_days(&self) -> i64 {
        self.stale_days.unwrap_or(DEFAULT_STALE_DAYS)
    }

    /// The catalog `certdb.catalog` names, or the built-in one.
    pub fn load_catalog(
        &self,
    ) -> Result<crate::certdb::Catalog, crate::certdb::catalog::CatalogError> {
        match self
            .catalog
            .as_deref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            Some(p) => crate::certdb::Catalog::from_path(p),
            None => Ok(crate::certdb::Catalog::embedded()),
        }
    }
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
            url: DbUrl::from("sqlite://cccwatch.db"),
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
    #[error("invalid configuration: {0}")]
    Schedule(#[from] crate::jobs::JobError),
}

/// Where settings are read from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// An explicit file (`--config`); its absence is an error.
    pub file: Option<PathBuf>,
    /// `--db`, the highest layer for `database.url`.
    pub database_url: Option<DbUrl>,
}

impl Settings {
    pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
        let settings: Settings = Self::figment(sources)?
            .extract()
            .map_err(|e| ConfigError::Parse(describe(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    /// The layers merged, before extraction: defaults, the file, `local.toml`,
    /// the environment, flags. Each value keeps its origin (for
    /// `cccwatch config check|show`).
    pub fn figment(sources: &Sources) -> Result<Figment, ConfigError> {
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
        let local = Self::local_file(sources);
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
        Ok(fig)
    }

    /// The files [`Settings::figment`] reads, in layer order (existing ones).
    pub fn files(sources: &Sources) -> Vec<PathBuf> {
        let main = sources
            .file
            .clone()
            .unwrap_or_else(|| PathBuf::from("config/cccwatch.toml"));
        [main, Self::local_file(sources)]
            .into_iter()
            .filter(|p| p.exists())
            .collect()
    }

    /// This machine's layer: `local.toml` beside the main file
    /// (`config/local.toml` by default), written by `cccwatch init`.
    pub fn local_file(sources: &Sources) -> PathBuf {
        sources
            .file
            .as_deref()
            .and_then(Path::parent)
            .unwrap_or(Path::new("config"))
            .join("local.toml")
    }

    /// Every platform's name for people: the platform files' labels, then
    /// `platforms.labels`.
    pub fn platform_labels(&self) -> crate::extract::PlatformLabels {
        crate::extract::PlatformLabels::load(&self.crawl.platforms_dir, &self.platforms.labels)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.schedule.lock_renew_secs == 0
            || self.schedule.lock_renew_secs * 2 > self.schedule.lock_stale_secs
        {
            return Err(ConfigError::Invalid {
                key: "schedule.lock_renew_secs",
                message: "must be at least 1 and at most half of schedule.lock_stale_secs".into(),
            });
        }
        crate::jobs::parse_jobs(&self.schedule)?;
        let url = &self.database.url;
        if url.expose().trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "database.url",
                message: "is empty".into(),
            });
        }
        if !url.is_sqlite() && !url.is_postgres() {
            return Err(ConfigError::Invalid {
                key: "database.url",
                message: format!(
                    "`{url}` is not supported: use sqlite://PATH or postgres://USER@HOST/DATABASE"
                ),
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
        if let Some(d) = self.certdb.stale_days
            && !(1..=3650).contains(&d)
        {
            return Err(ConfigError::Invalid {
                key: "certdb.stale_days",
                message: "must be between 1 and 3650".into(),
            });
        }
        self.crawl.validate()?;
        self.web.validate()?;
        self.notices.validate()?;
        self.retention.validate()?;
        self.cluster.validate()
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
    fn the_catalog_comes_from_the_setting_or_is_built_in() {
        let built_in = CertdbSettings::default().load_catalog().unwrap();
        assert!(!built_in.entries().is_empty());
        let missing = CertdbSettings {
            catalog: Some(PathBuf::from("/nonexistent/catalog.csv")),
            ..CertdbSettings::default()
        };
        assert!(missing.load_catalog().is_err());
    }

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
        // Both backends are accepted.
        for url in [
            "postgres://u:p@db/cccwatch",
            "postgresql://db/c",
            "sqlite://c.db",
        ] {
            let mut s = Settings::default();
            s.database.url = url.into();
            s.validate().unwrap();
        }
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

    #[test]
    fn retention_limits_are_checked() {
        let mut s = Settings::default();
        s.retention.pages_days = -1;
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("retention.pages_days"), "{err}");
        s.retention.pages_days = 0;
        s.retention.batch_size = 0;
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("retention.batch_size"), "{err}");
    }
}
