-- Lower-cased values of multi-valued attributes that identity providers look users up by
-- (`emails[value eq "…"]`, `emails.value eq "…"`), one row per value, kept in the
-- transaction that writes the resource. The filter renderer uses them to find candidates
-- by index before it checks the exact filter on the document: no scan of the directory.
CREATE TABLE scim_resource_values (
    tenant_id    TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    attribute    TEXT NOT NULL,                       -- 'emails'
    value_folded TEXT NOT NULL,                       -- Rust's lower-casing of the value
    FOREIGN KEY (tenant_id, directory_id, resource_id) REFERENCES scim_resources (tenant_id, directory_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX scim_resource_values_lookup ON scim_resource_values (tenant_id, directory_id, attribute, value_folded);
CREATE INDEX scim_resource_values_resource ON scim_resource_values (tenant_id, directory_id, resource_id);
