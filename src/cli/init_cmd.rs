//! `cccwatch init`: asks (on a terminal) or takes from flags the bureau's
//! own settings, writes this machine's layer (`config/local.toml`, or
//! `local.toml` beside `--config`) and runs `config check` on the result.

use super::config_cmd::{EXIT_CONFIG, print_report, run_check};
use cccwatch::config::{Settings, Sources};
use cccwatch::setup::{Answers, Contact};
use clap::Args;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

/// Exit codes of sysexits.h: a wrong flag, a file that exists.
const EXIT_USAGE: u8 = 64;
const EXIT_CANTCREAT: u8 = 73;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
cccwatch init                                   # asks, on a terminal\n  \
cccwatch init --bureau 梅县市场监督管理局 --number-prefix 梅县市监 \\\n    \
--contact-dept 市场监管科 --contact-person 张三 --contact-phone 0753-2188123 \\\n    \
--platform-label jd=京东 --platform-addressee jd=北京京东叁佰陆拾度电子商务有限公司 \\\n    \
--seal '（盖章）' --pdf-browser /usr/bin/chromium\n  \
cccwatch --config /etc/cccwatch/cccwatch.toml init --force   # writes /etc/cccwatch/local.toml\n\n\
Writes config/local.toml (local.toml beside --config), the layer for this\n\
machine that overrides config/cccwatch.toml, with a comment on every key, then\n\
runs `cccwatch config check` and prints its result. On a terminal it asks for\n\
everything the flags do not give (the current values are offered as defaults);\n\
without one (scripts) only the flags are written. An existing file is replaced\n\
only with --force: the old one is kept as local.toml.bak, and what it set that\n\
init does not ask for (database.url, schedule jobs ...) is carried over.\n\
Exit codes: 0 written and checked, 64 a bad flag, 73 the file exists, 78 the\n\
check found a problem.")]
pub struct InitArgs {
    /// The bureau's name, e.g. 梅县市场监督管理局 (notices.issuer, web.bureau_name).
    #[arg(long, value_name = "NAME")]
    bureau: Option<String>,
    /// The notice number's format; {prefix}, {year}, {seq} are filled in (notices.number_format).
    #[arg(long, value_name = "FORMAT")]
    number_format: Option<String>,
    /// The notice number's prefix, e.g. 梅县市监 (notices.number_prefix).
    #[arg(long, value_name = "PREFIX")]
    number_prefix: Option<String>,
    /// The contact's section, e.g. 市场监管科 (notices.contact, with person and phone).
    #[arg(long, value_name = "DEPT")]
    contact_dept: Option<String>,
    /// The contact person (notices.contact).
    #[arg(long, value_name = "NAME")]
    contact_person: Option<String>,
    /// The contact's telephone (notices.contact).
    #[arg(long, value_name = "PHONE")]
    contact_phone: Option<String>,
    /// Text printed where the seal goes (notices.seal_text).
    #[arg(long, value_name = "TEXT")]
    seal: Option<String>,
    /// Headless Chromium for the PDF letters, a name on PATH or a path; "" for none (notices.pdf_browser).
    #[arg(long, value_name = "PATH")]
    pdf_browser: Option<String>,
    /// A platform's Chinese name, e.g. jd=京东 (platforms.labels.NAME); repeat per platform.
    #[arg(long, value_name = "NAME=LABEL", value_parser = pair)]
    platform_label: Vec<(String, String)>,
    /// How letters address a platform, e.g. jd=北京京东叁佰陆拾度电子商务有限公司
    /// (notices.platform_names.NAME); repeat per platform.
    #[arg(long, value_name = "NAME=ADDRESSEE", value_parser = pair)]
    platform_addressee: Vec<(String, String)>,
    /// Replace an existing local.toml (kept as local.toml.bak).
    #[arg(long)]
    force: bool,
    /// Never ask, even on a terminal: write only what the flags give.
    #[arg(long)]
    no_input: bool,
}

fn pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("`{s}` is not NAME=VALUE, e.g. jd=京东")),
    }
}

impl InitArgs {
    /// The answers the flags give; contact flags go together.
    fn answers(&self) -> Answers {
        let contact = [
            &self.contact_dept,
            &self.contact_person,
            &self.contact_phone,
        ];
        Answers {
            bureau: self.bureau.clone(),
            number_format: self.number_format.clone(),
            number_prefix: self.number_prefix.clone(),
            contact: contact.iter().any(|c| c.is_some()).then(|| Contact {
                dept: self.contact_dept.clone().unwrap_or_default(),
                person: self.contact_person.clone().unwrap_or_default(),
                phone: self.contact_phone.clone().unwrap_or_default(),
            }),
            seal_text: self.seal.clone(),
            pdf_browser: self.pdf_browser.clone(),
            labels: self.platform_label.iter().cloned().collect(),
            addressees: self.platform_addressee.iter().cloned().collect(),
        }
    }
}

pub fn run(sources: &Sources, a: InitArgs) -> ExitCode {
    let path = Settings::local_file(sources);
    if path.exists() && !a.force {
        eprintln!(
            "error: {} exists; nothing was changed. Edit it, or run `cccwatch init --force` to replace it (the old file is kept as {}).",
            path.display(),
            backup_of(&path).display()
        );
        return ExitCode::from(EXIT_CANTCREAT);
    }
    // The current settings offer defaults; a broken layer is for `config check` to name.
    let current = Settings::load(sources).unwrap_or_default();
    let platforms = current.platform_labels();
    let mut answers = a.answers();
    if !a.no_input && std::io::stdin().is_terminal() {
        let mut input = std::io::stdin().lock();
        let mut out = std::io::stderr();
        if let Err(e) =
            cccwatch::setup::ask(&mut answers, &current, &platforms, &mut input, &mut out)
        {
            eprintln!("error: reading the answers: {e}");
            return ExitCode::FAILURE;
        }
    }
    let names: Vec<String> = platforms.names().map(str::to_string).collect();
    if let Err(errors) = answers.validate(&names) {
        for e in errors {
            eprintln!("error: {e}");
        }
        eprintln!("nothing was written");
        return ExitCode::from(EXIT_USAGE);
    }
    if answers.is_empty() {
        eprintln!(
            "error: nothing to write: give the settings as flags (see `cccwatch init --help`) or run it on a terminal to be asked"
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let replaced = path.exists();
    if let Err(e) = write(&path, &answers, a.force) {
        eprintln!("error: writing {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {}", path.display());
    if replaced {
        println!("the previous file is {}", backup_of(&path).display());
    }
    let report = match run_check(sources) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("checking it (cccwatch config check):");
    print_report(&report);
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_CONFIG)
    }
}

fn backup_of(path: &Path) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    path.with_file_name(name)
}

/// Writes the file: next to it first, then moved over it, so a failure
/// leaves the old one whole; an existing one is copied to `.bak` first.
fn write(path: &Path, answers: &Answers, force: bool) -> std::io::Result<()> {
    let previous = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if previous.is_some() && !force {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the file exists (use --force)",
        ));
    }
    let table = previous
        .as_deref()
        .and_then(|t| toml::from_str::<toml::Table>(t).ok());
    let year = chrono::Datelike::year(&cccwatch::report::beijing_today(
        cccwatch::clock::system().now(),
    ));
    let text = answers.render(table.as_ref(), year);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    if let Some(old) = &previous {
        std::fs::write(backup_of(path), old)?;
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}
