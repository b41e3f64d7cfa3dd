-- Keys for the operator API (/api/v1): the vendor's own product reads the event feed and
-- manages tenants with them. Deployment-wide, like operator accounts, so not keyed by a
-- tenant. Only the SHA-256 digest of a key is stored.
CREATE TABLE operator_api_keys (
    id           TEXT PRIMARY KEY NOT NULL,           -- UUIDv7
    digest       BLOB NOT NULL UNIQUE CHECK (length(digest) = 32),
    label        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,                                -- NULL: not revoked
    last_used_at TEXT                                 -- updated at most once a minute
) STRICT;
