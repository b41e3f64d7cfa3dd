-- Alerts (issue 18): see the PostgreSQL migration of the same number.
CREATE TABLE alerts (
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    directory_id    TEXT,
    kind            TEXT NOT NULL CHECK (kind IN ('revocation_overdue', 'idp_silent', 'token_expiring',
                                                  'webhook_failing', 'scim_errors')),
    subject         TEXT NOT NULL,
    summary         TEXT NOT NULL,
    opened_at       TEXT NOT NULL,
    notified_at     TEXT,
    notifications   INTEGER NOT NULL DEFAULT 0,
    resolved_at     TEXT,
    resolution_sent INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, id)
) STRICT;
CREATE UNIQUE INDEX alerts_open_subject ON alerts (tenant_id, subject) WHERE resolved_at IS NULL;
CREATE INDEX alerts_by_time ON alerts (tenant_id, opened_at);

ALTER TABLE directories ADD COLUMN silence_alert_hours INTEGER
    CHECK (silence_alert_hours IS NULL OR silence_alert_hours BETWEEN 0 AND 8760);

-- "Failing for an hour" and "dead-lettering" read an endpoint's attempts by outcome.
CREATE INDEX webhook_deliveries_by_outcome ON webhook_deliveries (tenant_id, endpoint_id, outcome, attempted_at);
