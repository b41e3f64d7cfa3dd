-- Directory deletion. A deleted directory is marked, not removed: its tokens and OAuth
-- clients are revoked and it disappears from every list and API in the transaction that
-- marks it, while its data (resources, memberships, change records, lookup values) stays
-- for the operator's retention period (`--deleted-directory-retention-days`), so that its
-- `dsync.deleted` event and the events before it remain readable. The purge job then
-- deletes the data and finally the directory row, which cascades to whatever is left.
ALTER TABLE directories ADD COLUMN deleted_at TIMESTAMPTZ;   -- NULL: in use
-- The purge job looks for deleted directories across tenants, oldest deletion first.
CREATE INDEX directories_deleted ON directories (deleted_at, tenant_id, id) WHERE deleted_at IS NOT NULL;

-- A directory's own changes (`directory.activated` when its setup completes,
-- `directory.deleted`) are change records too, so that they take their place in the
-- directory's feed, its webhooks and the deployment's `GET /events`; their resource is the
-- directory itself (resource_id is then the directory's id).
ALTER TABLE directory_changes DROP CONSTRAINT directory_changes_resource_type_check;
ALTER TABLE directory_changes ADD CONSTRAINT directory_changes_resource_type_check
    CHECK (resource_type IN ('User', 'Group', 'Directory'));
