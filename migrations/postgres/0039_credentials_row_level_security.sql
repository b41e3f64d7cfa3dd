-- Row-level security on the tables that hold credentials and people (issue 19), as on the
-- SCIM data since migration 0006: directory tokens (bearer and OAuth access tokens), OAuth
-- clients, tenants' single sign-on settings, webhook endpoints (with their signing
-- secrets), tenant admins, setup links and email confirmation links. A statement of the
-- store sees a tenant's rows only with `app.tenant_id` set to that tenant (per transaction
-- for writes, per connection checkout for reads). The few lookups that cannot know the
-- tenant beforehand (a setup link or confirmation link by its secret's digest, an admin by
-- their sign-in email, an OAuth client by its id, a token by its directory's route) and the
-- deployment's own jobs (webhook delivery leases, resealing secrets, the access-token
-- sweep) run on a connection that says so explicitly with `app.deployment_wide` (see
-- `as_deployment!` in `store`): a statement that sets neither sees, and changes, nothing.
CREATE FUNCTION scim_row_visible(row_tenant uuid) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT row_tenant = NULLIF(current_setting('app.tenant_id', true), '')::uuid
              OR current_setting('app.deployment_wide', true) = 'on' $$;

ALTER TABLE directory_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE directory_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON directory_tokens
    USING (scim_row_visible(tenant_id)) WITH CHECK (scim_row_visible(tenant_id));

ALTER TABLE directory_oauth_clients ENABLE ROW LEVEL SECURITY;
ALTER TABLE directory_oauth_clients FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON directory_oauth_clients
    USING (scim_row_visible(tenant_id)) WITH CHECK (scim_row_visible(tenant_id));

ALTER TABLE tenant_oidc_providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_oidc_providers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_oidc_providers
    USING (scim_row_visible(tenant_id)) WITH CHECK (scim_row_visible(tenant_id));

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_endpoints
    USING (scim_row_visible(tenant_id)) WITH CHECK (scim_row_visible(tenant_id));

ALTER TABLE tenant_admins ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_admins FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_admins
    USING (scim_row_visible(tenant_id)) WITH CHECK (scim_row_visible(tenant_id));

ALTER TABLE setup_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE setup_links FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON setup_links
    USING (scim_row_visible(tenant_id)) WITH CHECK (scim_row_visible(tenant_id));

ALTER TABLE admin_email_verifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE admin_email_verifications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON admin_email_verifications
    USING (scim_row_visible(tenant_id)) WITH CHECK (scim_row_visible(tenant_id));
