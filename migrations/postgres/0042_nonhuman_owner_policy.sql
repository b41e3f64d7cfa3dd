-- What happens to a directory's non-human identities (service accounts, agents) when their
-- owner is deactivated or deleted (issue 20): `deactivate` them, or `reassign` them to a
-- fallback owner, a user of the same directory. No row: they are flagged (the dashboard
-- and the support console list them), as before. The non-human identity sweeper applies
-- the policy every minute, each change through the SCIM write path and audited.
CREATE TABLE nonhuman_owner_policies (
    tenant_id      UUID NOT NULL,
    directory_id   UUID NOT NULL,
    policy         TEXT NOT NULL CHECK (policy IN ('deactivate', 'reassign')),
    fallback_owner TEXT,                                  -- a User's id, for `reassign`
    changed_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, directory_id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE,
    CHECK ((policy = 'reassign') = (fallback_owner IS NOT NULL))
);

ALTER TABLE nonhuman_owner_policies ENABLE ROW LEVEL SECURITY;
ALTER TABLE nonhuman_owner_policies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON nonhuman_owner_policies
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
