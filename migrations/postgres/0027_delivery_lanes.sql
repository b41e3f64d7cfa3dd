-- Webhook deliveries in order per resource instead of per directory: an event that an
-- endpoint keeps refusing holds back the later events of its own resource only (a user's,
-- or a group's with its membership changes), not every later event of its directory.
--
-- An endpoint's cursor (webhook_cursors.delivered_seq) still says "every event up to here
-- has been dealt with"; the events it has passed without delivering (held: refused, or
-- behind a refused event of their resource) and the events delivered ahead of it (sent: a
-- deactivation or deletion taken out of a backlog, with the events of its user before it)
-- are the rows here. A held row is retried with its own backoff and removed once
-- delivered or given up on; a sent row is removed when the cursor passes it.
CREATE TABLE webhook_outstanding (
    tenant_id       UUID NOT NULL,
    endpoint_id     UUID NOT NULL,
    directory_id    UUID NOT NULL,
    seq             BIGINT NOT NULL,                 -- the event's number in its directory
    -- The lane: `User:<id>`, `Group:<id>` or `Directory:<id>`.
    resource        TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('held', 'sent')),
    attempts        INTEGER NOT NULL DEFAULT 0,      -- failed attempts so far (held)
    next_attempt_at TIMESTAMPTZ,                     -- not before (held after a failure)
    PRIMARY KEY (tenant_id, endpoint_id, directory_id, seq),
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);

-- The retry state of "the next event" moved to the held rows.
ALTER TABLE webhook_cursors DROP COLUMN attempts;
ALTER TABLE webhook_cursors DROP COLUMN next_attempt_at;

-- The same for the operator's endpoints (the deployment-wide `dsync.*` feed): the cursor
-- (operator_webhooks.cursor) is the last event dealt with; events it passed without
-- delivering are held here, per resource, each with its own retries, and events delivered
-- ahead of it (a deactivation or deletion taken out of a backlog) are marked sent until
-- the cursor reaches them.
CREATE TABLE operator_webhook_outstanding (
    endpoint_id     UUID NOT NULL REFERENCES operator_webhooks (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,                    -- event_<directory><seq>[_<member>]
    directory_id    UUID NOT NULL,
    seq             BIGINT NOT NULL,
    member          INTEGER NOT NULL,                 -- -1: not a membership event
    resource        TEXT NOT NULL,                    -- the lane: user:<id>, group:<id>, directory:<id>
    state           TEXT NOT NULL CHECK (state IN ('held', 'sent')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    PRIMARY KEY (endpoint_id, event_id)
);
ALTER TABLE operator_webhooks DROP COLUMN attempts;
ALTER TABLE operator_webhooks DROP COLUMN next_attempt_at;
