-- The queue's search, answered from the findings in the queue.
--
-- Migration 003 indexes listings.search_text (every listing). The queue
-- only shows flagged findings (review_state IS NOT NULL, ~40% of them), and
-- a search for a common two-character word (插座, 玩具: one listing in ten)
-- read ~100,000 listing matches through that index, joined them to
-- findings and sorted them: 1.3 s p95 at 1,000,000 findings
-- (docs/BENCHMARKS.md). Here each queued finding carries a copy of its
-- listing's search text with its own trigram index, so the queue's
-- conditions, its order and the search meet in one table.
--
-- findings.search_text is NULL for findings not in the queue. It is kept in
-- step with listings.search_text:
--   - the matcher's upsert (store/postgres/findings.rs) writes it with the
--     review state;
--   - any other insert, or an update that queues a finding, without it
--     (rows copied by `db copy`, SQL typed by hand) gets it from the
--     listing (trigger findings_search_fill);
--   - a listing whose search text changes (a new title, the backfill)
--     passes it on to its queued finding (trigger listings_search_forward).
-- SQLite has no such column (its FTS5 table answers the queue); `db copy`
-- skips it and fills it on the way in.

ALTER TABLE findings ADD COLUMN search_text TEXT;

CREATE FUNCTION findings_search_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT l.search_text INTO NEW.search_text FROM listings l WHERE l.id = NEW.listing_id;
    RETURN NEW;
END
$$;

CREATE TRIGGER findings_search_fill
    BEFORE INSERT OR UPDATE OF review_state, search_text ON findings
    FOR EACH ROW WHEN (NEW.review_state IS NOT NULL AND NEW.search_text IS NULL)
    EXECUTE FUNCTION findings_search_fill();

CREATE FUNCTION listings_search_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE findings SET search_text = NEW.search_text
     WHERE listing_id = NEW.id AND review_state IS NOT NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER listings_search_forward
    AFTER UPDATE OF search_text ON listings
    FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text)
    EXECUTE FUNCTION listings_search_forward();

-- Existing databases: the queued findings get their text once (about a
-- minute per million findings on the 2-core test machine).
UPDATE findings f SET search_text = l.search_text
  FROM listings l
 WHERE l.id = f.listing_id AND f.review_state IS NOT NULL;

DO $$
DECLARE
    trgm_schema text;
BEGIN
    -- As in 003: the operator class is named with pg_trgm's schema.
    SELECT n.nspname INTO trgm_schema
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    EXECUTE format(
        'CREATE INDEX findings_search ON findings USING gin '
        '((%L || search_text || %L) %I.gin_trgm_ops) WHERE search_text IS NOT NULL',
        ' ', ' ', trgm_schema);
END
$$;
