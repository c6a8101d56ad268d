-- The message search index (`natter_db::search`): one row per message, written by the indexer from
-- the bus. `terms` is the text cut into search terms by `natter_db::search_terms` (words, and
-- overlapping pairs for Korean), the same for queries, so PostgreSQL's `simple` configuration only
-- has to match whole terms. A deleted message keeps its row as a tombstone (`deleted`, no text), so
-- that an index record arriving after the deletion cannot bring it back; `changed_at_ms` orders
-- edits. No foreign key to rooms: what a member may read is decided at query time.
CREATE TABLE message_search (
    message_id TEXT PRIMARY KEY,
    room_id BIGINT NOT NULL,
    sender_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    sent_at_ms BIGINT NOT NULL,
    has_file BOOLEAN NOT NULL,
    text TEXT NOT NULL,
    terms TEXT NOT NULL,
    changed_at_ms BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL
);
CREATE INDEX message_search_terms ON message_search USING GIN (to_tsvector('simple', terms));
CREATE INDEX message_search_by_room ON message_search (room_id, sent_at_ms);
