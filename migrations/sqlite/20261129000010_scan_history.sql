-- Scan history: what each completed scan of a platform left behind, so that
-- any two scans can be compared, and the retention of raw pages.

-- The listings of a platform as a completed scan left them: those it saw,
-- those flagged and online at its end (seen or not), and those that went
-- gone during it. A listing without a row in a scan was online and not
-- flagged then.
CREATE TABLE scan_listings (
    scan_id      INTEGER NOT NULL REFERENCES scans(id),
    listing_id   INTEGER NOT NULL REFERENCES listings(id),
    state        TEXT NOT NULL,            -- online | gone
    seen         INTEGER NOT NULL,         -- 1: the scan saw it (a page or a result card)
    verdict      TEXT,                     -- NULL: not judged
    matched_cert TEXT,
    PRIMARY KEY (scan_id, listing_id)
) WITHOUT ROWID;
CREATE INDEX scan_listings_listing ON scan_listings (listing_id, scan_id);

-- Whether a scan's listings were recorded: NULL none (interrupted, or older
-- than the history), 'kept', or 'pruned' (by retention.scan_history_days).
ALTER TABLE scans ADD COLUMN snapshot TEXT;

-- The latest completed scan of each platform gets the listings as they are
-- now, so that the first scan after this migration has something to compare with.
INSERT INTO scan_listings (scan_id, listing_id, state, seen, verdict, matched_cert)
SELECT s.id, l.id, l.state, l.last_scan_id IS s.id, f.verdict, f.matched_cert
  FROM scans s
  JOIN listings l ON l.platform = s.platform
  LEFT JOIN findings f ON f.listing_id = l.id
 WHERE s.id = (SELECT MAX(s2.id) FROM scans s2 WHERE s2.platform = s.platform AND s2.state = 'completed')
   AND (l.last_scan_id IS s.id
        OR (l.state = 'online' AND f.verdict IS NOT NULL AND f.verdict NOT IN ('compliant', 'not_in_scope'))
        OR (l.state = 'gone' AND l.gone_at >= s.started_at));
UPDATE scans SET snapshot = 'kept'
 WHERE id IN (SELECT MAX(id) FROM scans WHERE state = 'completed' GROUP BY platform);

-- Retention: a pruned page keeps its row (URL, time, status, headers,
-- length, SHA-256) and loses its body. The indexes find old pages and what
-- still points at a page.
ALTER TABLE pages ADD COLUMN pruned_at TEXT;
CREATE INDEX pages_unpruned ON pages (fetched_at, id) WHERE pruned_at IS NULL;
CREATE INDEX listings_page ON listings (page_id) WHERE page_id IS NOT NULL;
CREATE INDEX notices_evidence_page ON notices (evidence_page_id) WHERE evidence_page_id IS NOT NULL;
CREATE INDEX notice_events_page ON notice_events (page_id) WHERE page_id IS NOT NULL;
