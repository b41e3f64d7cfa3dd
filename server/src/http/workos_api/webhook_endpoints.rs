//! `/webhook_endpoints`: the operator's endpoints for the deployment's Directory Sync events.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use service::directory_sync::{self, EndpointChange, WebhookEndpoint};

use super::{Answer, ApiKey, Failure, JsonBody, List, Params, list};
use crate::http::AppState;

#[derive(Debug, Deserialize)]
pub(super) struct NewEndpoint {
    endpoint_url: String,
    events: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ChangedEndpoint {
    endpoint_url: Option<String>,
    status: Option<String>,
    events: Option<Vec<String>>,
}

/// `GET /webhook_endpoints` (paging).
pub(super) async fn list_endpoints(
    _: ApiKey,
    State(state): State<AppState>,
    params: Params,
) -> Answer<List<WebhookEndpoint>> {
    Ok(list(directory_sync::webhooks::list_endpoints(&state.store, &params.page()?).await?))
}

/// `POST /webhook_endpoints` (`endpoint_url`, `events`): the endpoint with its secret.
pub(super) async fn create_endpoint(
    _: ApiKey,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewEndpoint>,
) -> Result<(StatusCode, axum::Json<WebhookEndpoint>), Failure> {
    let created = directory_sync::webhooks::create_endpoint(
        &state.store,
        &state.webhooks,
        &body.endpoint_url,
        body.events,
        &state.effects,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// `PATCH /webhook_endpoints/{id}` (`endpoint_url`, `status`, `events`, each optional).
pub(super) async fn update_endpoint(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ChangedEndpoint>,
) -> Answer<WebhookEndpoint> {
    let change = EndpointChange { url: body.endpoint_url, status: body.status, events: body.events };
    let updated =
        directory_sync::webhooks::update_endpoint(&state.store, &state.webhooks, &id, change, &state.effects).await?;
    Ok(axum::Json(updated))
}

/// `DELETE /webhook_endpoints/{id}`.
pub(super) async fn delete_endpoint(
    _: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Failure> {
    directory_sync::webhooks::delete_endpoint(&state.store, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
