use serde::{Deserialize, Serialize};

/// One product listing on a platform, as supplied by a feed or extracted
/// from a page. `params` is the spec table in page order (label → value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Listing {
    pub platform: String,
    pub item_id: String,
    pub url: Option<String>,
    pub title: String,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub params: Vec<(String, String)>,
    pub description: Option<String>,
    pub seller: Option<String>,
    pub shop_url: Option<String>,
    pub price: Option<String>,
    pub category: Option<String>,
}

impl Listing {
    /// Values of the spec table whose label, with spaces removed, is one of `labels`.
    pub fn params_labelled<'a>(&'a self, labels: &'a [&str]) -> impl Iterator<Item = &'a str> + 'a {
        self.params.iter().filter_map(move |(label, value)| {
            let label = crate::text::normalize::label_key(label);
            labels.iter().any(|l| *l == label).then_some(value.as_str())
        })
    }
}

/// Spec-table labels that hold a model (compared with `label_key`).
pub const MODEL_LABELS: &[&str] = &[
    "型号",
    "认证型号",
    "3C规格型号",
    "3C产品型号",
    "3C型号",
    "规格型号",
    "产品型号",
    "型号规格",
    "MODEL",
    "MODELNO",
    "型号/规格",
];

/// Labels that carry the model: the usual ones, and "<brand>型号" as Tmall
/// writes it ("Apple型号"), but not the model a spare part fits ("适用型号").
pub fn is_model_label(label: &str) -> bool {
    let key = crate::text::normalize::label_key(label);
    if MODEL_LABELS.contains(&key.as_str()) {
        return true;
    }
    const NOT_OURS: &[&str] = &[
        "适用", "兼容", "配套", "替换", "对应", "匹配", "支持", "原装",
    ];
    key.strip_suffix("型号").is_some_and(|brand| {
        !brand.is_empty()
            && brand.chars().count() <= 12
            && !NOT_OURS.iter().any(|w| brand.contains(w))
    })
}
