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
            let label = crate::matching::normalize::label_key(label);
            labels.iter().any(|l| *l == label).then_some(value.as_str())
        })
    }
}
