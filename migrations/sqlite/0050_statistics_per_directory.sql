-- PostgreSQL gets autovacuum settings and extended statistics in this migration, so that
-- its planner knows a directory once it has grown. The SQLite store analyses its tables
-- itself (`PRAGMA optimize` as connections close) and plans each statement once (see
-- `.cargo/config.toml`). This file keeps the migration numbers of both backends aligned.
SELECT 1;
