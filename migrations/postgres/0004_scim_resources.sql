-- SCIM resources (users and groups) of a directory, their group memberships, and the
-- per-directory change log (the outbox the audit trail and the event feed read).
-- Tenant-owned: every key starts with (tenant_id, directory_id), the Citus distribution
-- column being tenant_id.

-- Per-directory settings of the SCIM endpoint.
ALTER TABLE directories
    -- What to do with attributes no schema of the directory defines: 'preserve' keeps them
    -- (reported as unmapped), 'strict' rejects the request naming the attribute.
    ADD COLUMN unknown_attributes TEXT NOT NULL DEFAULT 'preserve' CHECK (unknown_attributes IN ('preserve', 'strict')),
    -- Sustained SCIM requests per second before 429 (Entra peaks near 17/s; see README).
    ADD COLUMN rate_limit_per_second BIGINT NOT NULL DEFAULT 500 CHECK (rate_limit_per_second > 0),
    -- The sequence number of the newest change of this directory. Every write bumps it
    -- first, which row-locks the directory until commit: writers of one directory are
    -- serialised and their changes numbered without gaps in commit order.
    ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE scim_resources (
    tenant_id     UUID NOT NULL,
    directory_id  UUID NOT NULL,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    -- Text columns compared by filters use COLLATE "C": code-point order and equality,
    -- whatever the database's locale, and the indexes below agree with the queries.
    id            TEXT COLLATE "C" NOT NULL,          -- UUIDv7 as text, the SCIM `id`
    -- userName of a user, displayName of a group; `_folded` is Rust's Unicode
    -- lower-casing of it (lower() depends on the database's locale).
    name          TEXT COLLATE "C" NOT NULL,
    name_folded   TEXT COLLATE "C" NOT NULL,
    external_id   TEXT COLLATE "C",
    -- The resource as JSON with canonical attribute names, without id, meta, a user's
    -- groups and a group's members (those two live in scim_members).
    doc           JSONB NOT NULL,
    -- The same document with every string value lower-cased, for case-insensitive filters.
    doc_folded    JSONB NOT NULL,
    version       BIGINT NOT NULL,                    -- meta.version, bumped by every write
    created_at    TIMESTAMPTZ NOT NULL,
    last_modified TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, id),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);
-- userName is unique per directory, ignoring case (RFC 7643 §4.1.1, "server" uniqueness).
CREATE UNIQUE INDEX scim_resources_user_name ON scim_resources (tenant_id, directory_id, name_folded)
    WHERE resource_type = 'User';
-- The probes identity providers send before they create: `userName eq`, `displayName eq`,
-- `externalId eq`, and incremental reads by `meta.lastModified gt`; listing in id order.
-- The probe indexes end with id, so an equality probe also yields its rows in listing
-- order and the planner never prefers scanning the listing index for the ORDER BY.
CREATE INDEX scim_resources_name ON scim_resources (tenant_id, directory_id, resource_type, name_folded, id);
CREATE INDEX scim_resources_external_id ON scim_resources (tenant_id, directory_id, resource_type, external_id, id);
CREATE INDEX scim_resources_last_modified ON scim_resources (tenant_id, directory_id, resource_type, last_modified, id);
CREATE INDEX scim_resources_listing ON scim_resources (tenant_id, directory_id, resource_type, id);

-- Group memberships. A member is a user or a group of the same directory (the foreign
-- keys enforce it); deleting either side removes the membership.
CREATE TABLE scim_members (
    tenant_id    UUID NOT NULL,
    directory_id UUID NOT NULL,
    group_id     TEXT COLLATE "C" NOT NULL,
    member_id    TEXT COLLATE "C" NOT NULL,
    member_type  TEXT NOT NULL CHECK (member_type IN ('User', 'Group')),
    PRIMARY KEY (tenant_id, directory_id, group_id, member_id),
    FOREIGN KEY (tenant_id, directory_id, group_id) REFERENCES scim_resources (tenant_id, directory_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, directory_id, member_id) REFERENCES scim_resources (tenant_id, directory_id, id) ON DELETE CASCADE
);
-- A user's groups (the `groups` attribute) and the cascade on delete.
CREATE INDEX scim_members_member ON scim_members (tenant_id, directory_id, member_id);

-- Every change of a directory, written in the transaction that makes it: the outbox that
-- the audit trail and the event feed read, so neither can miss an acknowledged change.
CREATE TABLE directory_changes (
    tenant_id     UUID NOT NULL,
    directory_id  UUID NOT NULL,
    seq           BIGINT NOT NULL,                    -- 1, 2, 3… per directory, in commit order
    id            UUID NOT NULL,                      -- UUIDv7: the event id consumers deduplicate on
    kind          TEXT NOT NULL,                      -- user.created, group.member_added, …
    resource_type TEXT NOT NULL CHECK (resource_type IN ('User', 'Group')),
    resource_id   TEXT NOT NULL,
    -- Who: 'token:<id>' for a SCIM client, 'operator:<id>' for a person.
    actor         TEXT NOT NULL,
    occurred_at   TIMESTAMPTZ NOT NULL,
    -- The resource after the change (for deletions: its id), or the members added/removed.
    data          JSONB NOT NULL,
    PRIMARY KEY (tenant_id, directory_id, seq),
    FOREIGN KEY (tenant_id, directory_id) REFERENCES directories (tenant_id, id) ON DELETE CASCADE
);
