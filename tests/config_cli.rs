//! `cccwatch config check` and `config show`, run as the built binary in a
//! scratch directory: every problem named by file and key with exit code
//! 78, a clean check in one line, secrets hidden, each layer's origin.

use std::path::{Path, PathBuf};
use std::process::Output;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary in `dir` with only the given environment variables.
fn cccwatch(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cccwatch"));
    cmd.current_dir(dir).env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A scratch directory with a good configuration: `cccwatch.toml` pointing
/// at its own copies of the platform files and notice templates.
fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("platforms")).unwrap();
    for name in ["demo", "demo_api"] {
        std::fs::copy(
            root().join(format!("config/platforms/{name}.toml")),
            d.join(format!("platforms/{name}.toml")),
        )
        .unwrap();
    }
    std::fs::create_dir(d.join("notices")).unwrap();
    for name in ["letter.html", "list.toml"] {
        std::fs::copy(
            root().join("config/notices").join(name),
            d.join("notices").join(name),
        )
        .unwrap();
    }
    let config = d.join("cccwatch.toml");
    write_config(&config, "");
    (dir, config)
}

fn write_config(config: &Path, extra: &str) {
    std::fs::write(
        config,
        format!(
            "[database]\nurl = \"sqlite://cccwatch.db\"\n\n[crawl]\nplatforms_dir = \"platforms\"\n\n\
             [notices]\ntemplates_dir = \"notices\"\n{extra}"
        ),
    )
    .unwrap();
}

#[test]
fn a_good_configuration_checks_in_one_line() {
    let (dir, config) = scratch();
    let o = cccwatch(
        dir.path(),
        &[],
        &["--config", config.to_str().unwrap(), "config", "check"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("configuration OK"), "{out}");
    assert!(out.contains("2 platform(s) (demo, demo_api)"), "{out}");
}

#[test]
fn every_problem_is_named_by_file_and_key() {
    let (dir, config) = scratch();
    let d = dir.path();
    // The main file: an unknown key, a bad address, a value out of range, a wrong type.
    std::fs::write(
        &config,
        "[database]\nurl = \"sqlite://cccwatch.db\"\n\n[web]\nbind = \"everywhere\"\nsesion_idle_minutes = 5\n\n\
         [crawl]\nplatforms_dir = \"platforms\"\nmax_attempts = 0\nmax_redirects = \"many\"\n\n\
         [notices]\ntemplates_dir = \"notices\"\n",
    )
    .unwrap();
    // local.toml beside it: a bad value in another layer.
    std::fs::write(d.join("local.toml"), "[notices]\ndeadline_days = 0\n").unwrap();
    // A platform file whose name differs from the file, one with an unknown key.
    let demo = std::fs::read_to_string(d.join("platforms/demo.toml")).unwrap();
    std::fs::write(d.join("platforms/shop.toml"), &demo).unwrap();
    std::fs::write(
        d.join("platforms/demo_api.toml"),
        std::fs::read_to_string(root().join("config/platforms/demo_api.toml"))
            .unwrap()
            .replacen("[politeness]", "[politeness]\nrequests_per_minute = 5", 1),
    )
    .unwrap();
    // A list.toml with a misspelt column key; a letter that does not compile.
    let list = std::fs::read_to_string(d.join("notices/list.toml")).unwrap();
    let first_key = regex::Regex::new(r#"key = "[a-z_]+""#).unwrap();
    std::fs::write(
        d.join("notices/list.toml"),
        first_key.replace(&list, r#"key = "tilte""#).into_owned(),
    )
    .unwrap();
    std::fs::write(d.join("notices/letter.html"), "<p>{{ batch.number </p>\n").unwrap();

    let o = cccwatch(
        d,
        &[("CCCWATCH__MATCHING__BATCH_SIZE", "0")],
        &["--config", config.to_str().unwrap(), "config", "check"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(78), "{out}{err}");
    let cfg = config.display().to_string();
    let local = d.join("local.toml").display().to_string();
    let expect = [
        format!("{cfg}: web.sesion_idle_minutes: unknown key"),
        format!("{cfg}: crawl.max_redirects: "),
        format!("{cfg}: web.bind: "),
        format!("{cfg}: crawl.max_attempts: "),
        format!("{local}: notices.deadline_days: "),
        "environment CCCWATCH__MATCHING__BATCH_SIZE: matching.batch_size: ".to_string(),
        // Files named by the settings, as they name them (relative to the working directory).
        "platforms/shop.toml: name: ".to_string(),
        "platforms/demo_api.toml: politeness.requests_per_minute: ".to_string(),
        "notices/list.toml: column[1].key: ".to_string(),
        "notices/letter.html: line 1: ".to_string(),
    ];
    for e in &expect {
        assert!(
            out.lines().any(|l| l.starts_with(e.as_str())),
            "missing `{e}` in:\n{out}"
        );
    }
    assert!(out.contains("tilte"), "{out}");

    // The same as JSON.
    let o = cccwatch(
        d,
        &[],
        &[
            "--config",
            config.to_str().unwrap(),
            "config",
            "check",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(78));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(
        v["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["key"] == "web.bind" && p["file"] == cfg.as_str())
    );

    // Any other command refuses the configuration with the same exit code.
    let o = cccwatch(
        d,
        &[],
        &["--config", config.to_str().unwrap(), "certdb", "stats"],
    );
    assert_eq!(o.status.code(), Some(78));
}

#[test]
fn a_syntax_error_names_the_file_key_and_line() {
    let (dir, config) = scratch();
    write_config(
        &config,
        "\n[web]\nbind = \"127.0.0.1:80\nbureau_name = \"x\"\n",
    );
    let o = cccwatch(
        dir.path(),
        &[],
        &["--config", config.to_str().unwrap(), "config", "check"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(78), "{out}{err}");
    assert!(
        out.starts_with(&format!("{}: web.bind: ", config.display())),
        "{out}"
    );
    assert!(out.contains("line 11"), "{out}");
}

#[test]
fn show_hides_passwords_and_names_each_origin() {
    let (dir, config) = scratch();
    write_config(&config, "\n[web]\nbureau_name = \"梅县市场监督管理局\"\n");
    let o = cccwatch(
        dir.path(),
        &[("CCCWATCH__WEB__BIND", "0.0.0.0:9999")],
        &[
            "--config",
            config.to_str().unwrap(),
            "--db",
            "postgres://cccwatch:s3cret-pw@db.internal:5432/cccwatch",
            "config",
            "show",
            "--origin",
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(!out.contains("s3cret-pw"), "{out}");
    assert!(
        out.contains(r#"url = "postgres://cccwatch:***@db.internal:5432/cccwatch"  # --db"#),
        "{out}"
    );
    assert!(
        out.contains(r#"bind = "0.0.0.0:9999"  # environment CCCWATCH__WEB__BIND"#),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "bureau_name = \"梅县市场监督管理局\"  # {}",
            config.display()
        )),
        "{out}"
    );
    assert!(
        out.contains("session_idle_minutes = 30  # (default)"),
        "{out}"
    );
    // Without --origin it is a TOML document the settings read back from.
    let o = cccwatch(
        dir.path(),
        &[("CCCWATCH__WEB__BIND", "0.0.0.0:9999")],
        &["--config", config.to_str().unwrap(), "config", "show"],
    );
    let (out, _) = text(&o);
    let back: cccwatch::config::Settings = toml::from_str(&out).unwrap();
    assert_eq!(back.web.bind, "0.0.0.0:9999");
    assert_eq!(back.web.bureau_name, "梅县市场监督管理局");
}

/// Scheduled jobs: a bad cron expression, a platform that does not exist and
/// a keyword set the platform does not have are each named.
#[test]
fn scheduled_jobs_are_checked_against_the_platform_files() {
    let (dir, config) = scratch();
    write_config(
        &config,
        "\n[[schedule.jobs]]\nname = \"nightly\"\ncron = \"30 1 * * *\"\nplatforms = [\"demo\", \"jingdong\"]\n\
         groups = [\"插头插座开关\", \"灯具\"]\n",
    );
    let o = cccwatch(
        dir.path(),
        &[],
        &["--config", config.to_str().unwrap(), "config", "check"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(78), "{out}{err}");
    let all = format!("{out}{err}");
    assert!(
        all.contains("schedule.jobs[1].platforms (nightly)") && all.contains("jingdong"),
        "{all}"
    );
    assert!(
        all.contains("schedule.jobs[1].groups (nightly)") && all.contains("灯具"),
        "{all}"
    );
    assert!(all.contains("cccwatch.toml"), "the file is named: {all}");

    write_config(
        &config,
        "\n[[schedule.jobs]]\nname = \"nightly\"\ncron = \"30 25 * * *\"\n",
    );
    let o = cccwatch(
        dir.path(),
        &[],
        &["--config", config.to_str().unwrap(), "config", "check"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(78), "{out}{err}");
    assert!(
        err.contains("schedule.jobs") && err.contains("30 25 * * *") || out.contains("30 25 * * *"),
        "{out}{err}"
    );

    write_config(
        &config,
        "\n[[schedule.jobs]]\nname = \"nightly\"\ncron = \"30 1 * * *\"\nplatforms = [\"demo\"]\n\
         groups = [\"插头插座开关\"]\n",
    );
    let o = cccwatch(
        dir.path(),
        &[],
        &["--config", config.to_str().unwrap(), "config", "check"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("1 scheduled job(s)"), "{out}");
}
