//! Tenants as operators manage them: list, create, look at one.

use serde_json::json;
use store::{
    Directory, DirectorySettings, IdentityProvider, Store, StoreError, Tenant, TenantId, TenantSlug, TenantSummary,
};

use crate::actor::Actor;
use crate::directories::{self, IssuedToken, NewDirectory};
use crate::{Effects, ServiceError};

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

/// Creates a tenant; its trail starts with the record of its creation. The slug is its URL
/// name; the display name what people read.
pub async fn create(
    store: &Store,
    slug: &str,
    display_name: &str,
    actor: &Actor,
    effects: &Effects,
) -> Result<Tenant, TenantError> {
    let now = effects.now();
    let slug = TenantSlug::parse(slug.trim())?;
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > MAX_DISPLAY_NAME {
        return Err(TenantError::InvalidDisplayName);
    }
    let tenant = Tenant { id: effects.id(), slug, display_name: display_name.to_owned(), created_at: now };
    let mut action = store.tenant(tenant.id).begin_action().await.map_err(ServiceError::from)?;
    match action.create_tenant(&tenant).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(TenantError::SlugTaken(tenant.slug.as_str().to_owned())),
        Err(error) => return Err(ServiceError::from(error).into()),
    }
    let detail = json!({ "slug": tenant.slug.as_str(), "display_name": tenant.display_name });
    action.commit(actor.record("tenant.created", None, detail, now)).await.map_err(ServiceError::from)?;
    Ok(tenant)
}

/// The tenant with this slug, if there is one.
pub async fn find(store: &Store, slug: &TenantSlug) -> Result<Option<Tenant>, ServiceError> {
    Ok(store.tenant_by_slug(slug).await?)
}

/// A tenant and its directories, or `None` for an unknown slug.
pub async fn detail(store: &Store, slug: &TenantSlug) -> Result<Option<(Tenant, Vec<Directory>)>, ServiceError> {
    let Some(tenant) = store.tenant_by_slug(slug).await? else { return Ok(None) };
    let directories = store.tenant(tenant.id).directories().await?;
    Ok(Some((tenant, directories)))
}

/// Adds a directory fed by `idp` to the tenant named `slug` with its first token (see
/// [`directories::add_directory`], `limit` directories at most). `None` when there is no
/// such tenant.
pub async fn add_directory(
    store: &Store,
    slug: &TenantSlug,
    idp: IdentityProvider,
    token_label: String,
    limit: Option<u32>,
    actor: &Actor,
    effects: &Effects,
) -> Result<Option<(Directory, IssuedToken)>, directories::AddDirectoryError> {
    let Some(tenant) = store.tenant_by_slug(slug).await.map_err(ServiceError::from)? else { return Ok(None) };
    let new = NewDirectory { idp, settings: DirectorySettings::default(), first_token: Some(token_label) };
    let (directory, token) = directories::add_directory(store, tenant.id, new, limit, actor, effects).await?;
    let token = token.ok_or_else(|| ServiceError::Internal("a directory was added without its token".to_owned()))?;
    Ok(Some((directory, token)))
}

/// A tenant's display name, or `None` for an unknown id.
pub async fn name_of(store: &Store, tenant: TenantId) -> Result<Option<String>, ServiceError> {
    Ok(store.tenant_by_id(tenant).await?.map(|tenant| tenant.display_name))
}
