//! CSS selectors of a platform file, checked so that a mistake is told in
//! words for the person editing the file. The selector parser's own
//! messages say little ("Unexpected error occurred. Please report this to
//! the developer NoQualifiedNameInAttributeSelector") and no position, and
//! it accepts full-width punctuation typed with a Chinese input method as
//! part of a name (`li．item` then matches nothing). In: the selector as
//! written. Out: the compiled selector, or a short description of what is
//! wrong, from the text itself where it shows and otherwise from the kind
//! of error.

use scraper::Selector;
use scraper::error::SelectorErrorKind;
use selectors::parser::SelectorParseErrorKind as Kind;

/// Compiles `css`, or says what is wrong with it.
pub(super) fn parse(css: &str) -> Result<Selector, String> {
    if let Some(wide) = outside_quotes(css).find_map(full_width) {
        return Err(wide);
    }
    Selector::parse(css).map_err(|e| describe(css, &e))
}

/// What is wrong with `css`, which the parser refused with `e`.
fn describe(css: &str, e: &SelectorErrorKind) -> String {
    pairing(css)
        .or_else(|| attribute(css))
        .or_else(|| digit_name(css))
        .unwrap_or_else(|| kind_problem(e).to_string())
}

/// The characters of `css` outside quoted strings, with the byte offset of each.
fn outside_quotes(css: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut quote: Option<char> = None;
    css.char_indices().filter(move |&(_, c)| match quote {
        Some(q) => {
            if c == q {
                quote = None;
            }
            false
        }
        None if c == '\'' || c == '"' => {
            quote = Some(c);
            false
        }
        None => true,
    })
}

/// A full-width punctuation mark and the ASCII one CSS needs.
fn full_width((_, c): (usize, char)) -> Option<String> {
    let ascii = match c {
        '\u{FF01}'..='\u{FF0F}'
        | '\u{FF1A}'..='\u{FF20}'
        | '\u{FF3B}'..='\u{FF40}'
        | '\u{FF5B}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0)?,
        '\u{3000}' => ' ',
        '。' => '.',
        '、' => ',',
        '“' | '”' => '"',
        '‘' | '’' => '\'',
        _ => return None,
    };
    Some(format!(
        "`{c}` is a full-width (Chinese input) character; CSS needs `{ascii}`"
    ))
}

/// Quotes and brackets that do not pair up; an `@` in the middle.
fn pairing(css: &str) -> Option<String> {
    let mut open: Vec<char> = Vec::new();
    for (_, c) in outside_quotes(css) {
        match c {
            '[' | '(' => open.push(c),
            ']' | ')' => {
                let want = if c == ']' { '[' } else { '(' };
                if open.pop() != Some(want) {
                    return Some(format!("`{c}` has no matching `{want}` before it"));
                }
            }
            '@' => {
                return Some(
                    "`@` names the attribute to read and must come last, as in `a@href`".into(),
                );
            }
            _ => {}
        }
    }
    if css.chars().filter(|c| matches!(c, '\'' | '"')).count() % 2 == 1 {
        return Some("a quote is not closed".into());
    }
    open.pop().map(|c| {
        let close = if c == '[' { ']' } else { ')' };
        format!("a `{c}` is not closed with `{close}`")
    })
}

/// `[]`, and `[name=value with spaces]` without quotes.
fn attribute(css: &str) -> Option<String> {
    let start = css.find('[')?;
    let end = start + css[start..].find(']')?;
    let inside = css[start + 1..end].trim();
    if inside.is_empty() {
        return Some("`[]` is empty: put an attribute name inside, e.g. `[data-sku]`".into());
    }
    let value = inside.split_once('=')?.1.trim();
    (!value.starts_with(['\'', '"']) && value.contains(char::is_whitespace))
        .then(|| format!("the value `{value}` has a space: quote it, e.g. `[title='{value}']`"))
}

/// `.1x`, `#1`: a class or id cannot start with a digit.
fn digit_name(css: &str) -> Option<String> {
    let chars: Vec<(usize, char)> = outside_quotes(css).collect();
    chars.windows(2).find_map(|w| {
        let ((_, mark), (_, next)) = (w[0], w[1]);
        (matches!(mark, '.' | '#') && next.is_ascii_digit()).then(|| {
            format!(
                "a name after `{mark}` cannot start with a digit; use an attribute, e.g. `[id='1']`"
            )
        })
    })
}

fn kind_problem(e: &SelectorErrorKind) -> &'static str {
    match e {
        SelectorErrorKind::UnexpectedToken => {
            "a character where none can be, e.g. a stray `!` or `]`, or a bad argument such as `:nth-child(x)`"
        }
        SelectorErrorKind::EndOfLine => "it ends too early, e.g. after `:` or `::`",
        SelectorErrorKind::ExpectedColonOnPseudoElement
        | SelectorErrorKind::ExpectedIdentityOnPseudoElement => {
            "`:` or `::` must be followed by a name, e.g. `:first-child` or `:nth-of-type(2)`"
        }
        SelectorErrorKind::UnexpectedSelectorParseError(k) => selector_problem(k),
        _ => "it is not a CSS selector",
    }
}

fn selector_problem(k: &Kind) -> &'static str {
    match k {
        Kind::NoQualifiedNameInAttributeSelector => {
            "`[...]` must start with an attribute name, e.g. `[data-sku]` or `[href*='item']`"
        }
        Kind::UnexpectedTokenInAttributeSelector | Kind::BadValueInAttr => {
            "inside `[...]` write a name, or a name, one of = ^= $= *= ~= |= and a value, e.g. `[title='3C 证书']`"
        }
        Kind::ExpectedBarInAttr
        | Kind::InvalidQualNameInAttr
        | Kind::ExplicitNamespaceUnexpectedToken
        | Kind::ExpectedNamespace => "a `|` (namespace) is not supported here",
        Kind::EmptySelector => "it is empty, or has an empty part before or after a comma",
        Kind::DanglingCombinator => "`>`, `+` or `~` needs an element on both sides",
        Kind::ClassNeedsIdent => "`.` must be followed by a class name and `#` by an id",
        Kind::UnsupportedPseudoClassOrElement => {
            "unknown or misplaced pseudo-class (jQuery's `:contains()` and `:eq()` are not CSS); use `:nth-of-type(n)`, `:first-child`, `:not(...)` or an attribute"
        }
        Kind::NoIdentForPseudo
        | Kind::PseudoElementExpectedColon
        | Kind::PseudoElementExpectedIdent => {
            "`:` or `::` must be followed by a name, e.g. `:first-child`"
        }
        Kind::UnexpectedIdent => {
            "a word where it cannot be: a class needs `.`, an id `#`, an attribute `[...]`"
        }
        _ => "a pseudo-class or pseudo-element where it cannot be",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(css: &str) -> String {
        parse(css).err().unwrap_or_else(|| panic!("{css} parsed"))
    }

    #[test]
    fn what_the_text_shows_is_named() {
        for (css, wanted) in [
            ("li[", "a `[` is not closed with `]`"),
            ("li.item]", "`]` has no matching `[`"),
            ("li[]", "`[]` is empty"),
            ("li[ ]", "`[]` is empty"),
            ("li[title=a b]", "quote it, e.g. `[title='a b']`"),
            ("#1", "cannot start with a digit"),
            ("li.1x", "cannot start with a digit"),
            ("a@", "`@` names the attribute"),
        ] {
            assert!(why(css).contains(wanted), "{css}: {}", why(css));
        }
    }

    #[test]
    fn full_width_punctuation_is_refused_outside_quotes() {
        assert!(why("div：first-child").contains("`：` is a full-width"));
        assert!(why("li．item").contains("CSS needs `.`"));
        assert!(why("ul　li").contains("full-width"));
        assert!(parse("a[title='品牌：公牛']").is_ok());
        assert!(parse("li.商品").is_ok(), "Chinese class names are names");
    }

    #[test]
    fn parser_errors_become_descriptions() {
        for (css, wanted) in [
            ("li[=x]", "must start with an attribute name"),
            ("ul >", "needs an element on both sides"),
            ("li:contains(插座)", "unknown or misplaced pseudo-class"),
            ("li[title x]", "inside `[...]`"),
            ("li..x", "`.` must be followed by a class name"),
            ("li:", "ends too early"),
            ("li,", "empty part"),
            ("li[x|y]", "namespace"),
        ] {
            let text = why(css);
            assert!(text.contains(wanted), "{css}: {text}");
            assert!(!text.contains("report this"), "{css}: {text}");
        }
    }
}
