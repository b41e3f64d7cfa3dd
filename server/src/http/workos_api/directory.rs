//! Organizations, directories, and directory users and groups.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use service::directory_sync::{self, GroupQuery, UserQuery};

use super::{Answer, ApiKey, Failure, List, Params, list};
use crate::http::AppState;

/// `GET /organizations` (`domains`, comma-separated; paging).
pub(super) async fn list_organizations(
    _: ApiKey,
    State(state): State<AppState>,
    params: Params,
) -> Answer<List<directory_sync::Organization>> {
    let domains = params.list("domains");
    Ok(list(directory_sync::list_organizations(&state.store, &domains, &params.page()?).await?))
}

pub(super) async fn get_organization(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<directory_sync::Organization> {
    Ok(Json(directory_sync::organization(&state.store, &id).await?))
}

pub(super) async fn get_organization_by_external_id(
    _: ApiKey,
    State(state): State<AppState>,
    Path(external_id): Path<String>,
) -> Answer<directory_sync::Organization> {
    Ok(Json(directory_sync::organization_by_external_id(&state.store, &external_id).await?))
}

/// `GET /directories` (`organization_id`, `search`; paging).
pub(super) async fn list_directories(
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

pub(super) async fn get_directory(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<directory_sync::SyncDirectory> {
    Ok(Json(directory_sync::directory(&state.store, &id).await?))
}

/// `DELETE /directories/{id}`: 202 with no body, as WorkOS answers (the data goes later,
/// with the purge); the SDK's `deleteDirectory` reads nothing of it.
pub(super) async fn delete_directory(
    key: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Failure> {
    let actor = service::Actor::ApiKey(key.0);
    directory_sync::delete_directory(&state.store, &id, &actor, state.effects.now()).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /directories/{id}/users` (`group`, `email`, `idp_id`; paging): users without their
/// groups, as WorkOS answers on this route.
pub(super) async fn list_directory_users(
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
pub(super) struct InDirectory {
    id: String,
    user: Option<String>,
    group: Option<String>,
}

pub(super) async fn get_directory_user(
    _: ApiKey,
    State(state): State<AppState>,
    Path(path): Path<InDirectory>,
) -> Answer<directory_sync::DirectoryUser> {
    let user = path.user.unwrap_or_default();
    Ok(Json(directory_sync::user(&state.store, &user, Some(&path.id)).await?))
}

/// `GET /directories/{id}/groups` (`user`; paging).
pub(super) async fn list_directory_groups(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Answer<List<directory_sync::DirectoryGroup>> {
    let query = GroupQuery { directory: Some(id), user: params.owned("user") };
    Ok(list(directory_sync::list_groups(&state.store, &query, &params.page()?).await?))
}

pub(super) async fn get_directory_group(
    _: ApiKey,
    State(state): State<AppState>,
    Path(path): Path<InDirectory>,
) -> Answer<directory_sync::DirectoryGroup> {
    let group = path.group.unwrap_or_default();
    Ok(Json(directory_sync::group(&state.store, &group, Some(&path.id)).await?))
}

/// `GET /directory_users` (`directory` and/or `group`; paging): users with their groups.
pub(super) async fn list_users(
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

pub(super) async fn get_user(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<directory_sync::DirectoryUser> {
    Ok(Json(directory_sync::user(&state.store, &id, None).await?))
}

/// `GET /directory_groups` (`directory` and/or `user`; paging).
pub(super) async fn list_groups(
    _: ApiKey,
    State(state): State<AppState>,
    params: Params,
) -> Answer<List<directory_sync::DirectoryGroup>> {
    let query = GroupQuery { directory: params.owned("directory"), user: params.owned("user") };
    Ok(list(directory_sync::list_groups(&state.store, &query, &params.page()?).await?))
}

pub(super) async fn get_group(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer<directory_sync::DirectoryGroup> {
    Ok(Json(directory_sync::group(&state.store, &id, None).await?))
}
