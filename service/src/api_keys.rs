//! Keys of the operator API. A key is `scimk_` followed by 256 random bits in base64url;
//! only its SHA-256 digest is stored (random keys need no slow hash, as SCIM tokens).

use chrono::{DateTime, Duration, Utc};
use store::{ApiKeyId, NewApiKey, Store};

use crate::directories::digest;
use crate::{Effects, ServiceError};

const KEY_PREFIX: &str = "scimk_";

/// `last_used_at` is written at most this often per key.
const LAST_USED_PRECISION: Duration = Duration::minutes(1);

/// A freshly issued key: the secret is here once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedApiKey {
    pub id: ApiKeyId,
    pub secret: String,
}

pub async fn issue_api_key(store: &Store, label: String, effects: &Effects) -> Result<IssuedApiKey, ServiceError> {
    let now = effects.now();
    let secret = format!("{KEY_PREFIX}{}", effects.secret(32));
    let key = NewApiKey { id: effects.id(), digest: digest(&secret), label, created_at: now };
    store.insert_api_key(&key).await?;
    Ok(IssuedApiKey { id: key.id, secret })
}

/// Why an API request was not authenticated: one case, whatever the reason.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("the API key is missing, unknown or revoked")]
    Unauthorized,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Checks a presented key at `now`; returns its id.
pub async fn authenticate_api_key(store: &Store, presented: &str, now: DateTime<Utc>) -> Result<ApiKeyId, ApiKeyError> {
    if !presented.starts_with(KEY_PREFIX) {
        return Err(ApiKeyError::Unauthorized);
    }
    let key = store
        .api_key_by_digest(&digest(presented))
        .await
        .map_err(ServiceError::from)?
        .ok_or(ApiKeyError::Unauthorized)?;
    if key.revoked_at.is_some_and(|revoked| revoked <= now) {
        return Err(ApiKeyError::Unauthorized);
    }
    if key.last_used_at.is_none_or(|used| now - used >= LAST_USED_PRECISION) {
        store.mark_api_key_used(key.id, now).await.map_err(ServiceError::from)?;
    }
    Ok(key.id)
}

pub async fn revoke_api_key(store: &Store, key: ApiKeyId, now: DateTime<Utc>) -> Result<bool, ServiceError> {
    Ok(store.revoke_api_key(key, now).await?)
}
