-- The groups of a user (every `GET /Users/{id}` and user listing reads them) come from
-- this index. It now carries `group_id` as well, so that it covers those reads: SQLite's
-- planner preferred the covering primary key (tenant, directory, group, member), narrowed
-- by tenant and directory only, whenever it had no statistics of `scim_members` (a new
-- deployment, or statistics gathered while the table was empty), and then read every
-- membership of the directory for each user.
DROP INDEX scim_members_member;
CREATE INDEX scim_members_member ON scim_members (tenant_id, directory_id, member_id, group_id);
