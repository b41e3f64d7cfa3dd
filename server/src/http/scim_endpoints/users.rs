//! `/Users` of a directory (RFC 7644 §3): one handler per operation, each calling one
//! method of the directory's endpoint with `ResourceKind::User`.

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use service::provisioning::{ListQuery, Projection};
use store::ResourceKind;

use super::error::ScimFailure;
use super::extract::{ScimJson, ScimRequest};
use super::{Params, Scim, ScimResult, precondition, written};

/// RFC 7644 §3.4.2 Query Resources: `GET /Users`
pub(super) async fn list_users(request: ScimRequest, Query(params): Params) -> ScimResult {
    let query = ListQuery::from_params(&params)?;
    Ok(Scim::ok(request.endpoint.list(ResourceKind::User, &query).await?))
}

/// RFC 7644 §3.4.3 Querying Resources Using HTTP POST: `POST /Users/.search`
pub(super) async fn search_users(request: ScimRequest, ScimJson(body): ScimJson) -> ScimResult {
    let query = ListQuery::from_search_body(&body)?;
    Ok(Scim::ok(request.endpoint.list(ResourceKind::User, &query).await?))
}

/// RFC 7644 §3.3 Creating Resources: `POST /Users`
pub(super) async fn create_user(
    request: ScimRequest,
    Query(params): Params,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimFailure> {
    let projection = Projection::from_params(&params)?;
    let created = request.endpoint.create(ResourceKind::User, &body, &projection, request.now).await;
    Ok(written(created, |user| Scim::resource(StatusCode::CREATED, user)))
}

/// RFC 7644 §3.4.1 Retrieving a Known Resource: `GET /Users/{id}`, with §3.14's
/// `If-None-Match`.
pub(super) async fn get_user(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
) -> ScimResult {
    let user = request.endpoint.get(ResourceKind::User, &id, &Projection::from_params(&params)?).await?;
    Ok(Scim::read(user, &headers))
}

/// RFC 7644 §3.5.1 Replacing with PUT: `PUT /Users/{id}`, with §3.14's `If-Match`.
pub(super) async fn replace_user(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimFailure> {
    let (precondition, projection) = (precondition(&headers)?, Projection::from_params(&params)?);
    let replaced =
        request.endpoint.replace(ResourceKind::User, &id, &body, &precondition, &projection, request.now).await;
    Ok(written(replaced, |user| Scim::resource(StatusCode::OK, user)))
}

/// RFC 7644 §3.5.2 Modifying with PATCH: `PATCH /Users/{id}`, with §3.14's `If-Match`.
pub(super) async fn patch_user(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimFailure> {
    let (precondition, projection) = (precondition(&headers)?, Projection::from_params(&params)?);
    let patched = request.endpoint.patch(ResourceKind::User, &id, &body, &precondition, &projection, request.now).await;
    Ok(written(patched, |patched| match patched {
        Some(user) => Scim::resource(StatusCode::OK, user),
        None => Scim::no_content(),
    }))
}

/// RFC 7644 §3.6 Deleting Resources: `DELETE /Users/{id}`, with §3.14's `If-Match`.
pub(super) async fn delete_user(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ScimFailure> {
    let deleted = request.endpoint.delete(ResourceKind::User, &id, &precondition(&headers)?, request.now).await;
    Ok(written(deleted, |()| Scim::no_content()))
}
