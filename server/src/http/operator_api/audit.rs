//! A tenant's audit trail for the operator's product: the same streamed export the
//! portal's admins download (see `http::audit_export`), authenticated with an API key.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use service::audit::AuditFilters;
use utoipa::IntoParams;

use super::extract::OperatorApiKey;
use super::problem::{ApiFailure, Problem};
use crate::http::AppState;
use crate::http::audit_export::{Format, export};

/// Which records to export, and as what.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditExportQuery {
    /// `jsonl` (JSON Lines, the default) or `csv`.
    format: Option<String>,
    /// `YYYY-MM-DD` (from the start of that day, UTC) or an RFC 3339 time.
    since: Option<String>,
    /// `YYYY-MM-DD` (through the end of that day, UTC) or an RFC 3339 time.
    until: Option<String>,
    /// `success` or `failure`.
    outcome: Option<String>,
    /// An action such as `token.revoked`, or an HTTP method such as `PATCH`.
    operation: Option<String>,
    /// A user's or group's id.
    resource: Option<String>,
    /// A directory's id.
    directory: Option<String>,
}

/// The tenant's audit trail, newest record first, streamed as JSON Lines or CSV.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/audit",
    params(("slug" = String, Path, description = "The tenant's name in addresses"), AuditExportQuery),
    responses(
        (status = 200, description = "The records, newest first, as an attachment",
            content(
                (String = "application/x-ndjson"),
                (String = "text/csv"),
            ),
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"audit-trail.jsonl\"` (or `.csv`)")),
        ),
        (status = 400, description = "An unknown format or a bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn export_audit_trail(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<AuditExportQuery>,
) -> Result<Response, ApiFailure> {
    let tenant = tenant_of(&state, &slug).await?;
    let format = Format::parse(query.format.as_deref()).map_err(ApiFailure::BadRequest)?;
    let filters = AuditFilters {
        since: query.since,
        until: query.until,
        outcome: query.outcome,
        operation: query.operation,
        resource: query.resource,
        directory: query.directory,
    };
    let filters = filters.resolved_query(&state.store, tenant.id).await?.map_err(ApiFailure::BadRequest)?;
    Ok(export(state.store.clone(), tenant.id, filters, format))
}

/// The signed checkpoints of the tenant's audit chain, oldest first, as JSON Lines: keep
/// them outside the database, and `server admin verify-audit --checkpoints FILE` proves
/// later that no record up to each was rewritten. Each line carries the record's number and
/// hash, when it was signed, the public key and the Ed25519 signature over
/// `scim-portal audit checkpoint v1\ntenant {tenant_id}\nseq {seq}\nhash {hash}\nsigned_at {signed_at}\n`.
#[utoipa::path(
    get,
    path = "/api/v1/tenants/{slug}/audit/checkpoints",
    params(("slug" = String, Path, description = "The tenant's name in addresses")),
    responses(
        (status = 200, description = "The checkpoints, oldest first, as an attachment",
            content((String = "application/x-ndjson")),
        ),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn export_audit_checkpoints(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, ApiFailure> {
    let tenant = tenant_of(&state, &slug).await?;
    Ok(crate::http::audit_checkpoints::export(state.store.clone(), tenant.id))
}

/// The tenant a path names (its directories are not read: the exports need none).
async fn tenant_of(state: &AppState, slug: &str) -> Result<store::Tenant, ApiFailure> {
    let unknown = || ApiFailure::NotFound(format!("there is no tenant {slug}"));
    let parsed = store::TenantSlug::parse(slug).map_err(|_| unknown())?;
    state.store.tenant_by_slug(&parsed).await.map_err(service::ServiceError::from)?.ok_or_else(unknown)
}
