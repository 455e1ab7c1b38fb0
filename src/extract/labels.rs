//! Platform names for people: the Chinese `label` of each platform file
//! (`config/platforms/NAME.toml`: `jd` → 京东), overridden per platform by
//! the setting `platforms.labels`. Everything users read — letters, notice
//! lists, pages, reports — names a platform through [`PlatformLabels::label`];
//! the short file name stays what is stored, typed and linked.

use std::collections::BTreeMap;
use std::path::Path;

/// Each known platform's name for people.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformLabels {
    /// Short name → label (empty when the file has none).
    labels: BTreeMap<String, String>,
}

/// The two fields of a platform file read here; the rest is the adapter's.
#[derive(serde::Deserialize)]
struct NameAndLabel {
    #[serde(default)]
    label: String,
}

impl PlatformLabels {
    /// The labels of every platform file in `dir` (a file that cannot be
    /// read still counts as a platform, without a label: `config check`
    /// reports it), then `overrides` (`platforms.labels`).
    pub fn load(dir: &Path, overrides: &BTreeMap<String, String>) -> PlatformLabels {
        let mut labels = BTreeMap::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                if path.extension().is_none_or(|x| x != "toml") {
                    continue;
                }
                let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                let label = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|t| toml::from_str::<NameAndLabel>(&t).ok())
                    .map(|n| n.label.trim().to_string())
                    .unwrap_or_default();
                labels.insert(name.to_string(), label);
            }
        }
        let mut out = PlatformLabels { labels };
        for (name, label) in overrides {
            out.set(name, label);
        }
        out
    }

    /// Labels given directly (tests, and platforms known only from the database).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> PlatformLabels {
        let mut out = PlatformLabels::default();
        for (name, label) in pairs {
            out.set(name, label);
        }
        out
    }

    fn set(&mut self, name: &str, label: &str) {
        self.labels
            .insert(name.to_string(), label.trim().to_string());
    }

    /// The platform's name for people: its label, or the short name when it
    /// has none.
    pub fn label<'a>(&'a self, name: &'a str) -> &'a str {
        match self.labels.get(name) {
            Some(l) if !l.is_empty() => l,
            _ => name,
        }
    }

    /// Whether the platform has a label of its own (not just its short name).
    pub fn has_label(&self, name: &str) -> bool {
        self.labels.get(name).is_some_and(|l| !l.is_empty())
    }

    /// Whether a platform file (or an override) names this platform.
    pub fn knows(&self, name: &str) -> bool {
        self.labels.contains_key(name)
    }

    /// The short names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.labels.keys().map(String::as_str)
    }

    /// `jd（京东）`, or the short name alone when there is no label: how a
    /// platform is named where the short name must be typed.
    pub fn described(&self, name: &str) -> String {
        match self.label(name) {
            l if l == name => name.to_string(),
            l => format!("{name}（{l}）"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_the_files_and_the_settings_override_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("jd.toml"),
            "name = \"jd\"\nlabel = \"京东\"\nbase_url = \"https://search.jd.com\"\n[search]\nurl = \"x\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("shop.toml"), "name = \"shop\"\n").unwrap();
        std::fs::write(dir.path().join("broken.toml"), "name = [\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "label = \"x\"").unwrap();
        let overrides = BTreeMap::from([("shop".to_string(), "小店商城".to_string())]);
        let l = PlatformLabels::load(dir.path(), &overrides);
        assert_eq!(l.label("jd"), "京东");
        assert_eq!(l.label("shop"), "小店商城");
        assert_eq!(l.label("broken"), "broken", "no label: the short name");
        assert!(l.knows("broken") && !l.has_label("broken"));
        assert_eq!(l.label("feedshop"), "feedshop", "unknown: the short name");
        assert!(!l.knows("feedshop"));
        assert_eq!(l.names().collect::<Vec<_>>(), ["broken", "jd", "shop"]);
        assert_eq!(l.described("jd"), "jd（京东）");
        assert_eq!(l.described("broken"), "broken");
    }

    #[test]
    fn the_shipped_platforms_have_chinese_labels() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/platforms");
        let l = PlatformLabels::load(&dir, &BTreeMap::new());
        assert_eq!(l.label("demo"), "演示商城");
        assert_eq!(l.label("jd"), "京东");
        assert_eq!(l.label("tmall"), "天猫");
        assert_eq!(l.label("taobao"), "淘宝");
    }
}
