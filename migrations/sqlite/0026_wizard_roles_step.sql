-- The wizard gains a Roles step after the attribute mapping (issue 17 §2): 1 choose IdP,
-- 2 endpoint, 3 token, 4 mapping, 5 roles, 6 test sync. SQLite cannot change a column's
-- CHECK in place, so the column is replaced: a new one with the wider range, the old
-- progress copied over (a directory that reached the test step, then 5, now reaches 6),
-- the old column dropped and the new one given its name.
ALTER TABLE directories ADD COLUMN wizard_step INTEGER NOT NULL DEFAULT 2 CHECK (wizard_step BETWEEN 1 AND 6);
UPDATE directories SET wizard_step = CASE WHEN setup_step = 5 THEN 6 ELSE setup_step END;
ALTER TABLE directories DROP COLUMN setup_step;
ALTER TABLE directories RENAME COLUMN wizard_step TO setup_step;
