//! Streamed exports of a tenant's audit trail, as CSV or JSON Lines, newest record first:
//! `GET /admin/audit/export` for the signed-in tenant admin (here) and
//! `GET /api/v1/tenants/{slug}/audit` for the operator API (`operator_api::audit`). Both
//! stream through [`export`], which reads in keyset pages of [`PAGE`] records and writes
//! each page as it comes, so an export of millions of records holds one page in memory.
//!
//! The stream is fused: the compression layer (tower-http's `CompressionLayer`, which every
//! browser download goes through) polls a body once more after it has ended, to forward any
//! trailers (tower-rs/tower-http#732), and a bare `stream::unfold` panics when polled after
//! its end, which kills the connection (an empty reply for gzip, a truncated 200 for
//! brotli).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{StreamExt as _, stream};
use serde::Deserialize;
use service::audit::{AuditFilters, CSV_HEADER, record_csv_row, record_json};
use service::session::PortalSession;
use store::{AuditQuery, Store, TenantId};
use tower_sessions::Session;

use super::AppState;

/// Records read per database round trip.
const PAGE: i64 = 1000;

/// The portal's route (session-authenticated; inside the session layer).
pub(crate) fn portal_router() -> Router<AppState> {
    Router::new().route("/admin/audit/export", get(admin_export))
}

#[derive(Debug, Deserialize)]
struct ExportQuery {
    /// `csv` or `jsonl` (the default).
    format: Option<String>,
    #[serde(flatten)]
    filters: AuditFilters,
}

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// The `format` parameter: `csv` or `jsonl` (the default).
    pub(crate) fn parse(format: Option<&str>) -> Result<Self, String> {
        match format.unwrap_or("jsonl") {
            "csv" => Ok(Format::Csv),
            "jsonl" => Ok(Format::JsonLines),
            other => Err(format!("format must be csv or jsonl, not {other:?}")),
        }
    }
}

async fn admin_export(State(state): State<AppState>, session: Session, Query(query): Query<ExportQuery>) -> Response {
    // A session that cannot be read is treated as signed out.
    let Ok(Some(admin)) = PortalSession::new(session).admin().await else {
        return (StatusCode::UNAUTHORIZED, "Sign in as an admin of this organisation.").into_response();
    };
    let tenant = admin.tenant;
    let filters = match query.filters.resolved_query(&state.store, tenant).await {
        Ok(filters) => filters,
        Err(error) => {
            tracing::warn!(%error, "audit export filters could not be resolved");
            return (StatusCode::SERVICE_UNAVAILABLE, "the service is unavailable; retry later").into_response();
        }
    };
    match (Format::parse(query.format.as_deref()), filters) {
        (Ok(format), Ok(filters)) => export(state.store.clone(), tenant, filters, format),
        (Err(message), _) | (_, Err(message)) => (StatusCode::BAD_REQUEST, message).into_response(),
    }
}

struct Cursor {
    store: Store,
    tenant: TenantId,
    query: AuditQuery,
    format: Format,
    before: Option<i64>,
    header_sent: bool,
    done: bool,
}

/// The response streaming `tenant`'s records that match `query`, newest first.
pub(crate) fn export(store: Store, tenant: TenantId, query: AuditQuery, format: Format) -> Response {
    let cursor = Cursor { store, tenant, query, format, before: None, header_sent: false, done: false };
    let pages = stream::unfold(cursor, |mut cursor| async move {
        if cursor.done {
            return None;
        }
        let mut chunk = Vec::new();
        if cursor.format == Format::Csv && !cursor.header_sent {
            cursor.header_sent = true;
            write_csv(&mut chunk, &CSV_HEADER.map(str::to_owned));
        }
        let records = match cursor.store.tenant(cursor.tenant).audit_page(&cursor.query, cursor.before, PAGE).await {
            Ok(records) => records,
            Err(error) => {
                // The response has started: ending the body early is the only signal left,
                // and nothing follows the error.
                tracing::error!(%error, tenant = %cursor.tenant, "audit export cut short");
                cursor.done = true;
                return Some((Err(std::io::Error::other("the audit export could not be read to the end")), cursor));
            }
        };
        cursor.done = (records.len() as i64) < PAGE;
        cursor.before = records.last().map(|record| record.seq);
        for record in &records {
            match cursor.format {
                Format::Csv => write_csv(&mut chunk, &record_csv_row(record)),
                Format::JsonLines => {
                    chunk.extend_from_slice(record_json(record).to_string().as_bytes());
                    chunk.push(b'\n');
                }
            }
        }
        Some((Ok(Bytes::from(chunk)), cursor))
    })
    // Ended stays ended, however often the layers above poll (see the module documentation).
    .fuse();
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::JsonLines => ("application/x-ndjson", "jsonl"),
    };
    let mut response = Body::from_stream(pages).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"audit-trail.{extension}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn write_csv<const N: usize>(into: &mut Vec<u8>, fields: &[String; N]) {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if writer.write_record(fields).is_ok()
        && let Ok(bytes) = writer.into_inner()
    {
        into.extend_from_slice(&bytes);
    }
}
