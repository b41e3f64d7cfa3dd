//! Suspending a user locally and lifting it (see [`crate::suspensions`]): the change record
//! the vendor's product receives, computed here from the user as stored, and written with
//! the suspension by the store under the directory's lock.

use chrono::{DateTime, Utc};
use scim::normalized::suspended_view;
use serde_json::{Value, json};
use store::{
    Change, ChangeKind, NewAuditRecord, ResourceKind, StoreError, SuspensionOutcome, SuspensionRecord, WriteContext,
};

use super::representation::not_found;
use super::views::change_view;
use super::writes::write_error;
use super::{Endpoint, ProvisioningError, truncate_to_millis};

impl Endpoint {
    /// Suspends user `id` (`suspension` given) or lifts its suspension, by `actor`;
    /// `record` makes the audit record from the user's userName. The product receives a
    /// `user.deactivated` (state `suspended`) when an active user is suspended, a
    /// `user.reactivated` when the suspension of a user its identity provider left active is
    /// lifted, else a `user.updated`.
    pub(crate) async fn set_suspension<R>(
        &self,
        id: &str,
        suspension: Option<&SuspensionRecord>,
        actor: &str,
        record: R,
        now: DateTime<Utc>,
    ) -> Result<SuspensionOutcome, ProvisioningError>
    where
        R: FnOnce(&str) -> NewAuditRecord,
    {
        let context = WriteContext { actor: actor.to_owned(), at: truncate_to_millis(now) };
        let shaping = self.shaping().await?;
        let groups = self.role_groups(ResourceKind::User, id).await?;
        let outcome = self
            .data()
            .set_suspension(id, suspension, &context, |current, existing| {
                let active = current.doc.get("active").and_then(Value::as_bool) != Some(false);
                let as_written = if active { "active" } else { "inactive" };
                let mut view = change_view(ResourceKind::User, &current.id, None, Some(&current.doc), shaping, &groups)
                    .unwrap_or(Value::Null);
                let kind = match (suspension, existing) {
                    (Some(suspension), _) => {
                        suspended_view(&mut view, &suspension.normalized());
                        view["previous_attributes"] = json!({ "state": as_written });
                        if active { ChangeKind::UserDeactivated } else { ChangeKind::UserUpdated }
                    }
                    (None, existing) => {
                        let lifted = existing.map(SuspensionRecord::normalized);
                        view["previous_attributes"] = json!({ "state": "suspended", "suspension": lifted });
                        if active { ChangeKind::UserReactivated } else { ChangeKind::UserUpdated }
                    }
                };
                let user_name = current.doc.get("userName").and_then(Value::as_str).unwrap_or(&current.id);
                let change =
                    Change { kind, resource_id: current.id.clone(), data: self.event_state(current), view: Some(view) };
                Ok::<_, ProvisioningError>((change, record(user_name)))
            })
            .await;
        match outcome {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(error)) => Err(error),
            Err(StoreError::NotFound) => Err(not_found(ResourceKind::User, id).into()),
            Err(error) => Err(write_error(error)),
        }
    }
}
