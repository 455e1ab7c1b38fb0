//! Which model a listing claims: the model field and spec table first, then
//! model-like tokens in the title (ratings, capacities and certificate
//! numbers are not models).

use crate::certdb::models::{is_rating, parse_model_list};
use crate::domain::Listing;
use crate::text::normalize::{model_key, strip_colour_suffix};
use std::sync::LazyLock;

pub use crate::domain::{MODEL_LABELS, is_model_label};

static TITLE_TOKEN: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"[A-Za-z0-9][A-Za-z0-9\-_/.+]*[A-Za-z0-9+]|[A-Za-z0-9]")
        .expect("valid regex")
});

/// Tokens with digits that are not models, by their shape rather than by a
/// list of prefixes: an interface or protocol with a short version
/// (`USB3.0`, `QC3.0`, `BT5.3`, `WIFI6`, `HDMI2.1`), an ingress code
/// (`IP67`, `IPX4`), a standard's number (`GB4706.1-2005`, `GB/T1002`,
/// `ISO9001`), a prefixed rating (`PD20W`, `QC18W`), a size, a resolution,
/// a year. A prefix followed by a hyphen and a longer number is a model
/// (`BT-3226187A`, `GB-2231`, `QC-2219B`, `PD-1200`).
static NOT_A_MODEL: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?ix)
        ^(?:USB|TYPE|WIFI|WI-FI|QC|PD|HDMI|BT|DDR|LPDDR|LTE|NFC|RGB|LED|CAT|DP|HD|FHD|UHD|PCIE|SATA)
            -?(?:\d{1,2}(?:\.\d{1,2})?[A-Z]?|[A-C])(?:\+)?$
        | ^(?:IPX?|IK)\d{1,2}$
        | ^(?:GB|GBT|ISO|IEC|EN|UL|JIS|QB|CQC|CCC|3C)(?:/T\d{2,6}|\d{4,6})(?:\.\d{1,3})*(?:-(?:19|20)\d{2})?$
        | ^(?:PD|QC|SCP|FCP|VOOC|PPS|AFC|GAN)\d{1,3}(?:\.\d)?W$
        | ^\d+(?:\.\d+)?[X*]\d+(?:\.\d+)?(?:[X*]\d+(?:\.\d+)?)?(?:MM|CM|M)?$
        | ^\d{3,4}P$
        | ^[1-9][0-9]?(?:K|G|T)$
        | ^20[0-4]\d$",
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
    let folded = crate::text::normalize::fold_width(value);
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
            .is_some_and(crate::text::normalize::is_cjk);
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
    use crate::text::normalize::fold_width;

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
    fn prefixes_that_look_like_words_or_standards_are_models_by_shape() {
        for m in [
            "BT-3226187A",
            "GB-2231",
            "IP-2043X",
            "PD-1200B",
            "QC-2219",
            "VP-3301",
            "USB-2024A",
            "LED-8806",
        ] {
            assert_eq!(keys(&format!("儿童电动遥控车 {m} 大号")), [m], "{m}");
            assert_eq!(keys(&format!("公牛插座{m}插线板")), [m], "{m}");
        }
        for not_model in [
            "USB3.0",
            "QC3.0",
            "PD3.0",
            "BT5.3",
            "WIFI6",
            "HDMI2.1",
            "IP67",
            "IPX4",
            "GB4706.1-2005",
            "GB2099.1",
            "ISO9001",
            "PD20W",
            "QC18W",
            "DDR4",
            "Type-C",
        ] {
            assert!(
                keys(&format!("充电器 {not_model} 快充")).is_empty(),
                "{not_model}"
            );
        }
    }

    mod shapes {
        use super::*;
        use proptest::prelude::*;

        /// A model as brands write them: a prefix of 1–4 letters (any,
        /// including ones that are words: BT, GB, IP, PD, QC, USB), a
        /// hyphen or not, 3–7 digits, an optional suffix of letters and
        /// digits.
        fn model() -> impl Strategy<Value = String> {
            (
                "[A-Z]{1,4}",
                prop::bool::ANY,
                "[1-9][0-9]{2,6}",
                "([A-Z][0-9A-Z]{0,2})?",
            )
                .prop_map(|(p, dash, d, s)| {
                    // `GB4706`, `PD65W`, `DC100A` without a hyphen are a
                    // standard and ratings, as a reader would take them too.
                    let standard = [
                        "GB", "GBT", "ISO", "IEC", "EN", "UL", "JIS", "QB", "CQC", "CCC", "AC",
                        "DC",
                    ]
                    .contains(&p.as_str());
                    let dash = dash || standard || s == "W";
                    format!("{p}{}{d}{s}", if dash { "-" } else { "" })
                })
        }

        proptest! {
            #[test]
            fn a_model_between_chinese_words_and_specs_is_read(
                m in model(),
                before in prop::sample::select(vec!["公牛插座", "美的电热水壶 ", "儿童遥控车【", "", "2024新款 "]),
                after in prop::sample::select(vec!["插线板 10A 1.8米", " 1.5L 1800W", "】3-6岁", "", " USB3.0 Type-C"]),
            ) {
                let title = fold_width(&format!("{before}{m}{after}"));
                let got = keys(&title);
                prop_assert!(got.contains(&m), "{title:?} → {got:?}");
            }
        }
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
