//! The audit log's hash chain. In: entries as stored, in id order, and the
//! head record (the last id and hash written); out: each entry's hash
//! ([`entry_hash`]) and a [`Report`] that locates every break.
//!
//! Each entry's hash covers its own fields and the previous entry's hash, so
//! changing, removing or inserting an entry breaks the chain at that point.
//! This module holds the pure chain logic; the store appends entries
//! (hashing them here) and reads them back through a [`Verifier`], and the
//! workspace shows them.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    /// A JSON object, as stored.
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry with these fields: SHA-256 over their JSON array
/// (JSON escaping keeps field boundaries unambiguous), hex-encoded.
pub fn entry_hash(
    id: i64,
    at: &str,
    actor: &str,
    action: &str,
    target: Option<&str>,
    details: &str,
    prev_hash: &str,
) -> String {
    let canonical = serde_json::json!([id, at, actor, action, target, details, prev_hash]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

impl AuditEntry {
    pub fn computed_hash(&self) -> String {
        entry_hash(
            self.id,
            &self.at,
            &self.actor,
            &self.action,
            self.target.as_deref(),
            &self.details,
            &self.prev_hash,
        )
    }
}

/// Something wrong with the chain, located by entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// The entry's content does not match its hash: it was edited.
    Edited { id: i64 },
    /// The entry's link does not match the hash of the entry before it: the
    /// previous entry was edited and re-hashed, or entries were inserted.
    BrokenLink { id: i64, previous_id: i64 },
    /// Entries with these ids are gone.
    Missing { from_id: i64, to_id: i64 },
    /// The chain ends earlier than the head record says: entries at the end
    /// were removed (or the head record was changed).
    TruncatedEnd { last_id: i64, head_last_id: i64 },
    /// The head record does not match the last entry.
    HeadMismatch { last_id: i64 },
    /// The head record is missing although entries exist.
    NoHead,
    /// An anchor hash recorded elsewhere is not in the chain.
    AnchorNotFound { hash: String },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Edited { id } => write!(
                f,
                "entry {id} was changed after it was written (its hash does not match its content)"
            ),
            Problem::BrokenLink { id, previous_id } => write!(
                f,
                "entry {id} does not link to entry {previous_id}: entry {previous_id} was changed and re-hashed, or entries were inserted"
            ),
            Problem::Missing { from_id, to_id } if from_id == to_id => {
                write!(f, "entry {from_id} was deleted")
            }
            Problem::Missing { from_id, to_id } => {
                write!(f, "entries {from_id} to {to_id} were deleted")
            }
            Problem::TruncatedEnd {
                last_id,
                head_last_id,
            } => write!(
                f,
                "the log ends at entry {last_id} but entry {head_last_id} was written: entries {} to {head_last_id} were deleted",
                last_id + 1
            ),
            Problem::HeadMismatch { last_id } => write!(
                f,
                "the head record does not match the last entry ({last_id})"
            ),
            Problem::NoHead => write!(f, "the head record is missing"),
            Problem::AnchorNotFound { hash } => {
                write!(f, "the anchor hash {hash} is not in the log")
            }
        }
    }
}

/// Result of checking the whole chain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub entries: u64,
    pub last_id: Option<i64>,
    pub last_hash: Option<String>,
    pub problems: Vec<Problem>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks entries fed in id order.
#[derive(Debug, Default)]
pub struct Verifier {
    report: Report,
    prev: Option<(i64, String)>,
    anchor: Option<String>,
    anchor_seen: bool,
}

impl Verifier {
    /// `anchor`: a hash written down earlier (from `audit verify`) that
    /// must still be in the chain.
    pub fn new(anchor: Option<String>) -> Verifier {
        Verifier {
            anchor,
            ..Verifier::default()
        }
    }

    pub fn push(&mut self, e: &AuditEntry) {
        self.report.entries += 1;
        if e.computed_hash() != e.hash {
            self.report.problems.push(Problem::Edited { id: e.id });
        }
        let (expected_id, expected_prev) = match &self.prev {
            None => (1, GENESIS.to_string()),
            Some((id, hash)) => (id + 1, hash.clone()),
        };
        if e.id > expected_id {
            self.report.problems.push(Problem::Missing {
                from_id: expected_id,
                to_id: e.id - 1,
            });
        } else if e.prev_hash != expected_prev {
            self.report.problems.push(Problem::BrokenLink {
                id: e.id,
                previous_id: e.id - 1,
            });
        }
        if self.anchor.as_deref() == Some(e.hash.as_str()) {
            self.anchor_seen = true;
        }
        self.prev = Some((e.id, e.hash.clone()));
    }

    /// Ends the check against the head record (`last_id`, `hash`).
    pub fn finish(mut self, head: Option<(i64, String)>) -> Report {
        match (&self.prev, head) {
            (None, None) => {}
            (Some(_), None) => self.report.problems.push(Problem::NoHead),
            (None, Some((head_last_id, _))) => self.report.problems.push(Problem::TruncatedEnd {
                last_id: 0,
                head_last_id,
            }),
            (Some((last_id, last_hash)), Some((head_last_id, head_hash))) => {
                if head_last_id > *last_id {
                    self.report.problems.push(Problem::TruncatedEnd {
                        last_id: *last_id,
                        head_last_id,
                    });
                } else if head_last_id != *last_id || head_hash != *last_hash {
                    self.report
                        .problems
                        .push(Problem::HeadMismatch { last_id: *last_id });
                }
            }
        }
        if let Some(anchor) = self.anchor.take()
            && !self.anchor_seen
        {
            self.report
                .problems
                .push(Problem::AnchorNotFound { hash: anchor });
        }
        if let Some((id, hash)) = self.prev {
            self.report.last_id = Some(id);
            self.report.last_hash = Some(hash);
        }
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|id| {
                let details = format!("{{\"n\":{id}}}");
                let hash = entry_hash(
                    id,
                    "2026-11-29T00:00:00Z",
                    "wang",
                    "decide",
                    Some("finding:1"),
                    &details,
                    &prev,
                );
                let e = AuditEntry {
                    id,
                    at: "2026-11-29T00:00:00Z".into(),
                    actor: "wang".into(),
                    action: "decide".into(),
                    target: Some("finding:1".into()),
                    details,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head: Option<(i64, String)>) -> Report {
        let mut v = Verifier::new(None);
        for e in entries {
            v.push(e);
        }
        v.finish(head)
    }

    fn head(entries: &[AuditEntry]) -> Option<(i64, String)> {
        entries.last().map(|e| (e.id, e.hash.clone()))
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        let r = verify(&c, head(&c));
        assert!(r.ok(), "{:?}", r.problems);
        assert_eq!(r.entries, 5);
        assert!(verify(&[], None).ok());
    }

    #[test]
    fn edits_deletions_and_truncation_are_located() {
        let c = chain(6);
        let h = head(&c);

        let mut edited = c.clone();
        edited[2].details = "{\"n\":99}".into();
        assert_eq!(
            verify(&edited, h.clone()).problems,
            vec![Problem::Edited { id: 3 }]
        );

        // Edited and re-hashed: the next entry's link breaks.
        let mut rehashed = c.clone();
        rehashed[2].actor = "li".into();
        rehashed[2].hash = rehashed[2].computed_hash();
        assert_eq!(
            verify(&rehashed, h.clone()).problems,
            vec![Problem::BrokenLink {
                id: 4,
                previous_id: 3
            }]
        );

        let mut deleted = c.clone();
        deleted.remove(1);
        deleted.remove(1);
        assert_eq!(
            verify(&deleted, h.clone()).problems,
            vec![Problem::Missing {
                from_id: 2,
                to_id: 3
            }]
        );

        let truncated = &c[..4];
        assert_eq!(
            verify(truncated, h.clone()).problems,
            vec![Problem::TruncatedEnd {
                last_id: 4,
                head_last_id: 6
            }]
        );
        assert_eq!(verify(&c, None).problems, vec![Problem::NoHead]);
    }

    #[test]
    fn anchors_must_stay_in_the_chain() {
        let c = chain(3);
        let mut v = Verifier::new(Some(c[1].hash.clone()));
        c.iter().for_each(|e| v.push(e));
        assert!(v.finish(head(&c)).ok());
        let mut v = Verifier::new(Some("ab".repeat(32)));
        c.iter().for_each(|e| v.push(e));
        assert!(matches!(
            v.finish(head(&c)).problems[..],
            [Problem::AnchorNotFound { .. }]
        ));
    }
}
