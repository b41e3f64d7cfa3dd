//! Local suspension: a tenant admin stops a user in the vendor's product while the
//! identity provider cannot be reached (it is down, or the admin cannot get at it in time).
//! The suspension overrides the identity provider: whatever it writes later, the product
//! sees the user `suspended` until the admin lifts it, while the SCIM representation the
//! identity provider reads stays as it wrote it (it would otherwise fight the override on
//! its next cycle). Suspending and lifting are each audited and published as a change.

use chrono::{DateTime, Utc};
use store::{DirectoryId, Store, SuspensionOutcome, SuspensionRecord, TenantId};

use crate::ServiceError;
use crate::provisioning::{ProvisioningError, portal_endpoint};

/// The audit actions.
pub const SUSPENDED: &str = "user.suspended";
pub const LIFTED: &str = "user.suspension_lifted";
/// The longest reason kept.
pub const MAX_REASON_CHARS: usize = 500;

/// Why a suspension or its lifting was refused; every message can be shown as it is.
#[derive(Debug, thiserror::Error)]
pub enum SuspensionError {
    #[error("say why the user is suspended: the reason is shown to whoever lifts it")]
    NoReason,
    #[error("the reason is longer than {MAX_REASON_CHARS} characters")]
    ReasonTooLong,
    #[error("no such user in this directory")]
    NoSuchUser,
    #[error("this user is already suspended")]
    AlreadySuspended,
    #[error("this user is not suspended")]
    NotSuspended,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for SuspensionError {
    fn from(error: store::StoreError) -> Self {
        SuspensionError::Service(error.into())
    }
}

/// User `id`'s suspension, if it has one.
pub async fn suspension(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    id: &str,
) -> Result<Option<SuspensionRecord>, ServiceError> {
    let mut found = store.tenant(tenant).directory_data(directory).suspensions(&[id.to_owned()]).await?;
    Ok(found.remove(id))
}

/// Suspends user `id` for `reason`, or lifts its suspension (`reason` `None`), as `actor`,
/// with [`SUSPENDED`] or [`LIFTED`] in the tenant's trail.
#[allow(clippy::too_many_arguments)] // each is a separate fact of the request
pub async fn set_suspension(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    id: &str,
    reason: Option<&str>,
    actor: &crate::actor::Actor,
    public_base: &str,
    now: DateTime<Utc>,
) -> Result<(), SuspensionError> {
    let suspension = match reason.map(str::trim) {
        Some("") => return Err(SuspensionError::NoReason),
        Some(reason) if reason.chars().count() > MAX_REASON_CHARS => return Err(SuspensionError::ReasonTooLong),
        Some(reason) => Some(SuspensionRecord {
            suspended_at: crate::provisioning::truncate_to_millis(now),
            suspended_by: actor.audit_name(),
            reason: reason.to_owned(),
        }),
        None => None,
    };
    let base_url = format!("{public_base}/scim/v2/{directory}");
    let endpoint = portal_endpoint(store, tenant, directory, base_url)
        .await
        .map_err(|error| error.into_service_error("opening a directory"))?
        .ok_or(SuspensionError::NoSuchUser)?;
    let action = if suspension.is_some() { SUSPENDED } else { LIFTED };
    let record = |user_name: &str| {
        let mut detail = serde_json::json!({ "userName": user_name });
        if let (Some(suspension), Some(fields)) = (&suspension, detail.as_object_mut()) {
            fields.insert("reason".to_owned(), serde_json::json!(suspension.reason));
        }
        let mut record = actor.record(action, Some(directory), detail, now);
        record.resource_id = Some(id.to_owned());
        record
    };
    match endpoint.set_suspension(id, suspension.as_ref(), &actor.audit_name(), record, now).await {
        Ok(SuspensionOutcome::Done) => Ok(()),
        Ok(SuspensionOutcome::AlreadySuspended) => Err(SuspensionError::AlreadySuspended),
        Ok(SuspensionOutcome::NotSuspended) => Err(SuspensionError::NotSuspended),
        Err(ProvisioningError::Protocol(_)) => Err(SuspensionError::NoSuchUser),
        Err(ProvisioningError::Service(error)) => Err(error.into()),
    }
}
