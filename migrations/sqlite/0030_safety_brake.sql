-- The safety brake (issue 18): see the PostgreSQL migration of the same number.
ALTER TABLE directories ADD COLUMN brake_enabled INTEGER NOT NULL DEFAULT 1 CHECK (brake_enabled IN (0, 1));
ALTER TABLE directories ADD COLUMN brake_percent INTEGER NOT NULL DEFAULT 10
    CHECK (brake_percent BETWEEN 1 AND 100);
ALTER TABLE directories ADD COLUMN brake_minimum INTEGER NOT NULL DEFAULT 25
    CHECK (brake_minimum BETWEEN 1 AND 1000000);
ALTER TABLE directories ADD COLUMN brake_decided_at TEXT;

CREATE TABLE privileged_groups (
    tenant_id    TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    group_id     TEXT NOT NULL,
    marked_at    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, group_id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE held_batches (
    tenant_id    TEXT NOT NULL,
    directory_id TEXT NOT NULL,
    number       INTEGER NOT NULL,
    reason       TEXT NOT NULL CHECK (reason IN ('mass_revocation', 'privileged_group')),
    opened_at    TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('open', 'released', 'discarded')),
    decided_at   TEXT,
    decided_by   TEXT,
    PRIMARY KEY (tenant_id, directory_id, number),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX held_batches_open ON held_batches (tenant_id, directory_id) WHERE state = 'open';

CREATE TABLE held_changes (
    tenant_id     TEXT NOT NULL,
    directory_id  TEXT NOT NULL,
    batch         INTEGER NOT NULL,
    ordinal       INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    resource_id   TEXT NOT NULL,
    actor         TEXT NOT NULL,
    occurred_at   TEXT NOT NULL,
    data          TEXT NOT NULL,
    view          TEXT,
    PRIMARY KEY (tenant_id, directory_id, batch, ordinal),
    FOREIGN KEY (tenant_id, directory_id, batch) REFERENCES held_batches (tenant_id, directory_id, number) ON DELETE CASCADE
) STRICT;
CREATE INDEX held_changes_by_resource ON held_changes (tenant_id, directory_id, batch, resource_id);

CREATE TABLE held_resources (
    tenant_id      TEXT NOT NULL,
    directory_id   TEXT NOT NULL,
    batch          INTEGER NOT NULL,
    resource_type  TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    resource_id    TEXT NOT NULL,
    name           TEXT NOT NULL,
    external_id    TEXT,
    doc            TEXT NOT NULL,
    version        INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    last_modified  TEXT NOT NULL,
    published_view TEXT,
    members        TEXT,
    grants         TEXT,
    PRIMARY KEY (tenant_id, directory_id, batch, resource_id),
    FOREIGN KEY (tenant_id, directory_id, batch) REFERENCES held_batches (tenant_id, directory_id, number) ON DELETE CASCADE
) STRICT;

-- A new alert kind: SQLite changes a CHECK constraint by rebuilding the table.
CREATE TABLE alerts_new (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    directory_id    TEXT,
    kind            TEXT NOT NULL CHECK (kind IN ('revocation_overdue', 'idp_silent', 'token_expiring',
                                                  'webhook_failing', 'scim_errors', 'changes_held')),
    subject         TEXT NOT NULL,
    summary         TEXT NOT NULL,
    opened_at       TEXT NOT NULL,
    notified_at     TEXT,
    notifications   INTEGER NOT NULL DEFAULT 0,
    resolved_at     TEXT,
    resolution_sent INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id)
) STRICT;
INSERT INTO alerts_new SELECT tenant_id, id, directory_id, kind, subject, summary, opened_at, notified_at,
    notifications, resolved_at, resolution_sent FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE UNIQUE INDEX alerts_open_subject ON alerts (tenant_id, subject) WHERE resolved_at IS NULL;
CREATE INDEX alerts_by_time ON alerts (tenant_id, opened_at);
