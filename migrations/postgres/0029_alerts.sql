-- Alerts (issue 18): conditions someone must act on — a revocation past the deployment's
-- SLA, an identity provider silent for longer than its directory's threshold, a token
-- about to expire, a webhook endpoint failing or dead-lettering, a burst of failed SCIM
-- requests. An alert is opened once per condition (its subject), notified again on a
-- schedule while the condition lasts, and resolved (with a last notification) when it ends.
CREATE TABLE alerts (
    tenant_id       UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              UUID NOT NULL,                   -- UUIDv7
    directory_id    UUID,                            -- NULL: about the tenant as a whole
    kind            TEXT NOT NULL CHECK (kind IN ('revocation_overdue', 'idp_silent', 'token_expiring',
                                                  'webhook_failing', 'scim_errors')),
    subject         TEXT NOT NULL,                   -- what the condition is about, e.g. token:<id>
    summary         TEXT NOT NULL,                   -- the condition in words, as last seen
    opened_at       TIMESTAMPTZ NOT NULL,
    notified_at     TIMESTAMPTZ,                     -- last notification sent (NULL: none yet)
    notifications   BIGINT NOT NULL DEFAULT 0,
    resolved_at     TIMESTAMPTZ,                     -- NULL: open
    resolution_sent BOOLEAN NOT NULL DEFAULT false,  -- the "resolved" notification went out
    PRIMARY KEY (tenant_id, id)
);
-- One open alert per condition: a second process evaluating at the same moment opens none.
CREATE UNIQUE INDEX alerts_open_subject ON alerts (tenant_id, subject) WHERE resolved_at IS NULL;
CREATE INDEX alerts_by_time ON alerts (tenant_id, opened_at);

-- How long a directory's identity provider may stay silent after setup before an alert
-- (hours). NULL: the provider's default (Microsoft Entra ID: 3 hours, as it syncs every
-- 40 minutes; others push only on change, so no default).
ALTER TABLE directories ADD COLUMN silence_alert_hours INTEGER
    CHECK (silence_alert_hours IS NULL OR silence_alert_hours BETWEEN 0 AND 8760);

ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON alerts
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);

-- "Failing for an hour" and "dead-lettering" read an endpoint's attempts by outcome.
CREATE INDEX webhook_deliveries_by_outcome ON webhook_deliveries (tenant_id, endpoint_id, outcome, attempted_at);
