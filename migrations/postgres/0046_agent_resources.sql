-- Agents and agentic applications (draft-abbey-scim-agent-extension-00, issue 20): two
-- more SCIM resource types, `Agent` at `/Agents` and `AgenticApplication` at
-- `/AgenticApplications`, served where a directory offers non-human identities. They are
-- resources like users and groups: the same table, versions, change records and audit.
ALTER TABLE scim_resources DROP CONSTRAINT scim_resources_resource_type_check;
ALTER TABLE scim_resources ADD CONSTRAINT scim_resources_resource_type_check
    CHECK (resource_type IN ('User', 'Group', 'Agent', 'AgenticApplication'));
ALTER TABLE directory_changes DROP CONSTRAINT directory_changes_resource_type_check;
ALTER TABLE directory_changes ADD CONSTRAINT directory_changes_resource_type_check
    CHECK (resource_type IN ('User', 'Group', 'Agent', 'AgenticApplication', 'Directory'));
-- An agent's `name` and an application's `name` are unique per directory and type,
-- ignoring case (the draft's `uniqueness: server`), as a user's userName is.
CREATE UNIQUE INDEX scim_resources_agent_name ON scim_resources (tenant_id, directory_id, resource_type, name_folded)
    WHERE resource_type IN ('Agent', 'AgenticApplication');
