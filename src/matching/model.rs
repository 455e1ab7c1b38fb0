//! Which model a listing claims: the model field and spec table first, then
//! model-like tokens in the title (ratings, capacities and certificate
//! numbers are not models).

use crate::certdb::models::{is_rating, parse_model_list};
use crate::domain::Listing;
use crate::matching::normalize::{label_key, model_key, strip_colour_suffix};
use std::sync::LazyLock;

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

static TITLE_TOKEN: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"[A-Za-z0-9][A-Za-z0-9\-_/.+]*[A-Za-z0-9+]|[A-Za-z0-9]")
        .expect("valid regex")
});

/// Tokens with digits that are not models: interfaces, standards, resolutions.
static NOT_A_MODEL: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)^(?:USB|TYPE|WIFI|WI-FI|QC|PD|HDMI|BT|IPX|IP|LED|RGB|DDR|GB|ISO|CCC|3C|CQC)[\-\d.]*[A-Z]?$|^\d+(?:\.\d+)?[X*]\d+(?:\.\d+)?(?:[X*]\d+(?:\.\d+)?)?(?:MM|CM|M)?$|^\d{3,4}P$|^[1-9][0-9]?(?:K|G|T)$|^20[0-4]\d$",
    )
    .expect("valid regex")
});

/// A model as the listing writes it and its comparison key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingModel {
    pub written: String,
    pub key: String,
}

impl ListingModel {
    fn new(written: &str) -> Option<Self> {
        let written = strip_colour_suffix(written).trim();
        let key = model_key(written);
        (!key.is_empty()).then(|| ListingModel {
            written: written.to_string(),
            key,
        })
    }
}

/// Labels that carry the model: the usual ones, and "<brand>型号" as Tmall
/// writes it ("Apple型号"), but not the model a spare part fits ("适用型号").
pub fn is_model_label(label: &str) -> bool {
    let key = label_key(label);
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

/// Models stated explicitly in the model field or the spec table.
pub fn explicit_models(listing: &Listing) -> Vec<ListingModel> {
    let mut out: Vec<ListingModel> = Vec::new();
    let values = listing.model.as_deref().into_iter().chain(
        listing
            .params
            .iter()
            .filter(|(l, _)| is_model_label(l))
            .map(|(_, v)| v.as_str()),
    );
    for value in values {
        for written in field_models(value) {
            if let Some(m) = ListingModel::new(&written)
                && !out.iter().any(|o| o.key == m.key)
            {
                out.push(m);
            }
        }
    }
    out
}

/// Candidate models in one listing field. Unlike a certificate's list, a
/// space here usually stands for a hyphen (`RU DW02J1`), so each piece
/// between list separators is taken whole (ratings removed), and its
/// model-like words as well (`GN-H3050 GN-H3060`).
fn field_models(value: &str) -> Vec<String> {
    let folded = crate::matching::normalize::fold_width(value);
    let mut out = Vec::new();
    for piece in folded.split(['、', ',', ';', '，', '；', '|']) {
        let list = parse_model_list(piece);
        let words: Vec<&str> = piece.split_whitespace().filter(|w| !is_rating(w)).collect();
        let whole = words.join(" ");
        if words.len() > 1 && list.models.len() > 1 {
            out.push(whole);
            out.extend(list.models.into_iter().filter(|m| looks_like_model(m)));
        } else {
            out.extend(list.models);
        }
    }
    out
}

/// Model-like tokens in a title that has been width-folded and had its
/// certificate numbers blanked out.
pub fn title_models(folded_title: &str) -> Vec<ListingModel> {
    let mut out: Vec<ListingModel> = Vec::new();
    let mut bare_numbers: Vec<ListingModel> = Vec::new();
    for m in TITLE_TOKEN.find_iter(folded_title) {
        let token = m.as_str().trim_matches(['.', '/', '-', '_']);
        // `20000毫安`, `3000瓦`: a number followed by a Chinese unit is a quantity.
        let unit_follows = folded_title[m.end()..]
            .chars()
            .next()
            .is_some_and(crate::matching::normalize::is_cjk);
        let mut push = |t: &str| {
            if !looks_like_model(t) {
                return;
            }
            let bare = t.bytes().all(|b| b.is_ascii_digit());
            if bare && unit_follows {
                return;
            }
            if let Some(lm) = ListingModel::new(t) {
                let list = if bare { &mut bare_numbers } else { &mut out };
                if !list.iter().any(|o| o.key == lm.key) {
                    list.push(lm);
                }
            }
        };
        // `BULL/GN-H3050`: a brand and a model joined by a slash. A slash
        // between two alphanumeric parts (`KFR-35GW/BpR3DPA1`) is part of the model.
        if token.contains('/')
            && token
                .split('/')
                .any(|p| !p.bytes().any(|b| b.is_ascii_digit()))
        {
            token.split('/').for_each(&mut push);
        } else {
            push(token);
        }
    }
    // Letter-and-digit models first; bare set numbers only after them.
    for b in bare_numbers {
        if !out.iter().any(|o| o.key == b.key) {
            out.push(b);
        }
    }
    out
}

fn looks_like_model(token: &str) -> bool {
    let digits = token.bytes().filter(u8::is_ascii_digit).count();
    let letters = token.bytes().filter(u8::is_ascii_alphabetic).count();
    if digits == 0 || token.len() < 4 || token.len() > 40 {
        return false;
    }
    if letters == 0 {
        // Bare numbers: set numbers such as LEGO 60337, not years or counts.
        return (5..=8).contains(&digits) && digits == token.len();
    }
    if token.split('/').all(is_rating) || NOT_A_MODEL.is_match(token) {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_labels() {
        for l in ["型号", "产品型号", "Apple型号", "公牛 型号：", "3C规格型号"] {
            assert!(is_model_label(l), "{l}");
        }
        for l in ["适用型号", "兼容型号", "品牌", "型号说明", "适用机型"] {
            assert!(!is_model_label(l), "{l}");
        }
    }

    fn keys(title: &str) -> Vec<String> {
        title_models(title).into_iter().map(|m| m.written).collect()
    }

    #[test]
    fn title_tokens() {
        assert_eq!(
            keys("公牛插座GN-H3050插线板 10A 1.8米 USB3.0 Type-C"),
            ["GN-H3050"]
        );
        assert_eq!(
            keys("美的电热水壶MK-SH15X2 1.5L 1800W 2024新款"),
            ["MK-SH15X2"]
        );
        assert_eq!(keys("乐高积木 60337 城市系列"), ["60337"]);
        assert_eq!(
            keys("ZMI充电宝移动电源大容量20000毫安便携 QB249"),
            ["QB249"]
        );
        assert_eq!(keys("积木 60337 兼容 LG-2000A"), ["LG-2000A", "60337"]);
        assert_eq!(
            keys("格力空调 KFR-35GW/BpR3DPA1 1.5匹"),
            ["KFR-35GW/BpR3DPA1"]
        );
        assert_eq!(keys("BULL/GN-H3050 插座"), ["GN-H3050"]);
        assert!(keys("插线板 3x1.5 4K 1080P 2200W 16A/10A 5G").is_empty());
    }

    #[test]
    fn explicit_models_from_params() {
        let listing = Listing {
            model: Some("GN-H3050白色".into()),
            params: vec![("3C规格型号".into(), "GN-H3050、GN-H3060 250V~ 10A".into())],
            ..Listing::default()
        };
        let got: Vec<String> = explicit_models(&listing)
            .into_iter()
            .map(|m| m.written)
            .collect();
        assert_eq!(got, ["GN-H3050", "GN-H3060"]);
        let spaced = Listing {
            params: vec![("认证型号".into(), "RU DW02J1".into())],
            ..Listing::default()
        };
        let keys: Vec<String> = explicit_models(&spaced)
            .into_iter()
            .map(|m| m.key)
            .collect();
        assert_eq!(keys, ["RUDW02J1", "DW02J1"]);
    }
}
