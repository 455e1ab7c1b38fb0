//! `config check`'s warnings: settings that work but are not ready for
//! real use — texts that are still the shipped placeholders (the bureau's
//! name, the contact line, a platform's addressee or name), a PDF browser
//! that is not installed, a certificate database that is empty or stale.
//! Each names the key (or the table) to fill and the `cccwatch init` flag
//! that fills it. Warnings do not change the exit code.

use super::{CheckReport, Problem, origin, problem};
use crate::config::{Settings, Sources};
use crate::notice::policy;
use figment::Figment;

/// Placeholders the workspace and the letters would show.
pub(super) fn placeholders(
    settings: &Settings,
    fig: &Figment,
    sources: &Sources,
    report: &mut CheckReport,
) {
    let at = |key: &str| origin(fig, sources, key);
    let mut out: Vec<Problem> = Vec::new();
    if policy::bureau_is_placeholder(&settings.web.bureau_name) {
        out.push(problem(
            at("web.bureau_name"),
            "web.bureau_name",
            format!(
                "is the generic `{}`: the workspace's header shows it; fill in the bureau's own name (cccwatch init --bureau NAME)",
                settings.web.bureau_name.trim()
            ),
        ));
    }
    let not_addressee = |v: &str| v != "addressee" && v != "platform_label";
    for p in policy::placeholders(&settings.notices, "", &not_addressee) {
        out.push(problem(
            at(&p.key),
            p.key.clone(),
            format!(
                "{}; notices are refused until it is filled in (cccwatch init {})",
                p.why, p.init
            ),
        ));
    }
    let labels = settings.platform_labels();
    for name in &report.platforms {
        for p in policy::placeholders(&settings.notices, name, &|v| !not_addressee(v)) {
            out.push(problem(
                at(&p.key),
                p.key.clone(),
                format!(
                    "{}; notices to {} are refused until it is set (cccwatch init {})",
                    p.why,
                    labels.described(name),
                    p.init
                ),
            ));
        }
        if !labels.has_label(name) {
            let key = format!("platforms.labels.{name}");
            out.push(problem(
                at(&key),
                key,
                format!(
                    "{name} has no Chinese name (no `label` in its platform file): pages, letters and reports would show `{name}` (cccwatch init --platform-label {name}=NAME)"
                ),
            ));
        }
    }
    report.warnings.extend(out);
}

/// A PDF browser that is not there (an empty setting turns PDF off: no warning).
pub(super) fn pdf_browser(
    settings: &Settings,
    fig: &Figment,
    sources: &Sources,
    report: &mut CheckReport,
) {
    let browser = settings.notices.pdf_browser.trim();
    if browser.is_empty() || crate::notice::pdf::find_browser(browser).is_some() {
        return;
    }
    let where_ = if browser.contains('/') {
        "no executable file there"
    } else {
        "not found on PATH"
    };
    report.warnings.push(problem(
        origin(fig, sources, "notices.pdf_browser"),
        "notices.pdf_browser",
        format!(
            "`{browser}` is not installed ({where_}): letters get no PDF, only HTML; install Debian's `chromium` or give the browser's path (cccwatch init --pdf-browser PATH), or set \"\" to turn PDF off"
        ),
    ));
}

/// An empty certificate database, or one whose latest import is older than
/// `certdb.stale_days`. A database that does not exist yet is not created.
pub(super) async fn certificates(settings: &Settings, report: &mut CheckReport) {
    use sqlx::sqlite::SqliteConnectOptions;
    use std::str::FromStr;
    let url = settings.database.url.expose().trim();
    let Ok(opts) = SqliteConnectOptions::from_str(url) else {
        return; // reported with the settings
    };
    let path = opts.get_filename().to_path_buf();
    if url.contains(":memory:") || path.as_os_str().is_empty() {
        return;
    }
    let file = path.display().to_string();
    let import = "import the certificate export of the CNCA certificate query system (认监委 强制性产品认证证书查询) with `cccwatch certdb import FILE`";
    if !path.exists() {
        if path
            .parent()
            .is_none_or(|d| d.as_os_str().is_empty() || d.is_dir())
        {
            report.warnings.push(problem(
                file,
                "certificates",
                format!("the database does not exist yet, so no certificates are known: {import}"),
            ));
        }
        return;
    }
    let store = match crate::store::Store::open(url).await {
        Ok(s) => s,
        Err(e) => {
            report.warnings.push(problem(
                file,
                "certificates",
                format!("cannot read the certificate database: {e}"),
            ));
            return;
        }
    };
    match store.cert_freshness().await {
        Err(e) => report.warnings.push(problem(
            file,
            "certificates",
            format!("cannot read the certificate database: {e}"),
        )),
        Ok(f) if f.certificates == 0 => report.warnings.push(problem(
            file,
            "certificates",
            format!("the certificate database is empty: every listing would be judged without certificates; {import}"),
        )),
        Ok(f) => {
            let days = settings.certdb.stale_days();
            let latest = f.latest_import.as_ref().and_then(|(name, at)| {
                let t = chrono::DateTime::parse_from_rfc3339(at).ok()?;
                Some((name, at, (store.now() - t.to_utc()).num_days()))
            });
            match latest {
                Some((name, at, age)) if age > days => report.warnings.push(problem(
                    file,
                    "certdb.stale_days",
                    format!(
                        "the latest certificate import ({name}, {} Beijing time) is {age} days old, more than {days}: suspensions, revocations and expiries since then are unknown; {import}",
                        crate::clock::beijing_minutes(at)
                    ),
                )),
                Some(_) => {}
                None => report.warnings.push(problem(
                    file,
                    "certificates",
                    format!("no finished certificate import is recorded: {import}"),
                )),
            }
        }
    }
    store.close().await;
}
