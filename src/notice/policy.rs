//! Act stage, the rules before a number is taken (pure): a letter goes out
//! only when every setting it prints is the bureau's own — not the generic
//! bureau name, not the request to fill in the contact, not a platform's
//! short name where its addressee belongs — and only to a platform cccwatch
//! knows. Each refusal names the setting and the `cccwatch init` flag that
//! fills it. `config check` warns with the same rules.

use crate::config::{CONTACT_PLACEHOLDER, DEFAULT_BUREAU, NoticeSettings};
use std::fmt;

/// A setting the letter would print while it is still a placeholder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Placeholder {
    /// The setting to fill, e.g. `notices.contact`.
    pub key: String,
    /// What it is, in Chinese.
    pub what: &'static str,
    /// Why it counts as a placeholder.
    pub why: String,
    /// The `cccwatch init` flags that fill it.
    pub init: String,
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (cccwatch init {})",
            self.key, self.why, self.init
        )
    }
}

impl Placeholder {
    /// The same, in Chinese, for the workspace.
    pub fn zh(&self) -> String {
        format!(
            "{}（{}）尚未填写，请系统管理员运行 cccwatch init {}",
            self.what, self.key, self.init
        )
    }
}

/// Whether the contact line is still the request to fill it in.
pub fn contact_is_placeholder(contact: &str) -> bool {
    let c = contact.trim();
    c.is_empty() || c == CONTACT_PLACEHOLDER || c.contains("请在配置文件")
}

/// Whether a bureau name is the generic one the settings start with.
pub fn bureau_is_placeholder(name: &str) -> bool {
    let n = name.trim();
    n.is_empty() || n == DEFAULT_BUREAU
}

/// The settings a letter to `platform` would print as placeholders. `uses`
/// says whether the letter template prints a variable (a bureau's own
/// letter may leave some out); the built-in letter prints them all.
pub fn placeholders(
    settings: &NoticeSettings,
    platform: &str,
    uses: &dyn Fn(&str) -> bool,
) -> Vec<Placeholder> {
    let mut out = Vec::new();
    if uses("issuer") && bureau_is_placeholder(&settings.issuer) {
        out.push(Placeholder {
            key: "notices.issuer".into(),
            what: "签发机关（局名称）",
            why: format!(
                "is the generic `{}`, not the bureau's own name",
                settings.issuer.trim()
            ),
            init: "--bureau NAME".into(),
        });
    }
    if uses("contact") && contact_is_placeholder(&settings.contact) {
        out.push(Placeholder {
            key: "notices.contact".into(),
            what: "联系人（科室、联系人、电话）",
            why: "is still the request to fill in section, person and telephone".into(),
            init: "--contact-dept DEPT --contact-person NAME --contact-phone PHONE".into(),
        });
    }
    if (uses("addressee") || uses("platform_label")) && settings.addressee(platform).is_none() {
        out.push(Placeholder {
            key: format!("notices.platform_names.{platform}"),
            what: "收件平台名称（平台经营者）",
            why: format!("is not set: the letter would be addressed to `{platform}：`"),
            init: format!("--platform-addressee {platform}=NAME"),
        });
    }
    out
}

/// Why `platform` cannot be noticed: it is not among `known`. Names a
/// known one that differs only in case.
pub fn unknown_platform(platform: &str, known: &[String]) -> Option<String> {
    if known.iter().any(|k| k == platform) {
        return None;
    }
    let hint = known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(platform))
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    Some(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled() -> NoticeSettings {
        NoticeSettings {
            issuer: "梅县市场监督管理局".into(),
            contact: "市场监管科 张三，电话：0753-1234567".into(),
            platform_names: [(
                "jd".to_string(),
                "北京京东叁佰陆拾度电子商务有限公司".to_string(),
            )]
            .into(),
            ..NoticeSettings::default()
        }
    }

    #[test]
    fn the_defaults_are_placeholders_and_each_names_its_key_and_flag() {
        let found = placeholders(&NoticeSettings::default(), "demo", &|_| true);
        let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "notices.issuer",
                "notices.contact",
                "notices.platform_names.demo"
            ]
        );
        assert!(found[1].to_string().contains("--contact-person"));
        assert!(
            found[2]
                .to_string()
                .contains("--platform-addressee demo=NAME")
        );
        assert!(found[2].zh().contains("收件平台") && found[2].zh().contains("cccwatch init"));
    }

    #[test]
    fn filled_settings_have_none_and_blank_ones_count_as_placeholders() {
        assert!(placeholders(&filled(), "jd", &|_| true).is_empty());
        let only_tmall = placeholders(&filled(), "tmall", &|_| true);
        assert_eq!(only_tmall.len(), 1);
        assert_eq!(only_tmall[0].key, "notices.platform_names.tmall");
        let mut blank = filled();
        blank.contact = "  ".into();
        blank.platform_names.insert("jd".into(), " ".into());
        blank.issuer = String::new();
        assert_eq!(placeholders(&blank, "jd", &|_| true).len(), 3);
    }

    #[test]
    fn only_what_the_letter_prints_counts() {
        let uses_number_only = |v: &str| v == "number";
        assert!(placeholders(&NoticeSettings::default(), "demo", &uses_number_only).is_empty());
        let old_name = |v: &str| v == "platform_label";
        assert_eq!(
            placeholders(&NoticeSettings::default(), "demo", &old_name).len(),
            1,
            "platform_label is the addressee in letters written before it was called so"
        );
    }

    #[test]
    fn an_unknown_platform_gets_a_hint_when_only_the_case_differs() {
        let known = vec!["demo".to_string(), "jd".to_string()];
        assert_eq!(unknown_platform("jd", &known), None);
        assert_eq!(
            unknown_platform("JD", &known).as_deref(),
            Some(" (did you mean `jd`?)")
        );
        assert_eq!(unknown_platform("pdd", &known).as_deref(), Some(""));
    }
}
