-- Reports of messages to a room's owners and admins, with what the message said when it was
-- reported (the text may be edited or deleted afterwards; a whisper is otherwise unreadable to them).
CREATE TABLE message_reports (
    id BIGSERIAL PRIMARY KEY,
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
