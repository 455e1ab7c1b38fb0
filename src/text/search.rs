//! The text behind the review queue's full-text search. In: a listing's
//! fields, or what a reviewer typed; out: the text the store indexes for the
//! listing ([`search_text`]), or the FTS5 query that searches it
//! ([`fts_query`]).
//!
//! SQLite's FTS5 tokenizer does not split Chinese into words, so the text
//! stored for a listing is pre-split: each run of CJK characters becomes its
//! overlapping character pairs (`电热水壶` → `电热 热水 水壶`), everything
//! else stays as written, lower-cased. A query is split the same way and
//! searched as a phrase, which finds any substring of two or more Chinese
//! characters and any word or word prefix in Latin letters and digits.

use crate::text::normalize::{fold_width, is_cjk};

/// The indexed text of a listing's title, brand, model and seller.
pub fn search_text<'a>(fields: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let mut out = String::new();
    for field in fields.into_iter().flatten() {
        for token in tokens(field) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&token);
        }
    }
    out
}

/// The FTS5 MATCH expression for what a user typed, or `None` when it holds
/// nothing searchable. Every word must occur; Chinese words as substrings,
/// the last Latin word also as a prefix. The result contains only quoted
/// tokens, so FTS5 operators typed by the user have no effect.
pub fn fts_query(input: &str) -> Option<String> {
    let mut parts = Vec::new();
    let words: Vec<&str> = input.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        let last = i + 1 == words.len();
        for run in runs(&fold_width(word)) {
            match run {
                Run::Cjk(chars) if chars.len() == 1 => {
                    // One character: any pair that starts with it.
                    parts.push(format!("\"{}\" *", chars[0]));
                }
                Run::Cjk(chars) => {
                    let pairs: Vec<String> = chars
                        .windows(2)
                        .map(|w| w.iter().collect::<String>())
                        .collect();
                    parts.push(format!("\"{}\"", pairs.join(" ")));
                }
                Run::Other(text) => {
                    // The tokenizer splits at anything but letters and
                    // digits; so does the query (`KFR-35`, `k8/39`).
                    let text: String = text
                        .chars()
                        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
                        .collect::<String>()
                        .to_lowercase();
                    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                    let text = text.trim();
                    if text.is_empty() {
                        continue;
                    }
                    if last {
                        parts.push(format!("\"{text}\" *"));
                    } else {
                        parts.push(format!("\"{text}\""));
                    }
                }
            }
        }
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

enum Run {
    Cjk(Vec<char>),
    Other(String),
}

fn runs(s: &str) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for c in s.chars() {
        let cjk = is_cjk(c);
        match out.last_mut() {
            Some(Run::Cjk(v)) if cjk => v.push(c),
            Some(Run::Other(t)) if !cjk => t.push(c),
            _ if cjk => out.push(Run::Cjk(vec![c])),
            _ => out.push(Run::Other(c.to_string())),
        }
    }
    out
}

fn tokens(field: &str) -> Vec<String> {
    let folded = fold_width(field);
    let mut out = Vec::new();
    for run in runs(&folded) {
        match run {
            Run::Cjk(chars) if chars.len() == 1 => out.push(chars[0].to_string()),
            Run::Cjk(chars) => out.extend(chars.windows(2).map(|w| w.iter().collect::<String>())),
            Run::Other(text) => {
                let t = text.trim().to_lowercase();
                if !t.is_empty() {
                    out.push(t);
                }
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
    fn chinese_becomes_pairs_and_latin_stays() {
        assert_eq!(
            search_text([Some("美的电热水壶 MK-HJ1705"), None, Some("某某旗舰店")]),
            "美的 的电 电热 热水 水壶 mk-hj1705 某某 某旗 旗舰 舰店"
        );
    }

    #[test]
    fn queries_are_phrases_of_pairs() {
        assert_eq!(fts_query("电热水壶").as_deref(), Some("\"电热 热水 水壶\""));
        assert_eq!(fts_query("壶").as_deref(), Some("\"壶\" *"));
        assert_eq!(fts_query("k8/39/6").as_deref(), Some("\"k8 39 6\" *"));
        assert_eq!(
            fts_query("美的 KFR-35").as_deref(),
            Some("\"美的\" AND \"kfr 35\" *")
        );
        assert_eq!(fts_query("  \"* - ").as_deref(), None);
        // FTS5 operators typed by the user are just words.
        assert_eq!(
            fts_query("a OR b").as_deref(),
            Some("\"a\" AND \"or\" AND \"b\" *")
        );
    }

    proptest! {
        /// Whatever is typed, the query is quoted tokens joined by AND, with
        /// no stray quote that could open FTS5 syntax.
        #[test]
        fn query_is_always_quoted(input in "\\PC{0,40}") {
            if let Some(q) = fts_query(&input) {
                for part in q.split(" AND ") {
                    let part = part.strip_suffix(" *").unwrap_or(part);
                    prop_assert!(part.starts_with('"') && part.ends_with('"') && part.len() >= 2);
                    prop_assert!(!part[1..part.len() - 1].contains('"'));
                }
            }
        }
    }
}
