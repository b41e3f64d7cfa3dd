//! Keys of the operator API: deployment-wide credentials of the vendor's own product, each
//! reaching the areas of the API it was given (migration 0032), until it expires or is
//! revoked.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::ids::ApiKeyId;
use crate::{Store, StoreError};

/// A key to store; the key itself is never stored, only its SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub id: ApiKeyId,
    pub digest: [u8; 32],
    pub label: String,
    /// The areas of the API it reaches (`tenants`, `directory_data`, ...).
    pub areas: Vec<String>,
    /// GET only.
    pub read_only: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A stored key, as authentication and the key lists see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub label: String,
    pub areas: Vec<String>,
    pub read_only: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, label, areas, read_only, created_at, expires_at, revoked_at, last_used_at";

type Row = (
    ApiKeyId,
    String,
    Json<Vec<String>>,
    bool,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn from_row(row: Row) -> ApiKeyRecord {
    let (id, label, Json(areas), read_only, created_at, expires_at, revoked_at, last_used_at) = row;
    ApiKeyRecord { id, label, areas, read_only, created_at, expires_at, revoked_at, last_used_at }
}

impl Store {
    pub async fn insert_api_key(&self, key: &NewApiKey) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO operator_api_keys (id, digest, label, areas, read_only, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let result = writing_on_pool!(self, pool => sqlx::query(QUERY)
            .bind(key.id)
            .bind(&key.digest[..])
            .bind(&key.label)
            .bind(Json(&key.areas))
            .bind(key.read_only)
            .bind(key.expires_at)
            .bind(key.created_at)
            .execute(pool)
            .await
            .map(drop));
        result.map_err(|error| StoreError::on_unique_violation(error, "this API key is already stored"))
    }

    /// The key with this digest, revoked or not.
    pub async fn api_key_by_digest(&self, digest: &[u8; 32]) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM operator_api_keys WHERE digest = $1");
        let row: Option<Row> =
            on_pool!(&self.pool, pool => sqlx::query_as(&sql).bind(&digest[..]).fetch_optional(pool).await?);
        Ok(row.map(from_row))
    }

    /// One key, revoked or not.
    pub async fn api_key(&self, id: ApiKeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM operator_api_keys WHERE id = $1");
        let row: Option<Row> = on_pool!(&self.pool, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        Ok(row.map(from_row))
    }

    /// Every key, revoked and expired ones included, newest first.
    pub async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM operator_api_keys ORDER BY created_at DESC, id DESC");
        let rows: Vec<Row> = on_pool!(&self.pool, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(from_row).collect())
    }

    pub async fn mark_api_key_used(&self, key: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        const QUERY: &str = "UPDATE operator_api_keys SET last_used_at = $1 WHERE id = $2";
        writing_on_pool!(self, pool => sqlx::query(QUERY).bind(at).bind(key).execute(pool).await.map(drop)?);
        Ok(())
    }

    /// Revokes a key at `at`; false when there is none or it was revoked already (the
    /// first revocation time stays).
    pub async fn revoke_api_key(&self, key: ApiKeyId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE operator_api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        let updated =
            writing_on_pool!(self, pool => sqlx::query(QUERY).bind(at).bind(key).execute(pool).await?.rows_affected());
        Ok(updated == 1)
    }
}
