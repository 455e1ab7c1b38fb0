//! `cccwatch config check` and `config show`.
//!
//! In: the configuration sources (files, environment, flags). Out: every
//! problem of the merged settings and of the files they point at (platform
//! adapters, the catalog, the notice templates), each as `FILE: KEY:
//! problem`, where FILE is the layer that set the value; or the effective
//! settings as TOML with secrets hidden, optionally with each value's origin.
//!
//! Settings problems are collected one at a time: a value that does not
//! deserialize or validate is reported, removed (so its default applies)
//! and the rest checked again.
//!
//! Warnings ([`warnings`]) name what works but is not ready for real use:
//! placeholder texts, a PDF browser that is not installed, an empty or
//! stale certificate database. They do not fail the check.

use crate::config::{ConfigError, Settings, Sources};
use crate::extract::{Adapter, PlatformConfig};
use figment::Figment;
use figment::providers::Serialized;
use figment::value::{Dict, Value};
use std::fmt;
use std::path::{Path, PathBuf};

pub(crate) mod show;
mod warnings;
pub use show::{mask_url_password, redact, show};

/// One problem: where the value came from, its key, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub file: String,
    pub key: String,
    pub problem: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.key, self.problem)
    }
}

pub(crate) fn problem(
    file: impl Into<String>,
    key: impl Into<String>,
    message: impl Into<String>,
) -> Problem {
    Problem {
        file: file.into(),
        key: key.into(),
        problem: message.into(),
    }
}

/// What `config check` found.
#[derive(Debug, Default, serde::Serialize)]
pub struct CheckReport {
    pub problems: Vec<Problem>,
    /// What works but is not ready for real use (placeholders, a missing
    /// PDF browser, an empty or stale certificate database).
    pub warnings: Vec<Problem>,
    /// Configuration files read, in layer order.
    pub files: Vec<String>,
    /// Platform adapter files that loaded.
    pub platforms: Vec<String>,
    pub catalog: String,
    pub letter: String,
    pub list: String,
    /// Scheduled jobs.
    pub jobs: usize,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The one-line summary of a clean check.
    pub fn summary(&self) -> String {
        let files = if self.files.is_empty() {
            "built-in defaults".to_string()
        } else {
            self.files.join(" + ")
        };
        format!(
            "configuration OK: {files}; {} platform(s) ({}); catalog {}; letter {}; list {}; {} scheduled job(s)",
            self.platforms.len(),
            self.platforms.join(", "),
            self.catalog,
            self.letter,
            self.list,
            self.jobs
        )
    }
}

/// Checks the settings and every file they name; collects all problems,
/// then the warnings. Reads the database when it exists (never creates it).
pub async fn check(sources: &Sources) -> CheckReport {
    let mut report = CheckReport::default();
    let Some((fig, settings)) = settings_checked(sources, &mut report) else {
        return report;
    };
    check_database(&settings, &fig, sources, &mut report.problems);
    check_platforms(&settings, &mut report);
    check_catalog(&settings, &mut report);
    check_templates(&settings, &mut report);
    check_schedule(&settings, &fig, sources, &mut report);
    warnings::placeholders(&settings, &fig, sources, &mut report);
    warnings::pdf_browser(&settings, &fig, sources, &mut report);
    warnings::certificates(&settings, &mut report).await;
    report
}

/// Each scheduled job's platforms exist and have the keyword sets it names.
fn check_schedule(settings: &Settings, fig: &Figment, sources: &Sources, report: &mut CheckReport) {
    let file = origin(fig, sources, "schedule.jobs");
    let dir = &settings.crawl.platforms_dir;
    for (i, job) in settings.schedule.jobs.iter().enumerate() {
        let at = |what: &str| format!("schedule.jobs[{}].{what} ({})", i + 1, job.name);
        let platforms = crate::schedule::job_platforms(job, dir);
        if platforms.is_empty() {
            report.problems.push(problem(
                file.clone(),
                at("platforms"),
                format!("no platform files in {}", dir.display()),
            ));
        }
        for name in &platforms {
            let adapter = match crate::scan::load_platform(dir, name) {
                Ok(a) => a,
                Err(e @ crate::scan::ScanError::NoSuchPlatform { .. }) => {
                    report
                        .problems
                        .push(problem(file.clone(), at("platforms"), e.to_string()));
                    continue;
                }
                // A broken platform file is reported with the platforms.
                Err(_) => continue,
            };
            if let Err(e) = crate::schedule::job_keywords(job, &adapter) {
                report
                    .problems
                    .push(problem(file.clone(), at("groups"), format!("{name}: {e}")));
            }
        }
    }
    report.jobs = settings.schedule.jobs.len();
}

/// Reads and validates the settings, reporting every problem found; the
/// settings with each bad value replaced by its default.
fn settings_checked(sources: &Sources, report: &mut CheckReport) -> Option<(Figment, Settings)> {
    if let Some(f) = &sources.file
        && !f.exists()
    {
        report.problems.push(problem(
            f.display().to_string(),
            "-",
            "the configuration file does not exist",
        ));
        return None;
    }
    for file in Settings::files(sources) {
        report.files.push(file.display().to_string());
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                if let Err(e) = toml::from_str::<toml::Table>(&text) {
                    report.problems.push(toml_problem(&file, &text, &e));
                }
            }
            Err(e) => report.problems.push(problem(
                file.display().to_string(),
                "-",
                format!("cannot read: {e}"),
            )),
        }
    }
    if !report.problems.is_empty() {
        return None;
    }
    let fig = match Settings::figment(sources) {
        Ok(f) => f,
        Err(e) => {
            report
                .problems
                .push(problem("(configuration)", "-", e.to_string()));
            return None;
        }
    };
    let mut data: Dict = match fig.extract() {
        Ok(d) => d,
        Err(e) => {
            for e in e {
                report.problems.push(problem(
                    origin_of_error(&e),
                    e.path.join("."),
                    e.kind.to_string(),
                ));
            }
            return None;
        }
    };
    let origin = |key: &str| origin(&fig, sources, key);
    let mut settings = extract_all(&mut data, &mut report.problems, &origin)?;
    let mut seen = Vec::new();
    loop {
        match settings.validate() {
            Ok(()) => break,
            Err(ConfigError::Invalid { key, message }) => {
                report.problems.push(problem(origin(key), key, message));
                if seen.contains(&key) || !remove(&mut data, key) {
                    break;
                }
                seen.push(key);
                settings = extract_all(&mut data, &mut report.problems, &origin)?;
            }
            Err(ConfigError::Schedule(e)) => {
                let key = match &e {
                    crate::jobs::JobError::TimeZone { key, .. } if key == "schedule.time_zone" => {
                        "schedule.time_zone"
                    }
                    _ => "schedule.jobs",
                };
                report
                    .problems
                    .push(problem(origin(key), key, e.to_string()));
                if seen.contains(&key) || !remove(&mut data, key) {
                    break;
                }
                seen.push(key);
                settings = extract_all(&mut data, &mut report.problems, &origin)?;
            }
            Err(e) => {
                report
                    .problems
                    .push(problem("(configuration)", "-", e.to_string()));
                break;
            }
        }
    }
    Some((fig, settings))
}

/// Extracts settings from `data`, reporting and removing each value that
/// does not fit until the rest does.
fn extract_all(
    data: &mut Dict,
    problems: &mut Vec<Problem>,
    origin: &dyn Fn(&str) -> String,
) -> Option<Settings> {
    for _ in 0..100 {
        let errors = match Figment::from(Serialized::defaults(&*data)).extract::<Settings>() {
            Ok(s) => return Some(s),
            Err(e) => e,
        };
        let mut progressed = false;
        for e in errors {
            let mut path = e.path.clone();
            if let figment::error::Kind::UnknownField(field, _) = &e.kind
                && path.last() != Some(field)
            {
                path.push(field.clone());
            }
            let key = path.join(".");
            let message = match &e.kind {
                figment::error::Kind::UnknownField(field, expected) => {
                    format!(
                        "unknown key `{field}` (expected one of: {})",
                        expected.join(", ")
                    )
                }
                kind => kind.to_string(),
            };
            problems.push(problem(origin(&key), key.clone(), message));
            progressed |= remove(data, &key);
        }
        if !progressed {
            return None;
        }
    }
    None
}

/// Removes `key` (dotted) from `data`; whether it was there.
fn remove(data: &mut Dict, key: &str) -> bool {
    let mut parts: Vec<&str> = key.split('.').collect();
    let Some(last) = parts.pop() else {
        return false;
    };
    let mut table = data;
    for p in parts {
        match table.get_mut(p) {
            Some(Value::Dict(_, d)) => table = d,
            _ => return false,
        }
    }
    table.remove(last).is_some()
}

/// Which layer set `key`: a file, an environment variable, a flag or the default.
pub fn origin(fig: &Figment, sources: &Sources, key: &str) -> String {
    let Some(md) = fig.find_metadata(key) else {
        return "(default)".into();
    };
    if let Some(path) = md.source.as_ref().and_then(|s| s.file_path()) {
        return path.display().to_string();
    }
    if md.name.contains("environment") {
        let var: Vec<String> = key.split('.').map(str::to_ascii_uppercase).collect();
        return format!("environment CCCWATCH__{}", var.join("__"));
    }
    if key == "database.url" && sources.database_url.is_some() && !md.name.contains("Settings") {
        return "--db".into();
    }
    "(default)".into()
}

pub(crate) fn origin_of_error(e: &figment::Error) -> String {
    e.metadata
        .as_ref()
        .map(|m| match m.source.as_ref().and_then(|s| s.file_path()) {
            Some(p) => p.display().to_string(),
            None => m.name.to_string(),
        })
        .unwrap_or_else(|| "(configuration)".into())
}

/// A TOML error as a problem: the file, the key at the error's line (with
/// its table), the message and the line.
pub fn toml_problem(path: &Path, text: &str, e: &toml::de::Error) -> Problem {
    let message = e.message().trim().to_string();
    let Some(span) = e.span() else {
        return problem(path.display().to_string(), "-", message);
    };
    let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
    let key = key_at_line(text, line_no).unwrap_or_else(|| "-".into());
    problem(
        path.display().to_string(),
        key,
        format!("{message} (line {line_no})"),
    )
}

/// The dotted key set on line `line_no` (1-based), or the table it opens.
fn key_at_line(text: &str, line_no: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let header_of = |l: &str| {
        let l = l.trim();
        l.starts_with('[')
            .then(|| l.trim_matches(|c| c == '[' || c == ']').trim().to_string())
    };
    let line = lines.get(line_no.checked_sub(1)?)?;
    if let Some(h) = header_of(line) {
        return Some(h);
    }
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim().trim_matches('"').to_string());
    let table = lines[..line_no - 1].iter().rev().find_map(|l| header_of(l));
    match (table, key) {
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (None, Some(k)) => Some(k),
        (t, None) => t,
    }
}

fn check_database(
    settings: &Settings,
    fig: &Figment,
    sources: &Sources,
    problems: &mut Vec<Problem>,
) {
    use sqlx::sqlite::SqliteConnectOptions;
    use std::str::FromStr;
    if !settings.database.url.is_sqlite() {
        return; // reported by validation
    }
    let url = settings.database.url.expose().trim();
    let file = origin(fig, sources, "database.url");
    match SqliteConnectOptions::from_str(url) {
        Err(e) => problems.push(problem(
            file,
            "database.url",
            format!("`{}` is not a valid SQLite URL: {e}", settings.database.url),
        )),
        Ok(o) => {
            let path = o.get_filename();
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            if url.contains(":memory:") || path.as_os_str().is_empty() {
                return;
            }
            if let Some(d) = dir
                && !d.is_dir()
            {
                problems.push(problem(
                    file,
                    "database.url",
                    format!("the folder {} of the database does not exist", d.display()),
                ));
            }
        }
    }
}

fn check_platforms(settings: &Settings, report: &mut CheckReport) {
    let dir = &settings.crawl.platforms_dir;
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(e) => {
            report.problems.push(problem(
                dir.display().to_string(),
                "crawl.platforms_dir",
                format!("cannot read the folder of platform files: {e}"),
            ));
            return;
        }
    };
    paths.sort();
    for path in paths {
        if let Some(p) = check_platform(&path) {
            report.problems.push(p);
        } else if let Some(stem) = path.file_stem() {
            report.platforms.push(stem.to_string_lossy().into_owned());
        }
    }
}

/// The problem of one platform file, if it has one.
fn check_platform(path: &Path) -> Option<Problem> {
    use crate::extract::config::AdapterError;
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Some(problem(file, "-", format!("cannot read: {e}"))),
    };
    if let Err(e) = toml::from_str::<PlatformConfig>(&text) {
        return Some(toml_problem(path, &text, &e));
    }
    match Adapter::from_file(path) {
        Ok(_) => None,
        Err(AdapterError::Invalid { key, message, .. }) => Some(problem(file, key, message)),
        Err(AdapterError::Parse { message, .. }) => Some(problem(file, "-", message)),
        Err(e) => Some(problem(file, "-", e.to_string())),
    }
}

fn check_catalog(settings: &Settings, report: &mut CheckReport) {
    use crate::certdb::catalog::CatalogError;
    let Some(path) = settings
        .certdb
        .catalog
        .as_deref()
        .filter(|p| !p.as_os_str().is_empty())
    else {
        report.catalog = "built-in".into();
        return;
    };
    report.catalog = path.display().to_string();
    if !path.exists() {
        return; // reported by validation (certdb.catalog)
    }
    let file = path.display().to_string();
    match crate::certdb::Catalog::from_path(path) {
        Ok(c) if c.entries().is_empty() => {
            report
                .problems
                .push(problem(file, "-", "the catalog has no entries"))
        }
        Ok(_) => {}
        Err(CatalogError::Row { line, message }) => {
            report
                .problems
                .push(problem(file, format!("line {line}"), message))
        }
        Err(e @ CatalogError::Header { .. }) => {
            report.problems.push(problem(file, "header", e.to_string()))
        }
        Err(CatalogError::Field { key, message }) => {
            report.problems.push(problem(file, key, message))
        }
        Err(e) => report.problems.push(problem(file, "-", e.to_string())),
    }
}

fn check_templates(settings: &Settings, report: &mut CheckReport) {
    use crate::notice::list::{ListTemplate, ListTemplateError};
    let dir = &settings.notices.templates_dir;
    let letter = dir.join("letter.html");
    match std::fs::read_to_string(&letter) {
        Ok(text) => {
            report.letter = letter.display().to_string();
            let mut env = minijinja::Environment::new();
            if let Err(e) = env.add_template("letter.html", &text) {
                let key = e.line().map_or("-".to_string(), |l| format!("line {l}"));
                let what = e
                    .detail()
                    .map_or_else(|| e.kind().to_string(), str::to_string);
                report.problems.push(problem(
                    letter.display().to_string(),
                    key,
                    format!("the template does not compile: {what}"),
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => report.letter = "built-in".into(),
        Err(e) => report.problems.push(problem(
            letter.display().to_string(),
            "notices.templates_dir",
            format!("cannot read: {e}"),
        )),
    }
    let list = dir.join("list.toml");
    report.list = if list.exists() {
        list.display().to_string()
    } else {
        "built-in".into()
    };
    match ListTemplate::load(dir) {
        Ok(_) => {}
        Err(ListTemplateError::Syntax { path, source }) => {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            report.problems.push(toml_problem(&path, &text, &source));
        }
        Err(ListTemplateError::Invalid { path, key, message }) => {
            report
                .problems
                .push(problem(path.display().to_string(), key, message))
        }
        Err(ListTemplateError::Read { path, source }) => report.problems.push(problem(
            path.display().to_string(),
            "-",
            format!("cannot read: {source}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::show::join_key;
    use super::*;

    /// `config/cccwatch.toml`, with `# key = value` lines (and commented
    /// table headers) taken as set when `uncomment`.
    fn shipped_file(uncomment: bool) -> toml::Table {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/cccwatch.toml");
        let text = std::fs::read_to_string(path).unwrap();
        // `# key = value` and `# [[table]]` headers (the commented job examples).
        let key_line = regex::Regex::new(r"^#\s?([a-z_0-9]+\s*=.*|\[\[?[a-z_.]+\]\]?)$").unwrap();
        let text: String = text
            .lines()
            .map(|l| match key_line.captures(l) {
                Some(c) if uncomment => c[1].to_string(),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        toml::from_str(&text).unwrap()
    }

    fn keys(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
        for (k, v) in t {
            let key = join_key(prefix, k);
            if let toml::Value::Table(sub) = v {
                keys(&key, sub, out);
            }
            out.push(key);
        }
    }

    /// Every key of the settings, optional ones included.
    fn all_setting_keys() -> Vec<String> {
        let mut s = Settings::default();
        s.certdb.catalog = Some(PathBuf::from("x"));
        s.certdb.expiring_days = Some(1);
        s.certdb.stale_days = Some(1);
        let toml::Value::Table(t) = toml::Value::try_from(&s).unwrap() else {
            panic!("settings are a table");
        };
        let mut out = Vec::new();
        keys("", &t, &mut out);
        out
    }

    #[test]
    fn the_shipped_file_sets_the_defaults() {
        let text = toml::to_string(&shipped_file(false)).unwrap();
        let from_file: Settings = toml::from_str(&text).unwrap();
        assert_eq!(from_file, Settings::default());
    }

    #[test]
    fn the_shipped_file_documents_every_key() {
        let file = shipped_file(true);
        let mut documented = Vec::new();
        keys("", &file, &mut documented);
        // Commented-out keys are real keys.
        let text = toml::to_string(&file).unwrap();
        toml::from_str::<Settings>(&text).expect("the commented keys are settings");
        let missing: Vec<String> = all_setting_keys()
            .into_iter()
            .filter(|k| !documented.contains(k))
            .collect();
        assert!(
            missing.is_empty(),
            "not in config/cccwatch.toml: {missing:?}"
        );
    }

    #[test]
    fn secrets_are_hidden() {
        let mut v: toml::Value = toml::from_str(
            "[database]\nurl = \"postgres://user:secret@db.example/cccwatch\"\n[x]\napi_token = \"abc\"\npassword = \"p\"\nplain = \"sqlite://cccwatch.db\"\n",
        )
        .unwrap();
        redact(&mut v);
        assert_eq!(
            v["database"]["url"].as_str(),
            Some("postgres://user:***@db.example/cccwatch")
        );
        assert_eq!(v["x"]["api_token"].as_str(), Some("***"));
        assert_eq!(v["x"]["password"].as_str(), Some("***"));
        assert_eq!(v["x"]["plain"].as_str(), Some("sqlite://cccwatch.db"));
    }

    #[test]
    fn toml_errors_name_the_key_and_line() {
        let text = "[web]\nbind = \"x\"\n\n[crawl]\nmax_redirects = \"many\"\n";
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct C {
            crawl: Crawl,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Crawl {
            max_redirects: u32,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct All {
            web: toml::Table,
            crawl: Crawl,
        }
        let e = toml::from_str::<All>(text).unwrap_err();
        let p = toml_problem(Path::new("f.toml"), text, &e);
        assert_eq!(p.key, "crawl.max_redirects", "{p}");
        assert!(p.problem.contains("line 5"), "{p}");
    }
}
