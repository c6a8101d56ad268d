-- See the PostgreSQL migration of the same name. Here the terms are indexed by an FTS5 table kept in
-- step by triggers (external content); `id` is the stable rowid it refers to. `unicode61` without
-- diacritic folding splits the stored terms exactly where PostgreSQL's parser does.
CREATE TABLE message_search (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
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
CREATE INDEX message_search_by_room ON message_search (room_id, sent_at_ms);
CREATE VIRTUAL TABLE message_search_fts USING fts5(
    terms, content = 'message_search', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER message_search_inserted AFTER INSERT ON message_search BEGIN
    INSERT INTO message_search_fts (rowid, terms) VALUES (new.id, new.terms);
END;
CREATE TRIGGER message_search_deleted AFTER DELETE ON message_search BEGIN
    INSERT INTO message_search_fts (message_search_fts, rowid, terms) VALUES ('delete', old.id, old.terms);
END;
CREATE TRIGGER message_search_updated AFTER UPDATE ON message_search BEGIN
    INSERT INTO message_search_fts (message_search_fts, rowid, terms) VALUES ('delete', old.id, old.terms);
    INSERT INTO message_search_fts (rowid, terms) VALUES (new.id, new.terms);
END;
