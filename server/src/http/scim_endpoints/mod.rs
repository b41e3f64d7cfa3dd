//! The SCIM 2.0 endpoints of every directory, under `/scim/v2/{directory}/` (RFC 7644).
//!
//! Every request passes [`audit::authenticate_and_record`] first: it checks the bearer
//! token, opens the directory's [`Endpoint`](service::provisioning::Endpoint) for the
//! caller and records the request in the tenant's audit trail once it is answered.
//! Handlers are adapters: the [`ScimRequest`](extract::ScimRequest) extractor takes the
//! opened endpoint, the body extractor reads SCIM JSON; each handler calls one method of
//! the endpoint and maps the result, and a write puts what it changed into the response's
//! extensions for the audit record. Every failure, including a rejected extractor, is a
//! SCIM error body (RFC 7644 §3.12), mapped once in [`error`].
//!
//! The operations of RFC 7644 §3.2 and where each is served:
//!
//! | Method          | Path                                   | RFC 7644                  | Handler                         |
//! |-----------------|----------------------------------------|---------------------------|---------------------------------|
//! | GET             | `/ServiceProviderConfig`               | §4                        | [`discovery`]                   |
//! | GET             | `/ResourceTypes`, `/ResourceTypes/{n}` | §4                        | [`discovery`]                   |
//! | GET             | `/Schemas`, `/Schemas/{urn}`           | §4                        | [`discovery`]                   |
//! | POST            | `/{type}`                              | §3.3 Creating Resources   | `resources::create`             |
//! | GET             | `/{type}/{id}`                         | §3.4.1 Known Resource     | `resources::get`                |
//! | GET             | `/{type}`                              | §3.4.2 Query Resources    | `resources::list`               |
//! | POST            | `/{type}/.search`                      | §3.4.3 Query by POST      | `resources::search`             |
//! | POST            | `/.search`                             | §3.4.3 Query by POST      | `search_all`                    |
//! | PUT             | `/{type}/{id}`                         | §3.5.1 Replacing with PUT | `resources::replace`            |
//! | PATCH           | `/{type}/{id}`                         | §3.5.2 Modifying by PATCH | `resources::patch`              |
//! | DELETE          | `/{type}/{id}`                         | §3.6 Deleting Resources   | `resources::delete`             |
//! | POST            | `/Bulk`                                | §3.7 Bulk Operations      | `bulk`                          |
//!
//! `{type}` is `Users`, `Groups`, and (draft-abbey-scim-agent-extension-00, where the
//! directory offers non-human identities) `Agents` and `AgenticApplications`.
//!
//! | any             | `/Me`                                  | §3.11 (not implemented)   | `me`                            |

pub(crate) mod audit;
mod authenticate;
mod discovery;
pub(crate) mod error;
mod extract;
mod rate_limit;
mod resources;
mod root;

use std::collections::HashMap;

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::Value;
use service::provisioning::{Precondition, Versioned, Written};

pub(crate) use rate_limit::{DirectoryRateLimits, TenantRateLimits};

use self::error::ScimFailure;
use self::resources::{AgenticApplications as Apps, Agents, Groups, Users};
use super::AppState;

/// The media type of SCIM bodies (RFC 7644 §3.1).
const SCIM_JSON: &str = "application/scim+json";

/// The SCIM routes, behind the middleware that authenticates and records each request.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    let directory = Router::new()
        .route("/ServiceProviderConfig", get(discovery::service_provider_config))
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{name}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
        .route("/Users", get(resources::list::<Users>).post(resources::create::<Users>))
        .route("/Users/.search", post(resources::search::<Users>))
        .route(
            "/Users/{id}",
            get(resources::get::<Users>)
                .put(resources::replace::<Users>)
                .patch(resources::patch::<Users>)
                .delete(resources::delete::<Users>),
        )
        .route("/Groups", get(resources::list::<Groups>).post(resources::create::<Groups>))
        .route("/Groups/.search", post(resources::search::<Groups>))
        .route(
            "/Groups/{id}",
            get(resources::get::<Groups>)
                .put(resources::replace::<Groups>)
                .patch(resources::patch::<Groups>)
                .delete(resources::delete::<Groups>),
        )
        .route("/Agents", get(resources::list::<Agents>).post(resources::create::<Agents>))
        .route("/Agents/.search", post(resources::search::<Agents>))
        .route(
            "/Agents/{id}",
            get(resources::get::<Agents>)
                .put(resources::replace::<Agents>)
                .patch(resources::patch::<Agents>)
                .delete(resources::delete::<Agents>),
        )
        .route("/AgenticApplications", get(resources::list::<Apps>).post(resources::create::<Apps>))
        .route("/AgenticApplications/.search", post(resources::search::<Apps>))
        .route(
            "/AgenticApplications/{id}",
            get(resources::get::<Apps>)
                .put(resources::replace::<Apps>)
                .patch(resources::patch::<Apps>)
                .delete(resources::delete::<Apps>),
        )
        .route("/.search", post(root::search_all))
        .route("/Bulk", post(root::bulk))
        .route("/Me", any(discovery::me))
        .route("/Me/{*rest}", any(discovery::me))
        .fallback(discovery::unknown_endpoint);
    Router::new()
        .nest("/scim/v2/{directory}", directory)
        .layer(axum::middleware::from_fn_with_state(state, audit::authenticate_and_record))
}

/// A SCIM response: JSON with the SCIM media type, and headers.
struct Scim {
    status: StatusCode,
    body: Option<Value>,
    etag: Option<String>,
    location: Option<String>,
}

impl Scim {
    fn ok(body: Value) -> Self {
        Self { status: StatusCode::OK, body: Some(body), etag: None, location: None }
    }

    fn resource(status: StatusCode, resource: Versioned) -> Self {
        let location = resource.body.pointer("/meta/location").and_then(Value::as_str).map(str::to_owned);
        let etag = Some(resource.etag());
        let location = (status == StatusCode::CREATED).then_some(location).flatten();
        Self { status, body: Some(resource.body), etag, location }
    }

    /// A resource read, or `304 Not Modified` without a body when the client's
    /// `If-None-Match` names its current version (RFC 7644 §3.14).
    fn read(resource: Versioned, headers: &HeaderMap) -> Self {
        let etag = resource.etag();
        let unchanged = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*"));
        if unchanged {
            return Self { status: StatusCode::NOT_MODIFIED, body: None, etag: Some(etag), location: None };
        }
        Self::resource(StatusCode::OK, resource)
    }

    fn no_content() -> Self {
        Self { status: StatusCode::NO_CONTENT, body: None, etag: None, location: None }
    }
}

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(etag) = self.etag.and_then(|e| e.parse().ok()) {
            headers.insert(header::ETAG, etag);
        }
        if let Some(location) = self.location.and_then(|l| l.parse().ok()) {
            headers.insert(header::LOCATION, location);
        }
        match self.body {
            Some(body) => {
                headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(SCIM_JSON));
                (self.status, headers, body.to_string()).into_response()
            }
            None => (self.status, headers).into_response(),
        }
    }
}

type ScimResult = Result<Scim, ScimFailure>;

/// The answer to a write, carrying what it changed (in the response's extensions) to the
/// request's audit record, whether or not the write's request succeeded.
fn written<T>(written: Written<T>, answer: impl FnOnce(T) -> Scim) -> Response {
    let mut response = match written.result {
        Ok(value) => answer(value).into_response(),
        Err(error) => ScimFailure::from(error).into_response(),
    };
    response.extensions_mut().insert(written.changes);
    response
}

/// Query parameters by name (read by any case of the name: clients differ in the case they
/// send).
type Params = Query<HashMap<String, String>>;

fn precondition(headers: &HeaderMap) -> Result<Precondition, ScimFailure> {
    let if_match = headers.get(header::IF_MATCH).map(|v| v.to_str().unwrap_or("\"invalid\""));
    Ok(Precondition::from_if_match(if_match)?)
}
