DROP INDEX message_search_by_sender;
DROP INDEX message_search_terms;
ALTER TABLE message_search DROP COLUMN terms_vector;
CREATE INDEX message_search_terms ON message_search USING GIN (to_tsvector('simple', terms));
