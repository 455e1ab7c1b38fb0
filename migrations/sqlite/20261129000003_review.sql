-- Review: accounts, sessions, decisions, the hash-chained audit log and the
-- queue's search index.

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name        TEXT NOT NULL,
    role                TEXT NOT NULL,          -- admin | supervisor | reviewer | viewer
    password_hash       TEXT NOT NULL,          -- argon2id PHC string
    disabled            INTEGER NOT NULL DEFAULT 0,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        INTEGER,                -- unix seconds
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    last_login_at       TEXT
);

-- Browser sessions. The cookie holds a random token; only its SHA-256 is kept.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,              -- unix seconds
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,              -- absolute limit
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Personal tokens for the JSON API (`Authorization: Bearer ...`), hashed.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);

-- Every decision on a finding, never updated: a revision is a new row that
-- names the decision it revises.
CREATE TABLE decisions (
    id         INTEGER PRIMARY KEY,
    listing_id INTEGER NOT NULL REFERENCES listings(id),
    action     TEXT NOT NULL,                   -- confirm | dismiss | need_info
    measure    TEXT,                            -- for confirm: take_down | rectify
    reason     TEXT,                            -- for dismiss: a code from the list
    note       TEXT,
    verdict    TEXT NOT NULL,                   -- the verdict the decision was made on
    user_id    INTEGER NOT NULL REFERENCES users(id),
    decided_at TEXT NOT NULL,
    revises    INTEGER REFERENCES decisions(id),
    audit_id   INTEGER NOT NULL
);
CREATE INDEX decisions_listing ON decisions (listing_id, id);

-- The review state of each flagged finding. NULL for compliant and
-- out-of-scope findings, which are not reviewed.
ALTER TABLE findings ADD COLUMN review_state TEXT;   -- pending | confirmed | dismissed | need_info
ALTER TABLE findings ADD COLUMN queued_at TEXT;      -- when it (re-)entered the queue
ALTER TABLE findings ADD COLUMN decision_id INTEGER; -- the current decision
UPDATE findings SET review_state = 'pending', queued_at = matched_at
 WHERE verdict NOT IN ('compliant', 'not_in_scope');

CREATE INDEX findings_queue_conf ON findings (review_state, confidence, listing_id);
CREATE INDEX findings_queue_age ON findings (review_state, queued_at, listing_id);
CREATE INDEX findings_verdict_conf ON findings (verdict, confidence, listing_id);
CREATE INDEX findings_category ON findings (category_code);
CREATE INDEX listings_seller ON listings (seller);

-- Append-only, hash-chained: hash = SHA-256 over the entry and prev_hash.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT,
    details   TEXT NOT NULL,                    -- JSON object
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- The last entry, written in the same transaction as each entry: removing
-- entries from the end of the chain shows as a mismatch here.
CREATE TABLE audit_head (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    last_id INTEGER NOT NULL,
    hash    TEXT NOT NULL
);

-- Queue search over title, brand, model and seller. `search_text` is written
-- by the application (Chinese split into overlapping pairs of characters);
-- the FTS index follows it through triggers.
ALTER TABLE listings ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
CREATE VIRTUAL TABLE listing_fts USING fts5 (
    search_text,
    content = 'listings',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN
    INSERT INTO listing_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
    INSERT INTO listing_fts (listing_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER listings_fts_update AFTER UPDATE OF search_text ON listings BEGIN
    INSERT INTO listing_fts (listing_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO listing_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
