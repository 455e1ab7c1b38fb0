//! `cccwatch config check`, `config show` and `init`, run as the built
//! binary in a scratch directory: every problem named by file and key with
//! exit code 78, warnings for placeholders, a missing PDF browser and an
//! empty or stale certificate database, a configuration set up by `init`
//! checking in one line and used by `notices issue`, secrets hidden, each
//! layer's origin.

use crate::support::{self, root};

use std::path::{Path, PathBuf};
use std::process::Output;

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
fn a_good_configuration_checks_without_problems_then_warns() {
    let (dir, config) = scratch();
    let o = cccwatch(
        dir.path(),
        &[],
        &["--config", config.to_str().unwrap(), "config", "check"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let mut lines = out.lines();
    let first = lines.next().unwrap_or_default();
    assert!(first.starts_with("configuration OK"), "{out}");
    assert!(first.contains("2 platform(s) (demo, demo_api)"), "{out}");
    assert!(
        lines.all(|l| l.starts_with("warning: ")),
        "only warnings follow: {out}"
    );
    assert!(err.contains("warning(s)"), "{err}");
}

/// The shipped placeholders (bureau name, contact, each platform's
/// addressee), a PDF browser that is not installed, and a certificate
/// database that does not exist, is empty, or was last imported long ago:
/// each a warning naming the key (or the table) and what fills it; none of
/// them fails the check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placeholders_a_missing_browser_and_old_certificates_are_warned_about() {
    let (dir, config) = scratch();
    let d = dir.path();
    let cfg = config.to_str().unwrap();
    write_config(&config, "pdf_browser = \"no-such-browser-cccwatch\"\n");
    let check = |env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["--config", cfg];
        args.extend_from_slice(extra);
        args.extend(["config", "check"]);
        let o = cccwatch(d, env, &args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "warnings do not fail: {out}{err}");
        out
    };
    let warning = |out: &str, key: &str, words: &[&str]| {
        let line = out
            .lines()
            .find(|l| l.starts_with("warning: ") && l.contains(&format!(": {key}: ")))
            .unwrap_or_else(|| panic!("no warning for {key} in:\n{out}"));
        for w in words {
            assert!(line.contains(w), "`{w}` in {line}");
        }
    };
    let out = check(&[], &[]);
    warning(
        &out,
        "web.bureau_name",
        &["generic", "cccwatch init --bureau"],
    );
    warning(
        &out,
        "notices.issuer",
        &["generic", "cccwatch init --bureau"],
    );
    warning(
        &out,
        "notices.contact",
        &["request to fill in", "--contact-phone"],
    );
    for p in ["demo", "demo_api"] {
        warning(
            &out,
            &format!("notices.platform_names.{p}"),
            &["not set", &format!("--platform-addressee {p}=NAME")],
        );
    }
    warning(
        &out,
        "notices.pdf_browser",
        &[
            "no-such-browser-cccwatch",
            "not installed",
            "not found on PATH",
        ],
    );
    assert!(
        out.contains("warning: cccwatch.db: certificates: the database does not exist yet"),
        "{out}"
    );
    assert!(out.contains("cccwatch certdb import FILE"), "{out}");
    assert!(
        !d.join("cccwatch.db").exists(),
        "the check creates no database"
    );
    assert!(
        !out.contains("platforms.labels."),
        "the shipped platform files have Chinese names: {out}"
    );

    // An empty database, then a current import.
    let o = cccwatch(d, &[], &["--config", cfg, "certdb", "stats"]);
    assert!(o.status.success(), "{:?}", text(&o));
    warning(&check(&[], &[]), "certificates", &["is empty", "认监委"]);
    let sample = root().join("certdb/sample/certificates.csv");
    let o = cccwatch(
        d,
        &[],
        &[
            "--config",
            cfg,
            "certdb",
            "import",
            sample.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let out = check(&[], &[]);
    assert!(
        !out.contains("certificates:") && !out.contains("certdb.stale_days"),
        "a current import: {out}"
    );

    // An import long ago (stamped by a clock set to 2020).
    let old = d.join("old.db");
    let store = cccwatch::store::Store::open(&format!("sqlite://{}", old.display()))
        .await
        .unwrap()
        .with_clock(std::sync::Arc::new(cccwatch::clock::ManualClock::new(
            "2020-01-02T00:00:00Z".parse().unwrap(),
        )));
    cccwatch::cert_import::import_file(
        &store,
        &sample,
        &Default::default(),
        &cccwatch::progress::Progress::hidden(),
    )
    .await
    .unwrap();
    store.close().await;
    let out = check(&[], &["--db", "sqlite://old.db"]);
    warning(
        &out,
        "certdb.stale_days",
        &[
            "certificates.csv",
            "2020-01-02 08:00 Beijing time",
            "more than 30",
            "certdb import",
        ],
    );
    assert!(out.contains("warning: old.db: "), "{out}");
    let out = check(
        &[("CCCWATCH__CERTDB__STALE_DAYS", "3650")],
        &["--db", "sqlite://old.db"],
    );
    assert!(!out.contains("certdb.stale_days"), "a longer limit: {out}");
}

/// What an officer meets on a fresh installation: `notices issue` refuses
/// while the letter would carry placeholders (nothing stored, no number
/// used up) and names an unknown platform with the known ones; `init` by
/// flags writes local.toml, which `config check` accepts; then the notice
/// goes out with the bureau's own texts, the platform's Chinese name,
/// capture times in Beijing time, and the OS user as its issuer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_by_flags_sets_up_what_notices_need() {
    let s = support::seeded(60).await;
    let store = &s.store;
    confirm_flagged(store, 2).await;
    let (dir, config) = scratch();
    let d = dir.path();
    let cfg = config.to_str().unwrap();
    let db = s.url.clone();
    let issue = |env: &[(&str, &str)], platform: &str| {
        cccwatch(
            d,
            env,
            &[
                "--config",
                cfg,
                "--db",
                &db,
                "notices",
                "issue",
                "--platform",
                platform,
                "--date",
                "2026-11-29",
                "--out",
                "out",
            ],
        )
    };

    let o = issue(&[("USER", "wangli")], "demo");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(78), "{out}{err}");
    for needle in [
        "nothing issued, no number taken",
        "notices.issuer",
        "notices.contact",
        "notices.platform_names.demo",
        "cccwatch init --bureau NAME --contact-dept DEPT",
        "--platform-addressee demo=NAME",
    ] {
        assert!(err.contains(needle), "`{needle}` in {err}");
    }
    assert!(
        store.notice_batches(None).await.unwrap().is_empty(),
        "no batch"
    );
    assert_eq!(
        store.notice_candidates("demo").await.unwrap().len(),
        2,
        "still waiting"
    );
    assert!(!d.join("out").exists(), "nothing written");

    let o = issue(&[], "JD");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(64), "{out}{err}");
    assert!(err.contains("--platform JD: unknown platform"), "{err}");
    assert!(
        err.contains("demo（演示商城）") && err.contains("demo_api（演示商城（数据接口））"),
        "the known platforms are listed: {err}"
    );
    assert!(!err.contains("no confirmed findings"), "{err}");

    let init = |extra: &[&str]| {
        let mut args = vec![
            "--config",
            cfg,
            "--db",
            &db,
            "init",
            "--bureau",
            "梅县市场监督管理局",
            "--number-prefix",
            "梅县市监",
            "--contact-dept",
            "市场监管科",
            "--contact-person",
            "张三",
            "--contact-phone",
            "0753-2188123",
            "--platform-addressee",
            "demo=演示商城运营有限公司",
            "--platform-addressee",
            "demo_api=演示商城运营有限公司",
            "--seal",
            "（盖章）",
            "--pdf-browser",
            "",
        ];
        args.extend_from_slice(extra);
        cccwatch(d, &[], &args)
    };
    let o = init(&[]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let local = d.join("local.toml");
    assert!(out.contains(&format!("wrote {}", local.display())), "{out}");
    assert!(out.contains("configuration OK"), "{out}");
    for key in ["web.", "notices.", "platforms."] {
        assert!(
            !out.lines()
                .any(|l| l.starts_with("warning: ") && l.contains(&format!(": {key}"))),
            "no placeholder left: {out}"
        );
    }
    let written = std::fs::read_to_string(&local).unwrap();
    assert!(
        written.contains("# The letter's contact line: section, person, telephone.\ncontact = \"市场监管科 张三，电话：0753-2188123\""),
        "{written}"
    );
    let o = cccwatch(d, &[], &["--config", cfg, "config", "check"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));

    // Not replaced without --force.
    let o = cccwatch(d, &[], &["--config", cfg, "init", "--bureau", "梅县"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(73), "{out}{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(std::fs::read_to_string(&local).unwrap(), written);

    let o = issue(&[("USER", "wangli")], "demo");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("梅县市监CCC〔2026〕1号 issued to demo（演示商城）: 2 listings"),
        "the first number: none was used up: {out}"
    );
    let batch = store.notice_batches(None).await.unwrap().remove(0);
    assert_eq!(batch.issued_by, "cli:wangli");
    // The folder as the command line names it, relative to its working directory.
    let folder = d.join(batch.folder.clone().unwrap());
    let letter = std::fs::read_to_string(folder.join("letter.html")).unwrap();
    for needle in [
        "<h1>梅县市场监督管理局</h1>",
        "联系人：市场监管科 张三，电话：0753-2188123",
        "演示商城运营有限公司：",
        "取证时间（北京时间）",
    ] {
        assert!(letter.contains(needle), "the letter has {needle}");
    }
    let list = std::fs::read_to_string(folder.join("list.csv")).unwrap();
    for line in store.notice_lines(batch.id).await.unwrap() {
        let d = store
            .finding_detail(line.listing_id)
            .await
            .unwrap()
            .unwrap();
        let fetched = d.page.unwrap().fetched_at;
        let beijing = cccwatch::clock::beijing_time(&fetched);
        assert!(
            letter.contains(&beijing) && !letter.contains(&fetched),
            "capture time {fetched} as Beijing time {beijing}"
        );
        assert!(
            list.lines().any(|l| l.contains(&line.item_id)
                && l.contains(",演示商城,")
                && l.contains(&beijing)),
            "the list names the platform in Chinese and the time in Beijing time"
        );
    }

    // Without $USER the issuer is still the operating-system user.
    confirm_flagged(store, 1).await;
    let o = issue(&[], "demo");
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let second = store.notice_batches(None).await.unwrap().remove(0);
    assert_eq!(second.number, "梅县市监CCC〔2026〕2号");
    assert!(
        second.issued_by.starts_with("cli:") && second.issued_by != "cli:unknown",
        "{}",
        second.issued_by
    );
    let o = cccwatch(d, &[], &["--config", cfg, "--db", &db, "notices", "list"]);
    assert!(text(&o).0.contains("演示商城"), "{:?}", text(&o));
}

/// Confirms the first `n` pending flagged findings.
async fn confirm_flagged(store: &cccwatch::store::Store, n: usize) {
    use cccwatch::review::decision::{DecisionInput, check_allowed};
    use cccwatch::review::queue::QueueParams;
    let boss = store.user_by_name("boss").await.unwrap().unwrap().0;
    let rows = store
        .queue(&QueueParams::default().parse(|_| None).unwrap())
        .await
        .unwrap()
        .rows;
    let confirm = DecisionInput {
        action: "confirm".into(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    for r in rows.iter().take(n) {
        store
            .decide(r.listing_id, &boss, &confirm, None, &check_allowed)
            .await
            .unwrap();
    }
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
fn cluster_timings_are_checked_and_named() {
    let (dir, config) = scratch();
    let d = dir.path();
    // A renewal slower than a third of the lease, from the environment: a
    // worker could lose its leases between two renewals.
    let o = cccwatch(
        d,
        &[("CCCWATCH__CLUSTER__RENEW_SECS", "20")],
        &["--config", config.to_str().unwrap(), "config", "check"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(78), "{out}{err}");
    assert!(
        out.lines().any(|l| l
            .starts_with("environment CCCWATCH__CLUSTER__RENEW_SECS: cluster.renew_secs: ")
            && l.contains("cluster.lease_secs")),
        "{out}"
    );
    // A poll interval out of range, in the file.
    write_config(&config, "\n[cluster]\npoll_ms = 10\n");
    let o = cccwatch(
        d,
        &[],
        &["--config", config.to_str().unwrap(), "config", "check"],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(78), "{out}{err}");
    let cfg = config.display().to_string();
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("{cfg}: cluster.poll_ms: "))),
        "{out}"
    );
    // The same settings in range check clean, and a worker would start.
    write_config(
        &config,
        "\n[cluster]\nlease_secs = 60\nrenew_secs = 20\npoll_ms = 200\n",
    );
    let o = cccwatch(
        d,
        &[],
        &["--config", config.to_str().unwrap(), "config", "check"],
    );
    let (out, err) = text(&o);
    assert!(!out.contains("cluster."), "{out}{err}");
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
