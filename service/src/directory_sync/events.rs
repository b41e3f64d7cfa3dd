//! `GET /events`: the changes of every directory of the deployment, in one order
//! (`store::FeedQuery`), as WorkOS's `dsync.*` events. A user or group event carries the
//! resource as it was normalized when the change was written (and, on an update, its
//! `previous_attributes`); a membership change becomes one `dsync.group.user_added` or
//! `user_removed` event per member, with the user and group as they are now.
//!
//! A directory's own changes are `dsync.activated` (its setup completed) and
//! `dsync.deleted`, carrying the directory as it was then. A deleted directory's events stay
//! readable until its data is purged; its membership events then name the user and group
//! by id only, since neither is served any more.
//!
//! Event ids name the change (`event_<directory><number>`, and `_<n>` for the n-th member
//! of a membership change), so that `after=<id>` finds its place without a table of ids.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use scim::normalized::{NormalizedGroup, NormalizedUser, UserState};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use store::{
    ChangeSubject, DirectoryId, FeedEntry, FeedPosition, FeedQuery, ResourceKind, Store, StoredChange, TenantId,
};
use uuid::Uuid;

use super::objects::{DirectoryGroup, DirectoryUser, RawAttributes, timestamp};
use super::{Page, SyncError, UserShaping, ids, open};
use crate::provisioning::Endpoint;

/// The event types of Directory Sync, and the changes each stands for.
const TYPES: &[(&str, &[&str])] = &[
    ("dsync.user.created", &["user.created"]),
    ("dsync.user.updated", &["user.updated", "user.deactivated", "user.reactivated"]),
    ("dsync.user.deleted", &["user.deleted"]),
    ("dsync.group.created", &["group.created"]),
    ("dsync.group.updated", &["group.updated"]),
    ("dsync.group.deleted", &["group.deleted"]),
    ("dsync.group.user_added", &["group.member_added"]),
    ("dsync.group.user_removed", &["group.member_removed"]),
    ("dsync.activated", &["directory.activated"]),
    ("dsync.deleted", &["directory.deleted"]),
];

/// Whether `name` is a Directory Sync event type.
pub(super) fn is_event_type(name: &str) -> bool {
    TYPES.iter().any(|(known, _)| *known == name)
}

/// The id of the last event a reader can see now (`None` before the first): where an
/// endpoint made now starts, so that it receives what happens from then on.
pub(super) async fn last_event_id(store: &Store) -> Result<Option<String>, SyncError> {
    let Some(entry) = store.last_feed_entry().await? else { return Ok(None) };
    let FeedPosition { tenant, directory, seq, .. } = entry.at;
    let member = if entry.kind.starts_with("group.member") {
        let changes = store.tenant(tenant).directory_data(directory).changes_numbered(&[seq]).await?;
        let members = changes.first().and_then(|change| change.data.get("members")).and_then(Value::as_array);
        members.map(|members| members.len().saturating_sub(1))
    } else {
        None
    };
    Ok(Some(EventId { directory, seq, member }.text()))
}

/// The id of the event of a change that is not a membership change.
pub(super) fn change_event_id(directory: DirectoryId, seq: i64) -> String {
    EventId { directory, seq, member: None }.text()
}

/// The Directory Sync type of a change.
pub(super) fn event_type(kind: &str) -> Option<&'static str> {
    TYPES.iter().find(|(_, kinds)| kinds.contains(&kind)).map(|(name, _)| *name)
}

/// What `GET /events` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Directory Sync event types (at least one).
    pub events: Vec<String>,
    pub organization: Option<String>,
    /// RFC 3339.
    pub range_start: Option<String>,
    pub range_end: Option<String>,
    pub after: Option<String>,
    pub limit: i64,
}

/// An event as the SDKs read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncEvent {
    pub object: &'static str,
    pub id: String,
    pub event: &'static str,
    pub data: EventData,
    pub created_at: String,
}

impl SyncEvent {
    /// Whether the event takes a user's access away (a deletion, or an update to inactive).
    pub fn revokes_access(&self) -> bool {
        match (self.event, &self.data) {
            ("dsync.user.deleted", _) => true,
            ("dsync.user.updated", EventData::User(user)) => user.resource.state == UserState::Inactive,
            _ => false,
        }
    }
}

/// What an event carries. Typed rather than a JSON tree: the events API writes pages of
/// them out, and building each as a `Value` first was most of its time.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventData {
    User(Box<ResourceEvent<DirectoryUser>>),
    Group(Box<ResourceEvent<DirectoryGroup>>),
    Membership(Box<MembershipEvent>),
    /// The directory as it was (`dsync.activated`, `dsync.deleted`).
    Directory(Value),
}

impl EventData {
    /// The id of what the event is about: the user, the group (a membership event's group)
    /// or the directory.
    pub fn subject_id(&self) -> &str {
        match self {
            EventData::User(user) => &user.resource.id,
            EventData::Group(group) => &group.resource.id,
            EventData::Membership(membership) => &membership.group.id,
            EventData::Directory(directory) => directory["id"].as_str().unwrap_or_default(),
        }
    }
}

/// A user or group event: the resource as it was normalized when the change was written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceEvent<T> {
    #[serde(flatten)]
    pub resource: T,
    /// On an update, what the changed attributes were before it (`null` if unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_attributes: Option<Value>,
}

/// A member added to or removed from a group, both as they are now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MembershipEvent {
    pub directory_id: String,
    pub user: DirectoryUser,
    pub group: DirectoryGroup,
}

/// A change's view as stored (see `objects::event_directory` and the provisioning
/// writes), its normalized resource read as `T` (the kind of change says which).
#[derive(Deserialize)]
struct StoredView<T> {
    normalized: Option<T>,
    previous_attributes: Option<Value>,
}

/// A view's normalized resource as `T` and its previous attributes, each `None` when the
/// view has none. One parse of the text; a normalized resource that does not read as `T`
/// is `None` and leaves the previous attributes as they are.
fn read_view<T: serde::de::DeserializeOwned>(view: Option<&str>) -> (Option<T>, Option<Value>) {
    let Some(text) = view else { return (None, None) };
    if let Ok(StoredView { normalized, previous_attributes }) = serde_json::from_str::<StoredView<T>>(text) {
        return (normalized, previous_attributes);
    }
    match serde_json::from_str::<StoredView<Box<RawValue>>>(text) {
        Ok(StoredView { normalized, previous_attributes }) => {
            (normalized.and_then(|text| serde_json::from_str(text.get()).ok()), previous_attributes)
        }
        Err(_) => (None, None),
    }
}

/// A place in the order of events: a change, and for a membership change how many of its
/// members were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EventId {
    directory: DirectoryId,
    seq: i64,
    member: Option<usize>,
}

impl EventId {
    fn text(self) -> String {
        let base = format!("event_{}{:016x}", self.directory.as_uuid().simple(), self.seq);
        match self.member {
            Some(member) => format!("{base}_{member}"),
            None => base,
        }
    }

    fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("event_")?;
        let (change, member) = match rest.split_once('_') {
            Some((change, member)) => (change, Some(member.parse().ok()?)),
            None => (rest, None),
        };
        let hex = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if change.len() != 48 || !hex(change) {
            return None;
        }
        let directory = DirectoryId::from(Uuid::parse_str(&change[..32]).ok()?);
        let seq = i64::from_str_radix(&change[32..], 16).ok()?;
        Some(Self { directory, seq, member })
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> SyncError {
    SyncError::Invalid { field, message: message.into() }
}

/// `GET /events`: up to `limit` events after `after` (from the start without it).
pub async fn list_events(store: &Store, query: &EventQuery) -> Result<Page<SyncEvent>, SyncError> {
    if query.events.is_empty() {
        return Err(invalid("events", "name the event types to list in `events`"));
    }
    let mut kinds = Vec::new();
    for name in &query.events {
        let Some((_, of_type)) = TYPES.iter().find(|(known, _)| known == name) else {
            return Err(invalid("events", format!("`{name}` is not a Directory Sync event type")));
        };
        kinds.extend(of_type.iter().map(|kind| (*kind).to_owned()));
    }
    let tenant = match &query.organization {
        Some(id) => {
            Some(ids::parse_organization(id).ok_or_else(|| invalid("organization_id", "no such organization"))?)
        }
        None => None,
    };
    let time = |field: &'static str, text: &Option<String>| -> Result<Option<DateTime<Utc>>, SyncError> {
        text.as_deref()
            .map(|text| {
                DateTime::parse_from_rfc3339(text)
                    .map(|at| at.with_timezone(&Utc))
                    .map_err(|_| invalid(field, format!("`{field}` must be an RFC 3339 time")))
            })
            .transpose()
    };
    let (since, until) = (time("range_start", &query.range_start)?, time("range_end", &query.range_end)?);
    let mut resume = match &query.after {
        None => None,
        Some(text) => {
            let cursor = EventId::parse(text).ok_or_else(|| invalid("after", "`after` is not an event id"))?;
            let at = store.feed_position(cursor.directory, cursor.seq).await?;
            Some((at.ok_or_else(|| invalid("after", "`after` is not an event id"))?, cursor.member))
        }
    };
    let limit = usize::try_from(query.limit).unwrap_or(0);
    let mut events = Vec::new();
    let mut readers = Readers::default();
    while events.len() < limit {
        let feed = FeedQuery {
            from: resume.map(|(at, _)| at),
            kinds: kinds.clone(),
            tenant,
            since,
            until,
            limit: query.limit + 1,
        };
        let entries = store.deployment_feed(&feed).await?;
        let fresh: Vec<FeedEntry> = match resume {
            None => entries,
            // The resumed change comes again (the read is inclusive): go on after its
            // members read so far, or skip it.
            Some((at, member)) => {
                entries.into_iter().filter(|entry| entry.at > at || (entry.at == at && member.is_some())).collect()
            }
        };
        if fresh.is_empty() {
            break;
        }
        readers.prefetch(store, &fresh).await?;
        for entry in &fresh {
            let skip = match resume {
                Some((at, Some(member))) if entry.at == at => member + 1,
                _ => 0,
            };
            for (member, event) in readers.events_of(store, entry, skip).await? {
                if events.len() == limit {
                    break;
                }
                resume = Some((entry.at, member));
                events.push(event);
            }
            if events.len() == limit {
                break;
            }
            resume = Some((entry.at, None));
        }
    }
    let after = events.last().map(|event: &SyncEvent| event.id.clone());
    Ok(Page { data: events, before: None, after })
}

/// Where an event is: its directory, change number and member (for a membership event);
/// `None` for a text that is no event id.
pub fn event_place(id: &str) -> Option<(DirectoryId, i64, Option<usize>)> {
    EventId::parse(id).map(|place| (place.directory, place.seq, place.member))
}

/// The events named (those that still exist: a purged directory's are gone), as
/// [`list_events`] shows them; membership events with the user and group as they are now.
pub(super) async fn events_by_id(store: &Store, ids: &[String]) -> Result<HashMap<String, SyncEvent>, SyncError> {
    let mut readers = Readers::default();
    let mut found = HashMap::new();
    for text in ids {
        let Some(place) = EventId::parse(text) else { continue };
        let Some(at) = store.feed_position(place.directory, place.seq).await? else { continue };
        let entry = FeedEntry { at, kind: String::new(), occurred_at: DateTime::<Utc>::MIN_UTC };
        let events = readers.events_of(store, &entry, place.member.unwrap_or(0)).await?;
        if let Some((_, event)) = events.into_iter().next().filter(|(_, event)| event.id == *text) {
            found.insert(text.clone(), event);
        }
    }
    Ok(found)
}

/// `GET /events` as the vendor's product reads it: [`list_events`], noting the first
/// delivery of the deactivations and deletions it returns (`feed`).
pub async fn read_events(store: &Store, query: &EventQuery, at: DateTime<Utc>) -> Result<Page<SyncEvent>, SyncError> {
    let page = list_events(store, query).await?;
    for event in page.data.iter().filter(|event| event.revokes_access()) {
        let Some(place) = EventId::parse(&event.id) else { continue };
        // An update of a user inactive before has no record: nothing to note.
        if let Some(tenant) = store.directory_owner(place.directory).await? {
            store.tenant(tenant).mark_revocations_delivered(place.directory, &[place.seq], at, "feed").await?;
        }
    }
    Ok(page)
}

/// What reading events needs, per tenant and directory, kept for one request.
#[derive(Default)]
struct Readers {
    endpoints: HashMap<DirectoryId, Option<Endpoint>>,
    changes: HashMap<(DirectoryId, i64), StoredChange>,
}

impl Readers {
    /// The events of one change, each with its member index for a membership change,
    /// leaving out the first `skip` members.
    async fn events_of(
        &mut self,
        store: &Store,
        entry: &FeedEntry,
        skip: usize,
    ) -> Result<Vec<(Option<usize>, SyncEvent)>, SyncError> {
        let FeedPosition { tenant, directory, seq, .. } = entry.at;
        let Some(mut change) = self.take_change(store, tenant, directory, seq).await? else { return Ok(Vec::new()) };
        let Some(event) = event_type(&change.kind) else { return Ok(Vec::new()) };
        let created_at = timestamp(change.occurred_at);
        let id = EventId { directory, seq, member: None };
        if change.kind.starts_with("group.member") {
            return self.membership_events(store, tenant, directory, &change, event, skip).await;
        }
        let times = (change.occurred_at, change.occurred_at);
        let view = change.view.take();
        let data = match change.resource_type {
            // Written with the change as the events carry it (see `objects::event_directory`).
            ChangeSubject::Directory => EventData::Directory(read_view(view.as_deref()).0.unwrap_or_default()),
            ChangeSubject::Resource(ResourceKind::User) => {
                let (normalized, previous) = read_view::<NormalizedUser>(view.as_deref());
                let normalized = normalized.unwrap_or_else(|| placeholder_user(&change.resource_id));
                let raw =
                    if change.kind == "user.deleted" { RawAttributes::Parsed(json!({})) } else { change.data.into() };
                let user = DirectoryUser::from_parts(tenant, directory, &change.resource_id, raw, normalized, times);
                let previous_attributes = (event == "dsync.user.updated").then(|| previous.unwrap_or_default());
                EventData::User(Box::new(ResourceEvent { resource: user, previous_attributes }))
            }
            ChangeSubject::Resource(ResourceKind::Group) => {
                let (normalized, previous) = read_view::<NormalizedGroup>(view.as_deref());
                let normalized = normalized
                    .unwrap_or_else(|| NormalizedGroup { idp_id: change.resource_id.clone(), name: String::new() });
                let raw =
                    if change.kind == "group.deleted" { RawAttributes::Parsed(json!({})) } else { change.data.into() };
                let group = DirectoryGroup::from_parts(tenant, directory, &change.resource_id, raw, normalized, times);
                let previous_attributes = (event == "dsync.group.updated").then(|| previous.unwrap_or_default());
                EventData::Group(Box::new(ResourceEvent { resource: group, previous_attributes }))
            }
            // Directory Sync has no agents: `event_type` gave their changes no type above,
            // and the deployment's own feed and webhooks carry them.
            ChangeSubject::Resource(ResourceKind::Agent | ResourceKind::AgenticApplication) => return Ok(Vec::new()),
        };
        Ok(vec![(None, SyncEvent { object: "event", id: id.text(), event, data, created_at })])
    }

    /// One event per member added or removed, with the user and the group as they are now.
    async fn membership_events(
        &mut self,
        store: &Store,
        tenant: TenantId,
        directory: DirectoryId,
        change: &StoredChange,
        event: &'static str,
        skip: usize,
    ) -> Result<Vec<(Option<usize>, SyncEvent)>, SyncError> {
        let change_data: Value = serde_json::from_str(change.data.get()).unwrap_or_default();
        // A deleted directory has no endpoint: its user and group are named by id only.
        let endpoint = self.endpoint(store, tenant, directory).await?;
        let group_id = change_data.get("group").and_then(Value::as_str).unwrap_or(&change.resource_id).to_owned();
        let group_record = match endpoint {
            Some(endpoint) => endpoint.record(ResourceKind::Group, &group_id).await?,
            None => None,
        };
        let group = match group_record {
            Some(record) => {
                let normalized = scim::normalized::normalize_group(&record.id, &record.doc);
                let times = (record.created_at, record.last_modified);
                DirectoryGroup::from_parts(tenant, directory, &record.id, record.doc.clone(), normalized, times)
            }
            None => {
                let normalized = NormalizedGroup { idp_id: group_id.clone(), name: String::new() };
                let times = (change.occurred_at, change.occurred_at);
                DirectoryGroup::from_parts(tenant, directory, &group_id, json!({}), normalized, times)
            }
        };
        let shaping = match endpoint {
            Some(_) => Some(UserShaping::of(store, tenant, directory).await?),
            None => None,
        };
        let members: Vec<String> = change_data
            .get("members")
            .and_then(Value::as_array)
            .map(|members| members.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let mut events = Vec::new();
        for (index, member) in members.iter().enumerate().skip(skip) {
            let user_record = match endpoint {
                Some(endpoint) => endpoint.record(ResourceKind::User, member).await?,
                None => None,
            };
            let user = match user_record {
                Some(record) => {
                    // A record was read, so the directory has an endpoint and a shaping.
                    let normalized = match (endpoint, &shaping) {
                        (Some(endpoint), Some(shaping)) => {
                            let groups = shaping.groups_for_roles(endpoint, std::slice::from_ref(&record)).await?;
                            let of_user = groups.get(&record.id).into_iter().flatten();
                            let mut user = shaping.user(&record, of_user.map(|group| group.id.as_str()));
                            let data = store.tenant(tenant).directory_data(directory);
                            if let Some(suspension) =
                                data.suspensions(std::slice::from_ref(&record.id)).await?.get(&record.id)
                            {
                                user.suspend(suspension.normalized());
                            }
                            user
                        }
                        _ => scim::normalized::normalize_user(&record.id, &record.doc, &[]),
                    };
                    let times = (record.created_at, record.last_modified);
                    DirectoryUser::from_parts(tenant, directory, &record.id, record.doc.clone(), normalized, times)
                }
                // Deleted since (or its directory was): what its id tells.
                None => {
                    let times = (change.occurred_at, change.occurred_at);
                    DirectoryUser::from_parts(tenant, directory, member, json!({}), placeholder_user(member), times)
                }
            };
            let data = EventData::Membership(Box::new(MembershipEvent {
                directory_id: ids::directory_id(directory),
                user,
                group: group.clone(),
            }));
            let id = EventId { directory, seq: change.seq, member: Some(index) };
            let created_at = timestamp(change.occurred_at);
            events.push((Some(index), SyncEvent { object: "event", id: id.text(), event, data, created_at }));
        }
        Ok(events)
    }

    async fn endpoint(
        &mut self,
        store: &Store,
        tenant: TenantId,
        directory: DirectoryId,
    ) -> Result<Option<&Endpoint>, SyncError> {
        if let std::collections::hash_map::Entry::Vacant(vacant) = self.endpoints.entry(directory) {
            let endpoint = match open(store, tenant, directory).await {
                Ok(endpoint) => Some(endpoint),
                // Deleted since: its events have nothing left to show.
                Err(SyncError::NotFound(_)) => None,
                Err(error) => return Err(error),
            };
            vacant.insert(endpoint);
        }
        Ok(self.endpoints.get(&directory).and_then(Option::as_ref))
    }

    /// Reads the change records of `entries`, one statement per directory.
    async fn prefetch(&mut self, store: &Store, entries: &[FeedEntry]) -> Result<(), SyncError> {
        let mut wanted: HashMap<(TenantId, DirectoryId), Vec<i64>> = HashMap::new();
        for entry in entries.iter().filter(|e| !self.changes.contains_key(&(e.at.directory, e.at.seq))) {
            wanted.entry((entry.at.tenant, entry.at.directory)).or_default().push(entry.at.seq);
        }
        for ((tenant, directory), seqs) in wanted {
            for record in store.tenant(tenant).directory_data(directory).stored_changes_numbered(&seqs).await? {
                self.changes.insert((directory, record.seq), record);
            }
        }
        Ok(())
    }

    /// The change record, prefetched with the others of its page (each is turned into its
    /// events once, so it is handed over rather than copied) or read now.
    async fn take_change(
        &mut self,
        store: &Store,
        tenant: TenantId,
        directory: DirectoryId,
        seq: i64,
    ) -> Result<Option<StoredChange>, SyncError> {
        if let Some(change) = self.changes.remove(&(directory, seq)) {
            return Ok(Some(change));
        }
        let records = store.tenant(tenant).directory_data(directory).stored_changes_numbered(&[seq]).await?;
        Ok(records.into_iter().find(|record| record.seq == seq))
    }
}

/// A user known only by its id (deleted before its event was read).
fn placeholder_user(id: &str) -> NormalizedUser {
    NormalizedUser {
        idp_id: id.to_owned(),
        username: None,
        first_name: None,
        last_name: None,
        email: None,
        emails: Vec::new(),
        job_title: None,
        state: UserState::Inactive,
        custom_attributes: serde_json::Map::new(),
        role: None,
        roles: Vec::new(),
        suspension: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_round_trip_and_reject_anything_else() {
        let directory = DirectoryId::from(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_00aa));
        for member in [None, Some(0), Some(41)] {
            let id = EventId { directory, seq: 1234, member };
            assert_eq!(EventId::parse(&id.text()), Some(id), "{}", id.text());
        }
        for text in ["", "event_", "event_xyz", "evt_0193", "event_0193000000007000800000000000aa00000000000004d2_x"] {
            assert_eq!(EventId::parse(text), None, "{text}");
        }
    }

    #[test]
    fn every_change_kind_has_its_directory_sync_type() {
        let kinds = [
            "user.created",
            "user.updated",
            "user.deactivated",
            "user.reactivated",
            "user.deleted",
            "group.created",
            "group.updated",
            "group.deleted",
            "group.member_added",
            "group.member_removed",
            "directory.activated",
            "directory.deleted",
        ];
        for kind in kinds {
            assert!(event_type(kind).is_some(), "{kind}");
        }
        assert_eq!(event_type("user.deactivated"), Some("dsync.user.updated"));
        assert_eq!(event_type("group.member_removed"), Some("dsync.group.user_removed"));
        assert_eq!(event_type("directory.activated"), Some("dsync.activated"));
        assert_eq!(event_type("directory.deleted"), Some("dsync.deleted"));
    }

    #[test]
    fn a_view_is_read_as_the_kind_of_change_needs_and_a_misfit_keeps_the_rest() {
        let group =
            r#"{"normalized": {"idp_id": "g1", "name": "Sales"}, "previous_attributes": {"displayName": "Sale"}}"#;
        let (normalized, previous) = read_view::<NormalizedGroup>(Some(group));
        assert_eq!(normalized.map(|group| group.name), Some("Sales".to_owned()));
        assert_eq!(previous, Some(json!({"displayName": "Sale"})));
        // A normalized group read as a user does not fit: only the previous attributes.
        let (normalized, previous) = read_view::<NormalizedUser>(Some(group));
        assert!(normalized.is_none());
        assert_eq!(previous, Some(json!({"displayName": "Sale"})));
        let (normalized, previous) = read_view::<NormalizedGroup>(Some(r#"{"normalized": null}"#));
        assert!(normalized.is_none() && previous.is_none());
        for unreadable in [None, Some("not json"), Some("[1]")] {
            let (normalized, previous) = read_view::<NormalizedGroup>(unreadable);
            assert!(normalized.is_none() && previous.is_none(), "{unreadable:?}");
        }
    }
}
