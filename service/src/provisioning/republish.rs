//! Re-deriving users whose view changed without a write of their own (a changed attribute
//! mapping or role grant, a membership change of a group that grants roles): the view is
//! computed again and compared with the one the vendor's product last received; only a
//! user whose view changed gets a `user.updated`, with the previous values. See
//! `store`'s `republish_batch` for the transaction and [`crate::republish`] for the worker.

use chrono::{DateTime, Utc};
use scim::normalized::{NormalizedUser, previous_attributes};
use serde_json::{Value, json};
use store::{Change, ChangeKind, RepublishOutcome, Republished, WriteContext};

use super::{Endpoint, ProvisioningError, truncate_to_millis};

/// Who the change records of re-derived users name.
pub const REPUBLISH_ACTOR: &str = "system:republish";

impl Endpoint {
    /// Re-derives up to `limit` users of the directory: the ones queued by membership
    /// changes first, else the next ones of its republish pass.
    pub(crate) async fn republish_batch(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<RepublishOutcome, ProvisioningError> {
        let shaping = self.shaping().await?;
        let context = WriteContext { actor: REPUBLISH_ACTOR.to_owned(), at: truncate_to_millis(now) };
        let outcome = self
            .data()
            .republish_batch(limit, &context, |user| {
                let mut normalized = shaping.user(user.record, user.groups.iter().map(String::as_str));
                // A suspended user's published view carries its suspension, which holds
                // until the admin lifts it (a write under this lock too).
                let suspension = user.published.and_then(|published| published.get("suspension")).cloned();
                if let Some(suspension) = suspension.and_then(|suspension| serde_json::from_value(suspension).ok()) {
                    normalized.suspend(suspension);
                }
                let Ok(view) = serde_json::to_value(&normalized) else { return Republished::Unchanged };
                let Some(published) = user.published else { return Republished::Baseline(view) };
                // Read back through the type: views published before roles existed lack
                // `role` and `roles`, which must not count as a change.
                let published = serde_json::from_value::<NormalizedUser>(published.clone())
                    .ok()
                    .and_then(|user| serde_json::to_value(user).ok())
                    .unwrap_or_else(|| published.clone());
                if published == view {
                    return Republished::Unchanged;
                }
                let previous = Value::Object(previous_attributes(&published, &view));
                Republished::Changed(Change {
                    kind: ChangeKind::UserUpdated,
                    resource_id: user.record.id.clone(),
                    data: self.event_state(user.record),
                    view: Some(json!({ "normalized": view, "previous_attributes": previous })),
                })
            })
            .await?;
        Ok(outcome)
    }
}
