-- Files uploaded to rooms. The content lives in object storage under `storage_key` (and, for images,
-- `storage_key || '.thumb'`); this row says who may read it. `message_id` is set once the uploader
-- shares the file in a message. No foreign key to rooms: a deleted room's files must outlive the row
-- of the room until the file janitor has removed their content from storage (it finds them by the
-- missing room).
CREATE TABLE room_files (
    id TEXT PRIMARY KEY,
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
