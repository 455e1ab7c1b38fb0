-- Takedown notices: batches sent to a platform, and the listings in each.

CREATE TABLE notice_batches (
    id        INTEGER PRIMARY KEY,
    platform  TEXT NOT NULL,
    year      INTEGER NOT NULL,
    seq       INTEGER NOT NULL,             -- the bureau's register: one sequence a year
    number    TEXT NOT NULL UNIQUE,         -- e.g. 梅县市监CCC〔2026〕17号
    issued_at TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    deadline  TEXT NOT NULL,                -- YYYY-MM-DD
    listings  INTEGER NOT NULL,
    folder    TEXT,
    UNIQUE (year, seq)
);

CREATE TABLE notices (
    id          INTEGER PRIMARY KEY,
    batch_id    INTEGER NOT NULL REFERENCES notice_batches(id),
    listing_id  INTEGER NOT NULL REFERENCES listings(id),
    decision_id INTEGER NOT NULL REFERENCES decisions(id),
    state       TEXT NOT NULL DEFAULT 'issued', -- issued | acknowledged | removed_verified | still_online | overdue | relisted
    state_at    TEXT NOT NULL,
    UNIQUE (batch_id, listing_id)
);
CREATE INDEX notices_listing ON notices (listing_id);
