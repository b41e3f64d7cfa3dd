-- How many days a tenant keeps its audit trail; older records are deleted by the retention
-- job (which records that it did, in the same trail). NULL: kept forever.
ALTER TABLE tenants ADD COLUMN audit_retention_days INTEGER CHECK (audit_retention_days IS NULL OR audit_retention_days >= 1);

-- Where the kept part of a tenant's chain starts once old records are deleted: the
-- sequence number and hash of the last deleted record (0 and 32 zero bytes before any
-- deletion). Verification links the first kept record to this hash.
ALTER TABLE audit_chain_heads ADD COLUMN pruned_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_chain_heads ADD COLUMN pruned_hash BLOB NOT NULL
    DEFAULT X'0000000000000000000000000000000000000000000000000000000000000000' CHECK (length(pruned_hash) = 32);
