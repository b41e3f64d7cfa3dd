-- Operator API keys with a whole lifecycle (issue 19): see the PostgreSQL migration of the
-- same number.
ALTER TABLE operator_api_keys ADD COLUMN areas TEXT NOT NULL
    DEFAULT '["tenants","directory_data","webhooks","audit","api_keys"]';
ALTER TABLE operator_api_keys ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1));
ALTER TABLE operator_api_keys ADD COLUMN expires_at TEXT;
