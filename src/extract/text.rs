//! Extract stage: cleaning of text taken from pages.

/// Collapses runs of whitespace (including NBSP and full-width space) to one
/// space and trims.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for ch in s.chars() {
        if ch.is_whitespace() || ch == '\u{a0}' || ch == '\u{3000}' {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(ch);
        }
    }
    out
}

/// A label without its trailing colon and spaces.
pub fn clean_label(s: &str) -> String {
    clean(s)
        .trim_end_matches([':', '：', ' '])
        .trim()
        .to_string()
}

/// Splits `品牌：公牛` or `品牌: 公牛` at the first colon.
pub fn split_label_value(s: &str) -> Option<(String, String)> {
    let i = s.find([':', '：'])?;
    let colon_len = s[i..].chars().next().map_or(1, char::len_utf8);
    let label = clean_label(&s[..i]);
    let value = clean(&s[i + colon_len..]);
    (!label.is_empty() && label.chars().count() <= 20).then_some((label, value))
}

/// The first decimal number in a price text (`¥ 1,299.00` → `1299.00`).
pub fn price(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut seen_dot = false;
    for ch in s.chars() {
        match ch {
            '0'..='9' => out.push(ch),
            ',' if !out.is_empty() && !seen_dot => {}
            '.' if !out.is_empty() && !seen_dot => {
                seen_dot = true;
                out.push('.');
            }
            _ if !out.is_empty() => break,
            _ => {}
        }
    }
    let out = out.trim_end_matches('.').to_string();
    (!out.is_empty()).then_some(out)
}

/// Cuts a long text to `max` characters.
pub fn truncate(mut s: String, max: usize) -> String {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cleans_and_splits() {
        assert_eq!(clean("  a \u{a0} b\n\tc "), "a b c");
        assert_eq!(
            split_label_value("品牌：公牛"),
            Some(("品牌".into(), "公牛".into()))
        );
        assert_eq!(
            split_label_value("型号 :  GN-B3 "),
            Some(("型号".into(), "GN-B3".into()))
        );
        assert_eq!(split_label_value("没有冒号"), None);
        assert_eq!(price("¥ 1,299.00 起"), Some("1299.00".into()));
        assert_eq!(price("价格待定"), None);
        assert_eq!(price("￥39."), Some("39".into()));
    }

    proptest! {
        #[test]
        fn clean_is_idempotent(s in "\\PC{0,40}") {
            let once = clean(&s);
            prop_assert_eq!(clean(&once), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' '));
        }

        #[test]
        fn price_is_a_number(s in "\\PC{0,30}") {
            if let Some(p) = price(&s) {
                prop_assert!(p.parse::<f64>().is_ok(), "{}", p);
            }
        }
    }
}
