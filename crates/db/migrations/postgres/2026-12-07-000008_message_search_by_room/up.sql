-- Searches look in the caller's rooms only, so the full-text index narrows by room itself: a GIN
-- index over (room_id, terms_vector) (btree_gin makes room_id indexable by GIN) intersects a room's
-- entries with a word's, and a search of 50 rooms reads only their matching rows instead of every
-- match in every room. The terms' tsvector is stored, so ranking the candidates does not parse
-- `terms` again for each row.
CREATE EXTENSION IF NOT EXISTS btree_gin;
ALTER TABLE message_search
    ADD COLUMN terms_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED;
DROP INDEX message_search_terms;
CREATE INDEX message_search_terms ON message_search USING GIN (room_id, terms_vector);
-- `from:@name` alone reads that sender's messages newest first, not every message of the rooms.
CREATE INDEX message_search_by_sender ON message_search (sender_id, sent_at_ms);
