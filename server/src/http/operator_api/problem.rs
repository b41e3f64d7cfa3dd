//! The one error format of the operator API: RFC 9457 problem documents
//! (`application/problem+json`), and the conversions of service errors into them.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scim::error::ScimError;
use serde::Serialize;
use service::provisioning::ProvisioningError;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Problem {
    /// `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    kind: &'static str,
    title: String,
    status: u16,
    detail: String,
}

/// A refusal of the operator API, answered as a problem document.
#[derive(Debug)]
pub(crate) enum ApiFailure {
    Unauthorized,
    /// A good key that does not reach the route (why, in words).
    Forbidden(String),
    NotFound(String),
    BadRequest(String),
    Conflict(String),
    /// A server this one relies on (the SMTP server) refused or could not be reached.
    BadGateway(String),
    Unavailable,
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            ApiFailure::Unauthorized => {
                (StatusCode::UNAUTHORIZED, "the API key is missing, unknown, expired or revoked".to_owned())
            }
            ApiFailure::Forbidden(detail) => (StatusCode::FORBIDDEN, detail),
            ApiFailure::NotFound(detail) => (StatusCode::NOT_FOUND, detail),
            ApiFailure::BadRequest(detail) => (StatusCode::BAD_REQUEST, detail),
            ApiFailure::Conflict(detail) => (StatusCode::CONFLICT, detail),
            ApiFailure::BadGateway(detail) => (StatusCode::BAD_GATEWAY, detail),
            ApiFailure::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "the service is unavailable; retry later".to_owned())
            }
        };
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"operator-api\""));
        }
        response
    }
}

impl From<service::ServiceError> for ApiFailure {
    fn from(_: service::ServiceError) -> Self {
        // The cause is logged where it happened; callers retry a 503.
        ApiFailure::Unavailable
    }
}

impl From<service::directories::AddDirectoryError> for ApiFailure {
    fn from(error: service::directories::AddDirectoryError) -> Self {
        match error {
            service::directories::AddDirectoryError::TooMany { .. } => ApiFailure::Conflict(error.to_string()),
            service::directories::AddDirectoryError::Service(error) => error.into(),
        }
    }
}

/// A SCIM protocol error (reading a directory's users and groups) as a problem: 404 stays
/// 404, the rest is the client's mistake.
impl From<ScimError> for ApiFailure {
    fn from(error: ScimError) -> Self {
        if error.status() == 404 {
            ApiFailure::NotFound(error.detail().to_owned())
        } else {
            ApiFailure::BadRequest(error.detail().to_owned())
        }
    }
}

impl From<ProvisioningError> for ApiFailure {
    fn from(error: ProvisioningError) -> Self {
        match error {
            ProvisioningError::Protocol(error) => error.into(),
            ProvisioningError::Service(error) => error.into(),
        }
    }
}
