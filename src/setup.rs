//! `cccwatch init`: a bureau sets itself up. In: answers (from flags or
//! asked on a terminal) — the bureau's name, the notice number's format,
//! the contact (section, person, telephone), each platform's Chinese name
//! and addressee, the seal text, the PDF browser. Out: the text of this
//! machine's configuration layer (`config/local.toml`), one commented key
//! per answer, keeping what an earlier file set that init does not ask.
//! The command line writes it and runs `config check` on the result.

use crate::config::{NoticeSettings, Settings};
use crate::config_check::show::{bare_or_quoted as key, inline, quote};
use crate::extract::PlatformLabels;
use crate::notice::policy;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

/// The section, person and telephone of the letter's contact line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub dept: String,
    pub person: String,
    pub phone: String,
}

impl Contact {
    /// As the letter prints it after 联系人：.
    pub fn line(&self) -> String {
        format!(
            "{} {}，电话：{}",
            self.dept.trim(),
            self.person.trim(),
            self.phone.trim()
        )
    }
}

/// What `init` writes; `None` and empty maps are left to the other layers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    pub bureau: Option<String>,
    pub number_format: Option<String>,
    pub number_prefix: Option<String>,
    pub contact: Option<Contact>,
    pub seal_text: Option<String>,
    pub pdf_browser: Option<String>,
    /// Platform → its name for people (`platforms.labels`).
    pub labels: BTreeMap<String, String>,
    /// Platform → how letters address it (`notices.platform_names`).
    pub addressees: BTreeMap<String, String>,
}

/// An answer that cannot be used: the flag, the key and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag} ({key}): {message}")]
pub struct AnswerError {
    pub flag: String,
    pub key: String,
    pub message: String,
}

fn bad(flag: &str, key: &str, message: impl Into<String>) -> AnswerError {
    AnswerError {
        flag: flag.into(),
        key: key.into(),
        message: message.into(),
    }
}

impl Answers {
    pub fn is_empty(&self) -> bool {
        *self == Answers::default()
    }

    /// Checks every answer; `platforms` are the platform files' names.
    pub fn validate(&self, platforms: &[String]) -> Result<(), Vec<AnswerError>> {
        let mut errors = Vec::new();
        if let Some((key, message)) = self.bureau.as_deref().and_then(bureau_problem) {
            errors.push(bad("--bureau", key, message));
        }
        if let Some(message) = self.number_format.as_deref().and_then(format_problem) {
            errors.push(bad("--number-format", "notices.number_format", message));
        }
        if let Some(c) = &self.contact {
            for (flag, v) in [
                ("--contact-dept", &c.dept),
                ("--contact-person", &c.person),
                ("--contact-phone", &c.phone),
            ] {
                if v.trim().is_empty() {
                    errors.push(bad(flag, "notices.contact", "is empty"));
                }
            }
            if let Some(message) = Some(c.phone.trim())
                .filter(|p| !p.is_empty())
                .and_then(phone_problem)
            {
                errors.push(bad("--contact-phone", "notices.contact", message));
            }
        }
        for (flag, key, map) in [
            ("--platform-label", "platforms.labels", &self.labels),
            (
                "--platform-addressee",
                "notices.platform_names",
                &self.addressees,
            ),
        ] {
            for (name, value) in map {
                if !platforms.contains(name) {
                    let hint = platforms
                        .iter()
                        .find(|p| p.eq_ignore_ascii_case(name))
                        .map(|p| format!(" (did you mean `{p}`?)"))
                        .unwrap_or_default();
                    errors.push(bad(
                        flag,
                        &format!("{key}.{name}"),
                        format!(
                            "no platform `{name}`{hint}; the platforms are: {}",
                            platforms.join(", ")
                        ),
                    ));
                } else if value.trim().is_empty() {
                    errors.push(bad(flag, &format!("{key}.{name}"), "is empty"));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The configuration layer as TOML: a commented key per answer, and
    /// in its table what `previous` (the file being replaced) set that init
    /// does not ask. `year` is for the example number.
    pub fn render(&self, previous: Option<&toml::Table>, year: i32) -> String {
        let mut sections: Vec<(String, Vec<String>)> = vec![
            ("web".into(), self.web_entries()),
            ("notices".into(), self.notice_entries(year)),
            (
                "notices.platform_names".into(),
                map_entries(
                    "How letters address each platform (its operator).",
                    &self.addressees,
                ),
            ),
            (
                "platforms.labels".into(),
                map_entries(
                    "Each platform's name on pages, letters, lists and reports.",
                    &self.labels,
                ),
            ),
        ];
        if let Some(previous) = previous {
            let mut kept = Vec::new();
            flatten(&self.unasked(previous), "", &mut kept);
            for (table, line) in kept {
                let at = match sections.iter().position(|(t, _)| *t == table) {
                    Some(i) => i,
                    None => {
                        sections.push((table, Vec::new()));
                        sections.len() - 1
                    }
                };
                let lines = &mut sections[at].1;
                if !lines.iter().any(|l| l.starts_with(KEPT)) {
                    lines.push(format!("{KEPT}\n"));
                }
                lines.push(line);
            }
        }
        let mut out = String::from(
            "# This machine's settings for cccwatch, written by `cccwatch init`.\n\
             # They override config/cccwatch.toml, which documents every key and the\n\
             # layers; environment variables CCCWATCH__SECTION__KEY and flags override\n\
             # this file. Edit freely; `cccwatch config check` checks the result.\n",
        );
        // Keys outside any table must come before the first header.
        sections.sort_by_key(|(t, _)| !t.is_empty());
        for (table, lines) in sections.iter().filter(|(_, l)| !l.is_empty()) {
            if table.is_empty() {
                out.push('\n');
            } else {
                let header: Vec<String> = table.split('.').map(key).collect();
                out.push_str(&format!("\n[{}]\n", header.join(".")));
            }
            lines.iter().for_each(|l| out.push_str(l));
        }
        out
    }

    fn web_entries(&self) -> Vec<String> {
        self.bureau
            .iter()
            .map(|b| {
                entry(
                    "The bureau's name in the workspace's page header.",
                    "bureau_name",
                    b,
                )
            })
            .collect()
    }

    fn notice_entries(&self, year: i32) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(b) = &self.bureau {
            out.push(entry(
                "The issuing authority, printed at the head of each letter.",
                "issuer",
                b,
            ));
        }
        if self.number_format.is_some() || self.number_prefix.is_some() {
            let d = NoticeSettings::default();
            let format = self.number_format.as_deref().unwrap_or(&d.number_format);
            let prefix = self.number_prefix.as_deref().unwrap_or(&d.number_prefix);
            let example = crate::notice::format_number(format, prefix, year, 17);
            let doc = format!(
                "The document number: {{prefix}}, {{year}} and {{seq}} (one sequence a\nyear) are filled in, e.g. {example}."
            );
            if let Some(f) = &self.number_format {
                out.push(entry(&doc, "number_format", f));
            }
            if let Some(p) = &self.number_prefix {
                let doc = if self.number_format.is_some() {
                    ""
                } else {
                    &doc
                };
                out.push(entry(doc, "number_prefix", p));
            }
        }
        if let Some(c) = &self.contact {
            out.push(entry(
                "The letter's contact line: section, person, telephone.",
                "contact",
                &c.line(),
            ));
        }
        if let Some(s) = &self.seal_text {
            out.push(entry(
                "Printed under the signature, where the seal goes.",
                "seal_text",
                s,
            ));
        }
        if let Some(b) = &self.pdf_browser {
            out.push(entry(
                "Headless Chromium that prints letter.pdf; \"\" turns PDF off.",
                "pdf_browser",
                b,
            ));
        }
        out
    }

    /// What `previous` sets that these answers do not replace.
    fn unasked(&self, previous: &toml::Table) -> toml::Table {
        let mut kept = previous.clone();
        let mut drop = |path: &[&str]| remove_path(&mut kept, path);
        if self.bureau.is_some() {
            drop(&["web", "bureau_name"]);
            drop(&["notices", "issuer"]);
        }
        if self.number_format.is_some() {
            drop(&["notices", "number_format"]);
        }
        if self.number_prefix.is_some() {
            drop(&["notices", "number_prefix"]);
        }
        if self.contact.is_some() {
            drop(&["notices", "contact"]);
        }
        if self.seal_text.is_some() {
            drop(&["notices", "seal_text"]);
        }
        if self.pdf_browser.is_some() {
            drop(&["notices", "pdf_browser"]);
        }
        for name in self.addressees.keys() {
            drop(&["notices", "platform_names", name]);
        }
        for name in self.labels.keys() {
            drop(&["platforms", "labels", name]);
        }
        prune_empty(&mut kept);
        kept
    }
}

/// Why a bureau name cannot be used (the key it is for), if it cannot.
fn bureau_problem(name: &str) -> Option<(&'static str, String)> {
    if policy::bureau_is_placeholder(name) {
        Some((
            "notices.issuer",
            format!(
                "`{}` is the generic name: give the bureau's own, e.g. 梅县市场监督管理局",
                name.trim()
            ),
        ))
    } else if name.trim().chars().count() > 60 {
        Some(("web.bureau_name", "must be 1 to 60 characters".into()))
    } else {
        None
    }
}

/// Why a number format cannot be used, if it cannot.
fn format_problem(format: &str) -> Option<String> {
    (!format.contains("{seq}")).then(|| {
        format!(
            "`{format}` must contain {{seq}}, the batch's sequence number, e.g. {{prefix}}CCC〔{{year}}〕{{seq}}号"
        )
    })
}

/// Why a telephone number cannot be used, if it cannot.
fn phone_problem(phone: &str) -> Option<String> {
    (phone.chars().filter(char::is_ascii_digit).count() < 5).then(|| {
        format!(
            "`{}` is not a telephone number, e.g. 0753-2188123",
            phone.trim()
        )
    })
}

fn remove_path(t: &mut toml::Table, path: &[&str]) {
    match path {
        [] => {}
        [last] => {
            t.remove(*last);
        }
        [first, rest @ ..] => {
            if let Some(toml::Value::Table(sub)) = t.get_mut(*first) {
                remove_path(sub, rest);
            }
        }
    }
}

fn prune_empty(t: &mut toml::Table) {
    for (_, v) in t.iter_mut() {
        if let toml::Value::Table(sub) = v {
            prune_empty(sub);
        }
    }
    t.retain(|_, v| !matches!(v, toml::Value::Table(sub) if sub.is_empty()));
}

/// The comment above settings kept from an earlier file.
const KEPT: &str = "# Kept from the file this one replaced:";

/// `key = "value"` per entry, the first under `# doc`.
fn map_entries(doc: &str, m: &BTreeMap<String, String>) -> Vec<String> {
    let mut lines: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{} = {}\n", key(k), quote(v)))
        .collect();
    if let Some(first) = lines.first_mut() {
        *first = format!("# {doc}\n{first}");
    }
    lines
}

/// Every value of `t` that is not a table, as (its table's dotted path,
/// `key = value` line); arrays of tables are written inline.
fn flatten(t: &toml::Table, path: &str, out: &mut Vec<(String, String)>) {
    for (k, v) in t {
        if let toml::Value::Table(sub) = v {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            flatten(sub, &p, out);
        } else {
            out.push((path.to_string(), format!("{} = {}\n", key(k), inline(v))));
        }
    }
}

/// `# doc` (each line) and `key = "value"`.
fn entry(doc: &str, k: &str, v: &str) -> String {
    let mut s = String::new();
    for line in doc.lines().filter(|l| !l.trim().is_empty()) {
        let line = line.trim_start_matches("# ");
        s.push_str(&format!("# {line}\n"));
    }
    s.push_str(&format!("{} = {}\n", key(k), quote(v)));
    s
}

/// Browsers tried, in order, when the setting names none that is installed.
pub const BROWSERS: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// The PDF browser to suggest: the current setting when it is installed,
/// else the first of [`BROWSERS`] on PATH, else the current setting.
pub fn suggested_browser(current: &str) -> String {
    if crate::notice::pdf::find_browser(current).is_some() {
        return current.to_string();
    }
    BROWSERS
        .iter()
        .find_map(|b| crate::notice::pdf::find_browser(b))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| current.to_string())
}

/// Asks, on `out`, for every answer not given yet, reading lines from
/// `input`; `current` are the effective settings (their values are the
/// defaults offered, except placeholders) and `platforms` the platform
/// files. An empty line keeps the default (or leaves the key unset when
/// there is none); end of input stops asking.
pub fn ask(
    answers: &mut Answers,
    current: &Settings,
    platforms: &PlatformLabels,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut q = Questions {
        input,
        out,
        done: false,
    };
    let n = &current.notices;
    writeln!(
        q.out,
        "cccwatch init：填写本局的设置（方括号内为默认值，直接回车采用；Ctrl-D 结束）。"
    )?;
    if answers.bureau.is_none() {
        let d = (!policy::bureau_is_placeholder(&n.issuer)).then_some(n.issuer.as_str());
        answers.bureau = q.ask_checked(
            "局名称，如 梅县市场监督管理局（notices.issuer、web.bureau_name）",
            d,
            &|b| bureau_problem(b).map(|(_, m)| m),
        )?;
    }
    if answers.number_prefix.is_none() {
        answers.number_prefix = q.ask(
            "通知书文号前缀，如 梅县市监（notices.number_prefix）",
            Some(&n.number_prefix),
        )?;
    }
    if answers.number_format.is_none() {
        answers.number_format = q.ask_checked(
            "文号格式，{prefix}、{year}、{seq} 依次替换为前缀、年份、序号（notices.number_format）",
            Some(&n.number_format),
            &format_problem,
        )?;
    }
    if answers.contact.is_none() && !q.done {
        let keep = (!policy::contact_is_placeholder(&n.contact)).then_some(n.contact.as_str());
        if let Some(line) = keep {
            writeln!(q.out, "现在的联系人行：{line}（三项都直接回车则保留）")?;
        }
        let dept = q.ask("联系科室，如 市场监管科（notices.contact）", None)?;
        let person = q.ask("联系人姓名", None)?;
        let phone = q.ask_checked("联系电话", None, &phone_problem)?;
        if dept.is_some() || person.is_some() || phone.is_some() || keep.is_none() {
            answers.contact = Some(Contact {
                dept: dept.unwrap_or_default(),
                person: person.unwrap_or_default(),
                phone: phone.unwrap_or_default(),
            })
            .filter(|c| *c != Contact::default());
        }
    }
    for name in platforms.names() {
        if !answers.labels.contains_key(name) {
            let d = platforms.has_label(name).then(|| platforms.label(name));
            if let Some(l) = q.ask(
                &format!("平台 {name} 的中文名称（platforms.labels.{name}）"),
                d,
            )? && Some(l.as_str()) != d
            {
                answers.labels.insert(name.to_string(), l);
            }
        }
        if !answers.addressees.contains_key(name) {
            let d = n.addressee(name);
            let what = format!(
                "平台 {name} 的通知对象，即平台经营者全称，不发通知的平台可直接回车（notices.platform_names.{name}）"
            );
            if let Some(a) = q.ask(&what, d)? {
                answers.addressees.insert(name.to_string(), a);
            }
        }
    }
    if answers.seal_text.is_none() {
        answers.seal_text = q.ask(
            "落款处盖章提示文字（notices.seal_text）",
            Some(&n.seal_text),
        )?;
    }
    if answers.pdf_browser.is_none() {
        let d = suggested_browser(&n.pdf_browser);
        answers.pdf_browser = q
            .ask(
                "打印 PDF 通知书的 Chromium 浏览器路径，填 - 表示不生成 PDF（notices.pdf_browser）",
                Some(&d),
            )?
            .map(|b| if b == "-" { String::new() } else { b });
    }
    writeln!(q.out)?;
    Ok(())
}

struct Questions<'a> {
    input: &'a mut dyn BufRead,
    out: &'a mut dyn Write,
    /// End of input: no more questions, defaults for the rest.
    done: bool,
}

impl Questions<'_> {
    /// [`Questions::ask`], asked again (up to three times) while `problem`
    /// finds one in the answer; then the answer is left unset.
    fn ask_checked(
        &mut self,
        what: &str,
        default: Option<&str>,
        problem: &dyn Fn(&str) -> Option<String>,
    ) -> std::io::Result<Option<String>> {
        for _ in 0..3 {
            let Some(answer) = self.ask(what, default)? else {
                return Ok(None);
            };
            match problem(&answer) {
                None => return Ok(Some(answer)),
                Some(why) if self.done => {
                    writeln!(self.out, "{why}")?;
                    return Ok(None);
                }
                Some(why) => writeln!(self.out, "{why}，请重新输入")?,
            }
        }
        Ok(None)
    }

    /// The answer, the default on an empty line, `None` without either.
    fn ask(&mut self, what: &str, default: Option<&str>) -> std::io::Result<Option<String>> {
        let default = default.map(str::trim).filter(|d| !d.is_empty());
        if self.done {
            return Ok(default.map(str::to_string));
        }
        match default {
            Some(d) => write!(self.out, "{what} [{d}]: ")?,
            None => write!(self.out, "{what}: ")?,
        }
        self.out.flush()?;
        let mut line = String::new();
        if self.input.read_line(&mut line)? == 0 {
            self.done = true;
            writeln!(self.out)?;
        }
        let line = line.trim();
        Ok(if line.is_empty() {
            default.map(str::to_string)
        } else {
            Some(line.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers() -> Answers {
        Answers {
            bureau: Some("梅县市场监督管理局".into()),
            number_format: Some("{prefix}CCC〔{year}〕{seq}号".into()),
            number_prefix: Some("梅县市监".into()),
            contact: Some(Contact {
                dept: "市场监管科".into(),
                person: "张三".into(),
                phone: "0753-2188123".into(),
            }),
            seal_text: Some("（盖章）".into()),
            pdf_browser: Some(String::new()),
            labels: [("jd".to_string(), "京东商城".to_string())].into(),
            addressees: [(
                "jd".to_string(),
                "北京京东叁佰陆拾度电子商务有限公司".to_string(),
            )]
            .into(),
        }
    }

    #[test]
    fn the_file_reads_back_as_the_answers_with_a_comment_per_key() {
        let text = answers().render(None, 2026);
        let s: Settings = toml::from_str(&text).expect("a settings layer");
        assert_eq!(s.web.bureau_name, "梅县市场监督管理局");
        assert_eq!(s.notices.issuer, "梅县市场监督管理局");
        assert_eq!(s.notices.number_prefix, "梅县市监");
        assert_eq!(s.notices.contact, "市场监管科 张三，电话：0753-2188123");
        assert_eq!(s.notices.pdf_browser, "");
        assert_eq!(
            s.notices.addressee("jd"),
            Some("北京京东叁佰陆拾度电子商务有限公司")
        );
        assert_eq!(s.platforms.labels["jd"], "京东商城");
        assert!(text.contains("e.g. 梅县市监CCC〔2026〕17号"), "{text}");
        for key in [
            "bureau_name",
            "issuer",
            "number_format",
            "contact",
            "seal_text",
            "pdf_browser",
        ] {
            let at = text
                .find(&format!("\n{key} = "))
                .unwrap_or_else(|| panic!("{key} in {text}"));
            assert!(
                text[..at]
                    .trim_end()
                    .lines()
                    .last()
                    .unwrap()
                    .starts_with('#'),
                "{key} has a comment"
            );
        }
    }

    #[test]
    fn only_the_answers_given_are_written_and_earlier_settings_are_kept() {
        let only = Answers {
            contact: answers().contact,
            ..Answers::default()
        };
        let previous: toml::Table = toml::from_str(
            "[database]\nurl = \"sqlite:///srv/cccwatch/cccwatch.db\"\n[notices]\ncontact = \"旧的\"\nissuer = \"梅县市场监督管理局\"\n",
        )
        .unwrap();
        let text = only.render(Some(&previous), 2026);
        let s: Settings = toml::from_str(&text).expect("a settings layer");
        assert_eq!(
            s.database.url.expose(),
            "sqlite:///srv/cccwatch/cccwatch.db",
            "kept"
        );
        assert_eq!(s.notices.issuer, "梅县市场监督管理局", "kept");
        assert_eq!(
            s.notices.contact, "市场监管科 张三，电话：0753-2188123",
            "replaced"
        );
        assert!(!text.contains("旧的"));
        assert!(!text.contains("[web]"), "nothing asked for the web: {text}");
    }

    #[test]
    fn kept_settings_join_their_own_tables() {
        let previous: toml::Table = toml::from_str(
            "[notices]\ndeadline_days = 14\ncontact = \"旧的\"\n[notices.platform_names]\ntmall = \"浙江天猫网络有限公司\"\n\
             [[schedule.jobs]]\nname = \"nightly\"\ncron = \"30 1 * * *\"\n",
        )
        .unwrap();
        let text = answers().render(Some(&previous), 2026);
        let s: Settings = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(s.notices.deadline_days, 14);
        assert_eq!(s.notices.addressee("tmall"), Some("浙江天猫网络有限公司"));
        assert_eq!(
            s.notices.addressee("jd"),
            Some("北京京东叁佰陆拾度电子商务有限公司")
        );
        assert_eq!(s.schedule.jobs[0].name, "nightly");
        assert_eq!(text.matches("[notices]").count(), 1, "{text}");
        assert!(text.contains(KEPT));
    }

    #[test]
    fn bad_answers_name_the_flag_and_the_key() {
        let mut a = answers();
        a.bureau = Some("市场监督管理局".into());
        a.number_format = Some("梅县市监CCC〔{year}〕号".into());
        a.contact.as_mut().unwrap().phone = "张三".into();
        a.addressees.insert("JD".into(), "x".into());
        let e = a.validate(&["demo".into(), "jd".into()]).unwrap_err();
        let all: Vec<String> = e.iter().map(|e| e.to_string()).collect();
        let all = all.join("\n");
        for wanted in [
            "--bureau (notices.issuer)",
            "--number-format (notices.number_format)",
            "--contact-phone (notices.contact)",
            "--platform-addressee (notices.platform_names.JD): no platform `JD` (did you mean `jd`?)",
        ] {
            assert!(all.contains(wanted), "{wanted} in:\n{all}");
        }
        assert!(answers().validate(&["jd".into()]).is_ok());
    }

    #[test]
    fn questions_offer_defaults_and_skip_what_is_given() {
        let platforms = PlatformLabels::from_pairs([("jd", "京东"), ("shop", "")]);
        let mut given = Answers {
            bureau: Some("梅县市场监督管理局".into()),
            ..Answers::default()
        };
        // prefix, format (default), dept, person, phone, jd label (default), jd
        // addressee, shop label, shop addressee (skipped), seal (default), browser "-".
        let typed = "梅县市监\n\n市场监管科\n张三\n0753-2188123\n\n北京京东叁佰陆拾度电子商务有限公司\n小店\n\n\n-\n";
        let mut out = Vec::new();
        ask(
            &mut given,
            &Settings::default(),
            &platforms,
            &mut typed.as_bytes(),
            &mut out,
        )
        .unwrap();
        let shown = String::from_utf8(out).unwrap();
        assert!(!shown.contains("局名称"), "given by flag: not asked");
        assert!(
            shown.contains("（platforms.labels.jd） [京东]: "),
            "{shown}"
        );
        assert_eq!(given.number_prefix.as_deref(), Some("梅县市监"));
        assert_eq!(
            given.number_format.as_deref(),
            Some("{prefix}CCC〔{year}〕{seq}号")
        );
        assert_eq!(
            given.contact.as_ref().unwrap().line(),
            "市场监管科 张三，电话：0753-2188123"
        );
        assert_eq!(
            given.labels,
            BTreeMap::from([("shop".to_string(), "小店".to_string())])
        );
        assert_eq!(given.addressees.len(), 1);
        assert_eq!(given.seal_text.as_deref(), Some("（盖章）"));
        assert_eq!(given.pdf_browser.as_deref(), Some(""));
        assert!(given.validate(&["jd".into(), "shop".into()]).is_ok());
    }

    #[test]
    fn a_bad_answer_is_asked_again() {
        let platforms = PlatformLabels::default();
        let mut a = Answers::default();
        // bureau: generic, then its own; prefix, format: defaults; phone: words, then digits.
        let typed =
            "市场监督管理局\n梅县市场监督管理局\n\n\n市场监管科\n张三\n张三的电话\n0753-2188123\n";
        let mut out = Vec::new();
        ask(
            &mut a,
            &Settings::default(),
            &platforms,
            &mut typed.as_bytes(),
            &mut out,
        )
        .unwrap();
        let shown = String::from_utf8(out).unwrap();
        assert_eq!(shown.matches("请重新输入").count(), 2, "{shown}");
        assert_eq!(a.bureau.as_deref(), Some("梅县市场监督管理局"));
        assert_eq!(a.contact.unwrap().phone, "0753-2188123");
    }

    #[test]
    fn end_of_input_stops_asking() {
        let platforms = PlatformLabels::from_pairs([("jd", "京东")]);
        let mut a = Answers::default();
        let mut out = Vec::new();
        ask(
            &mut a,
            &Settings::default(),
            &platforms,
            &mut "梅县市场监督管理局\n".as_bytes(),
            &mut out,
        )
        .unwrap();
        assert_eq!(a.bureau.as_deref(), Some("梅县市场监督管理局"));
        assert_eq!(a.contact, None, "not answered: left unset");
        assert!(a.addressees.is_empty());
        assert_eq!(
            a.number_prefix.as_deref(),
            Some("市监"),
            "defaults for the rest"
        );
    }
}
