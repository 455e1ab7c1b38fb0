-- Scale-out (see docs/SCALING.md and the SQLite migration 013): the
-- processes that crawl, the hosts they hold, and who holds each frontier
-- entry in flight. *_ms columns are unix milliseconds, as in scan_locks.

CREATE TABLE workers (
    id           TEXT PRIMARY KEY,               -- host:pid:nonce:role
    machine      TEXT NOT NULL,
    pid          BIGINT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('worker', 'scan', 'schedule')),
    started_ms   BIGINT NOT NULL,
    heartbeat_ms BIGINT NOT NULL,
    stopped_ms   BIGINT,
    scan_id      BIGINT,
    doing        TEXT,
    pages        BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE host_leases (
    host           TEXT PRIMARY KEY,
    owner          TEXT NOT NULL,
    scan_id        BIGINT,
    acquired_ms    BIGINT NOT NULL,
    heartbeat_ms   BIGINT NOT NULL,
    quiet_until_ms BIGINT NOT NULL DEFAULT 0
);

ALTER TABLE frontier ADD COLUMN host TEXT;
ALTER TABLE frontier ADD COLUMN owner TEXT;
CREATE INDEX frontier_inflight ON frontier (owner) WHERE state = 'inflight';

CREATE TABLE cert_generation (
    one   BIGINT PRIMARY KEY CHECK (one = 1),
    value BIGINT NOT NULL
);
INSERT INTO cert_generation (one, value) VALUES (1, 0);
