-- Listings whose search text is still to be written (stored before the
-- search index existed). Kept small: only those rows are in it, so checking
-- for work at every start costs nothing.
CREATE INDEX listings_search_backlog ON listings (id) WHERE search_text = '';
