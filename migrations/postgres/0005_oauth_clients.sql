-- OAuth 2.0 client credentials of a directory (RFC 6749 §4.4), for identity providers that
-- fetch short-lived bearer tokens instead of holding a long-lived one. Only a SHA-256
-- digest of the secret is kept (the secret is 256 random bits, shown once).
CREATE TABLE directory_oauth_clients (
    tenant_id     UUID NOT NULL,
    directory_id  UUID NOT NULL,
    client_id     TEXT NOT NULL,                      -- `scimc_` + random, public
    secret_digest BYTEA NOT NULL CHECK (length(secret_digest) = 32),
    label         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ,                        -- NULL: not revoked
    PRIMARY KEY (tenant_id, client_id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);

-- The token endpoint knows only the client id; this deployment-wide table finds its
-- tenant, like directory_routes does for SCIM URLs. (A reference table under Citus.)
CREATE TABLE oauth_client_routes (
    client_id TEXT PRIMARY KEY,
    tenant_id UUID NOT NULL,
    FOREIGN KEY (tenant_id, client_id) REFERENCES directory_oauth_clients (tenant_id, client_id) ON DELETE CASCADE
);
