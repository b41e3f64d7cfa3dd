//! `/Groups` of a directory (RFC 7644 §3): one handler per operation, each calling one
//! method of the directory's endpoint with `ResourceKind::Group`.

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use service::provisioning::{ListQuery, Projection};
use store::ResourceKind;

use super::error::ScimFailure;
use super::extract::{ScimJson, ScimRequest};
use super::{Params, Scim, ScimResult, precondition, written};

/// RFC 7644 §3.4.2 Query Resources: `GET /Groups`
pub(super) async fn list_groups(request: ScimRequest, Query(params): Params) -> ScimResult {
    let query = ListQuery::from_params(&params)?;
    Ok(Scim::ok(request.endpoint.list(ResourceKind::Group, &query).await?))
}

/// RFC 7644 §3.4.3 Querying Resources Using HTTP POST: `POST /Groups/.search`
pub(super) async fn search_groups(request: ScimRequest, ScimJson(body): ScimJson) -> ScimResult {
    let query = ListQuery::from_search_body(&body)?;
    Ok(Scim::ok(request.endpoint.list(ResourceKind::Group, &query).await?))
}

/// RFC 7644 §3.3 Creating Resources: `POST /Groups`
pub(super) async fn create_group(
    request: ScimRequest,
    Query(params): Params,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimFailure> {
    let projection = Projection::from_params(&params)?;
    let created = request.endpoint.create(ResourceKind::Group, &body, &projection, request.now).await;
    Ok(written(created, |group| Scim::resource(StatusCode::CREATED, group)))
}

/// RFC 7644 §3.4.1 Retrieving a Known Resource: `GET /Groups/{id}`, with §3.14's
/// `If-None-Match`.
pub(super) async fn get_group(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
) -> ScimResult {
    let group = request.endpoint.get(ResourceKind::Group, &id, &Projection::from_params(&params)?).await?;
    Ok(Scim::read(group, &headers))
}

/// RFC 7644 §3.5.1 Replacing with PUT: `PUT /Groups/{id}`, with §3.14's `If-Match`.
pub(super) async fn replace_group(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimFailure> {
    let (precondition, projection) = (precondition(&headers)?, Projection::from_params(&params)?);
    let replaced =
        request.endpoint.replace(ResourceKind::Group, &id, &body, &precondition, &projection, request.now).await;
    Ok(written(replaced, |group| Scim::resource(StatusCode::OK, group)))
}

/// RFC 7644 §3.5.2 Modifying with PATCH: `PATCH /Groups/{id}`, with §3.14's `If-Match`.
pub(super) async fn patch_group(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimFailure> {
    let (precondition, projection) = (precondition(&headers)?, Projection::from_params(&params)?);
    let patched =
        request.endpoint.patch(ResourceKind::Group, &id, &body, &precondition, &projection, request.now).await;
    Ok(written(patched, |patched| match patched {
        Some(group) => Scim::resource(StatusCode::OK, group),
        None => Scim::no_content(),
    }))
}

/// RFC 7644 §3.6 Deleting Resources: `DELETE /Groups/{id}`, with §3.14's `If-Match`.
pub(super) async fn delete_group(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ScimFailure> {
    let deleted = request.endpoint.delete(ResourceKind::Group, &id, &precondition(&headers)?, request.now).await;
    Ok(written(deleted, |()| Scim::no_content()))
}
