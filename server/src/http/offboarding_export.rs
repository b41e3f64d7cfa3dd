//! `GET /admin/offboarding/export`: the tenant admin's Offboarding page as CSV, for
//! auditors, with the page's filters (`status`, `directory`, `user`) and every timestamp
//! in RFC 3339.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use service::receipts::{OffboardingFilter, RevocationStatus};
use service::session::PortalSession;
use tower_sessions::Session;

use super::AppState;

/// The columns, in order.
const HEADER: [&str; 12] = [
    "user_name",
    "user_id",
    "directory_id",
    "directory",
    "change",
    "requested_at",
    "delivered_at",
    "delivered_via",
    "applied_at",
    "applied_via",
    "time_to_revoke_seconds",
    "status",
];

/// The portal's route (session-authenticated; inside the session layer).
pub(crate) fn portal_router() -> Router<AppState> {
    Router::new().route("/admin/offboarding/export", get(export))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExportQuery {
    status: String,
    directory: String,
    user: String,
}

async fn export(State(state): State<AppState>, session: Session, Query(query): Query<ExportQuery>) -> Response {
    // A session that cannot be read is treated as signed out.
    let Ok(Some(admin)) = PortalSession::new(session).admin().await else {
        return (StatusCode::UNAUTHORIZED, "Sign in as an admin of this organisation.").into_response();
    };
    let status = match query.status.trim() {
        "" => None,
        text => match RevocationStatus::parse(text) {
            Some(status) => Some(status),
            None => {
                let message = format!("status must be applied, delivered, pending or overdue, not {text:?}");
                return (StatusCode::BAD_REQUEST, message).into_response();
            }
        },
    };
    let directories = match state.store.tenant(admin.tenant).directories().await {
        Ok(directories) => directories,
        Err(error) => return unavailable(&error),
    };
    let directory = match query.directory.trim() {
        "" => None,
        text => match directories.iter().find(|d| d.id.to_string() == text) {
            Some(directory) => Some(directory.id),
            None => return (StatusCode::BAD_REQUEST, format!("there is no directory {text}")).into_response(),
        },
    };
    let filter = OffboardingFilter { directory, status, user: Some(query.user) };
    let sla = state.portal.revocation_sla();
    let rows = match service::receipts::offboarding(&state.store, admin.tenant, &filter, sla, state.effects.now()).await
    {
        Ok(rows) => rows,
        Err(error) => return unavailable(&error),
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    let rfc3339 = |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut written = writer.write_record(HEADER);
    for row in &rows {
        let revocation = &row.revocation;
        let name = directories
            .iter()
            .find(|d| d.id == revocation.directory)
            .map_or_else(|| "Deleted directory".to_owned(), |d| d.display_name.clone());
        written = written.and_then(|()| {
            writer.write_record(
                [
                    revocation.user_name.clone(),
                    revocation.user_id.clone(),
                    revocation.directory.to_string(),
                    name,
                    revocation.kind.clone(),
                    rfc3339(revocation.changed_at),
                    revocation.delivered_at.map(rfc3339).unwrap_or_default(),
                    revocation.delivered_via.clone().unwrap_or_default(),
                    revocation.applied_at.map(rfc3339).unwrap_or_default(),
                    revocation.applied_via.clone().unwrap_or_default(),
                    row.time_to_revoke
                        .map(|ttr| format!("{:.3}", ttr.num_milliseconds() as f64 / 1000.0))
                        .unwrap_or_default(),
                    row.status.as_str().to_owned(),
                ]
                .map(service::spreadsheet_safe),
            )
        });
    }
    let body = match written.map_err(|e| e.to_string()).and_then(|()| writer.into_inner().map_err(|e| e.to_string())) {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "offboarding export could not be written");
            return (StatusCode::INTERNAL_SERVER_ERROR, "the export could not be written").into_response();
        }
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"offboarding.csv\""));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn unavailable(error: &dyn std::fmt::Display) -> Response {
    tracing::warn!(%error, "offboarding export failed");
    (StatusCode::SERVICE_UNAVAILABLE, "the service is unavailable; retry later").into_response()
}
