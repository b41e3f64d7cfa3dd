//! Tenants (deployment-wide rows) and the routing from a directory id to its tenant. Data
//! owned by a tenant is reached only through [`Store::tenant`].

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ids::{DirectoryId, TenantId, TenantSlug};
use crate::scope::TenantScope;
use crate::{Pool, Store, StoreError};

/// One of the operator's customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: TenantSlug,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// The only way to reach a tenant's data: every query of the returned scope is bound
    /// to `tenant`.
    pub fn tenant(&self, tenant: TenantId) -> TenantScope<'_> {
        TenantScope::new(self, tenant)
    }

    /// Adds a tenant; a slug already in use is [`StoreError::Conflict`].
    pub async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        const QUERY: &str = "INSERT INTO tenants (id, slug, display_name, created_at) VALUES ($1, $2, $3, $4)";
        let result = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query(QUERY)
                    .bind(tenant.id.to_string())
                    .bind(tenant.slug.as_str())
                    .bind(&tenant.display_name)
                    .bind(tenant.created_at)
                    .execute(pool)
                    .await
            }
            .map(drop),
            Pool::Postgres(pool) => {
                sqlx::query(QUERY)
                    .bind(tenant.id.as_uuid())
                    .bind(tenant.slug.as_str())
                    .bind(&tenant.display_name)
                    .bind(tenant.created_at)
                    .execute(pool)
                    .await
            }
            .map(drop),
        };
        result.map_err(|error| StoreError::on_unique_violation(error, "a tenant with this name already exists"))
    }

    pub async fn tenant_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        const QUERY: &str = "SELECT id, display_name, created_at FROM tenants WHERE slug = $1";
        let row: Option<(Uuid, String, DateTime<Utc>)> = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_as::<_, (String, String, DateTime<Utc>)>(QUERY)
                .bind(slug.as_str())
                .fetch_optional(pool)
                .await?
                .map(|(id, name, created)| Ok::<_, StoreError>((parse_uuid(&id)?, name, created)))
                .transpose()?,
            Pool::Postgres(pool) => sqlx::query_as(QUERY).bind(slug.as_str()).fetch_optional(pool).await?,
        };
        Ok(row.map(|(id, display_name, created_at)| Tenant {
            id: id.into(),
            slug: slug.clone(),
            display_name,
            created_at,
        }))
    }

    /// The tenant that owns a directory, or `None` for an unknown directory. SCIM requests
    /// name only the directory; this finds the scope for everything else they touch.
    pub async fn directory_owner(&self, directory: DirectoryId) -> Result<Option<TenantId>, StoreError> {
        const QUERY: &str = "SELECT tenant_id FROM directory_routes WHERE directory_id = $1";
        Ok(match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_scalar::<_, String>(QUERY)
                .bind(directory.to_string())
                .fetch_optional(pool)
                .await?
                .map(|id| parse_uuid(&id))
                .transpose()?,
            Pool::Postgres(pool) => sqlx::query_scalar(QUERY).bind(directory.as_uuid()).fetch_optional(pool).await?,
        }
        .map(TenantId::from))
    }
}

/// A tenant with the size of its setup, for the operator's tenant list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSummary {
    pub tenant: Tenant,
    pub directory_count: i64,
}

impl Store {
    /// Every tenant, newest first, with its number of directories. An operator view across
    /// tenants: it reads only the tenant rows and counts, never a tenant's directory data.
    pub async fn tenant_summaries(&self) -> Result<Vec<TenantSummary>, StoreError> {
        const QUERY: &str = "SELECT t.id, t.slug, t.display_name, t.created_at, \
             (SELECT COUNT(*) FROM directories d WHERE d.tenant_id = t.id) AS directory_count \
             FROM tenants t ORDER BY t.created_at DESC, t.id DESC";
        let rows: Vec<(Uuid, String, String, DateTime<Utc>, i64)> = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_as::<_, (String, String, String, DateTime<Utc>, i64)>(QUERY)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|(id, slug, name, created, count)| Ok((parse_uuid(&id)?, slug, name, created, count)))
                .collect::<Result<_, StoreError>>()?,
            Pool::Postgres(pool) => sqlx::query_as(QUERY).fetch_all(pool).await?,
        };
        rows.into_iter()
            .map(|(id, slug, display_name, created_at, directory_count)| {
                let slug = TenantSlug::parse(&slug).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(TenantSummary { tenant: Tenant { id: id.into(), slug, display_name, created_at }, directory_count })
            })
            .collect()
    }
}

/// SQLite keeps UUIDs as text.
pub(crate) fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|error| StoreError::Corrupt(format!("stored id {text:?}: {error}")))
}
