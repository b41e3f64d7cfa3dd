-- Directory deletion. A deleted directory is marked, not removed: its tokens and OAuth
-- clients are revoked and it disappears from every list and API in the transaction that
-- marks it, while its data (resources, memberships, change records, lookup values) stays
-- for the operator's retention period (`--deleted-directory-retention-days`), so that its
-- `dsync.deleted` event and the events before it remain readable. The purge job then
-- deletes the data and finally the directory row, which cascades to whatever is left.
ALTER TABLE directories ADD COLUMN deleted_at TEXT;       -- NULL: in use
-- The purge job looks for deleted directories across tenants, oldest deletion first.
CREATE INDEX directories_deleted ON directories (deleted_at, tenant_id, id) WHERE deleted_at IS NOT NULL;

-- A directory's own changes (`directory.activated` when its setup completes,
-- `directory.deleted`) are change records too, so that they take their place in the
-- directory's feed, its webhooks and the deployment's `GET /events`; their resource is the
-- directory itself. SQLite cannot change a CHECK constraint in place: the table is rebuilt
-- with the same columns and key. Nothing references directory_changes, so dropping the old
-- table removes no other rows.
CREATE TABLE directory_changes_rebuilt (
    tenant_id     TEXT NOT NULL,
    directory_id  TEXT NOT NULL,
    seq           INTEGER NOT NULL,                   -- 1, 2, 3… per directory, in commit order
    id            TEXT NOT NULL,                      -- UUIDv7: the event id consumers deduplicate on
    kind          TEXT NOT NULL,                      -- user.created, group.member_added, directory.deleted, …
    -- 'Directory' for the directory's own changes (resource_id is then the directory's id).
    resource_type TEXT NOT NULL CHECK (resource_type IN ('User', 'Group', 'Directory')),
    resource_id   TEXT NOT NULL,
    -- Who: 'token:<id>' for a SCIM client, 'operator:<id>' for a person.
    actor         TEXT NOT NULL,
    occurred_at   TEXT NOT NULL,
    -- The resource after the change (for deletions: its id), or the members added/removed.
    data          TEXT NOT NULL,
    -- See 0018_change_views.sql.
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
