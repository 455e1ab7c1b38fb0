//! Crawl stage: which network addresses may be fetched.
//!
//! Platforms are on the public internet; a URL that leads to a private,
//! loopback, link-local or otherwise special address is refused unless the
//! platform's file sets `allow_private_addresses` (the demo marketplace and
//! tests do). Names are checked after resolution, inside the HTTP client's
//! resolver, so a public name that resolves to 127.0.0.1 is refused too.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, RwLock};

/// True for addresses a crawler must not reach by default.
pub fn is_special(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_special_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_special_v4(v4);
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // link-local
        }
    }
}

fn is_special_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // carrier-grade NAT
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking
}

/// Words every refusal of a private address carries, so that the fetcher
/// can tell it from a network failure (it is final: retrying cannot help).
pub const PRIVATE_REFUSAL: &str = "private or special address";

/// Hosts whose platforms allow private addresses; shared with the resolver.
#[derive(Debug, Default, Clone)]
pub struct AddressPolicy {
    allowed: Arc<RwLock<HashSet<String>>>,
}

impl AddressPolicy {
    /// Lets `host` (no port) resolve to private addresses.
    pub fn allow_private(&self, host: &str) {
        if let Ok(mut set) = self.allowed.write() {
            set.insert(host.to_ascii_lowercase());
        }
    }

    pub fn allows_private(&self, host: &str) -> bool {
        self.allowed
            .read()
            .map(|s| s.contains(&host.to_ascii_lowercase()))
            .unwrap_or(false)
    }

    /// Checks a URL host that is an IP literal (the resolver never sees those).
    pub fn check_literal(&self, host: &str) -> Result<(), String> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(ip)
                if is_special(ip) && !self.allows_private(host) && !self.allows_private(bare) =>
            {
                Err(format!(
                    "{ip} is a {PRIVATE_REFUSAL}; the platform does not allow it (allow_private_addresses)"
                ))
            }
            _ => Ok(()),
        }
    }
}

impl Resolve for AddressPolicy {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let allow = self.allows_private(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| allow || !is_special(a.ip()))
                .collect();
            if kept.is_empty() {
                return Err(format!(
                    "{host} resolves only to a {PRIVATE_REFUSAL}; the platform does not allow it (allow_private_addresses)"
                )
                .into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_special(a.parse().unwrap()), "{a}");
        }
        for a in ["1.1.1.1", "220.181.38.148", "2400:da00::6666"] {
            assert!(!is_special(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn literal_hosts_need_permission() {
        let p = AddressPolicy::default();
        assert!(p.check_literal("127.0.0.1").is_err());
        assert!(p.check_literal("[::1]").is_err());
        assert!(p.check_literal("example.com").is_ok());
        p.allow_private("127.0.0.1");
        assert!(p.check_literal("127.0.0.1").is_ok());
    }
}
