-- Tenants: the operator's customers. Every tenant-owned table that follows starts its key
-- with tenant_id, so that a PostgreSQL deployment can be distributed by tenant.
CREATE TABLE tenants (
    -- UUIDv7 in its canonical text form: time-ordered, so inserts append to the index.
    id           TEXT PRIMARY KEY NOT NULL,
    -- The tenant's URL name, chosen by the operator. Lowercase letters, digits and hyphens
    -- (validated by the application); unique across the deployment.
    slug         TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    -- RFC 3339 UTC with fixed precision, so text order is time order.
    created_at   TEXT NOT NULL
) STRICT;
