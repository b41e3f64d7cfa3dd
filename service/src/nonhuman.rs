//! Non-human identities: users with the extension
//! `urn:ietf:params:scim:schemas:extension:nonhuman:2.0:User` (service accounts and
//! agents, their owner and expiry). The expiry sweeper deactivates the identities past
//! their `expiresAt`; the owner flags show the identities nobody active answers for (their
//! owner was deactivated or deleted) on the tenant's dashboard and in the support console.

use chrono::{DateTime, Utc};
use store::{DirectoryId, NewAuditRecord, Store, TenantId, TenantSlug};

use crate::ServiceError;
use crate::provisioning::{ProvisioningError, portal_endpoint};

pub use scim::nonhuman::NonHumanKind;
pub use store::{NonHumanIdentity, OwnerState};

/// The actor of the sweeper's writes and audit records.
pub const SWEEPER_ACTOR: &str = "system:nhi-expiry";
/// The audit action recorded for each identity the sweeper deactivates.
pub const EXPIRED_ACTION: &str = "nhi.expired";
/// How often the server runs the sweeper.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);
/// Identities one sweep deactivates at most; the rest wait for the next sweep.
pub const SWEEP_LIMIT: usize = 1000;
/// The least a tenant may deactivate in a run when many tenants share it.
pub const MIN_TENANT_SHARE: usize = 10;
/// Identities a directory's dashboard lists at most.
pub const DASHBOARD_LIMIT: i64 = 500;

/// An identity the sweeper deactivated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub tenant: TenantId,
    pub directory: DirectoryId,
    pub id: String,
    pub kind: NonHumanKind,
    pub expires_at: DateTime<Utc>,
}

/// The sweeper's record of deactivating identity `id` of `directory`, which commits with
/// the deactivation.
pub(crate) fn expiry_record(
    directory: DirectoryId,
    id: &str,
    identity: &scim::nonhuman::NonHuman,
    now: DateTime<Utc>,
) -> NewAuditRecord {
    NewAuditRecord {
        occurred_at: now,
        actor: SWEEPER_ACTOR.to_owned(),
        action: EXPIRED_ACTION.to_owned(),
        directory: Some(directory),
        method: None,
        path: None,
        status: None,
        latency_ms: None,
        resource_id: Some(id.to_owned()),
        outcome: store::AuditOutcome::Success,
        detail: serde_json::json!({
            "kind": identity.kind.as_str(),
            "expiresAt": identity.expires_at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            "owner": identity.owner,
        }),
    }
}

/// Deactivates every active non-human identity whose `expiresAt` is at or before `now`
/// (at most `limit` per call), each through the write a SCIM PATCH makes: its
/// `user.deactivated` change is in the directory's change feed (and so its webhooks),
/// committed with the deactivation, and the event shows the resource with `meta.location`
/// under `public_base`. The same transaction appends the record of each deactivation to
/// its tenant's audit trail (actor [`SWEEPER_ACTOR`], action [`EXPIRED_ACTION`], the expiry
/// in the detail, see [`expiry_record`]).
///
/// Safe to run in several server processes at once and idempotent: an identity is
/// re-read under its directory's lock, and one already deactivated is skipped and not
/// reported, or recorded, again.
///
/// Fair between tenants: each tenant's share of a run is `limit` divided among the tenants
/// (at least [`MIN_TENANT_SHARE`]), and the run starts at another tenant each minute, so
/// one tenant's backlog (or identities that keep failing) never keeps another tenant's
/// expired identities active for longer than its share takes.
pub async fn deactivate_expired(
    store: &Store,
    public_base: &str,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<Expired>, ServiceError> {
    let mut expired = Vec::new();
    let mut tenants = store.tenant_summaries().await?;
    let share = limit.div_ceil(tenants.len().max(1)).max(MIN_TENANT_SHARE);
    // Where the run starts moves on every minute.
    let turn = usize::try_from(now.timestamp().div_euclid(60)).unwrap_or(0) % tenants.len().max(1);
    tenants.rotate_left(turn);
    for summary in tenants {
        let tenant = summary.tenant.id;
        let left = limit.saturating_sub(expired.len()).min(share);
        if left == 0 {
            break;
        }
        let due =
            store.tenant(tenant).expired_nonhuman_identities(now, i64::try_from(left).unwrap_or(i64::MAX)).await?;
        for identity in due {
            let base_url = format!("{public_base}/scim/v2/{}", identity.directory);
            let endpoint = portal_endpoint(store, tenant, identity.directory, base_url).await;
            let Some(endpoint) = endpoint.map_err(|error| error.into_service_error("opening a directory to sweep"))?
            else {
                continue;
            };
            let deactivated = match endpoint.deactivate_if_expired(&identity.id, now).await {
                Ok(deactivated) => deactivated,
                Err(ProvisioningError::Protocol(error)) => {
                    // Deleted meanwhile, or a document the schema no longer accepts: the
                    // next sweep finds it again if it still needs deactivating.
                    tracing::warn!(%tenant, id = %identity.id, %error, "cannot deactivate an expired identity");
                    continue;
                }
                Err(ProvisioningError::Service(error)) => return Err(error),
            };
            let Some(deactivated) = deactivated else { continue };
            let expires_at = deactivated.expires_at.unwrap_or(identity.expires_at);
            tracing::info!(%tenant, directory = %identity.directory, id = %identity.id, "deactivated an expired identity");
            expired.push(Expired {
                tenant,
                directory: identity.directory,
                id: identity.id,
                kind: deactivated.kind,
                expires_at,
            });
        }
    }
    Ok(expired)
}

/// The non-human identities of a tenant's directory (at most [`DASHBOARD_LIMIT`], by
/// userName), each with its owner's state; empty for a directory the tenant does not have.
pub async fn directory_identities(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<Vec<NonHumanIdentity>, ServiceError> {
    Ok(store.tenant(tenant).nonhuman_identities(directory, DASHBOARD_LIMIT).await?)
}

/// A flagged identity as the support console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlaggedIdentity {
    pub tenant: TenantId,
    pub tenant_slug: TenantSlug,
    /// The directory's display name.
    pub directory_name: String,
    pub identity: NonHumanIdentity,
}

/// Across every tenant, the non-human identities whose owner is deactivated or deleted
/// (at most `limit`).
pub async fn flagged_across_tenants(store: &Store, limit: usize) -> Result<Vec<FlaggedIdentity>, ServiceError> {
    let mut flagged = Vec::new();
    for summary in store.tenant_summaries().await? {
        let left = limit.saturating_sub(flagged.len());
        if left == 0 {
            break;
        }
        let tenant = summary.tenant;
        let scope = store.tenant(tenant.id);
        let identities = scope.ownerless_nonhuman_identities(i64::try_from(left).unwrap_or(i64::MAX)).await?;
        if identities.is_empty() {
            continue;
        }
        let directories = scope.directories().await?;
        for identity in identities {
            let directory_name = directories
                .iter()
                .find(|directory| directory.id == identity.directory)
                .map(|directory| directory.display_name.clone())
                .unwrap_or_default();
            flagged.push(FlaggedIdentity {
                tenant: tenant.id,
                tenant_slug: tenant.slug.clone(),
                directory_name,
                identity,
            });
        }
    }
    Ok(flagged)
}
