-- Roles from groups (issue 17 §2). The vendor's product defines its roles once for the whole
-- deployment (the operator's, like API keys: not tenant-owned); each tenant's admin grants
-- them to the IdP groups of a directory; a user's roles are those of their groups (or the
-- default role), and `role` is the first of them by precedence.
CREATE TABLE roles (
    slug        TEXT PRIMARY KEY,                   -- what the product reads: `role.slug`
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- 1 first: a user with several roles has the one with the smallest precedence as `role`
    -- (ties by slug).
    precedence  BIGINT NOT NULL CHECK (precedence > 0),
    -- The role of a user no mapped group grants anything; at most one.
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX roles_one_default ON roles (is_default) WHERE is_default;

-- Which role an IdP group of a directory grants (by the group's id: a rename keeps it).
-- Tenant-owned. The group may have been deleted since; such rows grant nothing.
CREATE TABLE group_roles (
    tenant_id    UUID NOT NULL,
    directory_id UUID NOT NULL,
    group_id     TEXT COLLATE "C" NOT NULL,
    role_slug    TEXT NOT NULL REFERENCES roles (slug) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, directory_id, group_id, role_slug),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);

-- The normalized user as the vendor's product last received it (the `normalized` of its
-- last change record), so that re-deriving a user (a mapping changed, a group granting a
-- role gained or lost a member) publishes `dsync.user.updated` only when something changed,
-- with the previous values. NULL for users written before this column existed: re-deriving
-- such a user stores it without an event.
ALTER TABLE scim_resources ADD COLUMN published_view JSONB;

-- Users whose roles may have changed (a member added to or removed from a group that grants
-- roles), to be re-derived by the background worker. Written in the membership change's
-- transaction. No row-level security (PostgreSQL): the worker finds work across tenants.
CREATE TABLE republish_queue (
    tenant_id    UUID NOT NULL,
    directory_id UUID NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, user_id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);

-- A pass over every user of a directory after its attribute mapping, its group-role
-- mapping or the deployment's roles changed: one per directory; asking again while one runs
-- starts it over (users already done compare equal and publish nothing). Resumable: `cursor`
-- is the id of the last user done, written with that batch's events.
CREATE TABLE republish_jobs (
    tenant_id    UUID NOT NULL,
    directory_id UUID NOT NULL,
    reason       TEXT NOT NULL,                      -- what changed, for the portal
    requested_at TIMESTAMPTZ NOT NULL,
    cursor       TEXT COLLATE "C",                   -- NULL: from the first user
    total        BIGINT,                             -- users when it (re)started; NULL: not counted yet
    done         BIGINT NOT NULL DEFAULT 0,
    changed      BIGINT NOT NULL DEFAULT 0,        -- users whose view changed: one event each
    finished_at  TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, directory_id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX republish_jobs_pending ON republish_jobs (requested_at) WHERE finished_at IS NULL;

ALTER TABLE group_roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE group_roles FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON group_roles
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
