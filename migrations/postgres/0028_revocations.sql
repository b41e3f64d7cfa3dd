-- Offboarding you can prove (issue 18): a record of every user deactivation and deletion,
-- written in the transaction of its change record, with when the vendor's product received
-- it and when it confirmed it had applied it (an acknowledgement through the operator API,
-- or a webhook answer saying `"applied": true`). Time-to-revoke is applied_at - changed_at.
CREATE TABLE revocations (
    tenant_id     UUID NOT NULL,
    directory_id  UUID NOT NULL,
    seq           BIGINT NOT NULL,                   -- the change record's number
    user_id       TEXT NOT NULL,
    user_name     TEXT NOT NULL,                     -- userName (else email, else the id) then
    kind          TEXT NOT NULL CHECK (kind IN ('user.deactivated', 'user.deleted')),
    changed_at    TIMESTAMPTZ NOT NULL,              -- when the identity provider's request was handled and stored
    delivered_at  TIMESTAMPTZ,                       -- first delivery: a 2xx webhook answer or a read of the feed
    delivered_via TEXT,                              -- webhook:<id>, operator-webhook:<id>, feed
    applied_at    TIMESTAMPTZ,                       -- the product's confirmation
    applied_via   TEXT,                              -- api-key:<id>, webhook:<id>, operator-webhook:<id>
    PRIMARY KEY (tenant_id, directory_id, seq),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX revocations_by_time ON revocations (tenant_id, changed_at);

-- Confirmations of the other events (a revocation's is kept in its row above).
CREATE TABLE event_receipts (
    tenant_id    UUID NOT NULL,
    directory_id UUID NOT NULL,
    seq          BIGINT NOT NULL,
    applied_at   TIMESTAMPTZ NOT NULL,
    applied_via  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, seq),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);

-- Tenant-owned: readable and writable only as the tenant (migration 0006).
ALTER TABLE revocations ENABLE ROW LEVEL SECURITY;
ALTER TABLE revocations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON revocations
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE event_receipts ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_receipts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON event_receipts
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
