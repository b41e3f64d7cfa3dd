-- Tenant admins: the customer's IT staff, who connect their identity provider through the
-- portal. Tenant-owned: the key starts with tenant_id.
CREATE TABLE tenant_admins (
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            UUID NOT NULL,                      -- UUIDv7
    -- Sign-in name, lowercased. Signing in names no tenant, so an email is one admin
    -- across the whole deployment (and never also an operator: the service checks that).
    -- (Sharded with Citus, this lookup needs a reference table of emails.)
    email         TEXT NOT NULL,
    -- argon2id in PHC string form; NULL for an admin who signs in only through the
    -- tenant's OpenID Connect provider.
    password_hash TEXT,
    -- The `sub` of the admin's ID tokens at the tenant's OpenID Connect provider, once they
    -- have signed in with it.
    oidc_subject  TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX tenant_admins_email ON tenant_admins (email);
CREATE UNIQUE INDEX tenant_admins_oidc_subject ON tenant_admins (tenant_id, oidc_subject);

-- A tenant's OpenID Connect provider for admin sign-in (authorization code flow with PKCE),
-- set by an operator. Tenant-owned. The client secret is kept as given: the provider
-- needs it back in every token request, so it cannot be hashed.
CREATE TABLE tenant_oidc_providers (
    tenant_id     UUID PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    -- The issuer URL; its /.well-known/openid-configuration is read at every sign-in.
    issuer        TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    -- What the sign-in button says, e.g. "Acme Okta".
    display_name  TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- Setup links: single-use, expiring invitations that let someone become an admin of one
-- tenant. Only the SHA-256 digest of the link's secret is stored.
CREATE TABLE setup_links (
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          UUID NOT NULL,                        -- UUIDv7
    -- Unique across the deployment: a visitor presents only the secret.
    digest      BYTEA NOT NULL UNIQUE CHECK (length(digest) = 32),
    -- Who made it: `operator:<id>`, `admin:<id>`, `api-key:<id>` or `cli`.
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    -- Set once, when an admin account is made with it; a used link opens nothing.
    used_at     TIMESTAMPTZ,
    used_by     UUID,                                 -- the admin made with it
    PRIMARY KEY (tenant_id, id),
    CHECK ((used_at IS NULL) = (used_by IS NULL))
);

-- The onboarding wizard's progress per directory. `setup_step` is the furthest step the
-- admin has reached (1 choose IdP … 5 test sync); `setup_completed_at` is set when a
-- provisioning cycle (the IdP's or the self-test's) has passed. Directories made before
-- the wizard existed (CLI, console) start at step 2: their IdP is chosen.
ALTER TABLE directories ADD COLUMN setup_step INTEGER NOT NULL DEFAULT 2 CHECK (setup_step BETWEEN 1 AND 5);
ALTER TABLE directories ADD COLUMN setup_completed_at TIMESTAMPTZ;
-- How the wizard's self-test or the IdP's first cycle completed setup: `self-test` or `idp`.
ALTER TABLE directories ADD COLUMN setup_completed_by TEXT CHECK (setup_completed_by IN ('self-test', 'idp'));
-- The attribute mapping the admin confirmed: a JSON array of {attribute, source} rows;
-- NULL until confirmed (the wizard shows the IdP's defaults).
ALTER TABLE directories ADD COLUMN attribute_mapping JSONB;
