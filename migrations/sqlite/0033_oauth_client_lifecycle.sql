-- OAuth client credentials with a whole lifecycle (issue 19): see the PostgreSQL migration
-- of the same number.
ALTER TABLE directory_oauth_clients ADD COLUMN previous_secret_digest BLOB
    CHECK (previous_secret_digest IS NULL OR length(previous_secret_digest) = 32);
ALTER TABLE directory_oauth_clients ADD COLUMN previous_secret_until TEXT;
ALTER TABLE directory_oauth_clients ADD COLUMN rotated_at TEXT;
CREATE INDEX directory_tokens_by_oauth_client ON directory_tokens (tenant_id, oauth_client_id)
    WHERE oauth_client_id IS NOT NULL;
