-- Accounts at OAuth2/OIDC providers linked to members. One provider account maps to one member; a member
-- may link several providers.
CREATE TABLE oauth_identities (
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, subject)
);

CREATE INDEX oauth_identities_by_member ON oauth_identities (member_id);
