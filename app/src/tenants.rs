//! Server functions of the operator's tenant pages. Reading needs a signed-in operator of
//! any role; changing needs the `operator` role. Both are checked here, on the server.
//! Reading one tenant's data is recorded in that tenant's audit trail (with the viewer's
//! email and role), where its admins see it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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
pub async fn list_tenants() -> Result<Vec<TenantRow>, ServerFnError> {
    // Contexts first: after an `.await`, a server-rendered resource may no longer see them.
    let store = expect_context::<service::Store>();
    crate::auth::require_operator().await?;
    let tenants = service::tenants::list(&store).await.map_err(|_| unavailable())?;
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
pub async fn create_tenant(slug: String, display_name: String) -> Result<(), ServerFnError> {
    use service::tenants::TenantError;
    let store = expect_context::<service::Store>();
    let response = crate::auth::server::response();
    let operator = crate::auth::require_operator_role().await?;
    match service::tenants::create(&store, &slug, &display_name, &operator.actor()?, server::now()).await {
        Ok(tenant) => {
            leptos_axum::redirect(&format!("/tenants/{}", tenant.slug));
            Ok(())
        }
        Err(TenantError::Service(_)) => Err(unavailable()),
        Err(invalid) => {
            crate::auth::server::set_status(response.as_ref(), http::StatusCode::UNPROCESSABLE_ENTITY);
            Err(ServerFnError::new(service::sentence(&invalid.to_string())))
        }
    }
}

#[server(endpoint = "tenant_detail")]
pub async fn tenant_detail(slug: String) -> Result<Option<TenantOverview>, ServerFnError> {
    let store = expect_context::<service::Store>();
    let public_base = expect_context::<crate::PortalSettings>().public_base;
    let operator = crate::auth::require_operator().await?;
    let Ok(slug) = service::TenantSlug::parse(&slug) else { return Ok(None) };
    let page = service::support::tenant_page(&store, &slug, &operator.actor()?, server::now()).await;
    let Some(service::support::TenantPage { tenant, directories, sso: provider }) = page.map_err(|_| unavailable())?
    else {
        return Ok(None);
    };
    let sso = SsoSettings {
        redirect_uri: format!("{public_base}/sso/callback"),
        issuer: provider.as_ref().map(|p| p.issuer.clone()),
        client_id: provider.as_ref().map(|p| p.client_id.clone()),
        display_name: provider.map(|p| p.display_name),
    };
    Ok(Some(TenantOverview {
        sso,
        slug: tenant.slug.to_string(),
        display_name: tenant.display_name,
        directories: directories
            .into_iter()
            .map(|directory| DirectoryRow {
                id: directory.id.to_string(),
                idp: directory.idp.display_name().to_owned(),
                scim_base_url: format!("{public_base}/scim/v2/{}", directory.id),
                created: directory.created_at.format("%Y-%m-%d").to_string(),
            })
            .collect(),
    }))
}

#[server(endpoint = "add_directory")]
pub async fn add_directory(slug: String, idp: String) -> Result<NewDirectory, ServerFnError> {
    let store = expect_context::<service::Store>();
    let public_base = expect_context::<crate::PortalSettings>().public_base;
    let response = crate::auth::server::response();
    let operator = crate::auth::require_operator_role().await?;
    let (Ok(slug), Ok(idp)) = (service::TenantSlug::parse(&slug), idp.parse::<service::IdentityProvider>()) else {
        crate::auth::server::set_status(response.as_ref(), http::StatusCode::UNPROCESSABLE_ENTITY);
        return Err(ServerFnError::new("Choose one of the listed identity providers."));
    };
    let label = format!("Created by {} in the portal", operator.email);
    let added = service::tenants::add_directory(&store, &slug, idp, label, &operator.actor()?, server::now()).await;
    let Some((directory, token)) = added.map_err(|_| unavailable())? else {
        crate::auth::server::set_status(response.as_ref(), http::StatusCode::NOT_FOUND);
        return Err(ServerFnError::new("This tenant does not exist (any more)."));
    };
    Ok(NewDirectory {
        idp: idp.display_name().to_owned(),
        scim_base_url: format!("{public_base}/scim/v2/{}", directory.id),
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

#[server(endpoint = "tenant_sso")]
pub async fn tenant_sso(slug: String) -> Result<SsoSettings, ServerFnError> {
    let store = expect_context::<service::Store>();
    let public_base = expect_context::<crate::PortalSettings>().public_base;
    let response = crate::auth::server::response();
    let operator = crate::auth::require_operator().await?;
    let tenant = server::tenant_named(response.as_ref(), &store, &slug).await?;
    let provider = service::support::tenant_sso(&store, tenant, &operator.actor()?, server::now())
        .await
        .map_err(|_| unavailable())?;
    Ok(SsoSettings {
        redirect_uri: format!("{public_base}/sso/callback"),
        issuer: provider.as_ref().map(|p| p.issuer.clone()),
        client_id: provider.as_ref().map(|p| p.client_id.clone()),
        display_name: provider.map(|p| p.display_name),
    })
}

/// Sets the tenant's OpenID Connect provider for admin sign-in.
#[server(endpoint = "configure_tenant_sso")]
pub async fn configure_tenant_sso(
    slug: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    display_name: String,
) -> Result<(), ServerFnError> {
    use service::sso::SsoError;
    let store = expect_context::<service::Store>();
    let response = crate::auth::server::response();
    let operator = crate::auth::require_operator_role().await?;
    let tenant = server::tenant_named(response.as_ref(), &store, &slug).await?;
    let actor = operator.actor()?;
    let settings = service::sso::ProviderSettings { issuer, client_id, client_secret, display_name };
    let configured = service::sso::configure(&store, tenant, &settings, &actor, server::now()).await;
    match configured {
        Ok(()) => Ok(()),
        Err(SsoError::InvalidSettings(message)) => {
            crate::auth::server::set_status(response.as_ref(), http::StatusCode::UNPROCESSABLE_ENTITY);
            Err(ServerFnError::new(service::sentence(&message)))
        }
        Err(_) => Err(unavailable()),
    }
}

/// Makes a setup link for the tenant's next admin; returns its address (shown once).
#[server(endpoint = "create_setup_link")]
pub async fn create_setup_link(slug: String, valid_days: u32) -> Result<String, ServerFnError> {
    let store = expect_context::<service::Store>();
    let public_base = expect_context::<crate::PortalSettings>().public_base;
    let response = crate::auth::server::response();
    let operator = crate::auth::require_operator_role().await?;
    let Ok(slug) = service::TenantSlug::parse(&slug) else {
        crate::auth::server::set_status(response.as_ref(), http::StatusCode::NOT_FOUND);
        return Err(ServerFnError::new("This tenant does not exist (any more)."));
    };
    let Some((tenant, _)) = service::tenants::detail(&store, &slug).await.map_err(|_| unavailable())? else {
        crate::auth::server::set_status(response.as_ref(), http::StatusCode::NOT_FOUND);
        return Err(ServerFnError::new("This tenant does not exist (any more)."));
    };
    let lifetime = chrono::Duration::days(i64::from(valid_days));
    let actor = operator.actor()?;
    match service::admins::create_setup_link(&store, tenant.id, &actor, lifetime, server::now()).await {
        Ok(link) => Ok(link.url(&public_base)),
        Err(service::admins::SetupLinkError::Service(_)) => Err(unavailable()),
        Err(invalid) => {
            crate::auth::server::set_status(response.as_ref(), http::StatusCode::UNPROCESSABLE_ENTITY);
            Err(ServerFnError::new(service::sentence(&invalid.to_string())))
        }
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use leptos::prelude::*;

    /// The id of the tenant named `slug`, or a 404 error.
    pub(crate) async fn tenant_named(
        response: Option<&leptos_axum::ResponseOptions>,
        store: &service::Store,
        slug: &str,
    ) -> Result<service::TenantId, ServerFnError> {
        let not_found = || {
            crate::auth::server::set_status(response, http::StatusCode::NOT_FOUND);
            ServerFnError::new("This tenant does not exist (any more).")
        };
        let slug = service::TenantSlug::parse(slug).map_err(|_| not_found())?;
        match service::tenants::detail(store, &slug).await {
            Ok(Some((tenant, _))) => Ok(tenant.id),
            Ok(None) => Err(not_found()),
            Err(_) => Err(super::unavailable()),
        }
    }

    pub(super) use crate::auth::server::now;
}

#[cfg(feature = "ssr")]
use crate::auth::server::unavailable;
