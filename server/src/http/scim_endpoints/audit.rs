//! The door of every SCIM request: authenticates it (see [`super::authenticate`]), applies
//! the directory's rate limit, hands the opened endpoint to the handler and records the
//! request in its tenant's audit trail: who (the token), which directory and dialect,
//! method, path, status, latency and the resource; for a failed request also its body
//! (secrets redacted) and the SCIM error, so a support engineer can tell later why a sync
//! failed; for a write, what it changed (the [`WriteSummary`] the handler put in the
//! response's extensions).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use scim::error::ScimError;
use serde_json::{Value, json};
use service::provisioning::{BULK_MAX_PAYLOAD_BYTES, WriteSummary};
use store::{AuditOutcome, DirectoryId, NewAuditRecord};

use super::authenticate::{Authentication, Refused, authenticate};
use super::error::ScimFailure;
use crate::http::AppState;

/// Refused requests recorded per directory and minute at most: a client hammering with a
/// dead token (or someone guessing) must not flood the tenant's trail.
const REFUSALS_PER_MINUTE: u32 = 30;

/// Counts the refused requests recorded per directory.
#[derive(Debug, Clone)]
pub(crate) struct RefusalRecords(Arc<DefaultKeyedRateLimiter<DirectoryId>>);

impl Default for RefusalRecords {
    fn default() -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(REFUSALS_PER_MINUTE).unwrap_or(NonZeroU32::MIN));
        Self(Arc::new(RateLimiter::keyed(quota)))
    }
}

impl RefusalRecords {
    /// Whether one more refusal of `directory` is recorded now.
    pub(crate) fn admit(&self, directory: DirectoryId) -> bool {
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&directory).is_ok()
    }
}

/// Most of a failed request's (or response's) body kept in its record: enough for the
/// support engineer to see the request, never the whole 4 MiB of a Bulk request.
pub(crate) const KEPT_BODY_BYTES: usize = 8 * 1024;

/// A request refused before its body was read: the connection is closed after the answer
/// (`Connection: close`), so the client does not send its next request down a connection
/// the server is about to drop with the unread body still in it (the client would see a
/// cut connection instead of an answer).
fn unread_body_refused(parts: &axum::http::request::Parts, response: Response) -> Response {
    let has_body = parts.headers.contains_key(header::TRANSFER_ENCODING)
        || parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok())
            .is_some_and(|length| length > 0);
    if has_body { closing_connection(response) } else { response }
}

fn closing_connection(mut response: Response) -> Response {
    response.headers_mut().insert(header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    response
}

pub(crate) async fn authenticate_and_record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let metrics = state.metrics.clone();
    let (directory, response) = admit_and_record(state, request, next, started).await;
    metrics.scim_request(directory, &method, response.status(), started.elapsed());
    response
}

/// The request's answer, and its directory when the request named a known one.
async fn admit_and_record(
    state: AppState,
    request: Request,
    next: Next,
    started: Instant,
) -> (Option<DirectoryId>, Response) {
    let occurred_at = state.effects.now();
    let method = request.method().to_string();
    // Kept redacted like bodies: a query can carry a secret (`filter=password eq "…"`).
    let path = service::audit::redact_query(
        request.uri().path_and_query().map_or_else(|| request.uri().path(), axum::http::uri::PathAndQuery::as_str),
    );
    let (mut parts, body) = request.into_parts();
    // The token is checked before the body is read: a refused request's body is never
    // buffered (a stranger cannot make the server hold 4 MiB for each guess).
    let (tenant, directory, actor, mut detail, response, request_body) = match authenticate(&parts, &state).await {
        Authentication::Accepted(endpoint) => {
            let caller = endpoint.caller().clone();
            let dialect = endpoint.directory().idp;
            let per_second = endpoint.directory().settings.rate_limit_per_second;
            // Read here so that a failed request's body can be kept (the extractors still
            // enforce the smaller limit of non-Bulk requests); reads and deletes have none.
            let (body, request_body) = if matches!(parts.method, Method::GET | Method::HEAD | Method::DELETE) {
                (body, Bytes::new())
            } else {
                match axum::body::to_bytes(body, BULK_MAX_PAYLOAD_BYTES).await {
                    Ok(bytes) => (Body::from(bytes.clone()), bytes),
                    Err(_) => {
                        let too_large = ScimError::PayloadTooLarge(format!(
                            "the request body is larger than {BULK_MAX_PAYLOAD_BYTES} bytes"
                        ));
                        let response = closing_connection(ScimFailure::from(too_large).into_response());
                        return (Some(endpoint.caller().directory), response);
                    }
                }
            };
            let allowed = state
                .scim_rate_limits
                .check(caller.directory, per_second)
                .and_then(|()| state.scim_tenant_limits.check(caller.tenant));
            let response = match allowed {
                Ok(()) => {
                    parts.extensions.insert(*endpoint);
                    next.run(Request::from_parts(parts, body)).await
                }
                Err(wait) => {
                    let retry_after_seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                    ScimFailure::RateLimited { retry_after_seconds }.into_response()
                }
            };
            let actor = format!("token:{}", caller.token);
            (caller.tenant, caller.directory, actor, json!({"dialect": dialect.as_str()}), response, request_body)
        }
        Authentication::Refused(Some(Refused { tenant, directory, refusal })) => {
            let mut detail = json!({"refusal": refusal.as_str(), "explanation": refusal.explanation()});
            if let Some(size) = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()) {
                detail["request_size"] = json!(size.parse::<u64>().ok());
            }
            let response = unread_body_refused(&parts, ScimFailure::Unauthorized.into_response());
            (tenant, directory, "unauthenticated".to_owned(), detail, response, Bytes::new())
        }
        // A request that named no known directory belongs to no tenant's trail, nor does
        // one refused beyond its directory's allowance.
        Authentication::Refused(None) => {
            return (None, unread_body_refused(&parts, ScimFailure::Unauthorized.into_response()));
        }
        Authentication::Failed(failure) => return (None, unread_body_refused(&parts, failure.into_response())),
    };
    let status = response.status();
    let failed = status.is_client_error() || status.is_server_error();
    let resource_id = resource_id(&path, &response);
    let mut response = if failed {
        let (response_parts, response_body) = response.into_parts();
        let bytes = axum::body::to_bytes(response_body, usize::MAX).await.unwrap_or_default();
        if !request_body.is_empty() {
            keep_body(&mut detail, "request", &request_body);
        }
        keep_body(&mut detail, "response", &bytes);
        Response::from_parts(response_parts, Body::from(bytes))
    } else {
        response
    };
    // The attributes each committed write changed, before and after (a failed request may
    // still have committed: a Bulk request with failed operations, or a write whose answer
    // could not be read back).
    let changes = response.extensions_mut().remove::<WriteSummary>().unwrap_or_default();
    let wrote = !changes.is_empty();
    if wrote {
        detail["changes"] = service::audit::redact(&Value::Array(changes.entries().to_vec()));
    }
    let record = NewAuditRecord {
        occurred_at,
        actor,
        action: "scim.request".to_owned(),
        directory: Some(directory),
        method: Some(method),
        path: Some(path),
        status: Some(i32::from(status.as_u16())),
        latency_ms: Some(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)),
        resource_id,
        outcome: if failed { AuditOutcome::Failure } else { AuditOutcome::Success },
        detail,
    };
    if wrote {
        // The client hears of a write only once its record is kept as well.
        state.audit.record_durably(tenant, record).await;
    } else {
        state.audit.record(tenant, record).await;
    }
    (Some(directory), response)
}

/// The resource a request addressed: `…/Users/{id}`, or the one a POST created.
fn resource_id(path: &str, response: &Response) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let last = segments.next()?;
    let before = segments.next()?;
    if store::ResourceKind::ALL.iter().any(|kind| kind.endpoint() == before) && !last.starts_with('.') {
        return Some(last.to_owned());
    }
    let location = response.headers().get(header::LOCATION)?.to_str().ok()?;
    location.rsplit('/').next().map(str::to_owned)
}

/// Keeps a failed request's or response's body in `detail[key]`: as JSON with secrets
/// redacted when it is JSON and its redacted form fits in [`KEPT_BODY_BYTES`]; else the
/// first [`KEPT_BODY_BYTES`] of that redacted form as text, with `{key}_size` (bytes
/// received) and `{key}_truncated`. A body that is not JSON is not kept at all (a password
/// in almost-JSON stays out of the trail): only why it did not parse, and its size.
fn keep_body(detail: &mut Value, key: &str, bytes: &[u8]) {
    if bytes.is_empty() {
        detail[key] = Value::Null;
        return;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(json) => {
            let redacted = service::audit::redact(&json);
            let text = redacted.to_string();
            if text.len() <= KEPT_BODY_BYTES {
                detail[key] = redacted;
            } else {
                let mut end = KEPT_BODY_BYTES;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                detail[key] = Value::String(text[..end].to_owned());
                detail[format!("{key}_size")] = json!(bytes.len());
                detail[format!("{key}_truncated")] = json!(true);
            }
        }
        Err(error) => {
            detail[key] = json!({ "not_json": error.to_string() });
            detail[format!("{key}_size")] = json!(bytes.len());
        }
    }
}
