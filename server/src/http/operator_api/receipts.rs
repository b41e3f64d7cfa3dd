//! Receipts: the product confirms the events it applied, and reads each tenant's
//! revocation records (see `service::receipts`).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use service::receipts::{self, EventReceipt, OffboardingFilter, OffboardingRow, ReceiptError, RevocationStatus};
use store::{DirectoryId, Revocation};
use utoipa::{IntoParams, ToSchema};

use super::extract::OperatorApiKey;
use super::problem::{ApiFailure, Problem};
use super::rfc3339;
use super::tenants::tenant_named;
use crate::http::AppState;

/// What a confirmation recorded.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReceiptBody {
    directory: String,
    /// The event's place in its directory's feed (its `cursor`).
    cursor: String,
    /// The change: `user.deactivated`, `group.member_added`, …
    #[serde(rename = "type")]
    kind: String,
    /// The first confirmation (RFC 3339); a repeat keeps it.
    applied_at: String,
    /// The event had been confirmed before: this call changed nothing.
    already_applied: bool,
    /// For a user's deactivation or deletion, its record with the timeline.
    #[serde(skip_serializing_if = "Option::is_none")]
    revocation: Option<RevocationBody>,
}

/// A user's deactivation or deletion, from the identity provider's request to the
/// product's confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RevocationBody {
    directory: String,
    cursor: String,
    user_id: String,
    /// The user's userName (else email, else id) at the time.
    user_name: String,
    /// `user.deactivated` or `user.deleted`.
    #[serde(rename = "type")]
    kind: String,
    /// When the identity provider's request was handled and the change stored.
    changed_at: String,
    /// The first delivery to the product: a 2xx webhook answer or a read of a feed.
    delivered_at: Option<String>,
    /// `webhook:<id>`, `operator-webhook:<id>` or `feed`.
    delivered_via: Option<String>,
    applied_at: Option<String>,
    /// `api-key:<id>`, `webhook:<id>` or `operator-webhook:<id>`.
    applied_via: Option<String>,
    /// `applied`, `delivered` (not confirmed yet), `pending` (not delivered yet) or
    /// `overdue` (not confirmed within the deployment's revocation SLA).
    status: String,
    /// From `changed_at` to `delivered_at`.
    time_to_deliver_seconds: Option<f64>,
    /// From `changed_at` to `applied_at`.
    time_to_revoke_seconds: Option<f64>,
}

fn revocation_body(revocation: &Revocation, status: RevocationStatus) -> RevocationBody {
    RevocationBody {
        directory: revocation.directory.to_string(),
        cursor: revocation.seq.to_string(),
        user_id: revocation.user_id.clone(),
        user_name: revocation.user_name.clone(),
        kind: revocation.kind.clone(),
        changed_at: rfc3339(revocation.changed_at),
        delivered_at: revocation.delivered_at.map(rfc3339),
        delivered_via: revocation.delivered_via.clone(),
        applied_at: revocation.applied_at.map(rfc3339),
        applied_via: revocation.applied_via.clone(),
        status: status.as_str().to_owned(),
        time_to_deliver_seconds: revocation
            .delivered_at
            .map(|at| (at - revocation.changed_at).num_milliseconds() as f64 / 1000.0),
        time_to_revoke_seconds: revocation
            .applied_at
            .map(|at| (at - revocation.changed_at).num_milliseconds() as f64 / 1000.0),
    }
}

fn receipt_body(receipt: EventReceipt) -> ReceiptBody {
    ReceiptBody {
        directory: receipt.directory.to_string(),
        cursor: receipt.seq.to_string(),
        kind: receipt.kind,
        applied_at: rfc3339(receipt.applied_at),
        already_applied: receipt.already_applied,
        revocation: receipt
            .revocation
            .as_ref()
            .map(|revocation| revocation_body(revocation, RevocationStatus::Applied)),
    }
}

async fn acknowledge(
    state: &AppState,
    key: &OperatorApiKey,
    directory: DirectoryId,
    seq: i64,
    shown: &str,
) -> Result<Json<ReceiptBody>, ApiFailure> {
    let via = format!("api-key:{}", key.id());
    match receipts::acknowledge(&state.store, directory, seq, &via, &key.actor(), &state.effects).await {
        Ok(receipt) => Ok(Json(receipt_body(receipt))),
        Err(ReceiptError::UnknownEvent(_)) => Err(ApiFailure::NotFound(format!("there is no event {shown}"))),
        Err(ReceiptError::Service(error)) => Err(error.into()),
    }
}

/// Confirms that the product applied an event of a directory's feed: call it once access
/// has really been changed (for a deactivation: revoked), not merely received. Confirming
/// again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/directories/{directory}/events/{cursor}/ack",
    params(
        ("directory" = String, Path, description = "The directory's id"),
        ("cursor" = String, Path, description = "The event's `cursor` in the directory's feed"),
    ),
    responses(
        (status = 200, description = "The confirmation", body = ReceiptBody),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn acknowledge_directory_event(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path((directory, cursor)): Path<(String, String)>,
) -> Result<Json<ReceiptBody>, ApiFailure> {
    let shown = format!("{cursor} in directory {directory}");
    let unknown = || ApiFailure::NotFound(format!("there is no event {shown}"));
    let directory_id: DirectoryId = directory.parse().map_err(|_| unknown())?;
    let seq: i64 = cursor.parse().ok().filter(|seq| *seq > 0).ok_or_else(unknown)?;
    acknowledge(&state, &key, directory_id, seq, &shown).await
}

/// Confirms that the product applied an event of `GET /events` (its `event_…` id; for a
/// membership event, the whole change it belongs to).
#[utoipa::path(
    post,
    path = "/api/v1/events/{event}/ack",
    params(("event" = String, Path, description = "The event's id, `event_…`")),
    responses(
        (status = 200, description = "The confirmation", body = ReceiptBody),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn acknowledge_event(
    key: OperatorApiKey,
    State(state): State<AppState>,
    Path(event): Path<String>,
) -> Result<Json<ReceiptBody>, ApiFailure> {
    let (directory, seq, _) = service::directory_sync::events::event_place(&event)
        .ok_or_else(|| ApiFailure::NotFound(format!("there is no event {event}")))?;
    acknowledge(&state, &key, directory, seq, &event).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct RevocationsQuery {
    /// `applied`, `delivered`, `pending` or `overdue`.
    status: Option<String>,
    /// Only this directory's.
    directory: Option<String>,
    /// A part of the user's name or id.
    user: Option<String>,
}

/// The tenant's revocation records, newest first (at most 5,000).
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/revocations",
    params(("slug" = String, Path, description = "The tenant's name in addresses"), RevocationsQuery),
    responses(
        (status = 200, description = "Revocations, newest first", body = [RevocationBody]),
        (status = 400, description = "An unknown status or directory", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list_revocations(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<RevocationsQuery>,
) -> Result<Json<Vec<RevocationBody>>, ApiFailure> {
    let (tenant, _) = tenant_named(&state, &slug).await?;
    let status = match query.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(RevocationStatus::parse(text).ok_or_else(|| {
            ApiFailure::BadRequest(format!("status must be applied, delivered, pending or overdue, not {text:?}"))
        })?),
    };
    let directory = match query.directory.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<DirectoryId>()
                .map_err(|_| ApiFailure::BadRequest(format!("{text:?} is not a directory id")))?,
        ),
    };
    let filter = OffboardingFilter { directory, status, user: query.user };
    let rows =
        receipts::offboarding(&state.store, tenant.id, &filter, state.portal.revocation_sla(), state.effects.now())
            .await?;
    Ok(Json(
        rows.iter().map(|OffboardingRow { revocation, status, .. }| revocation_body(revocation, *status)).collect(),
    ))
}
