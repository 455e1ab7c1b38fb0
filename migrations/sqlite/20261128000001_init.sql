-- cccwatch schema, SQLite. Dates are ISO-8601 text (YYYY-MM-DD), timestamps
-- RFC 3339 text in UTC. JSON columns hold arrays/objects as text.

CREATE TABLE cert_imports (
    id            INTEGER PRIMARY KEY,
    file          TEXT NOT NULL,
    encoding      TEXT NOT NULL,
    strict        INTEGER NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    rows_total    INTEGER NOT NULL DEFAULT 0,
    rows_inserted INTEGER NOT NULL DEFAULT 0,
    rows_updated  INTEGER NOT NULL DEFAULT 0,
    rows_unchanged INTEGER NOT NULL DEFAULT 0,
    rows_rejected INTEGER NOT NULL DEFAULT 0
);

-- Rows are appended in import order (rowid); the number is a unique index,
-- which keeps million-row imports fast.
CREATE TABLE certificates (
    id                INTEGER PRIMARY KEY,
    cert_no           TEXT NOT NULL UNIQUE,
    standard_number   INTEGER NOT NULL,
    status            TEXT NOT NULL,
    status_raw        TEXT NOT NULL,
    category_code     TEXT,
    product_name      TEXT NOT NULL,
    models_raw        TEXT NOT NULL,
    models            TEXT NOT NULL,
    models_complete   INTEGER NOT NULL,
    applicant         TEXT NOT NULL,
    manufacturer      TEXT NOT NULL,
    factory           TEXT NOT NULL,
    issued_on         TEXT NOT NULL,
    expires_on        TEXT NOT NULL,
    first_issued_on   TEXT,
    issuer            TEXT,
    status_changed_on TEXT,
    status_reason     TEXT,
    trademark         TEXT,
    row_hash          TEXT NOT NULL,
    import_id         INTEGER NOT NULL REFERENCES cert_imports(id),
    updated_at        TEXT NOT NULL
);

CREATE INDEX certificates_status ON certificates(status);
CREATE INDEX certificates_expires ON certificates(expires_on);

-- Changes of status or expiry between imports.
CREATE TABLE cert_history (
    id          INTEGER PRIMARY KEY,
    cert_no     TEXT NOT NULL,
    field       TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    changed_at  TEXT NOT NULL,
    import_id   INTEGER NOT NULL REFERENCES cert_imports(id),
    source_file TEXT NOT NULL
);
CREATE INDEX cert_history_cert ON cert_history(cert_no);

CREATE TABLE brands (
    name       TEXT PRIMARY KEY,
    aliases    TEXT NOT NULL,
    companies  TEXT NOT NULL,
    title_search INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);

CREATE TABLE listings (
    id            INTEGER PRIMARY KEY,
    platform      TEXT NOT NULL,
    item_id       TEXT NOT NULL,
    url           TEXT,
    title         TEXT NOT NULL,
    brand         TEXT,
    model         TEXT,
    params        TEXT NOT NULL,
    description   TEXT,
    seller        TEXT,
    shop_url      TEXT,
    price         TEXT,
    category      TEXT,
    content_hash  TEXT NOT NULL,
    source        TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (platform, item_id)
);

-- The previous content of a listing each time it changed.
CREATE TABLE listing_history (
    id          INTEGER PRIMARY KEY,
    listing_id  INTEGER NOT NULL REFERENCES listings(id),
    changed_at  TEXT NOT NULL,
    source      TEXT NOT NULL,
    old_content TEXT NOT NULL
);
CREATE INDEX listing_history_listing ON listing_history(listing_id);

CREATE TABLE match_runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    as_of       TEXT NOT NULL,
    platform    TEXT,
    listings    INTEGER NOT NULL DEFAULT 0,
    by_verdict  TEXT
);

-- The current finding of each listing.
CREATE TABLE findings (
    listing_id    INTEGER PRIMARY KEY REFERENCES listings(id),
    verdict       TEXT NOT NULL,
    confidence    REAL NOT NULL,
    matched_cert  TEXT,
    cert_numbers  TEXT NOT NULL,
    category_code TEXT,
    brand         TEXT,
    model         TEXT,
    reasons       TEXT NOT NULL,
    as_of         TEXT NOT NULL,
    run_id        INTEGER NOT NULL REFERENCES match_runs(id),
    matched_at    TEXT NOT NULL
);
CREATE INDEX findings_verdict ON findings(verdict);

-- Each change of a listing's verdict.
CREATE TABLE finding_history (
    id          INTEGER PRIMARY KEY,
    listing_id  INTEGER NOT NULL REFERENCES listings(id),
    run_id      INTEGER NOT NULL REFERENCES match_runs(id),
    old_verdict TEXT,
    new_verdict TEXT NOT NULL,
    changed_at  TEXT NOT NULL
);
CREATE INDEX finding_history_listing ON finding_history(listing_id);
