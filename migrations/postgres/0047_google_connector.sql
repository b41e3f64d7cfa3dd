-- The Google Workspace pull connector (issue 20). Google Workspace provisions by SCIM only
-- to apps in its catalogue; for a `google` directory the server instead reads the
-- customer's users and groups from the Admin SDK Directory API with a service account the
-- customer's admin authorised (domain-wide delegation, read-only scopes), and writes them
-- to the directory's own SCIM endpoint with a token of the directory.

-- One connection per directory.
CREATE TABLE google_connections (
    tenant_id        UUID NOT NULL,
    directory_id     UUID NOT NULL,
    -- From the key file, shown to the admin (the client id is what they authorise).
    client_email     TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    private_key_id   TEXT NOT NULL,
    -- The whole key file, sealed (store/src/secrets.rs): the server signs with it.
    key_file         TEXT NOT NULL,
    -- The Workspace admin the service account acts as, and the customer it reads.
    admin_email      TEXT NOT NULL,
    customer         TEXT NOT NULL,
    -- The directory token the connector writes with (its secret sealed); revoking that
    -- token in the portal stops the connector.
    token_id         UUID NOT NULL,
    token_secret     TEXT NOT NULL,
    interval_minutes INTEGER NOT NULL CHECK (interval_minutes BETWEEN 5 AND 1440),
    -- When the next scheduled run is due; a requested run (an admin's or support's
    -- "Sync now") is due at once and says by whom.
    next_run_at      TIMESTAMPTZ NOT NULL,
    requested_by     TEXT,
    -- One server process runs a connection at a time.
    lease_owner      TEXT,
    lease_until      TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, directory_id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);
-- The scheduler's question across tenants: which connections are due.
CREATE INDEX google_connections_due ON google_connections (next_run_at);

-- Every run, for the dashboard and support: what it read and wrote, and why it failed.
CREATE TABLE google_sync_runs (
    tenant_id       UUID NOT NULL,
    directory_id    UUID NOT NULL,
    id              UUID NOT NULL,                    -- UUIDv7, in start order
    trigger         TEXT NOT NULL,                    -- 'schedule', or who asked ('admin:<id>', 'operator:<id>')
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    -- `SyncCounts` and the first refused writes (`SyncFailure`s) as JSON; the error that
    -- ended a failed run.
    counts          JSONB NOT NULL,
    failures        JSONB NOT NULL,
    error           TEXT,
    google_requests INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);

-- Tenant-scoped like every tenant-owned table (migration 0039); the scheduler's scan of
-- due connections and the resealing of secrets run deployment-wide.
ALTER TABLE google_connections ENABLE ROW LEVEL SECURITY;
ALTER TABLE google_connections FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON google_connections
    USING (scim_row_visible(tenant_id)) WITH CHECK (scim_row_visible(tenant_id));
ALTER TABLE google_sync_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE google_sync_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON google_sync_runs
    USING (scim_row_visible(tenant_id)) WITH CHECK (scim_row_visible(tenant_id));
