-- Custom schema extensions of a directory (RFC 7643 §3.3), e.g.
-- `urn:acme:params:scim:schemas:extension:2.0:User` with `costCenter`: validated, stored,
-- filtered, patched and projected like the built-in attributes, and listed by the
-- directory's /Schemas and /ResourceTypes. Read with the directory at authentication.
CREATE TABLE directory_schema_extensions (
    tenant_id     TEXT NOT NULL,
    directory_id  TEXT NOT NULL,
    urn           TEXT NOT NULL,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    required      INTEGER NOT NULL CHECK (required IN (0, 1)),
    definition    TEXT NOT NULL,                      -- the RFC 7643 §7 schema JSON
    created_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, urn),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
) STRICT;
