-- How many resources of each type a directory holds, kept by triggers in the transaction
-- of every insert and delete (issue 21): a listing without a filter (an identity
-- provider's or the portal's walk through all users, page by page with RFC 9865 cursors)
-- reads its totalResults here instead of counting the whole directory for every page.
-- Writes to one directory already take turns (each locks its directory's row first), so
-- the counter row adds no contention.
CREATE TABLE scim_resource_counts (
    tenant_id     UUID NOT NULL,
    directory_id  UUID NOT NULL,
    resource_type TEXT NOT NULL,
    count         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, resource_type),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);

INSERT INTO scim_resource_counts (tenant_id, directory_id, resource_type, count)
    SELECT tenant_id, directory_id, resource_type, COUNT(*) FROM scim_resources
    GROUP BY tenant_id, directory_id, resource_type;

-- SECURITY INVOKER (the default): the writer's role and tenant, under the policy below.
CREATE FUNCTION scim_resource_counts_follow() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO scim_resource_counts (tenant_id, directory_id, resource_type, count)
            VALUES (NEW.tenant_id, NEW.directory_id, NEW.resource_type, 1)
            ON CONFLICT (tenant_id, directory_id, resource_type) DO UPDATE
            SET count = scim_resource_counts.count + 1;
        RETURN NEW;
    END IF;
    UPDATE scim_resource_counts SET count = count - 1
        WHERE tenant_id = OLD.tenant_id AND directory_id = OLD.directory_id AND resource_type = OLD.resource_type;
    RETURN OLD;
END
$$;

CREATE TRIGGER scim_resources_counted AFTER INSERT OR DELETE ON scim_resources
    FOR EACH ROW EXECUTE FUNCTION scim_resource_counts_follow();

ALTER TABLE scim_resource_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim_resource_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON scim_resource_counts
    USING (scim_row_visible(tenant_id)) WITH CHECK (scim_row_visible(tenant_id));
