-- PostgreSQL gets row-level security on the SCIM data in this migration. SQLite has no
-- row-level security (an embedded database has a single user); tenant isolation there
-- rests on the storage layer's tenant scope. This file keeps the migration numbers of
-- both backends aligned.
SELECT 1;
