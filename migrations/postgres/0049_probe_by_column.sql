-- An identity provider's probe (`userName eq "…"` before it creates a user, `externalId eq
-- "…"`, a group's `displayName eq "…"`) in a single round trip with row-level security
-- intact, as 0009 does for a read by id: the function sets the tenant for the rest of its
-- transaction (in autocommit, this one statement) and reads under the policies of 0006.
-- The generic listing path costs three round trips (set the tenant, query, reset). The
-- rows, their order and the groups column are those of the generic path's first page for
-- the same filter (`r.name_folded = lower(value)` for a case-insensitive name,
-- `r.external_id = value` for the case-exact externalId), which the store's tests compare.
-- SECURITY INVOKER (the default): the policies bind the caller's role.
CREATE FUNCTION scim_resources_where_column_is(
    p_tenant UUID, p_directory UUID, p_type TEXT, p_column TEXT, p_value TEXT, p_take BIGINT,
    p_with_groups BOOLEAN
)
RETURNS TABLE (
    id TEXT, doc JSONB, version BIGINT, created_at TIMESTAMPTZ, last_modified TIMESTAMPTZ, groups JSONB
)
LANGUAGE plpgsql
AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    IF p_column = 'name_folded' THEN
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
        WHERE r.tenant_id = p_tenant AND r.directory_id = p_directory AND r.resource_type = p_type
          AND r.name_folded = p_value
        ORDER BY r.id
        LIMIT p_take;
    ELSIF p_column = 'external_id' THEN
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
        WHERE r.tenant_id = p_tenant AND r.directory_id = p_directory AND r.resource_type = p_type
          AND r.external_id = p_value
        ORDER BY r.id
        LIMIT p_take;
    ELSE
        RAISE EXCEPTION 'scim_resources_where_column_is: no probe by column %', p_column;
    END IF;
END
$$;
