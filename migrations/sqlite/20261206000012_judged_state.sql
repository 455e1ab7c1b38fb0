-- How far the stored findings reflect the certificate database: the last
-- certificate change (cert_history.id) whose listings have been re-judged.
-- An import commits its changes first and moves this mark only after the
-- listings citing the changed certificates were re-judged, so a process
-- killed in between leaves the work recorded as pending: the next command
-- that reads or writes verdicts finishes it.
CREATE TABLE judged_state (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    cert_history_through INTEGER NOT NULL,
    judged_at TEXT NOT NULL
);

-- A match run is running, completed or interrupted; a run whose process
-- died (no heartbeat for a while) is closed as interrupted by the next run.
ALTER TABLE match_runs ADD COLUMN state TEXT NOT NULL DEFAULT 'completed';
ALTER TABLE match_runs ADD COLUMN heartbeat_at TEXT;
UPDATE match_runs SET state = 'interrupted' WHERE finished_at IS NULL;
