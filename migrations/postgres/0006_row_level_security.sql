-- Row-level security on the SCIM data, keyed on the tenant: a second wall behind the
-- storage layer's tenant scope. Every statement of the store on these tables runs with
-- `app.tenant_id` set to its tenant (per transaction for writes, per connection checkout
-- for reads; the pool resets it when a connection comes back), so a query that forgot its
-- tenant predicate still sees only that tenant's rows, and one run without a tenant sees
-- none. FORCE makes the policies bind the tables' owner too. Roles with SUPERUSER or
-- BYPASSRLS skip all policies; the server warns at start-up when it runs as one.
ALTER TABLE scim_resources ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim_resources FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON scim_resources
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE scim_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim_members FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON scim_members
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE directory_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE directory_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON directory_changes
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
