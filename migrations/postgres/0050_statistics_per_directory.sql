-- Keep the planner's statistics of the SCIM tables current as directories grow.
--
-- Every statement of these tables narrows by (tenant_id, directory_id) and then by the
-- column it looks up. Without statistics that know a directory (a fresh deployment's first
-- minute, or a directory loaded after the table's last analysis, which autovacuum runs
-- only once 10% of a table has changed: 100,000 rows of a table of a million), the
-- planner guesses that tenant and directory alone leave a row or less, so every index
-- starting with them looks as good as the one that fits, and it picked for instance the
-- userName index to read a user by id, walking the whole directory for each read (seen
-- on PostgreSQL 15 right after loading 2,000 users: gets by id 1,188/s at p99 85 ms,
-- then 7,000/s once analysed). Analysing after a fixed number of changed rows, whatever
-- the table's size, bounds that window by autovacuum's nap (a minute by default); a
-- sample of 30,000 rows costs the same at any size, and autovacuum analyses a table at
-- most once per nap.
ALTER TABLE scim_resources SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000);
ALTER TABLE scim_resource_values SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000);
ALTER TABLE scim_members SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000);
ALTER TABLE directory_changes SET (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000);

-- A directory belongs to one tenant: without this the planner multiplies the selectivity
-- of `tenant_id = …` and `directory_id = …` as if independent, and believes a directory
-- smaller than it is by the tenant's share of the table.
CREATE STATISTICS scim_resources_directory (dependencies) ON tenant_id, directory_id FROM scim_resources;
CREATE STATISTICS scim_resource_values_directory (dependencies) ON tenant_id, directory_id FROM scim_resource_values;
CREATE STATISTICS scim_members_directory (dependencies) ON tenant_id, directory_id FROM scim_members;
CREATE STATISTICS directory_changes_directory (dependencies) ON tenant_id, directory_id FROM directory_changes;
