ALTER TABLE members ADD COLUMN avatar_url TEXT;
