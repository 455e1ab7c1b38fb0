//! Crawl stage: why a request failed, in words an officer reads.
//!
//! In: a `reqwest` error (with its source chain), an HTTP status, or the
//! reason robots.txt could not be read. Out: a [`Failure`] — a kind
//! ("连接被拒绝", "超时", …), the host it happened on, and the technical
//! detail — whose text (`连接被拒绝 127.0.0.1:1（connection refused）`) is what
//! the frontier stores, the summary prints and the scan history shows.
//! [`group`] folds the failures of a scan into one line per kind and host.

use std::fmt;

/// What went wrong, as a user would name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    ConnectionRefused,
    ConnectionReset,
    Timeout,
    Dns,
    PrivateAddress,
    Tls,
    Connect,
    Body,
    Http(u16),
    TooLarge,
    Redirect,
    Other,
}

impl FailureKind {
    /// The Chinese name shown to users.
    pub fn label(self) -> String {
        match self {
            FailureKind::ConnectionRefused => "连接被拒绝".into(),
            FailureKind::ConnectionReset => "连接被重置".into(),
            FailureKind::Timeout => "超时无应答".into(),
            FailureKind::Dns => "域名无法解析".into(),
            FailureKind::PrivateAddress => "地址为内网或特殊地址，已拒绝访问".into(),
            FailureKind::Tls => "TLS 证书或握手失败".into(),
            FailureKind::Connect => "无法连接".into(),
            FailureKind::Body => "读取响应内容失败".into(),
            FailureKind::Http(s) => format!("HTTP 状态 {s}"),
            FailureKind::TooLarge => "页面过大".into(),
            FailureKind::Redirect => "重定向无效".into(),
            FailureKind::Other => "请求失败".into(),
        }
    }

    /// Failures that retrying cannot fix.
    pub fn is_permanent(self) -> bool {
        matches!(self, FailureKind::PrivateAddress | FailureKind::TooLarge)
    }
}

/// One failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    /// `host:port` it happened on.
    pub host: String,
    /// Technical detail (English, from the HTTP stack), may be empty.
    pub detail: String,
    /// True when it happened while reading robots.txt.
    pub robots: bool,
}

impl Failure {
    pub fn new(kind: FailureKind, host: impl Into<String>, detail: impl Into<String>) -> Failure {
        Failure {
            kind,
            host: host.into(),
            detail: detail.into(),
            robots: false,
        }
    }

    /// The same failure, met while reading robots.txt. A refused private
    /// address is that, whatever was asked for: it is not marked.
    pub fn on_robots(mut self) -> Failure {
        self.robots = self.kind != FailureKind::PrivateAddress;
        self
    }

    /// Classifies an error of the HTTP client.
    pub fn of_request(e: &reqwest::Error, host: &str) -> Failure {
        let chain = chain_text(e);
        let lower = chain.to_ascii_lowercase();
        let kind = if chain.contains(super::address::PRIVATE_REFUSAL) {
            FailureKind::PrivateAddress
        } else if e.is_timeout() || lower.contains("timed out") {
            FailureKind::Timeout
        } else if io_kind(e) == Some(std::io::ErrorKind::ConnectionRefused)
            || lower.contains("connection refused")
        {
            FailureKind::ConnectionRefused
        } else if io_kind(e) == Some(std::io::ErrorKind::ConnectionReset)
            || lower.contains("connection reset")
        {
            FailureKind::ConnectionReset
        } else if lower.contains("dns error") || lower.contains("failed to lookup") {
            FailureKind::Dns
        } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("ssl") {
            FailureKind::Tls
        } else if e.is_connect() {
            FailureKind::Connect
        } else if e.is_body() || e.is_decode() {
            FailureKind::Body
        } else {
            FailureKind::Other
        };
        Failure::new(kind, host, chain)
    }

    /// The key summaries group by: the text before the detail.
    pub fn headline(&self) -> String {
        let what = self.kind.label();
        let robots = if self.robots {
            "robots.txt 无法获取："
        } else {
            ""
        };
        if self.host.is_empty() {
            format!("{robots}{what}")
        } else {
            format!("{robots}{what} {}", self.host)
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.detail.is_empty() {
            f.write_str(&self.headline())
        } else {
            write!(f, "{}（{}）", self.headline(), self.detail)
        }
    }
}

/// The error and every source under it, joined.
fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !msg.contains(&t) {
            msg.push_str(": ");
            msg.push_str(&t);
        }
        src = s.source();
    }
    msg
}

/// The kind of the first I/O error in the chain.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        src = s.source();
    }
    None
}

/// The headline of a stored failure text (before the detail and the
/// attempts note), for grouping.
pub fn headline_of(stored: &str) -> &str {
    let cut = stored.find('（').unwrap_or(stored.len());
    stored[..cut].trim()
}

/// Failures of one kind on one host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailureGroup {
    /// `连接被拒绝 127.0.0.1:1`, `HTTP 状态 500 …`.
    pub headline: String,
    pub pages: u64,
    /// One of the pages.
    pub example_url: String,
}

/// Groups stored failures (URL, error text) by headline, most pages first.
pub fn group<'a>(failures: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<FailureGroup> {
    let mut groups: Vec<FailureGroup> = Vec::new();
    for (url, error) in failures {
        let head = headline_of(error);
        match groups.iter_mut().find(|g| g.headline == head) {
            Some(g) => g.pages += 1,
            None => groups.push(FailureGroup {
                headline: head.to_string(),
                pages: 1,
                example_url: url.to_string(),
            }),
        }
    }
    groups.sort_by(|a, b| b.pages.cmp(&a.pages).then(a.headline.cmp(&b.headline)));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_headline_then_detail() {
        let f = Failure::new(
            FailureKind::ConnectionRefused,
            "127.0.0.1:1",
            "error sending request",
        );
        assert_eq!(
            f.to_string(),
            "连接被拒绝 127.0.0.1:1（error sending request）"
        );
        assert_eq!(headline_of(&f.to_string()), "连接被拒绝 127.0.0.1:1");
        let r = Failure::new(FailureKind::Http(503), "shop.test:80", "").on_robots();
        assert_eq!(
            r.to_string(),
            "robots.txt 无法获取：HTTP 状态 503 shop.test:80"
        );
    }

    #[test]
    fn groups_count_pages_per_headline() {
        let a = "连接被拒绝 h:1（x）（尝试 4 次后放弃）";
        let b = "超时无应答 h:1（y）";
        let g = group([("u1", a), ("u2", b), ("u3", a)]);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].headline, "连接被拒绝 h:1");
        assert_eq!(g[0].pages, 2);
        assert_eq!(g[0].example_url, "u1");
        assert_eq!(g[1].pages, 1);
    }

    #[tokio::test]
    async fn a_closed_port_is_connection_refused() {
        // Bind then drop: the port is closed.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let err = client
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .unwrap_err();
        let f = Failure::of_request(&err, &format!("127.0.0.1:{port}"));
        assert_eq!(f.kind, FailureKind::ConnectionRefused, "{f}");
        assert!(f.to_string().starts_with("连接被拒绝 127.0.0.1:"), "{f}");
    }
}
