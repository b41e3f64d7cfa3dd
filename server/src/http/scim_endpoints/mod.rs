//! The SCIM 2.0 endpoints of every directory, under `/scim/v2/{directory}/` (RFC 7644).
//!
//! Handlers are adapters: the [`ScimRequest`] extractor authenticates the bearer token and
//! opens the directory's [`Endpoint`]; the body extractor reads SCIM JSON; each handler calls
//! one method of the endpoint and maps the result. Every failure, including a rejected
//! extractor, is a SCIM error body (RFC 7644 §3.12), mapped once in [`error`].

pub(crate) mod audit;
pub(crate) mod error;
mod extract;
mod rate_limit;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use service::provisioning::{ListQuery, Precondition, Projection, Versioned};
use store::ResourceKind;

pub(crate) use rate_limit::DirectoryRateLimits;

use self::error::ScimFailure;
use self::extract::{ScimJson, ScimRequest};
use super::AppState;

/// The media type of SCIM bodies (RFC 7644 §3.1).
const SCIM_JSON: &str = "application/scim+json";

pub(crate) fn router() -> Router<AppState> {
    let directory = Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{name}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema))
        .route("/Users", get(list_users).post(create_user))
        .route("/Users/.search", post(search_users))
        .route("/Users/{id}", get(get_user).put(replace_user).patch(patch_user).delete(delete_user))
        .route("/Groups", get(list_groups).post(create_group))
        .route("/Groups/.search", post(search_groups))
        .route("/Groups/{id}", get(get_group).put(replace_group).patch(patch_group).delete(delete_group))
        .route("/.search", post(search_all))
        .route("/Bulk", post(bulk))
        .route("/Me", axum::routing::any(me))
        .route("/Me/{*rest}", axum::routing::any(me))
        .fallback(unknown_endpoint);
    Router::new().nest("/scim/v2/{directory}", directory)
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

#[allow(clippy::disallowed_methods)] // the clock is read at the edge and passed inward
fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

async fn service_provider_config(request: ScimRequest) -> ScimResult {
    Ok(Scim::ok(request.endpoint.service_provider_config()))
}

async fn resource_types(request: ScimRequest) -> ScimResult {
    Ok(Scim::ok(request.endpoint.resource_types()))
}

async fn resource_type(request: ScimRequest, Path((_, name)): Path<(String, String)>) -> ScimResult {
    Ok(Scim::ok(request.endpoint.resource_type(&name)?))
}

async fn schemas(request: ScimRequest) -> ScimResult {
    Ok(Scim::ok(request.endpoint.schemas()))
}

async fn schema(request: ScimRequest, Path((_, id)): Path<(String, String)>) -> ScimResult {
    Ok(Scim::ok(request.endpoint.schema(&id)?))
}

async fn bulk(request: ScimRequest, ScimJson(body): ScimJson) -> ScimResult {
    Ok(Scim::ok(request.endpoint.bulk(&body, now()).await?))
}

async fn search_all(request: ScimRequest, ScimJson(body): ScimJson) -> ScimResult {
    let query = search_query(&body)?;
    Ok(Scim::ok(request.endpoint.search_all(&query).await?))
}

/// RFC 7644 §3.11: `/Me` is an alias for the authenticated subject; here that subject is
/// an identity provider's token, not a user, so the endpoint is not implemented.
async fn me(_request: ScimRequest) -> ScimResult {
    Err(scim::error::ScimError::NotImplemented(
        "/Me is not supported: the caller is an identity provider's token, not a user".to_owned(),
    )
    .into())
}

async fn unknown_endpoint(_request: ScimRequest) -> ScimResult {
    Err(scim::error::ScimError::NotFound("no such SCIM endpoint".to_owned()).into())
}

/// Query parameters by lower-cased name: clients differ in the case they send.
type Params = Query<HashMap<String, String>>;

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

pub(crate) fn projection(params: &HashMap<String, String>) -> Result<Projection, ScimFailure> {
    Ok(Projection::parse(param(params, "attributes"), param(params, "excludedAttributes"))?)
}

fn precondition(headers: &HeaderMap) -> Result<Precondition, ScimFailure> {
    let if_match = headers.get(header::IF_MATCH).map(|v| v.to_str().unwrap_or("\"invalid\""));
    Ok(Precondition::from_if_match(if_match)?)
}

pub(crate) fn list_query(params: &HashMap<String, String>) -> Result<ListQuery, ScimFailure> {
    let integer = |name: &str| -> Result<Option<i64>, ScimFailure> {
        param(params, name)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    scim::error::ScimError::InvalidValue(format!("{name} must be an integer, not {v:?}")).into()
                })
            })
            .transpose()
    };
    Ok(ListQuery {
        filter: param(params, "filter").map(str::to_owned),
        sort_by: param(params, "sortBy").map(str::to_owned),
        sort_order: param(params, "sortOrder").map(str::to_owned),
        start_index: integer("startIndex")?,
        count: integer("count")?,
        cursor: param(params, "cursor").map(str::to_owned),
        projection: projection(params)?,
    })
}

/// The body of `POST …/.search` (RFC 7644 §3.4.3) as list parameters.
fn search_query(body: &Value) -> Result<ListQuery, ScimFailure> {
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    let integer = |name: &str| -> Result<Option<i64>, ScimFailure> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| scim::error::ScimError::InvalidValue(format!("{name} must be an integer")).into()),
        }
    };
    let list = |name: &str| -> Option<String> {
        match body.get(name) {
            Some(Value::Array(items)) => Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        }
    };
    Ok(ListQuery {
        filter: text("filter"),
        sort_by: text("sortBy"),
        sort_order: text("sortOrder"),
        start_index: integer("startIndex")?,
        count: integer("count")?,
        cursor: text("cursor"),
        projection: Projection::parse(list("attributes").as_deref(), list("excludedAttributes").as_deref())?,
    })
}

macro_rules! resource_handlers {
    ($kind:expr, $list:ident, $search:ident, $create:ident, $get:ident, $replace:ident, $patch:ident, $delete:ident) => {
        async fn $list(request: ScimRequest, Query(params): Params) -> ScimResult {
            let query = list_query(&params)?;
            Ok(Scim::ok(request.endpoint.list($kind, &query).await?))
        }

        async fn $search(request: ScimRequest, ScimJson(body): ScimJson) -> ScimResult {
            let query = search_query(&body)?;
            Ok(Scim::ok(request.endpoint.list($kind, &query).await?))
        }

        async fn $create(request: ScimRequest, Query(params): Params, ScimJson(body): ScimJson) -> ScimResult {
            let projection = projection(&params)?;
            let created = request.endpoint.create($kind, &body, &projection, now()).await?;
            Ok(Scim::resource(StatusCode::CREATED, created))
        }

        async fn $get(
            request: ScimRequest,
            Path((_, id)): Path<(String, String)>,
            Query(params): Params,
            headers: HeaderMap,
        ) -> ScimResult {
            let resource = request.endpoint.get($kind, &id, &projection(&params)?).await?;
            // RFC 7644 §3.14: a matching If-None-Match answers 304 without a body.
            let etag = resource.etag();
            let unchanged = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*"));
            if unchanged {
                return Ok(Scim { status: StatusCode::NOT_MODIFIED, body: None, etag: Some(etag), location: None });
            }
            Ok(Scim::resource(StatusCode::OK, resource))
        }

        async fn $replace(
            request: ScimRequest,
            Path((_, id)): Path<(String, String)>,
            Query(params): Params,
            headers: HeaderMap,
            ScimJson(body): ScimJson,
        ) -> ScimResult {
            let (precondition, projection) = (precondition(&headers)?, projection(&params)?);
            let replaced = request.endpoint.replace($kind, &id, &body, &precondition, &projection, now()).await?;
            Ok(Scim::resource(StatusCode::OK, replaced))
        }

        async fn $patch(
            request: ScimRequest,
            Path((_, id)): Path<(String, String)>,
            Query(params): Params,
            headers: HeaderMap,
            ScimJson(body): ScimJson,
        ) -> ScimResult {
            let (precondition, projection) = (precondition(&headers)?, projection(&params)?);
            let patched = request.endpoint.patch($kind, &id, &body, &precondition, &projection, now()).await?;
            Ok(match patched {
                Some(resource) => Scim::resource(StatusCode::OK, resource),
                None => Scim::no_content(),
            })
        }

        async fn $delete(
            request: ScimRequest,
            Path((_, id)): Path<(String, String)>,
            headers: HeaderMap,
        ) -> ScimResult {
            request.endpoint.delete($kind, &id, &precondition(&headers)?, now()).await?;
            Ok(Scim::no_content())
        }
    };
}

resource_handlers!(
    ResourceKind::User,
    list_users,
    search_users,
    create_user,
    get_user,
    replace_user,
    patch_user,
    delete_user
);
resource_handlers!(
    ResourceKind::Group,
    list_groups,
    search_groups,
    create_group,
    get_group,
    replace_group,
    patch_group,
    delete_group
);
