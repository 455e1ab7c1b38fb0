-- Crawling: scans, their frontier, and the pages kept as evidence.

CREATE TABLE scans (
    id                 INTEGER PRIMARY KEY,
    platform           TEXT NOT NULL,
    state              TEXT NOT NULL,          -- running | completed | interrupted | failed
    started_at         TEXT NOT NULL,
    finished_at        TEXT,
    as_of              TEXT NOT NULL,
    keywords           TEXT NOT NULL,          -- JSON array
    max_pages          INTEGER NOT NULL,
    pages_fetched      INTEGER NOT NULL DEFAULT 0,
    pages_failed       INTEGER NOT NULL DEFAULT 0,
    pages_retried      INTEGER NOT NULL DEFAULT 0,
    robots_skipped     INTEGER NOT NULL DEFAULT 0,
    requests           INTEGER NOT NULL DEFAULT 0,
    listings_new       INTEGER NOT NULL DEFAULT 0,
    listings_changed   INTEGER NOT NULL DEFAULT 0,
    listings_unchanged INTEGER NOT NULL DEFAULT 0,
    listings_gone      INTEGER NOT NULL DEFAULT 0,
    match_run_id       INTEGER REFERENCES match_runs(id),
    findings           TEXT,                   -- JSON object verdict -> count
    message            TEXT
);
CREATE INDEX scans_platform ON scans (platform, id);

CREATE TABLE pages (
    id         INTEGER PRIMARY KEY,
    scan_id    INTEGER NOT NULL REFERENCES scans(id),
    platform   TEXT NOT NULL,
    item_id    TEXT,
    kind       TEXT NOT NULL,                  -- search | item
    url        TEXT NOT NULL,
    final_url  TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    status     INTEGER NOT NULL,
    headers    TEXT NOT NULL,                  -- JSON array of [name, value]
    encoding   TEXT,
    body_gz    BLOB NOT NULL,                  -- the raw body, gzip
    body_len   INTEGER NOT NULL,
    sha256     TEXT NOT NULL                   -- of the raw body
);
CREATE INDEX pages_item ON pages (platform, item_id, id);

CREATE TABLE frontier (
    id       INTEGER PRIMARY KEY,
    scan_id  INTEGER NOT NULL REFERENCES scans(id),
    kind     TEXT NOT NULL,                    -- item | search
    key      TEXT NOT NULL,                    -- identity within the scan: item ID or canonical URL
    url      TEXT NOT NULL,
    keyword  TEXT,
    page     INTEGER,
    card     TEXT,                             -- JSON: fields read from the result card
    state    TEXT NOT NULL DEFAULT 'pending',  -- pending | inflight | done | gone | failed | robots
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at  INTEGER NOT NULL DEFAULT 0,       -- unix milliseconds
    status   INTEGER,
    error    TEXT,
    page_id  INTEGER REFERENCES pages(id),
    UNIQUE (scan_id, key)
);
CREATE INDEX frontier_due ON frontier (scan_id, state, kind, next_at);

ALTER TABLE listings ADD COLUMN state TEXT NOT NULL DEFAULT 'online';   -- online | gone
ALTER TABLE listings ADD COLUMN gone_at TEXT;
ALTER TABLE listings ADD COLUMN last_scan_id INTEGER;
ALTER TABLE listings ADD COLUMN page_id INTEGER;
CREATE INDEX listings_scan ON listings (last_scan_id);
