-- Directories: one per identity-provider connection of a tenant. Tenant-owned: the key
-- starts with tenant_id.
CREATE TABLE directories (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,                       -- UUIDv7, appears in the SCIM base URL
    -- Which identity provider feeds it; selects the SCIM dialect and the setup instructions.
    idp          TEXT NOT NULL CHECK (idp IN ('okta', 'entra', 'google', 'onelogin', 'jumpcloud', 'ping', 'rippling', 'generic')),
    display_name TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
) STRICT;

-- SCIM requests name only the directory (in the URL). This deployment-wide table finds the
-- tenant that owns it, so every later query can be scoped by tenant. Written in the same
-- transaction as the directory. (On a sharded PostgreSQL it is a reference table.)
CREATE TABLE directory_routes (
    directory_id TEXT PRIMARY KEY NOT NULL,
    tenant_id    TEXT NOT NULL,
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- Bearer tokens of a directory. Only a SHA-256 digest of the token is kept: the token
-- itself is shown once when issued.
CREATE TABLE directory_tokens (
    tenant_id    TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    id           TEXT NOT NULL,                       -- UUIDv7
    digest       BLOB NOT NULL CHECK (length(digest) = 32),
    label        TEXT NOT NULL,
    -- 1: GET and search only; writes are refused.
    read_only    INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1)),
    created_at   TEXT NOT NULL,
    expires_at   TEXT,                                -- NULL: does not expire
    revoked_at   TEXT,                                -- NULL: not revoked
    last_used_at TEXT,                                -- updated at most once a minute
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
) STRICT;
-- Authentication looks a presented token up by its digest within the directory.
CREATE UNIQUE INDEX directory_tokens_digest ON directory_tokens (tenant_id, directory_id, digest);
