//! The wizard's server functions and what they answer: its state, the identity provider,
//! the token or client credentials, the request feed, the attribute mapping and the
//! self-test. Each checks on the server that a tenant admin is signed in and reaches only
//! that admin's tenant: a directory id of another tenant is "not found".

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::PortalError;
use crate::pages::tokens::IssuedTokenView;
#[cfg(feature = "ssr")]
use crate::portal::{Admin, directory_id};

/// A directory's wizard, as every step needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WizardData {
    pub directory: String,
    /// `okta`, `entra`…
    pub idp: String,
    pub idp_name: String,
    /// The furthest step reached, 1 to 6.
    pub reached: u8,
    pub completed: bool,
    pub scim_base_url: String,
    pub token_url: String,
    /// The step after the mapping: `roles`, or `test` when the operator defined no roles.
    pub after_mapping: String,
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
    /// What it did, in words (empty where only the request line is shown).
    pub summary: String,
    /// Who sent it, as people know them.
    pub by: String,
}

/// The live feed of the token and test steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedView {
    pub requests: Vec<RequestView>,
    pub completed: bool,
    /// The verdict the token step shows (`service::onboarding::Connection`).
    pub connection: ConnectionView,
}

/// Whether the identity provider is connected, as the service judged it from the newest
/// requests: green only for an authenticated success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionView {
    Waiting,
    /// The first request that succeeded with a working token.
    Connected {
        request: RequestView,
    },
    /// Refused for its token: `reason` in plain words with what to do, `detail` which
    /// refusal it was.
    Refused {
        request: RequestView,
        reason: String,
        detail: Option<String>,
    },
    /// A working token, but the requests fail (the request's `cause` says why).
    Failing {
        request: RequestView,
    },
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

/// The mapping as edited on the directory's stored users (`service::onboarding::StoredUsersPreview`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPreviewView {
    pub total_users: usize,
    /// The most recently changed users: user name and the normalized form, pretty-printed.
    pub users: Vec<(String, String)>,
    pub lacking_count: usize,
    /// User name and the labels of the required attributes it lacks.
    pub lacking: Vec<(String, Vec<String>)>,
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

/// A request of the live feed as the portal shows it (the server's request stream sends
/// these too).
#[cfg(feature = "ssr")]
pub fn request_view(request: service::onboarding::RequestRecord) -> RequestView {
    server::request_view(request)
}

/// Step 1 for a new directory: makes it and moves on to the endpoint step.
#[server(endpoint = "start_setup")]
pub async fn start_setup(idp: String) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let idp = server::parse_idp(&idp)?;
    let limit = admin.portal.settings.max_directories_per_tenant;
    let (store, tenant, effects) = (admin.store(), admin.tenant(), &admin.portal.effects);
    let directory = service::onboarding::start_directory(store, tenant, idp, limit, &admin.actor(), effects).await?;
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
        after_mapping: service::onboarding::Step::after_mapping(admin.store()).await?.slug().to_owned(),
    })
}

/// Step 3: a bearer token for the identity provider, shown once.
#[server(endpoint = "issue_setup_token")]
pub async fn issue_setup_token(directory: String, valid_days: u32) -> Result<IssuedTokenView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let label = format!("Issued by {} in the setup wizard", admin.session.email);
    let issued = crate::pages::tokens::server::issue_token(&admin, id, label, valid_days).await?;
    crate::error::show_once_after_plain_form_post(&step_address(&directory, "token"), NEW_TOKEN, &issued).await?;
    Ok(issued)
}

/// Step 3, for identity providers that use OAuth client credentials.
#[server(endpoint = "issue_setup_client")]
pub async fn issue_setup_client(directory: String) -> Result<ClientCredentialsView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let label = format!("Issued by {} in the setup wizard", admin.session.email);
    let tenant = admin.tenant();
    let client = service::directories::issue_oauth_client(
        admin.store(),
        tenant,
        id,
        label,
        &admin.actor(),
        &admin.portal.effects,
    )
    .await?
    .ok_or_else(PortalError::no_such_directory)?;
    let credentials = ClientCredentialsView {
        client_id: client.client_id,
        client_secret: client.secret,
        token_url: format!("{}/oauth/token", admin.portal.public_base()),
    };
    crate::error::show_once_after_plain_form_post(&step_address(&directory, "token"), NEW_CLIENT, &credentials).await?;
    Ok(credentials)
}

/// The token step's one-time outcomes, sealed for the page a plain form came back to:
/// taken, so each is shown once (see `crate::error::show_once_after_plain_form_post`).
#[server(endpoint = "take_setup_token")]
pub async fn take_setup_token(key: String) -> Result<Option<IssuedTokenView>, PortalError> {
    Admin::require().await?;
    crate::error::take_shown_once(NEW_TOKEN, &key).await
}

#[server(endpoint = "take_setup_client")]
pub async fn take_setup_client(key: String) -> Result<Option<ClientCredentialsView>, PortalError> {
    Admin::require().await?;
    crate::error::take_shown_once(NEW_CLIENT, &key).await
}

/// The self-test's report, sealed for the test step a plain form came back to.
#[server(endpoint = "take_self_test")]
pub async fn take_self_test(key: String) -> Result<Option<SelfTestView>, PortalError> {
    Admin::require().await?;
    crate::error::take_shown_once(SELF_TEST, &key).await
}

/// The address of a directory's wizard step.
pub(crate) fn step_address(directory: &str, step: &str) -> String {
    format!("/admin/directories/{directory}/setup/{step}")
}

/// Address parameters (and kinds of one-time outcome) of the wizard's plain forms: a token
/// or client credentials just issued, a self-test just run, a mapping just saved.
pub(crate) const NEW_TOKEN: &str = "new_token";
pub(crate) const NEW_CLIENT: &str = "new_client";
pub(crate) const SELF_TEST: &str = "self_test";
pub(crate) const MAPPING_SAVED: &str = "mapping";

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
    let connection = service::onboarding::current_connection(admin.store(), admin.tenant(), id).await?;
    let activities = service::activity::describe_requests(admin.store(), admin.tenant(), id, &requests).await?;
    Ok(FeedView {
        requests: requests
            .into_iter()
            .zip(activities)
            .map(|(request, activity)| RequestView {
                summary: activity.summary,
                by: activity.by,
                ..server::request_view(request)
            })
            .collect(),
        completed,
        connection: server::connection_view(connection),
    })
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

/// The mapping as edited (`attribute`, `source` of each row; labels and required flags
/// are the server's) applied to the directory's most recently changed stored users.
#[server(endpoint = "preview_stored_users", input = leptos::server_fn::codec::Json)]
pub async fn preview_stored_users(
    directory: String,
    rows: Vec<MappingRowView>,
) -> Result<StoredPreviewView, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    let rows: Vec<service::onboarding::MappingRow> = rows
        .into_iter()
        .map(|row| service::onboarding::MappingRow {
            attribute: row.attribute,
            label: row.label,
            required: row.required,
            source: row.source,
        })
        .collect();
    let preview = service::onboarding::stored_users_preview(admin.store(), admin.tenant(), id, &rows).await?;
    Ok(StoredPreviewView {
        total_users: preview.total_users,
        users: preview
            .users
            .into_iter()
            .map(|user| (user.user_name, serde_json::to_string_pretty(&user.normalized).unwrap_or_default()))
            .collect(),
        lacking_count: preview.lacking_count,
        lacking: preview.lacking.into_iter().map(|user| (user.user_name, user.missing)).collect(),
    })
}

/// Step 4: stores the mapping. `sources` are the identity provider's attribute names, in
/// the order of `attributes`.
#[server(endpoint = "save_mapping")]
pub async fn save_mapping(
    directory: String,
    #[server(default)] attributes: Vec<String>,
    #[server(default)] sources: Vec<String>,
) -> Result<(), PortalError> {
    let page = step_address(&directory, "mapping");
    let typed: Vec<(String, String)> =
        sources.iter().enumerate().map(|(index, source)| (format!("sources[{index}]"), source.clone())).collect();
    store_mapping(directory, attributes, sources).await.inspect_err(|error| {
        let typed: Vec<(&str, &str)> = typed.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
        crate::error::back_with_what_was_typed::<SaveMapping>(&page, &typed, error);
    })?;
    crate::error::after_plain_form_post_go_to(&format!("{page}?{MAPPING_SAVED}=saved"));
    Ok(())
}

#[cfg(feature = "ssr")]
async fn store_mapping(directory: String, attributes: Vec<String>, sources: Vec<String>) -> Result<(), PortalError> {
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
    let report = service::self_test::run(
        &portal.store,
        admin.tenant(),
        id,
        portal.public_base(),
        &admin.actor(),
        &portal.effects,
    )
    .await?;
    let report = SelfTestView {
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
    };
    crate::error::show_once_after_plain_form_post(&step_address(&directory, "test"), SELF_TEST, &report).await?;
    Ok(report)
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use super::{ConnectionView, RequestView};
    use crate::error::PortalError;
    use service::onboarding::Connection;

    pub(crate) fn parse_idp(idp: &str) -> Result<service::IdentityProvider, PortalError> {
        idp.parse().map_err(|_| PortalError::Invalid("Choose one of the listed identity providers.".to_owned()))
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
            summary: String::new(),
            by: String::new(),
        }
    }

    pub(crate) fn connection_view(connection: Connection) -> ConnectionView {
        match connection {
            Connection::Waiting => ConnectionView::Waiting,
            Connection::Connected { since } => ConnectionView::Connected { request: request_view(since) },
            Connection::Refused { request, reason, detail } => {
                ConnectionView::Refused { request: request_view(request), reason: reason.to_owned(), detail }
            }
            Connection::Failing { request } => ConnectionView::Failing { request: request_view(request) },
        }
    }
}
