//! Deactivating a user of the stale-user report (see [`crate::stale_users`]): the same
//! stored write a SCIM PATCH `active: false` makes, by the person who asked, and only if the
//! user is still the version the report showed.

use chrono::{DateTime, Utc};
use serde_json::Value;
use store::NewAuditRecord;

use super::{Endpoint, ProvisioningError};

/// What a deactivation from the report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleDeactivation {
    Deactivated,
    /// Already inactive: nothing written.
    AlreadyInactive,
    /// Written since the report was read (its version moved on): nothing written.
    Changed,
}

impl Endpoint {
    /// Deactivates user `id` if, under the directory's lock, it is still at `version` and
    /// active; `record` is its audit record, committed with the change.
    pub(crate) async fn deactivate_stale(
        &self,
        id: &str,
        version: i64,
        actor: &str,
        record: NewAuditRecord,
        now: DateTime<Utc>,
    ) -> Result<StaleDeactivation, ProvisioningError> {
        let mut outcome = StaleDeactivation::Deactivated;
        self.sweeper_write(id, now, actor, |doc, current_version| {
            if current_version != version {
                outcome = StaleDeactivation::Changed;
                return Ok(None);
            }
            if doc.get("active").and_then(Value::as_bool) == Some(false) {
                outcome = StaleDeactivation::AlreadyInactive;
                return Ok(None);
            }
            let mut doc = doc.clone();
            doc.insert("active".to_owned(), Value::Bool(false));
            Ok(Some((doc, record)))
        })
        .await?;
        Ok(outcome)
    }
}
