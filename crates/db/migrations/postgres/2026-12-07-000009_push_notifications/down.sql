ALTER TABLE room_members DROP COLUMN notify;
DROP TABLE push_subscriptions;
