-- Agents and agentic applications (draft-abbey-scim-agent-extension-00, issue 20): two
-- more SCIM resource types, `Agent` at `/Agents` and `AgenticApplication` at
-- `/AgenticApplications`, served where a directory offers non-human identities. They are
-- resources like users and groups: the same table, versions, change records and audit.
--
-- SQLite cannot change a CHECK constraint in place, so `scim_resources` and
-- `directory_changes` are rebuilt with the same columns, keys and indexes. sqlx runs every
-- SQLite migration in a transaction, where foreign keys cannot be turned off, and dropping
-- a table that others reference would delete their rows by cascade: so the four tables
-- that reference `scim_resources` are rebuilt too, each pointing at the new table, and
-- the old ones are dropped children first (nothing references them any more when the old
-- parent goes). Renaming the new parent rewrites its children's references to the final
-- name. Every row is copied as it is.

CREATE TABLE scim_resources_rebuilt (
    tenant_id      TEXT NOT NULL,
    directory_id   TEXT NOT NULL,
    resource_type  TEXT NOT NULL CHECK (resource_type IN ('User', 'Group', 'Agent', 'AgenticApplication')),
    id             TEXT NOT NULL,                      -- UUIDv7 as text, the SCIM `id`
    -- userName of a user, displayName of a group, name of an agent or application;
    -- `_folded` is Rust's Unicode lower-casing of it (SQLite's lower() folds ASCII only).
    name           TEXT NOT NULL,
    name_folded    TEXT NOT NULL,
    external_id    TEXT,
    -- See 0004_scim_resources.sql.
    doc            TEXT NOT NULL,
    doc_folded     TEXT NOT NULL,
    version        INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    last_modified  TEXT NOT NULL,
    published_view TEXT,                               -- see 0025_roles.sql
    idp_touched_at TEXT,                               -- see 0044_identity_provider_touch.sql
    PRIMARY KEY (tenant_id, directory_id, id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
) STRICT;
INSERT INTO scim_resources_rebuilt
    (tenant_id, directory_id, resource_type, id, name, name_folded, external_id, doc, doc_folded, version,
     created_at, last_modified, published_view, idp_touched_at)
    SELECT tenant_id, directory_id, resource_type, id, name, name_folded, external_id, doc, doc_folded, version,
           created_at, last_modified, published_view, idp_touched_at
    FROM scim_resources;

CREATE TABLE scim_members_rebuilt (
    tenant_id    TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    group_id     TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    member_type  TEXT NOT NULL CHECK (member_type IN ('User', 'Group')),
    PRIMARY KEY (tenant_id, directory_id, group_id, member_id),
    FOREIGN KEY (tenant_id, directory_id, group_id) REFERENCES scim_resources_rebuilt (tenant_id, directory_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, directory_id, member_id) REFERENCES scim_resources_rebuilt (tenant_id, directory_id, id) ON DELETE CASCADE
) STRICT;
INSERT INTO scim_members_rebuilt (tenant_id, directory_id, group_id, member_id, member_type)
    SELECT tenant_id, directory_id, group_id, member_id, member_type FROM scim_members;

CREATE TABLE scim_resource_values_rebuilt (
    tenant_id    TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    attribute    TEXT NOT NULL,
    value_folded TEXT NOT NULL,
    FOREIGN KEY (tenant_id, directory_id, resource_id) REFERENCES scim_resources_rebuilt (tenant_id, directory_id, id) ON DELETE CASCADE
) STRICT;
INSERT INTO scim_resource_values_rebuilt (tenant_id, directory_id, resource_id, attribute, value_folded)
    SELECT tenant_id, directory_id, resource_id, attribute, value_folded FROM scim_resource_values;

CREATE TABLE scim_nonhuman_rebuilt (
    tenant_id    TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('serviceAccount', 'agent')),
    owner_id     TEXT,
    expires_at   TEXT,
    active       INTEGER NOT NULL CHECK (active IN (0, 1)),
    PRIMARY KEY (tenant_id, directory_id, resource_id),
    FOREIGN KEY (tenant_id, directory_id, resource_id) REFERENCES scim_resources_rebuilt (tenant_id, directory_id, id) ON DELETE CASCADE
) STRICT;
INSERT INTO scim_nonhuman_rebuilt (tenant_id, directory_id, resource_id, kind, owner_id, expires_at, active)
    SELECT tenant_id, directory_id, resource_id, kind, owner_id, expires_at, active FROM scim_nonhuman;

CREATE TABLE user_suspensions_rebuilt (
    tenant_id    TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    suspended_at TEXT NOT NULL,
    suspended_by TEXT NOT NULL,
    reason       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, resource_id),
    FOREIGN KEY (tenant_id, directory_id, resource_id) REFERENCES scim_resources_rebuilt (tenant_id, directory_id, id) ON DELETE CASCADE
) STRICT;
INSERT INTO user_suspensions_rebuilt (tenant_id, directory_id, resource_id, suspended_at, suspended_by, reason)
    SELECT tenant_id, directory_id, resource_id, suspended_at, suspended_by, reason FROM user_suspensions;

DROP TABLE scim_members;
DROP TABLE scim_resource_values;
DROP TABLE scim_nonhuman;
DROP TABLE user_suspensions;
DROP TABLE scim_resources;
ALTER TABLE scim_resources_rebuilt RENAME TO scim_resources;
ALTER TABLE scim_members_rebuilt RENAME TO scim_members;
ALTER TABLE scim_resource_values_rebuilt RENAME TO scim_resource_values;
ALTER TABLE scim_nonhuman_rebuilt RENAME TO scim_nonhuman;
ALTER TABLE user_suspensions_rebuilt RENAME TO user_suspensions;

-- The indexes of 0004, 0007, 0016 and 0017, as they were.
CREATE UNIQUE INDEX scim_resources_user_name ON scim_resources (tenant_id, directory_id, name_folded)
    WHERE resource_type = 'User';
CREATE INDEX scim_resources_name ON scim_resources (tenant_id, directory_id, resource_type, name_folded, id);
CREATE INDEX scim_resources_external_id ON scim_resources (tenant_id, directory_id, resource_type, external_id, id);
CREATE INDEX scim_resources_last_modified ON scim_resources (tenant_id, directory_id, resource_type, last_modified, id);
CREATE INDEX scim_resources_listing ON scim_resources (tenant_id, directory_id, resource_type, id);
CREATE INDEX scim_members_member ON scim_members (tenant_id, directory_id, member_id, group_id);
CREATE INDEX scim_resource_values_lookup ON scim_resource_values (tenant_id, directory_id, attribute, value_folded);
CREATE INDEX scim_resource_values_resource ON scim_resource_values (tenant_id, directory_id, resource_id);
CREATE INDEX scim_nonhuman_expiry ON scim_nonhuman (tenant_id, expires_at) WHERE active AND expires_at IS NOT NULL;
CREATE INDEX scim_nonhuman_owner ON scim_nonhuman (tenant_id, directory_id, owner_id) WHERE owner_id IS NOT NULL;
-- An agent's `name` and an application's `name` are unique per directory and type,
-- ignoring case (the draft's `uniqueness: server`), as a user's userName is.
CREATE UNIQUE INDEX scim_resources_agent_name ON scim_resources (tenant_id, directory_id, resource_type, name_folded)
    WHERE resource_type IN ('Agent', 'AgenticApplication');

-- The change records, as 0024 rebuilt them, with the two new resource types.
CREATE TABLE directory_changes_rebuilt (
    tenant_id     TEXT NOT NULL,
    directory_id  TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    id            TEXT NOT NULL,
    kind          TEXT NOT NULL,                      -- user.created, agent.deleted, directory.deleted, …
    resource_type TEXT NOT NULL CHECK (resource_type IN ('User', 'Group', 'Agent', 'AgenticApplication', 'Directory')),
    resource_id   TEXT NOT NULL,
    actor         TEXT NOT NULL,
    occurred_at   TEXT NOT NULL,
    data          TEXT NOT NULL,
    view          TEXT,
    PRIMARY KEY (tenant_id, directory_id, seq),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
) STRICT;
INSERT INTO directory_changes_rebuilt
    (tenant_id, directory_id, seq, id, kind, resource_type, resource_id, actor, occurred_at, data, view)
    SELECT tenant_id, directory_id, seq, id, kind, resource_type, resource_id, actor, occurred_at, data, view
    FROM directory_changes;
DROP TABLE directory_changes;
ALTER TABLE directory_changes_rebuilt RENAME TO directory_changes;
