//! Finding CCC certificate numbers in listing text (CCC.md §1): plain,
//! grouped with spaces or hyphens, full-width, behind a label, or glued to
//! the digits of a model number. Numbers are never fuzzy-matched.

use crate::text::normalize::fold_width;
use std::sync::LazyLock;

/// A run of digits with single spaces or hyphens between them, and an
/// optional vehicle-style version suffix such as `(B0)`.
static DIGIT_RUN: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"\d+(?:[ \-]\d+)*(?:\([0-9A-Za-z]{1,4}\))?").expect("valid regex")
});

/// One certificate number found in text, with its byte span in the folded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub number: String,
    pub start: usize,
    pub end: usize,
}

/// A cert-number field's value: a number, or something else that a shop
/// wrote there (`已认证`, a truncated number): kept, never thrown away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Numbers(Vec<String>),
    NonStandard(String),
    Empty,
}

/// Years a CCC certificate can be first issued in (the system started in 2002).
fn plausible_year(digits: &str) -> bool {
    digits
        .get(..4)
        .and_then(|y| y.parse::<u32>().ok())
        .is_some_and(|y| (2001..=2039).contains(&y))
}

/// Finds all certificate numbers in free text (title, description).
pub fn find_in_text(text: &str) -> Vec<Found> {
    let folded = fold_width(text);
    find_in_folded(&folded)
}

/// Like [`find_in_text`] on text already passed through `fold_width`; spans
/// refer to that text.
pub fn find_in_folded(folded: &str) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    for m in DIGIT_RUN.find_iter(folded) {
        let run = m.as_str();
        let (body, suffix) = match run.find('(') {
            Some(p) => (&run[..p], &run[p..]),
            None => (run, ""),
        };
        for (number, s, e) in candidates_in_run(body) {
            // A suffix belongs to the number only when the number ends the run.
            let number = if e == body.len() && !suffix.is_empty() {
                format!("{number}{suffix}")
            } else {
                number
            };
            let found = Found {
                number,
                start: m.start() + s,
                end: m.start() + e,
            };
            if !out.iter().any(|f| f.number == found.number) {
                out.push(found);
            }
        }
    }
    out
}

/// Candidate 16-digit numbers within one run of digit groups. Returns the
/// number and its byte span within `run`.
fn candidates_in_run(run: &str) -> Vec<(String, usize, usize)> {
    // Groups of digits with their byte offsets.
    let mut groups: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for part in run.split([' ', '-']) {
        groups.push((offset, part));
        offset += part.len() + 1;
    }
    let mut out = Vec::new();
    for (i, &(start, g)) in groups.iter().enumerate() {
        if g.len() == 16 {
            out.push((g.to_string(), start, start + 16));
            continue;
        }
        if g.len() > 16 {
            // Digits of a model glued to the number: try every window that
            // starts with a plausible year.
            for w in 0..=g.len() - 16 {
                let win = &g[w..w + 16];
                if plausible_year(win) {
                    out.push((win.to_string(), start + w, start + w + 16));
                }
            }
            continue;
        }
        // Grouped forms: consecutive groups that add up to exactly 16 digits.
        let mut total = g.len();
        let mut digits = g.to_string();
        for &(gs, next) in &groups[i + 1..] {
            total += next.len();
            digits.push_str(next);
            if total == 16 {
                if plausible_year(&digits) {
                    out.push((digits.clone(), start, gs + next.len()));
                }
                break;
            }
            if total > 16 {
                break;
            }
        }
    }
    out
}

/// Parses the value of a spec-table field labelled as a certificate number.
pub fn parse_field(value: &str) -> FieldValue {
    let folded = fold_width(value);
    let trimmed = folded.trim();
    if trimmed.is_empty() || matches!(trimmed, "-" | "/" | "无" | "暂无") {
        return FieldValue::Empty;
    }
    // In a labelled field a bare 16-digit run is a number whatever its year.
    let mut numbers: Vec<String> = find_in_folded(trimmed)
        .into_iter()
        .map(|f| f.number)
        .collect();
    if numbers.is_empty() {
        let digits: String = trimmed.chars().filter(|c| c.is_ascii_digit()).collect();
        let only_digits_and_separators = trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-'));
        if digits.len() == 16 && only_digits_and_separators {
            numbers.push(digits);
        }
    }
    if numbers.is_empty() {
        FieldValue::NonStandard(trimmed.to_string())
    } else {
        FieldValue::Numbers(numbers)
    }
}

/// True when `s` is a certificate number in the standard form, with an
/// optional version suffix.
pub fn is_standard(s: &str) -> bool {
    let (digits, suffix) = match s.find('(') {
        Some(p) => (&s[..p], &s[p..]),
        None => (s, ""),
    };
    digits.len() == 16
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (suffix.is_empty()
            || (suffix.ends_with(')')
                && suffix[1..suffix.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric())))
}

/// Normalises a certificate number from an export: width folded, spaces and
/// hyphens inside digit groups removed, suffix kept.
pub fn normalize_export_number(raw: &str) -> String {
    let folded = fold_width(raw);
    let trimmed = folded.trim();
    let compact: String = trimmed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if is_standard(&compact) {
        compact
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn numbers(text: &str) -> Vec<String> {
        find_in_text(text).into_iter().map(|f| f.number).collect()
    }

    #[test]
    fn finds_written_forms() {
        assert_eq!(
            numbers("CCC证书编号：2016010201931890"),
            ["2016010201931890"]
        );
        assert_eq!(
            numbers("证书 2019 0102 0123 4567 有效"),
            ["2019010201234567"]
        );
        assert_eq!(
            numbers("3C证书编号:2019-01-0201-234567"),
            ["2019010201234567"]
        );
        assert_eq!(
            numbers("２０１６０１０２０１９３１８９０"),
            ["2016010201931890"]
        );
        assert_eq!(
            numbers("车辆 2022221101000119(B0)"),
            ["2022221101000119(B0)"]
        );
    }

    #[test]
    fn separates_model_digits_glued_to_the_number() {
        assert_eq!(
            numbers("公牛插座GN-H30502016010201931890"),
            ["2016010201931890"]
        );
        assert_eq!(
            numbers("GN-H3050 2016 0102 0193 1890"),
            ["2016010201931890"]
        );
        assert_eq!(
            numbers("型号H3050 2016010201931890 10A"),
            ["2016010201931890"]
        );
    }

    #[test]
    fn ignores_other_numbers() {
        assert!(numbers("订单 13800138000 2024-01-01 2200W").is_empty());
        assert!(
            numbers("201601020193189").is_empty(),
            "15 digits is not a number"
        );
    }

    #[test]
    fn parses_fields() {
        assert_eq!(
            parse_field("已认证"),
            FieldValue::NonStandard("已认证".into())
        );
        assert_eq!(parse_field(""), FieldValue::Empty);
        assert_eq!(
            parse_field("1234567890123456"),
            FieldValue::Numbers(vec!["1234567890123456".into()])
        );
        assert_eq!(
            parse_field("201601020193189"),
            FieldValue::NonStandard("201601020193189".into())
        );
        assert_eq!(
            parse_field("2016010201931890；2014010714685680"),
            FieldValue::Numbers(vec!["2016010201931890".into(), "2014010714685680".into()])
        );
    }

    #[test]
    fn export_numbers() {
        assert_eq!(
            normalize_export_number(" 2016 0102 0193 1890 "),
            "2016010201931890"
        );
        assert_eq!(
            normalize_export_number("2022221101000119(B0)"),
            "2022221101000119(B0)"
        );
        assert_eq!(normalize_export_number("CQC-12345"), "CQC-12345");
        assert!(is_standard("2016010201931890"));
        assert!(!is_standard("201601020193189"));
    }

    proptest! {
        #[test]
        fn finds_any_standard_number_in_noise(year in 2002u32..2030, rest in "[0-9]{12}", pre in "[\u{4E00}-\u{4E50}a-z ]{0,10}", post in "[\u{4E00}-\u{4E50} ]{0,10}") {
            let n = format!("{year}{rest}");
            let text = format!("{pre}{n}{post}");
            prop_assert!(numbers(&text).contains(&n));
        }

        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = find_in_text(&s);
            let _ = parse_field(&s);
        }
    }
}
