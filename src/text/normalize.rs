//! Text normalisation shared by import and matching: full-width folding,
//! model keys, brand keys, spec-table labels. Pure functions, property-tested.

/// Folds full-width ASCII (`ＧＮ－Ｈ３０５０`), the ideographic space, no-break
/// spaces and `&nbsp;` to their half-width forms, and unifies dash look-alikes.
/// Everything else (CJK text, `、`) is kept as it is.
pub fn fold_width(s: &str) -> String {
    let s = if s.contains("&nbsp;") {
        s.replace("&nbsp;", " ")
    } else {
        s.to_string()
    };
    s.chars().map(fold_char).collect()
}

fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' => ' ',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE63}' => '-',
        '\u{301C}' | '\u{223C}' => '~',
        _ => c,
    }
}

/// Chinese colour words that shops append to a model (`GN-H3050白色`).
const COLOUR_WORDS: &[&str] = &[
    "白色",
    "黑色",
    "灰色",
    "银色",
    "金色",
    "红色",
    "蓝色",
    "绿色",
    "粉色",
    "紫色",
    "黄色",
    "橙色",
    "棕色",
    "米色",
    "香槟色",
    "玫瑰金",
    "深空灰",
    "白",
    "黑",
    "灰",
    "银",
    "金",
    "红",
    "蓝",
    "绿",
    "粉",
    "紫",
    "黄",
    "橙",
    "款",
];

/// Latin colour codes shops append after a separator (`PH4049-BK`).
const COLOUR_CODES: &[&str] = &[
    "BK", "BLK", "BLACK", "WH", "WT", "WHT", "WHITE", "GY", "GREY", "GRAY", "SV", "SILVER", "GD",
    "GOLD", "RD", "RED", "BL", "BLUE", "PK", "PINK", "GN", "GREEN",
];

/// Removes a trailing colour or bracketed note from a listing model:
/// `GN-H3050白色`, `GN-H3050（黑色）` and `PH4049-BK` give `GN-H3050` and
/// `PH4049`. A colour letter glued to the model (`GN-H3050W`) is part of it.
pub fn strip_colour_suffix(model: &str) -> &str {
    let mut m = model.trim();
    loop {
        let before = m;
        if let Some(pos) = m.rfind(['(', '（', '【', '[']) {
            let inner = &m[pos..];
            if pos > 0 && inner.chars().any(is_cjk) {
                m = m[..pos].trim_end();
            }
        }
        for w in COLOUR_WORDS {
            if let Some(rest) = m.strip_suffix(w)
                && rest.chars().any(|c| c.is_ascii_alphanumeric())
            {
                m = rest.trim_end_matches([' ', '-', '_', '/']);
            }
        }
        if let Some(pos) = m.rfind(['-', ' ', '/', '_']) {
            let code = &m[pos + 1..];
            if pos > 0 && COLOUR_CODES.iter().any(|c| c.eq_ignore_ascii_case(code)) {
                m = m[..pos].trim_end();
            }
        }
        if m == before {
            return m;
        }
    }
}

/// The comparison key of a model number: width folded, upper case, without
/// spaces, hyphens, underscores, dots-free punctuation or brackets. Letters and
/// digits are never changed, so two models whose keys are equal differ only in
/// those separators.
pub fn model_key(model: &str) -> String {
    let folded = fold_width(model);
    folded
        .chars()
        .filter(|c| {
            !matches!(
                c,
                ' ' | '\t' | '-' | '_' | '(' | ')' | '[' | ']' | '·' | '\u{30FB}'
            )
        })
        .flat_map(char::to_uppercase)
        .collect()
}

/// The comparison key of a name (brand, company): width folded, lower case,
/// whitespace and common punctuation removed.
pub fn name_key(name: &str) -> String {
    fold_width(name)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '·' | '.' | '-' | '_' | '\'' | '&' | ','))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A spec-table label without spaces, colons and width differences:
/// `3C 证书编号：` → `3C证书编号`.
pub fn label_key(label: &str) -> String {
    fold_width(label)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, ':' | '：'))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Legal-form words stripped before company names are compared.
const LEGAL_SUFFIXES: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "集团",
    "分公司",
    "公司",
    "厂",
    "co.,ltd",
    "co.ltd",
    "coltd",
    "ltd",
    "inc",
    "gmbh",
    "a/s",
    "limited",
    "corporation",
];

/// The core of a company name for comparison: `宁波公牛电器有限公司` → `宁波公牛电器`.
pub fn company_core(name: &str) -> String {
    let mut key = name_key(name);
    key = key.replace(['(', ')', '（', '）'], "");
    loop {
        let before = key.len();
        for s in LEGAL_SUFFIXES {
            if let Some(rest) = key.strip_suffix(s) {
                key = rest.to_string();
            }
        }
        if key.len() == before {
            return key;
        }
    }
}

pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds_full_width_and_nbsp() {
        assert_eq!(fold_width("ＧＮ－Ｈ３０５０"), "GN-H3050");
        assert_eq!(fold_width("证书编号：２０１９"), "证书编号:2019");
        assert_eq!(fold_width("a&nbsp;b\u{3000}c\u{a0}d"), "a b c d");
        assert_eq!(fold_width("220V～50Hz"), "220V~50Hz");
    }

    #[test]
    fn model_keys_ignore_separators_not_characters() {
        assert_eq!(model_key("gn h3050"), model_key("GN-H3050"));
        assert_eq!(model_key("ＧＮ－Ｈ３０５０"), model_key("GN_H3050"));
        assert_ne!(model_key("GN-H3090"), model_key("GN-H3050"));
        assert_ne!(model_key("GN-H3050W"), model_key("GN-H3050"));
        assert_eq!(model_key("KFR-35GW/BpR3"), "KFR35GW/BPR3");
    }

    #[test]
    fn strips_colour_suffixes() {
        assert_eq!(strip_colour_suffix("GN-H3050白色"), "GN-H3050");
        assert_eq!(strip_colour_suffix("GN-H3050（黑色）"), "GN-H3050");
        assert_eq!(strip_colour_suffix("GN-H3050 (深空灰)"), "GN-H3050");
        assert_eq!(strip_colour_suffix("GN-H3050W"), "GN-H3050W");
        assert_eq!(strip_colour_suffix("PH4049-BK"), "PH4049");
        assert_eq!(strip_colour_suffix("DYT-Z3 WHT"), "DYT-Z3");
        assert_eq!(strip_colour_suffix("白色"), "白色");
    }

    #[test]
    fn company_cores() {
        assert_eq!(company_core("宁波公牛电器有限公司"), "宁波公牛电器");
        assert_eq!(company_core("公牛集团股份有限公司"), "公牛");
        assert_eq!(company_core("LEGO System A/S"), "legosystem");
    }

    proptest! {
        #[test]
        fn fold_width_is_idempotent(s in "\\PC{0,40}") {
            let once = fold_width(&s);
            prop_assert_eq!(fold_width(&once), once);
        }

        #[test]
        fn model_key_is_idempotent(s in "[ -~\u{FF01}-\u{FF5E}\u{4E00}-\u{4E20}]{0,24}") {
            let once = model_key(&s);
            prop_assert_eq!(model_key(&once), once);
        }

        #[test]
        fn changed_digit_changes_key(prefix in "[A-Z]{1,3}-?", digits in "[0-9]{3,6}", pos in 0usize..6, d in 0u8..10) {
            let pos = pos % digits.len();
            let mut other: Vec<u8> = digits.bytes().collect();
            let new = b'0' + d;
            prop_assume!(other[pos] != new);
            other[pos] = new;
            let a = format!("{prefix}{digits}");
            let b = format!("{prefix}{}", String::from_utf8(other).unwrap());
            prop_assert_ne!(model_key(&a), model_key(&b));
        }
    }
}
