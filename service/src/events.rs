//! The event feed of a directory: its changes in commit order, read from the outbox that
//! every write fills in the same transaction (`directory_changes`), so no acknowledged
//! change is missing and none is reported before it is committed.

use std::time::Duration;

use serde::Serialize;
use store::{ChangeRecord, DirectoryId, Store, TenantId};
use utoipa::ToSchema;

use crate::ServiceError;

/// Most events one page returns.
pub const MAX_LIMIT: i64 = 1000;

/// Longest a read may wait for new events.
pub const MAX_WAIT: Duration = Duration::from_secs(25);

/// How often a waiting read looks for changes committed by other server processes (its
/// own process's commits wake it at once).
const POLL_EVERY: Duration = Duration::from_millis(500);

/// Where a reader is: after the event with this sequence number (0: before the first).
/// Opaque to readers, who pass back the `next_cursor` of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cursor(i64);

impl Cursor {
    /// An empty text starts from the beginning.
    pub fn parse(text: &str) -> Result<Self, EventsError> {
        if text.is_empty() {
            return Ok(Self::default());
        }
        text.parse::<i64>()
            .ok()
            .filter(|seq| *seq >= 0)
            .map(Self)
            .ok_or_else(|| EventsError::InvalidCursor(format!("{text:?} is not a cursor of this feed")))
    }

    pub fn to_text(self) -> String {
        self.0.to_string()
    }
}

/// One page of the feed.
#[derive(Debug, Clone)]
pub struct EventPage {
    /// The directory's tenant.
    pub tenant: TenantId,
    pub events: Vec<ChangeRecord>,
    /// Pass it back to read on; it equals the request's cursor when there was nothing new.
    pub next_cursor: Cursor,
    /// More events were already waiting beyond this page.
    pub has_more: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error("no such directory")]
    UnknownDirectory,
    #[error("{0}")]
    InvalidCursor(String),
    #[error("limit must be between 1 and {MAX_LIMIT}")]
    InvalidLimit,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for EventsError {
    fn from(error: store::StoreError) -> Self {
        EventsError::Service(error.into())
    }
}

/// Up to `limit` events of `directory` after `after`. With a `wait`, a read that finds
/// nothing new waits (at most [`MAX_WAIT`]) for the next committed change: long-polling.
pub async fn read_events(
    store: &Store,
    directory: DirectoryId,
    after: Cursor,
    limit: i64,
    wait: Duration,
    effects: &crate::Effects,
) -> Result<EventPage, EventsError> {
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(EventsError::InvalidLimit);
    }
    let tenant = store.directory_owner(directory).await?.ok_or(EventsError::UnknownDirectory)?;
    let data = store.tenant(tenant).directory_data(directory);
    let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
    let mut commits = store.watch_commits();
    loop {
        // Subscribed before reading: a commit between the read and the wait still wakes us.
        commits.mark_unchanged();
        let mut events = data.changes_after(after.0, limit + 1).await?;
        let has_more = events.len() as i64 > limit;
        events.truncate(limit as usize);
        let now = tokio::time::Instant::now();
        if !events.is_empty() || now >= deadline {
            // The product has now received these deactivations and deletions.
            let revocations: Vec<i64> =
                events.iter().filter(|event| store::is_revocation(&event.kind)).map(|event| event.seq).collect();
            store.tenant(tenant).mark_revocations_delivered(directory, &revocations, effects.now(), "feed").await?;
            let next_cursor = events.last().map_or(after, |last| Cursor(last.seq));
            return Ok(EventPage { tenant, events, next_cursor, has_more });
        }
        let nap = (deadline - now).min(POLL_EVERY);
        // Either this process committed something, or it is time to look for other
        // processes' commits; a closed channel cannot happen while the store lives.
        let _ = tokio::time::timeout(nap, commits.changed()).await;
    }
}

/// One change of a directory, as the event feed and webhooks send it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Event {
    /// Unique per event: a consumer that sees an id twice has seen the same event.
    pub id: String,
    /// Read on after this event by passing it as `after`.
    pub cursor: String,
    /// `user.created`, `user.updated`, `user.deactivated`, `user.reactivated`,
    /// `user.deleted`, `group.created`, `group.updated`, `group.deleted`,
    /// `group.member_added` or `group.member_removed`; for the directory itself
    /// `directory.activated` (its setup completed) or `directory.deleted`.
    #[serde(rename = "type")]
    pub kind: String,
    pub directory: String,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// `User`, `Group`, or `Directory` for a change of the directory itself (whose id is
    /// then `resource_id`).
    pub resource_type: String,
    pub resource_id: String,
    /// The tenant the directory belongs to.
    pub tenant: String,
    /// Who made the change: `token:<id>` for an identity provider's token.
    pub actor: String,
    /// The resource after the change (for a deletion: its id; for a membership change:
    /// the group and the members added or removed; for a directory: its id, `idp`,
    /// `display_name`, `created_at` and `completed_by` or `deleted_at`).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// The resource as the vendor's product reads it, with the tenant's attribute mapping
    /// applied (`idp_id`, `username`, `first_name`, `last_name`, `email`, `emails`,
    /// `job_title`, `state`, `custom_attributes` for a user; `idp_id`, `name` for a group;
    /// for a directory the object `dsync.activated` and `dsync.deleted` carry): after the
    /// change, or as it was for a deletion. Absent on membership events.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub normalized: Option<serde_json::Value>,
    /// On an update: the normalized fields that changed, with their values before it
    /// (`custom_attributes` key by key; a field the change added reads `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub previous_attributes: Option<serde_json::Value>,
}

impl Event {
    pub fn new(tenant: TenantId, directory: DirectoryId, record: ChangeRecord) -> Self {
        let view = record.view.unwrap_or_default();
        let part = |name: &str| view.get(name).filter(|value| !value.is_null()).cloned();
        Self {
            normalized: part("normalized"),
            previous_attributes: part("previous_attributes"),
            tenant: tenant.to_string(),
            id: record.id.to_string(),
            cursor: record.seq.to_string(),
            kind: record.kind,
            directory: directory.to_string(),
            occurred_at: record.occurred_at,
            resource_type: record.resource_type.as_str().to_owned(),
            resource_id: record.resource_id,
            actor: record.actor,
            data: record.data,
        }
    }
}
