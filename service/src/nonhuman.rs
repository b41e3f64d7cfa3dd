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
pub use store::{NonHumanIdentity, OwnerPolicy, OwnerState};

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

/// The actor of the owner policy's writes in the audit trail.
pub const OWNER_POLICY_ACTOR: &str = "system:nhi-owner-policy";
/// The audit action of applying an owner policy to one identity.
pub const OWNER_POLICY_ACTION: &str = "nhi.owner_policy_applied";
/// The audit action of an admin choosing a directory's owner policy.
pub const OWNER_POLICY_CHANGED: &str = "directory.owner_policy_changed";

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
    let detail = serde_json::json!({
        "kind": identity.kind.as_str(),
        "expiresAt": identity.expires_at.map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        "owner": identity.owner,
    });
    sweeper_record(SWEEPER_ACTOR, EXPIRED_ACTION, directory, id, detail, now)
}

/// A record the sweeper writes about identity `id` of `directory`.
fn sweeper_record(
    actor: &str,
    action: &str,
    directory: DirectoryId,
    id: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> NewAuditRecord {
    NewAuditRecord {
        occurred_at: now,
        actor: actor.to_owned(),
        action: action.to_owned(),
        directory: Some(directory),
        method: None,
        path: None,
        status: None,
        latency_ms: None,
        resource_id: Some(id.to_owned()),
        outcome: store::AuditOutcome::Success,
        detail,
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

/// The record of applying `policy` to identity `id`, whose owner `owner` was found
/// `owner_state` (`deactivated` or `gone`); it commits with the change.
pub(crate) fn owner_policy_record(
    directory: DirectoryId,
    id: &str,
    owner: &str,
    owner_state: &str,
    policy: &OwnerPolicy,
    identity: &scim::nonhuman::NonHuman,
    now: DateTime<Utc>,
) -> NewAuditRecord {
    let mut detail = serde_json::json!({
        "kind": identity.kind.as_str(),
        "policy": policy.as_str(),
        "owner": owner,
        "owner_state": owner_state,
    });
    if let (OwnerPolicy::Reassign { fallback_owner }, Some(fields)) = (policy, detail.as_object_mut()) {
        fields.insert("new_owner".to_owned(), serde_json::json!(fallback_owner));
    }
    sweeper_record(OWNER_POLICY_ACTOR, OWNER_POLICY_ACTION, directory, id, detail, now)
}

/// One identity the owner policy changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerPolicyApplied {
    pub tenant: TenantId,
    pub directory: DirectoryId,
    pub id: String,
    pub outcome: crate::provisioning::OwnerPolicyOutcome,
}

/// Applies each directory's owner policy (deactivate, or reassign to the fallback owner)
/// to its identities whose owner is deactivated or deleted, at most `limit` per call, each
/// through the write a SCIM PATCH makes (its change in the feed, its record
/// ([`OWNER_POLICY_ACTION`]) in the tenant's trail, in one transaction). Directories that
/// flag (the default) are not read. Safe in several processes at once and idempotent:
/// each identity is re-read under its directory's lock, and one whose owner changed
/// meanwhile, or that the policy already changed, is left alone.
pub async fn apply_owner_policies(
    store: &Store,
    public_base: &str,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<OwnerPolicyApplied>, ServiceError> {
    let mut applied = Vec::new();
    for summary in store.tenant_summaries().await? {
        let tenant = summary.tenant.id;
        let scope = store.tenant(tenant);
        for (directory, policy) in scope.owner_policies().await? {
            let left = limit.saturating_sub(applied.len());
            if left == 0 {
                return Ok(applied);
            }
            let ownerless = scope.ownerless_in_directory(directory, i64::try_from(left).unwrap_or(i64::MAX)).await?;
            let pending: Vec<NonHumanIdentity> = ownerless
                .into_iter()
                .filter(|identity| match &policy {
                    OwnerPolicy::Flag => false,
                    OwnerPolicy::Deactivate => identity.active,
                    OwnerPolicy::Reassign { fallback_owner } => identity.owner_id.as_ref() != Some(fallback_owner),
                })
                .collect();
            if pending.is_empty() {
                continue;
            }
            let base_url = format!("{public_base}/scim/v2/{directory}");
            let endpoint = portal_endpoint(store, tenant, directory, base_url).await;
            let Some(endpoint) = endpoint.map_err(|error| error.into_service_error("opening a directory to sweep"))?
            else {
                continue;
            };
            for identity in pending {
                let Some(owner) = identity.owner_id.as_deref() else { continue };
                let owner_state = match identity.owner_state {
                    OwnerState::Gone => "gone",
                    _ => "deactivated",
                };
                match endpoint.apply_owner_policy(&identity.id, owner, owner_state, &policy, now).await {
                    Ok(Some(outcome)) => {
                        tracing::info!(%tenant, %directory, id = %identity.id, ?outcome, "applied the owner policy");
                        applied.push(OwnerPolicyApplied { tenant, directory, id: identity.id, outcome });
                    }
                    Ok(None) => {}
                    Err(ProvisioningError::Protocol(error)) => {
                        tracing::warn!(%tenant, id = %identity.id, %error, "cannot apply the owner policy");
                    }
                    Err(ProvisioningError::Service(error)) => return Err(error),
                }
            }
        }
    }
    Ok(applied)
}

/// A directory's owner policy as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerPolicySetting {
    pub policy: OwnerPolicy,
    /// The fallback owner's userName, while it exists.
    pub fallback_user_name: Option<String>,
}

/// Why an owner policy was refused; every message can be shown to the admin as it is.
#[derive(Debug, thiserror::Error)]
pub enum OwnerPolicyError {
    #[error("the policy must be flag, deactivate or reassign, not {0:?}")]
    UnknownPolicy(String),
    #[error("reassigning needs the userName of the user who becomes the owner")]
    NoFallback,
    #[error("no user of this directory has the userName {0:?}")]
    FallbackNotFound(String),
    #[error("{0} is deactivated: the fallback owner must be an active user")]
    FallbackInactive(String),
    #[error("{0} is a service account or agent itself: the fallback owner must be a person")]
    FallbackNotAPerson(String),
    #[error("no such directory")]
    NoSuchDirectory,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for OwnerPolicyError {
    fn from(error: store::StoreError) -> Self {
        OwnerPolicyError::Service(error.into())
    }
}

/// A directory's owner policy, with the fallback owner's userName.
pub async fn owner_policy(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<OwnerPolicySetting, ServiceError> {
    let scope = store.tenant(tenant);
    let policy = scope.owner_policy(directory).await?;
    let fallback_user_name = match &policy {
        OwnerPolicy::Reassign { fallback_owner } => scope
            .directory_data(directory)
            .resource(store::ResourceKind::User, fallback_owner)
            .await?
            .and_then(|user| user.doc.get("userName").and_then(serde_json::Value::as_str).map(str::to_owned)),
        OwnerPolicy::Flag | OwnerPolicy::Deactivate => None,
    };
    Ok(OwnerPolicySetting { policy, fallback_user_name })
}

/// Sets a directory's owner policy (`flag`, `deactivate`, or `reassign` to the active
/// person whose userName is `fallback_user_name`), recorded in the tenant's trail
/// ([`OWNER_POLICY_CHANGED`]). It applies from the sweeper's next run, within a minute.
pub async fn set_owner_policy(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    policy: &str,
    fallback_user_name: &str,
    actor: &crate::actor::Actor,
    now: DateTime<Utc>,
) -> Result<OwnerPolicySetting, OwnerPolicyError> {
    let scope = store.tenant(tenant);
    let policy = match policy.trim() {
        "flag" => OwnerPolicy::Flag,
        "deactivate" => OwnerPolicy::Deactivate,
        "reassign" => {
            let name = fallback_user_name.trim();
            if name.is_empty() {
                return Err(OwnerPolicyError::NoFallback);
            }
            OwnerPolicy::Reassign { fallback_owner: person_named(store, tenant, directory, name).await? }
        }
        other => return Err(OwnerPolicyError::UnknownPolicy(other.to_owned())),
    };
    let mut action = scope.begin_action().await?;
    if !action.set_owner_policy(directory, &policy, now).await? {
        return Err(OwnerPolicyError::NoSuchDirectory);
    }
    let mut detail = serde_json::json!({ "policy": policy.as_str() });
    if let (OwnerPolicy::Reassign { fallback_owner }, Some(fields)) = (&policy, detail.as_object_mut()) {
        fields.insert("fallback_owner".to_owned(), serde_json::json!(fallback_owner));
        fields.insert("fallback_user_name".to_owned(), serde_json::json!(fallback_user_name.trim()));
    }
    action.commit(actor.record(OWNER_POLICY_CHANGED, Some(directory), detail, now)).await?;
    Ok(owner_policy(store, tenant, directory).await?)
}

/// The audit action of turning a directory's non-human identity extension on or off.
pub const EXTENSION_CHANGED: &str = "directory.nonhuman_extension_changed";

/// Why the non-human identity extension was not turned off; shown to the admin as it is.
#[derive(Debug, thiserror::Error)]
pub enum NonhumanExtensionError {
    #[error(
        "this directory still has service accounts, agents or agentic applications ({0}), which would no longer \
         be watched or served: non-human identities can be turned off once none is left"
    )]
    InUse(i64),
    #[error("no such directory")]
    NoSuchDirectory,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for NonhumanExtensionError {
    fn from(error: store::StoreError) -> Self {
        NonhumanExtensionError::Service(error.into())
    }
}

/// Turns a directory's non-human identity extension on or off (see
/// [`store::TenantAction::set_nonhuman_extension`]) and records
/// `directory.nonhuman_extension_changed` when it changed; answers how many existing users
/// turning it on made identities. Running servers offer the change from the next request.
pub async fn set_nonhuman_extension(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    offered: bool,
    actor: &crate::actor::Actor,
    now: DateTime<Utc>,
) -> Result<u64, NonhumanExtensionError> {
    let scope = store.tenant(tenant);
    let Some(current) = scope.directory(directory).await? else {
        return Err(NonhumanExtensionError::NoSuchDirectory);
    };
    if current.settings.nonhuman_extension == offered {
        return Ok(0);
    }
    let mut action = scope.begin_action().await?;
    let indexed = match action.set_nonhuman_extension(directory, offered).await? {
        store::NonhumanExtensionChange::NoDirectory => return Err(NonhumanExtensionError::NoSuchDirectory),
        store::NonhumanExtensionChange::InUse { identities } => {
            return Err(NonhumanExtensionError::InUse(identities));
        }
        store::NonhumanExtensionChange::Changed { indexed } => indexed,
    };
    let detail = serde_json::json!({ "offered": offered, "identities_indexed": indexed });
    action.commit(actor.record(EXTENSION_CHANGED, Some(directory), detail, now)).await?;
    Ok(indexed)
}

/// The id of the active person (not itself a non-human identity) of `directory` whose
/// userName is `name` (any case).
async fn person_named(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    name: &str,
) -> Result<String, OwnerPolicyError> {
    let data = store.tenant(tenant).directory_data(directory);
    let Some(id) = data.user_id_named(name).await? else {
        return Err(OwnerPolicyError::FallbackNotFound(name.to_owned()));
    };
    if let Some(user) = data.resource(store::ResourceKind::User, &id).await?
        && let Some(doc) = user.doc.as_object()
    {
        let user_name = doc.get("userName").and_then(serde_json::Value::as_str).unwrap_or(name);
        if doc.get("active").and_then(serde_json::Value::as_bool) == Some(false) {
            return Err(OwnerPolicyError::FallbackInactive(user_name.to_owned()));
        }
        if scim::nonhuman::NonHuman::of(doc).ok().flatten().is_some() {
            return Err(OwnerPolicyError::FallbackNotAPerson(user_name.to_owned()));
        }
        return Ok(user.id);
    }
    Err(OwnerPolicyError::FallbackNotFound(name.to_owned()))
}
