-- Scheduled scans: one lock per platform (held across processes), the
-- schedule's memory of which cron times it has handled, and every run.

-- Who is scanning a platform now. A holder renews heartbeat_ms while it
-- works; a lock whose heartbeat is older than schedule.lock_stale_secs
-- belongs to a process that died and may be taken over.
CREATE TABLE scan_locks (
    platform     TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,          -- host:pid:nonce of the holder
    purpose      TEXT NOT NULL,          -- e.g. "schedule nightly", "cccwatch scan"
    scan_id      INTEGER,
    acquired_ms  INTEGER NOT NULL,
    heartbeat_ms INTEGER NOT NULL
);

-- The last cron time of each job that was run or deliberately passed over.
CREATE TABLE job_state (
    job          TEXT PRIMARY KEY,
    last_planned TEXT NOT NULL            -- RFC 3339, UTC
);

CREATE TABLE job_runs (
    id           INTEGER PRIMARY KEY,
    job          TEXT NOT NULL,
    trigger      TEXT NOT NULL,           -- schedule | catch_up | manual
    planned_at   TEXT,                    -- the cron time it was for
    requested_by TEXT,                    -- who pressed "run now"
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    state        TEXT NOT NULL,           -- running | completed | interrupted | skipped | failed
    scan_ids     TEXT NOT NULL DEFAULT '[]',
    message      TEXT,
    heartbeat_ms INTEGER NOT NULL           -- renewed while running; a stale one was cut off
);
CREATE INDEX job_runs_job ON job_runs (job, id);
