//! Tenants as operators manage them: list, create, look at one.

use chrono::{DateTime, Utc};
use store::{Directory, IdentityProvider, Store, StoreError, Tenant, TenantId, TenantSlug, TenantSummary};

use crate::ServiceError;
use crate::directories::{self, IssuedToken, TokenRequest};

/// Longest display name accepted, in characters.
pub const MAX_DISPLAY_NAME: usize = 100;

/// Why a tenant could not be created.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error(transparent)]
    InvalidSlug(#[from] store::InvalidSlug),
    #[error("the display name must have 1 to {MAX_DISPLAY_NAME} characters")]
    InvalidDisplayName,
    #[error("a tenant named {0:?} already exists")]
    SlugTaken(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Every tenant with its number of directories, newest first.
pub async fn list(store: &Store) -> Result<Vec<TenantSummary>, ServiceError> {
    Ok(store.tenant_summaries().await?)
}

/// Creates a tenant. The slug is its URL name; the display name what people read.
pub async fn create(store: &Store, slug: &str, display_name: &str, now: DateTime<Utc>) -> Result<Tenant, TenantError> {
    let slug = TenantSlug::parse(slug.trim())?;
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > MAX_DISPLAY_NAME {
        return Err(TenantError::InvalidDisplayName);
    }
    let tenant = Tenant { id: TenantId::generate(), slug, display_name: display_name.to_owned(), created_at: now };
    match store.create_tenant(&tenant).await {
        Ok(()) => Ok(tenant),
        Err(StoreError::Conflict(_)) => Err(TenantError::SlugTaken(tenant.slug.as_str().to_owned())),
        Err(error) => Err(ServiceError::from(error).into()),
    }
}

/// A tenant and its directories, or `None` for an unknown slug.
pub async fn detail(store: &Store, slug: &TenantSlug) -> Result<Option<(Tenant, Vec<Directory>)>, ServiceError> {
    let Some(tenant) = store.tenant_by_slug(slug).await? else { return Ok(None) };
    let directories = store.tenant(tenant.id).directories().await?;
    Ok(Some((tenant, directories)))
}

/// Adds a directory fed by `idp` to the tenant named `slug` and issues its first token.
/// `None` when there is no such tenant.
pub async fn add_directory(
    store: &Store,
    slug: &TenantSlug,
    idp: IdentityProvider,
    token_label: String,
    now: DateTime<Utc>,
) -> Result<Option<(Directory, IssuedToken)>, ServiceError> {
    let Some(tenant) = store.tenant_by_slug(slug).await? else { return Ok(None) };
    let directory = directories::create_directory(store, tenant.id, idp, now).await?;
    let request = TokenRequest { label: token_label, read_only: false, expires_at: None };
    let token = directories::issue_token(store, tenant.id, directory.id, request, now).await?;
    Ok(Some((directory, token)))
}

/// A tenant's display name, or `None` for an unknown id.
pub async fn name_of(store: &Store, tenant: TenantId) -> Result<Option<String>, ServiceError> {
    Ok(store.tenant_by_id(tenant).await?.map(|tenant| tenant.display_name))
}
