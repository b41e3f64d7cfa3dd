//! Keys of the operator API. A key is `scimk_` followed by 256 random bits in base64url;
//! only its SHA-256 digest is stored (random keys need no slow hash, as SCIM tokens).
//!
//! A key reaches only the [`ApiArea`]s it was given, for reading only when it is
//! read-only, until it expires or is revoked; every route of the operator and the
//! WorkOS-compatible APIs names its area once, where it is registered. Keys are listed
//! with their last use and revoked from the command line, the operator console and the API
//! (`api_keys` area); a key given that area issues keys of at most its own reach.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
pub use store::ApiKeyId;
use store::{ApiKeyRecord, NewApiKey, Store};

use crate::actor::Actor;
use crate::directories::digest;
use crate::{Effects, ServiceError};

const KEY_PREFIX: &str = "scimk_";

/// `last_used_at` is written at most this often per key.
const LAST_USED_PRECISION: Duration = Duration::minutes(1);

/// The longest a key's label may be.
pub const MAX_LABEL_CHARS: usize = 100;
/// The longest lifetime a key may be given, in days (ten years; none: never expires).
pub const MAX_LIFETIME_DAYS: i64 = 3_650;

/// A part of the operator API a key may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiArea {
    /// Tenants, their directories and setup links (organizations and directories, Admin
    /// Portal links in the WorkOS-compatible API).
    Tenants,
    /// What the directories hold: users, groups, events and their receipts, revocations,
    /// roles.
    DirectoryData,
    /// Webhook endpoints: the operator's and the tenants', with their deliveries.
    Webhooks,
    /// Tenants' audit trails.
    Audit,
    /// The keys themselves: list, issue (of at most the issuing key's reach), revoke.
    ApiKeys,
}

impl ApiArea {
    pub const ALL: [ApiArea; 5] =
        [ApiArea::Tenants, ApiArea::DirectoryData, ApiArea::Webhooks, ApiArea::Audit, ApiArea::ApiKeys];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiArea::Tenants => "tenants",
            ApiArea::DirectoryData => "directory_data",
            ApiArea::Webhooks => "webhooks",
            ApiArea::Audit => "audit",
            ApiArea::ApiKeys => "api_keys",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|area| area.as_str() == text.trim().replace('-', "_"))
    }

    /// For people: the console's check boxes and lists.
    pub fn label(self) -> &'static str {
        match self {
            ApiArea::Tenants => "Tenants, directories and setup links",
            ApiArea::DirectoryData => "Directory data: users, groups, events, receipts, roles",
            ApiArea::Webhooks => "Webhook endpoints and deliveries",
            ApiArea::Audit => "Audit trails",
            ApiArea::ApiKeys => "API keys (list, issue, revoke)",
        }
    }
}

impl fmt::Display for ApiArea {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a key may do: its areas, and whether only to read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyScopes {
    /// Sorted, without repeats.
    pub areas: Vec<ApiArea>,
    /// GET (and HEAD) requests only.
    pub read_only: bool,
}

impl ApiKeyScopes {
    /// Every area, reading and writing: what keys made before scopes existed hold.
    pub fn full() -> Self {
        Self { areas: ApiArea::ALL.to_vec(), read_only: false }
    }

    pub fn new(areas: impl IntoIterator<Item = ApiArea>, read_only: bool) -> Self {
        let mut areas: Vec<ApiArea> = areas.into_iter().collect();
        areas.sort_unstable();
        areas.dedup();
        Self { areas, read_only }
    }

    /// Whether a request to `area` may be made (`write`: anything but GET).
    pub fn permits(&self, area: ApiArea, write: bool) -> bool {
        self.areas.contains(&area) && !(write && self.read_only)
    }

    /// Whether these scopes reach no further than `other`.
    pub fn within(&self, other: &ApiKeyScopes) -> bool {
        self.areas.iter().all(|area| other.areas.contains(area)) && (self.read_only || !other.read_only)
    }

    /// "tenants, audit (read-only)".
    pub fn in_words(&self) -> String {
        let areas: Vec<&str> = self.areas.iter().map(|area| area.as_str()).collect();
        let areas = if areas.is_empty() { "nothing".to_owned() } else { areas.join(", ") };
        if self.read_only { format!("{areas} (read-only)") } else { areas }
    }
}

/// A key to issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRequest {
    /// What the key is for, e.g. the service that will use it.
    pub label: String,
    pub scopes: ApiKeyScopes,
    /// `None`: never expires.
    pub expires_at: Option<DateTime<Utc>>,
}

impl ApiKeyRequest {
    /// A key reaching every area, without expiry.
    pub fn full_access(label: &str) -> Self {
        Self { label: label.to_owned(), scopes: ApiKeyScopes::full(), expires_at: None }
    }
}

/// A freshly issued key: the secret is here once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedApiKey {
    pub id: ApiKeyId,
    pub secret: String,
    pub key: ApiKey,
}

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Active,
    Expired,
    Revoked,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Expired => "expired",
            KeyState::Revoked => "revoked",
        }
    }
}

/// A key as the lists show it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub label: String,
    pub scopes: ApiKeyScopes,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// To the minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    fn of(record: ApiKeyRecord) -> Self {
        // An area this build does not know (written by a newer one) reaches nothing here.
        let areas = record.areas.iter().filter_map(|area| ApiArea::parse(area));
        Self {
            id: record.id,
            label: record.label,
            scopes: ApiKeyScopes::new(areas, record.read_only),
            created_at: record.created_at,
            expires_at: record.expires_at,
            revoked_at: record.revoked_at,
            last_used_at: record.last_used_at,
        }
    }

    pub fn state(&self, now: DateTime<Utc>) -> KeyState {
        if self.revoked_at.is_some_and(|at| at <= now) {
            KeyState::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            KeyState::Expired
        } else {
            KeyState::Active
        }
    }
}

/// Why a key was not issued or revoked.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyChangeError {
    #[error("Give the key a label of 1 to {MAX_LABEL_CHARS} characters saying what uses it.")]
    Label,
    #[error("Choose at least one area the key reaches.")]
    NoArea,
    #[error(
        "An expiry is a whole number of days from 1 to {MAX_LIFETIME_DAYS}, or none for a key that does not expire."
    )]
    Lifetime,
    #[error("A key can issue keys of at most its own reach ({0}).")]
    BeyondIssuer(String),
    #[error("No such API key.")]
    NoSuchKey,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for ApiKeyChangeError {
    fn from(error: store::StoreError) -> Self {
        Self::Service(error.into())
    }
}

/// Reads "areas" as given on a command line, a form or the API (`tenants`,
/// `directory-data`, ...); an unknown one is refused by name.
pub fn parse_areas<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Vec<ApiArea>, String> {
    texts
        .into_iter()
        .map(|text| {
            ApiArea::parse(text).ok_or_else(|| {
                let known: Vec<&str> = ApiArea::ALL.iter().map(|area| area.as_str()).collect();
                format!("unknown API key area {text:?}; the areas are {}", known.join(", "))
            })
        })
        .collect()
}

/// The expiry of a key given a lifetime in days (`None`: never), checked.
pub fn expiry_after_days(days: Option<i64>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, ApiKeyChangeError> {
    match days {
        None => Ok(None),
        Some(days) if (1..=MAX_LIFETIME_DAYS).contains(&days) => Ok(Some(now + Duration::days(days))),
        Some(_) => Err(ApiKeyChangeError::Lifetime),
    }
}

/// Issues a key. `issuer`: the scopes of the key asking through the API, which the new
/// key may not exceed (`None`: an operator in the console or at the command line).
pub async fn issue_api_key(
    store: &Store,
    request: ApiKeyRequest,
    issuer: Option<&ApiKeyScopes>,
    actor: &Actor,
    effects: &Effects,
) -> Result<IssuedApiKey, ApiKeyChangeError> {
    let label = request.label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(ApiKeyChangeError::Label);
    }
    if request.scopes.areas.is_empty() {
        return Err(ApiKeyChangeError::NoArea);
    }
    if let Some(issuer) = issuer
        && !request.scopes.within(issuer)
    {
        return Err(ApiKeyChangeError::BeyondIssuer(issuer.in_words()));
    }
    let now = effects.now();
    if request.expires_at.is_some_and(|at| at <= now) {
        return Err(ApiKeyChangeError::Lifetime);
    }
    let secret = format!("{KEY_PREFIX}{}", effects.secret(32));
    let record = NewApiKey {
        id: effects.id(),
        digest: digest(&secret),
        label: label.to_owned(),
        areas: request.scopes.areas.iter().map(|area| area.as_str().to_owned()).collect(),
        read_only: request.scopes.read_only,
        expires_at: request.expires_at,
        created_at: now,
    };
    store.insert_api_key(&record).await?;
    // Keys are the deployment's, not a tenant's: their changes go to the log, not to a
    // tenant's trail.
    tracing::info!(key = %record.id, label, scopes = %request.scopes.in_words(), by = %actor.audit_name(), "API key issued");
    let key = ApiKey {
        id: record.id,
        label: record.label,
        scopes: request.scopes,
        created_at: now,
        expires_at: request.expires_at,
        revoked_at: None,
        last_used_at: None,
    };
    Ok(IssuedApiKey { id: key.id, secret, key })
}

/// Every key, newest first, revoked and expired ones included.
pub async fn list_api_keys(store: &Store) -> Result<Vec<ApiKey>, ServiceError> {
    Ok(store.api_keys().await?.into_iter().map(ApiKey::of).collect())
}

/// One key, revoked and expired ones included.
pub async fn find_api_key(store: &Store, id: ApiKeyId) -> Result<Option<ApiKey>, ServiceError> {
    Ok(store.api_key(id).await?.map(ApiKey::of))
}

/// Revokes a key at once: its next request is refused. Revoking a revoked key is no
/// change (`Ok(false)`); an unknown one is refused.
pub async fn revoke_api_key(
    store: &Store,
    key: ApiKeyId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool, ApiKeyChangeError> {
    if store.api_key(key).await?.is_none() {
        return Err(ApiKeyChangeError::NoSuchKey);
    }
    let revoked = store.revoke_api_key(key, now).await?;
    if revoked {
        tracing::info!(%key, by = %actor.audit_name(), "API key revoked");
    }
    Ok(revoked)
}

/// Why an API request was not authenticated: one case, whatever the reason.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("the API key is missing, unknown, expired or revoked")]
    Unauthorized,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// A key that authenticated a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedKey {
    pub id: ApiKeyId,
    pub scopes: ApiKeyScopes,
}

impl AuthenticatedKey {
    /// `Err` with the refusal in words when the key does not reach `area` (for writing
    /// when `write`).
    pub fn require(&self, area: ApiArea, write: bool) -> Result<(), String> {
        if self.scopes.permits(area, write) {
            return Ok(());
        }
        Err(if self.scopes.areas.contains(&area) {
            format!(
                "this API key is read-only; {} needs a key that may change {area}",
                if write { "this request" } else { "it" }
            )
        } else {
            format!("this API key does not reach {area} (it reaches {})", self.scopes.in_words())
        })
    }
}

/// Checks a presented key at `now`: known, not expired, not revoked.
pub async fn authenticate_api_key(
    store: &Store,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<AuthenticatedKey, ApiKeyError> {
    if !presented.starts_with(KEY_PREFIX) {
        return Err(ApiKeyError::Unauthorized);
    }
    let record = store
        .api_key_by_digest(&digest(presented))
        .await
        .map_err(ServiceError::from)?
        .ok_or(ApiKeyError::Unauthorized)?;
    let key = ApiKey::of(record);
    if key.state(now) != KeyState::Active {
        return Err(ApiKeyError::Unauthorized);
    }
    if key.last_used_at.is_none_or(|used| now - used >= LAST_USED_PRECISION) {
        store.mark_api_key_used(key.id, now).await.map_err(ServiceError::from)?;
    }
    Ok(AuthenticatedKey { id: key.id, scopes: key.scopes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reaches_its_areas_and_only_reads_when_read_only() {
        let audit_reader = ApiKeyScopes::new([ApiArea::Audit, ApiArea::Tenants, ApiArea::Audit], true);
        assert_eq!(audit_reader.areas, [ApiArea::Tenants, ApiArea::Audit]);
        assert!(audit_reader.permits(ApiArea::Audit, false));
        assert!(!audit_reader.permits(ApiArea::Audit, true));
        assert!(!audit_reader.permits(ApiArea::Webhooks, false));
        assert!(ApiKeyScopes::full().permits(ApiArea::ApiKeys, true));
        assert_eq!(audit_reader.in_words(), "tenants, audit (read-only)");
    }

    #[test]
    fn an_issued_key_reaches_no_further_than_its_issuer() {
        let issuer = ApiKeyScopes::new([ApiArea::ApiKeys, ApiArea::Tenants], false);
        assert!(ApiKeyScopes::new([ApiArea::Tenants], true).within(&issuer));
        assert!(ApiKeyScopes::new([ApiArea::Tenants, ApiArea::ApiKeys], false).within(&issuer));
        assert!(!ApiKeyScopes::new([ApiArea::Audit], false).within(&issuer));
        let reader = ApiKeyScopes::new([ApiArea::ApiKeys, ApiArea::Tenants], true);
        assert!(!ApiKeyScopes::new([ApiArea::Tenants], false).within(&reader), "a reader issues no writer");
    }

    #[test]
    fn areas_are_read_by_name_and_an_unknown_one_is_named() {
        assert_eq!(parse_areas(["tenants", "directory-data"]).unwrap(), [ApiArea::Tenants, ApiArea::DirectoryData]);
        let refused = parse_areas(["everything"]).unwrap_err();
        assert!(refused.contains("\"everything\"") && refused.contains("directory_data"), "{refused}");
    }

    #[test]
    fn a_key_is_active_until_it_expires_or_is_revoked() {
        let now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000);
        let key = ApiKey {
            id: uuid::Uuid::from_u128(1).into(),
            label: "product".into(),
            scopes: ApiKeyScopes::full(),
            created_at: now - Duration::days(1),
            expires_at: Some(now + Duration::hours(1)),
            revoked_at: None,
            last_used_at: None,
        };
        assert_eq!(key.state(now), KeyState::Active);
        assert_eq!(key.state(now + Duration::hours(1)), KeyState::Expired);
        let revoked = ApiKey { revoked_at: Some(now), ..key };
        assert_eq!(revoked.state(now), KeyState::Revoked);
        assert!(matches!(expiry_after_days(Some(0), now), Err(ApiKeyChangeError::Lifetime)));
        assert_eq!(expiry_after_days(Some(30), now).unwrap(), Some(now + Duration::days(30)));
    }
}
