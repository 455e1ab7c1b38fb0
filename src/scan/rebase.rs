//! Scan stage: a saved frontier moved to where the platform now is.
//!
//! In: the open entries of an unfinished scan (ID, URL, key) and the
//! adapter it resumes with (its base URL may have changed: `--base-url`, an
//! edited platform file, a marketplace on a new port). Out: the entries to
//! rewrite to the adapter's base — scheme, host and port replaced, path and
//! query kept, search keys recomputed — or an error that says why the
//! frontier cannot be moved. Never a silent resume against a host the
//! adapter does not know.

use crate::extract::{Adapter, canonical_url, host_key};
use url::Url;

/// An open frontier entry as saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedEntry {
    pub id: i64,
    pub url: String,
    pub key: String,
}

/// A rewrite of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub id: i64,
    pub url: String,
    pub key: String,
}

/// The rewrites and the origin they move away from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rebase {
    /// `http://127.0.0.1:8080`, empty when nothing moves.
    pub from: String,
    pub to: String,
    pub rewrites: Vec<Rewrite>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RebaseError {
    #[error(
        "the saved frontier of this scan points at several hosts the platform file does not name ({hosts}); it cannot be moved to {to}: start a new scan instead of --resume"
    )]
    SeveralHosts { hosts: String, to: String },
    #[error("saved frontier entry {id} has an invalid URL {url}")]
    BadUrl { id: i64, url: String },
}

/// Plans moving `entries` that are not on the adapter's hosts to its base.
pub fn plan(entries: &[SavedEntry], adapter: &Adapter) -> Result<Rebase, RebaseError> {
    let hosts = adapter.hosts();
    let base = adapter.base();
    let mut foreign: Vec<(i64, Url)> = Vec::new();
    for e in entries {
        let u = Url::parse(&e.url).map_err(|_| RebaseError::BadUrl {
            id: e.id,
            url: e.url.clone(),
        })?;
        if !hosts.contains(&host_key(&u)) {
            foreign.push((e.id, u));
        }
    }
    let mut origins: Vec<String> = foreign
        .iter()
        .map(|(_, u)| u.origin().ascii_serialization())
        .collect();
    origins.sort();
    origins.dedup();
    let to = base.origin().ascii_serialization();
    match origins.len() {
        0 => return Ok(Rebase::default()),
        1 => {}
        _ => {
            return Err(RebaseError::SeveralHosts {
                hosts: origins.join(", "),
                to,
            });
        }
    }
    let keys: std::collections::HashMap<i64, &str> =
        entries.iter().map(|e| (e.id, e.key.as_str())).collect();
    let rewrites = foreign
        .into_iter()
        .map(|(id, mut u)| {
            // Setting these on a parsed http(s) URL cannot fail for an http(s) base.
            let _ = u.set_scheme(base.scheme());
            let _ = u.set_host(base.host_str());
            let _ = u.set_port(base.port());
            let old_key = keys.get(&id).copied().unwrap_or_default();
            let key = if old_key.starts_with("search:") {
                format!("search:{}", canonical_url(&u))
            } else {
                old_key.to_string()
            };
            Rewrite {
                id,
                url: u.to_string(),
                key,
            }
        })
        .collect();
    Ok(Rebase {
        from: origins.remove(0),
        to,
        rewrites,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(base: &str) -> Adapter {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/platforms");
        Adapter::from_file(&dir.join("demo.toml"))
            .unwrap()
            .with_base_url(base)
            .unwrap()
    }

    fn entry(id: i64, url: &str, key: &str) -> SavedEntry {
        SavedEntry {
            id,
            url: url.into(),
            key: key.into(),
        }
    }

    #[test]
    fn a_moved_marketplace_moves_its_frontier() {
        let a = adapter("http://127.0.0.1:9002/");
        let saved = [
            entry(
                1,
                "http://127.0.0.1:9001/search?q=%E6%8F%92%E5%BA%A7&page=2",
                "search:x",
            ),
            entry(2, "http://127.0.0.1:9001/item/42", "item:42"),
            entry(3, "http://127.0.0.1:9002/item/7", "item:7"),
        ];
        let r = plan(&saved, &a).unwrap();
        assert_eq!(r.from, "http://127.0.0.1:9001");
        assert_eq!(r.to, "http://127.0.0.1:9002");
        assert_eq!(r.rewrites.len(), 2);
        assert_eq!(
            r.rewrites[0].url,
            "http://127.0.0.1:9002/search?q=%E6%8F%92%E5%BA%A7&page=2"
        );
        assert!(
            r.rewrites[0]
                .key
                .starts_with("search:http://127.0.0.1:9002/")
        );
        assert_eq!(r.rewrites[1].url, "http://127.0.0.1:9002/item/42");
        assert_eq!(r.rewrites[1].key, "item:42");
    }

    #[test]
    fn nothing_moves_when_the_hosts_are_known() {
        let a = adapter("http://127.0.0.1:9002/");
        let r = plan(&[entry(1, "http://127.0.0.1:9002/item/1", "item:1")], &a).unwrap();
        assert!(r.rewrites.is_empty());
    }

    #[test]
    fn several_unknown_hosts_are_refused() {
        let a = adapter("http://127.0.0.1:9002/");
        let err = plan(
            &[
                entry(1, "http://127.0.0.1:9001/item/1", "item:1"),
                entry(2, "http://127.0.0.1:9003/item/2", "item:2"),
            ],
            &a,
        )
        .unwrap_err();
        assert!(matches!(err, RebaseError::SeveralHosts { .. }), "{err}");
        assert!(err.to_string().contains("127.0.0.1:9003"));
    }
}
