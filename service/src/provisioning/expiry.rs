//! Deactivating a non-human identity past its `expiresAt` (see [`crate::nonhuman`]):
//! the same stored write a PATCH `active: false` makes, with the directory locked from the
//! read to the commit, and the `user.deactivated` change and the `nhi.expired` audit
//! record committed in that transaction.

use chrono::{DateTime, Utc};
use scim::nonhuman::NonHuman;
use serde_json::Value;
use store::{Change, Computed, ResourceKind, ResourceRecord, ResourceState, StoreError, WriteContext};

use super::representation::not_found;
use super::views::change_view;
use super::writes::{change_kind, prepared_state, write_error};
use super::{Endpoint, ProvisioningError, truncate_to_millis};

impl Endpoint {
    /// Deactivates user `id` as the sweeper if, when read under the directory's lock, it is
    /// an active non-human identity whose expiry is at or before `now`. Returns what it
    /// was when this call deactivated it; `None` when there was nothing to do (another
    /// server process's sweep got there first, or the expiry was moved meanwhile), so that
    /// two sweeps never deactivate, or report, the same identity twice. Callers are system
    /// tasks, not SCIM clients: a read-only endpoint may do this.
    pub(crate) async fn deactivate_if_expired(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<NonHuman>, ProvisioningError> {
        let actor = crate::nonhuman::SWEEPER_ACTOR.to_owned();
        let context = WriteContext { actor, at: truncate_to_millis(now) };
        let mut expired: Option<NonHuman> = None;
        let shaping = self.shaping().await?;
        let groups = self.role_groups(ResourceKind::User, id).await?;
        let outcome = self
            .data()
            .modify(ResourceKind::User, id, &context, |current| {
                let Some(doc) = current.doc.as_object() else { return Ok(None) };
                let active = doc.get("active").and_then(Value::as_bool).unwrap_or(true);
                let identity = NonHuman::of(doc)?.filter(|identity| active && identity.expired_at(now));
                let Some(identity) = identity else { return Ok(None) };
                let mut doc = doc.clone();
                doc.insert("active".to_owned(), Value::Bool(false));
                let state: ResourceState = prepared_state(ResourceKind::User, doc)?;
                let updated = ResourceRecord {
                    doc: state.doc.clone(),
                    version: current.version + 1,
                    last_modified: context.at,
                    ..current.clone()
                };
                let change = Change {
                    kind: change_kind(current, &updated),
                    resource_id: current.id.clone(),
                    data: self.event_state(&updated),
                    view: change_view(
                        ResourceKind::User,
                        &current.id,
                        Some(&current.doc),
                        Some(&updated.doc),
                        shaping,
                        &groups,
                    ),
                };
                let record = crate::nonhuman::expiry_record(self.caller.directory, &current.id, &identity, now);
                expired = Some(identity);
                Ok::<_, scim::error::ScimError>(Some(Computed {
                    state: Some(state),
                    members: Vec::new(),
                    changes: vec![change],
                    records: vec![record],
                }))
            })
            .await;
        match outcome {
            Ok(Ok(_)) => Ok(expired),
            Ok(Err(error)) => Err(error.into()),
            Err(StoreError::NotFound) => Err(not_found(ResourceKind::User, id).into()),
            Err(error) => Err(write_error(error)),
        }
    }
}
