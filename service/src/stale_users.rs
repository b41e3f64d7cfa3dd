//! The stale-user report of a directory an identity provider pushes to: the active users it
//! has not written for a number of days while it kept writing others (a person removed from
//! the app whose deprovisioning never arrived looks like this), and an audited
//! deactivation of one of them. A directory whose identity provider has written nothing
//! for that long has a connection problem, not stale users: the report says so and lists
//! nobody.

use chrono::{DateTime, Duration, Utc};
use store::{DirectoryId, Store, TenantId};

pub use store::StaleUser;

use crate::ServiceError;
use crate::provisioning::{ProvisioningError, StaleDeactivation, portal_endpoint};

/// The audit action of deactivating a user from the report.
pub const STALE_DEACTIVATED: &str = "user.stale_deactivated";
/// The report's period when the admin gives none.
pub const DEFAULT_DAYS: u32 = 30;
/// The longest period the report looks back.
pub const MAX_DAYS: u32 = 3650;
/// The most users one report lists (the total is counted in full).
pub const REPORT_LIMIT: i64 = 200;

/// The report of one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleUsersReport {
    pub days: u32,
    /// Users not written since this time are stale.
    pub cut_off: DateTime<Utc>,
    /// When the identity provider last wrote any user; `None` before its first.
    pub last_identity_provider_write: Option<DateTime<Utc>>,
    /// It has written nothing since the cut-off (or ever): nobody is listed.
    pub identity_provider_silent: bool,
    /// How many users are stale; `users` holds the first [`REPORT_LIMIT`].
    pub total: i64,
    pub users: Vec<StaleUser>,
}

/// Why the report or a deactivation was refused; every message can be shown as it is.
#[derive(Debug, thiserror::Error)]
pub enum StaleUsersError {
    #[error("the report looks back from 1 to {MAX_DAYS} days, not {0}")]
    Days(i64),
    #[error("no such directory")]
    NoSuchDirectory,
    #[error(
        "this user is not on the report any more: the identity provider wrote it, or it was deactivated or \
         deleted, since the report was made"
    )]
    NotStale,
    #[error(
        "the identity provider has written no user of this directory in the last {0} days: its users are not \
         stale, its connection is"
    )]
    IdentityProviderSilent(u32),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for StaleUsersError {
    fn from(error: store::StoreError) -> Self {
        StaleUsersError::Service(error.into())
    }
}

fn checked_days(days: i64) -> Result<u32, StaleUsersError> {
    u32::try_from(days).ok().filter(|days| (1..=MAX_DAYS).contains(days)).ok_or(StaleUsersError::Days(days))
}

/// The stale users of `directory` over the last `days` days.
pub async fn stale_users(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    days: i64,
    now: DateTime<Utc>,
) -> Result<StaleUsersReport, StaleUsersError> {
    let days = checked_days(days)?;
    let scope = store.tenant(tenant);
    if scope.directory(directory).await?.is_none() {
        return Err(StaleUsersError::NoSuchDirectory);
    }
    let cut_off = now - Duration::days(i64::from(days));
    let found = scope.stale_users(directory, cut_off, REPORT_LIMIT).await?;
    let last = found.last_identity_provider_write;
    let silent = last.is_none_or(|last| last < cut_off);
    let (total, users) = if silent { (0, Vec::new()) } else { (found.total, found.users) };
    Ok(StaleUsersReport {
        days,
        cut_off,
        last_identity_provider_write: last,
        identity_provider_silent: silent,
        total,
        users,
    })
}

/// Deactivates user `id`, which the report over `days` days listed at `version`, through
/// the write a SCIM PATCH `active: false` makes (a `user.deactivated` change by `actor`),
/// with [`STALE_DEACTIVATED`] in the tenant's trail in the same transaction. Refused when
/// the user is no longer on the report, or has been written since (its version moved on).
#[allow(clippy::too_many_arguments)] // each is a separate fact of the request
pub async fn deactivate_stale_user(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    id: &str,
    version: i64,
    days: i64,
    actor: &crate::actor::Actor,
    public_base: &str,
    now: DateTime<Utc>,
) -> Result<(), StaleUsersError> {
    let report = stale_users(store, tenant, directory, days, now).await?;
    if report.identity_provider_silent {
        return Err(StaleUsersError::IdentityProviderSilent(report.days));
    }
    let scope = store.tenant(tenant);
    let Some(user) = scope.stale_user(directory, id, report.cut_off).await? else {
        return Err(StaleUsersError::NotStale);
    };
    if user.version != version {
        return Err(StaleUsersError::NotStale);
    }
    let base_url = format!("{public_base}/scim/v2/{directory}");
    let endpoint = portal_endpoint(store, tenant, directory, base_url)
        .await
        .map_err(|error| error.into_service_error("opening a directory"))?
        .ok_or(StaleUsersError::NoSuchDirectory)?;
    let detail = serde_json::json!({
        "userName": user.user_name,
        "last_written_by_identity_provider": user.touched_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "days": report.days,
    });
    let mut record = actor.record(STALE_DEACTIVATED, Some(directory), detail, now);
    record.resource_id = Some(user.id.clone());
    match endpoint.deactivate_stale(&user.id, version, &actor.audit_name(), record, now).await {
        Ok(StaleDeactivation::Deactivated) => Ok(()),
        Ok(StaleDeactivation::AlreadyInactive | StaleDeactivation::Changed) => Err(StaleUsersError::NotStale),
        Err(ProvisioningError::Protocol(_)) => Err(StaleUsersError::NotStale),
        Err(ProvisioningError::Service(error)) => Err(error.into()),
    }
}
