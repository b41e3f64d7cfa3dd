//! Roles from groups (migration 0025): the vendor's roles, defined once for the deployment;
//! the roles each tenant grants to its directories' groups; and the requests to re-derive
//! every user of a directory (a republish pass) when what shapes its users changed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::action::on_open;
use crate::ids::{DirectoryId, TenantId};
use crate::{Store, StoreError, TenantScope};

/// One of the vendor's roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub slug: String,
    pub name: String,
    pub description: String,
    /// 1 first: a user's `role` is the role with the smallest precedence among theirs.
    pub precedence: i64,
    /// The role of users whose groups grant none.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a directory's republish pass stands (see migration 0025).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepublishJob {
    pub directory: DirectoryId,
    /// What changed: `attribute mapping`, `group roles`, `roles`.
    pub reason: String,
    pub requested_at: DateTime<Utc>,
    /// Users in the directory when the pass (re)started; `None` until it starts.
    pub total: Option<i64>,
    pub done: i64,
    /// Users whose view changed, each with one `user.updated` record.
    pub changed: i64,
    pub finished_at: Option<DateTime<Utc>>,
}

const ROLE_COLUMNS: &str = "slug, name, description, precedence, is_default, created_at, updated_at";
type RoleRow = (String, String, String, i64, bool, DateTime<Utc>, DateTime<Utc>);

fn role_from_row((slug, name, description, precedence, is_default, created_at, updated_at): RoleRow) -> Role {
    Role { slug, name, description, precedence, is_default, created_at, updated_at }
}

/// Starts (or starts over) the pass of the (not deleted) directories the statement selects:
/// `$1` reason, `$2` time, then the statement's own parameters.
const REQUEST_PASS: &str = "INSERT INTO republish_jobs \
     (tenant_id, directory_id, reason, requested_at, cursor, total, done, changed, finished_at) \
     SELECT tenant_id, id, $1, $2, NULL, NULL, 0, 0, NULL FROM directories WHERE {which} \
     ON CONFLICT (tenant_id, directory_id) DO UPDATE SET reason = excluded.reason, \
     requested_at = excluded.requested_at, cursor = NULL, total = NULL, done = 0, changed = 0, finished_at = NULL";

impl Store {
    /// The deployment's roles in precedence order.
    pub async fn roles(&self) -> Result<Vec<Role>, StoreError> {
        let query = format!("SELECT {ROLE_COLUMNS} FROM roles ORDER BY precedence, slug");
        let rows: Vec<RoleRow> = on_pool!(&self.pool, pool => sqlx::query_as(&query).fetch_all(pool).await?);
        Ok(rows.into_iter().map(role_from_row).collect())
    }

    /// Adds a role (`replace: false`; `Conflict` when the slug is taken) or replaces the one
    /// with its slug (`replace: true`; `NotFound` when there is none); stamped `now`. A new default role
    /// takes the place of the previous one. Every directory of the deployment then gets a
    /// republish pass, in the same transaction: its users' roles may have changed.
    pub async fn save_role(&self, role: &Role, replace: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO roles (slug, name, description, precedence, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)";
        const UPDATE: &str = "UPDATE roles SET name = $2, description = $3, precedence = $4, is_default = $5, \
             updated_at = $6 WHERE slug = $1";
        const UNSET_DEFAULT: &str =
            "UPDATE roles SET is_default = FALSE, updated_at = $2 WHERE is_default AND slug <> $1";
        let pass = REQUEST_PASS.replace("{which}", "deleted_at IS NULL");
        writing_on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if role.is_default {
                sqlx::query(UNSET_DEFAULT).bind(&role.slug).bind(now).execute(&mut *tx).await?;
            }
            let written = sqlx::query(if replace { UPDATE } else { INSERT })
                .bind(&role.slug)
                .bind(&role.name)
                .bind(&role.description)
                .bind(role.precedence)
                .bind(role.is_default)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|error| StoreError::on_unique_violation(error, "a role with this slug already exists"))?
                .rows_affected();
            if written == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query(&pass).bind("roles").bind(now).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Deletes a role (and every grant of it); `false` when there was none. Every directory
    /// gets a republish pass, as for [`Store::save_role`].
    pub async fn delete_role(&self, slug: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        // Grants go with their role (ON DELETE CASCADE); group_roles has row-level security
        // on PostgreSQL, and the cascade, run by the table owner's constraint, is not
        // subject to it.
        const DELETE: &str = "DELETE FROM roles WHERE slug = $1";
        let pass = REQUEST_PASS.replace("{which}", "deleted_at IS NULL");
        let deleted = writing_on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let deleted = sqlx::query(DELETE).bind(slug).execute(&mut *tx).await?.rows_affected();
            if deleted > 0 {
                sqlx::query(&pass).bind("roles").bind(now).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            deleted
        });
        Ok(deleted > 0)
    }

    /// The directories with republish work: an unfinished pass or users queued by a
    /// membership change; across tenants, for the background worker.
    pub async fn republish_work(&self, limit: i64) -> Result<Vec<(TenantId, DirectoryId)>, StoreError> {
        // A deleted directory's work is dropped with it at the purge; until then it waits.
        const QUERY: &str = "SELECT j.tenant_id, j.directory_id FROM republish_jobs j \
             JOIN directories d ON d.tenant_id = j.tenant_id AND d.id = j.directory_id \
             WHERE j.finished_at IS NULL AND d.deleted_at IS NULL \
             UNION SELECT q.tenant_id, q.directory_id FROM republish_queue q \
             JOIN directories d ON d.tenant_id = q.tenant_id AND d.id = q.directory_id WHERE d.deleted_at IS NULL \
             ORDER BY 1, 2 LIMIT $1";
        let rows = on_pool!(&self.pool, pool => sqlx::query_as(QUERY).bind(limit).fetch_all(pool).await?);
        Ok(rows)
    }
}

impl TenantScope<'_> {
    /// The roles each group of a directory grants: group id to role slugs.
    pub async fn group_roles(&self, directory: DirectoryId) -> Result<HashMap<String, Vec<String>>, StoreError> {
        const QUERY: &str = "SELECT group_id, role_slug FROM group_roles \
             WHERE tenant_id = $1 AND directory_id = $2 ORDER BY group_id, role_slug";
        let rows: Vec<(String, String)> = as_tenant!(self, conn => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .fetch_all(&mut *conn)
            .await?);
        let mut grants: HashMap<String, Vec<String>> = HashMap::new();
        for (group, role) in rows {
            grants.entry(group).or_default().push(role);
        }
        Ok(grants)
    }

    /// The directory's republish pass, finished or not; `None` when it never had one.
    pub async fn republish_job(&self, directory: DirectoryId) -> Result<Option<RepublishJob>, StoreError> {
        const QUERY: &str = "SELECT reason, requested_at, total, done, changed, finished_at FROM republish_jobs \
             WHERE tenant_id = $1 AND directory_id = $2";
        type Row = (String, DateTime<Utc>, Option<i64>, i64, i64, Option<DateTime<Utc>>);
        let row: Option<Row> = on_pool!(&self.store.pool, pool => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(|(reason, requested_at, total, done, changed, finished_at)| RepublishJob {
            directory,
            reason,
            requested_at,
            total,
            done,
            changed,
            finished_at,
        }))
    }
}

impl crate::TenantAction<'_> {
    /// Replaces the roles a directory's groups grant (`grants`: group id, role slug);
    /// `Conflict` when a slug names no role. Asks for the directory's republish pass.
    pub async fn set_group_roles(
        &mut self,
        directory: DirectoryId,
        grants: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const CLEAR: &str = "DELETE FROM group_roles WHERE tenant_id = $1 AND directory_id = $2";
        const GRANT: &str = "INSERT INTO group_roles (tenant_id, directory_id, group_id, role_slug) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING";
        on_open!(&mut self.open, tx => sqlx::query(CLEAR).bind(self.tenant).bind(directory).execute(&mut **tx).await.map(drop))?;
        for (group, role) in grants {
            on_open!(&mut self.open, tx => sqlx::query(GRANT)
                .bind(self.tenant)
                .bind(directory)
                .bind(group)
                .bind(role)
                .execute(&mut **tx)
                .await
                .map(drop))
            .map_err(|error| StoreError::on_foreign_key_violation(error, "no role has this slug"))?;
        }
        self.request_republish(directory, "group roles", now).await
    }

    /// Starts (or starts over) the directory's republish pass: something that shapes every
    /// user of it (`reason`) changed.
    pub async fn request_republish(
        &mut self,
        directory: DirectoryId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let pass = REQUEST_PASS.replace("{which}", "tenant_id = $3 AND id = $4 AND deleted_at IS NULL");
        on_open!(&mut self.open, tx => sqlx::query(&pass)
            .bind(reason)
            .bind(now)
            .bind(self.tenant)
            .bind(directory)
            .execute(&mut **tx)
            .await
            .map(drop))?;
        Ok(())
    }
}
