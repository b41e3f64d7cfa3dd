//! Tenants, their directories, and the bearer tokens identity providers authenticate with.
//!
//! A token is `scim_` followed by 256 random bits in base64url (the prefix lets secret
//! scanners recognise a leaked token). Only its SHA-256 digest is stored: a fast hash is
//! right here, because the token is random (nothing to brute-force) and is checked on
//! every SCIM request (a slow password hash would cap throughput).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use store::{
    Directory, DirectoryId, DirectorySettings, IdentityProvider, NewToken, Store, StoreError, Tenant, TenantId,
    TenantSlug, TokenId, TokenRecord,
};

use crate::ServiceError;

const TOKEN_PREFIX: &str = "scim_";

/// `last_used_at` is written at most this often per token, so that a busy directory does
/// not turn every read into a write.
const LAST_USED_PRECISION: Duration = Duration::minutes(1);

/// The tenant with this slug, created (with the slug as its display name) if missing.
pub async fn ensure_tenant(store: &Store, slug: &TenantSlug, now: DateTime<Utc>) -> Result<Tenant, ServiceError> {
    if let Some(tenant) = store.tenant_by_slug(slug).await? {
        return Ok(tenant);
    }
    let tenant = Tenant {
        id: TenantId::generate(),
        slug: slug.clone(),
        display_name: slug.as_str().to_owned(),
        created_at: now,
    };
    match store.create_tenant(&tenant).await {
        Ok(()) => Ok(tenant),
        // Created by someone else between the read and the write: use theirs.
        Err(StoreError::Conflict(_)) => {
            store.tenant_by_slug(slug).await?.ok_or(ServiceError::Internal("tenant vanished after a conflict".into()))
        }
        Err(error) => Err(error.into()),
    }
}

/// Adds a directory fed by `idp` to a tenant.
pub async fn create_directory(
    store: &Store,
    tenant: TenantId,
    idp: IdentityProvider,
    now: DateTime<Utc>,
) -> Result<Directory, ServiceError> {
    create_directory_with(store, tenant, idp, DirectorySettings::default(), now).await
}

/// Adds a directory with these settings (rate limit, unknown-attribute policy).
pub async fn create_directory_with(
    store: &Store,
    tenant: TenantId,
    idp: IdentityProvider,
    settings: DirectorySettings,
    now: DateTime<Utc>,
) -> Result<Directory, ServiceError> {
    let directory = Directory {
        id: DirectoryId::generate(),
        idp,
        display_name: idp.display_name().to_owned(),
        created_at: now,
        settings,
    };
    store.tenant(tenant).create_directory(&directory).await?;
    Ok(directory)
}

/// What to issue.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub label: String,
    pub read_only: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A freshly issued token: the secret is here once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: TokenId,
    pub secret: String,
}

/// Issues a new bearer token for a directory of the tenant.
pub async fn issue_token(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    request: TokenRequest,
    now: DateTime<Utc>,
) -> Result<IssuedToken, ServiceError> {
    let mut random = [0_u8; 32];
    OsRng.fill_bytes(&mut random);
    let secret = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(random));
    let token = NewToken {
        id: TokenId::generate(),
        directory,
        digest: digest(&secret),
        label: request.label,
        read_only: request.read_only,
        created_at: now,
        expires_at: request.expires_at,
    };
    store.tenant(tenant).insert_token(&token).await?;
    Ok(IssuedToken { id: token.id, secret })
}

/// Who a SCIM request is, once its bearer token checks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant: TenantId,
    pub directory: DirectoryId,
    pub token: TokenId,
    pub read_only: bool,
}

/// Why a request was not authenticated. Deliberately one case: the answer must not tell an
/// unknown directory from a wrong, expired or revoked token.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticationError {
    #[error("the bearer token is missing, unknown, expired or revoked")]
    Unauthorized,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for AuthenticationError {
    fn from(error: StoreError) -> Self {
        AuthenticationError::Service(error.into())
    }
}

/// Checks a bearer token presented for `directory` at `now`.
pub async fn authenticate(
    store: &Store,
    directory: DirectoryId,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<Caller, AuthenticationError> {
    authenticate_for_directory(store, directory, presented, now).await.map(|(caller, _)| caller)
}

/// Checks a bearer token presented for `directory` at `now`, and returns the directory too
/// (one database round trip for both).
pub async fn authenticate_for_directory(
    store: &Store,
    directory: DirectoryId,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<(Caller, Directory), AuthenticationError> {
    if !presented.starts_with(TOKEN_PREFIX) {
        return Err(AuthenticationError::Unauthorized);
    }
    let (tenant, token, found) =
        store.directory_token(directory, &digest(presented)).await?.ok_or(AuthenticationError::Unauthorized)?;
    if !is_valid_at(&token, now) {
        return Err(AuthenticationError::Unauthorized);
    }
    if token.last_used_at.is_none_or(|used| now - used >= LAST_USED_PRECISION) {
        store.tenant(tenant).mark_token_used(token.id, now).await?;
    }
    Ok((Caller { tenant, directory, token: token.id, read_only: token.read_only }, found))
}

/// Revokes a token of the tenant; returns whether the tenant had it.
pub async fn revoke_token(
    store: &Store,
    tenant: TenantId,
    token: TokenId,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    Ok(store.tenant(tenant).revoke_token(token, now).await?)
}

fn is_valid_at(token: &TokenRecord, now: DateTime<Utc>) -> bool {
    token.revoked_at.is_none_or(|revoked| revoked > now) && token.expires_at.is_none_or(|expires| expires > now)
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_sha256_of_the_whole_token() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(digest("abc")[..4], [0xba, 0x78, 0x16, 0xbf],);
    }
}
