//! Tenants, their directories, and the bearer tokens identity providers authenticate with.
//!
//! A token is `scim_` followed by 256 random bits in base64url (the prefix lets secret
//! scanners recognise a leaked token). Only its SHA-256 digest is stored: a fast hash is
//! right here, because the token is random (nothing to brute-force) and is checked on
//! every SCIM request (a slow password hash would cap throughput).

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use store::{
    Directory, DirectoryId, DirectorySettings, IdentityProvider, NewOAuthClient, NewToken, SchemaExtension, Store,
    StoreError, Tenant, TenantId, TenantSlug, TokenId, TokenRecord,
};

use serde_json::json;

use crate::actor::Actor;
use crate::nonhuman::NonhumanExtensionError;
use crate::{Effects, ServiceError};

const TOKEN_PREFIX: &str = "scim_";

/// `last_used_at` is written at most this often per token, so that a busy directory does
/// not turn every read into a write.
const LAST_USED_PRECISION: Duration = Duration::minutes(1);

/// The tenant with this slug, created (with the slug as its display name) if missing.
pub async fn ensure_tenant(
    store: &Store,
    slug: &TenantSlug,
    actor: &Actor,
    effects: &Effects,
) -> Result<Tenant, ServiceError> {
    if let Some(tenant) = store.tenant_by_slug(slug).await? {
        return Ok(tenant);
    }
    match crate::tenants::create(store, slug.as_str(), slug.as_str(), actor, effects).await {
        Ok(tenant) => Ok(tenant),
        // Created by someone else between the read and the write: use theirs.
        Err(crate::tenants::TenantError::SlugTaken(_)) => {
            store.tenant_by_slug(slug).await?.ok_or(ServiceError::Internal("tenant vanished after a conflict".into()))
        }
        Err(crate::tenants::TenantError::Service(error)) => Err(error),
        Err(other) => Err(ServiceError::Internal(other.to_string())),
    }
}

/// A directory to add to a tenant.
#[derive(Debug, Clone)]
pub struct NewDirectory {
    pub idp: IdentityProvider,
    /// Rate limit and unknown-attribute policy.
    pub settings: DirectorySettings,
    /// The label of a bearer token issued with the directory; `None` when the token comes
    /// later (the wizard shows it at its token step, when the admin is ready to paste it).
    pub first_token: Option<String>,
}

/// Why a directory was not added.
#[derive(Debug, thiserror::Error)]
pub enum AddDirectoryError {
    /// The tenant has as many directories as the deployment allows.
    #[error("this organization already has {limit} directories, the most this deployment allows; delete one first")]
    TooMany { limit: u32 },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for AddDirectoryError {
    fn from(error: store::StoreError) -> Self {
        Self::Service(error.into())
    }
}

/// Adds a directory to a tenant, with its first token when asked for: the one use case
/// behind the wizard's first step, the operator console, the operator API and the CLI.
/// With a `limit`, a tenant that has that many directories gets none more (one tenant must
/// not fill the deployment; the operator's CLI passes none). The directory, its token and
/// the `directory.created` record commit together.
pub async fn add_directory(
    store: &Store,
    tenant: TenantId,
    new: NewDirectory,
    limit: Option<u32>,
    actor: &Actor,
    effects: &Effects,
) -> Result<(Directory, Option<IssuedToken>), AddDirectoryError> {
    let now = effects.now();
    let directory = Directory {
        id: effects.id(),
        idp: new.idp,
        display_name: new.idp.display_name().to_owned(),
        created_at: now,
        settings: new.settings,
    };
    let mut action = store.tenant(tenant).begin_action().await?;
    if let Some(limit) = limit
        && action.count_directories_locked().await? >= i64::from(limit)
    {
        return Err(AddDirectoryError::TooMany { limit });
    }
    action.create_directory(&directory).await?;
    let mut detail = json!({ "idp": new.idp.as_str() });
    let token = match new.first_token {
        Some(label) => {
            let request = TokenRequest { label, read_only: false, expires_at: None };
            let (token, issued) = new_token(effects, directory.id, request, None, now);
            action.insert_token(&token).await?;
            detail["token"] = json!(issued.id.to_string());
            Some(issued)
        }
        None => None,
    };
    action.commit(actor.record("directory.created", Some(directory.id), detail, now)).await?;
    Ok((directory, token))
}

/// A change to a directory's settings: what is `None` stays as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettingsChange {
    /// Sustained SCIM requests per second before 429 (at least 1).
    pub rate_limit_per_second: Option<u32>,
    /// Reject attributes no schema defines (`true`) or keep and report them.
    pub strict_attributes: Option<bool>,
    /// Offer the non-human identity extension (see
    /// [`crate::nonhuman::set_nonhuman_extension`], which a change goes through).
    pub nonhuman_extension: Option<bool>,
}

impl SettingsChange {
    /// `current` with this change applied.
    pub fn applied_to(self, current: DirectorySettings) -> DirectorySettings {
        DirectorySettings {
            rate_limit_per_second: self.rate_limit_per_second.unwrap_or(current.rate_limit_per_second).max(1),
            strict_attributes: self.strict_attributes.unwrap_or(current.strict_attributes),
            nonhuman_extension: self.nonhuman_extension.unwrap_or(current.nonhuman_extension),
        }
    }
}

/// Changes a directory's settings (rate limit, unknown-attribute policy) and records
/// `directory.configured`, then turns the non-human identity extension on or off if the
/// change says so (its own action and record; refused while identities use it); returns
/// the settings now in force, `None` when the tenant has no such directory. Running
/// servers apply them from the next request.
pub async fn configure_directory(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    change: SettingsChange,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<DirectorySettings>, NonhumanExtensionError> {
    let Some(current) = store.tenant(tenant).directory(directory).await? else { return Ok(None) };
    let settings = SettingsChange { nonhuman_extension: None, ..change }.applied_to(current.settings);
    if change.rate_limit_per_second.is_some() || change.strict_attributes.is_some() {
        let mut action = store.tenant(tenant).begin_action().await?;
        if !action.update_directory_settings(directory, &settings).await? {
            return Ok(None);
        }
        let detail = json!({
            "rate_limit_per_second": settings.rate_limit_per_second,
            "unknown_attributes": if settings.strict_attributes { "strict" } else { "preserve" },
        });
        action.commit(actor.record("directory.configured", Some(directory), detail, now)).await?;
    }
    if let Some(offered) = change.nonhuman_extension {
        match crate::nonhuman::set_nonhuman_extension(store, tenant, directory, offered, actor, now).await {
            Ok(_) => {}
            Err(NonhumanExtensionError::NoSuchDirectory) => return Ok(None),
            Err(refused) => return Err(refused),
        }
    }
    Ok(store.tenant(tenant).directory(directory).await?.map(|directory| directory.settings))
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

/// Issues a new bearer token for a directory of the tenant and records `token.issued`;
/// `None` when the tenant has no such directory.
pub async fn issue_token(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    request: TokenRequest,
    actor: &Actor,
    effects: &Effects,
) -> Result<Option<IssuedToken>, ServiceError> {
    let now = effects.now();
    if store.tenant(tenant).directory(directory).await?.is_none() {
        return Ok(None);
    }
    let (token, issued) = new_token(effects, directory, request, None, now);
    let mut action = store.tenant(tenant).begin_action().await?;
    action.insert_token(&token).await?;
    let detail = json!({ "token": issued.id.to_string() });
    action.commit(actor.record("token.issued", Some(directory), detail, now)).await?;
    Ok(Some(issued))
}

/// A short-lived token the server mints for itself (the self-test's), recorded by the use
/// case it serves rather than as an issue of its own.
pub(crate) async fn mint_token(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    request: TokenRequest,
    effects: &Effects,
) -> Result<IssuedToken, ServiceError> {
    let now = effects.now();
    let (mut token, issued) = new_token(effects, directory, request, None, now);
    token.self_test = true;
    store.tenant(tenant).mint_token(&token).await?;
    Ok(issued)
}

/// A new token's row and its secret (shown once, never stored).
fn new_token(
    effects: &Effects,
    directory: DirectoryId,
    request: TokenRequest,
    oauth_client: Option<String>,
    now: DateTime<Utc>,
) -> (NewToken, IssuedToken) {
    let secret = format!("{TOKEN_PREFIX}{}", effects.secret(32));
    let token = NewToken {
        self_test: false,
        id: effects.id(),
        directory,
        digest: digest(&secret),
        label: request.label,
        read_only: request.read_only,
        created_at: now,
        expires_at: request.expires_at,
        oauth_client,
    };
    let issued = IssuedToken { id: token.id, secret };
    (token, issued)
}

/// OAuth client ids start with this, secrets with the token prefix's sibling.
const CLIENT_ID_PREFIX: &str = "scimc_";
pub(crate) const CLIENT_SECRET_PREFIX: &str = "scims_";

/// How long an access token from the token endpoint lives (RFC 6749 `expires_in`).
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);

/// Freshly issued OAuth client credentials: the secret is here once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedClient {
    pub client_id: String,
    pub secret: String,
}

/// Issues OAuth 2.0 client credentials for a directory, for identity providers that fetch
/// short-lived access tokens from `POST /oauth/token` (RFC 6749 §4.4), and records
/// `oauth_client.issued`; `None` when the tenant has no such directory.
pub async fn issue_oauth_client(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    label: String,
    actor: &Actor,
    effects: &Effects,
) -> Result<Option<IssuedClient>, ServiceError> {
    let now = effects.now();
    if store.tenant(tenant).directory(directory).await?.is_none() {
        return Ok(None);
    }
    let client_id = format!("{CLIENT_ID_PREFIX}{}", effects.secret(16));
    let secret = format!("{CLIENT_SECRET_PREFIX}{}", effects.secret(32));
    let client = NewOAuthClient {
        directory,
        client_id: client_id.clone(),
        secret_digest: digest(&secret),
        label,
        created_at: now,
    };
    let mut action = store.tenant(tenant).begin_action().await?;
    action.insert_oauth_client(&client).await?;
    let detail = json!({ "client_id": client_id });
    action.commit(actor.record("oauth_client.issued", Some(directory), detail, now)).await?;
    Ok(Some(IssuedClient { client_id, secret }))
}

/// A short-lived access token from the client-credentials grant.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub token: String,
    pub expires_in_seconds: i64,
}

/// Why the token endpoint refused (RFC 6749 §5.2).
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// Unknown client, wrong secret or revoked client: one answer for all.
    #[error("the client id or secret is wrong, or the client was revoked")]
    InvalidClient,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for GrantError {
    fn from(error: StoreError) -> Self {
        GrantError::Service(error.into())
    }
}

/// The client-credentials grant: checks the client's secret and issues a bearer token for
/// its directory that expires after [`ACCESS_TOKEN_LIFETIME`].
pub async fn exchange_client_credentials(
    store: &Store,
    client_id: &str,
    secret: &str,
    effects: &Effects,
) -> Result<AccessToken, GrantError> {
    let now = effects.now();
    let client = store.oauth_client(client_id).await?.ok_or(GrantError::InvalidClient)?;
    let presented = digest(secret);
    // The secret a rotation replaced still works until its overlap ends.
    let previous_matches = match (client.previous_secret_digest, client.previous_secret_until) {
        (Some(previous), Some(until)) => until > now && constant_time_eq(&previous, &presented),
        _ => false,
    };
    let matches = constant_time_eq(&client.secret_digest, &presented) || previous_matches;
    if !matches || client.revoked_at.is_some_and(|revoked| revoked <= now) {
        return Err(GrantError::InvalidClient);
    }
    let request = TokenRequest {
        label: format!("OAuth access token for {client_id}"),
        read_only: false,
        expires_at: Some(now + ACCESS_TOKEN_LIFETIME),
    };
    let (token, issued) = new_token(effects, client.directory, request, Some(client_id.to_owned()), now);
    store.tenant(client.tenant).mint_token(&token).await?;
    Ok(AccessToken { token: issued.secret, expires_in_seconds: ACCESS_TOKEN_LIFETIME.num_seconds() })
}

/// How long after expiry the grant's access tokens are deleted (kept a while so a support
/// engineer can still see why an identity provider's old token was refused).
pub const EXPIRED_ACCESS_TOKEN_RETENTION: Duration = Duration::days(1);

/// Deletes the client-credentials grant's access tokens that expired more than
/// [`EXPIRED_ACCESS_TOKEN_RETENTION`] before `now`; returns how many.
pub async fn sweep_expired_access_tokens(store: &Store, now: DateTime<Utc>) -> Result<u64, ServiceError> {
    Ok(store.delete_expired_access_tokens(now - EXPIRED_ACCESS_TOKEN_RETENTION).await?)
}

/// Compares two digests without an early exit, so timing tells nothing about where they
/// differ.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0_u8, |difference, (x, y)| difference | (x ^ y)) == 0
}

/// Who a SCIM request is, once its bearer token checks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant: TenantId,
    pub directory: DirectoryId,
    pub token: TokenId,
    pub read_only: bool,
    /// The wizard self-test's token: what it creates stays out of the vendor's product.
    pub self_test: bool,
}

/// Why a request was not authenticated. The client is told none of it (the answer must not
/// tell an unknown directory from a wrong, expired or revoked token); the reason goes to
/// the directory's audit trail, where its admins and support can read it.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticationError {
    #[error("the bearer token is missing, unknown, expired or revoked ({0:?})")]
    Unauthorized(Refusal),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Why a credential presented to a directory was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization: Bearer …` header.
    NoToken,
    /// A bearer token that is not one this service issues (no `scim_` prefix).
    NotOurToken,
    /// A token of ours, but not one of this directory: mistyped, deleted, or another
    /// directory's.
    UnknownToken,
    Expired,
    Revoked,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NoToken => "no_token",
            Refusal::NotOurToken => "not_our_token",
            Refusal::UnknownToken => "unknown_token",
            Refusal::Expired => "expired_token",
            Refusal::Revoked => "revoked_token",
        }
    }

    /// What an admin should do about it.
    pub fn explanation(self) -> &'static str {
        match self {
            Refusal::NoToken => {
                "The request had no bearer token. Paste the directory's token into the identity provider's SCIM \
                 settings (Authorization: Bearer)."
            }
            Refusal::NotOurToken => {
                "The bearer token is not one this portal issued (its tokens start with scim_). The identity \
                 provider may hold a token of another system, or a truncated one: issue a new token and paste it whole."
            }
            Refusal::UnknownToken => {
                "The bearer token does not belong to this directory: it was mistyped, is another directory's, or \
                 was never issued here. Issue a new token on the directory's Tokens page."
            }
            Refusal::Expired => "The bearer token has expired. Rotate it on the Tokens page and paste the new one.",
            Refusal::Revoked => {
                "The bearer token was revoked. Paste the directory's current token into the identity provider."
            }
        }
    }
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
    authenticate_for_directory(store, directory, presented, now).await.map(|(caller, _, _)| caller)
}

/// Checks a bearer token presented for `directory` at `now`, and returns the directory too
/// (one database round trip for both).
pub async fn authenticate_for_directory(
    store: &Store,
    directory: DirectoryId,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<(Caller, Directory, Vec<SchemaExtension>), AuthenticationError> {
    if !presented.starts_with(TOKEN_PREFIX) {
        return Err(AuthenticationError::Unauthorized(Refusal::NotOurToken));
    }
    let access = store
        .directory_token(directory, &digest(presented))
        .await?
        .ok_or(AuthenticationError::Unauthorized(Refusal::UnknownToken))?;
    let (tenant, token, found) = (access.tenant, access.token, access.directory);
    if let Some(refusal) = refusal_at(&token, now) {
        return Err(AuthenticationError::Unauthorized(refusal));
    }
    if token.last_used_at.is_none_or(|used| now - used >= LAST_USED_PRECISION) {
        store.tenant(tenant).mark_token_used(token.id, now).await?;
    }
    let caller = Caller { tenant, directory, token: token.id, read_only: token.read_only, self_test: access.self_test };
    Ok((caller, found, access.extensions))
}

/// The longest overlap a rotation allows: both tokens work for at most this long.
pub const MAX_ROTATION_OVERLAP: Duration = Duration::days(7);

/// Replaces a token of a directory with a new one (same label, scope and lifetime left).
/// The old token keeps working until `now + overlap`, so that the identity provider can be
/// switched to the new one without a failed sync; then it expires. `None` when the tenant
/// has no such token for that directory.
pub async fn rotate_token(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    old: TokenId,
    overlap: Duration,
    actor: &Actor,
    effects: &Effects,
) -> Result<Option<(IssuedToken, DateTime<Utc>)>, ServiceError> {
    let now = effects.now();
    let overlap = overlap.clamp(Duration::zero(), MAX_ROTATION_OVERLAP);
    let tokens = store.tenant(tenant).directory_tokens(directory).await?;
    let Some(current) = tokens.into_iter().find(|token| token.id == old && token.revoked_at.is_none()) else {
        return Ok(None);
    };
    let request = TokenRequest {
        label: rotated_label(&current.label, now),
        read_only: current.read_only,
        // The new token lives as long as the old one was meant to, counted from now.
        expires_at: current.expires_at.map(|expires| now + (expires - current.created_at).max(Duration::hours(1))),
    };
    let (token, issued) = new_token(effects, directory, request, None, now);
    let old_until = current.expires_at.map_or(now + overlap, |expires| expires.min(now + overlap));
    let mut action = store.tenant(tenant).begin_action().await?;
    action.insert_token(&token).await?;
    action.expire_token_at(old, old_until).await?;
    let detail = json!({ "token": issued.id.to_string(), "replaces": old.to_string(), "old_token_until": old_until });
    action.commit(actor.record("token.rotated", Some(directory), detail, now)).await?;
    Ok(Some((issued, old_until)))
}

/// The name of a token made by rotating the token named `label`: `Rotated from ‘Entra
/// prod’ on 3 Dec` (the old name cut short to keep within the 100 characters a name has).
pub fn rotated_label(label: &str, now: DateTime<Utc>) -> String {
    // A token rotated again names its original, not a chain of rotations.
    let original = label
        .strip_prefix("Rotated from ‘")
        .and_then(|rest| rest.rsplit_once("’ on "))
        .map_or(label, |(original, _)| original);
    let date = now.format("%-d %b").to_string();
    let room = 100 - "Rotated from ‘’ on ".chars().count() - date.chars().count();
    let mut name: String = original.chars().take(room).collect();
    if name.chars().count() < original.chars().count() {
        name.pop();
        name.push('…');
    }
    format!("Rotated from ‘{name}’ on {date}")
}

/// Revokes a token an admin issued for one of the tenant's directories and records
/// `token.revoked`; false when the directory has no such token (another directory's token
/// is not found here, so a page of one directory cannot revoke another's).
pub async fn revoke_token(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    token: TokenId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let mut action = store.tenant(tenant).begin_action().await?;
    if !action.revoke_token(directory, token, now).await? {
        return Ok(false);
    }
    let detail = json!({ "token": token.to_string() });
    action.commit(actor.record("token.revoked", Some(directory), detail, now)).await?;
    Ok(true)
}

/// Why `token` no longer opens its directory at `now`, if it does not.
fn refusal_at(token: &TokenRecord, now: DateTime<Utc>) -> Option<Refusal> {
    if token.revoked_at.is_some_and(|revoked| revoked <= now) {
        Some(Refusal::Revoked)
    } else if token.expires_at.is_some_and(|expires| expires <= now) {
        Some(Refusal::Expired)
    } else {
        None
    }
}

pub(crate) fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_compare_equal_only_when_equal() {
        assert!(constant_time_eq(&digest("a"), &digest("a")));
        assert!(!constant_time_eq(&digest("a"), &digest("b")));
    }

    #[test]
    fn a_rotated_token_is_named_after_its_original_and_the_day() {
        use chrono::TimeZone;
        let day = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap();
        assert_eq!(rotated_label("Entra prod", day), "Rotated from ‘Entra prod’ on 3 Dec");
        let again = rotated_label(&rotated_label("Entra prod", day), day + Duration::days(30));
        assert_eq!(again, "Rotated from ‘Entra prod’ on 2 Jan");
        let long = rotated_label(&"x".repeat(100), day);
        assert_eq!(long.chars().count(), 100);
        assert!(long.contains("x…’ on 3 Dec"), "{long}");
    }

    #[test]
    fn the_digest_is_sha256_of_the_whole_token() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(digest("abc")[..4], [0xba, 0x78, 0x16, 0xbf],);
    }
}
