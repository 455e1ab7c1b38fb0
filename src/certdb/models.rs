//! Parsing a certificate's `规格型号` free text into individual models
//! (CCC.md §4): separators, ratings, bracketed notes, `见附件`.

use crate::domain::ModelList;
use crate::text::normalize::{fold_width, is_cjk};
use std::sync::LazyLock;

/// A rating or capacity token: `250V~`, `10A`, `220V~50Hz`, `1800W`, `AC220V`, `1.5L`.
static RATING: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)^(?:AC|DC)?(?:[~]?\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?(?:V|A|W|KW|MA|MAH|VA|HZ|AX|L|ML|℃|°C|MM|CM|M|P|KG|G|H|MIN|米|升|瓦|伏|安)[~]?)+$",
    )
    .expect("valid regex")
});

/// True when a token is an electrical rating or a capacity, not a model.
pub fn is_rating(token: &str) -> bool {
    let t = token.trim_matches(|c: char| c == '~' || c == ',' || c == '/');
    t.is_empty() || RATING.is_match(t)
}

/// Words meaning "the list is elsewhere" or "and others".
const ATTACHMENT_WORDS: &[&str] = &[
    "见附件",
    "详见附件",
    "见附表",
    "见附录",
    "详见附表",
    "见清单",
];

/// Parses a model list. Models keep their written form (width folded);
/// ratings and bracketed notes are dropped; `见附件` makes the list incomplete.
pub fn parse_model_list(raw: &str) -> ModelList {
    let text = fold_width(raw);
    let mut complete = !ATTACHMENT_WORDS.iter().any(|w| text.contains(w));
    let text = remove_cjk_brackets(&text);
    let mut models: Vec<String> = Vec::new();
    for piece in text.split(['、', ',', ';', '，', '；', '\n', '\r', '\t', '|']) {
        for token in piece.split(' ') {
            let Some(model) = clean_token(token, &mut complete) else {
                continue;
            };
            if !models.contains(&model) {
                models.push(model);
            }
        }
    }
    ModelList { models, complete }
}

/// Removes bracketed parts that contain Chinese text (accessory notes such as
/// `(配电源线)`); keeps brackets without Chinese, which can be part of a model
/// (`KFR-35GW/(35592)FNhAa-B3`).
fn remove_cjk_brackets(text: &str) -> String {
    const OPEN: [char; 3] = ['(', '[', '【'];
    const CLOSE: [char; 3] = [')', ']', '】'];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find(OPEN) {
        out.push_str(&rest[..open]);
        let group_start = &rest[open..];
        match group_start.find(CLOSE) {
            Some(close) => {
                let end = close
                    + group_start[close..]
                        .chars()
                        .next()
                        .map_or(1, char::len_utf8);
                let group = &group_start[..end];
                // The brackets may be of either width (`【…]`).
                let open_len = group.chars().next().map_or(1, char::len_utf8);
                let close_len = group.chars().next_back().map_or(1, char::len_utf8);
                let inner = group
                    .get(open_len..group.len().saturating_sub(close_len))
                    .unwrap_or("");
                let only_ratings = inner.split([' ', ',', '/']).all(is_rating);
                if group.chars().any(is_cjk) || only_ratings {
                    out.push(' ');
                } else {
                    out.push_str(group);
                }
                rest = &group_start[end..];
            }
            None => {
                // Unbalanced bracket: drop the rest if it is a note, keep it otherwise.
                if !group_start.chars().any(is_cjk) {
                    out.push_str(group_start);
                }
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Turns one token into a model, or `None` when it is a rating, a note or
/// empty. `等` (etc.) at the end marks the list incomplete.
fn clean_token(token: &str, complete: &mut bool) -> Option<String> {
    let mut t = token
        .trim()
        .trim_matches(|c: char| matches!(c, ':' | '：' | '.' | '~'));
    if t.ends_with('等') {
        *complete = false;
    }
    // A size class, not a model: `86型` (the standard wall box), `118型`.
    if let Some(size) = t.strip_suffix('型')
        && !size.is_empty()
        && size.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // Chinese words around a model: `型号GN-B5120`, `GN-H30系列`, `GN-B5120等`.
    t = t.trim_start_matches(|c: char| is_cjk(c) || c == ':');
    t = t.trim_end_matches(|c: char| is_cjk(c));
    if t.is_empty() || !t.chars().any(|c| c.is_ascii_alphanumeric()) || is_rating(t) {
        return None;
    }
    Some(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn models(raw: &str) -> Vec<String> {
        parse_model_list(raw).models
    }

    #[test]
    fn splits_on_all_separators() {
        assert_eq!(
            models("GN-B5120、GN-B5130,GN-B5140;GN-B5150；GN-B5160 GN-B5170"),
            [
                "GN-B5120", "GN-B5130", "GN-B5140", "GN-B5150", "GN-B5160", "GN-B5170"
            ]
        );
    }

    #[test]
    fn size_classes_are_not_models() {
        assert_eq!(
            models("NEX3-H95 NEX3-H16 NEX3-H72 86型"),
            ["NEX3-H95", "NEX3-H16", "NEX3-H72"]
        );
        assert_eq!(models("CD824-H9,CD822-H1 118型"), ["CD824-H9", "CD822-H1"]);
        // A model that merely ends in 型 keeps its letters.
        assert_eq!(models("A86型"), ["A86"]);
    }

    #[test]
    fn drops_ratings_and_notes() {
        assert_eq!(models("GN-B5120 250V~ 10A"), ["GN-B5120"]);
        assert_eq!(models("K17-F5 220V～50Hz 1800W"), ["K17-F5"]);
        assert_eq!(
            models("SW-15S01A(配电源线)、SW-17S08A（带滤网）"),
            ["SW-15S01A", "SW-17S08A"]
        );
        assert_eq!(models("MK-15E05A 220V~ 50Hz 1500W"), ["MK-15E05A"]);
        assert_eq!(
            models("KFR-35GW/(35592)FNhAa-B3"),
            ["KFR-35GW/(35592)FNhAa-B3"]
        );
        assert_eq!(models("ＧＮ－Ｈ３０５０"), ["GN-H3050"]);
    }

    #[test]
    fn attachment_means_unknown() {
        let list = parse_model_list("见附件");
        assert!(list.is_unknown());
        let partial = parse_model_list("GN-B5120、GN-B5130等，详见附件");
        assert!(!partial.complete);
        assert_eq!(partial.models, ["GN-B5120", "GN-B5130"]);
        assert!(parse_model_list("GN-B5120").complete);
    }

    #[test]
    fn ratings() {
        for r in [
            "250V~",
            "10A",
            "220V~50Hz",
            "1800W",
            "AC220V",
            "1.5L",
            "16A",
            "2200W",
            "50Hz",
        ] {
            assert!(is_rating(r), "{r}");
        }
        for m in ["GN-B5120", "K17-F5", "A1", "MK15E05A", "60337"] {
            assert!(!is_rating(m), "{m}");
        }
    }

    #[test]
    fn brackets_of_mixed_width_do_not_panic() {
        // Found by the property below: a full-width bracket closed by a
        // half-width one.
        for s in ["【]", "GN-H3050【220V]", "(】", "BCD-215（白色) GN-1"] {
            for m in parse_model_list(s).models {
                assert!(!m.is_empty(), "{s}");
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_models_are_nonempty(s in "\\PC{0,80}") {
            for m in parse_model_list(&s).models {
                prop_assert!(!m.is_empty());
            }
        }

        #[test]
        fn joined_models_come_back(ms in proptest::collection::vec("[A-Z]{1,3}-[0-9]{2,5}[A-Z]?", 1..6), sep in prop::sample::select(vec!["、", ",", ";", "；", " "])) {
            let raw = ms.join(sep);
            let mut expected = ms.clone();
            expected.dedup();
            let mut seen = Vec::new();
            for m in expected { if !seen.contains(&m) { seen.push(m); } }
            prop_assert_eq!(models(&raw), seen);
        }
    }
}
