//! The operator API's own keys (area `api_keys`): listed with their reach and last use,
//! issued with at most the calling key's reach, revoked at once.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use service::api_keys::{ApiKey, ApiKeyChangeError, ApiKeyRequest, ApiKeyScopes};
use utoipa::ToSchema;

use super::extract::{JsonBody, OperatorApiKey};
use super::problem::{ApiFailure, Problem};
use super::rfc3339;
use crate::http::AppState;

/// A key (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ApiKeyBody {
    id: String,
    label: String,
    /// The areas it reaches: `tenants`, `directory_data`, `webhooks`, `audit`, `api_keys`.
    areas: Vec<String>,
    /// GET requests only.
    read_only: bool,
    /// `active`, `expired` or `revoked`.
    state: String,
    created_at: String,
    /// Absent: never expires.
    expires_at: Option<String>,
    revoked_at: Option<String>,
    /// To the minute; absent: never used.
    last_used_at: Option<String>,
}

fn key_body(key: ApiKey, now: chrono::DateTime<chrono::Utc>) -> ApiKeyBody {
    ApiKeyBody {
        id: key.id.to_string(),
        state: key.state(now).as_str().to_owned(),
        label: key.label,
        areas: key.scopes.areas.iter().map(|area| area.as_str().to_owned()).collect(),
        read_only: key.scopes.read_only,
        created_at: rfc3339(key.created_at),
        expires_at: key.expires_at.map(rfc3339),
        revoked_at: key.revoked_at.map(rfc3339),
        last_used_at: key.last_used_at.map(rfc3339),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewApiKeyBody {
    /// What uses the key, 1 to 100 characters.
    label: String,
    /// The areas it reaches, at most the calling key's.
    areas: Vec<String>,
    /// GET requests only (default false; a read-only key issues only read-only keys).
    #[serde(default)]
    read_only: bool,
    /// Days until it expires, 1 to 3650; absent: never.
    expires_in_days: Option<i64>,
}

/// A key just issued, with its secret (shown only here).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct IssuedApiKeyBody {
    api_key: ApiKeyBody,
    /// `scimk_…`: send as `Authorization: Bearer <key>`. Only its digest is stored.
    key: String,
}

fn from_change(error: ApiKeyChangeError) -> ApiFailure {
    match error {
        ApiKeyChangeError::NoSuchKey => ApiFailure::NotFound("no such API key".to_owned()),
        ApiKeyChangeError::BeyondIssuer(_) => ApiFailure::Forbidden(error.to_string()),
        ApiKeyChangeError::Service(error) => error.into(),
        ApiKeyChangeError::Label | ApiKeyChangeError::NoArea | ApiKeyChangeError::Lifetime => {
            ApiFailure::BadRequest(error.to_string())
        }
    }
}

/// Every key, newest first, with its reach, state and last use.
#[utoipa::path(
    get,
    path = "/api/v1/api-keys",
    responses(
        (status = 200, description = "The keys (no secrets)", body = [ApiKeyBody]),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key does not reach `api_keys`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_keys(
    _key: OperatorApiKey,
    State(state): State<AppState>,
) -> Result<Json<Vec<ApiKeyBody>>, ApiFailure> {
    let now = state.effects.now();
    let keys = service::api_keys::list_api_keys(&state.store).await?;
    Ok(Json(keys.into_iter().map(|key| key_body(key, now)).collect()))
}

/// Issues a key reaching at most what the calling key reaches.
#[utoipa::path(
    post,
    path = "/api/v1/api-keys",
    request_body = NewApiKeyBody,
    responses(
        (status = 201, description = "Issued; the key is shown only here", body = IssuedApiKeyBody),
        (status = 400, description = "No label, no area, an unknown area or a bad lifetime", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key does not reach `api_keys` for writing, or asks beyond its own reach", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn issue_key(
    key: OperatorApiKey,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewApiKeyBody>,
) -> Result<(StatusCode, Json<IssuedApiKeyBody>), ApiFailure> {
    let areas =
        service::api_keys::parse_areas(body.areas.iter().map(String::as_str)).map_err(ApiFailure::BadRequest)?;
    let now = state.effects.now();
    let expires_at = service::api_keys::expiry_after_days(body.expires_in_days, now).map_err(from_change)?;
    let request = ApiKeyRequest { label: body.label, scopes: ApiKeyScopes::new(areas, body.read_only), expires_at };
    let issued =
        service::api_keys::issue_api_key(&state.store, request, Some(&key.0.scopes), &key.actor(), &state.effects)
            .await
            .map_err(from_change)?;
    Ok((StatusCode::CREATED, Json(IssuedApiKeyBody { api_key: key_body(issued.key, now), key: issued.secret })))
}

/// Revokes a key: its next request gets 401. Revoking a revoked key changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/api-keys/{key}",
    params(("key" = String, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The key, revoked", body = ApiKeyBody),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key does not reach `api_keys` for writing", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn revoke_key(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ApiKeyBody>, ApiFailure> {
    let not_found = || ApiFailure::NotFound("no such API key".to_owned());
    let id: store::ApiKeyId = id.parse().map_err(|_| not_found())?;
    let now = state.effects.now();
    service::api_keys::revoke_api_key(&state.store, id, &key.actor(), now).await.map_err(from_change)?;
    let revoked = service::api_keys::find_api_key(&state.store, id).await?.ok_or_else(not_found)?;
    Ok(Json(key_body(revoked, now)))
}
