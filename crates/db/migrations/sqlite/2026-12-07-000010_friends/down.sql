ALTER TABLE members DROP COLUMN direct_from;
DROP TABLE friendships;
DROP TABLE friend_requests;
