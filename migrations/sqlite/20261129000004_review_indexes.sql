-- The queue and dashboard at a million findings. The platform is kept on the
-- finding, and the queue's ordering indexes carry every column the common
-- filters test (platform, verdict, category), so a filter that matches few
-- rows is checked in the index without reading the rows.

ALTER TABLE findings ADD COLUMN platform TEXT;
UPDATE findings SET platform = (SELECT l.platform FROM listings l WHERE l.id = findings.listing_id);

DROP INDEX findings_queue_conf;
DROP INDEX findings_queue_age;
DROP INDEX findings_category;
CREATE INDEX findings_queue_conf ON findings (review_state, confidence, listing_id, platform, verdict, category_code);
CREATE INDEX findings_queue_age ON findings (review_state, queued_at, listing_id, platform, verdict, category_code);
-- "All states" of review, in either order.
CREATE INDEX findings_flagged_conf ON findings (confidence, listing_id, platform, verdict, category_code, review_state)
    WHERE review_state IS NOT NULL;
CREATE INDEX findings_flagged_age ON findings (queued_at, listing_id, platform, verdict, category_code, review_state)
    WHERE review_state IS NOT NULL;
CREATE INDEX findings_category ON findings (category_code, review_state);
