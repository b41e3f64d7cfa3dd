-- The deployment-wide order of the changes the vendor's product receives (the WorkOS-
-- compatible `GET /events`): one row per change record, written in the change's own
-- transaction, holding only ids, the kind and the time, so that it can be read across
-- tenants (directory_changes is tenant-scoped, under row-level security) and the details
-- fetched tenant by tenant. The wizard self-test's changes have no row; changes recorded
-- before this table existed stay in their directory's own feed only.
--
-- `position` orders the rows. On PostgreSQL it is the writing transaction's id
-- (pg_current_xact_id()), and a reader takes only positions below the oldest transaction
-- still running (pg_snapshot_xmin(pg_current_snapshot())), so that no row ever appears
-- behind a position a reader has passed. On SQLite, with one writer, it is a counter.
--
-- No foreign key: rows of a deleted directory stay (their details are gone, and readers
-- skip them), so positions are never reused.
CREATE TABLE deployment_events (
    position     BIGINT NOT NULL,
    tenant_id    UUID NOT NULL,
    directory_id UUID NOT NULL,
    seq          BIGINT NOT NULL,                     -- the change's number in its directory
    kind         TEXT NOT NULL,                       -- as directory_changes.kind
    occurred_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (position, tenant_id, directory_id, seq)
);
-- An event id names its directory and number: the cursor `after=<id>` is found by them.
CREATE UNIQUE INDEX deployment_events_change ON deployment_events (directory_id, seq);
