//! The tenant scope: the only door to tenant-owned data. It carries the tenant id and puts
//! it into every query it runs, so a query without a tenant cannot be written outside this
//! crate (and the pools never leave it).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ids::{DirectoryId, IdentityProvider, TenantId, TokenId};
use crate::tenants::parse_uuid;
use crate::{Pool, Store, StoreError};

/// Access to one tenant's data.
#[derive(Debug, Clone, Copy)]
pub struct TenantScope<'a> {
    store: &'a Store,
    tenant: TenantId,
}

/// A directory: one identity-provider connection of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    pub id: DirectoryId,
    pub idp: IdentityProvider,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}

/// A bearer token to store. The token itself is never stored, only its SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub id: TokenId,
    pub directory: DirectoryId,
    pub digest: [u8; 32],
    pub label: String,
    pub read_only: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A stored token, as authentication and the tokens page see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub directory: DirectoryId,
    pub label: String,
    pub read_only: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

type TokenRow<Id> =
    (Id, String, bool, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

impl<'a> TenantScope<'a> {
    pub(crate) fn new(store: &'a Store, tenant: TenantId) -> Self {
        Self { store, tenant }
    }

    pub fn tenant_id(&self) -> TenantId {
        self.tenant
    }

    /// Adds a directory and its route in one transaction.
    pub async fn create_directory(&self, directory: &Directory) -> Result<(), StoreError> {
        const INSERT: &str =
            "INSERT INTO directories (tenant_id, id, idp, display_name, created_at) VALUES ($1, $2, $3, $4, $5)";
        const ROUTE: &str = "INSERT INTO directory_routes (directory_id, tenant_id) VALUES ($1, $2)";
        match &self.store.pool {
            Pool::Sqlite(pool) => {
                let (tenant, id) = (self.tenant.to_string(), directory.id.to_string());
                let mut tx = pool.begin().await?;
                sqlx::query(INSERT)
                    .bind(&tenant)
                    .bind(&id)
                    .bind(directory.idp.as_str())
                    .bind(&directory.display_name)
                    .bind(directory.created_at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(ROUTE).bind(&id).bind(&tenant).execute(&mut *tx).await?;
                tx.commit().await?;
            }
            Pool::Postgres(pool) => {
                let (tenant, id) = (self.tenant.as_uuid(), directory.id.as_uuid());
                let mut tx = pool.begin().await?;
                sqlx::query(INSERT)
                    .bind(tenant)
                    .bind(id)
                    .bind(directory.idp.as_str())
                    .bind(&directory.display_name)
                    .bind(directory.created_at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(ROUTE).bind(id).bind(tenant).execute(&mut *tx).await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// The tenant's directory with this id; another tenant's directory is `None`.
    pub async fn directory(&self, id: DirectoryId) -> Result<Option<Directory>, StoreError> {
        const QUERY: &str = "SELECT idp, display_name, created_at FROM directories WHERE tenant_id = $1 AND id = $2";
        let row: Option<(String, String, DateTime<Utc>)> = match &self.store.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as(QUERY).bind(self.tenant.to_string()).bind(id.to_string()).fetch_optional(pool).await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(QUERY).bind(self.tenant.as_uuid()).bind(id.as_uuid()).fetch_optional(pool).await?
            }
        };
        row.map(|(idp, display_name, created_at)| {
            let idp = idp.parse().map_err(|e| StoreError::Corrupt(format!("directory {id}: {e}")))?;
            Ok(Directory { id, idp, display_name, created_at })
        })
        .transpose()
    }

    /// The tenant's directories, oldest first.
    pub async fn directories(&self) -> Result<Vec<Directory>, StoreError> {
        const QUERY: &str = "SELECT id, idp, display_name, created_at FROM directories \
             WHERE tenant_id = $1 ORDER BY created_at, id";
        let rows: Vec<(Uuid, String, String, DateTime<Utc>)> = match &self.store.pool {
            Pool::Sqlite(pool) => sqlx::query_as::<_, (String, String, String, DateTime<Utc>)>(QUERY)
                .bind(self.tenant.to_string())
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|(id, idp, name, created)| Ok((parse_uuid(&id)?, idp, name, created)))
                .collect::<Result<_, StoreError>>()?,
            Pool::Postgres(pool) => sqlx::query_as(QUERY).bind(self.tenant.as_uuid()).fetch_all(pool).await?,
        };
        rows.into_iter()
            .map(|(id, idp, display_name, created_at)| {
                let idp = idp.parse().map_err(|e| StoreError::Corrupt(format!("directory {id}: {e}")))?;
                Ok(Directory { id: id.into(), idp, display_name, created_at })
            })
            .collect()
    }

    /// Stores a token of one of the tenant's directories.
    pub async fn insert_token(&self, token: &NewToken) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO directory_tokens \
             (tenant_id, directory_id, id, digest, label, read_only, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let result = match &self.store.pool {
            Pool::Sqlite(pool) => sqlx::query(QUERY)
                .bind(self.tenant.to_string())
                .bind(token.directory.to_string())
                .bind(token.id.to_string())
                .bind(&token.digest[..])
                .bind(&token.label)
                .bind(token.read_only)
                .bind(token.created_at)
                .bind(token.expires_at)
                .execute(pool)
                .await
                .map(drop),
            Pool::Postgres(pool) => sqlx::query(QUERY)
                .bind(self.tenant.as_uuid())
                .bind(token.directory.as_uuid())
                .bind(token.id.as_uuid())
                .bind(&token.digest[..])
                .bind(&token.label)
                .bind(token.read_only)
                .bind(token.created_at)
                .bind(token.expires_at)
                .execute(pool)
                .await
                .map(drop),
        };
        result.map_err(|error| StoreError::on_unique_violation(error, "this token is already stored"))
    }

    /// The token of `directory` whose digest this is, whatever its state (the caller decides
    /// what expired or revoked means at its own time).
    pub async fn token_by_digest(
        &self,
        directory: DirectoryId,
        digest: &[u8; 32],
    ) -> Result<Option<TokenRecord>, StoreError> {
        const QUERY: &str = "SELECT id, label, read_only, created_at, expires_at, revoked_at, last_used_at \
             FROM directory_tokens WHERE tenant_id = $1 AND directory_id = $2 AND digest = $3";
        let row: Option<TokenRow<Uuid>> = match &self.store.pool {
            Pool::Sqlite(pool) => sqlx::query_as::<_, TokenRow<String>>(QUERY)
                .bind(self.tenant.to_string())
                .bind(directory.to_string())
                .bind(&digest[..])
                .fetch_optional(pool)
                .await?
                .map(|(id, label, read_only, created, expires, revoked, used)| {
                    Ok::<_, StoreError>((parse_uuid(&id)?, label, read_only, created, expires, revoked, used))
                })
                .transpose()?,
            Pool::Postgres(pool) => {
                sqlx::query_as(QUERY)
                    .bind(self.tenant.as_uuid())
                    .bind(directory.as_uuid())
                    .bind(&digest[..])
                    .fetch_optional(pool)
                    .await?
            }
        };
        Ok(row.map(|(id, label, read_only, created_at, expires_at, revoked_at, last_used_at)| TokenRecord {
            id: id.into(),
            directory,
            label,
            read_only,
            created_at,
            expires_at,
            revoked_at,
            last_used_at,
        }))
    }

    /// Records that a token was used at `at`.
    pub async fn mark_token_used(&self, token: TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
        const QUERY: &str = "UPDATE directory_tokens SET last_used_at = $1 WHERE tenant_id = $2 AND id = $3";
        match &self.store.pool {
            Pool::Sqlite(pool) => {
                sqlx::query(QUERY).bind(at).bind(self.tenant.to_string()).bind(token.to_string()).execute(pool).await?
            }
            .rows_affected(),
            Pool::Postgres(pool) => {
                { sqlx::query(QUERY).bind(at).bind(self.tenant.as_uuid()).bind(token.as_uuid()).execute(pool).await? }
                    .rows_affected()
            }
        };
        Ok(())
    }

    /// Revokes a token at `at`; returns whether the tenant had such a token.
    pub async fn revoke_token(&self, token: TokenId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        const QUERY: &str = "UPDATE directory_tokens SET revoked_at = COALESCE(revoked_at, $1) \
             WHERE tenant_id = $2 AND id = $3";
        let changed = match &self.store.pool {
            Pool::Sqlite(pool) => {
                sqlx::query(QUERY).bind(at).bind(self.tenant.to_string()).bind(token.to_string()).execute(pool).await?
            }
            .rows_affected(),
            Pool::Postgres(pool) => {
                { sqlx::query(QUERY).bind(at).bind(self.tenant.as_uuid()).bind(token.as_uuid()).execute(pool).await? }
                    .rows_affected()
            }
        };
        Ok(changed == 1)
    }
}
