-- Signed checkpoints of each tenant's audit chain: the head (sequence number and hash) at a
-- time, signed with the deployment's Ed25519 key, which is not in the database. Whoever
-- can write the database can rewrite records and recompute every hash, but cannot sign a
-- checkpoint of the rewritten chain; a checkpoint kept (here or exported) no longer matches.
CREATE TABLE audit_checkpoints (
    tenant_id  UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    hash       BYTEA NOT NULL CHECK (length(hash) = 32),
    signed_at  TIMESTAMPTZ NOT NULL,
    -- Why it was written: `periodic`, `before_prune`, `after_prune`.
    reason     TEXT NOT NULL,
    -- The signing key's public half (base64), so a rotated key's checkpoints still name it.
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_checkpoints
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
