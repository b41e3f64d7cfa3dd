-- Operator API keys with a whole lifecycle (issue 19): each key reaches only the areas of
-- the API it was given (tenants, directory_data, webhooks, audit, api_keys), optionally
-- for reading only, until it expires or is revoked. Keys made before keep every area, so
-- an integration that worked goes on working; the operator narrows it by issuing a scoped
-- key and revoking the old one.
ALTER TABLE operator_api_keys ADD COLUMN areas JSONB NOT NULL
    DEFAULT '["tenants","directory_data","webhooks","audit","api_keys"]';
ALTER TABLE operator_api_keys ADD COLUMN read_only BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE operator_api_keys ADD COLUMN expires_at TIMESTAMPTZ;                -- NULL: never
