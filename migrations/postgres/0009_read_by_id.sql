-- One resource by id, with the groups of a user, in a single round trip with row-level
-- security intact: the function sets the tenant for the rest of its transaction (in
-- autocommit, this one statement) and then reads under the policies of 0006. The generic
-- path (set the tenant on the connection, query, reset it) costs three round trips, and
-- `GET /Users/{id}` is the request IdPs send most. SECURITY INVOKER (the default): the
-- caller's role, so the policies bind it as they bind every other statement of the store.
CREATE FUNCTION scim_resource_by_id(
    p_tenant UUID, p_directory UUID, p_type TEXT, p_id TEXT, p_with_groups BOOLEAN
)
RETURNS TABLE (
    id TEXT, doc JSONB, version BIGINT, created_at TIMESTAMPTZ, last_modified TIMESTAMPTZ, groups JSONB
)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    RETURN QUERY
    SELECT r.id::text, r.doc, r.version, r.created_at, r.last_modified,
           CASE WHEN p_with_groups THEN (
               SELECT COALESCE(jsonb_agg(jsonb_build_array(g.id, g.name)), '[]'::jsonb)
               FROM scim_members m
               JOIN scim_resources g
                 ON g.tenant_id = m.tenant_id AND g.directory_id = m.directory_id AND g.id = m.group_id
               WHERE m.tenant_id = r.tenant_id AND m.directory_id = r.directory_id AND m.member_id = r.id
           ) END
    FROM scim_resources r
    WHERE r.tenant_id = p_tenant AND r.directory_id = p_directory AND r.resource_type = p_type AND r.id = p_id;
END
$$;
