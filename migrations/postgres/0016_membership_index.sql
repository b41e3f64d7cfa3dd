-- The groups of a user (every `GET /Users/{id}` and user listing reads them) come from
-- this index. It now carries `group_id` as well, so that it covers those reads (an
-- index-only scan), as on SQLite, where the narrower index lost to the primary key.
DROP INDEX scim_members_member;
CREATE INDEX scim_members_member ON scim_members (tenant_id, directory_id, member_id, group_id);
