//! A directory's users and groups, read-only, as the SCIM endpoint shows them: the same
//! filter, sort, paging and projection parameters (RFC 7644 §3.4.2), answered as SCIM
//! JSON; failures are problem documents.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::Value;
use service::provisioning::{Endpoint, ListQuery, Projection};
use store::{DirectoryId, ResourceKind, TenantId};
use utoipa::IntoParams;

use super::extract::OperatorApiKey;
use super::problem::{ApiFailure, Problem};
use crate::http::AppState;

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

/// The directory a path names, with its tenant; 404 for an id that names none.
pub(super) async fn directory_named(state: &AppState, directory: &str) -> Result<(TenantId, DirectoryId), ApiFailure> {
    let unknown = || ApiFailure::NotFound(format!("there is no directory {directory}"));
    let id: DirectoryId = directory.parse().map_err(|_| unknown())?;
    let tenant = state.store.directory_owner(id).await.map_err(service::ServiceError::from)?.ok_or_else(unknown)?;
    Ok((tenant, id))
}

/// A directory's SCIM endpoint, read-only, for the operator's product.
async fn directory_reader(state: &AppState, directory: &str) -> Result<Endpoint, ApiFailure> {
    let (tenant, id) = directory_named(state, directory).await?;
    let base_url = format!("{}/scim/v2/{id}", state.portal.public_base);
    let unknown = || ApiFailure::NotFound(format!("there is no directory {directory}"));
    service::provisioning::portal_endpoint(&state.store, tenant, id, base_url).await?.ok_or_else(unknown)
}

async fn list_resources(
    state: &AppState,
    directory: &str,
    kind: ResourceKind,
    params: &HashMap<String, String>,
) -> Result<Json<Value>, ApiFailure> {
    let endpoint = directory_reader(state, directory).await?;
    let query = ListQuery::from_params(params)?;
    Ok(Json(endpoint.list(kind, &query).await?))
}

async fn one_resource(
    state: &AppState,
    directory: &str,
    kind: ResourceKind,
    id: &str,
    params: &HashMap<String, String>,
) -> Result<Json<Value>, ApiFailure> {
    let endpoint = directory_reader(state, directory).await?;
    let projection = Projection::from_params(params)?;
    Ok(Json(endpoint.get(kind, id, &projection).await?.body))
}

type ListParams = Query<HashMap<String, String>>;

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
pub(super) async fn list_users(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(directory): Path<String>,
    Query(params): ListParams,
) -> Result<Json<Value>, ApiFailure> {
    list_resources(&state, &directory, ResourceKind::User, &params).await
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
pub(super) async fn get_user(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path((directory, id)): Path<(String, String)>,
    Query(params): ListParams,
) -> Result<Json<Value>, ApiFailure> {
    one_resource(&state, &directory, ResourceKind::User, &id, &params).await
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
pub(super) async fn list_groups(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(directory): Path<String>,
    Query(params): ListParams,
) -> Result<Json<Value>, ApiFailure> {
    list_resources(&state, &directory, ResourceKind::Group, &params).await
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
pub(super) async fn get_group(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path((directory, id)): Path<(String, String)>,
    Query(params): ListParams,
) -> Result<Json<Value>, ApiFailure> {
    one_resource(&state, &directory, ResourceKind::Group, &id, &params).await
}
