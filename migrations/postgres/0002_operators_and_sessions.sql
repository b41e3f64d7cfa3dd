-- Operators: the SaaS vendor's staff who run this deployment. Deployment-wide, not tenant-owned.
CREATE TABLE operators (
    id            UUID PRIMARY KEY,
    -- Sign-in name, stored lowercased so that uniqueness ignores case.
    email         TEXT NOT NULL UNIQUE,
    -- argon2id in PHC string form (algorithm, parameters, salt and hash in one string).
    password_hash TEXT NOT NULL,
    -- `operator` manages tenants; `support` reads across tenants and changes nothing.
    role          TEXT NOT NULL CHECK (role IN ('operator', 'support')),
    created_at    TIMESTAMPTZ NOT NULL
);

-- Portal sign-in sessions (tower-sessions records). The id is the random cookie value.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    -- The session's key/value data as a JSON object.
    data       TEXT NOT NULL,
    -- Unix seconds after which the session is void; expired rows are deleted periodically.
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
