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

/// Most of a failed response's body kept in the record.
const KEPT_RESPONSE_BYTES: usize = 64 * 1024;

pub(crate) async fn authenticate_and_record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let occurred_at = state.effects.now();
    let started = Instant::now();
    let method = request.method().to_string();
    let path =
        request.uri().path_and_query().map_or_else(|| request.uri().path().to_owned(), |p| p.as_str().to_owned());
    let (mut parts, body) = request.into_parts();
    // A body is read here so that a failed request's body can be kept (the extractors
    // still enforce the smaller limit of non-Bulk requests); reads and deletes have none.
    let (body, request_body) = if matches!(parts.method, Method::GET | Method::HEAD | Method::DELETE) {
        (body, Bytes::new())
    } else {
        let Ok(bytes) = axum::body::to_bytes(body, BULK_MAX_PAYLOAD_BYTES).await else {
            let too_large =
                ScimError::PayloadTooLarge(format!("the request body is larger than {BULK_MAX_PAYLOAD_BYTES} bytes"));
            return ScimFailure::from(too_large).into_response();
        };
        (Body::from(bytes.clone()), bytes)
    };
    let (tenant, directory, actor, mut detail, response) = match authenticate(&parts, &state).await {
        Authentication::Accepted(endpoint) => {
            let caller = endpoint.caller().clone();
            let dialect = endpoint.directory().idp;
            let per_second = endpoint.directory().settings.rate_limit_per_second;
            let response = match state.scim_rate_limits.check(caller.directory, per_second) {
                Ok(()) => {
                    parts.extensions.insert(endpoint);
                    next.run(Request::from_parts(parts, body)).await
                }
                Err(wait) => {
                    let retry_after_seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                    ScimFailure::RateLimited { retry_after_seconds }.into_response()
                }
            };
            let actor = format!("token:{}", caller.token);
            (caller.tenant, caller.directory, actor, json!({"dialect": dialect.as_str()}), response)
        }
        Authentication::Refused(Some(Refused { tenant, directory, refusal })) => {
            let detail = json!({"refusal": refusal.as_str(), "explanation": refusal.explanation()});
            (tenant, directory, "unauthenticated".to_owned(), detail, ScimFailure::Unauthorized.into_response())
        }
        // A request that named no known directory belongs to no tenant's trail, nor does
        // one refused beyond its directory's allowance.
        Authentication::Refused(None) => return ScimFailure::Unauthorized.into_response(),
        Authentication::Failed(failure) => return failure.into_response(),
    };
    let status = response.status();
    let failed = status.is_client_error() || status.is_server_error();
    let resource_id = resource_id(&path, &response);
    let mut response = if failed {
        let (response_parts, response_body) = response.into_parts();
        let bytes = axum::body::to_bytes(response_body, usize::MAX).await.unwrap_or_default();
        detail["request"] = kept_body(&request_body);
        detail["response"] = kept_body(&bytes[..bytes.len().min(KEPT_RESPONSE_BYTES)]);
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
    response
}

/// The resource a request addressed: `…/Users/{id}`, or the one a POST created.
fn resource_id(path: &str, response: &Response) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let last = segments.next()?;
    let before = segments.next()?;
    if matches!(before, "Users" | "Groups") && !last.starts_with('.') {
        return Some(last.to_owned());
    }
    let location = response.headers().get(header::LOCATION)?.to_str().ok()?;
    location.rsplit('/').next().map(str::to_owned)
}

/// A body as kept: JSON with secrets redacted, or the text when it is not JSON.
fn kept_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(json) => service::audit::redact(&json),
        Err(_) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}
