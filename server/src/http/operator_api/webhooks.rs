//! A tenant's webhook endpoints: registering them, their delivery log and replaying dead
//! letters.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{JsonBody, OperatorApiKey};
use super::problem::{ApiFailure, Problem};
use super::rfc3339;
use super::tenants::tenant_named;
use crate::http::AppState;

/// A webhook endpoint of a tenant (never its secret), with how far it got per directory.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct WebhookBody {
    id: String,
    url: String,
    created_at: String,
    /// Set when the endpoint no longer receives events.
    disabled_at: Option<String>,
    directories: Vec<WebhookProgressBody>,
}

/// Where an endpoint is in one directory's event feed.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct WebhookProgressBody {
    directory: String,
    /// Events up to this feed cursor are delivered, dead-lettered or held back (0: none yet).
    delivered_up_to: i64,
    /// Events held back: refused, or waiting behind a refused event of the same user or
    /// group (events of other users and groups are not held back by them).
    held_back: usize,
    /// Users and groups whose events wait for a refused one.
    failing_resources: usize,
    /// When the first of those is tried again (RFC 3339); absent: nothing is waiting.
    next_attempt_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct NewWebhookBody {
    /// Where to POST events: an `https://` (or `http://`) URL on a public address.
    url: String,
}

/// An endpoint just registered with its signing secret (shown only here).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CreatedWebhookBody {
    webhook: WebhookBody,
    /// Verifies the `Scim-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
    secret: String,
}

/// One attempt to deliver one event.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct DeliveryBody {
    /// The attempt's id; a `dead` attempt's id names the dead letter to replay.
    id: String,
    directory: String,
    event: String,
    /// The event's cursor in the directory's feed.
    seq: i64,
    /// 1 for the first attempt at the event.
    attempt: i32,
    attempted_at: String,
    /// `delivered`, `failed` (tried again later) or `dead` (given up on: a dead letter).
    outcome: String,
    /// The endpoint's HTTP status; absent when it did not answer.
    status_code: Option<i32>,
    error: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct DeliveriesQuery {
    /// Only attempts with this outcome: `delivered`, `failed` or `dead`.
    outcome: Option<String>,
    /// Most attempts to return, 1 to 1000 (default 100).
    limit: Option<String>,
}

/// What a replay did.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReplayBody {
    /// Whether the endpoint answered 2xx; if not, the dead letter stays as it was.
    delivered: bool,
}

fn webhook_body(endpoint: service::webhooks::EndpointOverview) -> WebhookBody {
    WebhookBody {
        id: endpoint.id.to_string(),
        url: endpoint.url,
        created_at: rfc3339(endpoint.created_at),
        disabled_at: endpoint.disabled_at.map(rfc3339),
        directories: endpoint
            .directories
            .into_iter()
            .map(|progress| WebhookProgressBody {
                directory: progress.directory.to_string(),
                delivered_up_to: progress.delivered_seq,
                held_back: progress.held_back,
                failing_resources: progress.failing_resources,
                next_attempt_at: progress.next_attempt_at.map(rfc3339),
            })
            .collect(),
    }
}

fn from_webhooks(error: service::webhooks::WebhookError) -> ApiFailure {
    use service::webhooks::WebhookError;
    match error {
        WebhookError::InvalidTarget(detail) => ApiFailure::BadRequest(detail),
        unknown @ (WebhookError::UnknownWebhook(_) | WebhookError::UnknownDeadLetter(_)) => {
            ApiFailure::NotFound(unknown.to_string())
        }
        WebhookError::Service(error) => error.into(),
    }
}

fn webhook_id(text: &str) -> Result<store::WebhookId, ApiFailure> {
    text.parse().map_err(|_| ApiFailure::NotFound(format!("the tenant has no webhook {text}")))
}

/// The tenant's webhook endpoints, oldest first, with their progress per directory.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/webhooks",
    params(("slug" = String, Path, description = "The tenant's name in addresses")),
    responses(
        (status = 200, description = "The endpoints (no secrets)", body = [WebhookBody]),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_webhooks(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Vec<WebhookBody>>, ApiFailure> {
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let endpoints = service::webhooks::endpoints_overview(&state.store, tenant.id).await?;
    Ok(Json(endpoints.into_iter().map(webhook_body).collect()))
}

/// Registers an endpoint that receives the change events of all the tenant's directories.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/webhooks",
    params(("slug" = String, Path, description = "The tenant's name in addresses")),
    request_body = NewWebhookBody,
    responses(
        (status = 201, description = "Registered; the secret is shown only here", body = CreatedWebhookBody),
        (status = 400, description = "Not an http(s) URL, or it points at an internal address", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn create_webhook(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<NewWebhookBody>,
) -> Result<(StatusCode, Json<CreatedWebhookBody>), ApiFailure> {
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let issued = service::webhooks::register_webhook(
        &state.store,
        tenant.id,
        &body.url,
        &state.webhooks,
        &key.actor(),
        &state.effects,
    )
    .await
    .map_err(from_webhooks)?;
    let endpoint = service::webhooks::endpoints_overview(&state.store, tenant.id)
        .await?
        .into_iter()
        .find(|endpoint| endpoint.id == issued.id)
        .ok_or(ApiFailure::Unavailable)?;
    Ok((StatusCode::CREATED, Json(CreatedWebhookBody { webhook: webhook_body(endpoint), secret: issued.secret })))
}

/// An endpoint's newest delivery attempts, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/webhooks/{webhook}/deliveries",
    params(
        ("slug" = String, Path, description = "The tenant's name in addresses"),
        ("webhook" = String, Path, description = "The endpoint's id"),
        DeliveriesQuery,
    ),
    responses(
        (status = 200, description = "Attempts, newest first", body = [DeliveryBody]),
        (status = 400, description = "An unknown outcome or a bad limit", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant or webhook", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn webhook_deliveries(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path((slug, webhook)): Path<(String, String)>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<Json<Vec<DeliveryBody>>, ApiFailure> {
    use store::DeliveryOutcome;
    let outcome = match query.outcome.as_deref().filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => Some(
            [DeliveryOutcome::Delivered, DeliveryOutcome::Failed, DeliveryOutcome::Dead]
                .into_iter()
                .find(|outcome| outcome.as_str() == text)
                .ok_or_else(|| {
                    ApiFailure::BadRequest(format!("outcome must be delivered, failed or dead, not {text:?}"))
                })?,
        ),
    };
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|limit| (1..=1000).contains(limit))
            .ok_or_else(|| ApiFailure::BadRequest(format!("limit must be 1 to 1000, not {text:?}")))?,
    };
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let attempts = service::webhooks::delivery_log(&state.store, tenant.id, webhook_id(&webhook)?, outcome, limit)
        .await
        .map_err(from_webhooks)?;
    Ok(Json(
        attempts
            .into_iter()
            .map(|attempt| DeliveryBody {
                id: attempt.id.to_string(),
                directory: attempt.directory.to_string(),
                event: attempt.event.to_string(),
                seq: attempt.seq,
                attempt: attempt.attempt,
                attempted_at: rfc3339(attempt.attempted_at),
                outcome: attempt.outcome.as_str().to_owned(),
                status_code: attempt.status_code,
                error: attempt.error,
            })
            .collect(),
    ))
}

/// Sends a dead-lettered event again, with its original id.
#[utoipa::path(
    post,
    path = "/api/v1/tenants/{slug}/webhooks/{webhook}/dead-letters/{delivery}/replay",
    params(
        ("slug" = String, Path, description = "The tenant's name in addresses"),
        ("webhook" = String, Path, description = "The endpoint's id"),
        ("delivery" = String, Path, description = "The id of the `dead` attempt"),
    ),
    responses(
        (status = 200, description = "Sent; whether it was delivered", body = ReplayBody),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant, webhook or dead letter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn replay_dead_letter(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path((slug, webhook, delivery)): Path<(String, String, String)>,
) -> Result<Json<ReplayBody>, ApiFailure> {
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let webhook = webhook_id(&webhook)?;
    let delivery: store::DeliveryId =
        delivery.parse().map_err(|_| ApiFailure::NotFound(format!("the endpoint has no dead letter {delivery}")))?;
    let actor = key.actor();
    let delivered =
        service::webhooks::replay(&state.store, &state.webhooks, tenant.id, webhook, delivery, &actor, &state.effects)
            .await
            .map_err(from_webhooks)?;
    Ok(Json(ReplayBody { delivered }))
}
