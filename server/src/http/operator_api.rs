//! The operator API under `/api/v1`: what the vendor's own product calls, with an operator
//! API key (`Authorization: Bearer scimk_…`). Errors are RFC 9457 problem documents. The
//! OpenAPI document at `/api/openapi.json` is derived from these handlers and types.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use scim::error::ScimError;
use serde::{Deserialize, Serialize};
use service::api_keys::{self, ApiKeyError};
use service::events::{self, Cursor, Event, EventsError};
use service::provisioning::{ListQuery, Projection, ProvisioningError};
use store::{ApiKeyId, DirectoryId};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use super::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/directories/{directory}/events", get(directory_events))
        .route("/api/v1/directories/{directory}/users", get(list_users))
        .route("/api/v1/directories/{directory}/users/{id}", get(get_user))
        .route("/api/v1/directories/{directory}/groups", get(list_groups))
        .route("/api/v1/directories/{directory}/groups/{id}", get(get_group))
        .route("/api/v1/tenants", get(list_tenants).post(create_tenant))
        .route("/api/v1/tenants/{slug}", get(tenant_detail))
        .route("/api/v1/tenants/{slug}/directories", post(add_directory))
        .route("/api/v1/tenants/{slug}/setup-links", post(create_setup_link))
        .route("/api/v1/tenants/{slug}/webhooks", get(list_webhooks).post(create_webhook))
        .route("/api/v1/tenants/{slug}/webhooks/{webhook}/deliveries", get(webhook_deliveries))
        .route("/api/v1/tenants/{slug}/webhooks/{webhook}/dead-letters/{delivery}/replay", post(replay_dead_letter))
        .route("/api/openapi.json", get(openapi_document))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SCIM onboarding portal: operator API",
        version = "1",
        description = "What the operator's own product calls: tenants, their directories, setup links and webhooks, the users and groups of each directory, and its ordered, replayable event feed."
    ),
    paths(directory_events, list_users, get_user, list_groups, get_group, list_tenants, create_tenant, tenant_detail, add_directory, create_setup_link, list_webhooks, create_webhook, webhook_deliveries, replay_dead_letter),
    components(schemas(EventPage, Event, Problem, TenantBody, NewTenantBody, DirectoryBody, NewDirectoryBody, CreatedDirectoryBody, NewSetupLinkBody, SetupLinkBody, WebhookBody, WebhookProgressBody, NewWebhookBody, CreatedWebhookBody, DeliveryBody, ReplayBody)),
    modifiers(&ApiKeyScheme),
    security(("api_key" = []))
)]
struct OperatorApiDocument;

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("An operator API key (`server admin create-api-key`)".to_owned());
        components.add_security_scheme("api_key", SecurityScheme::Http(bearer));
    }
}

/// `GET /api/openapi.json`
async fn openapi_document() -> Response {
    Json(OperatorApiDocument::openapi()).into_response()
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
struct Problem {
    /// `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    kind: &'static str,
    title: String,
    status: u16,
    detail: String,
}

/// A refusal of the operator API, answered as a problem document.
#[derive(Debug)]
pub(crate) enum ApiFailure {
    Unauthorized,
    NotFound(String),
    BadRequest(String),
    Conflict(String),
    Unavailable,
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            ApiFailure::Unauthorized => {
                (StatusCode::UNAUTHORIZED, "the API key is missing, unknown or revoked".to_owned())
            }
            ApiFailure::NotFound(detail) => (StatusCode::NOT_FOUND, detail),
            ApiFailure::BadRequest(detail) => (StatusCode::BAD_REQUEST, detail),
            ApiFailure::Conflict(detail) => (StatusCode::CONFLICT, detail),
            ApiFailure::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "the service is unavailable; retry later".to_owned())
            }
        };
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"operator-api\""));
        }
        response
    }
}

impl From<service::ServiceError> for ApiFailure {
    fn from(_: service::ServiceError) -> Self {
        // The cause is logged where it happened; callers retry a 503.
        ApiFailure::Unavailable
    }
}

/// A request authenticated with an operator API key.
pub(crate) struct OperatorApiKey(pub(crate) ApiKeyId);

impl FromRequestParts<AppState> for OperatorApiKey {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim())
            .ok_or(ApiFailure::Unauthorized)?;
        #[allow(clippy::disallowed_methods)] // the clock is read at the edge
        let now = chrono::Utc::now();
        match api_keys::authenticate_api_key(&state.store, presented, now).await {
            Ok(key) => Ok(Self(key)),
            Err(ApiKeyError::Unauthorized) => Err(ApiFailure::Unauthorized),
            Err(ApiKeyError::Service(error)) => Err(error.into()),
        }
    }
}

/// A page of the event feed, oldest first.
#[derive(Debug, Serialize, ToSchema)]
struct EventPage {
    events: Vec<Event>,
    /// Pass it as `after` to read on; unchanged when there was nothing new.
    next_cursor: String,
    /// More events were already waiting beyond this page: read again without waiting.
    has_more: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
    /// The `cursor` of the last event seen (or a page's `next_cursor`); empty or absent to
    /// start from the directory's first event.
    after: Option<String>,
    /// Most events to return, 1 to 1000 (default 100).
    limit: Option<String>,
    /// Seconds to wait for an event when there is none yet, 0 to 25 (default 0):
    /// long-polling.
    wait: Option<String>,
}

/// The changes of a directory in commit order, replayable from any cursor.
#[utoipa::path(
    get,
    path = "/api/v1/directories/{directory}/events",
    params(("directory" = String, Path, description = "The directory's id"), EventsQuery),
    responses(
        (status = 200, description = "Events after the cursor", body = EventPage),
        (status = 400, description = "A bad cursor, limit or wait", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such directory", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn directory_events(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(directory): Path<String>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<EventPage>, ApiFailure> {
    let unknown = || ApiFailure::NotFound(format!("there is no directory {directory}"));
    let directory_id: DirectoryId = directory.parse().map_err(|_| unknown())?;
    let after = Cursor::parse(query.after.as_deref().unwrap_or_default()).map_err(from_events)?;
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(text) => text.parse().map_err(|_| ApiFailure::BadRequest(format!("limit {text:?} is not a number")))?,
    };
    let wait = match query.wait.as_deref() {
        None => Duration::ZERO,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
            .filter(|wait| *wait <= events::MAX_WAIT)
            .ok_or_else(|| ApiFailure::BadRequest(format!("wait must be 0 to 25 seconds, not {text:?}")))?,
    };
    let page =
        events::read_events(&state.store, directory_id, after, limit, wait).await.map_err(|error| match error {
            EventsError::UnknownDirectory => unknown(),
            other => from_events(other),
        })?;
    Ok(Json(EventPage {
        events: page.events.into_iter().map(|record| Event::new(directory_id, record)).collect(),
        next_cursor: page.next_cursor.to_text(),
        has_more: page.has_more,
    }))
}

/// The query of a listing of users or groups: the parameters of a SCIM list request
/// (RFC 7644 §3.4.2).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, non_snake_case)] // documents the parameters; they are read as a map
struct ResourceListQuery {
    /// A SCIM filter, e.g. `userName eq "ada@example.com"` or `meta.lastModified gt "2026-01-01T00:00:00Z"`.
    filter: Option<String>,
    /// 1-based index of the first result (default 1).
    startIndex: Option<String>,
    /// Results per page, at most 1000 (default 100).
    count: Option<String>,
    /// RFC 9865 cursor pagination: empty to start, then the page's `nextCursor`.
    cursor: Option<String>,
    sortBy: Option<String>,
    /// `ascending` or `descending`.
    sortOrder: Option<String>,
    /// Comma-separated attributes to return (and no others but `id`).
    attributes: Option<String>,
    /// Comma-separated attributes to leave out (a group's `members`, say).
    excludedAttributes: Option<String>,
}

/// A directory's SCIM endpoint, read-only, for the operator's product.
async fn directory_reader(state: &AppState, directory: &str) -> Result<service::provisioning::Endpoint, ApiFailure> {
    let unknown = || ApiFailure::NotFound(format!("there is no directory {directory}"));
    let id: DirectoryId = directory.parse().map_err(|_| unknown())?;
    let tenant = state.store.directory_owner(id).await.map_err(service::ServiceError::from)?.ok_or_else(unknown)?;
    let base_url = format!("{}/scim/v2/{id}", state.portal.public_base);
    service::provisioning::portal_endpoint(&state.store, tenant, id, base_url)
        .await
        .map_err(from_provisioning)?
        .ok_or_else(unknown)
}

/// A SCIM protocol error as a problem: 404 stays 404, the rest is the client's mistake.
fn from_scim_error(error: ScimError) -> ApiFailure {
    if error.status() == 404 {
        ApiFailure::NotFound(error.detail().to_owned())
    } else {
        ApiFailure::BadRequest(error.detail().to_owned())
    }
}

fn from_provisioning(error: ProvisioningError) -> ApiFailure {
    match error {
        ProvisioningError::Protocol(error) => from_scim_error(error),
        ProvisioningError::Service(error) => error.into(),
    }
}

async fn list_resources(
    state: &AppState,
    directory: &str,
    kind: store::ResourceKind,
    params: &std::collections::HashMap<String, String>,
) -> Result<Json<serde_json::Value>, ApiFailure> {
    let endpoint = directory_reader(state, directory).await?;
    let query = ListQuery::from_params(params).map_err(from_scim_error)?;
    Ok(Json(endpoint.list(kind, &query).await.map_err(from_provisioning)?))
}

async fn one_resource(
    state: &AppState,
    directory: &str,
    kind: store::ResourceKind,
    id: &str,
    params: &std::collections::HashMap<String, String>,
) -> Result<Json<serde_json::Value>, ApiFailure> {
    let endpoint = directory_reader(state, directory).await?;
    let projection = Projection::from_params(params).map_err(from_scim_error)?;
    Ok(Json(endpoint.get(kind, id, &projection).await.map_err(from_provisioning)?.body))
}

type ListParams = Query<std::collections::HashMap<String, String>>;

/// The directory's users as a SCIM ListResponse (RFC 7644 §3.4.2), filtered, sorted and
/// paged like the SCIM endpoint itself.
#[utoipa::path(
    get,
    path = "/api/v1/directories/{directory}/users",
    params(("directory" = String, Path, description = "The directory's id"), ResourceListQuery),
    responses(
        (status = 200, description = "A SCIM ListResponse of users", body = Object),
        (status = 400, description = "A bad filter, sort or page", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such directory", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_users(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(directory): Path<String>,
    Query(params): ListParams,
) -> Result<Json<serde_json::Value>, ApiFailure> {
    list_resources(&state, &directory, store::ResourceKind::User, &params).await
}

/// One user of the directory as a SCIM resource, with its groups.
#[utoipa::path(
    get,
    path = "/api/v1/directories/{directory}/users/{id}",
    params(("directory" = String, Path, description = "The directory's id"), ("id" = String, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The SCIM User", body = Object),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such directory or user", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_user(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path((directory, id)): Path<(String, String)>,
    Query(params): ListParams,
) -> Result<Json<serde_json::Value>, ApiFailure> {
    one_resource(&state, &directory, store::ResourceKind::User, &id, &params).await
}

/// The directory's groups as a SCIM ListResponse; `excludedAttributes=members` leaves out
/// the members of large groups.
#[utoipa::path(
    get,
    path = "/api/v1/directories/{directory}/groups",
    params(("directory" = String, Path, description = "The directory's id"), ResourceListQuery),
    responses(
        (status = 200, description = "A SCIM ListResponse of groups", body = Object),
        (status = 400, description = "A bad filter, sort or page", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such directory", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_groups(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(directory): Path<String>,
    Query(params): ListParams,
) -> Result<Json<serde_json::Value>, ApiFailure> {
    list_resources(&state, &directory, store::ResourceKind::Group, &params).await
}

/// One group of the directory as a SCIM resource, with its members.
#[utoipa::path(
    get,
    path = "/api/v1/directories/{directory}/groups/{id}",
    params(("directory" = String, Path, description = "The directory's id"), ("id" = String, Path, description = "The group's id")),
    responses(
        (status = 200, description = "The SCIM Group", body = Object),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such directory or group", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_group(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path((directory, id)): Path<(String, String)>,
    Query(params): ListParams,
) -> Result<Json<serde_json::Value>, ApiFailure> {
    one_resource(&state, &directory, store::ResourceKind::Group, &id, &params).await
}

fn from_events(error: EventsError) -> ApiFailure {
    match error {
        EventsError::UnknownDirectory => ApiFailure::NotFound("no such directory".to_owned()),
        EventsError::InvalidCursor(detail) => ApiFailure::BadRequest(detail),
        EventsError::InvalidLimit => ApiFailure::BadRequest(EventsError::InvalidLimit.to_string()),
        EventsError::Service(error) => error.into(),
    }
}

/// A JSON body whose rejection is a problem document.
pub(crate) struct JsonBody<T>(T);

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiFailure;

    async fn from_request(request: axum::extract::Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiFailure::BadRequest(rejection.body_text())),
        }
    }
}

#[allow(clippy::disallowed_methods)] // the clock is read at the edge
fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// A tenant: one of the operator's customers.
#[derive(Debug, Serialize, ToSchema)]
struct TenantBody {
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
struct DirectoryBody {
    id: String,
    /// `okta`, `entra`, `google`, `onelogin`, `jumpcloud`, `ping`, `rippling` or `generic`.
    idp: String,
    scim_base_url: String,
    created_at: String,
    /// Whether the onboarding wizard has completed (a provisioning cycle passed).
    setup_completed: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
struct NewTenantBody {
    /// 2 to 63 lowercase letters, digits and hyphens, starting with a letter.
    slug: String,
    display_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
struct NewDirectoryBody {
    idp: String,
}

/// A directory just made with its first bearer token (shown only here).
#[derive(Debug, Serialize, ToSchema)]
struct CreatedDirectoryBody {
    directory: DirectoryBody,
    token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
struct NewSetupLinkBody {
    /// Days the link stays valid, 1 to 30 (default 7).
    valid_days: Option<u32>,
}

/// A setup link for the tenant's admin: single-use; the URL is returned only here.
#[derive(Debug, Serialize, ToSchema)]
struct SetupLinkBody {
    id: String,
    url: String,
    expires_at: String,
}

fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn tenant_named(state: &AppState, slug: &str) -> Result<(store::Tenant, Vec<store::Directory>), ApiFailure> {
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
async fn list_tenants(
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
async fn create_tenant(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewTenantBody>,
) -> Result<(StatusCode, Json<TenantBody>), ApiFailure> {
    use service::tenants::TenantError;
    let tenant = service::tenants::create(&state.store, &body.slug, &body.display_name, now()).await.map_err(
        |error| match error {
            TenantError::SlugTaken(_) => ApiFailure::Conflict(error.to_string()),
            TenantError::Service(error) => error.into(),
            invalid => ApiFailure::BadRequest(invalid.to_string()),
        },
    )?;
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
async fn tenant_detail(
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
    )
)]
async fn add_directory(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<NewDirectoryBody>,
) -> Result<(StatusCode, Json<CreatedDirectoryBody>), ApiFailure> {
    let idp: store::IdentityProvider =
        body.idp.parse().map_err(|e: store::UnknownIdentityProvider| ApiFailure::BadRequest(e.to_string()))?;
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let label = format!("Created through the operator API (key {})", key.0);
    let added = service::tenants::add_directory(&state.store, &tenant.slug, idp, label, now()).await?;
    let (directory, token) = added.ok_or_else(|| ApiFailure::NotFound(format!("there is no tenant {slug}")))?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedDirectoryBody { directory: directory_body(&state, &directory, false), token: token.secret }),
    ))
}

/// Makes a setup link for the tenant's admin.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/setup-links",
    params(("slug" = String, Path, description = "The tenant's name in addresses")),
    request_body = NewSetupLinkBody,
    responses(
        (status = 201, description = "Created; the URL is shown only here", body = SetupLinkBody),
        (status = 400, description = "A lifetime outside 1 to 30 days", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_setup_link(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<NewSetupLinkBody>,
) -> Result<(StatusCode, Json<SetupLinkBody>), ApiFailure> {
    use service::admins::SetupLinkError;
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let lifetime = chrono::Duration::days(i64::from(body.valid_days.unwrap_or(7)));
    let actor = format!("api-key:{}", key.0);
    let link = service::admins::create_setup_link(&state.store, tenant.id, &actor, lifetime, now()).await.map_err(
        |error| match error {
            SetupLinkError::Service(error) => error.into(),
            invalid => ApiFailure::BadRequest(invalid.to_string()),
        },
    )?;
    let body = SetupLinkBody {
        id: link.id.to_string(),
        url: link.url(&state.portal.public_base),
        expires_at: rfc3339(link.expires_at),
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// A webhook endpoint of a tenant (never its secret), with how far it got per directory.
#[derive(Debug, Serialize, ToSchema)]
struct WebhookBody {
    id: String,
    url: String,
    created_at: String,
    /// Set when the endpoint no longer receives events.
    disabled_at: Option<String>,
    directories: Vec<WebhookProgressBody>,
}

/// Where an endpoint is in one directory's event feed.
#[derive(Debug, Serialize, ToSchema)]
struct WebhookProgressBody {
    directory: String,
    /// Events up to this feed cursor are delivered or dead-lettered (0: none yet).
    delivered_up_to: i64,
    /// Failed attempts at the next event; later events of the directory wait for it.
    failed_attempts: i32,
    /// When the next event is tried again (RFC 3339); absent: at the next pass.
    next_attempt_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
struct NewWebhookBody {
    /// Where to POST events: an `https://` (or `http://`) URL on a public address.
    url: String,
}

/// An endpoint just registered with its signing secret (shown only here).
#[derive(Debug, Serialize, ToSchema)]
struct CreatedWebhookBody {
    webhook: WebhookBody,
    /// Verifies the `Scim-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
    secret: String,
}

/// One attempt to deliver one event.
#[derive(Debug, Serialize, ToSchema)]
struct DeliveryBody {
    /// The attempt's id; a `dead` attempt's id names the dead letter to replay.
    id: String,
    directory: String,
    event: String,
    /// The event's cursor in the directory's feed.
    seq: i64,
    /// 1 for the first attempt at the event.
    attempt: i32,
    attempted_at: String,
    /// `delivered`, `failed` (tried again later) or `dead` (given up on: a dead letter).
    outcome: String,
    /// The endpoint's HTTP status; absent when it did not answer.
    status_code: Option<i32>,
    error: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DeliveriesQuery {
    /// Only attempts with this outcome: `delivered`, `failed` or `dead`.
    outcome: Option<String>,
    /// Most attempts to return, 1 to 1000 (default 100).
    limit: Option<String>,
}

/// What a replay did.
#[derive(Debug, Serialize, ToSchema)]
struct ReplayBody {
    /// Whether the endpoint answered 2xx; if not, the dead letter stays as it was.
    delivered: bool,
}

fn webhook_body(endpoint: service::webhooks::EndpointOverview) -> WebhookBody {
    WebhookBody {
        id: endpoint.id.to_string(),
        url: endpoint.url,
        created_at: rfc3339(endpoint.created_at),
        disabled_at: endpoint.disabled_at.map(rfc3339),
        directories: endpoint
            .directories
            .into_iter()
            .map(|progress| WebhookProgressBody {
                directory: progress.directory.to_string(),
                delivered_up_to: progress.delivered_seq,
                failed_attempts: progress.failed_attempts,
                next_attempt_at: progress.next_attempt_at.map(rfc3339),
            })
            .collect(),
    }
}

fn from_webhooks(error: service::webhooks::WebhookError) -> ApiFailure {
    use service::webhooks::WebhookError;
    match error {
        WebhookError::InvalidTarget(detail) => ApiFailure::BadRequest(detail),
        unknown @ (WebhookError::UnknownWebhook(_) | WebhookError::UnknownDeadLetter(_)) => {
            ApiFailure::NotFound(unknown.to_string())
        }
        WebhookError::Service(error) => error.into(),
    }
}

fn webhook_id(text: &str) -> Result<store::WebhookId, ApiFailure> {
    text.parse().map_err(|_| ApiFailure::NotFound(format!("the tenant has no webhook {text}")))
}

fn api_key_actor(key: &OperatorApiKey) -> service::webhooks::Actor {
    service::webhooks::Actor::named(format!("api-key:{}", key.0))
}

/// The tenant's webhook endpoints, oldest first, with their progress per directory.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/webhooks",
    params(("slug" = String, Path, description = "The tenant's name in addresses")),
    responses(
        (status = 200, description = "The endpoints (no secrets)", body = [WebhookBody]),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_webhooks(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Vec<WebhookBody>>, ApiFailure> {
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let endpoints = service::webhooks::endpoints_overview(&state.store, tenant.id).await?;
    Ok(Json(endpoints.into_iter().map(webhook_body).collect()))
}

/// Registers an endpoint that receives the change events of all the tenant's directories.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/webhooks",
    params(("slug" = String, Path, description = "The tenant's name in addresses")),
    request_body = NewWebhookBody,
    responses(
        (status = 201, description = "Registered; the secret is shown only here", body = CreatedWebhookBody),
        (status = 400, description = "Not an http(s) URL, or it points at an internal address", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_webhook(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<NewWebhookBody>,
) -> Result<(StatusCode, Json<CreatedWebhookBody>), ApiFailure> {
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let actor = api_key_actor(&key);
    let issued = service::webhooks::create_endpoint(&state.store, tenant.id, &body.url, &state.webhooks, &actor, now())
        .await
        .map_err(from_webhooks)?;
    let endpoint = service::webhooks::endpoints_overview(&state.store, tenant.id)
        .await?
        .into_iter()
        .find(|endpoint| endpoint.id == issued.id)
        .ok_or(ApiFailure::Unavailable)?;
    Ok((StatusCode::CREATED, Json(CreatedWebhookBody { webhook: webhook_body(endpoint), secret: issued.secret })))
}

/// An endpoint's newest delivery attempts, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/webhooks/{webhook}/deliveries",
    params(
        ("slug" = String, Path, description = "The tenant's name in addresses"),
        ("webhook" = String, Path, description = "The endpoint's id"),
        DeliveriesQuery,
    ),
    responses(
        (status = 200, description = "Attempts, newest first", body = [DeliveryBody]),
        (status = 400, description = "An unknown outcome or a bad limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant or webhook", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn webhook_deliveries(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path((slug, webhook)): Path<(String, String)>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<Json<Vec<DeliveryBody>>, ApiFailure> {
    use store::DeliveryOutcome;
    let outcome = match query.outcome.as_deref().filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => Some(
            [DeliveryOutcome::Delivered, DeliveryOutcome::Failed, DeliveryOutcome::Dead]
                .into_iter()
                .find(|outcome| outcome.as_str() == text)
                .ok_or_else(|| {
                    ApiFailure::BadRequest(format!("outcome must be delivered, failed or dead, not {text:?}"))
                })?,
        ),
    };
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|limit| (1..=1000).contains(limit))
            .ok_or_else(|| ApiFailure::BadRequest(format!("limit must be 1 to 1000, not {text:?}")))?,
    };
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let attempts = service::webhooks::delivery_log(&state.store, tenant.id, webhook_id(&webhook)?, outcome, limit)
        .await
        .map_err(from_webhooks)?;
    Ok(Json(
        attempts
            .into_iter()
            .map(|attempt| DeliveryBody {
                id: attempt.id.to_string(),
                directory: attempt.directory.to_string(),
                event: attempt.event.to_string(),
                seq: attempt.seq,
                attempt: attempt.attempt,
                attempted_at: rfc3339(attempt.attempted_at),
                outcome: attempt.outcome.as_str().to_owned(),
                status_code: attempt.status_code,
                error: attempt.error,
            })
            .collect(),
    ))
}

/// Sends a dead-lettered event again, with its original id.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/webhooks/{webhook}/dead-letters/{delivery}/replay",
    params(
        ("slug" = String, Path, description = "The tenant's name in addresses"),
        ("webhook" = String, Path, description = "The endpoint's id"),
        ("delivery" = String, Path, description = "The id of the `dead` attempt"),
    ),
    responses(
        (status = 200, description = "Sent; whether it was delivered", body = ReplayBody),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant, webhook or dead letter", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn replay_dead_letter(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path((slug, webhook, delivery)): Path<(String, String, String)>,
) -> Result<Json<ReplayBody>, ApiFailure> {
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let webhook = webhook_id(&webhook)?;
    let delivery: store::DeliveryId =
        delivery.parse().map_err(|_| ApiFailure::NotFound(format!("the endpoint has no dead letter {delivery}")))?;
    let actor = api_key_actor(&key);
    let delivered =
        service::webhooks::replay(&state.store, &state.webhooks, tenant.id, webhook, delivery, &actor, now())
            .await
            .map_err(from_webhooks)?;
    Ok(Json(ReplayBody { delivered }))
}
