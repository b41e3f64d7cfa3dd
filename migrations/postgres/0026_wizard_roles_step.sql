-- The wizard gains a Roles step after the attribute mapping (issue 17 §2): 1 choose IdP,
-- 2 endpoint, 3 token, 4 mapping, 5 roles, 6 test sync. A directory that reached the test
-- step (then 5) now reaches 6. `directories` has no row-level security: the update sees
-- every tenant's rows.
ALTER TABLE directories DROP CONSTRAINT directories_setup_step_check;
UPDATE directories SET setup_step = 6 WHERE setup_step = 5;
ALTER TABLE directories ADD CONSTRAINT directories_setup_step_check CHECK (setup_step BETWEEN 1 AND 6);
