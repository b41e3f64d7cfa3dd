-- Lower-cased values of multi-valued attributes that identity providers look users up by
-- (`emails[value eq "…"]`, `emails.value eq "…"`), one row per value, kept in the
-- transaction that writes the resource. The filter renderer uses them to find candidates
-- by index before it checks the exact filter on the document: no scan of the directory.
CREATE TABLE scim_resource_values (
    tenant_id    UUID NOT NULL,
    directory_id UUID NOT NULL,
    resource_id  TEXT COLLATE "C" NOT NULL,
    attribute    TEXT NOT NULL,                       -- 'emails'
    value_folded TEXT COLLATE "C" NOT NULL,           -- Rust's lower-casing of the value
    FOREIGN KEY (tenant_id, directory_id, resource_id) REFERENCES scim_resources (tenant_id, directory_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_resource_values_lookup ON scim_resource_values (tenant_id, directory_id, attribute, value_folded);
CREATE INDEX scim_resource_values_resource ON scim_resource_values (tenant_id, directory_id, resource_id);

ALTER TABLE scim_resource_values ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim_resource_values FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON scim_resource_values
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
