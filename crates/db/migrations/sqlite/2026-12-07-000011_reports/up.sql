-- See the PostgreSQL migration of the same name.
CREATE TABLE message_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    reporter_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    whisper BOOLEAN NOT NULL,
    author_id BIGINT NOT NULL,
    author_name TEXT NOT NULL,
    text TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (reporter_id, message_id)
);
CREATE INDEX message_reports_by_room ON message_reports (room_id, created_at);
