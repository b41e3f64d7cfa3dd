-- Alerts about the operator's own webhook endpoints (issue 18): an endpoint of the vendor's
-- product failing for an hour or giving up on events. Like the endpoints themselves (0023)
-- they are the deployment's, not a tenant's: no tenant key, no row-level security, told to
-- the operator's support address and alert webhook only. Same life as a tenant's alerts
-- (0029): one open alert per subject, a claimed notification, a "resolved" message.
CREATE TABLE operator_alerts (
    id              UUID PRIMARY KEY,                -- UUIDv7
    kind            TEXT NOT NULL CHECK (kind IN ('operator_webhook_failing')),
    subject         TEXT NOT NULL,                   -- operator-webhook:<endpoint id>
    summary         TEXT NOT NULL,                   -- the condition in words, as last seen
    opened_at       TIMESTAMPTZ NOT NULL,
    notified_at     TIMESTAMPTZ,                     -- last notification sent (NULL: none yet)
    notifications   BIGINT NOT NULL DEFAULT 0,
    resolved_at     TIMESTAMPTZ,                     -- NULL: open
    resolution_sent BOOLEAN NOT NULL DEFAULT false   -- the "resolved" notification went out
);
CREATE UNIQUE INDEX operator_alerts_open_subject ON operator_alerts (subject) WHERE resolved_at IS NULL;

-- "Failing for an hour" and "dead-lettering" read an endpoint's attempts by outcome.
CREATE INDEX operator_webhook_deliveries_by_outcome
    ON operator_webhook_deliveries (endpoint_id, outcome, attempted_at);
