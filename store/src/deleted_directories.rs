//! Deleted directories (migration 0024): marking one deleted (its credentials revoked in
//! the same transaction), the directory's own change records, and the purge of its data
//! once the operator's retention period has passed.
//!
//! A deleted directory keeps its row, marked by `deleted_at`, until the purge: the reads of
//! live directories (`TenantScope::directory`, `directories`, a token's lookup, a write's
//! lock) leave it out, while its change records stay readable, so that the vendor's product
//! can still read its `directory.deleted` event and what came before it. The purge deletes
//! the data in chunks, each its own short transaction (a large directory never holds the
//! database's write lock for long, and a purge cut short goes on where it stopped), and
//! finally the row, whose cascade removes what is left.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::action::on_open;
use crate::ids::{DirectoryId, TenantId};
use crate::resources::write::{ChangeEntry, append_change};
use crate::scope::{TenantScope, directory_from_row};
use crate::{ChangeSubject, Directory, DirectoryChangeKind, Store, StoreError, WriteContext};

/// A directory marked deleted and not purged yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedDirectory {
    pub tenant: TenantId,
    pub directory: Directory,
    pub deleted_at: DateTime<Utc>,
}

const DELETED_COLUMNS: &str = "tenant_id, id, idp, display_name, created_at, unknown_attributes, \
     rate_limit_per_second, nonhuman_extension, deleted_at";

type DeletedRow = (TenantId, DirectoryId, String, String, DateTime<Utc>, String, i64, bool, DateTime<Utc>);

fn deleted_from_row(
    (tenant, id, idp, name, created_at, unknown, limit, nonhuman, deleted_at): DeletedRow,
) -> Result<DeletedDirectory, StoreError> {
    let directory = directory_from_row((id, idp, name, created_at, unknown, limit, nonhuman))?;
    Ok(DeletedDirectory { tenant, directory, deleted_at })
}

impl Store {
    /// Up to `limit` deleted directories of any tenant deleted at or before `cut_off`,
    /// oldest deletion first: the purge job's work list (ids only; the purge itself runs
    /// through each tenant's scope).
    pub async fn deleted_directories_due(
        &self,
        cut_off: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DeletedDirectory>, StoreError> {
        let query = format!(
            "SELECT {DELETED_COLUMNS} FROM directories WHERE deleted_at IS NOT NULL AND deleted_at <= $1 \
             ORDER BY deleted_at, tenant_id, id LIMIT $2"
        );
        let rows: Vec<DeletedRow> =
            on_pool!(&self.pool, pool => sqlx::query_as(&query).bind(cut_off).bind(limit).fetch_all(pool).await?);
        rows.into_iter().map(deleted_from_row).collect()
    }
}

/// How many rows one purge chunk deletes at most (with what cascades from them).
pub const PURGE_CHUNK: i64 = 1000;

/// Deletes up to `$3` rows of a deleted directory's table; the `EXISTS` keeps the purge
/// from ever touching a directory in use.
fn purge_statement(table: &str, key: &str) -> String {
    format!(
        "DELETE FROM {table} WHERE tenant_id = $1 AND directory_id = $2 AND {key} IN \
         (SELECT {key} FROM {table} WHERE tenant_id = $1 AND directory_id = $2 LIMIT $3) \
         AND EXISTS (SELECT 1 FROM directories d WHERE d.tenant_id = $1 AND d.id = $2 AND d.deleted_at IS NOT NULL)"
    )
}

impl TenantScope<'_> {
    /// The tenant's directory with this id if it is deleted and not purged yet.
    pub async fn deleted_directory(&self, id: DirectoryId) -> Result<Option<DeletedDirectory>, StoreError> {
        let query = format!(
            "SELECT {DELETED_COLUMNS} FROM directories \
             WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NOT NULL"
        );
        let row: Option<DeletedRow> = on_pool!(&self.store.pool, pool =>
            sqlx::query_as(&query).bind(self.tenant).bind(id).fetch_optional(pool).await?);
        row.map(deleted_from_row).transpose()
    }

    /// The tenant's deleted directories not purged yet, oldest deletion first (their
    /// change records are still delivered).
    pub async fn deleted_directories(&self) -> Result<Vec<DeletedDirectory>, StoreError> {
        let query = format!(
            "SELECT {DELETED_COLUMNS} FROM directories WHERE tenant_id = $1 AND deleted_at IS NOT NULL \
             ORDER BY deleted_at, id"
        );
        let rows: Vec<DeletedRow> =
            on_pool!(&self.store.pool, pool => sqlx::query_as(&query).bind(self.tenant).fetch_all(pool).await?);
        rows.into_iter().map(deleted_from_row).collect()
    }

    /// Deletes the next chunk of a deleted directory's data, in its own transaction: up to
    /// [`PURGE_CHUNK`] users and groups (their memberships, lookup values and non-human
    /// identity rows cascade), else up to as many change records. Returns how many rows it
    /// deleted; zero once only the directory's own row and its small dependents are left,
    /// or when the directory is not deleted.
    pub async fn purge_deleted_directory_chunk(&self, directory: DirectoryId) -> Result<u64, StoreError> {
        let mut action = self.begin_action().await?;
        let mut deleted = 0;
        for (table, key) in [("scim_resources", "id"), ("directory_changes", "seq")] {
            let statement = purge_statement(table, key);
            deleted = on_open!(&mut action.open, tx => sqlx::query(&statement)
                .bind(self.tenant)
                .bind(directory)
                .bind(PURGE_CHUNK)
                .execute(&mut **tx)
                .await?
                .rows_affected());
            if deleted > 0 {
                break;
            }
        }
        action.finish().await?;
        Ok(deleted)
    }
}

impl crate::TenantAction<'_> {
    /// Marks one of the tenant's directories deleted at `at` and revokes its tokens and
    /// OAuth clients at the same time; every server process stops accepting them once the
    /// action commits. False when the tenant has no such directory in use (unknown, or
    /// deleted already).
    pub async fn mark_directory_deleted(
        &mut self,
        directory: DirectoryId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const MARK: &str =
            "UPDATE directories SET deleted_at = $1 WHERE tenant_id = $2 AND id = $3 AND deleted_at IS NULL";
        const REVOKE_TOKENS: &str = "UPDATE directory_tokens SET revoked_at = COALESCE(revoked_at, $1) \
             WHERE tenant_id = $2 AND directory_id = $3";
        const REVOKE_CLIENTS: &str = "UPDATE directory_oauth_clients SET revoked_at = COALESCE(revoked_at, $1) \
             WHERE tenant_id = $2 AND directory_id = $3";
        let marked = on_open!(&mut self.open, tx => sqlx::query(MARK)
            .bind(at)
            .bind(self.tenant)
            .bind(directory)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        if marked == 0 {
            return Ok(false);
        }
        for revoke in [REVOKE_TOKENS, REVOKE_CLIENTS] {
            on_open!(&mut self.open, tx => sqlx::query(revoke)
                .bind(at)
                .bind(self.tenant)
                .bind(directory)
                .execute(&mut **tx)
                .await
                .map(drop)?);
        }
        self.access_changed.push(directory);
        Ok(true)
    }

    /// Appends a change of the directory itself to its change records (and to the
    /// deployment's order of events), in this action's transaction: `data` is the
    /// directory as the product's own feed shows it, `view` as Directory Sync consumers read
    /// it (`{"normalized": …}`).
    pub async fn record_directory_change(
        &mut self,
        directory: DirectoryId,
        kind: DirectoryChangeKind,
        context: &WriteContext,
        data: &Value,
        view: &Value,
    ) -> Result<(), StoreError> {
        let resource_id = directory.to_string();
        let entry = ChangeEntry {
            kind: kind.as_str(),
            subject: ChangeSubject::Directory,
            resource_id: &resource_id,
            payload: data,
            view: Some(view),
        };
        append_change(&mut self.open, self.tenant, directory, context, &entry).await
    }

    /// Removes a deleted directory's row, which cascades to what its purge chunks left (its
    /// route, tokens, OAuth clients, schema extensions, webhook cursors, wizard progress).
    /// False when there is no such deleted directory (purged meanwhile by another process).
    pub async fn remove_deleted_directory(&mut self, directory: DirectoryId) -> Result<bool, StoreError> {
        const QUERY: &str = "DELETE FROM directories WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NOT NULL";
        let removed = on_open!(&mut self.open, tx => sqlx::query(QUERY)
            .bind(self.tenant)
            .bind(directory)
            .execute(&mut **tx)
            .await?
            .rows_affected());
        Ok(removed > 0)
    }
}
