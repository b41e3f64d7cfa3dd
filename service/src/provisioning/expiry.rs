//! The non-human identity sweeper's writes (see [`crate::nonhuman`]): deactivating an
//! identity past its `expiresAt`, and applying the directory's owner policy to an identity
//! whose owner was deactivated or deleted. Each is the same stored write a SCIM PATCH
//! makes, with the directory locked from the read to the commit, and the change (in the
//! feed and so the webhooks) and the audit record committed in that transaction.

use chrono::{DateTime, Utc};
use scim::error::ScimError;
use scim::nonhuman::NonHuman;
use scim::schema::builtin::NONHUMAN_USER;
use serde_json::{Map, Value, json};
use store::{
    Change, Computed, NewAuditRecord, OwnerPolicy, ResourceKind, ResourceRecord, ResourceState, StoreError,
    WriteContext,
};

use super::representation::not_found;
use super::views::change_view;
use super::writes::{change_kind, prepared_state, write_error};
use super::{Endpoint, ProvisioningError, truncate_to_millis};

/// What the owner policy did to one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerPolicyOutcome {
    Deactivated,
    Reassigned { to: String },
}

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
        let mut expired: Option<NonHuman> = None;
        self.sweeper_write(id, now, crate::nonhuman::SWEEPER_ACTOR, |doc, _| {
            let active = doc.get("active").and_then(Value::as_bool).unwrap_or(true);
            let identity = NonHuman::of(doc)?.filter(|identity| active && identity.expired_at(now));
            let Some(identity) = identity else { return Ok(None) };
            let mut doc = doc.clone();
            doc.insert("active".to_owned(), Value::Bool(false));
            let record = crate::nonhuman::expiry_record(self.caller.directory, id, &identity, now);
            expired = Some(identity);
            Ok(Some((doc, record)))
        })
        .await?;
        Ok(expired)
    }

    /// Applies `policy` to identity `id` if, read under the directory's lock, it still
    /// names `owner` (whom the caller found deactivated or deleted) and the policy still
    /// has something to do: deactivate it while it is active, or make `fallback_owner` its
    /// owner. `None` when there was nothing to do (another sweep got there first, or the
    /// identity provider changed the owner meanwhile).
    pub(crate) async fn apply_owner_policy(
        &self,
        id: &str,
        owner: &str,
        owner_state: &str,
        policy: &OwnerPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<OwnerPolicyOutcome>, ProvisioningError> {
        let mut outcome = None;
        self.sweeper_write(id, now, crate::nonhuman::OWNER_POLICY_ACTOR, |doc, _| {
            let Some(identity) = NonHuman::of(doc)? else { return Ok(None) };
            if identity.owner.as_deref() != Some(owner) {
                return Ok(None);
            }
            let mut doc = doc.clone();
            let applied = match policy {
                OwnerPolicy::Flag => return Ok(None),
                OwnerPolicy::Deactivate => {
                    if doc.get("active").and_then(Value::as_bool) == Some(false) {
                        return Ok(None);
                    }
                    doc.insert("active".to_owned(), Value::Bool(false));
                    OwnerPolicyOutcome::Deactivated
                }
                OwnerPolicy::Reassign { fallback_owner } => {
                    if fallback_owner == owner {
                        return Ok(None);
                    }
                    let Some(Value::Object(container)) = doc.get_mut(NONHUMAN_USER) else { return Ok(None) };
                    container.insert("owner".to_owned(), json!({ "value": fallback_owner }));
                    OwnerPolicyOutcome::Reassigned { to: fallback_owner.clone() }
                }
            };
            let record = crate::nonhuman::owner_policy_record(
                self.caller.directory,
                id,
                owner,
                owner_state,
                policy,
                &identity,
                now,
            );
            outcome = Some(applied);
            Ok(Some((doc, record)))
        })
        .await?;
        Ok(outcome)
    }

    /// Rewrites user `id` as a system task or a person (`actor`): `decide` sees the stored
    /// document and its version under the directory's lock and answers the new document and
    /// the audit record, or `None` to leave it. True when it was written.
    pub(super) async fn sweeper_write<F>(
        &self,
        id: &str,
        now: DateTime<Utc>,
        actor: &str,
        decide: F,
    ) -> Result<bool, ProvisioningError>
    where
        F: FnOnce(&Map<String, Value>, i64) -> Result<Option<(Map<String, Value>, NewAuditRecord)>, ScimError>,
    {
        let context = WriteContext { actor: actor.to_owned(), at: truncate_to_millis(now) };
        let shaping = self.shaping().await?;
        let groups = self.role_groups(ResourceKind::User, id).await?;
        let mut written = false;
        let outcome = self
            .data()
            .modify(ResourceKind::User, id, &context, |current| {
                let Some(doc) = current.doc.as_object() else { return Ok(None) };
                let Some((doc, record)) = decide(doc, current.version)? else { return Ok(None) };
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
                written = true;
                Ok::<_, ScimError>(Some(Computed {
                    state: Some(state),
                    members: Vec::new(),
                    changes: vec![change],
                    records: vec![record],
                }))
            })
            .await;
        match outcome {
            Ok(Ok(_)) => Ok(written),
            Ok(Err(error)) => Err(error.into()),
            Err(StoreError::NotFound) => Err(not_found(ResourceKind::User, id).into()),
            Err(error) => Err(write_error(error)),
        }
    }
}
