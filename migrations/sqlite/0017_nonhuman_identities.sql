-- Non-human identities: the users that carry the extension
-- `urn:ietf:params:scim:schemas:extension:nonhuman:2.0:User` (service accounts and agents),
-- one row each, kept in the transaction that writes the user (and removed with it by the
-- cascade). The expiry sweeper and the owner flags read this table instead of scanning
-- every document.
CREATE TABLE scim_nonhuman (
    tenant_id    TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    resource_id  TEXT NOT NULL,                       -- the identity's SCIM id
    kind         TEXT NOT NULL CHECK (kind IN ('serviceAccount', 'agent')),
    -- The SCIM id of the owning user of the same directory. No foreign key: deleting the
    -- owner must not delete or block its identities; they are flagged as ownerless.
    owner_id     TEXT,
    expires_at   TEXT,                                -- NULL: does not expire
    -- The identity's `active` (absent counts as active), so that the sweeper finds the
    -- active identities past their expiry by index.
    active       INTEGER NOT NULL CHECK (active IN (0, 1)),
    PRIMARY KEY (tenant_id, directory_id, resource_id),
    FOREIGN KEY (tenant_id, directory_id, resource_id) REFERENCES scim_resources (tenant_id, directory_id, id) ON DELETE CASCADE
) STRICT;
-- The sweeper: a tenant's active identities expiring before a time, oldest expiry first.
CREATE INDEX scim_nonhuman_expiry ON scim_nonhuman (tenant_id, expires_at) WHERE active AND expires_at IS NOT NULL;
-- The flags: the identities owned by a user.
CREATE INDEX scim_nonhuman_owner ON scim_nonhuman (tenant_id, directory_id, owner_id) WHERE owner_id IS NOT NULL;
