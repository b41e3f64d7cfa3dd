//! The one place where failures of SCIM requests become responses: a SCIM error body
//! (RFC 7644 §3.12) with the right status, `scimType` and headers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scim::error::ScimError;
use service::ServiceError;
use service::provisioning::ProvisioningError;

use super::SCIM_JSON;

/// Why a SCIM request failed.
#[derive(Debug)]
pub(crate) enum ScimFailure {
    /// The client's request is wrong; it is told why.
    Protocol(ScimError),
    /// No valid token for this directory. One answer for every cause (missing, unknown,
    /// expired, revoked, another directory's, or no such directory), so that it reveals
    /// nothing.
    Unauthorized,
    /// The directory's rate limit is exhausted for this many seconds.
    RateLimited { retry_after_seconds: u64 },
    /// Our failure: logged where it happened; the client retries.
    Service(ServiceError),
}

impl From<ScimError> for ScimFailure {
    fn from(error: ScimError) -> Self {
        ScimFailure::Protocol(error)
    }
}

impl From<ProvisioningError> for ScimFailure {
    fn from(error: ProvisioningError) -> Self {
        match error {
            ProvisioningError::Protocol(error) => ScimFailure::Protocol(error),
            ProvisioningError::Service(error) => ScimFailure::Service(error),
        }
    }
}

/// Identity providers retry a 503 after a pause; this is the pause suggested.
const RETRY_AFTER_UNAVAILABLE_SECONDS: u64 = 5;

impl IntoResponse for ScimFailure {
    fn into_response(self) -> Response {
        let (error, retry_after) = match self {
            ScimFailure::Protocol(error) => (error, None),
            ScimFailure::Unauthorized => {
                let error = ScimError::Unauthorized(
                    "a valid bearer token for this directory is required (Authorization: Bearer <token>)".to_owned(),
                );
                let mut response = body(&error, StatusCode::UNAUTHORIZED);
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"scim\""));
                return response;
            }
            ScimFailure::RateLimited { retry_after_seconds } => (
                ScimError::TooManyRequests(format!(
                    "this directory's request rate limit is exhausted; retry after {retry_after_seconds} s"
                )),
                Some(retry_after_seconds),
            ),
            ScimFailure::Service(ServiceError::Unavailable(_)) => {
                let detail = "the service is temporarily unavailable; retry later";
                let mut response = status_body(StatusCode::SERVICE_UNAVAILABLE, detail);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_UNAVAILABLE_SECONDS));
                return response;
            }
            ScimFailure::Service(ServiceError::Internal(_)) => {
                (ScimError::Internal("an internal error occurred; it has been logged".to_owned()), None)
            }
        };
        let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = body(&error, status);
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn body(error: &ScimError, status: StatusCode) -> Response {
    (status, [(header::CONTENT_TYPE, SCIM_JSON)], error.to_body().to_string()).into_response()
}

/// An error body for a status `ScimError` has no variant for.
fn status_body(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({
        "schemas": [scim::error::ERROR_SCHEMA],
        "status": status.as_u16().to_string(),
        "detail": detail,
    });
    (status, [(header::CONTENT_TYPE, SCIM_JSON)], body.to_string()).into_response()
}
