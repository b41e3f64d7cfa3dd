-- Local suspensions (issue 20): a tenant admin stops a user in the vendor's product while
-- the identity provider cannot be reached. One row per suspended user; while it exists,
-- every view of the user published to the product (change records, the read API) says
-- `suspended`, whatever the identity provider writes, and the SCIM representation the
-- identity provider reads is left as it wrote it. Lifting the suspension deletes the row.
-- Deleting the user deletes it too.
CREATE TABLE user_suspensions (
    tenant_id    UUID NOT NULL,
    directory_id UUID NOT NULL,
    resource_id  TEXT COLLATE "C" NOT NULL,
    suspended_at TIMESTAMPTZ NOT NULL,
    suspended_by TEXT NOT NULL,   -- the audit name of who suspended it (`admin:<id>`)
    reason       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, resource_id),
    FOREIGN KEY (tenant_id, directory_id, resource_id) REFERENCES scim_resources (tenant_id, directory_id, id) ON DELETE CASCADE
);

ALTER TABLE user_suspensions ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_suspensions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON user_suspensions
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
