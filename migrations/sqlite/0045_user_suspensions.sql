-- Local suspensions (issue 20): a tenant admin stops a user in the vendor's product while
-- the identity provider cannot be reached. One row per suspended user; while it exists,
-- every view of the user published to the product (change records, the read API) says
-- `suspended`, whatever the identity provider writes, and the SCIM representation the
-- identity provider reads is left as it wrote it. Lifting the suspension deletes the row.
-- Deleting the user deletes it too.
CREATE TABLE user_suspensions (
    tenant_id    TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    suspended_at TEXT NOT NULL,
    suspended_by TEXT NOT NULL,   -- the audit name of who suspended it (`admin:<id>`)
    reason       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, resource_id),
    FOREIGN KEY (tenant_id, directory_id, resource_id) REFERENCES scim_resources (tenant_id, directory_id, id) ON DELETE CASCADE
) STRICT;
