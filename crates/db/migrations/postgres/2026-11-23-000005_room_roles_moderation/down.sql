DROP TABLE member_blocks;
DROP TABLE room_audit;
DROP TABLE invite_links;
DROP TABLE room_invitations;
DROP TABLE room_bans;
DELETE FROM room_members WHERE role NOT IN ('owner', 'member');
ALTER TABLE room_members DROP COLUMN read_position, DROP COLUMN muted_until,
    DROP CONSTRAINT room_members_role_check;
ALTER TABLE room_members ADD CONSTRAINT room_members_role_check CHECK (role IN ('owner', 'member'));
DROP INDEX rooms_by_name_key;
ALTER TABLE rooms DROP COLUMN direct_key, DROP COLUMN archived_at, DROP COLUMN member_count,
    DROP COLUMN capacity, DROP COLUMN visibility, DROP COLUMN topic, DROP COLUMN name_key;
