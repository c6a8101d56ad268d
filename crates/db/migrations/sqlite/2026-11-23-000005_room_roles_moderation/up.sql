-- See the PostgreSQL migration of the same name for the reasons.
ALTER TABLE rooms ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'
    CHECK (visibility IN ('public', 'private', 'invite_only'));
ALTER TABLE rooms ADD COLUMN capacity INTEGER NOT NULL DEFAULT 1000 CHECK (capacity > 0);
ALTER TABLE rooms ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN archived_at TIMESTAMP;
ALTER TABLE rooms ADD COLUMN direct_key TEXT;
CREATE UNIQUE INDEX rooms_direct_key ON rooms (direct_key);
CREATE INDEX rooms_by_name_key ON rooms (name_key);

UPDATE rooms SET name_key = lower(name),
    member_count = (SELECT count(*) FROM room_members WHERE room_members.room_id = rooms.id);

-- SQLite cannot alter a CHECK constraint: rebuild the table.
CREATE TABLE room_members_new (
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'observer')),
    joined_at TIMESTAMP NOT NULL,
    muted_until TIMESTAMP,
    read_position BIGINT,
    PRIMARY KEY (room_id, member_id)
);
INSERT INTO room_members_new (room_id, member_id, role, joined_at)
    SELECT room_id, member_id, role, joined_at FROM room_members;
DROP TABLE room_members;
ALTER TABLE room_members_new RENAME TO room_members;
CREATE INDEX room_members_by_member ON room_members (member_id);

CREATE TABLE room_bans (
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    until TIMESTAMP,
    banned_by BIGINT NOT NULL REFERENCES members (id),
    banned_at TIMESTAMP NOT NULL,
    PRIMARY KEY (room_id, member_id)
);

CREATE TABLE room_invitations (
    room_id BIGINT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    invited_by BIGINT NOT NULL REFERENCES members (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (room_id, member_id)
);

CREATE TABLE invite_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
