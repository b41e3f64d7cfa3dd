//! Tenants (deployment-wide rows) and the routing from a directory id to its tenant. Data
//! owned by a tenant is reached only through [`Store::tenant`].

use crate::action::on_open;
use chrono::{DateTime, Utc};

use crate::ids::{DirectoryId, TenantId, TenantSlug};

/// What a SCIM request's bearer token opens: its tenant, the token, the directory and the
/// directory's custom schema extensions.
#[derive(Debug, Clone)]
pub struct DirectoryAccess {
    pub tenant: TenantId,
    pub token: crate::TokenRecord,
    /// The token is the wizard self-test's (see [`crate::NewToken::self_test`]).
    pub self_test: bool,
    pub directory: crate::Directory,
    pub extensions: Vec<crate::SchemaExtension>,
}
use crate::scope::TenantScope;
use crate::{Store, StoreError};

/// One of the operator's customers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: TenantSlug,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
}

/// A tenant with the size of its setup, for the operator's tenant list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSummary {
    pub tenant: Tenant,
    pub directory_count: i64,
}

impl Store {
    /// The only way to reach a tenant's data: every query of the returned scope is bound
    /// to `tenant`.
    pub fn tenant(&self, tenant: TenantId) -> TenantScope<'_> {
        TenantScope::new(self, tenant)
    }

    pub async fn tenant_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        const QUERY: &str = "SELECT id, display_name, created_at FROM tenants WHERE slug = $1";
        let row: Option<(TenantId, String, DateTime<Utc>)> =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).bind(slug.as_str()).fetch_optional(pool).await?);
        Ok(row.map(|(id, display_name, created_at)| Tenant { id, slug: slug.clone(), display_name, created_at }))
    }

    pub async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, StoreError> {
        const QUERY: &str = "SELECT slug, display_name, created_at FROM tenants WHERE id = $1";
        let row: Option<(String, String, DateTime<Utc>)> =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).bind(id).fetch_optional(pool).await?);
        row.map(|(slug, display_name, created_at)| {
            let slug = TenantSlug::parse(&slug).map_err(|e| StoreError::Corrupt(format!("tenant {id}: {e}")))?;
            Ok(Tenant { id, slug, display_name, created_at })
        })
        .transpose()
    }

    /// The tenants that keep their audit trail for a limited time: (tenant, days).
    pub async fn audit_retention_settings(&self) -> Result<Vec<(TenantId, u32)>, StoreError> {
        const QUERY: &str = "SELECT id, audit_retention_days FROM tenants WHERE audit_retention_days IS NOT NULL";
        let rows: Vec<(TenantId, i32)> = on_pool!(&self.pool, pool => sqlx::query_as(QUERY).fetch_all(pool).await?);
        Ok(rows.into_iter().filter_map(|(tenant, days)| u32::try_from(days).ok().map(|days| (tenant, days))).collect())
    }

    /// Every tenant, newest first, with its number of directories. An operator view across
    /// tenants: it reads only the tenant rows and counts, never a tenant's directory data.
    pub async fn tenant_summaries(&self) -> Result<Vec<TenantSummary>, StoreError> {
        const QUERY: &str = "SELECT t.id, t.slug, t.display_name, t.created_at, \
             (SELECT COUNT(*) FROM directories d WHERE d.tenant_id = t.id AND d.deleted_at IS NULL) AS directory_count \
             FROM tenants t ORDER BY t.created_at DESC, t.id DESC";
        let rows: Vec<(TenantId, String, String, DateTime<Utc>, i64)> =
            on_pool!(&self.pool, pool => sqlx::query_as(QUERY).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(id, slug, display_name, created_at, directory_count)| {
                let slug = TenantSlug::parse(&slug).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(TenantSummary { tenant: Tenant { id, slug, display_name, created_at }, directory_count })
            })
            .collect()
    }

    /// The tenant that owns a directory, or `None` for an unknown directory. SCIM requests
    /// name only the directory; this finds the scope for everything else they touch.
    pub async fn directory_owner(&self, directory: DirectoryId) -> Result<Option<TenantId>, StoreError> {
        const QUERY: &str = "SELECT tenant_id FROM directory_routes WHERE directory_id = $1";
        Ok(on_pool!(&self.pool, pool => sqlx::query_scalar(QUERY).bind(directory).fetch_optional(pool).await?))
    }

    /// OAuth client credentials by client id, whatever the tenant (the token endpoint knows
    /// nothing else).
    pub async fn oauth_client(&self, client_id: &str) -> Result<Option<crate::OAuthClientRecord>, StoreError> {
        const QUERY: &str = "SELECT c.tenant_id, c.directory_id, c.secret_digest, c.previous_secret_digest, \
             c.previous_secret_until, c.revoked_at \
             FROM oauth_client_routes r \
             JOIN directory_oauth_clients c ON c.tenant_id = r.tenant_id AND c.client_id = r.client_id \
             WHERE r.client_id = $1";
        type Row = (TenantId, DirectoryId, Vec<u8>, Option<Vec<u8>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
        let row: Option<Row> =
            as_deployment!(self, conn => sqlx::query_as(QUERY).bind(client_id).fetch_optional(&mut *conn).await?);
        let corrupt = || StoreError::Corrupt(format!("client {client_id}: digest length"));
        row.map(|(tenant, directory, digest, previous, previous_secret_until, revoked_at)| {
            let secret_digest: [u8; 32] = digest.try_into().map_err(|_| corrupt())?;
            let previous_secret_digest = match previous {
                Some(previous) => Some(<[u8; 32]>::try_from(previous).map_err(|_| corrupt())?),
                None => None,
            };
            Ok(crate::OAuthClientRecord {
                tenant,
                directory,
                secret_digest,
                previous_secret_digest,
                previous_secret_until,
                revoked_at,
            })
        })
        .transpose()
    }

    /// The token of `directory` with this digest, with the directory, its custom schema
    /// extensions and its tenant, in one round trip: every SCIM request starts here, so it
    /// is one indexed join, not four queries. `None` when the directory or token is unknown.
    ///
    /// Found tokens are served from memory for a few seconds (see `access_cache`).
    pub async fn directory_token(
        &self,
        directory: DirectoryId,
        digest: &[u8; 32],
    ) -> Result<Option<DirectoryAccess>, StoreError> {
        if let Some(access) = self.access_cache.get(directory, digest) {
            return Ok(Some(access));
        }
        let generation = self.access_cache.generation();
        let access = self.read_directory_token(directory, digest).await?;
        if let Some(access) = &access {
            self.access_cache.insert(generation, digest, access);
        }
        Ok(access)
    }

    async fn read_directory_token(
        &self,
        directory: DirectoryId,
        digest: &[u8; 32],
    ) -> Result<Option<DirectoryAccess>, StoreError> {
        const EXTENSIONS_SQLITE: &str = "(SELECT json_group_array(json_array(e.urn, e.resource_type, e.required, \
             json(e.definition)) ORDER BY e.created_at, e.urn) FROM directory_schema_extensions e \
             WHERE e.tenant_id = r.tenant_id AND e.directory_id = r.directory_id)";
        const EXTENSIONS_POSTGRES: &str = "(SELECT COALESCE(jsonb_agg(jsonb_build_array(e.urn, e.resource_type, \
             e.required, e.definition) ORDER BY e.created_at, e.urn), '[]'::jsonb) FROM directory_schema_extensions e \
             WHERE e.tenant_id = r.tenant_id AND e.directory_id = r.directory_id)";
        let extensions = match self.backend() {
            crate::Backend::Sqlite => EXTENSIONS_SQLITE,
            crate::Backend::Postgres => EXTENSIONS_POSTGRES,
        };
        let query = format!(
            "SELECT r.tenant_id, t.id, t.label, t.read_only, t.created_at, t.expires_at, t.revoked_at, \
             t.last_used_at, t.self_test, d.idp, d.display_name, d.created_at, d.unknown_attributes, \
             d.rate_limit_per_second, d.nonhuman_extension, \
             {extensions} \
             FROM directory_routes r \
             JOIN directory_tokens t ON t.tenant_id = r.tenant_id AND t.directory_id = r.directory_id \
             JOIN directories d ON d.tenant_id = r.tenant_id AND d.id = r.directory_id AND d.deleted_at IS NULL \
             WHERE r.directory_id = $1 AND t.digest = $2"
        );
        type Row = (
            TenantId,
            crate::TokenId,
            String,
            bool,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            bool,
            String,
            String,
            DateTime<Utc>,
            String,
            i64,
            bool,
            sqlx::types::Json<serde_json::Value>,
        );
        let row: Option<Row> = as_deployment!(self, conn => sqlx::query_as(&query)
            .bind(directory)
            .bind(&digest[..])
            .fetch_optional(&mut *conn)
            .await?);
        let Some((
            tenant,
            id,
            label,
            read_only,
            created_at,
            expires_at,
            revoked_at,
            last_used_at,
            self_test,
            idp,
            name,
            since,
            unknown,
            limit,
            nonhuman,
            extensions,
        )) = row
        else {
            return Ok(None);
        };
        let token =
            crate::TokenRecord { id, directory, label, read_only, created_at, expires_at, revoked_at, last_used_at };
        let found = crate::scope::directory_from_row((directory, idp, name, since, unknown, limit, nonhuman))?;
        let extensions = extensions
            .0
            .as_array()
            .into_iter()
            .flatten()
            .map(|row| {
                let corrupt = || StoreError::Corrupt(format!("directory {directory}: a schema extension row"));
                let urn = row.get(0).and_then(serde_json::Value::as_str).ok_or_else(corrupt)?.to_owned();
                let kind = row.get(1).and_then(serde_json::Value::as_str).ok_or_else(corrupt)?;
                // SQLite has no booleans: `required` comes back as 0 or 1.
                let required = match row.get(2) {
                    Some(serde_json::Value::Bool(flag)) => *flag,
                    Some(serde_json::Value::Number(n)) => n.as_i64() == Some(1),
                    _ => return Err(corrupt()),
                };
                let definition = row.get(3).cloned().ok_or_else(corrupt)?;
                Ok(crate::SchemaExtension {
                    urn,
                    resource_type: crate::ResourceKind::parse(kind)?,
                    required,
                    definition,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(DirectoryAccess { tenant, token, self_test, directory: found, extensions }))
    }
}

impl crate::TenantAction<'_> {
    /// Adds the action's tenant (opened with `Store::tenant(tenant.id).begin_action()`), so
    /// that its first audit record is the record of its creation; a slug already in use is
    /// [`StoreError::Conflict`].
    pub async fn create_tenant(&mut self, tenant: &Tenant) -> Result<(), StoreError> {
        if tenant.id != self.tenant {
            return Err(StoreError::Corrupt("a tenant is created by an action of that tenant".to_owned()));
        }
        const QUERY: &str = "INSERT INTO tenants (id, slug, display_name, created_at) VALUES ($1, $2, $3, $4)";
        let result = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(tenant.id)
            .bind(tenant.slug.as_str())
            .bind(&tenant.display_name)
            .bind(tenant.created_at)
            .execute(&mut **tx)
            .await
            .map(drop));
        result.map_err(|error| StoreError::on_unique_violation(error, "a tenant with this name already exists"))
    }
}
