//! robots.txt matching against Google's robotstxt-spec-test cases
//! (shared/fixtures/robotstxt_spec_test/derived_cases.json): every
//! expectation, GOOGLE_SPECIFIC ones included, must agree.

use cccwatch::crawl::robots::RobotsTxt;
use serde_json::Value;
use std::path::Path;

const FIXTURE: &str = "../shared/fixtures/robotstxt_spec_test/derived_cases.json";

/// Standard base64 (RFC 4648, with padding), enough for the fixture bodies.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
    {
        let sextet = ALPHABET
            .iter()
            .position(|&a| a == c)
            .unwrap_or_else(|| panic!("bad base64 byte {c:#x}"));
        acc = (acc << 6) | sextet as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing string {key:?} in {value}"))
}

#[test]
fn agrees_with_google_on_every_spec_case() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let Ok(json) = std::fs::read_to_string(&path) else {
        println!("skipped: fixtures absent ({})", path.display());
        return;
    };
    let files: serde_json::Map<String, Value> = serde_json::from_str(&json).expect("fixture JSON");
    let (mut checked, mut failures) = (0, Vec::new());
    for (file, tests) in &files {
        for (index, test) in tests.as_array().expect("list of tests").iter().enumerate() {
            let robots = RobotsTxt::parse(&base64_decode(text(test, "robotstxt_base64")));
            for expectation in test["test_expectations"].as_array().expect("expectations") {
                let (url, ua) = (text(expectation, "testurl"), text(expectation, "useragent"));
                let expected = text(expectation, "expected_outcome");
                let allowed = robots.is_allowed(ua, url);
                checked += 1;
                if allowed != (expected == "ALLOWED") {
                    failures.push(format!(
                        "{file} #{index}: url={url:?} ua={ua:?} expected {expected}"
                    ));
                }
            }
        }
    }
    assert_eq!(checked, 400, "expectation count in {}", path.display());
    assert!(
        failures.is_empty(),
        "{} of {checked} expectations disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
