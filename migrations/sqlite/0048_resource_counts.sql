-- How many resources of each type a directory holds, kept by triggers in the transaction
-- of every insert and delete (issue 21): a listing without a filter (an identity
-- provider's or the portal's walk through all users, page by page with RFC 9865 cursors)
-- reads its totalResults here instead of counting the whole directory for every page,
-- which cost about 8 ms of CPU per page at 100,000 users and grows with the directory.
-- A rebuild of scim_resources (as 0046 did) must create the triggers again.
CREATE TABLE scim_resource_counts (
    tenant_id     TEXT NOT NULL,
    directory_id  TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    -- See the PostgreSQL migration: one directory's count is spread over up to 16 rows
    -- (by the last character of the resource's id), summed when read.
    bucket        INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, resource_type, bucket),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
) STRICT;

INSERT INTO scim_resource_counts (tenant_id, directory_id, resource_type, bucket, count)
    SELECT tenant_id, directory_id, resource_type, unicode(substr(id, -1)) % 16, COUNT(*) FROM scim_resources
    GROUP BY tenant_id, directory_id, resource_type, unicode(substr(id, -1)) % 16;

CREATE TRIGGER scim_resources_counted_in AFTER INSERT ON scim_resources
BEGIN
    INSERT INTO scim_resource_counts (tenant_id, directory_id, resource_type, bucket, count)
        VALUES (NEW.tenant_id, NEW.directory_id, NEW.resource_type, unicode(substr(NEW.id, -1)) % 16, 1)
        ON CONFLICT (tenant_id, directory_id, resource_type, bucket) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER scim_resources_counted_out AFTER DELETE ON scim_resources
BEGIN
    UPDATE scim_resource_counts SET count = count - 1
        WHERE tenant_id = OLD.tenant_id AND directory_id = OLD.directory_id AND resource_type = OLD.resource_type
        AND bucket = unicode(substr(OLD.id, -1)) % 16;
END;
