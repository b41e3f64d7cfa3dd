-- People with a whole lifecycle (issue 19): operators disable or remove operators and
-- tenant admins, admins remove other admins of their tenant, everyone changes their own
-- password, and each of these ends that person's sessions at once. A session row names
-- its account (`operator:<id>`, `admin:<tenant>:<id>`; NULL: nobody signed in, or an
-- Admin Portal link's visitor, who has no account), so all of a person's sessions are
-- found and deleted in one statement. A disabled account cannot sign in (password or
-- single sign-on) until it is enabled again.
ALTER TABLE sessions ADD COLUMN account TEXT;
CREATE INDEX sessions_by_account ON sessions (account) WHERE account IS NOT NULL;
ALTER TABLE operators ADD COLUMN disabled_at TEXT;
ALTER TABLE tenant_admins ADD COLUMN disabled_at TEXT;
