//! Crawl stage: robots.txt parsing and matching, with the behaviour of
//! Google's reference parser (google/robotstxt) and RFC 9309.
//!
//! [`RobotsTxt::parse`] turns a fetched body into groups of rules once;
//! [`RobotsTxt::is_allowed`] and [`RobotsTxt::crawl_delay`] then answer per
//! URL and user agent. Behaviour, as in Google's parser:
//!
//! - Lines end at CR, LF or CRLF; a UTF-8 BOM (or a prefix of one) at the
//!   start of the body is skipped; only the first 500 KiB of a body and the
//!   first 16,663 bytes of a line count; `#` starts a comment.
//! - `key: value`, or `key value` when the colon is missing. Directive names
//!   are case-insensitive prefixes, with the usual typos accepted
//!   (`useragent`, `user agent`, `disalow`, `dissallow`, ...).
//! - A group is a run of `user-agent` lines and the lines after them up to the
//!   next `user-agent` line that follows a non-`user-agent` line. Groups naming
//!   the same agent are merged; the `*` groups apply only when no group names
//!   the agent. `*` followed by whitespace and more text is still `*`.
//! - The user agent is matched on its product token (`[A-Za-z_-]+`),
//!   case-insensitively: `Foo Bar` in a robots.txt names `foo`. The caller's
//!   user agent may be a full `product/version (comment)` string; a caller
//!   token with other characters (`Foo Bar`) matches no group, as in Google's
//!   matcher.
//! - Patterns are normalised: octets >= 0x80 are %-encoded and `%xx` escapes
//!   get upper-case hex. The URL is not: callers pass it %-encoded already
//!   (as `url::Url` does), and a raw non-ASCII URL matches no encoded pattern.
//! - `*` matches any run of bytes, a final `$` anchors the end; the longest
//!   matching pattern wins and `allow` wins a tie. An empty `disallow:` allows.
//! - An `allow` pattern ending in `/index.htm...` that does not match also
//!   allows the directory itself (`/dir/index.html` allows `/dir/`).
//!
//! `crawl-delay` (ignored by Google) is read as seconds, fractions allowed,
//! from the first valid line of the group that applies to the agent.

use super::failure::Failure;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// A host's robots.txt as last read: its rules, or why it could not be read.
pub type RobotsState = Result<Arc<RobotsTxt>, Failure>;

/// Google ignores everything after the first 500 KiB of a robots.txt.
const MAX_BODY_BYTES: usize = 500 * 1024;
/// Google's line buffer: bytes past this on one line are dropped.
const MAX_LINE_BYTES: usize = 2083 * 8 - 1;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

const USER_AGENT_KEYS: &[&str] = &["user-agent", "useragent", "user agent"];
const ALLOW_KEYS: &[&str] = &["allow"];
const DISALLOW_KEYS: &[&str] = &[
    "disallow",
    "dissallow",
    "dissalow",
    "disalow",
    "diasllow",
    "disallaw",
];
const CRAWL_DELAY_KEYS: &[&str] = &["crawl-delay", "crawldelay", "crawl delay"];

/// A parsed robots.txt: the groups of rules, ready for matching.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RobotsTxt {
    groups: Vec<Group>,
}

/// One group: the agents it names and the lines that follow them.
#[derive(Clone, Debug, Default, PartialEq)]
struct Group {
    /// Named by `*`.
    global: bool,
    /// Product tokens, ASCII lower case.
    agents: Vec<String>,
    rules: Vec<Rule>,
    crawl_delay: Option<Duration>,
}

/// One `allow` or `disallow` line.
#[derive(Clone, Debug, PartialEq)]
struct Rule {
    allow: bool,
    /// Normalised pattern; its length is the rule's priority.
    pattern: String,
    /// For `allow: /dir/index.htm*`: the pattern `/dir/$`.
    index_fallback: Option<String>,
}

/// Directive names that the parser acts on.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Key {
    UserAgent,
    Allow,
    Disallow,
    CrawlDelay,
    Other,
}

/// The highest priorities of the matching `allow` and `disallow` rules.
#[derive(Clone, Copy, Debug, Default)]
struct Verdict {
    allow: Option<usize>,
    disallow: Option<usize>,
}

impl RobotsTxt {
    /// Parses a robots.txt body. Never fails: unparsable lines are skipped.
    pub fn parse(body: &[u8]) -> RobotsTxt {
        let body = &body[..body.len().min(MAX_BODY_BYTES)];
        let mut builder = Builder::default();
        for line in skip_bom(body).split(|&b| b == b'\n' || b == b'\r') {
            if let Some((key, value)) = key_and_value(clip_line(line)) {
                builder.line(Key::parse(key), value);
            }
        }
        RobotsTxt {
            groups: builder.finish(),
        }
    }

    /// Everything allowed, e.g. for a robots.txt answered with 404.
    pub fn allow_all() -> RobotsTxt {
        RobotsTxt::default()
    }

    /// Everything disallowed, e.g. for a robots.txt answered with 5xx or not
    /// reachable.
    pub fn disallow_all() -> RobotsTxt {
        let group = Group {
            global: true,
            rules: vec![Rule::new(false, "/".to_owned())],
            ..Group::default()
        };
        RobotsTxt {
            groups: vec![group],
        }
    }

    /// `url` is an absolute URL (http://host/path?query) or a path starting with '/'.
    pub fn is_allowed(&self, user_agent: &str, url: &str) -> bool {
        let path = path_params_query(url);
        let verdict = Verdict::of(&self.groups_for(user_agent), path.as_bytes());
        !verdict.is_decisive() || verdict.allows()
    }

    /// Crawl-delay for the group that applies to user_agent (falls back to `*` group), if any.
    pub fn crawl_delay(&self, user_agent: &str) -> Option<Duration> {
        let groups = self.groups_for(user_agent);
        groups.iter().find_map(|g| g.crawl_delay)
    }

    /// The groups that apply to `user_agent`: those naming its product token,
    /// or else the `*` groups.
    fn groups_for(&self, user_agent: &str) -> Vec<&Group> {
        let named: Vec<&Group> = match caller_token(user_agent) {
            Some(token) => self.groups.iter().filter(|g| g.names(token)).collect(),
            None => Vec::new(),
        };
        if !named.is_empty() {
            return named;
        }
        self.groups.iter().filter(|g| g.global).collect()
    }
}

/// Collects groups while the lines of a body go by.
#[derive(Default)]
struct Builder {
    groups: Vec<Group>,
    current: Option<Group>,
    /// A non-`user-agent` line was seen since the last `user-agent` line.
    after_members: bool,
}

impl Builder {
    fn line(&mut self, key: Key, value: &[u8]) {
        if key == Key::UserAgent {
            self.user_agent(value);
            return;
        }
        self.after_members = true;
        if let Some(group) = self.current.as_mut() {
            group.member(key, value);
        }
    }

    fn user_agent(&mut self, value: &[u8]) {
        if self.after_members {
            self.flush();
            self.after_members = false;
        }
        self.current
            .get_or_insert_with(Group::default)
            .add_agent(value);
    }

    fn flush(&mut self) {
        let group = self.current.take();
        // A group naming only agents without a product token applies to none.
        self.groups
            .extend(group.filter(|g| g.global || !g.agents.is_empty()));
    }

    fn finish(mut self) -> Vec<Group> {
        self.flush();
        self.groups
    }
}

impl Group {
    fn add_agent(&mut self, value: &[u8]) {
        if is_global_agent(value) {
            self.global = true;
            return;
        }
        let token = product_token(value);
        if !token.is_empty() {
            self.agents.push(token.to_ascii_lowercase());
        }
    }

    fn member(&mut self, key: Key, value: &[u8]) {
        match key {
            Key::Allow | Key::Disallow => {
                let pattern = normalise_pattern(value);
                self.rules.push(Rule::new(key == Key::Allow, pattern));
            }
            Key::CrawlDelay if self.crawl_delay.is_none() => {
                self.crawl_delay = parse_crawl_delay(value);
            }
            _ => {}
        }
    }

    fn names(&self, token: &str) -> bool {
        self.agents.iter().any(|a| a.eq_ignore_ascii_case(token))
    }
}

impl Rule {
    fn new(allow: bool, pattern: String) -> Rule {
        let index_fallback = if allow {
            index_fallback(&pattern)
        } else {
            None
        };
        Rule {
            allow,
            pattern,
            index_fallback,
        }
    }

    /// The priority with which the rule matches `path`, if it does.
    fn priority(&self, path: &[u8]) -> Option<usize> {
        if pattern_matches(path, self.pattern.as_bytes()) {
            return Some(self.pattern.len());
        }
        let fallback = self.index_fallback.as_deref()?;
        pattern_matches(path, fallback.as_bytes()).then_some(fallback.len())
    }
}

impl Verdict {
    fn of(groups: &[&Group], path: &[u8]) -> Verdict {
        let mut verdict = Verdict::default();
        for rule in groups.iter().flat_map(|g| &g.rules) {
            let priority = rule.priority(path);
            let slot = if rule.allow {
                &mut verdict.allow
            } else {
                &mut verdict.disallow
            };
            *slot = (*slot).max(priority);
        }
        verdict
    }

    /// A non-empty pattern matched. An empty one (`disallow:`) decides
    /// nothing, and with no decisive rule in the applicable groups the URL is
    /// allowed: a group naming the agent shadows `*` even when it is empty.
    fn is_decisive(&self) -> bool {
        self.allow.max(self.disallow) > Some(0)
    }

    /// Longest match wins; `allow` wins a tie.
    fn allows(&self) -> bool {
        self.disallow <= self.allow
    }
}

impl Key {
    fn parse(key: &[u8]) -> Key {
        let is = |names: &[&str]| names.iter().any(|n| starts_with_ignore_case(key, n));
        if is(USER_AGENT_KEYS) {
            Key::UserAgent
        } else if is(ALLOW_KEYS) {
            Key::Allow
        } else if is(DISALLOW_KEYS) {
            Key::Disallow
        } else if is(CRAWL_DELAY_KEYS) {
            Key::CrawlDelay
        } else {
            Key::Other
        }
    }
}

fn starts_with_ignore_case(text: &[u8], prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Drops the longest prefix of the body that is a prefix of the UTF-8 BOM.
fn skip_bom(body: &[u8]) -> &[u8] {
    let n = body
        .iter()
        .zip(UTF8_BOM)
        .take_while(|(a, b)| a == b)
        .count();
    &body[n..]
}

/// Applies Google's line-length limit and its C-string view (a NUL ends it).
fn clip_line(line: &[u8]) -> &[u8] {
    let line = &line[..line.len().min(MAX_LINE_BYTES)];
    line.split(|&b| b == 0).next().unwrap_or_default()
}

/// Whitespace as C's `isspace` and absl's `StripAsciiWhitespace` see it.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C)
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s
        && is_space(*first)
    {
        s = rest;
    }
    while let [rest @ .., last] = s
        && is_space(*last)
    {
        s = rest;
    }
    s
}

/// Splits a line into a non-empty key and a value, both trimmed, after
/// dropping the comment. Without a colon, `key value` is accepted when the
/// line holds exactly two words.
fn key_and_value(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let line = line.split(|&b| b == b'#').next().unwrap_or_default();
    let line = trim(line);
    let (key, value) = match line.iter().position(|&b| b == b':') {
        Some(colon) => (&line[..colon], &line[colon + 1..]),
        None => split_two_words(line)?,
    };
    let key = trim(key);
    (!key.is_empty()).then(|| (key, trim(value)))
}

fn split_two_words(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let gap = line.iter().position(is_blank)?;
    let (key, value) = (&line[..gap], &line[gap + 1..]);
    let word = value
        .iter()
        .position(|b| !is_blank(b))
        .unwrap_or(value.len());
    if value[word..].iter().any(is_blank) {
        return None;
    }
    Some((key, value))
}

/// `*`, alone or followed by whitespace, names every agent.
fn is_global_agent(value: &[u8]) -> bool {
    match value {
        [b'*'] => true,
        [b'*', next, ..] => is_space(*next),
        _ => false,
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'-' || b == b'_'
}

/// The leading `[A-Za-z_-]` run of a `user-agent` line's value, as a string.
fn product_token(value: &[u8]) -> String {
    let len = value.iter().take_while(|&&b| is_token_byte(b)).count();
    value[..len].iter().map(|&b| char::from(b)).collect()
}

/// The caller's product token: the leading `[A-Za-z_-]` run of its user
/// agent, when nothing but the end or `/version...` follows it.
fn caller_token(user_agent: &str) -> Option<&str> {
    let user_agent = user_agent.trim();
    let len = user_agent.bytes().take_while(|&b| is_token_byte(b)).count();
    let (token, rest) = user_agent.split_at(len);
    let valid = len > 0 && (rest.is_empty() || rest.starts_with('/'));
    valid.then_some(token)
}

/// %-encodes octets >= 0x80 and upper-cases the hex of `%xx` escapes.
fn normalise_pattern(value: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let b = value[i];
        if b == b'%' && is_hex_at(value, i + 1) && is_hex_at(value, i + 2) {
            out.push('%');
            out.push(char::from(value[i + 1].to_ascii_uppercase()));
            out.push(char::from(value[i + 2].to_ascii_uppercase()));
            i += 3;
            continue;
        }
        if b >= 0x80 {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        } else {
            out.push(char::from(b));
        }
        i += 1;
    }
    out
}

fn is_hex_at(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_hexdigit)
}

/// `/dir/index.html` (anything after the last `/` starting `index.htm`)
/// gives `/dir/$`.
fn index_fallback(pattern: &str) -> Option<String> {
    let slash = pattern.rfind('/')?;
    pattern[slash..]
        .starts_with("/index.htm")
        .then(|| format!("{}$", &pattern[..=slash]))
}

/// Whether `pattern` matches `path` from its start: `*` matches any run of
/// bytes, a final `$` matches the end of the path, all else is literal.
/// Keeps the sorted set of path offsets the pattern so far can end at, so
/// the cost is at most `path.len() * pattern.len()`.
fn pattern_matches(path: &[u8], pattern: &[u8]) -> bool {
    let mut ends: Vec<usize> = vec![0];
    for (i, &p) in pattern.iter().enumerate() {
        if p == b'$' && i + 1 == pattern.len() {
            return ends.last() == Some(&path.len());
        }
        if p == b'*' {
            ends = (ends[0]..=path.len()).collect();
            continue;
        }
        ends.retain(|&end| path.get(end) == Some(&p));
        if ends.is_empty() {
            return false;
        }
        ends.iter_mut().for_each(|end| *end += 1);
    }
    true
}

/// The path, params and query of `url`, always starting with `/`: drops the
/// scheme, authority and fragment (as Google's `GetPathParamsQuery`).
fn path_params_query(url: &str) -> Cow<'_, str> {
    let url = url.strip_prefix("//").unwrap_or(url);
    let path_chars = ['/', '?', ';'];
    let early_path = url.find(path_chars);
    let scheme_end = url
        .find("://")
        .filter(|&sep| early_path.is_none_or(|p| p > sep));
    let authority = scheme_end.map_or(0, |sep| sep + 3);
    let Some(start) = url[authority..].find(path_chars).map(|p| p + authority) else {
        return Cow::Borrowed("/");
    };
    let hash = url.find('#');
    if hash.is_some_and(|h| h < start) {
        return Cow::Borrowed("/");
    }
    let path = &url[start..hash.unwrap_or(url.len())];
    if path.starts_with('/') {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(format!("/{path}"))
    }
}

/// Seconds, fractions allowed; negative, non-finite or huge values are ignored.
fn parse_crawl_delay(value: &[u8]) -> Option<Duration> {
    let seconds: f64 = std::str::from_utf8(value).ok()?.trim().parse().ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &str = "cccwatch/0.1 (+https://example.org/bot)";

    fn robots(text: &str) -> RobotsTxt {
        RobotsTxt::parse(text.as_bytes())
    }

    #[test]
    fn crawl_delay_of_the_named_group() {
        let r =
            robots("User-agent: *\nCrawl-delay: 10\n\nUser-agent: cccwatch\nCrawl-delay: 2.5\n");
        assert_eq!(r.crawl_delay(UA), Some(Duration::from_millis(2500)));
        assert_eq!(r.crawl_delay("otherbot"), Some(Duration::from_secs(10)));
    }

    #[test]
    fn crawl_delay_falls_back_to_star_only_when_no_group_names_the_agent() {
        let r = robots("User-agent: *\nCrawl-delay: 10\n");
        assert_eq!(r.crawl_delay(UA), Some(Duration::from_secs(10)));
        let r = robots("User-agent: *\nCrawl-delay: 10\nUser-agent: cccwatch\nDisallow: /x\n");
        assert_eq!(r.crawl_delay(UA), None);
    }

    #[test]
    fn crawl_delay_spellings_and_bad_values() {
        let r = robots("user-agent: cccwatch\nCRAWL-DELAY 3\n");
        assert_eq!(r.crawl_delay(UA), Some(Duration::from_secs(3)));
        for bad in ["-1", "abc", "", "NaN", "inf", "1e400"] {
            let r = robots(&format!("User-agent: *\nCrawl-delay: {bad}\n"));
            assert_eq!(r.crawl_delay(UA), None, "{bad:?}");
        }
        let r = robots("User-agent: *\nCrawl-delay: x\nCrawl-delay: 4 # seconds\n");
        assert_eq!(r.crawl_delay(UA), Some(Duration::from_secs(4)));
        assert_eq!(RobotsTxt::allow_all().crawl_delay(UA), None);
    }

    #[test]
    fn crawl_delay_line_ends_the_user_agent_run() {
        let r = robots("User-agent: a\nCrawl-delay: 1\nUser-agent: b\nCrawl-delay: 2\n");
        assert_eq!(r.crawl_delay("a"), Some(Duration::from_secs(1)));
        assert_eq!(r.crawl_delay("b"), Some(Duration::from_secs(2)));
    }

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let r = robots(
            "User-agent: *\nDisallow: /a\nAllow: /a/b\nDisallow: /a/b/c\nAllow: /x\nDisallow: /x\n",
        );
        assert!(!r.is_allowed(UA, "http://h/a/z"));
        assert!(r.is_allowed(UA, "http://h/a/b"));
        assert!(!r.is_allowed(UA, "http://h/a/b/c"));
        assert!(r.is_allowed(UA, "http://h/x"));
        assert!(r.is_allowed(UA, "http://h/other"));
    }

    #[test]
    fn wildcards_and_end_anchor() {
        let r = robots("User-agent: *\nDisallow: /*.pdf$\nDisallow: /p*q\n");
        assert!(!r.is_allowed(UA, "/docs/a.pdf"));
        assert!(r.is_allowed(UA, "/docs/a.pdf?x=1"));
        assert!(!r.is_allowed(UA, "/pxxq"));
        assert!(r.is_allowed(UA, "/pxx"));
        assert!(pattern_matches(b"/a$b", b"/a$b"));
        assert!(!pattern_matches(b"/ab", b"/a$b"));
    }

    #[test]
    fn full_user_agent_matches_its_product_token() {
        let r = robots("User-agent: *\nDisallow: /\n\nUser-agent: CCCWatch\nDisallow: /private\n");
        assert!(r.is_allowed(UA, "https://shop.example/item?id=1"));
        assert!(!r.is_allowed(UA, "https://shop.example/private/1"));
        assert!(!r.is_allowed("otherbot/2.0", "https://shop.example/item"));
        assert!(!r.is_allowed("cccwatch bot", "https://shop.example/item"));
        assert_eq!(caller_token(UA), Some("cccwatch"));
    }

    #[test]
    fn named_group_without_rules_allows_everything() {
        let r = robots("User-agent: cccwatch\nSitemap: /s.xml\nUser-agent: *\nDisallow: /\n");
        assert!(r.is_allowed(UA, "/anything"));
        assert!(!r.is_allowed("other", "/anything"));
    }

    #[test]
    fn index_html_allows_the_directory() {
        let r = robots("User-agent: *\nAllow: /d/index.html\nDisallow: /\n");
        assert!(r.is_allowed(UA, "/d/"));
        assert!(r.is_allowed(UA, "/d/index.html"));
        assert!(!r.is_allowed(UA, "/d/x"));
    }

    #[test]
    fn patterns_are_normalised_but_urls_are_not() {
        let r = robots("User-agent: *\nDisallow: /\nAllow: /caf\u{e9}\nAllow: /%7euser\n");
        assert!(r.is_allowed(UA, "/caf%C3%A9"));
        assert!(!r.is_allowed(UA, "/caf\u{e9}"));
        assert!(r.is_allowed(UA, "/%7Euser"));
    }

    #[test]
    fn bom_line_endings_and_typos() {
        let r =
            RobotsTxt::parse(b"\xEF\xBB\xBFuser agent: cccwatch\r\ndisalow: /a\rDISALLOW /b\r\n");
        assert!(!r.is_allowed(UA, "/a"));
        assert!(!r.is_allowed(UA, "/b"));
        assert!(r.is_allowed(UA, "/c"));
    }

    #[test]
    fn allow_all_and_disallow_all() {
        assert!(RobotsTxt::allow_all().is_allowed(UA, "http://h/x"));
        assert!(!RobotsTxt::disallow_all().is_allowed(UA, "http://h/x"));
        assert!(!RobotsTxt::disallow_all().is_allowed(UA, "http://h"));
    }

    #[test]
    fn path_extraction() {
        assert_eq!(path_params_query("http://h/a?b#c"), "/a?b");
        assert_eq!(path_params_query("http://h?q"), "/?q");
        assert_eq!(path_params_query("http://h#f/x"), "/");
        assert_eq!(path_params_query("/p;x"), "/p;x");
        assert_eq!(path_params_query(""), "/");
        assert_eq!(path_params_query("//h/p"), "/p");
    }

    #[test]
    fn body_past_500_kib_is_ignored() {
        let mut body = b"User-agent: *\n".to_vec();
        body.resize(MAX_BODY_BYTES, b'#');
        body.extend_from_slice(b"\nDisallow: /\n");
        assert!(RobotsTxt::parse(&body).is_allowed(UA, "/x"));
    }

    #[test]
    fn is_send_sync_clone_debug() {
        fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
        check::<RobotsTxt>();
    }
}
