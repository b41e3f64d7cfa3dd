-- Tenants: the operator's customers. Every tenant-owned table that follows starts its key
-- with tenant_id, so that the deployment can be distributed by tenant (Citus) later.
CREATE TABLE tenants (
    -- UUIDv7: time-ordered, so inserts append to the index.
    id           UUID PRIMARY KEY,
    -- The tenant's URL name, chosen by the operator. Lowercase letters, digits and hyphens
    -- (validated by the application); unique across the deployment.
    slug         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
