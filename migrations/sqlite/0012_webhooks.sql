-- Webhooks: a tenant's endpoints that receive its directories' change events (the
-- directory_changes outbox), in order per directory, at least once, signed with the
-- endpoint's secret (HMAC-SHA256). The secret is stored as is: signing needs it.
CREATE TABLE webhook_endpoints (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,                        -- UUIDv7
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    disabled_at TEXT,                                 -- NULL: delivering
    -- One server process delivers an endpoint's events at a time (order); it holds this
    -- lease and renews it while it works.
    lease_owner TEXT,
    lease_until TEXT,
    PRIMARY KEY (tenant_id, id)
) STRICT;

-- How far each endpoint has got in each directory's feed, and the retry state of the
-- event it is stuck on.
CREATE TABLE webhook_cursors (
    tenant_id       TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    directory_id    TEXT NOT NULL,
    delivered_seq   INTEGER NOT NULL DEFAULT 0,      -- events up to here are done
    attempts        INTEGER NOT NULL DEFAULT 0,      -- failed attempts at the next event
    next_attempt_at TEXT,                            -- NULL: now
    PRIMARY KEY (tenant_id, endpoint_id, directory_id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- Every attempt, for the delivery log; outcome 'dead' marks an event given up on (a dead
-- letter, which can be replayed).
CREATE TABLE webhook_deliveries (
    tenant_id    TEXT NOT NULL,
    endpoint_id  TEXT NOT NULL,
    id           TEXT NOT NULL,                       -- UUIDv7, in attempt order
    directory_id TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    attempt      INTEGER NOT NULL,
    attempted_at TEXT NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('delivered', 'failed', 'dead')),
    status_code  INTEGER,                             -- NULL: no HTTP answer
    error        TEXT,
    PRIMARY KEY (tenant_id, endpoint_id, id),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE
) STRICT;
