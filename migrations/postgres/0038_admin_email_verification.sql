-- An admin's email becomes their sign-in name only once they prove they read its mail
-- (issue 19: setup-link email squatting). Before, an email was unique across the whole
-- deployment from the moment any tenant's setup link was redeemed with it: an admin of
-- one tenant could pre-empt another tenant's onboarding by redeeming their own link with
-- `it@competitor.example`, and the 409 told them whether it was a customer already.
-- Now an email is unique within its tenant, and across the deployment only among
-- confirmed sign-in names. Existing admins were unique already and keep signing in.
ALTER TABLE tenant_admins ADD COLUMN email_verified_at TIMESTAMPTZ;
UPDATE tenant_admins SET email_verified_at = created_at;
DROP INDEX tenant_admins_email;
CREATE UNIQUE INDEX tenant_admins_email_in_tenant ON tenant_admins (tenant_id, email);
CREATE UNIQUE INDEX tenant_admins_sign_in_email ON tenant_admins (email) WHERE email_verified_at IS NOT NULL;

-- Confirmation links sent to an admin's address. Only the SHA-256 digest of the link's
-- secret is stored; a link confirms the address it was sent to, and only once.
CREATE TABLE admin_email_verifications (
    tenant_id  UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         UUID NOT NULL,                         -- UUIDv7
    admin_id   UUID NOT NULL,
    email      TEXT NOT NULL,
    -- Unique across the deployment: the visitor presents only the secret.
    digest     BYTEA NOT NULL UNIQUE CHECK (length(digest) = 32),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, admin_id) REFERENCES tenant_admins (tenant_id, id) ON DELETE CASCADE
);
