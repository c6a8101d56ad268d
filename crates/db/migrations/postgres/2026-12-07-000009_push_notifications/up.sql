-- Notifications to members who are away: the browsers' Web Push subscriptions (an endpoint of the
-- browser's push service and the keys to encrypt for it), and each member's choice per room of what
-- is worth a notification (`notify`: all, mentions, nothing; mentions and direct messages by default).
-- An endpoint belongs to one member: a browser re-subscribing for another account moves it.
CREATE TABLE push_subscriptions (
    id BIGSERIAL PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_by_member ON push_subscriptions (member_id);
ALTER TABLE room_members ADD COLUMN notify TEXT NOT NULL DEFAULT 'mentions';
