-- Scale-out (see docs/SCALING.md): the processes that crawl, the hosts they
-- hold, and who holds each frontier entry in flight.

-- Every process that crawls: `cccwatch worker`, and `scan` or `serve`
-- while they crawl. A row whose heartbeat is older than the lease time, or
-- that says it stopped, is not alive: what it held goes back to the pool.
CREATE TABLE workers (
    id           TEXT PRIMARY KEY,               -- host:pid:nonce:role
    machine      TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    role         TEXT NOT NULL,                  -- worker | scan | schedule
    started_ms   INTEGER NOT NULL,               -- unix milliseconds
    heartbeat_ms INTEGER NOT NULL,
    stopped_ms   INTEGER,
    scan_id      INTEGER,                        -- the scan it works on now, if any
    doing        TEXT,                           -- what it does now, for people
    pages        INTEGER NOT NULL DEFAULT 0      -- pages it committed since it started
);

-- One process at a time sends requests to a host: the holder of its lease.
-- Its rate limit, burst, concurrency, robots rules and Retry-After pauses
-- then hold for the whole cluster. A lease not renewed for the lease time
-- is taken over. quiet_until_ms carries a Retry-After pause, and the
-- hand-over gap, to the next holder.
CREATE TABLE host_leases (
    host           TEXT PRIMARY KEY,             -- host:port
    owner          TEXT NOT NULL,                -- workers.id
    scan_id        INTEGER,
    acquired_ms    INTEGER NOT NULL,
    heartbeat_ms   INTEGER NOT NULL,
    quiet_until_ms INTEGER NOT NULL DEFAULT 0
);

ALTER TABLE frontier ADD COLUMN host TEXT;       -- host:port of url (NULL before this migration)
ALTER TABLE frontier ADD COLUMN owner TEXT;      -- workers.id of the claimant while in flight
CREATE INDEX frontier_inflight ON frontier (owner) WHERE state = 'inflight';

-- Bumped in the transaction of every change to certificates or brands:
-- a long-running worker reloads its certificate index when it moves.
CREATE TABLE cert_generation (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    value INTEGER NOT NULL
);
INSERT INTO cert_generation (one, value) VALUES (1, 0);
