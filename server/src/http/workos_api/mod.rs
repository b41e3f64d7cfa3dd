//! The WorkOS-compatible Directory Sync API, at the root of the main listener (the official
//! SDKs resolve every path from the root of their host): organizations, directories,
//! directory users and groups ([`directory`]) and events ([`events`]), read through
//! [`service::directory_sync`], and Admin Portal links ([`portal_link`]). Authenticated with
//! operator API keys, as the operator API under `/api/v1` is.
//!
//! The SDKs read errors as JSON objects `{message, code}` (a 422 also needs an `errors`
//! array), take 401 as a bad key whatever the body says, and find the request id only in
//! the `X-Request-ID` header, which every answer carries.

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde::Serialize;
use serde_json::json;
use service::ServiceError;
use service::api_keys::ApiArea;
use service::directory_sync::{Cursor, DEFAULT_LIMIT, MAX_LIMIT, Order, Page, PageRequest, SyncError};
use store::ApiKeyId;

use super::AppState;
use super::api_access::{Refusal, in_area, key_for};

mod directory;
mod events;
mod idempotency;
mod portal_link;
mod webhook_endpoints;

/// Every route of the compatible API; POSTs answer a retry with the same
/// `Idempotency-Key` as they answered the first request ([`idempotency`]).
pub(crate) fn router(state: AppState) -> Router<AppState> {
    use ApiArea::{DirectoryData, Tenants, Webhooks};
    Router::new()
        .route("/organizations", in_area(Tenants, get(directory::list_organizations)))
        .route("/organizations/{id}", in_area(Tenants, get(directory::get_organization)))
        .route(
            "/organizations/external_id/{external_id}",
            in_area(Tenants, get(directory::get_organization_by_external_id)),
        )
        .route("/directories", in_area(Tenants, get(directory::list_directories)))
        .route("/directories/{id}", in_area(Tenants, get(directory::get_directory).delete(directory::delete_directory)))
        .route("/directories/{id}/users", in_area(DirectoryData, get(directory::list_directory_users)))
        .route("/directories/{id}/users/{user}", in_area(DirectoryData, get(directory::get_directory_user)))
        .route("/directories/{id}/groups", in_area(DirectoryData, get(directory::list_directory_groups)))
        .route("/directories/{id}/groups/{group}", in_area(DirectoryData, get(directory::get_directory_group)))
        .route("/directory_users", in_area(DirectoryData, get(directory::list_users)))
        .route("/directory_users/{id}", in_area(DirectoryData, get(directory::get_user)))
        .route("/directory_groups", in_area(DirectoryData, get(directory::list_groups)))
        .route("/directory_groups/{id}", in_area(DirectoryData, get(directory::get_group)))
        .route("/events", in_area(DirectoryData, get(events::list_events)))
        .route("/portal/generate_link", in_area(Tenants, post(portal_link::generate_link)))
        .route(
            "/webhook_endpoints",
            in_area(Webhooks, get(webhook_endpoints::list_endpoints).post(webhook_endpoints::create_endpoint)),
        )
        .route(
            "/webhook_endpoints/{id}",
            in_area(Webhooks, patch(webhook_endpoints::update_endpoint).delete(webhook_endpoints::delete_endpoint)),
        )
        .route_layer(axum::middleware::from_fn_with_state(state, idempotency::idempotent))
}

/// Why a request failed, answered as the SDKs read it.
pub(crate) enum Failure {
    Unauthorized,
    /// 403: a good key that does not reach the route (why, in words).
    Forbidden(String),
    /// 409: the request conflicts with one under way.
    Conflict {
        message: String,
        code: &'static str,
    },
    /// 413: the body is larger than any request of this API needs.
    TooLarge,
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
            Failure::Forbidden(message) => (StatusCode::FORBIDDEN, json!({ "message": message, "code": "forbidden" })),
            Failure::Conflict { message, code } => (StatusCode::CONFLICT, json!({ "message": message, "code": code })),
            Failure::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({ "message": "The request body is too large.", "code": "payload_too_large" }),
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

/// A request authenticated with an operator API key: the key's id, the actor of what the
/// request changes.
pub(crate) struct ApiKey(pub(crate) ApiKeyId);

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match key_for(parts, state).await {
            Ok(key) => Ok(ApiKey(key.id)),
            Err(Refusal::Unauthorized) => Err(Failure::Unauthorized),
            Err(Refusal::Forbidden(reason)) => Err(Failure::Forbidden(reason)),
            Err(Refusal::Service(error)) => Err(error.into()),
        }
    }
}

/// The operator API key a request carries, whatever it reaches (the idempotency layer
/// keeps answers per key; the route's extractor checks the reach).
async fn authenticate(state: &AppState, headers: &axum::http::HeaderMap) -> Result<ApiKeyId, Failure> {
    let presented = super::bearer_credential(headers).ok_or(Failure::Unauthorized)?;
    match service::api_keys::authenticate_api_key(&state.store, presented, state.effects.now()).await {
        Ok(key) => Ok(key.id),
        Err(service::api_keys::ApiKeyError::Unauthorized) => Err(Failure::Unauthorized),
        Err(service::api_keys::ApiKeyError::Service(error)) => Err(error.into()),
    }
}

/// A JSON body; one the request's type cannot take is a 422 saying why.
pub(super) struct JsonBody<T>(pub(super) T);

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<AppState> for JsonBody<T> {
    type Rejection = Failure;

    async fn from_request(request: axum::extract::Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(Failure::Sync(SyncError::Invalid { field: "body", message: rejection.body_text() })),
        }
    }
}

/// The query parameters; a malformed value is a 422 naming its parameter, not axum's text.
pub(super) struct Params(Vec<(String, String)>);

impl FromRequestParts<AppState> for Params {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        // Decoding into text cannot fail: a stray `%` is kept as it is.
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri).unwrap_or(Query(Vec::new()));
        Ok(Params(pairs))
    }
}

impl Params {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.as_str()).filter(|v| !v.is_empty())
    }

    /// `limit`, `order`, `before` and `after`.
    pub(super) fn page(&self) -> Result<PageRequest<Cursor<String>>, Failure> {
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

    pub(super) fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// A list parameter: comma-separated (as the SDKs send it) and/or repeated.
    pub(super) fn list(&self, name: &str) -> Vec<String> {
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
pub(super) struct List<T> {
    object: &'static str,
    data: Vec<T>,
    list_metadata: ListMetadata,
}

#[derive(Serialize)]
struct ListMetadata {
    before: Option<String>,
    after: Option<String>,
}

pub(super) fn list<T: Serialize>(page: Page<T>) -> Json<List<T>> {
    Json(List {
        object: "list",
        data: page.data,
        list_metadata: ListMetadata { before: page.before, after: page.after },
    })
}

pub(super) type Answer<T> = Result<Json<T>, Failure>;
