//! The stale-user report (issue 20): the active users of a directory that its identity
//! provider has not written for a while, although it kept writing others. A person removed
//! from the app in the identity provider whose deprovisioning never arrived looks like
//! this. Reads `idp_touched_at` (migration 0044; `last_modified` for older rows).

use chrono::{DateTime, Utc};

use crate::ids::DirectoryId;
use crate::{Backend, SELF_TEST_ID_PREFIX, StoreError, TenantScope};

/// An active user the identity provider last wrote at `touched_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleUser {
    pub id: String,
    pub user_name: String,
    pub touched_at: DateTime<Utc>,
    /// The resource's version when read: a deactivation applies only to this version.
    pub version: i64,
}

/// What the report found in one directory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaleUsers {
    /// When the identity provider last wrote any user of the directory.
    pub last_identity_provider_write: Option<DateTime<Utc>>,
    /// How many active users it has not written since the cut-off.
    pub total: i64,
    /// The first of them (at most the limit asked for), least recently written first.
    pub users: Vec<StaleUser>,
}

/// When the identity provider last wrote a row.
const TOUCHED: &str = "COALESCE(idp_touched_at, last_modified)";

fn active(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "COALESCE(json_extract(doc, '$.active'), 1) <> 0",
        Backend::Postgres => "COALESCE(doc -> 'active', 'true'::jsonb) <> 'false'::jsonb",
    }
}

impl TenantScope<'_> {
    /// The active users of `directory` (not the wizard's self-test's) the identity provider
    /// has not written since `cut_off`, at most `limit`, with when it last wrote any user.
    pub async fn stale_users(
        &self,
        directory: DirectoryId,
        cut_off: DateTime<Utc>,
        limit: i64,
    ) -> Result<StaleUsers, StoreError> {
        let last_write = format!(
            "SELECT MAX({TOUCHED}) FROM scim_resources WHERE tenant_id = $1 AND directory_id = $2 \
             AND resource_type = 'User' AND id NOT LIKE '{SELF_TEST_ID_PREFIX}%'"
        );
        let stale = format!(
            "FROM scim_resources WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = 'User' \
             AND id NOT LIKE '{SELF_TEST_ID_PREFIX}%' AND {TOUCHED} < $3 AND {}",
            active(self.store.backend())
        );
        let count = format!("SELECT COUNT(*) {stale}");
        let list = format!("SELECT id, name, {TOUCHED}, version {stale} ORDER BY {TOUCHED}, name_folded, id LIMIT $4");
        let (last, total, rows) = as_tenant!(self, conn => {
            let last: Option<DateTime<Utc>> =
                sqlx::query_scalar(&last_write).bind(self.tenant).bind(directory).fetch_one(&mut *conn).await?;
            let total: i64 = sqlx::query_scalar(&count)
                .bind(self.tenant)
                .bind(directory)
                .bind(cut_off)
                .fetch_one(&mut *conn)
                .await?;
            let rows: Vec<(String, String, DateTime<Utc>, i64)> = sqlx::query_as(&list)
                .bind(self.tenant)
                .bind(directory)
                .bind(cut_off)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?;
            (last, total, rows)
        });
        let users = rows
            .into_iter()
            .map(|(id, user_name, touched_at, version)| StaleUser { id, user_name, touched_at, version })
            .collect();
        Ok(StaleUsers { last_identity_provider_write: last, total, users })
    }
}

impl TenantScope<'_> {
    /// User `id` of `directory` if the report would list it at `cut_off`: active, and not
    /// written by the identity provider since.
    pub async fn stale_user(
        &self,
        directory: DirectoryId,
        id: &str,
        cut_off: DateTime<Utc>,
    ) -> Result<Option<StaleUser>, StoreError> {
        let query = format!(
            "SELECT id, name, {TOUCHED}, version FROM scim_resources WHERE tenant_id = $1 AND directory_id = $2 \
             AND resource_type = 'User' AND id = $4 AND {TOUCHED} < $3 AND {}",
            active(self.store.backend())
        );
        let row: Option<(String, String, DateTime<Utc>, i64)> = as_tenant!(self, conn => sqlx::query_as(&query)
            .bind(self.tenant)
            .bind(directory)
            .bind(cut_off)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?);
        Ok(row.map(|(id, user_name, touched_at, version)| StaleUser { id, user_name, touched_at, version }))
    }
}
