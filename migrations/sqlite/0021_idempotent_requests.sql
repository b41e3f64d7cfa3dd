-- Answers to POSTs of the WorkOS-compatible API by their `Idempotency-Key` (the official
-- SDKs send one with every POST and the same one with each retry): a retry gets the first
-- answer again instead of making a second link or endpoint. Rows are the operator's (keyed
-- by the API key that sent the request, so one key's requests never answer another's) and
-- are kept 24 hours.
CREATE TABLE idempotent_requests (
    api_key_id      TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    -- SHA-256 of the method, path, query and body: the same key with another request is
    -- refused rather than answered with the first one's result.
    request_digest  BLOB NOT NULL,
    -- NULL while the first request is being answered; then its status and JSON body.
    status          INTEGER,
    body            TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (api_key_id, idempotency_key)
) STRICT;
-- Expired answers are deleted by age.
CREATE INDEX idempotent_requests_age ON idempotent_requests (created_at);
