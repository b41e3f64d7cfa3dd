-- PostgreSQL gets a function in this migration that answers an identity provider's
-- `userName eq` or `externalId eq` probe in a single round trip under row-level security.
-- SQLite has no row-level security and no round trips to save. This file keeps the
-- migration numbers of both backends aligned.
SELECT 1;
