//! The vendor's roles (defined for the whole deployment) and the roles a directory's groups
//! grant. Directory users carry the roles their groups grant (`role`, `roles`); every change
//! here re-derives the users concerned in the background and publishes `dsync.user.updated`
//! for those whose roles changed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use service::directory_sync::roles::{self, GroupRolesPage, RoleError, RoleInput, RoleView};
use utoipa::ToSchema;

use super::extract::{JsonBody, OperatorApiKey};
use super::problem::{ApiFailure, Problem};
use super::resources::directory_named;
use crate::http::AppState;

/// One of the vendor's roles.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RoleBody {
    slug: String,
    name: String,
    description: String,
    /// 1 first: a user's `role` is their role with the smallest precedence.
    precedence: i64,
    /// The role of users whose groups grant none.
    is_default: bool,
    created_at: String,
    updated_at: String,
}

impl From<RoleView> for RoleBody {
    fn from(role: RoleView) -> Self {
        let RoleView { slug, name, description, precedence, is_default, created_at, updated_at } = role;
        Self { slug, name, description, precedence, is_default, created_at, updated_at }
    }
}

/// A role to add or change.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct RoleRequestBody {
    /// Lower-case letters, digits, `-` and `_`; what the product reads (`role.slug`). Fixed
    /// once created.
    slug: String,
    name: String,
    #[serde(default)]
    description: String,
    precedence: i64,
    #[serde(default)]
    is_default: bool,
}

impl From<RoleRequestBody> for RoleInput {
    fn from(body: RoleRequestBody) -> Self {
        let RoleRequestBody { slug, name, description, precedence, is_default } = body;
        RoleInput { slug, name, description, precedence, is_default }
    }
}

/// One grant: the group (its SCIM id in the directory) and the role slug.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(super) struct GrantBody {
    group: String,
    role: String,
}

/// What a directory's groups grant.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct GroupRolesRequestBody {
    /// The complete list: grants not named are withdrawn.
    grants: Vec<GrantBody>,
}

/// A directory's grants, how many users each role goes to, and the re-derivation of its
/// users.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct GroupRolesBody {
    grants: Vec<GrantBody>,
    /// Users per role slug, with the grants in force.
    users_per_role: std::collections::BTreeMap<String, usize>,
    /// Users who get no role (no grant applies and there is no default role).
    users_without_role: usize,
    /// The re-derivation of the directory's users after the last change, if any.
    #[schema(value_type = Option<Object>)]
    republish: Option<service::directory_sync::roles::RepublishProgress>,
}

fn group_roles_body(page: GroupRolesPage) -> GroupRolesBody {
    let grants = page
        .groups
        .iter()
        .flat_map(|group| {
            group.roles.iter().map(|role| GrantBody { group: group.group_id.clone(), role: role.clone() })
        })
        .collect();
    GroupRolesBody {
        grants,
        users_per_role: page.preview.into_iter().map(|count| (count.slug, count.users)).collect(),
        users_without_role: page.without_role,
        republish: page.progress,
    }
}

fn from_roles(error: RoleError) -> ApiFailure {
    match error {
        RoleError::Invalid { message, .. } => ApiFailure::BadRequest(message),
        RoleError::NotFound(what) => ApiFailure::NotFound(format!("there is no {what}")),
        RoleError::Conflict(message) => ApiFailure::Conflict(message),
        RoleError::Service(error) => error.into(),
    }
}

/// The deployment's roles, in precedence order.
#[utoipa::path(
    get,
    path = "/api/v1/roles",
    responses(
        (status = 200, description = "The roles", body = Vec<RoleBody>),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_roles(
    _key: OperatorApiKey,
    State(state): State<AppState>,
) -> Result<Json<Vec<RoleBody>>, ApiFailure> {
    Ok(Json(roles::list_roles(&state.store).await?.into_iter().map(RoleBody::from).collect()))
}

/// Adds a role. A new default role replaces the previous default.
#[utoipa::path(
    post,
    path = "/api/v1/roles",
    request_body = RoleRequestBody,
    responses(
        (status = 201, description = "Added", body = RoleBody),
        (status = 400, description = "A field is invalid; the detail names it", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A role with this slug exists", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn create_role(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<RoleRequestBody>,
) -> Result<(StatusCode, Json<RoleBody>), ApiFailure> {
    let role = roles::save_role(&state.store, &body.into(), None, state.effects.now()).await.map_err(from_roles)?;
    Ok((StatusCode::CREATED, Json(role.into())))
}

/// Changes a role (its slug stays).
#[utoipa::path(
    put,
    path = "/api/v1/roles/{slug}",
    params(("slug" = String, Path, description = "The role's slug")),
    request_body = RoleRequestBody,
    responses(
        (status = 200, description = "Changed", body = RoleBody),
        (status = 400, description = "A field is invalid, or the body's slug differs", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such role", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn update_role(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<RoleRequestBody>,
) -> Result<Json<RoleBody>, ApiFailure> {
    let role =
        roles::save_role(&state.store, &body.into(), Some(&slug), state.effects.now()).await.map_err(from_roles)?;
    Ok(Json(role.into()))
}

/// Deletes a role and every grant of it.
#[utoipa::path(
    delete,
    path = "/api/v1/roles/{slug}",
    params(("slug" = String, Path, description = "The role's slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such role", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn delete_role(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<StatusCode, ApiFailure> {
    roles::delete_role(&state.store, &slug, state.effects.now()).await.map_err(from_roles)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles a directory's groups grant.
#[utoipa::path(
    get,
    path = "/api/v1/directories/{directory}/group-roles",
    params(("directory" = String, Path, description = "The directory's id")),
    responses(
        (status = 200, description = "The grants and how many users get each role", body = GroupRolesBody),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such directory", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn group_roles(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(directory): Path<String>,
) -> Result<Json<GroupRolesBody>, ApiFailure> {
    let (tenant, directory) = directory_named(&state, &directory).await?;
    let page = roles::group_roles_page(&state.store, tenant, directory, None).await.map_err(from_roles)?;
    Ok(Json(group_roles_body(page)))
}

/// Replaces the roles a directory's groups grant (recorded in the tenant's audit trail);
/// the directory's users are re-derived in the background.
#[utoipa::path(
    put,
    path = "/api/v1/directories/{directory}/group-roles",
    params(("directory" = String, Path, description = "The directory's id")),
    request_body = GroupRolesRequestBody,
    responses(
        (status = 200, description = "Saved; `republish` shows the re-derivation", body = GroupRolesBody),
        (status = 400, description = "An unknown group or role", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such directory", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn set_group_roles(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path(directory): Path<String>,
    JsonBody(body): JsonBody<GroupRolesRequestBody>,
) -> Result<Json<GroupRolesBody>, ApiFailure> {
    let (tenant, directory) = directory_named(&state, &directory).await?;
    let grants: Vec<(String, String)> = body.grants.into_iter().map(|grant| (grant.group, grant.role)).collect();
    let now = state.effects.now();
    roles::save_group_roles(&state.store, tenant, directory, &grants, &key.actor(), now).await.map_err(from_roles)?;
    let page = roles::group_roles_page(&state.store, tenant, directory, None).await.map_err(from_roles)?;
    Ok(Json(group_roles_body(page)))
}
