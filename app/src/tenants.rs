//! Server functions of the operator's tenant pages. Reading needs a signed-in operator of
//! any role; changing needs the `operator` role. Both are checked here, on the server.
//! Reading one tenant's data is recorded in that tenant's audit trail (with the viewer's
//! email and role), where its admins see it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::PortalError;

/// One row of the tenant list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRow {
    pub slug: String,
    pub display_name: String,
    /// `YYYY-MM-DD`, UTC.
    pub created: String,
    pub directories: i64,
}

/// One directory on a tenant's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryRow {
    pub id: String,
    pub idp: String,
    pub scim_base_url: String,
    pub created: String,
}

/// A tenant's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantOverview {
    pub slug: String,
    pub display_name: String,
    pub directories: Vec<DirectoryRow>,
    pub sso: SsoSettings,
}

/// A directory just added, with its token: the only time the token is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDirectory {
    pub idp: String,
    pub scim_base_url: String,
    pub token: String,
}

/// The identity providers a directory can be created for: (command-line name, product name).
pub fn identity_providers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("okta", "Okta"),
        ("entra", "Microsoft Entra ID"),
        ("google", "Google Workspace"),
        ("onelogin", "OneLogin"),
        ("jumpcloud", "JumpCloud"),
        ("ping", "PingFederate"),
        ("rippling", "Rippling"),
        ("generic", "Generic SCIM 2.0"),
    ]
}

#[server(endpoint = "list_tenants")]
pub async fn list_tenants() -> Result<Vec<TenantRow>, PortalError> {
    let operator = Operator::require().await?;
    let tenants = service::tenants::list(operator.store()).await?;
    Ok(tenants
        .into_iter()
        .map(|summary| TenantRow {
            slug: summary.tenant.slug.to_string(),
            display_name: summary.tenant.display_name,
            created: summary.tenant.created_at.format("%Y-%m-%d").to_string(),
            directories: summary.directory_count,
        })
        .collect())
}

#[server(endpoint = "create_tenant")]
pub async fn create_tenant(slug: String, display_name: String) -> Result<(), PortalError> {
    let operator = Operator::require_role(OperatorRole::Operator).await?;
    let now = operator.portal.now();
    let tenant = service::tenants::create(operator.store(), &slug, &display_name, &operator.actor(), now).await?;
    leptos_axum::redirect(&format!("/tenants/{}", tenant.slug));
    Ok(())
}

#[server(endpoint = "tenant_detail")]
pub async fn tenant_detail(slug: String) -> Result<Option<TenantOverview>, PortalError> {
    let operator = Operator::require().await?;
    let Ok(slug) = service::TenantSlug::parse(&slug) else { return Ok(None) };
    let page = service::support::tenant_page(operator.store(), &slug, &operator.actor(), operator.portal.now()).await?;
    let Some(service::support::TenantPage { tenant, directories, sso: provider }) = page else {
        return Ok(None);
    };
    let portal = &operator.portal;
    Ok(Some(TenantOverview {
        sso: SsoSettings::new(portal, provider),
        slug: tenant.slug.to_string(),
        display_name: tenant.display_name,
        directories: directories
            .into_iter()
            .map(|directory| DirectoryRow {
                id: directory.id.to_string(),
                idp: directory.idp.display_name().to_owned(),
                scim_base_url: portal.scim_base_url(directory.id),
                created: directory.created_at.format("%Y-%m-%d").to_string(),
            })
            .collect(),
    }))
}

#[server(endpoint = "add_directory")]
pub async fn add_directory(slug: String, idp: String) -> Result<NewDirectory, PortalError> {
    let operator = Operator::require_role(OperatorRole::Operator).await?;
    let (Ok(slug), Ok(idp)) = (service::TenantSlug::parse(&slug), idp.parse::<service::IdentityProvider>()) else {
        return Err(PortalError::Invalid("Choose one of the listed identity providers.".to_owned()));
    };
    let label = format!("Created by {} in the portal", operator.session.email);
    let now = operator.portal.now();
    let added = service::tenants::add_directory(operator.store(), &slug, idp, label, &operator.actor(), now).await?;
    let (directory, token) = added.ok_or_else(PortalError::no_such_tenant)?;
    Ok(NewDirectory {
        idp: idp.display_name().to_owned(),
        scim_base_url: operator.portal.scim_base_url(directory.id),
        token: token.secret,
    })
}

/// A tenant's single sign-on settings as the console shows them (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSettings {
    /// The callback to register at the provider.
    pub redirect_uri: String,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub display_name: Option<String>,
}

#[cfg(feature = "ssr")]
impl SsoSettings {
    fn new(portal: &crate::portal::Portal, provider: Option<service::sso::ProviderSummary>) -> Self {
        SsoSettings {
            redirect_uri: format!("{}/sso/callback", portal.public_base()),
            issuer: provider.as_ref().map(|p| p.issuer.clone()),
            client_id: provider.as_ref().map(|p| p.client_id.clone()),
            display_name: provider.map(|p| p.display_name),
        }
    }
}

#[server(endpoint = "tenant_sso")]
pub async fn tenant_sso(slug: String) -> Result<SsoSettings, PortalError> {
    let operator = Operator::require().await?;
    let tenant = operator.tenant(&slug).await?;
    let provider =
        service::support::tenant_sso(operator.store(), tenant, &operator.actor(), operator.portal.now()).await?;
    Ok(SsoSettings::new(&operator.portal, provider))
}

/// Sets the tenant's OpenID Connect provider for admin sign-in.
#[server(endpoint = "configure_tenant_sso")]
pub async fn configure_tenant_sso(
    slug: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    display_name: String,
) -> Result<(), PortalError> {
    let operator = Operator::require_role(OperatorRole::Operator).await?;
    let tenant = operator.tenant(&slug).await?;
    let settings = service::sso::ProviderSettings { issuer, client_id, client_secret, display_name };
    Ok(service::sso::configure(operator.store(), tenant, &settings, &operator.actor(), operator.portal.now()).await?)
}

/// Makes a setup link for the tenant's next admin; returns its address (shown once).
#[server(endpoint = "create_setup_link")]
pub async fn create_setup_link(slug: String, valid_days: u32) -> Result<String, PortalError> {
    let operator = Operator::require_role(OperatorRole::Operator).await?;
    let tenant = operator.tenant(&slug).await?;
    let lifetime = chrono::Duration::days(i64::from(valid_days));
    let now = operator.portal.now();
    let link = service::admins::create_setup_link(operator.store(), tenant, &operator.actor(), lifetime, now).await?;
    Ok(link.url(operator.portal.public_base()))
}

#[cfg(feature = "ssr")]
use crate::portal::Operator;
#[cfg(feature = "ssr")]
use service::OperatorRole;
