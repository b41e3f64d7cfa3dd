-- OAuth client credentials with a whole lifecycle (issue 19). A client's secret is rotated
-- like a bearer token, with an overlap: the new secret works at once, the one it replaced
-- until `previous_secret_until`, so the admin pastes the new one into the identity provider
-- without a failed token request. Revoking a client revokes the access tokens it minted
-- (found by this index), so the identity provider is refused at its very next request.
ALTER TABLE directory_oauth_clients ADD COLUMN previous_secret_digest BYTEA
    CHECK (previous_secret_digest IS NULL OR length(previous_secret_digest) = 32);
ALTER TABLE directory_oauth_clients ADD COLUMN previous_secret_until TIMESTAMPTZ;
ALTER TABLE directory_oauth_clients ADD COLUMN rotated_at TIMESTAMPTZ;
CREATE INDEX directory_tokens_by_oauth_client ON directory_tokens (tenant_id, oauth_client_id)
    WHERE oauth_client_id IS NOT NULL;
