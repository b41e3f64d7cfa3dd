-- Alerts about the operator's own webhook endpoints (issue 18): see the PostgreSQL
-- migration of the same number.
CREATE TABLE operator_alerts (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('operator_webhook_failing')),
    subject         TEXT NOT NULL,
    summary         TEXT NOT NULL,
    opened_at       TEXT NOT NULL,
    notified_at     TEXT,
    notifications   INTEGER NOT NULL DEFAULT 0,
    resolved_at     TEXT,
    resolution_sent INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX operator_alerts_open_subject ON operator_alerts (subject) WHERE resolved_at IS NULL;

CREATE INDEX operator_webhook_deliveries_by_outcome
    ON operator_webhook_deliveries (endpoint_id, outcome, attempted_at);
