-- The audit trail: every SCIM request and every admin action of a tenant, append-only and
-- tamper-evident. Records of a tenant are numbered 1, 2, 3… and each carries the SHA-256
-- of its content together with the previous record's hash, so an edited, deleted or
-- reordered record breaks the chain at that point (`server admin verify-audit`).
-- `detail` is JSON kept as the exact text that was hashed.
CREATE TABLE audit_records (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    id           TEXT NOT NULL,                       -- UUIDv7
    occurred_at  TEXT NOT NULL,
    actor        TEXT NOT NULL,                       -- token:<id>, operator:<id>, cli, system
    action       TEXT NOT NULL,                       -- e.g. "scim.request", "token.revoked"
    directory_id TEXT,
    method       TEXT,
    path         TEXT,
    status       INTEGER,
    latency_ms   INTEGER,
    resource_id  TEXT,
    outcome      TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    detail       TEXT NOT NULL,
    prev_hash    BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash         BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_id, seq)
) STRICT;
-- Filters of the audit pages and the support console, newest first.
CREATE INDEX audit_records_time ON audit_records (tenant_id, occurred_at, seq);

-- Where each tenant's chain ends: the next record links to this hash. Deleting the newest
-- records would otherwise go unnoticed.
CREATE TABLE audit_chain_heads (
    tenant_id TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    hash      BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;
