-- See the PostgreSQL migration of the same name for the reasons.
CREATE TABLE room_files (
    id TEXT PRIMARY KEY NOT NULL,
    room_id BIGINT NOT NULL,
    uploader_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    thumb_width INTEGER,
    thumb_height INTEGER,
    storage_key TEXT NOT NULL,
    message_id TEXT UNIQUE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX room_files_unshared ON room_files (created_at) WHERE message_id IS NULL;
CREATE INDEX room_files_by_room ON room_files (room_id);
