ALTER TABLE members DROP COLUMN avatar_url;
