//! The command line as an operator uses it: help texts, exit codes, errors
//! that say where and what, configuration layers.

use crate::support::text;
use std::process::{Command, Output};

fn cccwatch(dir: &std::path::Path, args: &[&str]) -> Output {
    cccwatch_env(dir, args, None)
}

/// Runs the binary in `dir`, with `CCCWATCH__DATABASE__URL` set only when given.
fn cccwatch_env(dir: &std::path::Path, args: &[&str], database_url: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cccwatch"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("CCCWATCH__DATABASE__URL")
        .env_remove("RUST_LOG");
    if let Some(url) = database_url {
        cmd.env("CCCWATCH__DATABASE__URL", url);
    }
    cmd.output().expect("run cccwatch")
}

#[test]
fn every_command_has_help_with_an_example() {
    let dir = tempfile::tempdir().unwrap();
    let commands: &[&[&str]] = &[
        &[],
        &["certdb", "import"],
        &["certdb", "brands", "import"],
        &["certdb", "stats"],
        &["certdb", "show"],
        &["ingest"],
        &["match"],
        &["explain"],
        &["findings", "export"],
        &["demo"],
        &["gen"],
        &["scan"],
        &["market"],
        &["adapter", "test"],
        &["evidence", "show"],
        &["evidence", "export"],
        &["serve"],
        &["user", "add"],
        &["user", "passwd"],
        &["user", "disable"],
        &["user", "enable"],
        &["user", "role"],
        &["user", "list"],
        &["user", "token"],
        &["audit", "verify"],
        &["audit", "log"],
        &["bench", "review"],
        &["notices", "issue"],
        &["notices", "list"],
        &["notices", "verify"],
        &["report", "monthly"],
        &["report", "sellers"],
        &["feed", "token", "add"],
        &["feed", "token", "list"],
        &["feed", "token", "revoke"],
        &["feed", "write"],
        &["init"],
        &["config", "check"],
        &["notices", "reply"],
        &["notices", "show"],
    ];
    for c in commands {
        let mut args = c.to_vec();
        args.push("--help");
        let o = cccwatch(dir.path(), &args);
        assert!(o.status.success(), "{c:?}");
        assert!(
            text(&o).contains("Example"),
            "{c:?} --help has no example:\n{}",
            text(&o)
        );
    }
}

#[test]
fn import_reports_bad_rows_and_a_missing_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.csv");
    std::fs::write(
        &f,
        "证书编号,证书状态,产品名称,规格型号,认证委托人名称,生产者名称,生产企业名称,颁证日期,证书到期日期\n\
         2016010201931890,有效,插座,GN-1,甲,甲,甲,2021-01-01,2026-01-01\n\
         2016010201931891,有效,插座,GN-2,甲,甲,甲,2021-01-01,明年\n",
    )
    .unwrap();
    let o = cccwatch(dir.path(), &["certdb", "import", "x.csv", "missing.csv"]);
    assert_eq!(o.status.code(), Some(2), "one file failed: {}", text(&o));
    let t = text(&o);
    assert!(t.contains("1 new") && t.contains("1 rejected"), "{t}");
    assert!(t.contains("line 3, column 证书到期日期"), "{t}");
    assert!(t.contains("missing.csv"), "{t}");
    assert!(dir.path().join("x.rejects.csv").exists());
    assert!(
        dir.path().join("cccwatch.db").exists(),
        "SQLite file created on first use"
    );
    let o = cccwatch(dir.path(), &["certdb", "show", "2016 0102 0193 1890"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("GN-1"));
    let o = cccwatch(dir.path(), &["certdb", "import", "--strict", "x.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("nothing from this file was stored"),
        "{}",
        text(&o)
    );
}

#[test]
fn configuration_layers_and_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    std::fs::write(
        dir.path().join("config/cccwatch.toml"),
        "[matching]\nbatch_size = 0\n",
    )
    .unwrap();
    let o = cccwatch(dir.path(), &["certdb", "stats"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("matching.batch_size"), "{}", text(&o));
    std::fs::write(
        dir.path().join("config/cccwatch.toml"),
        "[database]\nurl = \"sqlite://from-file.db\"\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .args(["certdb", "stats"])
        .current_dir(dir.path())
        .env("CCCWATCH__DATABASE__URL", "sqlite://from-env.db")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        dir.path().join("from-env.db").exists(),
        "the environment overrides the file"
    );
    let o = cccwatch(
        dir.path(),
        &["--db", "sqlite://from-flag.db", "certdb", "stats"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("from-flag.db").exists());
    assert!(!dir.path().join("from-file.db").exists() || dir.path().join("from-flag.db").exists());
}

#[test]
fn demo_crawls_the_marketplace_and_evidence_can_be_exported() {
    let dir = tempfile::tempdir().unwrap();
    let o = cccwatch(
        dir.path(),
        &[
            "demo",
            "--out",
            "d",
            "--items",
            "300",
            "--as-of",
            "2026-11-28",
        ],
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("scan 1 of demo: completed"), "{t}");
    assert!(t.contains("0 failed"), "{t}");
    assert!(dir.path().join("d/findings.xlsx").exists());
    assert!(dir.path().join("d/findings.csv").exists());

    // An officer takes the evidence of a flagged listing for a case file.
    let db = format!("sqlite://{}", dir.path().join("d/cccwatch.db").display());
    let o = cccwatch(
        dir.path(),
        &[
            "--db",
            &db,
            "findings",
            "export",
            "--format",
            "jsonl",
            "--flagged-only",
            "--out",
            "f.jsonl",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    chinese_exports::findings_exports_speak_chinese(dir.path(), &db);
    let first = std::fs::read_to_string(dir.path().join("f.jsonl")).unwrap();
    let row: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    let item = row["item_id"].as_str().unwrap().to_string();
    let o = cccwatch(dir.path(), &["--db", &db, "evidence", "show", &item]);
    let t = text(&o);
    assert!(
        o.status.success() && t.contains("sha256") && t.contains("status    200"),
        "{t}"
    );
    let o = cccwatch(
        dir.path(),
        &[
            "--db",
            &db,
            "evidence",
            "export",
            &item,
            "--platform",
            "demo",
            "--out",
            "case",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let case = dir.path().join("case");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("manifest.json")).unwrap())
            .unwrap();
    let page = &manifest["pages"][0];
    let body = std::fs::read(case.join(page["file"].as_str().unwrap())).unwrap();
    use sha2::Digest;
    let sha: String = sha2::Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(page["sha256"].as_str(), Some(sha.as_str()));
    let sums = std::fs::read_to_string(case.join("SHA256SUMS")).unwrap();
    assert!(sums.contains(&format!("{sha}  {}", page["file"].as_str().unwrap())));
    assert!(sums.contains("manifest.json"));

    let o = cccwatch(
        dir.path(),
        &["--db", &db, "evidence", "show", "no-such-item"],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no pages kept for item no-such-item"),
        "{}",
        text(&o)
    );
}

#[test]
fn adapter_test_names_selectors_that_match_nothing() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("config/platforms")).unwrap();
    std::fs::copy(
        root.join("config/platforms/demo.toml"),
        dir.path().join("config/platforms/demo.toml"),
    )
    .unwrap();
    let page = dir.path().join("item.html");
    std::fs::write(
        &page,
        "<html><head><meta charset=gbk></head><body><h1 class=sku-name>公牛插座</h1>\
         <ul class=parameter><li>品牌：公牛</li><li>型号：GN-B3</li></ul></body></html>",
    )
    .unwrap();
    let o = cccwatch(
        dir.path(),
        &["adapter", "test", "--platform", "demo", "item.html"],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("title        公牛插座"), "{t}");
    assert!(t.contains("型号: GN-B3"), "{t}");
    assert!(t.contains("matched nothing: item.fields.price"), "{t}");

    let o = cccwatch(
        dir.path(),
        &["adapter", "test", "--platform", "nope", "item.html"],
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no platform `nope`") && text(&o).contains("demo"),
        "{}",
        text(&o)
    );

    std::fs::write(
        dir.path().join("config/platforms/bad.toml"),
        "name = \"bad\"\nbase_url = \"http://x\"\n[search]\nurl = \"{base}/?q={keyword}\"\ncard = \"li[\"\nitem_link = \"a@href\"\n",
    )
    .unwrap();
    let o = cccwatch(dir.path(), &["adapter", "check"]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(
        t.contains("bad.toml") && t.contains("search.card") && t.contains("ok    "),
        "{t}"
    );
}

/// Runs the binary in `dir` with `stdin` as standard input.
#[test]
fn explain_judges_titles_and_says_why_without_storing_them() {
    let dir = tempfile::tempdir().unwrap();
    let o = cccwatch(dir.path(), &["explain", "公牛 插线板 USB 排插 1.8米"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("uncertified") && out.contains("0201") && out.contains("“插线板”"),
        "{out}"
    );
    // Without a database it judges scope and says so, and creates none.
    assert!(
        text(&o).contains("only scope is meaningful"),
        "{}",
        text(&o)
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "explain created a file"
    );
    // A file of titles on standard input, one with its category path after a
    // tab: one tab-separated line each, numbered by the file's lines.
    let o = cccwatch_stdin(
        dir.path(),
        &["explain", "--titles", "-"],
        "# 注释\n适用美的电饭煲内胆 4L 不粘\n开关 按键 替换 单键\t家装建材>电工电料>开关配件\n\n电磁炉 防滑垫 隔热垫\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        rows.iter().map(|r| r[0]).collect::<Vec<_>>(),
        ["2", "3", "5"],
        "{out}"
    );
    for r in &rows {
        assert_eq!(r.len(), 8, "{r:?}");
        assert_eq!(r[1], "not_in_scope", "{r:?}");
    }
    assert!(rows[0][7].contains("内胆"), "{out}");
    assert!(rows[1][7].contains("开关配件"), "{out}");
    assert!(rows[2][7].contains("防滑垫"), "{out}");
    // A malformed spec entry names the flag and the expected form.
    let o = cccwatch(dir.path(), &["explain", "插座", "--spec", "无标签"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--spec") && text(&o).contains("LABEL=VALUE"),
        "{}",
        text(&o)
    );
}

fn cccwatch_stdin(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cccwatch"))
        .args(args)
        .current_dir(dir)
        .env_remove("CCCWATCH__DATABASE__URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run cccwatch");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn accounts_are_managed_from_the_command_line_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = cccwatch_stdin(
        d,
        &[
            "user",
            "add",
            "wangli",
            "--role",
            "reviewer",
            "--name",
            "王丽",
            "--password-stdin",
        ],
        "a long password\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    // Refusals say what is wrong.
    let o = cccwatch_stdin(
        d,
        &[
            "user",
            "add",
            "wangli",
            "--role",
            "reviewer",
            "--password-stdin",
        ],
        "a long password\n",
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    let o = cccwatch_stdin(
        d,
        &["user", "add", "li", "--role", "boss", "--password-stdin"],
        "a long password\n",
    );
    assert!(text(&o).contains("unknown role `boss`"), "{}", text(&o));
    let o = cccwatch_stdin(
        d,
        &["user", "add", "li", "--role", "viewer", "--password-stdin"],
        "short\n",
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("at least 10 characters"), "{}", text(&o));
    // Without a terminal the password comes from standard input, piped or
    // not; nothing there is said as such, not as a password too short.
    let o = cccwatch(d, &["user", "add", "li", "--role", "viewer"]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("no password for li")
            && t.contains("not a terminal")
            && t.contains("--password-stdin"),
        "{t}"
    );
    assert!(!t.contains("at least 10 characters"), "{t}");
    let o = cccwatch_stdin(
        d,
        &["user", "add", "li", "--role", "viewer", "--name", "李明"],
        "piped without the flag\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = cccwatch(d, &["user", "disable", "nobody"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("no user `nobody`"), "{}", text(&o));

    for args in [
        &["user", "role", "wangli", "supervisor"][..],
        &["user", "disable", "wangli"],
        &["user", "enable", "wangli"],
    ] {
        let o = cccwatch(d, args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    }
    let o = cccwatch_stdin(
        d,
        &["user", "passwd", "wangli", "--password-stdin"],
        "another long one\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = cccwatch(d, &["user", "list", "--json"]);
    let users: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(users[0]["username"], "li", "added from the pipe");
    let users: Vec<&serde_json::Value> = users
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["username"] == "wangli")
        .collect();
    assert_eq!(users[0]["username"], "wangli");
    assert_eq!(users[0]["role"], "supervisor");
    assert!(users[0].get("password_hash").is_none());
    let o = cccwatch(d, &["user", "token", "wangli", "--name", "对接"]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim().len(),
        64,
        "the token alone on stdout"
    );

    // Every change is in the audit log, and the chain is intact.
    let o = cccwatch(d, &["audit", "log", "--json"]);
    let log: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "token.add",
            "user.password",
            "user.enable",
            "user.disable",
            "user.role",
            "user.add",
            "user.add"
        ]
    );
    assert!(log[0]["actor"].as_str().unwrap().starts_with("cli:"));
    let o = cccwatch(d, &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("audit log intact: 7 entries"),
        "{}",
        text(&o)
    );
    let head = log[0]["hash"].as_str().unwrap();
    let o = cccwatch(d, &["audit", "verify", "--anchor", head]);
    assert!(o.status.success());
    let o = cccwatch(d, &["audit", "verify", "--anchor", &"0".repeat(64)]);
    assert_eq!(o.status.code(), Some(1));

    // serve refuses a bad address, naming the flag and key.
    let o = cccwatch(d, &["serve", "--bind", "localhost"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("web.bind"), "{}", text(&o));
}

#[test]
fn report_monthly_writes_the_workbook_and_a_bad_month_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let o = cccwatch_env(
        dir.path(),
        &["report", "monthly", "--month", "2026-13"],
        Some(&db),
    );
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--month") && text(&o).contains("YYYY-MM"),
        "{}",
        text(&o)
    );
    let o = cccwatch_env(
        dir.path(),
        &["report", "monthly", "--month", "2026-11", "--out", "out"],
        Some(&db),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(dir.path().join("out/月报-2026-11.xlsx").is_file());
    assert!(text(&o).contains("TOTAL"), "{}", text(&o));
    let o = cccwatch_env(
        dir.path(),
        &["report", "sellers", "--out", "sellers.txt"],
        Some(&db),
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("--out"), "{}", text(&o));
}

/// What an officer opens from `findings export`: Chinese headers, the
/// verdict in words beside its code, confidence as a percentage, capture
/// times in Beijing time; the JSONL keeps the codes and UTC times.
mod chinese_exports {
    use super::*;
    use calamine::{Data, Reader, Xlsx, open_workbook};
    use cccwatch::domain::Verdict;
    use cccwatch::export::{COLUMNS, SHEET};
    use serde_json::Value;
    use std::collections::HashMap;
    use std::path::Path;

    fn export(dir: &Path, db: &str, format: &str, out: &str) {
        let o = cccwatch(
            dir,
            &[
                "--db",
                db,
                "findings",
                "export",
                "--format",
                format,
                "--flagged-only",
                "--out",
                out,
            ],
        );
        assert!(o.status.success(), "{format}: {}", text(&o));
    }

    /// The JSONL rows by item ID.
    fn machine_rows(dir: &Path, db: &str) -> HashMap<String, Value> {
        export(dir, db, "jsonl", "machine.jsonl");
        std::fs::read_to_string(dir.join("machine.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .map(|v| (v["item_id"].as_str().unwrap().to_string(), v))
            .collect()
    }

    fn beijing(utc: &str) -> chrono::NaiveDateTime {
        chrono::DateTime::parse_from_rfc3339(utc)
            .unwrap()
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
            .naive_local()
    }

    fn col(name: &str) -> usize {
        COLUMNS.iter().position(|c| *c == name).unwrap()
    }

    /// Runs the three exports of the demo's database and reads them back.
    pub fn findings_exports_speak_chinese(dir: &Path, db: &str) {
        let machine = machine_rows(dir, db);
        assert!(!machine.is_empty());
        for m in machine.values() {
            assert!(Verdict::parse(m["verdict"].as_str().unwrap()).is_some());
            assert!((0.0..=1.0).contains(&m["confidence"].as_f64().unwrap()));
        }
        let captured = machine
            .values()
            .filter_map(|m| m["captured_at"].as_str())
            .collect::<Vec<_>>();
        assert!(!captured.is_empty(), "the demo keeps pages as evidence");
        assert!(captured.iter().all(|t| t.ends_with('Z')), "JSONL in UTC");
        csv_reads_back(dir, db, &machine);
        xlsx_reads_back(dir, db, &machine);
    }

    fn csv_reads_back(dir: &Path, db: &str, machine: &HashMap<String, Value>) {
        export(dir, db, "csv", "people.csv");
        let bytes = std::fs::read(dir.join("people.csv")).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
        let mut rdr = csv::Reader::from_reader(&bytes[3..]);
        let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(headers, COLUMNS);
        for h in [
            "结论",
            "结论代码",
            "置信度",
            "店铺/卖家",
            "抓取时间（北京时间）",
        ] {
            assert!(headers.iter().any(|x| x == h), "{h}");
        }
        let mut rows = 0;
        for rec in rdr.records() {
            let rec = rec.unwrap();
            let m = &machine[&rec[col("商品编号")]];
            let code = m["verdict"].as_str().unwrap();
            assert_eq!(&rec[col("结论代码")], code);
            assert_eq!(&rec[col("结论")], Verdict::parse(code).unwrap().label_zh());
            let pct = (m["confidence"].as_f64().unwrap() * 100.0).round();
            assert_eq!(rec[col("置信度")], format!("{pct}%"));
            assert_eq!(&rec[col("店铺/卖家")], m["seller"].as_str().unwrap_or(""));
            assert_eq!(
                &rec[col("证据哈希（SHA-256）")],
                m["evidence_sha256"].as_str().unwrap_or("")
            );
            let at = m["captured_at"]
                .as_str()
                .map(|t| beijing(t).format("%Y-%m-%d %H:%M:%S").to_string());
            assert_eq!(rec[col("抓取时间（北京时间）")], at.unwrap_or_default());
            rows += 1;
        }
        assert_eq!(rows, machine.len());
    }

    fn xlsx_reads_back(dir: &Path, db: &str, machine: &HashMap<String, Value>) {
        export(dir, db, "xlsx", "people.xlsx");
        let mut wb: Xlsx<_> = open_workbook(dir.join("people.xlsx")).unwrap();
        let range = wb.worksheet_range(SHEET).unwrap();
        let mut rows = range.rows();
        let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
        assert_eq!(header, COLUMNS);
        let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        for row in rows {
            let m = &machine[&row[col("商品编号")].to_string()];
            let code = m["verdict"].as_str().unwrap();
            assert_eq!(
                row[col("结论")].to_string(),
                Verdict::parse(code).unwrap().label_zh()
            );
            assert_eq!(row[col("结论代码")].to_string(), code);
            let Data::Float(c) = row[col("置信度")] else {
                panic!("confidence is a number: {:?}", row[col("置信度")]);
            };
            assert!(
                ((c * 100.0) - (c * 100.0).round()).abs() < 1e-9,
                "a whole percentage, not {c}"
            );
            match (&row[col("抓取时间（北京时间）")], m["captured_at"].as_str()) {
                (Data::DateTime(t), Some(utc)) => {
                    let want = (beijing(utc) - epoch).num_milliseconds() as f64 / 86_400_000.0;
                    assert!((t.as_f64() - want).abs() < 2e-5, "{utc}: {}", t.as_f64());
                }
                (Data::Empty, None) => {}
                (cell, utc) => panic!("capture time {cell:?} for {utc:?}"),
            }
        }
    }
}

/// Input files that cannot be imported are named with what is wrong with
/// them, in Chinese and English, and nothing from them is stored.
mod bad_input_files {
    use super::*;
    use std::path::Path;

    const HEADER: &str = "证书编号,证书状态,产品名称,规格型号,认证委托人名称,生产者名称,生产企业名称,颁证日期,证书到期日期";
    const GOOD: &str = "2016010201931890,有效,插座,GN-1,甲,甲,甲,2021-01-01,2026-01-01";

    fn stored(dir: &Path) -> u64 {
        let o = cccwatch(dir, &["certdb", "stats", "--json"]);
        assert!(o.status.success(), "{}", text(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["total"].as_u64().unwrap()
    }

    /// `certdb import FILE` fails with exit 2, says each of `wanted`,
    /// shows no raw library message and stores nothing.
    fn import_fails(dir: &Path, file: &str, wanted: &[&str]) {
        let o = cccwatch(dir, &["certdb", "import", file]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{file}: {t}");
        for w in wanted {
            assert!(t.contains(w), "{file}: `{w}` is not in:\n{t}");
        }
        for raw in ["Zip error", "EOCD", "Xlsx error", "missing headers"] {
            assert!(!t.contains(raw), "{file}: `{raw}` in:\n{t}");
        }
        assert_eq!(stored(dir), 0, "{file}: nothing stored");
    }

    /// A workbook with the header and one good row.
    fn workbook_bytes() -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (r, line) in [HEADER, GOOD].iter().enumerate() {
            for (c, v) in line.split(',').enumerate() {
                ws.write_string(r as u32, c as u16, v).unwrap();
            }
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn an_empty_file_is_called_empty() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("empty.csv"), b"").unwrap();
        import_fails(
            d,
            "empty.csv",
            &["empty.csv", "文件是空的", "the file is empty"],
        );
        std::fs::write(d.join("blank.csv"), "\u{feff}\r\n\r\n").unwrap();
        import_fails(d, "blank.csv", &["blank.csv", "文件是空的"]);
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.add_worksheet().set_name("证书").unwrap();
        wb.save(d.join("empty.xlsx")).unwrap();
        import_fails(
            d,
            "empty.xlsx",
            &["empty.xlsx", "第一个工作表“证书”是空的", "is empty"],
        );
    }

    #[test]
    fn a_file_that_is_not_a_workbook_says_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("export.xlsx"), format!("{HEADER}\n{GOOD}\n")).unwrap();
        import_fails(
            d,
            "export.xlsx",
            &[
                "export.xlsx",
                "不是 Excel 工作簿",
                "not an Excel workbook",
                "文本（可能是 CSV）",
                ".csv",
            ],
        );
        std::fs::write(
            d.join("page.xls"),
            "<html><body><table><tr><td>证书编号</td></tr></table></body></html>",
        )
        .unwrap();
        import_fails(d, "page.xls", &["page.xls", "网页（HTML）", "a web page"]);
        let whole = workbook_bytes();
        std::fs::write(d.join("cut.xlsx"), &whole[..whole.len() / 2]).unwrap();
        import_fails(
            d,
            "cut.xlsx",
            &[
                "cut.xlsx",
                "已损坏",
                "damaged, incomplete or password-protected",
            ],
        );
        // The tables the bureau gets back are read the same way.
        let o = cccwatch(d, &["signals", "import", "--kind", "complaint", "cut.xlsx"]);
        let t = text(&o);
        assert!(!o.status.success(), "{t}");
        assert!(t.contains("cut.xlsx") && t.contains("已损坏"), "{t}");
        assert!(!t.contains("EOCD") && !t.contains("Zip error"), "{t}");
        // A workbook named .csv is read as the workbook it is.
        std::fs::write(d.join("renamed.csv"), &whole).unwrap();
        let o = cccwatch(d, &["certdb", "import", "renamed.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("1 new"), "{}", text(&o));
    }

    #[test]
    fn missing_columns_are_named_with_the_columns_found() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("orders.csv"),
            "订单号,证书编号,金额\n1,2016010201931890,3\n",
        )
        .unwrap();
        import_fails(
            d,
            "orders.csv",
            &[
                "orders.csv",
                "不是证书导出文件",
                "missing required columns",
                "证书状态 (status)",
                "第 1 行的列为 (columns on line 1): 订单号, 证书编号, 金额",
            ],
        );
        let o = cccwatch(d, &["certdb", "import", "orders.csv"]);
        assert!(
            !text(&o).contains("证书编号 (cert_no)"),
            "present: not missing"
        );
        std::fs::write(d.join("complaints.csv"), "投诉人,电话\n张三,123\n").unwrap();
        let o = cccwatch(
            d,
            &["signals", "import", "--kind", "complaint", "complaints.csv"],
        );
        let t = text(&o);
        assert!(!o.status.success(), "{t}");
        assert!(
            t.contains("complaints.csv")
                && t.contains("没有含")
                && t.contains("(columns on line 1): 投诉人, 电话"),
            "{t}"
        );
    }

    #[test]
    fn a_bad_value_is_named_by_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("x.csv"),
            format!(
                "{HEADER}\n{GOOD}\n\
                 2016010201931891,有效,插座,GN-2,甲,甲,甲,2021-01-01,明年\n\
                 2016010201931892,有效,插座,GN-3,,甲,甲,2021-01-01,2026-01-01\n"
            ),
        )
        .unwrap();
        let o = cccwatch(d, &["certdb", "import", "x.csv"]);
        let t = text(&o);
        assert!(o.status.success(), "{t}");
        assert!(t.contains("1 new") && t.contains("2 rejected"), "{t}");
        assert!(
            t.contains("第 3 行 I 列“证书到期日期” (line 3, column 证书到期日期)")
                && t.contains("不是可识别的日期")
                && t.contains("值 (value) `明年`"),
            "{t}"
        );
        assert!(t.contains("第 4 行 E 列“认证委托人名称”"), "{t}");
        assert_eq!(stored(d), 1, "only the good row");
    }
}

/// `NAME.rejects.csv` is opened in Excel: formulas stay text; an export on
/// read-only media is still imported, its rejects written elsewhere.
mod rejects_file {
    use super::*;
    use std::path::Path;

    const HEADER: &str = "证书编号,证书状态,产品名称,规格型号,认证委托人名称,生产者名称,生产企业名称,颁证日期,证书到期日期";
    const GOOD: &str = "2016010201931890,有效,插座,GN-1,甲,甲,甲,2021-01-01,2026-01-01";
    const BAD: &str = "2016010201931891,有效,插座,GN-2,甲,甲,甲,2021-01-01,明年";

    fn write_export(path: &Path, rows: &[&str]) {
        let mut text = vec![HEADER];
        text.extend(rows);
        std::fs::write(path, text.join("\r\n") + "\r\n").unwrap();
    }

    /// The records of a rejects file (which starts with a BOM).
    fn records(path: &Path) -> Vec<Vec<String>> {
        let bytes = std::fs::read(path).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&bytes[3..])
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    }

    fn shown(dir: &Path, db: &str, cert: &str) -> bool {
        cccwatch(dir, &["--db", db, "certdb", "show", cert])
            .status
            .success()
    }

    #[test]
    fn formulas_in_rejected_rows_stay_text() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_export(
            &d.join("x.csv"),
            &[
                GOOD,
                "2016010201931891,有效,\"=HYPERLINK(\"\"http://x.example\"\",\"\"点我\"\")\",GN-2,@SUM(1),甲,甲,2021-01-01,明年",
                "2016010201931892,+cmd,插座,-2+3,甲,甲,甲,2021-01-01,2026-01-01",
            ],
        );
        let o = cccwatch(d, &["certdb", "import", "x.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        let recs = records(&d.join("x.rejects.csv"));
        assert_eq!(recs.len(), 3, "header + 2 rejected rows");
        for cell in recs.iter().flatten() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "`{cell}` would run as a formula"
            );
        }
        let cells: Vec<&str> = recs.iter().flatten().map(String::as_str).collect();
        for wanted in [
            "'=HYPERLINK(\"http://x.example\",\"点我\")",
            "'@SUM(1)",
            "'+cmd",
            "'-2+3",
        ] {
            assert!(cells.contains(&wanted), "{wanted} not in {cells:?}");
        }
    }

    /// `dir` made read-only; as root, who writes anyway, the rejects file's
    /// place is taken by a folder so that it cannot be written either.
    #[cfg(unix)]
    fn make_read_only(dir: &Path, blocked: &str) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let probe = dir.join(".probe");
        if std::fs::write(&probe, b"").is_ok() {
            std::fs::remove_file(&probe).unwrap();
            std::fs::create_dir(dir.join(blocked)).unwrap();
        }
    }

    #[cfg(unix)]
    #[test]
    fn an_export_on_read_only_media_is_imported_with_its_rejects_beside_the_database() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let media = d.join("media");
        std::fs::create_dir_all(&media).unwrap();
        std::fs::create_dir_all(d.join("data")).unwrap();
        write_export(&media.join("x.csv"), &[GOOD, BAD]);
        make_read_only(&media, "x.rejects.csv");
        let db = format!("sqlite://{}", d.join("data/c.db").display());
        let o = cccwatch(d, &["--db", &db, "certdb", "import", "media/x.csv"]);
        let t = text(&o);
        std::fs::set_permissions(&media, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(o.status.success(), "{t}");
        assert!(t.contains("1 new") && t.contains("1 rejected"), "{t}");
        let moved = d.join("data/rejects/x.rejects.csv");
        assert!(
            t.contains(&format!("written to {} instead", moved.display()))
                && t.contains("被拒行及原因已写入"),
            "{t}"
        );
        let recs = records(&moved);
        assert_eq!(recs.len(), 2, "header + the bad row");
        assert_eq!(recs[1][0], "3");
        assert!(!media.join("x.rejects.csv").is_file());
        assert!(shown(d, &db, "2016010201931890"), "the good row is stored");
    }

    #[test]
    fn rejects_go_where_asked() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let db = format!("sqlite://{}", d.join("c.db").display());
        write_export(&d.join("a.csv"), &[GOOD, BAD]);
        write_export(&d.join("b.csv"), &[BAD]);
        std::fs::create_dir(d.join("out")).unwrap();
        let run = |args: &[&str]| {
            let mut all = vec!["--db", db.as_str(), "certdb", "import"];
            all.extend(args);
            cccwatch(d, &all)
        };
        let o = run(&["a.csv", "b.csv", "--rejects", "out"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(d.join("out/a.rejects.csv").is_file() && d.join("out/b.rejects.csv").is_file());
        assert!(!d.join("a.rejects.csv").exists());
        let o = run(&["a.csv", "b.csv", "--rejects", "new/"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(d.join("new/a.rejects.csv").is_file() && d.join("new/b.rejects.csv").is_file());
        let o = run(&["a.csv", "--rejects", "mine.csv"]);
        assert!(o.status.success(), "{}", text(&o));
        assert_eq!(records(&d.join("mine.csv")).len(), 2);
        // One file for two imports would be overwritten: refused before anything.
        let o = run(&["a.csv", "b.csv", "--rejects", "one.csv"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("--rejects one.csv") && text(&o).contains("give a folder"));
        // A place that cannot be written: nothing from the file is stored.
        let fresh = format!("sqlite://{}", d.join("fresh.db").display());
        let o = cccwatch(
            d,
            &[
                "--db",
                &fresh,
                "certdb",
                "import",
                "a.csv",
                "--rejects",
                "nope/r.csv",
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains("nope/r.csv")
                && text(&o).contains("nothing from this import was stored"),
            "{}",
            text(&o)
        );
        assert!(!shown(d, &fresh, "2016010201931890"));
    }
}

/// A platform file with a selector that does not parse is named by file,
/// key and selector, with what is wrong in words.
#[test]
fn a_bad_selector_names_the_file_the_key_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let platforms = dir.path().join("config/platforms");
    std::fs::create_dir_all(&platforms).unwrap();
    let head = "base_url = \"http://x.example\"\n[search]\nurl = \"{base}/?q={keyword}\"\n";
    std::fs::write(
        platforms.join("shop.toml"),
        format!("name = \"shop\"\n{head}card = \"li[=x]\"\nitem_link = \"a@href\"\n"),
    )
    .unwrap();
    std::fs::write(
        platforms.join("wide.toml"),
        format!(
            "name = \"wide\"\n{head}card = \"li\"\nitem_link = [\"a.title@href\", \"a：first-child@href\"]\n"
        ),
    )
    .unwrap();
    let o = cccwatch(dir.path(), &["adapter", "check"]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("config/platforms/shop.toml")
            && t.contains("`search.card`")
            && t.contains("`li[=x]`")
            && t.contains("must start with an attribute name"),
        "{t}"
    );
    assert!(
        t.contains("config/platforms/wide.toml")
            && t.contains("`search.item_link[2]`")
            && t.contains("full-width"),
        "{t}"
    );
    assert!(
        !t.contains("report this") && !t.contains("NoQualifiedName"),
        "{t}"
    );
}
