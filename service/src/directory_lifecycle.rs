//! A directory's life after it is made: its activation (the first time its setup
//! completes), its deletion, and the purge of a deleted directory's data once the
//! operator's retention period has passed.
//!
//! Activation and deletion are changes of the directory itself: each appends a change record
//! (`directory.activated`, `directory.deleted`) in the transaction of its action, so that it
//! reaches the directory's feed, the tenant's webhooks, the deployment's `GET /events`
//! (`dsync.activated`, `dsync.deleted`) and the operator's webhook endpoints like any
//! provisioning change, and never without the action it reports.
//!
//! Deletion marks the directory deleted and revokes its tokens and OAuth clients in one
//! transaction with its change record and its audit record: from its commit on every SCIM
//! request with them is refused, and the directory is gone from every list and API. Its
//! data stays until the purge job deletes it, so that its events remain readable until then.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use store::{
    DeletedDirectory, Directory, DirectoryChangeKind, DirectoryId, SetupCompleted, SetupCompletion, Store,
    TenantAction, TenantId, WriteContext,
};

use crate::ServiceError;
use crate::actor::Actor;
use crate::directory_sync::event_directory;

/// How long a deleted directory's data is kept when the operator sets nothing.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

/// How often the purge job looks for deleted directories past their retention.
pub const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Deleted directories one run of the purge job takes on at most (the next run goes on).
const PURGE_BATCH: i64 = 100;

/// Appends a change of the directory itself to its change records, in `action`'s
/// transaction: the product's own feed shows `data` (the directory's id, provider, name
/// and creation, and what the change adds), Directory Sync consumers the directory as the
/// event type carries it.
async fn record_directory_change(
    action: &mut TenantAction<'_>,
    tenant: TenantId,
    directory: &Directory,
    kind: DirectoryChangeKind,
    detail: serde_json::Value,
    context: &WriteContext,
) -> Result<(), ServiceError> {
    let mut data = json!({
        "id": directory.id.to_string(),
        "idp": directory.idp.as_str(),
        "display_name": directory.display_name,
        "created_at": directory.created_at,
    });
    if let (Some(data), Some(detail)) = (data.as_object_mut(), detail.as_object()) {
        data.extend(detail.clone());
    }
    let view = json!({ "normalized": event_directory(tenant, directory, kind, context.at) });
    action.record_directory_change(directory.id, kind, context, &data, &view).await?;
    Ok(())
}

/// Marks a directory's setup complete in `action`'s transaction and, when this is the
/// first completion, records its activation (`dsync.activated`) with it; `by` says how it
/// completed and `actor` who made it. Returns what the store found.
pub(crate) async fn complete_setup(
    action: &mut TenantAction<'_>,
    tenant: TenantId,
    directory: &Directory,
    by: SetupCompletion,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<SetupCompleted, ServiceError> {
    let completed = action.complete_setup(directory.id, by, now).await?;
    if completed == SetupCompleted::Now {
        let context = WriteContext { actor: actor.audit_name(), at: now };
        let detail = json!({ "completed_by": by.as_str() });
        record_directory_change(action, tenant, directory, DirectoryChangeKind::Activated, detail, &context).await?;
    }
    Ok(completed)
}

/// A directory's deletion, as its callers report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deletion {
    /// When the directory was deleted (by this call or an earlier one).
    pub deleted_at: DateTime<Utc>,
    /// Whether this call deleted it; a repeated deletion changes and records nothing.
    pub by_this_call: bool,
}

/// Deletes one of the tenant's directories: marks it deleted, revokes its tokens and OAuth
/// clients, records `directory.deleted` in its change records and the action in the
/// tenant's audit trail, all in one transaction. The one use case behind the portal, the
/// console, the operator API and the WorkOS-compatible API. Deleting a deleted directory
/// again answers the first deletion and writes nothing; `None` when the tenant has no such
/// directory (or it was purged).
pub async fn delete_directory(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<Deletion>, ServiceError> {
    let scope = store.tenant(tenant);
    let Some(found) = scope.directory(directory).await? else {
        return earlier_deletion(store, tenant, directory).await;
    };
    let mut action = scope.begin_action().await?;
    if !action.mark_directory_deleted(directory, now).await? {
        // Deleted by a concurrent call between the read and the action.
        drop(action);
        return earlier_deletion(store, tenant, directory).await;
    }
    let context = WriteContext { actor: actor.audit_name(), at: now };
    let detail = json!({ "deleted_at": now });
    record_directory_change(&mut action, tenant, &found, DirectoryChangeKind::Deleted, detail, &context).await?;
    let record = json!({ "idp": found.idp.as_str(), "display_name": found.display_name });
    action.commit(actor.record("directory.deleted", Some(directory), record, now)).await?;
    tracing::info!(%tenant, %directory, "directory deleted");
    Ok(Some(Deletion { deleted_at: now, by_this_call: true }))
}

async fn earlier_deletion(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<Option<Deletion>, ServiceError> {
    let deleted = store.tenant(tenant).deleted_directory(directory).await?;
    Ok(deleted.map(|DeletedDirectory { deleted_at, .. }| Deletion { deleted_at, by_this_call: false }))
}

/// When a directory deleted at `deleted_at` is purged under `retention`.
pub fn purge_after(deleted_at: DateTime<Utc>, retention: Duration) -> DateTime<Utc> {
    deleted_at + retention
}

/// The retention period of `days` days (0: purged at the purge job's next run).
pub fn retention_of_days(days: u32) -> Duration {
    Duration::days(i64::from(days))
}

/// A deleted directory whose data the purge job deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgedDirectory {
    pub tenant: TenantId,
    pub directory: DirectoryId,
    /// Users, groups and change records deleted by this run (what cascades from them, and
    /// what a run cut short deleted before, not counted).
    pub rows: u64,
}

/// The purge job: deletes the data of the directories deleted at least `retention` before
/// `now` (at most [`PURGE_BATCH`] a run, oldest deletion first), chunk by chunk, and records
/// `directory.purged` in each one's tenant's trail with the removal of its row. Resumable
/// (a run cut short leaves a deleted directory with less data, which the next run finishes)
/// and idempotent (several server processes may run it at once: only the one that removes
/// the row records the purge).
pub async fn purge_deleted_directories(
    store: &Store,
    retention: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<PurgedDirectory>, ServiceError> {
    let mut purged = Vec::new();
    for deleted in store.deleted_directories_due(now - retention, PURGE_BATCH).await? {
        let (tenant, directory) = (deleted.tenant, deleted.directory.id);
        let scope = store.tenant(tenant);
        let mut rows = 0;
        loop {
            let chunk = scope.purge_deleted_directory_chunk(directory).await?;
            if chunk == 0 {
                break;
            }
            rows += chunk;
        }
        let mut action = scope.begin_action().await?;
        if !action.remove_deleted_directory(directory).await? {
            continue;
        }
        let detail = json!({
            "deleted_at": deleted.deleted_at,
            "retention_days": retention.num_days(),
            "rows_purged": rows,
        });
        action.commit(Actor::System.record("directory.purged", Some(directory), detail, now)).await?;
        tracing::info!(%tenant, %directory, rows, "deleted directory purged");
        purged.push(PurgedDirectory { tenant, directory, rows });
    }
    Ok(purged)
}
