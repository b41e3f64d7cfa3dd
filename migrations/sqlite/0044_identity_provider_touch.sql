-- When an identity provider last wrote each resource (issue 20: the stale-user report):
-- set by every create or change a SCIM client's token makes, left alone by the system's
-- writes (the non-human identity sweeper, a discarded held batch) and by the portal. NULL
-- for rows written before this column existed, which the report reads as their
-- `last_modified`. No index: the report is an admin's occasional read of one directory.
ALTER TABLE scim_resources ADD COLUMN idp_touched_at TEXT;
