-- The audit trail: every SCIM request and every admin action of a tenant, append-only and
-- tamper-evident. Records of a tenant are numbered 1, 2, 3… and each carries the SHA-256
-- of its content together with the previous record's hash, so an edited, deleted or
-- reordered record breaks the chain at that point (`server admin verify-audit`).
-- `detail` is JSON kept as the exact text that was hashed (jsonb would reorder it).
CREATE TABLE audit_records (
    tenant_id    UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    id           UUID NOT NULL,                       -- UUIDv7
    occurred_at  TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,                       -- token:<id>, operator:<id>, cli, system
    action       TEXT NOT NULL,                       -- e.g. "scim.request", "token.revoked"
    directory_id UUID,
    method       TEXT,
    path         TEXT,
    status       INTEGER,
    latency_ms   BIGINT,
    resource_id  TEXT,
    outcome      TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    detail       TEXT NOT NULL,
    prev_hash    BYTEA NOT NULL CHECK (length(prev_hash) = 32),
    hash         BYTEA NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX audit_records_time ON audit_records (tenant_id, occurred_at, seq);

CREATE TABLE audit_chain_heads (
    tenant_id UUID PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    seq       BIGINT NOT NULL,
    hash      BYTEA NOT NULL CHECK (length(hash) = 32)
);

-- Row-level security as on the SCIM data (0006): a second wall behind the tenant scope.
ALTER TABLE audit_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_records FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_records
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE audit_chain_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_chain_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_chain_heads
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
