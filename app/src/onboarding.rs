//! Server functions of the tenant admin's pages: setup links, the wizard, the dashboard
//! and the tokens page. Each checks, on the server, that a tenant admin is signed in and
//! reaches only that admin's tenant: a directory id of another tenant is "not found".

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::PortalError;

/// What a setup link invites to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupInvite {
    pub tenant_name: String,
    /// The organisation's single sign-on provider, if the operator configured one.
    pub sso_provider: Option<String>,
}

/// One directory on the admin's home page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorySummary {
    pub id: String,
    pub idp_name: String,
    pub step: u8,
    pub completed: bool,
    pub created: String,
}

/// The admin's home page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeData {
    pub tenant_name: String,
    pub email: String,
    pub directories: Vec<DirectorySummary>,
    pub admins: Vec<String>,
}

/// A directory's wizard, as every step needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WizardData {
    pub directory: String,
    /// `okta`, `entra`…
    pub idp: String,
    pub idp_name: String,
    /// The furthest step reached, 1 to 5.
    pub reached: u8,
    pub completed: bool,
    pub scim_base_url: String,
    pub token_url: String,
}

/// A token just issued: shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedTokenView {
    pub token: String,
    /// `never` or a UTC date and time.
    pub expires: String,
    /// For a rotation: until when the replaced token keeps working.
    pub old_token_until: Option<String>,
}

/// OAuth client credentials just issued: the secret is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCredentialsView {
    pub client_id: String,
    pub client_secret: String,
    pub token_url: String,
}

/// A SCIM request in the live feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestView {
    pub seq: i64,
    /// `HH:MM:SS` UTC.
    pub time: String,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub latency_ms: i64,
    pub ok: bool,
    /// For a failure: what went wrong, in plain words, and what to do.
    pub cause: Option<String>,
}

/// The live feed of the test step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedView {
    pub requests: Vec<RequestView>,
    pub completed: bool,
}

/// One row of the attribute mapping table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRowView {
    pub attribute: String,
    pub label: String,
    pub required: bool,
    pub source: String,
}

/// The attribute mapping step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingView {
    pub rows: Vec<MappingRowView>,
    pub confirmed: bool,
    /// A sample user as stored with this mapping, pretty-printed JSON.
    pub preview: String,
    pub unmapped: Vec<String>,
}

/// One step of a self-test run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfTestStepView {
    pub name: String,
    pub request: String,
    pub status: Option<u16>,
    pub passed: bool,
    pub detail: String,
}

/// A whole self-test run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfTestView {
    pub steps: Vec<SelfTestStepView>,
    pub passed: bool,
}

/// The dashboard's header and sync health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    pub idp_name: String,
    pub scim_base_url: String,
    pub completed: bool,
    pub reached: u8,
    /// `never`, or a UTC date and time.
    pub last_request: String,
    pub requests_24h: i64,
    pub failures_24h: i64,
}

/// A user or group in the dashboard's tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub id: String,
    /// `userName` or `displayName`.
    pub name: String,
    /// A user's display name or email; a group's member count.
    pub secondary: String,
    /// Users only.
    pub active: Option<bool>,
}

/// A page of users or groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePage {
    pub total: i64,
    pub start: i64,
    pub rows: Vec<ResourceRow>,
}

/// A token on the tokens page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: String,
    pub label: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    /// `active`, `expiring` (within 7 days), `expired` or `revoked`.
    pub status: String,
}

/// A request of the live feed as the portal shows it (the server's request stream sends
/// these too).
#[cfg(feature = "ssr")]
pub fn request_view(request: service::onboarding::RequestRecord) -> RequestView {
    server::request_view(request)
}

/// Resources per dashboard page.
pub const DASHBOARD_PAGE: i64 = 20;

#[server(endpoint = "open_setup_link")]
pub async fn open_setup_link(secret: String) -> Result<SetupInvite, PortalError> {
    let visitor = Visitor::current()?;
    let store = &visitor.portal.store;
    let tenant = service::admins::open_setup_link(store, &secret, visitor.portal.now()).await?;
    let sso_provider = service::sso::provider(store, tenant.id).await?;
    Ok(SetupInvite { tenant_name: tenant.display_name, sso_provider: sso_provider.map(|p| p.display_name) })
}

/// Makes the visitor an admin of the link's tenant and signs them in.
#[server(endpoint = "accept_setup_link")]
pub async fn accept_setup_link(
    secret: String,
    email: String,
    password: String,
    password_again: String,
) -> Result<(), PortalError> {
    let visitor = Visitor::current()?;
    if password != password_again {
        return Err(PortalError::Invalid("The two passwords differ. Type the same password twice.".to_owned()));
    }
    let store = &visitor.portal.store;
    let admin = service::admins::redeem_setup_link(store, &secret, &email, password, visitor.portal.now()).await?;
    visitor.session.start(store, &service::admins::SignedInAccount::Admin(admin)).await?;
    leptos_axum::redirect("/admin");
    Ok(())
}

#[server(endpoint = "admin_home")]
pub async fn admin_home() -> Result<HomeData, PortalError> {
    let admin = Admin::require().await?;
    let setups = service::onboarding::directory_setups(admin.store(), admin.tenant()).await?;
    let admins = service::admins::admins(admin.store(), admin.tenant()).await?;
    Ok(HomeData {
        tenant_name: admin.session.tenant_name,
        email: admin.session.email,
        directories: setups
            .into_iter()
            .map(|setup| DirectorySummary {
                id: setup.directory.id.to_string(),
                idp_name: setup.directory.idp.display_name().to_owned(),
                step: setup.state.step,
                completed: setup.state.completed.is_some(),
                created: setup.directory.created_at.format("%Y-%m-%d").to_string(),
            })
            .collect(),
        admins: admins.into_iter().map(|admin| admin.email).collect(),
    })
}

/// Makes a setup link that invites a colleague to the admin's tenant; returns its address.
#[server(endpoint = "invite_admin")]
pub async fn invite_admin(valid_days: u32) -> Result<String, PortalError> {
    let admin = Admin::require().await?;
    let lifetime = chrono::Duration::days(i64::from(valid_days));
    let now = admin.portal.now();
    let link = service::admins::create_setup_link(admin.store(), admin.tenant(), &admin.actor(), lifetime, now).await?;
    Ok(link.url(admin.portal.public_base()))
}

/// Step 1 for a new directory: makes it and moves on to the endpoint step.
#[server(endpoint = "start_setup")]
pub async fn start_setup(idp: String) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let idp = server::parse_idp(&idp)?;
    let now = admin.portal.now();
    let directory =
        service::onboarding::start_directory(admin.store(), admin.tenant(), idp, &admin.actor(), now).await?;
    leptos_axum::redirect(&format!("/admin/directories/{}/setup/endpoint", directory.id));
    Ok(())
}

/// Step 1 for an existing directory: another identity provider.
#[server(endpoint = "change_provider")]
pub async fn change_provider(directory: String, idp: String) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let idp = server::parse_idp(&idp)?;
    let id = directory_id(&directory)?;
    let (tenant, now) = (admin.tenant(), admin.portal.now());
    service::onboarding::change_identity_provider(admin.store(), tenant, id, idp, &admin.actor(), now).await?;
    leptos_axum::redirect(&format!("/admin/directories/{id}/setup/endpoint"));
    Ok(())
}

/// A directory's wizard state; also records that the admin reached `step`.
#[server(endpoint = "wizard_state")]
pub async fn wizard_state(directory: String, step: String) -> Result<WizardData, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    if let Some(step) = service::onboarding::Step::from_slug(&step) {
        service::onboarding::reach_step(admin.store(), admin.tenant(), id, step).await?;
    }
    let setup = service::onboarding::directory_setup(admin.store(), admin.tenant(), id).await?;
    Ok(WizardData {
        directory: id.to_string(),
        idp: setup.directory.idp.as_str().to_owned(),
        idp_name: setup.directory.idp.display_name().to_owned(),
        reached: setup.state.step,
        completed: setup.state.completed.is_some(),
        scim_base_url: admin.portal.scim_base_url(id),
        token_url: format!("{}/oauth/token", admin.portal.public_base()),
    })
}

/// Step 3: a bearer token for the identity provider, shown once.
#[server(endpoint = "issue_setup_token")]
pub async fn issue_setup_token(directory: String, valid_days: u32) -> Result<IssuedTokenView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let label = format!("Issued by {} in the setup wizard", admin.session.email);
    server::issue_token(&admin, id, label, valid_days).await
}

/// Step 3, for identity providers that use OAuth client credentials.
#[server(endpoint = "issue_setup_client")]
pub async fn issue_setup_client(directory: String) -> Result<ClientCredentialsView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let label = format!("Issued by {} in the setup wizard", admin.session.email);
    let (tenant, now) = (admin.tenant(), admin.portal.now());
    let client = service::directories::issue_oauth_client(admin.store(), tenant, id, label, &admin.actor(), now)
        .await?
        .ok_or_else(PortalError::no_such_directory)?;
    Ok(ClientCredentialsView {
        client_id: client.client_id,
        client_secret: client.secret,
        token_url: format!("{}/oauth/token", admin.portal.public_base()),
    })
}

/// The newest requests of the directory after `after` (a sequence number; 0 for the
/// newest), newest first; and whether setup is complete (checked anew on every call, so a
/// real identity provider's first successful provisioning completes it).
#[server(endpoint = "sync_feed")]
pub async fn sync_feed(directory: String, after: i64) -> Result<FeedView, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    let requests = service::onboarding::recent_requests(admin.store(), admin.tenant(), id, after, 50).await?;
    let completed =
        service::onboarding::complete_if_provisioned(admin.store(), admin.tenant(), id, admin.portal.now()).await?;
    Ok(FeedView { requests: requests.into_iter().map(server::request_view).collect(), completed })
}

#[server(endpoint = "load_mapping")]
pub async fn load_mapping(directory: String) -> Result<MappingView, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    let (rows, confirmed) = service::onboarding::mapping(admin.store(), admin.tenant(), id).await?;
    let unmapped = service::onboarding::unmapped_attributes(admin.store(), admin.tenant(), id).await?;
    let preview = serde_json::to_string_pretty(&service::onboarding::preview(&rows)).unwrap_or_default();
    Ok(MappingView {
        rows: rows
            .into_iter()
            .map(|row| MappingRowView {
                attribute: row.attribute,
                label: row.label,
                required: row.required,
                source: row.source,
            })
            .collect(),
        confirmed,
        preview,
        unmapped,
    })
}

/// Step 4: stores the mapping. `sources` are the identity provider's attribute names, in
/// the order of `attributes`.
#[server(endpoint = "save_mapping")]
pub async fn save_mapping(directory: String, attributes: Vec<String>, sources: Vec<String>) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    if attributes.len() != sources.len() {
        return Err(PortalError::Invalid(
            "Every attribute needs a source field. Reload the page and try again.".to_owned(),
        ));
    }
    let rows = attributes
        .into_iter()
        .zip(sources)
        .map(|(attribute, source)| service::onboarding::MappingRow {
            attribute,
            label: String::new(),
            required: false,
            source,
        })
        .collect();
    let (tenant, now) = (admin.tenant(), admin.portal.now());
    Ok(service::onboarding::save_mapping(admin.store(), tenant, id, rows, &admin.actor(), now).await?)
}

/// Step 5: the scripted provisioning cycle against the directory's own endpoint.
#[server(endpoint = "run_self_test")]
pub async fn run_self_test(directory: String) -> Result<SelfTestView, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    let portal = &admin.portal;
    let report =
        service::self_test::run(&portal.store, admin.tenant(), id, portal.public_base(), &admin.actor(), portal.now())
            .await?;
    Ok(SelfTestView {
        passed: report.passed,
        steps: report
            .steps
            .into_iter()
            .map(|step| SelfTestStepView {
                name: step.name,
                request: step.request,
                status: step.status,
                passed: step.passed,
                detail: step.detail,
            })
            .collect(),
    })
}

#[server(endpoint = "directory_dashboard")]
pub async fn directory_dashboard(directory: String) -> Result<DashboardView, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    let setup = service::onboarding::directory_setup(admin.store(), admin.tenant(), id).await?;
    let health = service::onboarding::sync_health(admin.store(), admin.tenant(), id, admin.portal.now()).await?;
    Ok(DashboardView {
        idp_name: setup.directory.idp.display_name().to_owned(),
        scim_base_url: admin.portal.scim_base_url(id),
        completed: setup.state.completed.is_some(),
        reached: setup.state.step,
        last_request: server::date_time(health.last_request_at),
        requests_24h: health.requests,
        failures_24h: health.failures,
    })
}

/// A page of the directory's users (`kind` = `users`) or groups (`groups`), optionally
/// only those whose name starts with `search`.
#[server(endpoint = "directory_resources")]
pub async fn directory_resources(
    directory: String,
    kind: String,
    search: String,
    start: i64,
) -> Result<ResourcePage, PortalError> {
    use service::directory_browser;
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let (store, tenant) = (admin.store(), admin.tenant());
    let page = match kind.as_str() {
        "users" => {
            directory_browser::users(store, tenant, id, &search, start, DASHBOARD_PAGE).await?.map(server::user_row)
        }
        "groups" => {
            directory_browser::groups(store, tenant, id, &search, start, DASHBOARD_PAGE).await?.map(server::group_row)
        }
        _ => return Err(PortalError::Invalid("Choose users or groups.".to_owned())),
    };
    Ok(ResourcePage { total: page.total, start: page.start, rows: page.rows })
}

#[server(endpoint = "list_tokens")]
pub async fn list_tokens(directory: String) -> Result<Vec<TokenView>, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    let tokens = service::onboarding::tokens(admin.store(), admin.tenant(), id).await?;
    let now = admin.portal.now();
    Ok(tokens.into_iter().map(|token| server::token_view(token, now)).collect())
}

/// Replaces a token; the old one keeps working for `overlap_minutes`.
#[server(endpoint = "rotate_token")]
pub async fn rotate_token(
    directory: String,
    token: String,
    overlap_minutes: i64,
) -> Result<IssuedTokenView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let old = token.parse::<service::TokenId>().map_err(|_| PortalError::no_such_token())?;
    let overlap = chrono::Duration::minutes(overlap_minutes.clamp(0, 7 * 24 * 60));
    let (tenant, now) = (admin.tenant(), admin.portal.now());
    let rotated =
        service::directories::rotate_token(admin.store(), tenant, id, old, overlap, &admin.actor(), now).await?;
    let (issued, old_until) = rotated.ok_or_else(PortalError::no_such_token)?;
    let expires = service::onboarding::tokens(admin.store(), tenant, id)
        .await
        .ok()
        .and_then(|tokens| tokens.into_iter().find(|t| t.id == issued.id))
        .and_then(|t| t.expires_at);
    Ok(IssuedTokenView {
        token: issued.secret,
        expires: server::date_time(expires),
        old_token_until: Some(server::date_time(Some(old_until))),
    })
}

#[server(endpoint = "revoke_directory_token")]
pub async fn revoke_directory_token(directory: String, token: String) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let token = token.parse::<service::TokenId>().map_err(|_| PortalError::no_such_token())?;
    let (tenant, now) = (admin.tenant(), admin.portal.now());
    let revoked = service::directories::revoke_token(admin.store(), tenant, id, token, &admin.actor(), now).await?;
    if revoked { Ok(()) } else { Err(PortalError::no_such_token()) }
}

/// Issues a new token from the tokens page.
#[server(endpoint = "create_directory_token")]
pub async fn create_directory_token(
    directory: String,
    label: String,
    valid_days: u32,
) -> Result<IssuedTokenView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(PortalError::Invalid(
            "Give the token a name of 1 to 100 characters, such as \"Okta production\".".to_owned(),
        ));
    }
    server::issue_token(&admin, id, label.to_owned(), valid_days).await
}

#[cfg(feature = "ssr")]
use crate::portal::{Admin, Visitor, directory_id};

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use super::{IssuedTokenView, RequestView, ResourceRow, TokenView};
    use crate::error::PortalError;
    use crate::portal::Admin;

    pub(crate) fn date_time(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map_or_else(|| "never".to_owned(), |at| at.format("%Y-%m-%d %H:%M UTC").to_string())
    }

    pub(crate) fn parse_idp(idp: &str) -> Result<service::IdentityProvider, PortalError> {
        idp.parse().map_err(|_| PortalError::Invalid("Choose one of the listed identity providers.".to_owned()))
    }

    /// Issues a directory token that expires after `valid_days` (0: never; at most ten
    /// years), records it in the tenant's audit trail, and returns it for showing once.
    pub(crate) async fn issue_token(
        admin: &Admin,
        directory: service::DirectoryId,
        label: String,
        valid_days: u32,
    ) -> Result<IssuedTokenView, PortalError> {
        let now = admin.portal.now();
        let expires_at = (valid_days > 0).then(|| now + chrono::Duration::days(i64::from(valid_days.min(3650))));
        let request = service::directories::TokenRequest { label, read_only: false, expires_at };
        let issued =
            service::directories::issue_token(admin.store(), admin.tenant(), directory, request, &admin.actor(), now)
                .await?
                .ok_or_else(PortalError::no_such_directory)?;
        Ok(IssuedTokenView { token: issued.secret, expires: date_time(expires_at), old_token_until: None })
    }

    pub(crate) fn request_view(request: service::onboarding::RequestRecord) -> RequestView {
        let cause = service::onboarding::failure_cause(&request);
        RequestView {
            seq: request.seq,
            time: request.occurred_at.format("%H:%M:%S").to_string(),
            ok: cause.is_none(),
            cause,
            method: request.method,
            path: request.path,
            status: request.status,
            latency_ms: request.latency_ms,
        }
    }

    pub(crate) fn token_view(token: service::onboarding::TokenRecord, now: chrono::DateTime<chrono::Utc>) -> TokenView {
        let status = service::onboarding::TokenState::of(&token, now).as_str().to_owned();
        TokenView {
            id: token.id.to_string(),
            label: token.label,
            created: date_time(Some(token.created_at)),
            expires: date_time(token.expires_at),
            last_used: date_time(token.last_used_at),
            status,
        }
    }

    pub(crate) fn user_row(user: service::directory_browser::UserRow) -> ResourceRow {
        ResourceRow {
            id: user.id,
            secondary: user.display_name.or(user.email).unwrap_or_default(),
            name: user.user_name,
            active: Some(user.active),
        }
    }

    pub(crate) fn group_row(group: service::directory_browser::GroupRow) -> ResourceRow {
        let members = group.members;
        ResourceRow {
            id: group.id,
            name: group.display_name,
            secondary: format!("{members} member{}", if members == 1 { "" } else { "s" }),
            active: None,
        }
    }
}
