-- The catalog (by fingerprint) that the stored findings were judged with.
-- Recorded only after every listing was re-judged with it, so that a run
-- killed halfway is finished by the next command that judges.
CREATE TABLE catalog_state (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    fingerprint TEXT NOT NULL,
    judged_at TEXT NOT NULL
);
