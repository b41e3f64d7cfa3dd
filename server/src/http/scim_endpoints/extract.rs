//! Extractors of SCIM requests; their rejections are SCIM error bodies.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use scim::error::ScimError;
use serde_json::Value;
use service::ServiceError;
use service::provisioning::{BULK_MAX_PAYLOAD_BYTES, Endpoint};

use super::error::ScimFailure;
use crate::http::AppState;

/// The largest body of a request other than Bulk.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// An authenticated request to one directory's SCIM endpoint, within its rate limit: the
/// endpoint [`super::audit::authenticate_and_record`] opened for the caller.
pub(crate) struct ScimRequest {
    pub(crate) endpoint: Endpoint,
    /// The request's time, from the application's clock, for the writes it makes.
    pub(crate) now: chrono::DateTime<chrono::Utc>,
}

impl FromRequestParts<AppState> for ScimRequest {
    type Rejection = ScimFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match parts.extensions.remove::<Endpoint>() {
            Some(endpoint) => Ok(Self { endpoint, now: state.effects.now() }),
            None => {
                // A route outside the router that authenticates: a bug, never a client's doing.
                tracing::error!(path = %parts.uri.path(), "a SCIM handler ran without the authenticating middleware");
                Err(ScimFailure::Service(ServiceError::Internal("unauthenticated SCIM handler".to_owned())))
            }
        }
    }
}

/// A JSON body sent as `application/scim+json` or `application/json` (RFC 7644 §3.1).
pub(crate) struct ScimJson(pub(crate) Value);

impl FromRequest<AppState> for ScimJson {
    type Rejection = ScimFailure;

    async fn from_request(request: Request, _state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if let Some(content_type) = content_type {
            let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
            if !(essence == "application/json" || essence.ends_with("+json")) {
                return Err(ScimError::InvalidSyntax(format!(
                    "the body must be application/scim+json or application/json, not {essence}"
                ))
                .into());
            }
        }
        let limit = if request.uri().path().ends_with("/Bulk") { BULK_MAX_PAYLOAD_BYTES } else { MAX_BODY_BYTES };
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| ScimError::PayloadTooLarge(format!("the request body is larger than {limit} bytes")))?;
        let body = serde_json::from_slice(&bytes)
            .map_err(|e| ScimError::InvalidSyntax(format!("the body is not valid JSON: {e}")))?;
        Ok(Self(body))
    }
}
