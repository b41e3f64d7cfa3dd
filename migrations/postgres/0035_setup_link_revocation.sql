-- Setup links can be withdrawn before they are used (issue 19): a revoked link opens
-- nothing, and the statement that uses a link checks it in the same row update.
ALTER TABLE setup_links ADD COLUMN revoked_at TIMESTAMPTZ;
