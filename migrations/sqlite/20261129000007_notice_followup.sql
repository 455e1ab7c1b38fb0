-- Following a notice up: how each listing's notice ended and on what
-- evidence, the platform's replies, listings put back under a new ID, and
-- inbound risk signals (platform sampling, consumer complaints).

-- How the last state was established: the scan that saw it, the page that
-- shows it, and a note ('page_gone', 'not_in_results', 'online', ...).
ALTER TABLE notices ADD COLUMN verified_scan_id INTEGER;
ALTER TABLE notices ADD COLUMN evidence_page_id INTEGER;
ALTER TABLE notices ADD COLUMN verify_note TEXT;
-- The platform's reply: when, what it said, who entered it, from which file.
ALTER TABLE notices ADD COLUMN ack_at TEXT;
ALTER TABLE notices ADD COLUMN ack_text TEXT;
ALTER TABLE notices ADD COLUMN ack_by TEXT;
ALTER TABLE notices ADD COLUMN ack_source TEXT;
CREATE INDEX notices_state ON notices (state, batch_id);

-- Every state a notice went through, for the listing's history and the
-- platform's performance over time.
CREATE TABLE notice_events (
    id         INTEGER PRIMARY KEY,
    notice_id  INTEGER NOT NULL REFERENCES notices(id),
    at         TEXT NOT NULL,
    state      TEXT NOT NULL,
    note       TEXT,
    scan_id    INTEGER,
    page_id    INTEGER,
    listing_id INTEGER,               -- the new listing, for a relist
    actor      TEXT NOT NULL
);
CREATE INDEX notice_events_notice ON notice_events (notice_id);

-- A new listing (other item ID) from the same seller or shop with the same
-- brand and model as a listing whose removal was verified.
CREATE TABLE relists (
    id          INTEGER PRIMARY KEY,
    notice_id   INTEGER NOT NULL REFERENCES notices(id),
    listing_id  INTEGER NOT NULL REFERENCES listings(id),
    detected_at TEXT NOT NULL,
    scan_id     INTEGER,
    UNIQUE (notice_id, listing_id)
);
CREATE INDEX relists_listing ON relists (listing_id);

-- Platforms' sampling results and consumer complaints, imported from files.
CREATE TABLE risk_signals (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,        -- sampling | complaint
    source_file TEXT NOT NULL,
    row_no      INTEGER NOT NULL,
    platform    TEXT,
    item_id     TEXT,
    seller      TEXT,
    brand       TEXT,
    model       TEXT,
    brand_key   TEXT,                 -- canonical brand (alias table)
    model_key   TEXT,                 -- normalised model
    reported_on TEXT,
    detail      TEXT,
    weight      INTEGER NOT NULL,     -- priority it adds
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    UNIQUE (source_file, row_no, kind)
);

-- Priority from inbound signals: higher is reviewed first.
ALTER TABLE findings ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE findings ADD COLUMN priority_note TEXT;
CREATE INDEX findings_priority ON findings (priority, listing_id) WHERE priority > 0;

-- Relists are looked for among the listings of the same shop.
CREATE INDEX listings_shop ON listings (shop_url);

-- How a listing was seen to be gone: 'page' (404/410/take-down page) or
-- 'absent' (no longer in the results of a complete scan).
ALTER TABLE listings ADD COLUMN gone_how TEXT;

-- Re-judging the listings matched to a certificate whose status changed.
CREATE INDEX findings_matched_cert ON findings (matched_cert) WHERE matched_cert IS NOT NULL;
