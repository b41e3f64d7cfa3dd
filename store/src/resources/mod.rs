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
//!
//! The model is here; `transaction` holds the transactions and connections, `write` the
//! writes and their steps, `read` the reads, `explain` (test support) their query plans.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;

use crate::Store;
use crate::ids::{DirectoryId, EventId, TenantId};
use crate::resource_kind::ResourceKind;

pub(crate) mod brake;
mod create_all;
#[cfg(feature = "test-support")]
mod explain;
mod read;
mod republish;
mod suspensions;
pub(crate) mod transaction;
pub(crate) mod write;

pub(crate) use brake::BrakePopulation;
pub use brake::{BRAKE_WINDOW_MINUTES, BrakeSettings, HeldBatch, HeldChange, HoldReason};
pub use create_all::Creation;
pub use republish::{RepublishOutcome, Republished, UserToRepublish};
pub use suspensions::{SuspensionOutcome, SuspensionRecord};
pub(crate) use transaction::ScopedConnection;
pub use transaction::WriteBatch;

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
    AgentCreated,
    AgentUpdated,
    AgentDeactivated,
    AgentReactivated,
    AgentDeleted,
    AgenticApplicationCreated,
    AgenticApplicationUpdated,
    AgenticApplicationDeactivated,
    AgenticApplicationReactivated,
    AgenticApplicationDeleted,
}

impl ChangeKind {
    const ALL: [ChangeKind; 20] = [
        ChangeKind::UserCreated,
        ChangeKind::UserUpdated,
        ChangeKind::UserDeactivated,
        ChangeKind::UserReactivated,
        ChangeKind::UserDeleted,
        ChangeKind::GroupCreated,
        ChangeKind::GroupUpdated,
        ChangeKind::GroupDeleted,
        ChangeKind::GroupMemberAdded,
        ChangeKind::GroupMemberRemoved,
        ChangeKind::AgentCreated,
        ChangeKind::AgentUpdated,
        ChangeKind::AgentDeactivated,
        ChangeKind::AgentReactivated,
        ChangeKind::AgentDeleted,
        ChangeKind::AgenticApplicationCreated,
        ChangeKind::AgenticApplicationUpdated,
        ChangeKind::AgenticApplicationDeactivated,
        ChangeKind::AgenticApplicationReactivated,
        ChangeKind::AgenticApplicationDeleted,
    ];

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
            ChangeKind::AgentCreated => "agent.created",
            ChangeKind::AgentUpdated => "agent.updated",
            ChangeKind::AgentDeactivated => "agent.deactivated",
            ChangeKind::AgentReactivated => "agent.reactivated",
            ChangeKind::AgentDeleted => "agent.deleted",
            ChangeKind::AgenticApplicationCreated => "agentic_application.created",
            ChangeKind::AgenticApplicationUpdated => "agentic_application.updated",
            ChangeKind::AgenticApplicationDeactivated => "agentic_application.deactivated",
            ChangeKind::AgenticApplicationReactivated => "agentic_application.reactivated",
            ChangeKind::AgenticApplicationDeleted => "agentic_application.deleted",
        }
    }

    /// Every change kind's name, for the lists that validate subscriptions.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Self::ALL.into_iter().map(Self::as_str)
    }

    pub(crate) fn parse(text: &str) -> Result<Self, crate::StoreError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("unknown change kind {text}")))
    }

    /// The creation of a `kind`.
    pub fn created(kind: ResourceKind) -> Self {
        match kind {
            ResourceKind::User => ChangeKind::UserCreated,
            ResourceKind::Group => ChangeKind::GroupCreated,
            ResourceKind::Agent => ChangeKind::AgentCreated,
            ResourceKind::AgenticApplication => ChangeKind::AgenticApplicationCreated,
        }
    }

    /// The deletion of a `kind`.
    pub fn deleted(kind: ResourceKind) -> Self {
        match kind {
            ResourceKind::User => ChangeKind::UserDeleted,
            ResourceKind::Group => ChangeKind::GroupDeleted,
            ResourceKind::Agent => ChangeKind::AgentDeleted,
            ResourceKind::AgenticApplication => ChangeKind::AgenticApplicationDeleted,
        }
    }

    /// An update of a `kind` whose `active` went from `was_active` to `is_active` (both
    /// true for a kind without `active`): a deactivation, a reactivation or an update.
    pub fn updated(kind: ResourceKind, was_active: bool, is_active: bool) -> Self {
        use ChangeKind::*;
        let (updated, deactivated, reactivated) = match kind {
            ResourceKind::User => (UserUpdated, UserDeactivated, UserReactivated),
            ResourceKind::Group => return GroupUpdated,
            ResourceKind::Agent => (AgentUpdated, AgentDeactivated, AgentReactivated),
            ResourceKind::AgenticApplication => {
                (AgenticApplicationUpdated, AgenticApplicationDeactivated, AgenticApplicationReactivated)
            }
        };
        match (was_active, is_active) {
            (true, false) => deactivated,
            (false, true) => reactivated,
            _ => updated,
        }
    }

    pub(crate) fn resource_kind(self) -> ResourceKind {
        use ChangeKind::*;
        match self {
            UserCreated | UserUpdated | UserDeactivated | UserReactivated | UserDeleted => ResourceKind::User,
            GroupCreated | GroupUpdated | GroupDeleted | GroupMemberAdded | GroupMemberRemoved => ResourceKind::Group,
            AgentCreated | AgentUpdated | AgentDeactivated | AgentReactivated | AgentDeleted => ResourceKind::Agent,
            AgenticApplicationCreated
            | AgenticApplicationUpdated
            | AgenticApplicationDeactivated
            | AgenticApplicationReactivated
            | AgenticApplicationDeleted => ResourceKind::AgenticApplication,
        }
    }
}

/// What happened to a directory itself, as its feed names it (migration 0024).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryChangeKind {
    /// Its setup completed (the first time only).
    Activated,
    /// It was deleted; its data is purged after the operator's retention period.
    Deleted,
}

impl DirectoryChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DirectoryChangeKind::Activated => "directory.activated",
            DirectoryChangeKind::Deleted => "directory.deleted",
        }
    }
}

/// What a change record is about: a user or group of the directory, or the directory
/// itself (stored as `resource_type` `User`, `Group` or `Directory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSubject {
    Resource(ResourceKind),
    Directory,
}

impl ChangeSubject {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeSubject::Resource(kind) => kind.as_str(),
            ChangeSubject::Directory => "Directory",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, crate::StoreError> {
        match text {
            "Directory" => Ok(ChangeSubject::Directory),
            other => ResourceKind::parse(other).map(ChangeSubject::Resource),
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
    /// The normalized view of the resource after the change (before, for a deletion) and
    /// the normalized fields it changed (`{"normalized": …, "previous_attributes": …}`),
    /// under the tenant's attribute mapping.
    pub view: Option<Value>,
}

/// Who makes a write, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteContext {
    /// `token:<id>` for a SCIM client, `operator:<id>` for a person.
    pub actor: String,
    pub at: DateTime<Utc>,
}

impl WriteContext {
    /// The write's time when a SCIM client's token makes it (an identity provider, the
    /// wizard's self-test, the demo's simulated one), for the resource's `idp_touched_at`;
    /// `None` for the system's and people's writes.
    pub fn identity_provider_write(&self) -> Option<DateTime<Utc>> {
        self.actor.starts_with("token:").then_some(self.at)
    }
}

/// A stored change record.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRecord {
    pub seq: i64,
    pub id: EventId,
    pub kind: String,
    pub resource_type: ChangeSubject,
    /// The user's or group's id; the directory's own id for a change of the directory.
    pub resource_id: String,
    pub actor: String,
    pub occurred_at: DateTime<Utc>,
    pub data: Value,
    /// See [`Change::view`]; `None` for membership changes and changes recorded before
    /// views existed.
    pub view: Option<Value>,
}

/// A stored change record with its documents as the JSON text stored, for a reader that
/// hands them on rather than looks inside (the events API would otherwise parse each and
/// write it out again).
#[derive(Debug)]
pub struct StoredChange {
    pub seq: i64,
    pub kind: String,
    pub resource_type: ChangeSubject,
    pub resource_id: String,
    pub occurred_at: DateTime<Utc>,
    pub data: Box<serde_json::value::RawValue>,
    /// The view's JSON text, unchecked.
    pub view: Option<String>,
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
    /// Records for the tenant's audit trail that commit with the write: those of a job's
    /// action (SCIM requests are recorded by the request log instead).
    pub records: Vec<crate::NewAuditRecord>,
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
    /// Keyset paging in id order (RFC 9865 cursors, Directory Sync's `after`/`before`):
    /// at most `take` of the ones beyond `from` (all with `None`), in ascending id order or,
    /// with `descending`, descending.
    Keyset { from: Option<String>, descending: bool, take: i64 },
}

/// The ids of the resources the wizard's self-test creates start with this: neither they
/// nor their changes reach the vendor's product (the event feed, webhooks and the reads of
/// the operator's APIs leave them out).
pub const SELF_TEST_ID_PREFIX: &str = "selftest-";

/// A listing request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListSpec<'p> {
    pub filter: Option<&'p scim::filter::plan::Plan>,
    pub sort: Option<SortKey>,
    pub page: PageSpec,
    /// Leave out the self-test's resources (see [`SELF_TEST_ID_PREFIX`]).
    pub hide_self_test: bool,
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

impl<'a> DirectoryData<'a> {
    pub(crate) fn new(store: &'a Store, tenant: TenantId, directory: DirectoryId) -> Self {
        Self { store, tenant, directory, batch: None }
    }

    pub fn directory_id(&self) -> DirectoryId {
        self.directory
    }
}

type ResourceRow = (String, Json<Value>, i64, DateTime<Utc>, DateTime<Utc>);

/// Ids per statement in `IN (…)` lists and multi-row inserts (SQLite allows 32,766
/// parameters per statement; PostgreSQL 65,535).
const CHUNK: usize = 500;

/// A resource's row by type and id.
const CURRENT: &str = "SELECT id, doc, version, created_at, last_modified FROM scim_resources \
     WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3 AND id = $4";
const VERSION: &str = "SELECT version FROM scim_resources \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3 AND id = $4";

fn record_from_row(
    kind: ResourceKind,
    (id, Json(doc), version, created_at, last_modified): ResourceRow,
) -> ResourceRecord {
    ResourceRecord { kind, id, doc, version, created_at, last_modified }
}

/// The member ids a membership change record names (`{"group": …, "members": [ids]}`);
/// none for other records.
pub fn change_members(data: &Value) -> Vec<String> {
    data.get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|member| member.as_str().map(str::to_owned))
        .collect()
}

/// `$first, $first+1, …` for `count` parameters.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_from_the_first() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
    }
}
