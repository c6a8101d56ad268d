-- Community rooms get a topic, a visibility, a capacity and an archive flag; direct rooms a unique
-- pair key. `member_count` is kept in the same transaction as room_members so that a capacity check
-- is one conditional UPDATE (a row lock serialises concurrent joins).
ALTER TABLE rooms
    ADD COLUMN name_key TEXT NOT NULL DEFAULT '',
    ADD COLUMN topic TEXT NOT NULL DEFAULT '',
    ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'
        CHECK (visibility IN ('public', 'private', 'invite_only')),
    ADD COLUMN capacity INTEGER NOT NULL DEFAULT 1000 CHECK (capacity > 0),
    ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN archived_at TIMESTAMP,
    ADD COLUMN direct_key TEXT UNIQUE;

UPDATE rooms SET name_key = lower(name),
    member_count = (SELECT count(*) FROM room_members WHERE room_members.room_id = rooms.id);

CREATE INDEX rooms_by_name_key ON rooms (name_key);

ALTER TABLE room_members DROP CONSTRAINT room_members_role_check;
ALTER TABLE room_members
    ADD CONSTRAINT room_members_role_check CHECK (role IN ('owner', 'admin', 'member', 'observer')),
    ADD COLUMN muted_until TIMESTAMP,
    ADD COLUMN read_position BIGINT;

-- A ban outlives the membership it ended; `until` NULL means forever.
CREATE TABLE room_bans (
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    until TIMESTAMP,
    banned_by BIGINT NOT NULL REFERENCES members (id),
    banned_at TIMESTAMP NOT NULL,
    PRIMARY KEY (room_id, member_id)
);

-- A member invited by name may join a private or invite-only room once.
CREATE TABLE room_invitations (
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    invited_by BIGINT NOT NULL REFERENCES members (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (room_id, member_id)
);

-- Invite links: only the SHA-256 of the code is stored; the code is shown once.
CREATE TABLE invite_links (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT NOT NULL REFERENCES members (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    revoked_at TIMESTAMP
);

CREATE INDEX invite_links_by_room ON invite_links (room_id);

CREATE TABLE room_audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES members (id),
    action TEXT NOT NULL,
    target_id BIGINT REFERENCES members (id),
    detail TEXT NOT NULL DEFAULT '',
    at TIMESTAMP NOT NULL
);

CREATE INDEX room_audit_by_room ON room_audit (room_id, id);

CREATE TABLE member_blocks (
    blocker_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    blocked_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
