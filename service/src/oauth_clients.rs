//! OAuth client credentials of a directory with a whole lifecycle: listed with their last
//! token request and live access tokens, their secret rotated with an overlap (as bearer
//! tokens are: the replaced secret keeps working until the overlap ends, so the admin
//! pastes the new one without a failed token request), revoked — which revokes the access
//! tokens the client minted, so the identity provider holding them is refused at its next
//! request — and their access tokens ended without revoking the client (a leaked access
//! token: the identity provider fetches a fresh one). Each change is in the tenant's trail.

use chrono::{DateTime, Duration};
use serde_json::json;
use store::{DirectoryId, OAuthClientOverview, Store, TenantId};

use crate::actor::Actor;
use crate::directories::{CLIENT_SECRET_PREFIX, MAX_ROTATION_OVERLAP, digest};
use crate::{Effects, ServiceError};

/// Why a client was not changed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthClientError {
    #[error("this directory has no such OAuth client")]
    NoSuchClient,
    #[error("this OAuth client is revoked; issue a new one")]
    Revoked,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for OAuthClientError {
    fn from(error: store::StoreError) -> Self {
        Self::Service(error.into())
    }
}

/// A directory's OAuth clients, newest first (`None`: the tenant has no such directory).
pub async fn list(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    effects: &Effects,
) -> Result<Option<Vec<OAuthClientOverview>>, ServiceError> {
    let scope = store.tenant(tenant);
    if scope.directory(directory).await?.is_none() {
        return Ok(None);
    }
    Ok(Some(scope.oauth_clients(directory, effects.now()).await?))
}

/// A rotated secret: shown once, never stored; the replaced one works until `old_until`.
#[derive(Debug, Clone)]
pub struct RotatedSecret {
    pub client_id: String,
    pub secret: String,
    /// `None`: the replaced secret stopped working at once.
    pub old_until: Option<DateTime<chrono::Utc>>,
}

/// Gives a client a new secret; the replaced one keeps working for `overlap` (at most
/// [`MAX_ROTATION_OVERLAP`]; zero: it stops at once). Recorded as `oauth_client.rotated`.
pub async fn rotate_secret(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    client_id: &str,
    overlap: Duration,
    actor: &Actor,
    effects: &Effects,
) -> Result<RotatedSecret, OAuthClientError> {
    let now = effects.now();
    let overlap = overlap.clamp(Duration::zero(), MAX_ROTATION_OVERLAP);
    let old_until = (overlap > Duration::zero()).then(|| now + overlap);
    let secret = format!("{CLIENT_SECRET_PREFIX}{}", effects.secret(32));
    let mut action = store.tenant(tenant).begin_action().await?;
    if !action.rotate_oauth_client_secret(directory, client_id, &digest(&secret), old_until, now).await? {
        return Err(why_unchanged(store, tenant, directory, client_id, effects).await?);
    }
    let detail = json!({ "client_id": client_id, "old_secret_until": old_until });
    action.commit(actor.record("oauth_client.rotated", Some(directory), detail, now)).await?;
    Ok(RotatedSecret { client_id: client_id.to_owned(), secret, old_until })
}

/// Revokes a client and every access token it minted; returns how many access tokens were
/// revoked. Revoking a revoked client revokes what is left and records nothing new.
pub async fn revoke(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    client_id: &str,
    actor: &Actor,
    effects: &Effects,
) -> Result<u64, OAuthClientError> {
    let now = effects.now();
    let clients = list(store, tenant, directory, effects).await?.ok_or(OAuthClientError::NoSuchClient)?;
    let client = clients.iter().find(|c| c.client_id == client_id).ok_or(OAuthClientError::NoSuchClient)?;
    let mut action = store.tenant(tenant).begin_action().await?;
    let revoked = action.revoke_oauth_client(directory, client_id, now).await?.ok_or(OAuthClientError::NoSuchClient)?;
    if client.revoked_at.is_some() && revoked == 0 {
        // Nothing changed: the transaction is dropped, nothing is recorded.
        drop(action);
        return Ok(0);
    }
    let detail = json!({ "client_id": client_id, "access_tokens_revoked": revoked });
    action.commit(actor.record("oauth_client.revoked", Some(directory), detail, now)).await?;
    Ok(revoked)
}

/// Ends a client's live access tokens without revoking the client: its identity provider
/// fetches a new one with its secret. Returns how many were ended.
pub async fn end_access_tokens(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    client_id: &str,
    actor: &Actor,
    effects: &Effects,
) -> Result<u64, OAuthClientError> {
    let now = effects.now();
    let clients = list(store, tenant, directory, effects).await?.ok_or(OAuthClientError::NoSuchClient)?;
    if !clients.iter().any(|c| c.client_id == client_id) {
        return Err(OAuthClientError::NoSuchClient);
    }
    let mut action = store.tenant(tenant).begin_action().await?;
    let ended = action.revoke_oauth_access_tokens(directory, client_id, now).await?;
    let detail = json!({ "client_id": client_id, "access_tokens_revoked": ended });
    action.commit(actor.record("oauth_client.access_tokens_revoked", Some(directory), detail, now)).await?;
    Ok(ended)
}

/// Why a client the rotation did not change was not changed.
async fn why_unchanged(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    client_id: &str,
    effects: &Effects,
) -> Result<OAuthClientError, ServiceError> {
    let clients = list(store, tenant, directory, effects).await?.unwrap_or_default();
    Ok(match clients.iter().find(|c| c.client_id == client_id) {
        Some(client) if client.revoked_at.is_some() => OAuthClientError::Revoked,
        _ => OAuthClientError::NoSuchClient,
    })
}
