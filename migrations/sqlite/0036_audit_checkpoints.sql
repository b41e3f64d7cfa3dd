-- Signed checkpoints of each tenant's audit chain (see the PostgreSQL migration).
CREATE TABLE audit_checkpoints (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    hash       BLOB NOT NULL CHECK (length(hash) = 32),
    signed_at  TEXT NOT NULL,
    reason     TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) STRICT;
