-- PostgreSQL only: row-level security on the credential and people tables (see the
-- PostgreSQL migration of the same name). SQLite has no roles or policies; the store's
-- tenant scope is its only wall, and the file is the whole database.
SELECT 1;
