//! SCIM users and groups of one directory, their memberships, and the directory's change
//! log. Reached only through [`DirectoryData`], which carries the tenant and the directory
//! and puts both into every statement.
//!
//! Every write is one transaction that starts by locking the directory's row (bumping
//! nothing yet): on SQLite that takes the write lock at once, so a transaction never has to
//! upgrade a read snapshot (which fails with `SQLITE_BUSY` instead of waiting); on
//! PostgreSQL it serialises the directory's writers, so change numbers follow commit order.
//! The change records are written in the same transaction as the change itself.
//!
//! A [`WriteBatch`] lets several writes share one transaction (a Bulk request, which a
//! crash must leave wholly applied or not at all): each write of the batch runs in a
//! savepoint of it, so a write that fails undoes only itself.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::types::Json;

use crate::filter_sql::{self, SqlBind};
use crate::ids::{DirectoryId, EventId, TenantId};
use crate::resource_kind::ResourceKind;
use crate::{Store, StoreError};

/// A stored resource: its document and the attributes the store keeps itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRecord {
    pub kind: ResourceKind,
    pub id: String,
    /// The resource's attributes without `id`, `meta`, `groups` and `members`.
    pub doc: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
}

/// The state of a resource to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceState {
    /// `userName` of a user, `displayName` of a group.
    pub name: String,
    pub external_id: Option<String>,
    /// The attributes without `id`, `meta`, `groups` and `members`.
    pub doc: Value,
}

/// A member of a group, as the group's `members` attribute shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub kind: ResourceKind,
    /// The member's userName or displayName.
    pub display: String,
}

/// A group a user belongs to, as the user's `groups` attribute shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: String,
    pub display: String,
}

/// A change to a group's membership, applied without loading the group's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberDelta {
    Add(Vec<String>),
    Remove(Vec<String>),
    RemoveAll,
    /// The new complete list.
    Replace(Vec<String>),
}

/// What happened, as the event feed names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    UserCreated,
    UserUpdated,
    UserDeactivated,
    UserReactivated,
    UserDeleted,
    GroupCreated,
    GroupUpdated,
    GroupDeleted,
    GroupMemberAdded,
    GroupMemberRemoved,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::UserCreated => "user.created",
            ChangeKind::UserUpdated => "user.updated",
            ChangeKind::UserDeactivated => "user.deactivated",
            ChangeKind::UserReactivated => "user.reactivated",
            ChangeKind::UserDeleted => "user.deleted",
            ChangeKind::GroupCreated => "group.created",
            ChangeKind::GroupUpdated => "group.updated",
            ChangeKind::GroupDeleted => "group.deleted",
            ChangeKind::GroupMemberAdded => "group.member_added",
            ChangeKind::GroupMemberRemoved => "group.member_removed",
        }
    }

    fn resource_kind(self) -> ResourceKind {
        match self {
            ChangeKind::UserCreated
            | ChangeKind::UserUpdated
            | ChangeKind::UserDeactivated
            | ChangeKind::UserReactivated
            | ChangeKind::UserDeleted => ResourceKind::User,
            _ => ResourceKind::Group,
        }
    }
}

/// A change record to write with a resource change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: ChangeKind,
    pub resource_id: String,
    /// The resource after the change (for a deletion: its id).
    pub data: Value,
}

/// Who makes a write, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteContext {
    /// `token:<id>` for a SCIM client, `operator:<id>` for a person.
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A stored change record.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRecord {
    pub seq: i64,
    pub id: EventId,
    pub kind: String,
    pub resource_type: ResourceKind,
    pub resource_id: String,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    pub data: Value,
}

/// A change to an existing resource, valid only at `expected_version`.
#[derive(Debug, Clone, Copy)]
pub struct Update<'a> {
    /// `None`: whatever the current version (a membership-only change, which does not
    /// depend on the document).
    pub expected_version: Option<i64>,
    /// The new state; `None` keeps the document (a membership-only change).
    pub state: Option<&'a ResourceState>,
    /// Membership deltas (groups only).
    pub members: &'a [MemberDelta],
    /// Change records for the resource itself; membership deltas record their own.
    pub changes: &'a [Change],
}

/// What a [`DirectoryData::modify`] computation decided to write.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Computed {
    /// The new state; `None` keeps the document (a membership-only change).
    pub state: Option<ResourceState>,
    /// Membership deltas (groups only).
    pub members: Vec<MemberDelta>,
    /// Change records for the resource itself.
    pub changes: Vec<Change>,
}

/// What a membership write did, for the caller's response and events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipOutcome {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// How to order a listing (RFC 7644 §3.4.2.3); ties and missing values are ordered by id,
/// missing values last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub field: SortField,
    pub descending: bool,
}

/// What to order by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortField {
    Id,
    /// userName of users, displayName of groups, ignoring case.
    Name,
    ExternalId,
    Created,
    LastModified,
    /// A single value in the document, by JSON keys from the root; compared ignoring case
    /// unless `case_exact`.
    Document {
        keys: Vec<String>,
        case_exact: bool,
    },
    /// A multi-valued attribute (the array at `array`), by the value at `element` keys in
    /// its primary element, else in its first (RFC 7644 §3.4.2.3); `element` is empty for
    /// an array of simple values.
    MultiValued {
        array: Vec<String>,
        element: Vec<String>,
        case_exact: bool,
    },
}

/// Which slice of the matching resources to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageSpec {
    /// `startIndex`/`count` paging: skip this many, return at most `take`.
    Offset { skip: i64, take: i64 },
    /// Keyset paging in id order (RFC 9865 cursors): the ones after this id.
    After { after: Option<String>, take: i64 },
}

/// A listing request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListSpec<'p> {
    pub filter: Option<&'p scim::filter::plan::Plan>,
    pub sort: Option<SortKey>,
    pub page: PageSpec,
}

/// One page of a listing and the number of all matching resources.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub total: i64,
    pub records: Vec<ResourceRecord>,
}

/// Access to the resources of one directory of one tenant.
#[derive(Debug, Clone, Copy)]
pub struct DirectoryData<'a> {
    store: &'a Store,
    tenant: TenantId,
    directory: DirectoryId,
    /// The open transaction the writes (and reads by id) go to, when in a batch.
    batch: Option<&'a WriteBatch>,
}

/// One transaction shared by several writes of a directory, committed (or, when dropped
/// uncommitted, rolled back) as a whole. It holds the directory's lock from its start to
/// its end, as a single write does; reads by id through [`WriteBatch::data`] see its
/// uncommitted writes.
pub struct WriteBatch {
    store: Store,
    tenant: TenantId,
    directory: DirectoryId,
    open: tokio::sync::Mutex<OpenTransaction>,
    /// This process's SQLite writer turn, held for the whole batch.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

enum OpenTransaction {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` on a batch's open transaction, whichever backend it is on (the batch's
/// twin of `on_pool!`).
macro_rules! on_open {
    ($open:expr, $tx:ident => $body:expr) => {
        match $open {
            OpenTransaction::Sqlite($tx) => $body,
            OpenTransaction::Postgres($tx) => $body,
        }
    };
}

impl std::fmt::Debug for WriteBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBatch").field("tenant", &self.tenant).field("directory", &self.directory).finish()
    }
}

impl WriteBatch {
    /// The directory's data as seen from inside the batch.
    pub fn data(&self) -> DirectoryData<'_> {
        DirectoryData { store: &self.store, tenant: self.tenant, directory: self.directory, batch: Some(self) }
    }

    /// Makes every write of the batch durable at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        on_open!(self.open.into_inner(), tx => tx.commit().await?);
        self.store.committed();
        Ok(())
    }
}

type ResourceRow = (String, Json<Value>, i64, DateTime<Utc>, DateTime<Utc>);

/// One line of a query plan: the last column of `EXPLAIN` (PostgreSQL's only one) or of
/// `EXPLAIN QUERY PLAN` (SQLite's `detail`).
#[cfg(feature = "test-support")]
struct PlanLine(String);

#[cfg(feature = "test-support")]
impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for PlanLine
where
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        row.try_get(row.len().saturating_sub(1)).map(PlanLine)
    }
}

/// A listing's statements; `binds` are the page statement's (the filter's, then the sort
/// key's and the paging values), `filter_binds` the count statement's.
struct ListStatements {
    count_sql: String,
    filter_binds: Vec<SqlBind>,
    page_sql: String,
    binds: Vec<SqlBind>,
}
/// A resource row and, when asked for, its groups as a JSON array of `[id, name]`.
type ByIdRow = (String, Json<Value>, i64, DateTime<Utc>, DateTime<Utc>, Option<Json<Value>>);
type ChangeRow = (i64, EventId, String, String, String, String, DateTime<Utc>, Json<Value>);

/// Ids per statement in `IN (…)` lists and multi-row inserts (SQLite allows 32,766
/// parameters per statement; PostgreSQL 65,535).
const CHUNK: usize = 500;

/// A resource's row by type and id.
const CURRENT: &str = "SELECT id, doc, version, created_at, last_modified FROM scim_resources \
     WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3 AND id = $4";
/// Locks the directory for this transaction; no row means the directory is gone.
const LOCK_DIRECTORY: &str = "UPDATE directories SET change_seq = change_seq WHERE tenant_id = $1 AND id = $2";
const NEXT_SEQ: &str =
    "UPDATE directories SET change_seq = change_seq + 1 WHERE tenant_id = $1 AND id = $2 RETURNING change_seq";
const INSERT_CHANGE: &str = "INSERT INTO directory_changes \
     (tenant_id, directory_id, seq, id, kind, resource_type, resource_id, actor, occurred_at, data) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// The lower-cased values a resource is looked up by (see migration 0007): every
/// `emails[].value`.
fn lookup_values(doc: &Value) -> Vec<(&'static str, String)> {
    doc.get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|email| email.get("value").and_then(Value::as_str))
        .map(|value| ("emails", value.to_lowercase()))
        .collect()
}

/// Rewrites a resource's lookup values inside a write transaction.
macro_rules! write_lookup_values {
    ($data:expr, $tx:ident, $id:expr, $doc:expr, $replace:expr) => {{
        if $replace {
            sqlx::query(
                "DELETE FROM scim_resource_values WHERE tenant_id = $1 AND directory_id = $2 AND resource_id = $3",
            )
            .bind($data.tenant)
            .bind($data.directory)
            .bind($id)
            .execute(&mut *$tx)
            .await?;
        }
        for (attribute, value) in lookup_values($doc) {
            sqlx::query(
                "INSERT INTO scim_resource_values (tenant_id, directory_id, resource_id, attribute, value_folded) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind($data.tenant)
            .bind($data.directory)
            .bind($id)
            .bind(attribute)
            .bind(value)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

/// Rewrites a user's row of `scim_nonhuman` (migration 0017) inside a write transaction,
/// after checking that a newly named owner is another user of the directory; see
/// [`crate::nonhuman`]. `$replace` first removes the row the user had. An owner deleted
/// since it was named is kept (the identity is flagged, and can still be written to, and
/// deactivated by the expiry sweeper).
macro_rules! write_nonhuman {
    ($data:expr, $tx:ident, $id:expr, $doc:expr, $replace:expr) => {{
        let (id, doc): (&str, &Value) = ($id, $doc);
        let mut previous_owner: Option<String> = None;
        if $replace {
            let removed: Option<Option<String>> = sqlx::query_scalar(crate::nonhuman::DELETE_ROW)
                .bind($data.tenant)
                .bind($data.directory)
                .bind(id)
                .fetch_optional(&mut *$tx)
                .await?;
            previous_owner = removed.flatten();
        }
        if let Some(row) = crate::nonhuman::row_of(doc) {
            if let Some(owner) = row.owner.as_ref().filter(|owner| previous_owner.as_ref() != Some(*owner)) {
                let found: Option<String> = sqlx::query_scalar(crate::nonhuman::OWNER)
                    .bind($data.tenant)
                    .bind($data.directory)
                    .bind(owner)
                    .fetch_optional(&mut *$tx)
                    .await?;
                if found.is_none() {
                    return Err(StoreError::UnknownOwner(owner.clone()));
                }
            }
            if row.owner.as_deref() == Some(id) {
                return Err(StoreError::UnknownOwner(id.to_owned()));
            }
            sqlx::query(crate::nonhuman::INSERT_ROW)
                .bind($data.tenant)
                .bind($data.directory)
                .bind(id)
                .bind(row.kind.as_str())
                .bind(row.owner.as_deref())
                .bind(row.expires_at)
                .bind(row.active)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}

/// PostgreSQL's row-level security on the SCIM tables reads the tenant from `app.tenant_id`
/// (migration 0006): for the rest of a write transaction, or for a read connection's
/// checkout (see [`TenantConnection`]).
const SET_TENANT_FOR_TRANSACTION: &str = "SELECT set_config('app.tenant_id', $1, true)";
const SET_TENANT_FOR_CONNECTION: &str = "SELECT set_config('app.tenant_id', $1, false)";
const RESET_TENANT: &str = "RESET app.tenant_id";

/// A pooled PostgreSQL connection that carries a tenant for row-level security, for the
/// reads of one call. No pooled connection may keep a tenant after its checkout (a query
/// that forgot to set one must see nothing), so [`release`](Self::release) resets it, and
/// a checkout that ends any other way (an error, a cancelled request) closes the
/// connection instead of returning it to the pool.
pub(crate) struct TenantConnection {
    pub(crate) connection: sqlx::pool::PoolConnection<sqlx::Postgres>,
    reset: bool,
}

impl TenantConnection {
    pub(crate) async fn acquire(pool: &sqlx::PgPool, tenant: TenantId) -> Result<Self, StoreError> {
        let connection = pool.acquire().await?;
        let mut checkout = Self { connection, reset: false };
        sqlx::query(SET_TENANT_FOR_CONNECTION).bind(tenant.to_string()).execute(&mut *checkout.connection).await?;
        Ok(checkout)
    }

    pub(crate) async fn release(mut self) -> Result<(), StoreError> {
        sqlx::query(RESET_TENANT).execute(&mut *self.connection).await?;
        self.reset = true;
        Ok(())
    }
}

impl Drop for TenantConnection {
    fn drop(&mut self) {
        if !self.reset {
            self.connection.close_on_drop();
        }
    }
}

/// Runs the statements of one write transaction on whichever pool the store has.
macro_rules! in_transaction {
    ($data:expr, $tx:ident => $body:block) => {
        if let Some(batch) = $data.batch {
            // A savepoint of the batch's transaction, which already holds the lock.
            let mut open = batch.open.lock().await;
            on_open!(&mut *open, outer => {
                let mut $tx = sqlx::Acquire::begin(&mut *outer).await?;
                let result = $body;
                $tx.commit().await?;
                result
            })
        } else { on_pool!(&$data.store.pool, pool => {
            let _turn = $data.store.write_turn().await;
            let mut $tx = pool.begin().await?;
            if $data.store.backend() == crate::Backend::Postgres {
                sqlx::query(SET_TENANT_FOR_TRANSACTION).bind($data.tenant.to_string()).execute(&mut *$tx).await?;
            }
            let locked = sqlx::query(LOCK_DIRECTORY)
                .bind($data.tenant)
                .bind($data.directory)
                .execute(&mut *$tx)
                .await?
                .rows_affected();
            if locked == 0 {
                return Err(StoreError::NotFound);
            }
            let result = $body;
            $tx.commit().await?;
            $data.store.committed();
            result
        }) }
    };
}

/// Appends one change record inside a write transaction.
macro_rules! record_change {
    ($data:expr, $tx:ident, $context:expr, $kind:expr, $resource_type:expr, $resource_id:expr, $payload:expr) => {{
        let seq: i64 =
            sqlx::query_scalar(NEXT_SEQ).bind($data.tenant).bind($data.directory).fetch_one(&mut *$tx).await?;
        sqlx::query(INSERT_CHANGE)
            .bind($data.tenant)
            .bind($data.directory)
            .bind(seq)
            .bind(EventId::generate())
            .bind($kind)
            .bind($resource_type)
            .bind($resource_id)
            .bind(&$context.actor)
            .bind($context.at)
            .bind(Json($payload))
            .execute(&mut *$tx)
            .await?;
    }};
}

/// Adds members to a group inside a write transaction; evaluates to the ids newly added.
/// Every id must name a resource of the directory other than the group itself.
macro_rules! membership_add {
    ($data:expr, $tx:ident, $group:expr, $ids:expr) => {{
        let mut wanted: Vec<&String> = $ids.iter().collect();
        wanted.sort();
        wanted.dedup();
        if wanted.iter().any(|member| member.as_str() == $group) {
            return Err(StoreError::UnknownMembers(vec![$group.to_owned()]));
        }
        let mut added: Vec<String> = Vec::new();
        for chunk in wanted.chunks(CHUNK) {
            let select = format!(
                "SELECT id, resource_type FROM scim_resources \
                 WHERE tenant_id = $1 AND directory_id = $2 AND id IN ({})",
                placeholders(3, chunk.len())
            );
            let mut q = sqlx::query_as(&select).bind($data.tenant).bind($data.directory);
            for member in chunk {
                q = q.bind(*member);
            }
            let found: Vec<(String, String)> = q.fetch_all(&mut *$tx).await?;
            if found.len() != chunk.len() {
                let known: HashSet<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
                let missing = chunk.iter().filter(|m| !known.contains(m.as_str())).map(|m| (*m).clone()).collect();
                return Err(StoreError::UnknownMembers(missing));
            }
            let values = (0..found.len())
                .map(|i| format!("($1, $2, $3, ${}, ${})", 4 + 2 * i, 5 + 2 * i))
                .collect::<Vec<_>>()
                .join(", ");
            let insert = format!(
                "INSERT INTO scim_members (tenant_id, directory_id, group_id, member_id, member_type) \
                 VALUES {values} ON CONFLICT DO NOTHING RETURNING member_id"
            );
            let mut q = sqlx::query_scalar(&insert).bind($data.tenant).bind($data.directory).bind($group);
            for (member, member_type) in &found {
                q = q.bind(member).bind(member_type);
            }
            let inserted: Vec<String> = q.fetch_all(&mut *$tx).await?;
            added.extend(inserted);
        }
        added.sort();
        added
    }};
}

/// Removes members (all of them with `None`) inside a write transaction; evaluates to the
/// ids that were members.
macro_rules! membership_remove {
    ($data:expr, $tx:ident, $group:expr, $ids:expr) => {{
        let ids: Option<&[String]> = $ids;
        let mut removed: Vec<String> = Vec::new();
        match ids {
            None => {
                let delete = "DELETE FROM scim_members \
                     WHERE tenant_id = $1 AND directory_id = $2 AND group_id = $3 RETURNING member_id";
                let gone: Vec<String> = sqlx::query_scalar(delete)
                    .bind($data.tenant)
                    .bind($data.directory)
                    .bind($group)
                    .fetch_all(&mut *$tx)
                    .await?;
                removed.extend(gone);
            }
            Some(ids) => {
                for chunk in ids.chunks(CHUNK) {
                    let delete = format!(
                        "DELETE FROM scim_members WHERE tenant_id = $1 AND directory_id = $2 AND group_id = $3 \
                         AND member_id IN ({}) RETURNING member_id",
                        placeholders(4, chunk.len())
                    );
                    let mut q = sqlx::query_scalar(&delete).bind($data.tenant).bind($data.directory).bind($group);
                    for member in chunk {
                        q = q.bind(member);
                    }
                    let gone: Vec<String> = q.fetch_all(&mut *$tx).await?;
                    removed.extend(gone);
                }
            }
        }
        removed.sort();
        removed
    }};
}

const UPDATE_STATE: &str = "UPDATE scim_resources SET name = $5, name_folded = $6, external_id = $7, \
             doc = $8, doc_folded = $9, version = version + 1, last_modified = $10 \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3 AND id = $4 AND version = $11";
const TOUCH: &str = "UPDATE scim_resources SET version = version + 1, last_modified = $5 \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3 AND id = $4 AND version = $6";
const TOUCH_ANY_VERSION: &str = "UPDATE scim_resources SET version = version + 1, last_modified = $5 \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3 AND id = $4";
const VERSION: &str = "SELECT version FROM scim_resources \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3 AND id = $4";

/// The writes of an update inside a write transaction (after the directory is locked);
/// evaluates to the membership outcome.
macro_rules! apply_update {
    ($data:expr, $tx:ident, $kind:expr, $id:expr, $update:expr, $context:expr, $lookups_changed:expr) => {{
        let (kind, id, context): (ResourceKind, &str, &WriteContext) = ($kind, $id, $context);
        let Update { expected_version, state, members, changes } = *$update;
        let folded = state.map(|state| fold(&state.doc));
        let updated = match (state, &folded, expected_version) {
            (Some(state), Some(folded), Some(expected_version)) => sqlx::query(UPDATE_STATE)
                .bind($data.tenant)
                .bind($data.directory)
                .bind(kind.as_str())
                .bind(id)
                .bind(&state.name)
                .bind(state.name.to_lowercase())
                .bind(state.external_id.as_deref())
                .bind(Json(&state.doc))
                .bind(Json(folded))
                .bind(context.at)
                .bind(expected_version)
                .execute(&mut *$tx)
                .await
                .map_err(|error| StoreError::on_unique_violation(error, name_conflict(kind)))?,
            (None, _, Some(expected_version)) => sqlx::query(TOUCH)
                .bind($data.tenant)
                .bind($data.directory)
                .bind(kind.as_str())
                .bind(id)
                .bind(context.at)
                .bind(expected_version)
                .execute(&mut *$tx)
                .await?,
            (None, _, None) => sqlx::query(TOUCH_ANY_VERSION)
                .bind($data.tenant)
                .bind($data.directory)
                .bind(kind.as_str())
                .bind(id)
                .bind(context.at)
                .execute(&mut *$tx)
                .await?,
            // A new document is computed from a version; writing it needs that version.
            (Some(_), _, None) | (Some(_), None, _) => {
                return Err(StoreError::Corrupt("a new state needs the version it was computed from".into()));
            }
        };
        if updated.rows_affected() == 0 {
            let current: Option<i64> = sqlx::query_scalar(VERSION)
                .bind($data.tenant)
                .bind($data.directory)
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&mut *$tx)
                .await?;
            return Err(match current {
                Some(current) => StoreError::VersionMismatch { current },
                None => StoreError::NotFound,
            });
        }
        // Rewritten only when the looked-up values changed: most writes leave emails alone.
        if let Some(state) = state.filter(|_| $lookups_changed) {
            write_lookup_values!($data, $tx, id, &state.doc, true);
        }
        if let Some(state) = state.filter(|_| kind == ResourceKind::User) {
            write_nonhuman!($data, $tx, id, &state.doc, true);
        }
        let mut outcome = MembershipOutcome::default();
        for delta in members {
            let (added, removed) = match delta {
                MemberDelta::Add(ids) => (membership_add!($data, $tx, id, ids), Vec::new()),
                MemberDelta::Remove(ids) => (Vec::new(), membership_remove!($data, $tx, id, Some(ids.as_slice()))),
                MemberDelta::RemoveAll => (Vec::new(), membership_remove!($data, $tx, id, None)),
                MemberDelta::Replace(ids) => {
                    let wanted: HashSet<&String> = ids.iter().collect();
                    let old = membership_remove!($data, $tx, id, None);
                    let old_set: HashSet<&String> = old.iter().collect();
                    let new = membership_add!($data, $tx, id, ids);
                    let added = new.into_iter().filter(|m| !old_set.contains(m)).collect();
                    let removed = old.iter().filter(|m| !wanted.contains(m)).cloned().collect();
                    (added, removed)
                }
            };
            if !added.is_empty() {
                let data = json!({ "group": id, "members": added });
                record_change!($data, $tx, context, ChangeKind::GroupMemberAdded.as_str(), "Group", id, &data);
            }
            if !removed.is_empty() {
                let data = json!({ "group": id, "members": removed });
                record_change!($data, $tx, context, ChangeKind::GroupMemberRemoved.as_str(), "Group", id, &data);
            }
            outcome.added.extend(added);
            outcome.removed.extend(removed);
        }
        for change in changes {
            record_change!($data, $tx, context, change.kind.as_str(), change.kind.resource_kind().as_str(),
                &change.resource_id, &change.data);
        }
        outcome
    }};
}

impl<'a> DirectoryData<'a> {
    pub(crate) fn new(store: &'a Store, tenant: TenantId, directory: DirectoryId) -> Self {
        Self { store, tenant, directory, batch: None }
    }

    /// Opens a transaction for several writes of this directory (see [`WriteBatch`]);
    /// `NotFound` when the directory is gone.
    pub async fn begin_batch(&self) -> Result<WriteBatch, StoreError> {
        let turn = match &self.store.pool {
            crate::Pool::Sqlite(_) => Some(std::sync::Arc::clone(&self.store.sqlite_writer).lock_owned().await),
            crate::Pool::Postgres(_) => None,
        };
        let open = match &self.store.pool {
            crate::Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                let locked = sqlx::query(LOCK_DIRECTORY)
                    .bind(self.tenant)
                    .bind(self.directory)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                (locked > 0).then_some(OpenTransaction::Sqlite(tx))
            }
            crate::Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(SET_TENANT_FOR_TRANSACTION).bind(self.tenant.to_string()).execute(&mut *tx).await?;
                let locked = sqlx::query(LOCK_DIRECTORY)
                    .bind(self.tenant)
                    .bind(self.directory)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                (locked > 0).then_some(OpenTransaction::Postgres(tx))
            }
        };
        let open = open.ok_or(StoreError::NotFound)?;
        Ok(WriteBatch {
            store: self.store.clone(),
            tenant: self.tenant,
            directory: self.directory,
            open: tokio::sync::Mutex::new(open),
            _turn: turn,
        })
    }

    pub fn directory_id(&self) -> DirectoryId {
        self.directory
    }

    /// The resource of this kind with this id, if the directory has it.
    pub async fn resource(&self, kind: ResourceKind, id: &str) -> Result<Option<ResourceRecord>, StoreError> {
        if let Some(batch) = self.batch {
            // Inside a batch the resource may be one of its own uncommitted writes.
            let mut open = batch.open.lock().await;
            let row: Option<ResourceRow> = on_open!(&mut *open, tx => sqlx::query_as(CURRENT)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?);
            return Ok(row.map(|row| record_from_row(kind, row)));
        }
        let row = self.by_id(kind, id, false).await?;
        Ok(row.map(|(id, doc, version, created_at, last_modified, _)| {
            record_from_row(kind, (id, doc, version, created_at, last_modified))
        }))
    }

    /// A user and the groups it belongs to, in one round trip: the hot path of
    /// `GET /Users/{id}`.
    pub async fn user_with_groups(&self, id: &str) -> Result<Option<(ResourceRecord, Vec<GroupRef>)>, StoreError> {
        let Some((id, doc, version, created_at, last_modified, groups)) =
            self.by_id(ResourceKind::User, id, true).await?
        else {
            return Ok(None);
        };
        let mut groups: Vec<GroupRef> = groups
            .as_ref()
            .and_then(|Json(groups)| groups.as_array())
            .into_iter()
            .flatten()
            .filter_map(|pair| {
                Some(GroupRef { id: pair.get(0)?.as_str()?.to_owned(), display: pair.get(1)?.as_str()?.to_owned() })
            })
            .collect();
        groups.sort_by(|a, b| a.id.cmp(&b.id));
        let record = record_from_row(ResourceKind::User, (id, doc, version, created_at, last_modified));
        Ok(Some((record, groups)))
    }

    /// One resource by id, and with `with_groups` the `[id, displayName]` pairs of the
    /// groups it is a member of, in one statement. On PostgreSQL through the function of
    /// migration 0009, which sets the tenant for row-level security in the same round trip.
    async fn by_id(&self, kind: ResourceKind, id: &str, with_groups: bool) -> Result<Option<ByIdRow>, StoreError> {
        const POSTGRES: &str = "SELECT * FROM scim_resource_by_id($1, $2, $3, $4, $5)";
        Ok(match &self.store.pool {
            crate::Pool::Sqlite(pool) => {
                sqlx::query_as(BY_ID_SQLITE)
                    .bind(self.tenant)
                    .bind(self.directory)
                    .bind(kind.as_str())
                    .bind(id)
                    .bind(with_groups)
                    .fetch_optional(pool)
                    .await?
            }
            crate::Pool::Postgres(pool) => {
                sqlx::query_as(POSTGRES)
                    .bind(self.tenant)
                    .bind(self.directory)
                    .bind(kind.as_str())
                    .bind(id)
                    .bind(with_groups)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    /// Stores a new resource with version 1 (a group with its initial `members`) and its
    /// change records.
    pub async fn create(
        &self,
        kind: ResourceKind,
        id: &str,
        state: &ResourceState,
        members: &[String],
        change: &Change,
        context: &WriteContext,
    ) -> Result<(), StoreError> {
        const INSERT: &str = "INSERT INTO scim_resources (tenant_id, directory_id, resource_type, id, name, \
             name_folded, external_id, doc, doc_folded, version, created_at, last_modified) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10, $10)";
        let folded = fold(&state.doc);
        in_transaction!(self, tx => {
            sqlx::query(INSERT)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(kind.as_str())
                .bind(id)
                .bind(&state.name)
                .bind(state.name.to_lowercase())
                .bind(state.external_id.as_deref())
                .bind(Json(&state.doc))
                .bind(Json(&folded))
                .bind(context.at)
                .execute(&mut *tx)
                .await
                .map_err(|error| StoreError::on_unique_violation(error, name_conflict(kind)))?;
            write_lookup_values!(self, tx, id, &state.doc, false);
            if kind == ResourceKind::User {
                write_nonhuman!(self, tx, id, &state.doc, false);
            }
            record_change!(self, tx, context, change.kind.as_str(), change.kind.resource_kind().as_str(),
                &change.resource_id, &change.data);
            if !members.is_empty() {
                if kind == ResourceKind::User {
                    return Err(StoreError::Corrupt("users have no members".to_owned()));
                }
                let added = membership_add!(self, tx, id, members);
                let data = json!({ "group": id, "members": added });
                record_change!(self, tx, context, ChangeKind::GroupMemberAdded.as_str(), "Group", id, &data);
            }
            Ok::<(), StoreError>(())
        })
    }

    /// Reads a resource and writes what `compute` makes of it, in one transaction with the
    /// directory locked: no other write of the directory can come in between, so the
    /// outcome never needs a retry and an `If-Match` check inside `compute` is exact.
    /// `compute` answering `Ok(None)` writes nothing (a retried request that changes
    /// nothing); its `Err` is handed back as the inner error.
    pub async fn modify<E, F>(
        &self,
        kind: ResourceKind,
        id: &str,
        context: &WriteContext,
        compute: F,
    ) -> Result<Result<(ResourceRecord, MembershipOutcome), E>, StoreError>
    where
        F: FnOnce(&ResourceRecord) -> Result<Option<Computed>, E>,
    {
        in_transaction!(self, tx => {
            let row: Option<ResourceRow> = sqlx::query_as(CURRENT)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                return Err(StoreError::NotFound);
            };
            let current = record_from_row(kind, row);
            let computed = match compute(&current) {
                Ok(Some(computed)) => computed,
                Ok(None) => return Ok(Ok((current, MembershipOutcome::default()))),
                Err(error) => return Ok(Err(error)),
            };
            if kind == ResourceKind::User && !computed.members.is_empty() {
                return Err(StoreError::Corrupt("users have no members".to_owned()));
            }
            let update = Update {
                expected_version: Some(current.version),
                state: computed.state.as_ref(),
                members: &computed.members,
                changes: &computed.changes,
            };
            let lookups_changed =
                computed.state.as_ref().is_some_and(|state| lookup_values(&state.doc) != lookup_values(&current.doc));
            let outcome = apply_update!(self, tx, kind, id, &update, context, lookups_changed);
            let record = ResourceRecord {
                doc: computed.state.map_or_else(|| current.doc.clone(), |state| state.doc),
                version: current.version + 1,
                last_modified: context.at,
                ..current
            };
            Ok::<_, StoreError>(Ok((record, outcome)))
        })
    }

    /// Replaces a resource's state (when `state` is given) and applies membership deltas
    /// (groups only), if its version is still `expected_version`; bumps the version and
    /// `last_modified`, and records `changes` plus one record per membership delta.
    pub async fn update(
        &self,
        kind: ResourceKind,
        id: &str,
        update: &Update<'_>,
        context: &WriteContext,
    ) -> Result<MembershipOutcome, StoreError> {
        if kind == ResourceKind::User && !update.members.is_empty() {
            return Err(StoreError::Corrupt("users have no members".to_owned()));
        }
        in_transaction!(self, tx => {
            let outcome = apply_update!(self, tx, kind, id, update, context, true);
            Ok::<MembershipOutcome, StoreError>(outcome)
        })
    }

    /// Deletes a resource (if its version is `expected_version`, when given), after
    /// removing it from every group it belongs to; each such group gets a new version and a
    /// `group.member_removed` record.
    pub async fn delete(
        &self,
        kind: ResourceKind,
        id: &str,
        expected_version: Option<i64>,
        change: &Change,
        context: &WriteContext,
    ) -> Result<(), StoreError> {
        const LEAVE_GROUPS: &str = "DELETE FROM scim_members \
             WHERE tenant_id = $1 AND directory_id = $2 AND member_id = $3 RETURNING group_id";
        const TOUCH_GROUP: &str = "UPDATE scim_resources SET version = version + 1, last_modified = $4 \
             WHERE tenant_id = $1 AND directory_id = $2 AND id = $3";
        const DELETE: &str = "DELETE FROM scim_resources WHERE tenant_id = $1 AND directory_id = $2 AND id = $3";
        in_transaction!(self, tx => {
            let current: Option<i64> = sqlx::query_scalar(VERSION)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            match (current, expected_version) {
                (None, _) => return Err(StoreError::NotFound),
                (Some(current), Some(expected)) if current != expected => {
                    return Err(StoreError::VersionMismatch { current });
                }
                _ => {}
            }
            let mut groups: Vec<String> = sqlx::query_scalar(LEAVE_GROUPS)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            groups.sort();
            for group in &groups {
                sqlx::query(TOUCH_GROUP)
                    .bind(self.tenant)
                    .bind(self.directory)
                    .bind(group)
                    .bind(context.at)
                    .execute(&mut *tx)
                    .await?;
                let data = json!({ "group": group, "members": [id] });
                record_change!(self, tx, context, ChangeKind::GroupMemberRemoved.as_str(), "Group", group, &data);
            }
            sqlx::query(DELETE).bind(self.tenant).bind(self.directory).bind(id).execute(&mut *tx).await?;
            record_change!(self, tx, context, change.kind.as_str(), change.kind.resource_kind().as_str(),
                &change.resource_id, &change.data);
            Ok::<(), StoreError>(())
        })
    }

    /// The resources of `kind` that match the filter, ordered and paged.
    pub async fn list(&self, kind: ResourceKind, spec: &ListSpec<'_>) -> Result<ListPage, StoreError> {
        let ListStatements { count_sql, filter_binds, page_sql, binds } = self.list_statements(kind, spec);
        let (total, rows): (i64, Vec<ResourceRow>) = as_tenant!(self, conn => {
            let mut count = sqlx::query_as(&count_sql).bind(self.tenant).bind(self.directory).bind(kind.as_str());
            for bind in &filter_binds {
                count = filter_sql::bind_query_as(count, bind);
            }
            let (total,): (i64,) = count.fetch_one(&mut *conn).await?;
            let mut query = sqlx::query_as(&page_sql).bind(self.tenant).bind(self.directory).bind(kind.as_str());
            for bind in &binds {
                query = filter_sql::bind_query_as(query, bind);
            }
            (total, query.fetch_all(&mut *conn).await?)
        });
        Ok(ListPage { total, records: rows.into_iter().map(|row| record_from_row(kind, row)).collect() })
    }

    /// The count and page statements of a listing, with their parameters after the first
    /// three ($1 tenant, $2 directory, $3 resource type).
    fn list_statements(&self, kind: ResourceKind, spec: &ListSpec<'_>) -> ListStatements {
        let backend = self.store.backend();
        let dialect = filter_sql::Dialect::from(backend);
        let target = filter_sql::target(kind);
        // $1 tenant, $2 directory, $3 resource type; the filter's parameters follow.
        let filter = spec.filter.map(|plan| filter_sql::render(plan, target, dialect, 4));
        let mut binds: Vec<SqlBind> = filter.as_ref().map(|f| f.binds.clone()).unwrap_or_default();
        let mut conditions = String::from("r.tenant_id = $1 AND r.directory_id = $2 AND r.resource_type = $3");
        if let Some(filter) = &filter {
            conditions.push_str(&format!(" AND ({})", filter.sql));
        }
        let count_sql = format!("SELECT COUNT(*) FROM scim_resources r WHERE {conditions}");
        let mut next = 4 + binds.len();
        let (order, page) = match (&spec.page, &spec.sort) {
            (PageSpec::After { after, take }, _) => {
                if let Some(after) = after {
                    conditions.push_str(&format!(" AND r.id > ${next}"));
                    binds.push(SqlBind::Text(after.clone()));
                    next += 1;
                }
                binds.push(SqlBind::Integer(*take));
                ("r.id".to_owned(), format!("LIMIT ${next}"))
            }
            (PageSpec::Offset { skip, take }, sort) => {
                let order = match sort {
                    None => "r.id".to_owned(),
                    Some(key) => {
                        let (expr, sort_binds) = sort_expression(&key.field, backend, next);
                        next += sort_binds.len();
                        binds.extend(sort_binds);
                        let direction = if key.descending { "DESC" } else { "ASC" };
                        format!("({expr}) IS NULL, {expr} {direction}, r.id")
                    }
                };
                binds.push(SqlBind::Integer(*take));
                binds.push(SqlBind::Integer(*skip));
                (order, format!("LIMIT ${next} OFFSET ${}", next + 1))
            }
        };
        let page_sql = format!(
            "SELECT r.id, r.doc, r.version, r.created_at, r.last_modified FROM scim_resources r \
             WHERE {conditions} ORDER BY {order} {page}"
        );
        let filter_binds = filter.map(|f| f.binds).unwrap_or_default();
        ListStatements { count_sql, filter_binds, page_sql, binds }
    }

    /// The query plans of a listing's count and page statements, as the database reports
    /// them (`EXPLAIN QUERY PLAN` on SQLite; `EXPLAIN` on PostgreSQL, first with the values
    /// bound and then the plan it settles on for a statement prepared and run five times),
    /// for tests that the probes IdPs send are answered from an index.
    #[cfg(feature = "test-support")]
    pub async fn explain_list(&self, kind: ResourceKind, spec: &ListSpec<'_>) -> Result<Vec<String>, StoreError> {
        let ListStatements { count_sql, filter_binds, page_sql, binds } = self.list_statements(kind, spec);
        let explain = match self.store.backend() {
            crate::Backend::Sqlite => "EXPLAIN QUERY PLAN",
            crate::Backend::Postgres => "EXPLAIN",
        };
        let mut plans = Vec::new();
        for generic in [false, true] {
            if generic && self.store.backend() == crate::Backend::Sqlite {
                continue;
            }
            for (sql, binds) in [(&count_sql, &filter_binds), (&page_sql, &binds)] {
                // The plan PostgreSQL settles on for a prepared statement: after five
                // executions it switches to a generic plan if that looks no costlier than
                // the plans made for the values. EXPLAIN EXECUTE takes no bound parameters,
                // so the values are spelled as literals (test support only).
                let mut arguments =
                    vec![format!("'{}'", self.tenant), format!("'{}'", self.directory), format!("'{}'", kind.as_str())];
                arguments.extend(binds.iter().map(|bind| match bind {
                    SqlBind::Text(text) => format!("'{}'", text.replace('\'', "''")),
                    SqlBind::Integer(number) => number.to_string(),
                    SqlBind::Real(number) => format!("{number:?}"),
                    SqlBind::DateTime(at) => format!("'{}'", at.to_rfc3339()),
                }));
                let execute = format!("EXECUTE explained_probe({})", arguments.join(", "));
                let explained = if generic { format!("EXPLAIN {execute}") } else { format!("{explain} {sql}") };
                let plan: Vec<String> = as_tenant!(self, conn => {
                    if generic {
                        sqlx::raw_sql(&format!("PREPARE explained_probe AS {sql}")).execute(&mut *conn).await?;
                        for _ in 0..5 {
                            sqlx::raw_sql(&execute).execute(&mut *conn).await?;
                        }
                    }
                    let lines: Vec<PlanLine> = if generic {
                        sqlx::query_as(&explained).fetch_all(&mut *conn).await?
                    } else {
                        let mut query =
                            sqlx::query_as(&explained).bind(self.tenant).bind(self.directory).bind(kind.as_str());
                        for bind in binds {
                            query = filter_sql::bind_query_as(query, bind);
                        }
                        query.fetch_all(&mut *conn).await?
                    };
                    if generic {
                        sqlx::query("DEALLOCATE explained_probe").execute(&mut *conn).await?;
                    }
                    lines.into_iter().map(|PlanLine(line)| line).collect()
                });
                plans.push(plan.join("\n"));
            }
        }
        Ok(plans)
    }

    /// The query plans of the membership reads: a user by id with its groups (SQLite only:
    /// on PostgreSQL that query runs inside a function whose plan `EXPLAIN` does not show),
    /// the groups of a user and the members of a group; for tests that none of them reads
    /// every membership of the directory.
    #[cfg(feature = "test-support")]
    pub async fn explain_memberships(&self, user: &str, group: &str) -> Result<Vec<String>, StoreError> {
        let explain = match self.store.backend() {
            crate::Backend::Sqlite => "EXPLAIN QUERY PLAN",
            crate::Backend::Postgres => "EXPLAIN",
        };
        let mut statements = vec![(groups_of_sql(1), user), (members_of_sql(1), group)];
        if self.store.backend() == crate::Backend::Sqlite {
            statements.push((BY_ID_SQLITE.replace("$5", "1"), user));
        }
        let mut plans = Vec::new();
        for (sql, id) in statements {
            let explained = format!("{explain} {sql}");
            let lines: Vec<PlanLine> = as_tenant!(self, conn => {
                let query = sqlx::query_as(&explained).bind(self.tenant).bind(self.directory);
                let query = if sql.contains("$4") { query.bind(ResourceKind::User.as_str()).bind(id) } else { query.bind(id) };
                query.fetch_all(&mut *conn).await?
            });
            plans.push(lines.into_iter().map(|PlanLine(line)| line).collect::<Vec<_>>().join("\n"));
        }
        Ok(plans)
    }

    /// The members of each of `groups`, ordered by id.
    pub async fn members_of(&self, groups: &[String]) -> Result<HashMap<String, Vec<Member>>, StoreError> {
        let mut result: HashMap<String, Vec<Member>> = HashMap::new();
        for chunk in groups.chunks(CHUNK) {
            let query = members_of_sql(chunk.len());
            let rows: Vec<(String, String, String, String)> = as_tenant!(self, conn => {
                let mut q = sqlx::query_as(&query).bind(self.tenant).bind(self.directory);
                for group in chunk {
                    q = q.bind(group);
                }
                q.fetch_all(&mut *conn).await?
            });
            for (group, id, kind, display) in rows {
                result.entry(group).or_default().push(Member { id, kind: ResourceKind::parse(&kind)?, display });
            }
        }
        Ok(result)
    }

    /// The groups each of `users` belongs to directly, ordered by group id.
    pub async fn groups_of(&self, users: &[String]) -> Result<HashMap<String, Vec<GroupRef>>, StoreError> {
        let mut result: HashMap<String, Vec<GroupRef>> = HashMap::new();
        for chunk in users.chunks(CHUNK) {
            let query = groups_of_sql(chunk.len());
            let rows: Vec<(String, String, String)> = as_tenant!(self, conn => {
                let mut q = sqlx::query_as(&query).bind(self.tenant).bind(self.directory);
                for user in chunk {
                    q = q.bind(user);
                }
                q.fetch_all(&mut *conn).await?
            });
            for (user, id, display) in rows {
                result.entry(user).or_default().push(GroupRef { id, display });
            }
        }
        Ok(result)
    }

    /// Change records with a sequence number above `after`, oldest first.
    pub async fn changes_after(&self, after: i64, limit: i64) -> Result<Vec<ChangeRecord>, StoreError> {
        const QUERY: &str = "SELECT seq, id, kind, resource_type, resource_id, actor, occurred_at, data \
             FROM directory_changes WHERE tenant_id = $1 AND directory_id = $2 AND seq > $3 ORDER BY seq LIMIT $4";
        let rows: Vec<ChangeRow> = as_tenant!(self, conn => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter()
            .map(|(seq, id, kind, resource_type, resource_id, actor, occurred_at, Json(data))| {
                Ok(ChangeRecord {
                    seq,
                    id,
                    kind,
                    resource_type: ResourceKind::parse(&resource_type)?,
                    resource_id,
                    actor,
                    occurred_at,
                    data,
                })
            })
            .collect()
    }
}

fn record_from_row(
    kind: ResourceKind,
    (id, Json(doc), version, created_at, last_modified): ResourceRow,
) -> ResourceRecord {
    ResourceRecord { kind, id, doc, version, created_at, last_modified }
}

fn name_conflict(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "a user with this userName already exists in the directory",
        ResourceKind::Group => "this group already exists",
    }
}

/// `$first, $first+1, …` for `count` parameters.
/// One resource by id with the `[id, name]` pairs of the groups it is a member of
/// (SQLite; PostgreSQL runs the same query inside `scim_resource_by_id`, migration 0009).
const BY_ID_SQLITE: &str = "SELECT r.id, r.doc, r.version, r.created_at, r.last_modified, \
     CASE WHEN $5 THEN (SELECT json_group_array(json_array(g.id, g.name)) FROM scim_members m \
     JOIN scim_resources g ON g.tenant_id = m.tenant_id AND g.directory_id = m.directory_id AND g.id = m.group_id \
     WHERE m.tenant_id = r.tenant_id AND m.directory_id = r.directory_id AND m.member_id = r.id) END \
     FROM scim_resources r \
     WHERE r.tenant_id = $1 AND r.directory_id = $2 AND r.resource_type = $3 AND r.id = $4";

/// The members of `groups` groups (bound from `$3`), with their names.
fn members_of_sql(groups: usize) -> String {
    format!(
        "SELECT m.group_id, m.member_id, m.member_type, r.name FROM scim_members m \
         JOIN scim_resources r ON r.tenant_id = m.tenant_id AND r.directory_id = m.directory_id \
         AND r.id = m.member_id \
         WHERE m.tenant_id = $1 AND m.directory_id = $2 AND m.group_id IN ({}) \
         ORDER BY m.group_id, m.member_id",
        placeholders(3, groups)
    )
}

/// The groups of `users` users (bound from `$3`), with their names.
fn groups_of_sql(users: usize) -> String {
    format!(
        "SELECT m.member_id, m.group_id, g.name FROM scim_members m \
         JOIN scim_resources g ON g.tenant_id = m.tenant_id AND g.directory_id = m.directory_id \
         AND g.id = m.group_id \
         WHERE m.tenant_id = $1 AND m.directory_id = $2 AND m.member_id IN ({}) \
         ORDER BY m.member_id, m.group_id",
        placeholders(3, users)
    )
}

fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// The SQL of a sort key (and its bind parameter, numbered `$placeholder`).
/// The SQL value `field` orders by, and its parameters (numbered from `placeholder`).
fn sort_expression(field: &SortField, backend: crate::Backend, placeholder: usize) -> (String, Vec<SqlBind>) {
    let dialect = filter_sql::Dialect::from(backend);
    let path = |keys: &[String]| SqlBind::Text(filter_sql::json_path(dialect, keys));
    let document = |case_exact: bool| if case_exact { "r.doc" } else { "r.doc_folded" };
    let (p, q) = (placeholder, placeholder + 1);
    match field {
        SortField::Id => ("r.id".to_owned(), Vec::new()),
        SortField::Name => ("r.name_folded".to_owned(), Vec::new()),
        SortField::ExternalId => ("r.external_id".to_owned(), Vec::new()),
        SortField::Created => ("r.created_at".to_owned(), Vec::new()),
        SortField::LastModified => ("r.last_modified".to_owned(), Vec::new()),
        SortField::Document { keys, case_exact } => {
            let doc = document(*case_exact);
            let expr = match backend {
                crate::Backend::Sqlite => format!("json_extract({doc}, ${p})"),
                crate::Backend::Postgres => format!("({doc} #> CAST(${p} AS text[]))"),
            };
            (expr, vec![path(keys)])
        }
        // The primary element, else the first (RFC 7644 §3.4.2.3), as the evaluator's sort.
        SortField::MultiValued { array, element, case_exact } => {
            let doc = document(*case_exact);
            let mut binds = vec![path(array)];
            let expr = match backend {
                crate::Backend::Sqlite => {
                    let value = if element.is_empty() {
                        "CASE WHEN e.type IN ('object', 'array') THEN NULL ELSE e.value END".to_owned()
                    } else {
                        binds.push(path(element));
                        format!("CASE WHEN e.type = 'object' THEN json_extract(e.value, ${q}) END")
                    };
                    format!(
                        "(SELECT {value} FROM json_each({doc}, ${p}) e WHERE json_type({doc}, ${p}) = 'array' \
                         ORDER BY CASE WHEN e.type = 'object' AND json_extract(e.value, '$.primary') = 1 \
                         THEN 0 ELSE 1 END, e.key LIMIT 1)"
                    )
                }
                crate::Backend::Postgres => {
                    let value = if element.is_empty() {
                        "v".to_owned()
                    } else {
                        binds.push(path(element));
                        format!("(v #> CAST(${q} AS text[]))")
                    };
                    format!(
                        "(SELECT {value} FROM jsonb_array_elements(CASE WHEN jsonb_typeof({doc} #> CAST(${p} AS text[])) \
                         = 'array' THEN {doc} #> CAST(${p} AS text[]) END) WITH ORDINALITY AS e(v, n) \
                         ORDER BY CASE WHEN v -> 'primary' = 'true'::jsonb THEN 0 ELSE 1 END, n LIMIT 1)"
                    )
                }
            };
            (expr, binds)
        }
    }
}

/// The document with every string value lower-cased (Unicode-aware, as the filter
/// evaluator does), for case-insensitive filters in SQL.
pub(crate) fn fold(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.to_lowercase()),
        Value::Array(items) => Value::Array(items.iter().map(fold).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), fold(v))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_lower_cases_strings_beyond_ascii_and_keeps_keys() {
        let doc = json!({"userName": "ÅSA", "name": {"familyName": "STRAßE"}, "emails": [{"value": "A@B.C", "primary": true}]});
        assert_eq!(
            fold(&doc),
            json!({"userName": "åsa", "name": {"familyName": "straße"}, "emails": [{"value": "a@b.c", "primary": true}]})
        );
    }

    #[test]
    fn placeholders_number_from_the_first() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
    }
}
