//! Traditional to simplified Chinese, one character at a time: in, a
//! character or a string; out, its simplified form (`雪櫃` → `雪柜`,
//! `延長線` → `延长线`). Hong Kong and Taiwan sellers write traditional
//! characters; the catalog's words are simplified, so scope folds every text
//! it reads with [`fold_scope`] before looking for them.
//!
//! The table is OpenCC's `TSCharacters` (src/text/t2s.txt, Apache-2.0), the
//! first reading of each character. Character by character is enough for
//! finding words: a character with several simplified readings in running
//! text (`乾` → 干 or 乾) is rare in product names, and keywords are folded
//! the same way, so both sides agree.
//!
//! The lookup is one array load for the basic CJK blocks (U+3400–U+9FFF),
//! so folding costs about what width folding does.

use std::sync::LazyLock;

const TABLE: &str = include_str!("t2s.txt");

/// The first code point of the dense part of the table.
const DENSE_START: u32 = 0x3400;
/// One past the last code point of the dense part.
const DENSE_END: u32 = 0xA000;

struct Table {
    /// `dense[c - DENSE_START]`: the simplified code point, or 0 for none.
    dense: Vec<u32>,
    /// Characters outside the dense range, sorted by the traditional one.
    sparse: Vec<(char, char)>,
}

static T2S: LazyLock<Table> = LazyLock::new(|| {
    let mut dense = vec![0u32; (DENSE_END - DENSE_START) as usize];
    let mut sparse = Vec::new();
    for line in TABLE.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split('\t');
        let (Some(from), Some(to)) = (
            cols.next().and_then(single_char),
            cols.next().and_then(single_char),
        ) else {
            panic!("src/text/t2s.txt: malformed line {line:?}");
        };
        let code = from as u32;
        if (DENSE_START..DENSE_END).contains(&code) {
            dense[(code - DENSE_START) as usize] = to as u32;
        } else {
            sparse.push((from, to));
        }
    }
    sparse.sort_unstable();
    Table { dense, sparse }
});

fn single_char(s: &str) -> Option<char> {
    let mut chars = s.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

/// The simplified form of `c`, or `c` when it has none.
#[inline]
pub fn simplify_char(c: char) -> char {
    let code = c as u32;
    if code < DENSE_START {
        return c;
    }
    let t = &*T2S;
    if code < DENSE_END {
        match t.dense[(code - DENSE_START) as usize] {
            0 => c,
            s => char::from_u32(s).unwrap_or(c),
        }
    } else {
        t.sparse
            .binary_search_by_key(&c, |&(from, _)| from)
            .map_or(c, |i| t.sparse[i].1)
    }
}

/// `s` with every traditional character simplified.
pub fn simplify(s: &str) -> String {
    s.chars().map(simplify_char).collect()
}

/// The form the catalog reads: full-width folded, lowercase, simplified.
/// Keywords and texts both go through it, so they meet on the same form.
pub fn fold_scope(s: &str) -> String {
    let folded = super::normalize::fold_width(s);
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if ('\u{3400}'..'\u{A000}').contains(&c) {
            // The CJK blocks have no case: the common path, one load.
            out.push(simplify_char(c));
        } else {
            match simplify_char(c) {
                s if s != c => out.push(s),
                _ => out.extend(c.to_lowercase()),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hong_kong_and_taiwan_product_words_fold_to_the_catalogs() {
        assert_eq!(simplify("雪櫃"), "雪柜");
        assert_eq!(simplify("延長線"), "延长线");
        assert_eq!(simplify("電風扇 燈掣"), "电风扇 灯掣");
        assert_eq!(simplify("開飲機"), "开饮机");
        // Simplified text, Latin and digits are kept as they are.
        assert_eq!(simplify("美的电饭煲 MB-FB40 4L"), "美的电饭煲 MB-FB40 4L");
    }

    #[test]
    fn fold_scope_folds_width_case_and_script_in_one_pass() {
        assert_eq!(fold_scope("ＧＮ－Ｈ３０５０ 電飯煲"), "gn-h3050 电饭煲");
        assert_eq!(fold_scope("Ärger Fan"), "ärger fan");
        // Cased letters above the CJK blocks are lowercased too (Deseret).
        assert_eq!(fold_scope("\u{10400}"), "\u{10428}");
    }

    #[test]
    fn the_table_parses_and_maps_only_traditional_characters() {
        let t = &*T2S;
        let mapped = t.dense.iter().filter(|&&s| s != 0).count() + t.sparse.len();
        assert!(mapped > 3000, "{mapped}");
        // Nothing maps to itself, so a simplified text is a fixed point of
        // the common characters of product titles.
        for c in "电风扇插座开关玩具冰箱空调洗衣机电饭煲热水器".chars() {
            assert_eq!(simplify_char(c), c);
        }
    }

    proptest! {
        #[test]
        fn folding_is_idempotent_and_keeps_the_number_of_characters(s in "\\PC{0,40}") {
            let once = fold_scope(&s);
            prop_assert_eq!(fold_scope(&once), once.clone());
            let simple = simplify(&s);
            prop_assert_eq!(simple.chars().count(), s.chars().count());
        }
    }
}
