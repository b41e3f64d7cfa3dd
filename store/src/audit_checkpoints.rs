//! Signed checkpoints of a tenant's audit chain (migration 0036): the chain's head at a
//! time, signed by the service with a key the database never holds. The store keeps and
//! reads them; signing and checking are the service's (`service::audit_checkpoints`).

use chrono::{DateTime, Utc};

use crate::audit::hash_from;
use crate::{StoreError, TenantId, TenantScope};

/// One signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheckpoint {
    pub tenant: TenantId,
    /// The chain's last sequence number when it was signed…
    pub seq: i64,
    /// …and that record's hash.
    pub hash: [u8; 32],
    pub signed_at: DateTime<Utc>,
    /// `periodic`, `before_prune` or `after_prune`.
    pub reason: String,
    /// The signing key's public half, base64.
    pub public_key: String,
    /// Ed25519 over the checkpoint's message, base64.
    pub signature: String,
}

type CheckpointRow = (TenantId, i64, Vec<u8>, DateTime<Utc>, String, String, String);

const COLUMNS: &str = "tenant_id, seq, hash, signed_at, reason, public_key, signature";

fn from_row(
    (tenant, seq, hash, signed_at, reason, public_key, signature): CheckpointRow,
) -> Result<AuditCheckpoint, StoreError> {
    Ok(AuditCheckpoint { tenant, seq, hash: hash_from(hash)?, signed_at, reason, public_key, signature })
}

impl TenantScope<'_> {
    /// The tenant's checkpoints, oldest first (at most `limit`, from after `after_seq`).
    pub async fn audit_checkpoints(&self, after_seq: i64, limit: i64) -> Result<Vec<AuditCheckpoint>, StoreError> {
        let query =
            format!("SELECT {COLUMNS} FROM audit_checkpoints WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
        let rows: Vec<CheckpointRow> = as_tenant!(self, conn => sqlx::query_as(&query)
            .bind(self.tenant)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter().map(from_row).collect()
    }

    /// The tenant's newest checkpoint.
    pub async fn latest_audit_checkpoint(&self) -> Result<Option<AuditCheckpoint>, StoreError> {
        let query = format!("SELECT {COLUMNS} FROM audit_checkpoints WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1");
        let row: Option<CheckpointRow> =
            as_tenant!(self, conn => sqlx::query_as(&query).bind(self.tenant).fetch_optional(&mut *conn).await?);
        row.map(from_row).transpose()
    }

    /// Keeps a checkpoint; `false` when one of that sequence number is kept already.
    pub async fn save_audit_checkpoint(&self, checkpoint: &AuditCheckpoint) -> Result<bool, StoreError> {
        let query = format!(
            "INSERT INTO audit_checkpoints ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant_id, seq) DO NOTHING"
        );
        let inserted = writing_as_tenant!(self, conn => sqlx::query(&query)
            .bind(self.tenant)
            .bind(checkpoint.seq)
            .bind(checkpoint.hash.to_vec())
            .bind(checkpoint.signed_at)
            .bind(&checkpoint.reason)
            .bind(&checkpoint.public_key)
            .bind(&checkpoint.signature)
            .execute(&mut *conn)
            .await?
            .rows_affected());
        Ok(inserted == 1)
    }

    /// The hash the chain has at `seq` now: the record's, or the kept start's when the
    /// records up to `seq` were pruned and `seq` is where the kept part starts. `None`:
    /// no record of that number is kept (pruned before the start, or never written).
    pub async fn audit_hash_at(&self, seq: i64) -> Result<Option<[u8; 32]>, StoreError> {
        const QUERY: &str = "SELECT hash FROM audit_records WHERE tenant_id = $1 AND seq = $2";
        let hash: Option<Vec<u8>> = as_tenant!(self, conn => sqlx::query_scalar(QUERY)
            .bind(self.tenant)
            .bind(seq)
            .fetch_optional(&mut *conn)
            .await?);
        if let Some(hash) = hash {
            return hash_from(hash).map(Some);
        }
        let (start_seq, start_hash) = self.audit_start().await?;
        Ok((start_seq == seq && seq > 0).then_some(start_hash))
    }
}

impl crate::Store {
    /// Every tenant's id (for jobs that visit each tenant, such as signing checkpoints).
    pub async fn tenant_ids(&self) -> Result<Vec<TenantId>, StoreError> {
        const QUERY: &str = "SELECT id FROM tenants ORDER BY id";
        Ok(on_pool!(&self.pool, pool => sqlx::query_scalar(QUERY).fetch_all(pool).await?))
    }
}
