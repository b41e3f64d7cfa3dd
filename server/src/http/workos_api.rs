//! The WorkOS-compatible Directory Sync API, at the root of the main listener (the official
//! SDKs resolve every path from the root of their host): organizations, directories, and
//! directory users and groups, read through [`service::directory_sync`]. Authenticated with
//! operator API keys, as the operator API under `/api/v1` is.
//!
//! The SDKs read errors as JSON objects `{message, code}` (a 422 also needs an `errors`
//! array), take 401 as a bad key whatever the body says, and find the request id only in
//! the `X-Request-ID` header, which every answer carries.

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;
use service::ServiceError;
use service::api_keys::{self, ApiKeyError};
use service::directory_sync::{
    self, Cursor, DEFAULT_LIMIT, GroupQuery, MAX_LIMIT, Order, Page, PageRequest, SyncError, UserQuery,
};

use super::AppState;

/// Every route of the compatible API.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/organizations", get(list_organizations))
        .route("/organizations/{id}", get(get_organization))
        .route("/organizations/external_id/{external_id}", get(get_organization_by_external_id))
        .route("/directories", get(list_directories))
        .route("/directories/{id}", get(get_directory))
        .route("/directories/{id}/users", get(list_directory_users))
        .route("/directories/{id}/users/{user}", get(get_directory_user))
        .route("/directories/{id}/groups", get(list_directory_groups))
        .route("/directories/{id}/groups/{group}", get(get_directory_group))
        .route("/directory_users", get(list_users))
        .route("/directory_users/{id}", get(get_user))
        .route("/directory_groups", get(list_groups))
        .route("/directory_groups/{id}", get(get_group))
        .route("/events", get(list_events))
}

/// Why a request failed, answered as the SDKs read it.
pub(crate) enum Failure {
    Unauthorized,
    Sync(SyncError),
}

impl From<SyncError> for Failure {
    fn from(error: SyncError) -> Self {
        Failure::Sync(error)
    }
}

impl From<ServiceError> for Failure {
    fn from(error: ServiceError) -> Self {
        Failure::Sync(SyncError::Service(error))
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            Failure::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                json!({ "message": "Send an operator API key as `Authorization: Bearer scimk_…`.", "code": "unauthorized" }),
            ),
            Failure::Sync(SyncError::NotFound(what)) => {
                (StatusCode::NOT_FOUND, json!({ "message": format!("{what} not found"), "code": "entity_not_found" }))
            }
            Failure::Sync(SyncError::Invalid { field, message }) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({
                    "message": message,
                    "code": "invalid_request_parameters",
                    "errors": [{ "field": field, "code": format!("{field}_invalid") }],
                }),
            ),
            Failure::Sync(SyncError::Service(error)) => {
                let status = match error {
                    ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                    ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
                };
                (status, json!({ "message": error.to_string(), "code": "server_error" }))
            }
        };
        (status, Json(body)).into_response()
    }
}

/// A request authenticated with an operator API key.
pub(crate) struct ApiKey;

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = super::bearer_credential(&parts.headers).ok_or(Failure::Unauthorized)?;
        match api_keys::authenticate_api_key(&state.store, presented, state.effects.now()).await {
            Ok(_) => Ok(ApiKey),
            Err(ApiKeyError::Unauthorized) => Err(Failure::Unauthorized),
            Err(ApiKeyError::Service(error)) => Err(error.into()),
        }
    }
}

/// The query parameters; a malformed value is a 422 naming its parameter, not axum's text.
struct Params(Vec<(String, String)>);

impl FromRequestParts<AppState> for Params {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        // Decoding into text cannot fail: a stray `%` is kept as it is.
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri).unwrap_or(Query(Vec::new()));
        Ok(Params(pairs))
    }
}

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.as_str()).filter(|v| !v.is_empty())
    }

    /// `limit`, `order`, `before` and `after`.
    fn page(&self) -> Result<PageRequest<Cursor<String>>, Failure> {
        let invalid = |field: &'static str, message: String| Failure::Sync(SyncError::Invalid { field, message });
        let limit = match self.get("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                .ok_or_else(|| invalid("limit", format!("`limit` must be a whole number from 1 to {MAX_LIMIT}")))?,
        };
        let order = match self.get("order") {
            None => Order::default(),
            Some(text) => {
                Order::parse(text).ok_or_else(|| invalid("order", "`order` must be asc or desc".to_owned()))?
            }
        };
        let cursor = match (self.get("before"), self.get("after")) {
            (Some(_), Some(_)) => return Err(invalid("before", "send `before` or `after`, not both".to_owned())),
            (Some(before), None) => Some(Cursor::Before(before.to_owned())),
            (None, Some(after)) => Some(Cursor::After(after.to_owned())),
            (None, None) => None,
        };
        Ok(PageRequest { limit, order, cursor })
    }

    fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// A list parameter: comma-separated (as the SDKs send it) and/or repeated.
    fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .flat_map(|(_, value)| value.split(','))
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A list as the SDKs read it.
#[derive(Serialize)]
struct List<T> {
    object: &'static str,
    data: Vec<T>,
    list_metadata: ListMetadata,
}

#[derive(Serialize)]
struct ListMetadata {
    before: Option<String>,
    after: Option<String>,
}

fn list<T: Serialize>(page: Page<T>) -> Json<List<T>> {
    Json(List {
        object: "list",
        data: page.data,
        list_metadata: ListMetadata { before: page.before, after: page.after },
    })
}

type Answer<T> = Result<Json<T>, Failure>;

/// `GET /organizations` (`domains`, comma-separated; paging).
async fn list_organizations(
    _: ApiKey,
    State(state): State<AppState>,
    params: Params,
) -> Answer<List<directory_sync::Organization>> {
    let domains = params.list("domains");
    Ok(list(directory_sync::list_organizations(&state.store, &domains, &params.page()?).await?))
}

async fn get_organization(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<directory_sync::Organization> {
    Ok(Json(directory_sync::organization(&state.store, &id).await?))
}

async fn get_organization_by_external_id(
    _: ApiKey,
    State(state): State<AppState>,
    Path(external_id): Path<String>,
) -> Answer<directory_sync::Organization> {
    Ok(Json(directory_sync::organization_by_external_id(&state.store, &external_id).await?))
}

/// `GET /directories` (`organization_id`, `search`; paging).
async fn list_directories(
    _: ApiKey,
    State(state): State<AppState>,
    params: Params,
) -> Answer<List<directory_sync::SyncDirectory>> {
    let page = params.page()?;
    let found =
        directory_sync::list_directories(&state.store, params.get("organization_id"), params.get("search"), &page)
            .await?;
    Ok(list(found))
}

async fn get_directory(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<directory_sync::SyncDirectory> {
    Ok(Json(directory_sync::directory(&state.store, &id).await?))
}

/// `GET /directories/{id}/users` (`group`, `email`, `idp_id`; paging): users without their
/// groups, as WorkOS answers on this route.
async fn list_directory_users(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Answer<List<directory_sync::DirectoryUser>> {
    let query = UserQuery {
        directory: Some(id),
        group: params.owned("group"),
        email: params.owned("email"),
        idp_id: params.owned("idp_id"),
        with_groups: false,
    };
    Ok(list(directory_sync::list_users(&state.store, &query, &params.page()?).await?))
}

#[derive(Deserialize)]
struct InDirectory {
    id: String,
    user: Option<String>,
    group: Option<String>,
}

async fn get_directory_user(
    _: ApiKey,
    State(state): State<AppState>,
    Path(path): Path<InDirectory>,
) -> Answer<directory_sync::DirectoryUser> {
    let user = path.user.unwrap_or_default();
    Ok(Json(directory_sync::user(&state.store, &user, Some(&path.id)).await?))
}

/// `GET /directories/{id}/groups` (`user`; paging).
async fn list_directory_groups(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Answer<List<directory_sync::DirectoryGroup>> {
    let query = GroupQuery { directory: Some(id), user: params.owned("user") };
    Ok(list(directory_sync::list_groups(&state.store, &query, &params.page()?).await?))
}

async fn get_directory_group(
    _: ApiKey,
    State(state): State<AppState>,
    Path(path): Path<InDirectory>,
) -> Answer<directory_sync::DirectoryGroup> {
    let group = path.group.unwrap_or_default();
    Ok(Json(directory_sync::group(&state.store, &group, Some(&path.id)).await?))
}

/// `GET /directory_users` (`directory` and/or `group`; paging): users with their groups.
async fn list_users(
    _: ApiKey,
    State(state): State<AppState>,
    params: Params,
) -> Answer<List<directory_sync::DirectoryUser>> {
    let query = UserQuery {
        directory: params.owned("directory"),
        group: params.owned("group"),
        email: None,
        idp_id: None,
        with_groups: true,
    };
    Ok(list(directory_sync::list_users(&state.store, &query, &params.page()?).await?))
}

async fn get_user(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<directory_sync::DirectoryUser> {
    Ok(Json(directory_sync::user(&state.store, &id, None).await?))
}

/// `GET /directory_groups` (`directory` and/or `user`; paging).
async fn list_groups(
    _: ApiKey,
    State(state): State<AppState>,
    params: Params,
) -> Answer<List<directory_sync::DirectoryGroup>> {
    let query = GroupQuery { directory: params.owned("directory"), user: params.owned("user") };
    Ok(list(directory_sync::list_groups(&state.store, &query, &params.page()?).await?))
}

async fn get_group(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<directory_sync::DirectoryGroup> {
    Ok(Json(directory_sync::group(&state.store, &id, None).await?))
}

/// `GET /events` (`events`, required; `organization_id`, `range_start`, `range_end`,
/// `after`, `limit`): the deployment's Directory Sync events, oldest first.
async fn list_events(
    _: ApiKey,
    State(state): State<AppState>,
    params: Params,
) -> Answer<List<directory_sync::SyncEvent>> {
    let page = params.page()?;
    let query = directory_sync::EventQuery {
        events: params.list("events"),
        organization: params.owned("organization_id"),
        range_start: params.owned("range_start"),
        range_end: params.owned("range_end"),
        after: params.owned("after"),
        limit: page.limit,
    };
    Ok(list(directory_sync::list_events(&state.store, &query).await?))
}
