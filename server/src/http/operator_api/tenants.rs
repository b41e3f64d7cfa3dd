//! Tenants (the operator's customers), their directories and the setup links of their
//! admins.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{JsonBody, OperatorApiKey};
use super::problem::{ApiFailure, Problem};
use super::rfc3339;
use crate::http::AppState;

/// A tenant: one of the operator's customers.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TenantBody {
    /// Its name in addresses.
    slug: String,
    display_name: String,
    /// RFC 3339, UTC.
    created_at: String,
    /// Only in `GET /api/v1/tenants/{slug}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    directories: Option<Vec<DirectoryBody>>,
    /// Only in the list: how many directories it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    directory_count: Option<i64>,
}

/// A directory: one identity-provider connection of a tenant.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DirectoryBody {
    id: String,
    /// `okta`, `entra`, `google`, `onelogin`, `jumpcloud`, `ping`, `rippling` or `generic`.
    idp: String,
    scim_base_url: String,
    created_at: String,
    /// Whether the onboarding wizard has completed (a provisioning cycle passed).
    setup_completed: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct NewTenantBody {
    /// 2 to 63 lowercase letters, digits and hyphens, starting with a letter.
    slug: String,
    display_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct NewDirectoryBody {
    idp: String,
}

/// A directory just made with its first bearer token (shown only here).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CreatedDirectoryBody {
    directory: DirectoryBody,
    token: String,
}

/// A deleted directory: gone from every list and API, its tokens and OAuth clients revoked;
/// its data and events are kept until `purge_after`.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DeletedDirectoryBody {
    id: String,
    /// RFC 3339, UTC: when it was deleted (by this request or an earlier one).
    deleted_at: String,
    /// RFC 3339, UTC: from when the purge job deletes its data, under the retention the
    /// operator set for the deployment.
    purge_after: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct NewSetupLinkBody {
    /// Days the link stays valid, 1 to 30 (default 7).
    valid_days: Option<u32>,
    /// Email the link to this address (the customer's IT admin) instead of returning it;
    /// needs `SMTP_URL`. If the SMTP server refuses the message, the link is withdrawn and
    /// the answer is 502.
    email: Option<String>,
}

/// A setup link for the tenant's admin: single-use; the URL is returned only here, and
/// only when the link was not emailed.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SetupLinkBody {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// The address the link was emailed to.
    sent_to: Option<String>,
    expires_at: String,
}

pub(super) async fn tenant_named(
    state: &AppState,
    slug: &str,
) -> Result<(store::Tenant, Vec<store::Directory>), ApiFailure> {
    let unknown = || ApiFailure::NotFound(format!("there is no tenant {slug}"));
    let parsed = store::TenantSlug::parse(slug).map_err(|_| unknown())?;
    service::tenants::detail(&state.store, &parsed).await?.ok_or_else(unknown)
}

fn directory_body(state: &AppState, directory: &store::Directory, setup_completed: bool) -> DirectoryBody {
    DirectoryBody {
        id: directory.id.to_string(),
        idp: directory.idp.as_str().to_owned(),
        scim_base_url: format!("{}/scim/v2/{}", state.portal.public_base, directory.id),
        created_at: rfc3339(directory.created_at),
        setup_completed,
    }
}

/// Every tenant, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/tenants",
    responses(
        (status = 200, description = "The tenants", body = [TenantBody]),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_tenants(
    _key: OperatorApiKey,
    State(state): State<AppState>,
) -> Result<Json<Vec<TenantBody>>, ApiFailure> {
    let tenants = service::tenants::list(&state.store).await?;
    Ok(Json(
        tenants
            .into_iter()
            .map(|summary| TenantBody {
                slug: summary.tenant.slug.to_string(),
                display_name: summary.tenant.display_name,
                created_at: rfc3339(summary.tenant.created_at),
                directories: None,
                directory_count: Some(summary.directory_count),
            })
            .collect(),
    ))
}

/// Creates a tenant.
#[utoipa::path(
    post,
    path = "/api/v1/tenants",
    request_body = NewTenantBody,
    responses(
        (status = 201, description = "Created", body = TenantBody),
        (status = 400, description = "An invalid slug or display name", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn create_tenant(
    key: OperatorApiKey,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewTenantBody>,
) -> Result<(StatusCode, Json<TenantBody>), ApiFailure> {
    use service::tenants::TenantError;
    let tenant = service::tenants::create(&state.store, &body.slug, &body.display_name, &key.actor(), &state.effects)
        .await
        .map_err(|error| match error {
            TenantError::SlugTaken(_) => ApiFailure::Conflict(error.to_string()),
            TenantError::Service(error) => error.into(),
            invalid => ApiFailure::BadRequest(invalid.to_string()),
        })?;
    let body = TenantBody {
        slug: tenant.slug.to_string(),
        display_name: tenant.display_name,
        created_at: rfc3339(tenant.created_at),
        directories: Some(Vec::new()),
        directory_count: None,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// A tenant with its directories.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}",
    params(("slug" = String, Path, description = "The tenant's name in addresses")),
    responses(
        (status = 200, description = "The tenant", body = TenantBody),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn tenant_detail(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<TenantBody>, ApiFailure> {
    let (tenant, directories) = tenant_named(&state, &slug).await?;
    let setups = service::onboarding::directory_setups(&state.store, tenant.id).await?;
    let completed = |id| setups.iter().any(|setup| setup.directory.id == id && setup.state.completed.is_some());
    Ok(Json(TenantBody {
        slug: tenant.slug.to_string(),
        display_name: tenant.display_name,
        created_at: rfc3339(tenant.created_at),
        directories: Some(directories.iter().map(|d| directory_body(&state, d, completed(d.id))).collect()),
        directory_count: None,
    }))
}

/// Adds a directory for an identity provider, with its first bearer token.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/directories",
    params(("slug" = String, Path, description = "The tenant's name in addresses")),
    request_body = NewDirectoryBody,
    responses(
        (status = 201, description = "Created; the token is shown only here", body = CreatedDirectoryBody),
        (status = 400, description = "An unknown identity provider", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The tenant has as many directories as the deployment allows", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn add_directory(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<NewDirectoryBody>,
) -> Result<(StatusCode, Json<CreatedDirectoryBody>), ApiFailure> {
    let idp: store::IdentityProvider =
        body.idp.parse().map_err(|e: store::UnknownIdentityProvider| ApiFailure::BadRequest(e.to_string()))?;
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let label = format!("Created through the operator API (key {})", key.id());
    let limit = Some(state.portal.max_directories_per_tenant);
    let added =
        service::tenants::add_directory(&state.store, &tenant.slug, idp, label, limit, &key.actor(), &state.effects)
            .await?;
    let (directory, token) = added.ok_or_else(|| ApiFailure::NotFound(format!("there is no tenant {slug}")))?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedDirectoryBody { directory: directory_body(&state, &directory, false), token: token.secret }),
    ))
}

/// Deletes a directory of the tenant: its tokens and OAuth clients are revoked at once, it
/// disappears from every list and API, `directory.deleted` (`dsync.deleted`) is in its
/// feed, and its data is purged after the deployment's retention period. Deleting it again
/// answers the same and changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/tenants/{slug}/directories/{directory}",
    params(
        ("slug" = String, Path, description = "The tenant's name in addresses"),
        ("directory" = String, Path, description = "The directory's id"),
    ),
    responses(
        (status = 200, description = "Deleted (now or before)", body = DeletedDirectoryBody),
        (status = 404, description = "No such tenant, or no such directory of the tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn delete_directory(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path((slug, directory)): Path<(String, String)>,
) -> Result<Json<DeletedDirectoryBody>, ApiFailure> {
    let unknown = || no_such_directory(&slug, &directory);
    let id: store::DirectoryId = directory.parse().map_err(|_| unknown())?;
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let now = state.effects.now();
    let deletion = service::directory_lifecycle::delete_directory(&state.store, tenant.id, id, &key.actor(), now)
        .await?
        .ok_or_else(unknown)?;
    let retention = service::directory_lifecycle::retention_of_days(state.portal.deleted_directory_retention_days);
    Ok(Json(DeletedDirectoryBody {
        id: id.to_string(),
        deleted_at: rfc3339(deletion.deleted_at),
        purge_after: rfc3339(service::directory_lifecycle::purge_after(deletion.deleted_at, retention)),
    }))
}

/// Makes a setup link for the tenant's admin.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/setup-links",
    params(("slug" = String, Path, description = "The tenant's name in addresses")),
    request_body = NewSetupLinkBody,
    responses(
        (status = 201, description = "Created; the URL is shown only here (or the link was emailed)", body = SetupLinkBody),
        (status = 400, description = "A lifetime outside 1 to 30 days, an email that is not an address, or an email asked for where no SMTP server is configured", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The SMTP server refused the message; the link was withdrawn", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn create_setup_link(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<NewSetupLinkBody>,
) -> Result<(StatusCode, Json<SetupLinkBody>), ApiFailure> {
    use service::admins::SetupLinkError;
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let lifetime = chrono::Duration::days(i64::from(body.valid_days.unwrap_or(7)));
    let failure = |error| match error {
        SetupLinkError::Service(error) => error.into(),
        SetupLinkError::NotSent(_) => ApiFailure::BadGateway(error.to_string()),
        invalid => ApiFailure::BadRequest(invalid.to_string()),
    };
    let public_base = &state.portal.public_base;
    let body = match body.email.as_deref().map(str::trim).filter(|email| !email.is_empty()) {
        None => {
            let link =
                service::admins::create_setup_link(&state.store, tenant.id, &key.actor(), lifetime, &state.effects)
                    .await
                    .map_err(failure)?;
            SetupLinkBody {
                id: link.id.to_string(),
                url: Some(link.url(public_base)),
                sent_to: None,
                expires_at: rfc3339(link.expires_at),
            }
        }
        Some(email) => {
            let sent = service::admins::email_setup_link(
                &state.store,
                state.mailer.as_ref(),
                public_base,
                tenant.id,
                &key.actor(),
                lifetime,
                email,
                &state.effects,
            )
            .await
            .map_err(failure)?;
            SetupLinkBody {
                id: sent.id.to_string(),
                url: None,
                sent_to: Some(sent.sent_to),
                expires_at: rfc3339(sent.expires_at),
            }
        }
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// A setup link as listed (its URL is never stored, so never listed).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SetupLinkStateBody {
    id: String,
    /// Who made it: an email, an API key's label, or "the command line".
    made_by: String,
    created_at: String,
    expires_at: String,
    /// `open`, `used`, `expired` or `revoked`.
    state: String,
    used_at: Option<String>,
    revoked_at: Option<String>,
    /// The address it was emailed to (null: its URL was returned to its maker).
    sent_to: Option<String>,
}

/// The tenant's setup links, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/setup-links",
    params(("slug" = String, Path, description = "The tenant's name in addresses")),
    responses(
        (status = 200, description = "The links, newest first", body = [SetupLinkStateBody]),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_setup_links(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Vec<SetupLinkStateBody>>, ApiFailure> {
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let links = service::admins::setup_links(&state.store, tenant.id, state.effects.now()).await?;
    Ok(Json(
        links
            .into_iter()
            .map(|link| SetupLinkStateBody {
                id: link.id.to_string(),
                made_by: link.made_by,
                created_at: rfc3339(link.created_at),
                expires_at: rfc3339(link.expires_at),
                state: link.state.as_str().to_owned(),
                used_at: link.used_at.map(rfc3339),
                revoked_at: link.revoked_at.map(rfc3339),
                sent_to: link.sent_to,
            })
            .collect(),
    ))
}

/// Withdraws an open setup link: it opens nothing from then on.
#[utoipa::path(
    delete,
    path = "/api/v1/tenants/{slug}/setup-links/{link}",
    params(
        ("slug" = String, Path, description = "The tenant's name in addresses"),
        ("link" = String, Path, description = "The link's id"),
    ),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 404, description = "No such tenant or link", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The link was used, has expired or was withdrawn already", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn revoke_setup_link(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path((slug, link)): Path<(String, String)>,
) -> Result<StatusCode, ApiFailure> {
    use service::admins::SetupLinkError;
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let not_found = || ApiFailure::NotFound(format!("tenant {slug} has no setup link {link}"));
    let id = link.parse().map_err(|_| not_found())?;
    let now = state.effects.now();
    match service::admins::revoke_setup_link(&state.store, &key.actor(), tenant.id, id, now).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(SetupLinkError::NoSuchLink) => Err(not_found()),
        Err(SetupLinkError::Service(error)) => Err(error.into()),
        Err(refused) => Err(ApiFailure::Conflict(refused.to_string())),
    }
}

/// A directory's safety brake: whether mass revocations are held for the tenant admin's
/// review, and the threshold (more than `percent` of the active users, and at least
/// `minimum`, deactivated or deleted within 10 minutes). Changes that add members to a
/// group marked privileged are held whenever one is marked.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(super) struct SafetyBrakeBody {
    enabled: bool,
    /// 1 to 100.
    percent: i32,
    /// 1 to 1,000,000.
    minimum: i32,
}

impl From<service::brake::BrakeSettings> for SafetyBrakeBody {
    fn from(settings: service::brake::BrakeSettings) -> Self {
        let service::brake::BrakeSettings { enabled, percent, minimum } = settings;
        SafetyBrakeBody { enabled, percent, minimum }
    }
}

/// The answer for a directory the tenant does not have.
fn no_such_directory(slug: &str, directory: &str) -> ApiFailure {
    ApiFailure::NotFound(format!("tenant {slug} has no directory {directory}"))
}

/// The directory of a tenant a path names.
async fn directory_of(
    state: &AppState,
    slug: &str,
    directory: &str,
) -> Result<(store::TenantId, store::DirectoryId), ApiFailure> {
    let unknown = || no_such_directory(slug, directory);
    let (tenant, directories) = tenant_named(state, slug).await?;
    let id: store::DirectoryId = directory.parse().map_err(|_| unknown())?;
    if !directories.iter().any(|known| known.id == id) {
        return Err(unknown());
    }
    Ok((tenant.id, id))
}

/// A directory's safety brake settings.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/directories/{directory}/safety-brake",
    params(
        ("slug" = String, Path, description = "The tenant's name in addresses"),
        ("directory" = String, Path, description = "The directory's id"),
    ),
    responses(
        (status = 200, description = "The settings", body = SafetyBrakeBody),
        (status = 404, description = "No such tenant, or no such directory of the tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn safety_brake(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path((slug, directory)): Path<(String, String)>,
) -> Result<Json<SafetyBrakeBody>, ApiFailure> {
    let (tenant, id) = directory_of(&state, &slug, &directory).await?;
    let settings = service::brake::settings(&state.store, tenant, id)
        .await?
        .ok_or_else(|| no_such_directory(&slug, &directory))?;
    Ok(Json(settings.into()))
}

/// Sets a directory's safety brake (recorded in the tenant's audit trail, as when the
/// tenant's admin sets it). Turning it off lets mass revocations through unreviewed;
/// batches already held stay held until the admin decides them.
#[utoipa::path(
    put,
    path = "/api/v1/tenants/{slug}/directories/{directory}/safety-brake",
    params(
        ("slug" = String, Path, description = "The tenant's name in addresses"),
        ("directory" = String, Path, description = "The directory's id"),
    ),
    request_body = SafetyBrakeBody,
    responses(
        (status = 200, description = "Saved", body = SafetyBrakeBody),
        (status = 400, description = "A percentage or minimum out of bounds", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant, or no such directory of the tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn set_safety_brake(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path((slug, directory)): Path<(String, String)>,
    JsonBody(body): JsonBody<SafetyBrakeBody>,
) -> Result<Json<SafetyBrakeBody>, ApiFailure> {
    use service::brake::BrakeError;
    let (tenant, id) = directory_of(&state, &slug, &directory).await?;
    let SafetyBrakeBody { enabled, percent, minimum } = body;
    let asked = service::brake::BrakeSettings { enabled, percent, minimum };
    let now = state.effects.now();
    match service::brake::set_settings(&state.store, &key.actor(), tenant, id, asked, now).await {
        Ok(saved) => Ok(Json(saved.into())),
        Err(BrakeError::NoSuchDirectory) => Err(no_such_directory(&slug, &directory)),
        Err(BrakeError::Service(error)) => Err(error.into()),
        Err(refused) => Err(ApiFailure::BadRequest(refused.to_string())),
    }
}
