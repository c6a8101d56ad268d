-- See the PostgreSQL migration of the same name.
CREATE TABLE push_subscriptions (
    id INTEGER PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX push_subscriptions_by_member ON push_subscriptions (member_id);
ALTER TABLE room_members ADD COLUMN notify TEXT NOT NULL DEFAULT 'mentions';
