-- Friends: a request from one member to another until it is answered or withdrawn; a friendship once
-- accepted, one row per pair (lower id first). `direct_from` is who may start a direct chat with the
-- member: 'everyone' or 'friends'.
CREATE TABLE friend_requests (
    from_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    to_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (from_id, to_id)
);
CREATE INDEX friend_requests_to ON friend_requests (to_id);
CREATE TABLE friendships (
    low_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    high_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    since TIMESTAMP NOT NULL,
    PRIMARY KEY (low_id, high_id)
);
CREATE INDEX friendships_high ON friendships (high_id);
ALTER TABLE members ADD COLUMN direct_from TEXT NOT NULL DEFAULT 'everyone';
