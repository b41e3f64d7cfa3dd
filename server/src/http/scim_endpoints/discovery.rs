//! What a directory says about itself (RFC 7644 §4), and the answers to paths it does not
//! serve.

use axum::extract::Path;
use scim::error::ScimError;

use super::extract::ScimRequest;
use super::{Scim, ScimResult};

/// RFC 7644 §4 Service Provider Configuration Endpoints: `GET /ServiceProviderConfig`
pub(super) async fn service_provider_config(request: ScimRequest) -> ScimResult {
    Ok(Scim::ok(request.endpoint.service_provider_config()))
}

/// RFC 7644 §4: `GET /ResourceTypes`
pub(super) async fn resource_types(request: ScimRequest) -> ScimResult {
    Ok(Scim::ok(request.endpoint.resource_types()))
}

/// RFC 7644 §4: `GET /ResourceTypes/{name}`
pub(super) async fn resource_type(request: ScimRequest, Path((_, name)): Path<(String, String)>) -> ScimResult {
    Ok(Scim::ok(request.endpoint.resource_type(&name)?))
}

/// RFC 7644 §4: `GET /Schemas`
pub(super) async fn schemas(request: ScimRequest) -> ScimResult {
    Ok(Scim::ok(request.endpoint.schemas()))
}

/// RFC 7644 §4: `GET /Schemas/{urn}`
pub(super) async fn schema(request: ScimRequest, Path((_, id)): Path<(String, String)>) -> ScimResult {
    Ok(Scim::ok(request.endpoint.schema(&id)?))
}

/// RFC 7644 §3.11 "/Me" Authenticated Subject Alias: here the authenticated subject is an
/// identity provider's token, not a user, so the endpoint is not implemented.
pub(super) async fn me(_request: ScimRequest) -> ScimResult {
    Err(ScimError::NotImplemented(
        "/Me is not supported: the caller is an identity provider's token, not a user".to_owned(),
    )
    .into())
}

/// Any other path under the directory: 404 once authenticated (401 before), so that
/// probing for endpoints without a token learns nothing.
pub(super) async fn unknown_endpoint(_request: ScimRequest) -> ScimResult {
    Err(ScimError::NotFound("no such SCIM endpoint".to_owned()).into())
}
