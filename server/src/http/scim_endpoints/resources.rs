//! `/Users`, `/Groups` (RFC 7644 §3) and `/Agents`, `/AgenticApplications`
//! (draft-abbey-scim-agent-extension-00 §3, §4, with RFC 7644 §3's operations) of a
//! directory: one set of handlers for every resource type, each calling one method of the
//! directory's endpoint with the kind its route serves. The agentic kinds are first checked
//! to be served at all (they are where the directory offers non-human identities).

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use service::provisioning::{ListQuery, Projection};
use store::ResourceKind;

use super::error::ScimFailure;
use super::extract::{ScimJson, ScimRequest};
use super::{Params, Scim, ScimResult, precondition, written};

/// `404` for an agentic kind the directory does not serve; users and groups always are
/// (known when compiled, so their requests pay nothing for it).
fn served<K: Served>(request: &ScimRequest) -> Result<(), ScimFailure> {
    if K::KIND.is_agentic() {
        request.endpoint.require_offered(K::KIND)?;
    }
    Ok(())
}

/// Which kind a route serves.
pub(super) trait Served {
    const KIND: ResourceKind;
}

/// `/Users`
pub(super) struct Users;

impl Served for Users {
    const KIND: ResourceKind = ResourceKind::User;
}

/// `/Groups`
pub(super) struct Groups;

impl Served for Groups {
    const KIND: ResourceKind = ResourceKind::Group;
}

/// `/Agents`
pub(super) struct Agents;

impl Served for Agents {
    const KIND: ResourceKind = ResourceKind::Agent;
}

/// `/AgenticApplications`
pub(super) struct AgenticApplications;

impl Served for AgenticApplications {
    const KIND: ResourceKind = ResourceKind::AgenticApplication;
}

/// RFC 7644 §3.4.2 Query Resources: `GET /Users`, `/Groups`, `/Agents`, `/AgenticApplications`
pub(super) async fn list<K: Served>(request: ScimRequest, Query(params): Params) -> ScimResult {
    served::<K>(&request)?;
    let query = ListQuery::from_params(&params)?;
    Ok(Scim::ok(request.endpoint.list(K::KIND, &query).await?))
}

/// RFC 7644 §3.4.3 Querying Resources Using HTTP POST: `POST /Users/.search`
pub(super) async fn search<K: Served>(request: ScimRequest, ScimJson(body): ScimJson) -> ScimResult {
    served::<K>(&request)?;
    let query = ListQuery::from_search_body(&body)?;
    Ok(Scim::ok(request.endpoint.list(K::KIND, &query).await?))
}

/// RFC 7644 §3.3 Creating Resources: `POST /Users`
pub(super) async fn create<K: Served>(
    request: ScimRequest,
    Query(params): Params,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimFailure> {
    served::<K>(&request)?;
    let projection = Projection::from_params(&params)?;
    let created = request.endpoint.create(K::KIND, &body, &projection, request.now).await;
    Ok(written(created, |resource| Scim::resource(StatusCode::CREATED, resource)))
}

/// RFC 7644 §3.4.1 Retrieving a Known Resource: `GET /Users/{id}`, with §3.14's
/// `If-None-Match`.
pub(super) async fn get<K: Served>(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
) -> ScimResult {
    served::<K>(&request)?;
    let resource = request.endpoint.get(K::KIND, &id, &Projection::from_params(&params)?).await?;
    Ok(Scim::read(resource, &headers))
}

/// RFC 7644 §3.5.1 Replacing with PUT: `PUT /Users/{id}`, with §3.14's `If-Match`.
pub(super) async fn replace<K: Served>(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimFailure> {
    served::<K>(&request)?;
    let (precondition, projection) = (precondition(&headers)?, Projection::from_params(&params)?);
    let replaced = request.endpoint.replace(K::KIND, &id, &body, &precondition, &projection, request.now).await;
    Ok(written(replaced, |resource| Scim::resource(StatusCode::OK, resource)))
}

/// RFC 7644 §3.5.2 Modifying with PATCH: `PATCH /Users/{id}`, with §3.14's `If-Match`.
pub(super) async fn patch<K: Served>(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    Query(params): Params,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> Result<Response, ScimFailure> {
    served::<K>(&request)?;
    let (precondition, projection) = (precondition(&headers)?, Projection::from_params(&params)?);
    let patched = request.endpoint.patch(K::KIND, &id, &body, &precondition, &projection, request.now).await;
    Ok(written(patched, |patched| match patched {
        Some(resource) => Scim::resource(StatusCode::OK, resource),
        None => Scim::no_content(),
    }))
}

/// RFC 7644 §3.6 Deleting Resources: `DELETE /Users/{id}`, with §3.14's `If-Match`.
pub(super) async fn delete<K: Served>(
    request: ScimRequest,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ScimFailure> {
    served::<K>(&request)?;
    let deleted = request.endpoint.delete(K::KIND, &id, &precondition(&headers)?, request.now).await;
    Ok(written(deleted, |()| Scim::no_content()))
}
