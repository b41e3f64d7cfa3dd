-- Keys for the operator API (/api/v1): the vendor's own product reads the event feed and
-- manages tenants with them. Deployment-wide, like operator accounts, so not keyed by a
-- tenant (a reference table under Citus). Only the SHA-256 digest of a key is stored.
CREATE TABLE operator_api_keys (
    id           UUID PRIMARY KEY,                    -- UUIDv7
    digest       BYTEA NOT NULL UNIQUE CHECK (length(digest) = 32),
    label        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,                         -- NULL: not revoked
    last_used_at TIMESTAMPTZ                          -- updated at most once a minute
);
