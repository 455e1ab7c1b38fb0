-- The risk feed to platforms: per-platform tokens (only their SHA-256 is
-- kept, like api_tokens) and every delivery of the feed, whose `until` is the
-- next feed's `since` ("since the last feed").

CREATE TABLE feed_tokens (
    id           INTEGER PRIMARY KEY,
    platform     TEXT NOT NULL,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,          -- SHA-256 hex of the token
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    revoked_at   TEXT,
    last_used_at TEXT
);
CREATE INDEX feed_tokens_platform ON feed_tokens (platform, id);

CREATE TABLE feed_deliveries (
    id           INTEGER PRIMARY KEY,
    token_id     INTEGER REFERENCES feed_tokens(id),  -- NULL: a file, or a staff read
    platform     TEXT NOT NULL,
    channel      TEXT NOT NULL,                 -- token | staff | file
    requested_by TEXT NOT NULL,                 -- token name, user name or CLI user
    delivered_at TEXT NOT NULL,
    since        TEXT NOT NULL,                 -- RFC 3339, UTC; the window is [since, until)
    until        TEXT NOT NULL,
    counts       TEXT NOT NULL                  -- JSON object: list -> entries
);
CREATE INDEX feed_deliveries_cursor ON feed_deliveries (platform, channel, token_id, id);

-- Decisions by time, for the feed's confirmed findings of a window.
CREATE INDEX decisions_decided_at ON decisions (decided_at);
-- Certificate changes by time, for the feed's certificates of a window.
CREATE INDEX cert_history_changed_at ON cert_history (changed_at);
