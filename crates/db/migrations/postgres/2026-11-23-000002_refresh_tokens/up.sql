-- Refresh tokens of REST logins. Only a SHA-256 of each token is stored. Tokens of one login form a
-- family: each refresh uses one token and issues the next; presenting a used token again revokes the
-- whole family (it was stolen or replayed).
CREATE TABLE refresh_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    family_id TEXT NOT NULL,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
