-- The safety brake (issue 18): an identity provider's scoping mistake that deactivates half
-- a company must not reach the vendor's product unreviewed. Per directory, when more than
-- `brake_percent` of its active users, and at least `brake_minimum`, are deactivated or
-- deleted within 10 minutes, or when someone is added to a group the admin marked
-- privileged, the changes are still written (the identity provider sees them done) but
-- their change records are held in a batch instead of being published. The admin releases
-- the batch (its changes are then published, in order) or discards it (the resources are
-- put back as they were; the identity provider's next sync sends what is real).
ALTER TABLE directories ADD COLUMN brake_enabled BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE directories ADD COLUMN brake_percent INTEGER NOT NULL DEFAULT 10
    CHECK (brake_percent BETWEEN 1 AND 100);
ALTER TABLE directories ADD COLUMN brake_minimum INTEGER NOT NULL DEFAULT 25
    CHECK (brake_minimum BETWEEN 1 AND 1000000);
-- When the last batch was released or discarded: revocations before it no longer count.
ALTER TABLE directories ADD COLUMN brake_decided_at TIMESTAMPTZ;

CREATE TABLE privileged_groups (
    tenant_id    UUID NOT NULL,
    directory_id UUID NOT NULL,
    group_id     TEXT COLLATE "C" NOT NULL,
    marked_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, group_id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE held_batches (
    tenant_id    UUID NOT NULL,
    directory_id UUID NOT NULL,
    number       BIGINT NOT NULL,                    -- 1, 2, 3… per directory
    -- Why it was opened: mass_revocation also holds every later revocation of the
    -- directory; privileged_group only the grants (and later changes of held resources).
    reason       TEXT NOT NULL CHECK (reason IN ('mass_revocation', 'privileged_group')),
    opened_at    TIMESTAMPTZ NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('open', 'released', 'discarded')),
    decided_at   TIMESTAMPTZ,
    decided_by   TEXT,                               -- the actor who released or discarded it
    PRIMARY KEY (tenant_id, directory_id, number),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);
-- At most one open batch per directory.
CREATE UNIQUE INDEX held_batches_open ON held_batches (tenant_id, directory_id) WHERE state = 'open';

-- The change records a batch holds, in the order they were made (the columns of
-- directory_changes, without the number they get when released).
CREATE TABLE held_changes (
    tenant_id     UUID NOT NULL,
    directory_id  UUID NOT NULL,
    batch         BIGINT NOT NULL,
    ordinal       BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    resource_id   TEXT COLLATE "C" NOT NULL,
    actor         TEXT NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL,
    data          JSONB NOT NULL,
    view          JSONB,
    PRIMARY KEY (tenant_id, directory_id, batch, ordinal),
    FOREIGN KEY (tenant_id, directory_id, batch) REFERENCES held_batches (tenant_id, directory_id, number) ON DELETE CASCADE
);
-- "Does this resource have held changes?", asked by every write while a batch is open.
CREATE INDEX held_changes_by_resource ON held_changes (tenant_id, directory_id, batch, resource_id);

-- Each held resource as it was before its first held change, to put back on discard.
CREATE TABLE held_resources (
    tenant_id      UUID NOT NULL,
    directory_id   UUID NOT NULL,
    batch          BIGINT NOT NULL,
    resource_type  TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    resource_id    TEXT COLLATE "C" NOT NULL,
    name           TEXT COLLATE "C" NOT NULL,
    external_id    TEXT COLLATE "C",
    doc            JSONB NOT NULL,
    version        BIGINT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    last_modified  TIMESTAMPTZ NOT NULL,
    published_view JSONB,
    -- A deleted group's members and role grants at its deletion (NULL: not deleted).
    members        JSONB,
    grants         JSONB,
    PRIMARY KEY (tenant_id, directory_id, batch, resource_id),
    FOREIGN KEY (tenant_id, directory_id, batch) REFERENCES held_batches (tenant_id, directory_id, number) ON DELETE CASCADE
);

ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('revocation_overdue', 'idp_silent',
    'token_expiring', 'webhook_failing', 'scim_errors', 'changes_held'));

ALTER TABLE privileged_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE privileged_groups FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON privileged_groups
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE held_batches ENABLE ROW LEVEL SECURITY;
ALTER TABLE held_batches FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON held_batches
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE held_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE held_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON held_changes
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
ALTER TABLE held_resources ENABLE ROW LEVEL SECURITY;
ALTER TABLE held_resources FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON held_resources
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
