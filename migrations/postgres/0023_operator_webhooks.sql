-- Webhook endpoints of the operator (the vendor's product), as WorkOS has them: each
-- receives the Directory Sync events of every tenant, in `GET /events`'s order and shapes,
-- filtered by type, signed `WorkOS-Signature: t=<ms>, v1=<hex HMAC-SHA256(secret,
-- "<t>.<body>")>`. The operator's, like API keys: not tenant-owned.
CREATE TABLE operator_webhooks (
    id              UUID PRIMARY KEY,
    url             TEXT NOT NULL,
    secret          TEXT NOT NULL,                    -- shown to the operator; signs deliveries
    events          JSONB NOT NULL,                   -- JSON array of the dsync.* types it receives
    enabled         BOOLEAN NOT NULL,
    -- The id of the last event delivered or given up on (`event_…`); NULL: from the first.
    cursor          TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,       -- failed attempts at the next event
    next_attempt_at TIMESTAMPTZ,                            -- not before, after a failure
    last_error      TEXT,
    -- One server process delivers to an endpoint at a time.
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

-- Every attempt, for the operator to see why an endpoint is behind.
CREATE TABLE operator_webhook_deliveries (
    endpoint_id  UUID NOT NULL REFERENCES operator_webhooks (id) ON DELETE CASCADE,
    id           UUID NOT NULL,                      -- UUIDv7: attempts in time order
    event_id     TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed', 'dead')),
    status_code  INTEGER,                             -- NULL: no answer (timeout, refused)
    error        TEXT,
    PRIMARY KEY (endpoint_id, id)
);
