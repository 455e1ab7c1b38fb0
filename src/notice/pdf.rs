//! Act stage, printing: the letter's HTML printed to PDF by headless
//! Chromium (`notices.pdf_browser`), so what the platform receives looks
//! exactly like the HTML letter. Without a browser the batch has no PDF and
//! says why; nothing else depends on it.

use std::path::Path;
use std::time::Duration;

/// How long a browser may take to print one letter.
pub const PRINT_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("PDF printing is turned off (notices.pdf_browser is empty)")]
    Off,
    #[error("cannot start `{browser}` (notices.pdf_browser): {source}")]
    Start {
        browser: String,
        source: std::io::Error,
    },
    #[error("`{browser}` did not print within {}s", PRINT_TIMEOUT.as_secs())]
    Timeout { browser: String },
    #[error("`{browser}` failed ({status}): {stderr}")]
    Failed {
        browser: String,
        status: String,
        stderr: String,
    },
    #[error("`{browser}` wrote no PDF: {detail}")]
    NoOutput { browser: String, detail: String },
}

/// Where `browser` (`notices.pdf_browser`) is: a path as given, or a name
/// looked up on `PATH` as the system would; `None` when it is not there or
/// not executable.
pub fn find_browser(browser: &str) -> Option<std::path::PathBuf> {
    let browser = browser.trim();
    if browser.is_empty() {
        return None;
    }
    if browser.contains(std::path::MAIN_SEPARATOR) || browser.contains('/') {
        let p = Path::new(browser);
        return is_executable(p).then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(browser))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(p) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// Prints `html` (a file) with `browser` and returns the PDF's bytes.
pub async fn print(browser: &str, html: &Path) -> Result<Vec<u8>, PdfError> {
    if browser.trim().is_empty() {
        return Err(PdfError::Off);
    }
    let work = tempfile::tempdir().map_err(|source| PdfError::Start {
        browser: browser.into(),
        source,
    })?;
    let out = work.path().join("letter.pdf");
    let html = std::path::absolute(html).unwrap_or_else(|_| html.to_path_buf());
    let url = url::Url::from_file_path(&html)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| html.display().to_string());
    let mut cmd = tokio::process::Command::new(browser);
    cmd.arg("--headless")
        .arg("--disable-gpu")
        .arg("--no-sandbox")
        .arg("--no-first-run")
        .arg("--disable-extensions")
        .arg("--no-pdf-header-footer")
        .arg(format!(
            "--user-data-dir={}",
            work.path().join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", out.display()))
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|source| PdfError::Start {
        browser: browser.into(),
        source,
    })?;
    let output = tokio::time::timeout(PRINT_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| PdfError::Timeout {
            browser: browser.into(),
        })?
        .map_err(|source| PdfError::Start {
            browser: browser.into(),
            source,
        })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(PdfError::Failed {
            browser: browser.into(),
            status: output.status.to_string(),
            stderr: last_lines(&stderr, 3),
        });
    }
    match std::fs::read(&out) {
        Ok(bytes) if bytes.starts_with(b"%PDF") => Ok(bytes),
        Ok(_) => Err(PdfError::NoOutput {
            browser: browser.into(),
            detail: "the file is not a PDF".into(),
        }),
        Err(e) => Err(PdfError::NoOutput {
            browser: browser.into(),
            detail: format!("{e}; {}", last_lines(&stderr, 3)),
        }),
    }
}

fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_found_by_path_or_on_the_search_path() {
        assert_eq!(find_browser(""), None);
        assert_eq!(find_browser("/nonexistent/chromium"), None);
        assert_eq!(find_browser("no-such-browser-cccwatch"), None);
        let sh = find_browser("sh").expect("sh is on PATH");
        assert!(sh.is_absolute() && sh.ends_with("sh"));
        assert_eq!(find_browser(&sh.display().to_string()), Some(sh));
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("chromium");
        std::fs::write(&plain, "not executable").unwrap();
        assert_eq!(find_browser(&plain.display().to_string()), None);
    }

    #[tokio::test]
    async fn a_missing_browser_says_which_and_why() {
        let dir = tempfile::tempdir().unwrap();
        let html = dir.path().join("letter.html");
        std::fs::write(&html, "<p>x</p>").unwrap();
        let e = print("/nonexistent/chromium", &html).await.unwrap_err();
        assert!(matches!(e, PdfError::Start { .. }));
        assert!(e.to_string().contains("notices.pdf_browser"));
        assert!(matches!(print("", &html).await, Err(PdfError::Off)));
    }
}
