//! Act stage, the list's layout: which columns the takedown list
//! (`list.xlsx`, `list.csv`) has, under which headers, in which order. It is
//! read from `list.toml` in `notices.templates_dir` so the bureau can change
//! it without rebuilding; the built-in layout is used when the file is absent.

use crate::store::NoticeRow;
use std::path::{Path, PathBuf};

/// The built-in layout, used when `notices.templates_dir` has no `list.toml`.
pub const DEFAULT_LIST: &str = include_str!("../../config/notices/list.toml");

/// What a column shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Seq,
    Platform,
    ItemId,
    Url,
    Seller,
    ShopUrl,
    Title,
    Brand,
    Model,
    CertNumbers,
    MatchedCert,
    CertStatus,
    CertDate,
    Problem,
    Reasons,
    Measure,
    CapturedAt,
    Sha256,
    ReplyResult,
    ReplyDate,
}

impl Field {
    pub const ALL: [(&'static str, Field); 20] = [
        ("seq", Field::Seq),
        ("platform", Field::Platform),
        ("item_id", Field::ItemId),
        ("url", Field::Url),
        ("seller", Field::Seller),
        ("shop_url", Field::ShopUrl),
        ("title", Field::Title),
        ("brand", Field::Brand),
        ("model", Field::Model),
        ("cert_numbers", Field::CertNumbers),
        ("matched_cert", Field::MatchedCert),
        ("cert_status", Field::CertStatus),
        ("cert_date", Field::CertDate),
        ("problem", Field::Problem),
        ("reasons", Field::Reasons),
        ("measure", Field::Measure),
        ("captured_at", Field::CapturedAt),
        ("sha256", Field::Sha256),
        ("reply_result", Field::ReplyResult),
        ("reply_date", Field::ReplyDate),
    ];

    pub fn parse(key: &str) -> Option<Field> {
        Self::ALL.iter().find(|(k, _)| *k == key).map(|(_, f)| *f)
    }

    pub fn key(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map(|(k, _)| *k)
            .unwrap_or("?")
    }

    /// The cell of listing number `i` (from 0) for this column.
    pub fn cell(self, i: usize, r: &NoticeRow) -> String {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        match self {
            Field::Seq => (i + 1).to_string(),
            Field::Platform => r.platform.clone(),
            Field::ItemId => r.item_id.clone(),
            Field::Url => opt(&r.url),
            Field::Seller => opt(&r.seller),
            Field::ShopUrl => opt(&r.shop_url),
            Field::Title => r.title.clone(),
            Field::Brand => opt(&r.brand),
            Field::Model => opt(&r.model),
            Field::CertNumbers => r.cert_numbers.join("、"),
            Field::MatchedCert => opt(&r.matched_cert),
            Field::CertStatus => {
                if r.matched_cert.is_some() || !r.cert_numbers.is_empty() {
                    super::cert_status_label(r.cert_status.as_deref())
                } else {
                    "未标注证书".to_string()
                }
            }
            Field::CertDate => r
                .cert_status_date
                .clone()
                .or_else(|| r.cert_expires_on.clone())
                .unwrap_or_default(),
            Field::Problem => super::verdict_label(&r.verdict),
            Field::Reasons => r.reasons.join("；"),
            Field::Measure => super::measure_label(r.measure.as_deref()).to_string(),
            Field::CapturedAt => r
                .captured_at
                .as_deref()
                .map(crate::clock::beijing_text)
                .unwrap_or_default(),
            Field::Sha256 => opt(&r.evidence_sha256),
            Field::ReplyResult | Field::ReplyDate => String::new(),
        }
    }
}

/// One column of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub field: Field,
    pub header: String,
    /// Width in Excel characters.
    pub width: f64,
    pub wrap: bool,
}

/// The list's layout.
#[derive(Debug, Clone, PartialEq)]
pub struct ListTemplate {
    pub sheet_name: String,
    pub columns: Vec<Column>,
    /// Where it was read from, for messages.
    pub source: PathBuf,
}

/// A `list.toml` that cannot be used: the file, the place in it and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ListTemplateError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Syntax {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    sheet_name: Option<String>,
    #[serde(default)]
    column: Vec<RawColumn>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    key: String,
    header: Option<String>,
    width: Option<f64>,
    #[serde(default)]
    wrap: bool,
}

impl ListTemplate {
    /// Reads `list.toml` from `dir`, or the built-in layout when it has none.
    pub fn load(dir: &Path) -> Result<ListTemplate, ListTemplateError> {
        let path = dir.join("list.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::built_in()),
            Err(source) => Err(ListTemplateError::Read { path, source }),
        }
    }

    pub fn built_in() -> ListTemplate {
        Self::parse(DEFAULT_LIST, Path::new("(built-in list.toml)"))
            .expect("the built-in list.toml is valid")
    }

    /// Parses and checks a layout; errors name `path` and the column.
    pub fn parse(text: &str, path: &Path) -> Result<ListTemplate, ListTemplateError> {
        let raw: RawTemplate = toml::from_str(text).map_err(|e| ListTemplateError::Syntax {
            path: path.to_path_buf(),
            source: Box::new(e),
        })?;
        let invalid = |key: String, message: String| ListTemplateError::Invalid {
            path: path.to_path_buf(),
            key,
            message,
        };
        let sheet_name = raw.sheet_name.unwrap_or_else(|| "商品清单".to_string());
        if sheet_name.trim().is_empty()
            || sheet_name.chars().count() > 31
            || sheet_name.contains(['[', ']', ':', '*', '?', '/', '\\'])
        {
            return Err(invalid(
                "sheet_name".into(),
                "an Excel sheet name has 1 to 31 characters and none of [ ] : * ? / \\".into(),
            ));
        }
        if raw.column.is_empty() {
            return Err(invalid(
                "column".into(),
                "the list has no columns: add [[column]] tables".into(),
            ));
        }
        let mut columns: Vec<Column> = Vec::new();
        for (n, c) in raw.column.into_iter().enumerate() {
            let at = |what: &str| format!("column[{}].{what}", n + 1);
            let field = Field::parse(c.key.trim()).ok_or_else(|| {
                invalid(
                    at("key"),
                    format!(
                        "unknown key `{}`; the keys are {}",
                        c.key,
                        Field::ALL.map(|(k, _)| k).join(", ")
                    ),
                )
            })?;
            if let Some(dup) = columns.iter().position(|x| x.field == field) {
                return Err(invalid(
                    at("key"),
                    format!("`{}` is already column {}", c.key, dup + 1),
                ));
            }
            let header = c.header.unwrap_or_else(|| field.key().to_string());
            if header.trim().is_empty() {
                return Err(invalid(at("header"), "the header is empty".into()));
            }
            if let Some(dup) = columns.iter().position(|x| x.header == header) {
                return Err(invalid(
                    at("header"),
                    format!("`{header}` is already the header of column {}", dup + 1),
                ));
            }
            let width = c.width.unwrap_or(14.0);
            if !(1.0..=255.0).contains(&width) {
                return Err(invalid(
                    at("width"),
                    format!("{width} is not a width between 1 and 255"),
                ));
            }
            columns.push(Column {
                field,
                header,
                width,
                wrap: c.wrap,
            });
        }
        if !columns.iter().any(|c| c.field == Field::ItemId) {
            return Err(invalid(
                "column".into(),
                "the list must have the item_id column: the platform's replies are matched by it"
                    .into(),
            ));
        }
        Ok(ListTemplate {
            sheet_name,
            columns,
            source: path.to_path_buf(),
        })
    }

    pub fn headers(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.header.as_str()).collect()
    }

    /// The header of `field`'s column, when the list has one.
    pub fn header_of(&self, field: Field) -> Option<&str> {
        self.columns
            .iter()
            .find(|c| c.field == field)
            .map(|c| c.header.as_str())
    }

    /// The rows' cells, in column order.
    pub fn table(&self, rows: &[NoticeRow]) -> Vec<Vec<String>> {
        rows.iter()
            .enumerate()
            .map(|(i, r)| self.columns.iter().map(|c| c.field.cell(i, r)).collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ListTemplate, ListTemplateError> {
        ListTemplate::parse(text, Path::new("config/notices/list.toml"))
    }

    #[test]
    fn the_built_in_layout_has_every_column_a_reply_needs() {
        let t = ListTemplate::built_in();
        assert_eq!(t.columns.len(), 17);
        assert_eq!(t.header_of(Field::ItemId), Some("平台商品编号"));
        assert_eq!(
            t.header_of(Field::ReplyResult),
            Some("平台处理结果（由平台填写）")
        );
        assert_eq!(t.sheet_name, "商品清单");
    }

    #[test]
    fn headers_and_order_follow_the_file() {
        let t = parse(
            "sheet_name = \"清单\"\n\
             [[column]]\nkey = \"item_id\"\nheader = \"商品ID\"\n\
             [[column]]\nkey = \"title\"\nheader = \"名称\"\nwrap = true\nwidth = 40\n",
        )
        .unwrap();
        assert_eq!(t.headers(), ["商品ID", "名称"]);
        assert!(t.columns[1].wrap);
        assert_eq!(t.columns[1].width, 40.0);
        assert_eq!(t.columns[0].width, 14.0);
    }

    #[test]
    fn a_wrong_key_is_named_with_its_column() {
        let e = parse("[[column]]\nkey = \"item_id\"\n[[column]]\nkey = \"titel\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("config/notices/list.toml"), "{e}");
        assert!(e.contains("column[2].key"), "{e}");
        assert!(e.contains("`titel`") && e.contains("title"), "{e}");
    }

    #[test]
    fn other_mistakes_are_named() {
        let cases = [
            ("[[column]]\nkey = \"title\"\n", "item_id"),
            (
                "[[column]]\nkey = \"item_id\"\n[[column]]\nkey = \"item_id\"\n",
                "column[2].key",
            ),
            (
                "[[column]]\nkey = \"item_id\"\nheader = \"A\"\n[[column]]\nkey = \"url\"\nheader = \"A\"\n",
                "column[2].header",
            ),
            (
                "[[column]]\nkey = \"item_id\"\nwidth = 0\n",
                "column[1].width",
            ),
            (
                "sheet_name = \"a/b\"\n[[column]]\nkey = \"item_id\"\n",
                "sheet_name",
            ),
            ("sheet_name = \"x\"\n", "no columns"),
            ("[[column]]\nkey = \"item_id\"\ncolour = 1\n", "colour"),
            ("[[column]\n", "list.toml"),
        ];
        for (text, wanted) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(wanted), "{text:?}: {e}");
        }
    }

    #[test]
    fn a_missing_file_means_the_built_in_layout() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            ListTemplate::load(dir.path()).unwrap().headers(),
            ListTemplate::built_in().headers()
        );
        std::fs::write(
            dir.path().join("list.toml"),
            "[[column]]\nkey = \"item_id\"\nheader = \"编号\"\n",
        )
        .unwrap();
        assert_eq!(ListTemplate::load(dir.path()).unwrap().headers(), ["编号"]);
    }
}
