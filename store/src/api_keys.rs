//! Keys of the operator API: deployment-wide credentials of the vendor's own product.

use chrono::{DateTime, Utc};

use crate::ids::ApiKeyId;
use crate::{Store, StoreError};

/// A key to store; the key itself is never stored, only its SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub digest: [u8; 32],
    pub label: String,
    pub created_at: DateTime<Utc>,
}

/// A stored key, as authentication sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn insert_api_key(&self, key: &NewApiKey) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO operator_api_keys (id, digest, label, created_at) VALUES ($1, $2, $3, $4)";
        let result = on_pool!(&self.pool, pool => sqlx::query(QUERY)
            .bind(key.id)
            .bind(&key.digest[..])
            .bind(&key.label)
            .bind(key.created_at)
            .execute(pool)
            .await
            .map(drop));
        result.map_err(|error| StoreError::on_unique_violation(error, "this API key is already stored"))
    }

    /// The key with this digest, revoked or not.
    pub async fn api_key_by_digest(&self, digest: &[u8; 32]) -> Result<Option<ApiKeyRecord>, StoreError> {
        const QUERY: &str =
            "SELECT id, label, created_at, revoked_at, last_used_at FROM operator_api_keys WHERE digest = $1";
        type Row = (ApiKeyId, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let row: Option<Row> =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).bind(&digest[..]).fetch_optional(pool).await?);
        Ok(row.map(|(id, label, created_at, revoked_at, last_used_at)| ApiKeyRecord {
            id,
            label,
            created_at,
            revoked_at,
            last_used_at,
        }))
    }

    pub async fn mark_api_key_used(&self, key: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        const QUERY: &str = "UPDATE operator_api_keys SET last_used_at = $1 WHERE id = $2";
        on_pool!(&self.pool, pool => sqlx::query(QUERY).bind(at).bind(key).execute(pool).await.map(drop)?);
        Ok(())
    }

    /// Revokes a key at `at` (the first revocation time stays); false when there is none.
    pub async fn revoke_api_key(&self, key: ApiKeyId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE operator_api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2";
        let updated =
            on_pool!(&self.pool, pool => sqlx::query(QUERY).bind(at).bind(key).execute(pool).await?.rows_affected());
        Ok(updated == 1)
    }
}
