-- Admin Portal links (`POST /portal/generate_link` of the WorkOS-compatible API): the
-- vendor's product, which has already authenticated the customer's IT admin, asks for a link
-- that signs that person straight into the tenant's setup wizard, without an account or a
-- password. Single-use and short-lived (five minutes); only the SHA-256 digest of the secret
-- is stored. Tenant-owned: the key starts with tenant_id. Like setup links, a link is found
-- by its digest alone (the visitor presents only the secret), so the digest is unique across
-- the deployment and the table has no row-level security policy (neither has setup_links).
CREATE TABLE portal_links (
    tenant_id         UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                UUID NOT NULL,                      -- UUIDv7
    -- SHA-256 of the secret in the link; 32 bytes, never the secret itself.
    digest            BYTEA NOT NULL UNIQUE CHECK (length(digest) = 32),
    -- What the link opens. Only the directory sync wizard exists; other WorkOS intents are
    -- refused before anything is stored.
    intent            TEXT NOT NULL CHECK (intent = 'dsync'),
    -- Who asked for it: `api-key:<id>`.
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    -- created_at plus five minutes; a link opened at or after this time opens nothing.
    expires_at        TIMESTAMPTZ NOT NULL CHECK (expires_at > created_at),
    -- Where the admin goes back to the vendor's product: leaving the wizard early
    -- (return_url) and after setup completed (success_url). Absolute http(s) URLs, checked
    -- by the service; NULL when the vendor gave none.
    return_url        TEXT,
    success_url       TEXT,
    -- The vendor's id of the person it authenticated, if it said (WorkOS `external_user_id`);
    -- it names the person in the portal and in the audit trail.
    external_user_id  TEXT,
    -- The IT contacts the vendor named (WorkOS `it_contact_emails`), a JSON array of
    -- strings, `[]` when none; the first names the person when there is no external_user_id.
    it_contact_emails JSONB NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(it_contact_emails) = 'array'),
    -- Set once, in the transaction that signs the visitor in; a used link opens nothing.
    used_at           TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
