//! Extractors of SCIM requests; their rejections are SCIM error bodies.

use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::header;
use axum::http::request::Parts;
use scim::error::ScimError;
use serde_json::Value;
use service::directories::{self, AuthenticationError, Refusal};
use service::provisioning::{BULK_MAX_PAYLOAD_BYTES, Endpoint};
use store::DirectoryId;

use super::error::ScimFailure;
use super::now;
use crate::http::AppState;

/// The largest body of a request other than Bulk.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// An authenticated request to one directory's SCIM endpoint, within its rate limit.
pub(crate) struct ScimRequest {
    pub(crate) endpoint: Endpoint,
}

impl FromRequestParts<AppState> for ScimRequest {
    type Rejection = ScimFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // The directory is read from the path itself, so that unknown endpoints of a
        // directory answer 401 before 404, like everything else without a token.
        // Inside the nested router `uri` has lost its prefix; the original has it.
        let uri = parts.extensions.get::<OriginalUri>().map_or(&parts.uri, |original| &original.0);
        let directory: DirectoryId = uri
            .path()
            .strip_prefix("/scim/v2/")
            .and_then(|rest| rest.split('/').next())
            .and_then(|segment| segment.parse().ok())
            .ok_or(ScimFailure::Unauthorized)?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let Some(token) = token else {
            return Err(refused(parts, state, directory, Refusal::NoToken).await);
        };
        let (caller, found, extensions) =
            match directories::authenticate_for_directory(&state.store, directory, token, now()).await {
                Ok(authenticated) => authenticated,
                Err(AuthenticationError::Unauthorized(refusal)) => {
                    return Err(refused(parts, state, directory, refusal).await);
                }
                Err(AuthenticationError::Service(error)) => return Err(ScimFailure::Service(error)),
            };
        let base_url = format!("{}/scim/v2/{directory}", state.portal.public_base);
        let dialect = found.idp;
        let endpoint = Endpoint::for_caller(&state.store, caller.clone(), found, &extensions, base_url)?;
        if let Some(slot) = parts.extensions.get::<super::audit::AuditSlot>() {
            slot.fill(caller, dialect, endpoint.write_log());
        }
        let per_second = endpoint.directory().settings.rate_limit_per_second;
        state.scim_rate_limits.check(directory, per_second).map_err(|wait| ScimFailure::RateLimited {
            retry_after_seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        })?;
        Ok(Self { endpoint })
    }
}

/// The answer to a refused credential (the same whatever the reason, and whether or not
/// the directory exists); a known directory's trail records the reason, within
/// [`super::audit::RefusalRecords`]'s allowance.
async fn refused(parts: &Parts, state: &AppState, directory: DirectoryId, refusal: Refusal) -> ScimFailure {
    let Some(slot) = parts.extensions.get::<super::audit::AuditSlot>() else { return ScimFailure::Unauthorized };
    match state.store.directory_owner(directory).await {
        Ok(Some(tenant)) if state.refusal_records.admit(directory) => slot.refuse(tenant, directory, refusal),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, %directory, "cannot look up the directory of a refused request"),
    }
    ScimFailure::Unauthorized
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
