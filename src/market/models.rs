//! Reading a certificate's 规格型号 cell: the model numbers (ratings,
//! bracketed notes and Chinese words dropped) and the power rating.

/// Model numbers from a 规格型号 cell: bracketed text (ratings, accessories)
/// removed, split on `、,;；` and spaces, ratings and Chinese words dropped.
pub(crate) fn parse_models(spec: &str) -> Vec<String> {
    let mut flat = String::with_capacity(spec.len());
    let mut depth = 0usize;
    for c in spec.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = depth.saturating_sub(1),
            _ if depth == 0 => flat.push(c),
            _ => {}
        }
    }
    let mut out: Vec<String> = Vec::new();
    for tok in flat.split(|c: char| "、,;；，".contains(c) || c.is_whitespace()) {
        if is_model(tok) && !out.iter().any(|m| m == tok) {
            out.push(tok.to_string());
        }
    }
    out
}

fn is_model(tok: &str) -> bool {
    if tok.chars().count() < 2 || !tok.is_ascii() {
        return false;
    }
    if tok.contains([':', '~']) {
        return false;
    }
    if tok.chars().all(|c| c.is_ascii_digit()) {
        return tok.len() >= 4;
    }
    !is_rating(tok)
}

/// `250V`, `10AX`, `50/60Hz`, `4.5Ah`, `5V/2A`, `1.8m`: every `/` part is a
/// number with an optional unit, and some part has a unit or a decimal point.
fn is_rating(tok: &str) -> bool {
    const UNITS: &[&str] = &["V", "A", "AX", "W", "Hz", "Ah", "mAh", "kW", "m", "L"];
    let mut marked = false;
    for part in tok.split('/') {
        let digits = part
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .unwrap_or(part.len());
        if digits == 0 {
            return false;
        }
        let unit = &part[digits..];
        if !unit.is_empty() && !UNITS.contains(&unit) {
            return false;
        }
        marked |= !unit.is_empty() || part.contains('.');
    }
    marked
}

/// The largest `NNNW` rating in a model cell (0 when none).
pub(crate) fn max_watts(spec: &str) -> u32 {
    let mut best = 0;
    let mut num = String::new();
    for c in spec.chars() {
        if c.is_ascii_digit() || (c == '.' && !num.is_empty()) {
            num.push(c);
            continue;
        }
        if c == 'W' {
            let w = num.parse::<f64>().unwrap_or(0.0) as u32;
            best = best.max(w);
        }
        num.clear();
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_are_parsed_from_spec_cells() {
        assert_eq!(
            parse_models("NDK3-Z7C,NDK3-Z9P;NDK3-Z4J 250V~ 10A"),
            ["NDK3-Z7C", "NDK3-Z9P", "NDK3-Z4J"]
        );
        assert_eq!(
            parse_models("S9936/55；S9960/55（100-240V～ 50/60Hz 5.4W（充电器输入））"),
            ["S9936/55", "S9960/55"]
        );
        assert_eq!(
            parse_models("80-682352 80-682368 4.8V 镍氢电池组"),
            ["80-682352", "80-682368"]
        );
        assert_eq!(
            parse_models("85100、81800 6V 4.5Ah 铅酸电池"),
            ["85100", "81800"]
        );
        assert_eq!(parse_models("TS-C755 输入:100-240V~ 5V/2A"), ["TS-C755"]);
        assert_eq!(
            parse_models("K8/460/10US 250V~ 16A 50/60Hz"),
            ["K8/460/10US"]
        );
        assert!(parse_models("见附件").is_empty());
    }

    #[test]
    fn watts_are_read() {
        assert_eq!(max_watts("HD740 220V～ 50Hz 2200W"), 2200);
        assert_eq!(max_watts("FC5799 100-240V～ 5.4W（充电器输入）"), 5);
        assert_eq!(max_watts("见附件"), 0);
    }
}
