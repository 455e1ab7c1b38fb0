//! How listings write things: brand forms (`BULL/公牛`, `公牛（BULL）`),
//! model suffixes, certificate numbers (plain, grouped, full-width, behind a
//! label) and where they are cited, plus the deliberate near-misses (a model
//! one digit off, a number that is no certificate).

use rand::Rng;
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use std::collections::HashSet;

/// Where a listing cites its certificate number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertPlace {
    None,
    Spec,
    Title,
    Description,
}

impl CertPlace {
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            CertPlace::None => None,
            CertPlace::Spec => Some("spec"),
            CertPlace::Title => Some("title"),
            CertPlace::Description => Some("description"),
        }
    }
}

pub(crate) fn cert_place(rng: &mut SmallRng) -> CertPlace {
    match rng.random_range(0..100) {
        0..75 => CertPlace::Spec,
        75..90 => CertPlace::Description,
        _ => CertPlace::Title,
    }
}

/// (brand as in the spec table, brand as in the title).
pub(crate) fn brand_forms(rng: &mut SmallRng, name: &str, latin: Option<&str>) -> (String, String) {
    let Some(l) = latin else {
        return (name.to_string(), name.to_string());
    };
    let spec = match rng.random_range(0..100) {
        0..40 => name.to_string(),
        40..60 => format!("{l}/{name}"),
        60..75 => format!("{name}（{l}）"),
        75..85 => format!("{name}({l})"),
        85..95 => format!("{name} {l}"),
        _ => l.to_string(),
    };
    let title = if rng.random_bool(0.6) {
        spec.clone()
    } else {
        name.to_string()
    };
    (spec, title)
}

/// The model as a seller writes it: mostly as certified, sometimes with a
/// colour or in lower case.
pub(crate) fn model_shown(rng: &mut SmallRng, model: &str) -> String {
    const COLOURS: &[&str] = &["白色", "灰色", "黑色"];
    let colour = COLOURS.choose(rng).expect("colours");
    match rng.random_range(0..100) {
        0..80 => model.to_string(),
        80..87 => format!("{model} {colour}"),
        87..93 => format!("{model}-{colour}"),
        _ => model.to_lowercase(),
    }
}

/// The number as written where it is cited.
pub(crate) fn cert_written(rng: &mut SmallRng, no: &str, place: CertPlace) -> String {
    let d: Vec<char> = no.chars().collect();
    let part = |a: usize, b: usize| d[a..b].iter().collect::<String>();
    match rng.random_range(0..100) {
        0..60 => no.to_string(),
        60..70 => format!(
            "{} {} {} {}",
            part(0, 4),
            part(4, 8),
            part(8, 12),
            part(12, 16)
        ),
        70..80 => format!(
            "{}-{}-{}-{}",
            part(0, 4),
            part(4, 6),
            part(6, 10),
            part(10, 16)
        ),
        80..90 => no.chars().map(full_width).collect(),
        _ if place == CertPlace::Spec => format!("3C证书编号：{no}"),
        _ => no.to_string(),
    }
}

fn full_width(c: char) -> char {
    match c {
        '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c),
        _ => c,
    }
}

/// A model one digit away from `model` that no certificate lists
/// (`known` holds every listed model in upper case).
pub(crate) fn off_by_one(rng: &mut SmallRng, model: &str, known: &HashSet<String>) -> String {
    let chars: Vec<char> = model.chars().collect();
    let digits: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_ascii_digit())
        .collect();
    for _ in 0..20 {
        let mut c = chars.clone();
        match digits.choose(rng) {
            Some(&i) => {
                let old = c[i] as u8 - b'0';
                let new = (old + rng.random_range(1..10)) % 10;
                c[i] = (b'0' + new) as char;
            }
            None => c.push('1'),
        }
        let s: String = c.into_iter().collect();
        if !known.contains(&s.to_uppercase()) {
            return s;
        }
    }
    format!("{model}1")
}

/// A 16-digit number one digit away from `no` that is no certificate.
pub(crate) fn unknown_number(rng: &mut SmallRng, no: &str, known: &HashSet<String>) -> String {
    let digits: Vec<u8> = no.bytes().collect();
    loop {
        let mut d = digits.clone();
        let i = rng.random_range(10..16);
        d[i] = b'0' + (d[i] - b'0' + rng.random_range(1..10)) % 10;
        let s = String::from_utf8(d).expect("ascii digits");
        if !known.contains(&s) {
            return s;
        }
    }
}

/// A model for a product nobody certified: two letters, digits, a letter.
pub(crate) fn invented_model(rng: &mut SmallRng) -> String {
    const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTWXYZ";
    let l = |rng: &mut SmallRng| *LETTERS.choose(rng).expect("letters") as char;
    let (a, b, c) = (l(rng), l(rng), l(rng));
    format!("{a}{b}-{}{c}", rng.random_range(100..9999))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn near_misses_miss() {
        let mut rng = SmallRng::seed_from_u64(1);
        let list: HashSet<String> = ["GN-B5120".to_string(), "GN-B5121".to_string()].into();
        for _ in 0..50 {
            let m = off_by_one(&mut rng, "GN-B5120", &list);
            assert!(!list.contains(&m));
            assert_eq!(m.len(), 8);
            let diff = m.bytes().zip("GN-B5120".bytes()).filter(|(a, b)| a != b);
            assert_eq!(diff.count(), 1);
        }
        let known: HashSet<String> = ["2016010201931890".to_string()].into();
        let n = unknown_number(&mut rng, "2016010201931890", &known);
        assert_eq!(n.len(), 16);
        assert_ne!(n, "2016010201931890");
    }

    #[test]
    fn numbers_are_written_in_every_form() {
        let mut rng = SmallRng::seed_from_u64(2);
        let forms: HashSet<String> = (0..200)
            .map(|_| cert_written(&mut rng, "2016010201931890", CertPlace::Spec))
            .collect();
        assert!(forms.contains("2016 0102 0193 1890"));
        assert!(forms.contains("2016-01-0201-931890"));
        assert!(forms.contains("２０１６０１０２０１９３１８９０"));
        assert!(forms.contains("3C证书编号：2016010201931890"));
    }
}
