-- OAuth 2.0 client credentials of a directory (RFC 6749 §4.4), for identity providers that
-- fetch short-lived bearer tokens instead of holding a long-lived one. Only a SHA-256
-- digest of the secret is kept (the secret is 256 random bits, shown once).
CREATE TABLE directory_oauth_clients (
    tenant_id     TEXT NOT NULL,
    directory_id  TEXT NOT NULL,
    client_id     TEXT NOT NULL,                      -- `scimc_` + random, public
    secret_digest BLOB NOT NULL CHECK (length(secret_digest) = 32),
    label         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT,                               -- NULL: not revoked
    PRIMARY KEY (tenant_id, client_id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- The token endpoint knows only the client id; this deployment-wide table finds its
-- tenant, like directory_routes does for SCIM URLs.
CREATE TABLE oauth_client_routes (
    client_id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    FOREIGN KEY (tenant_id, client_id) REFERENCES directory_oauth_clients (tenant_id, client_id) ON DELETE CASCADE
) STRICT;
