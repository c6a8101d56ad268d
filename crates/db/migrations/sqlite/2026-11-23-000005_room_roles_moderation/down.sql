DROP TABLE member_blocks;
DROP TABLE room_audit;
DROP TABLE invite_links;
DROP TABLE room_invitations;
DROP TABLE room_bans;
