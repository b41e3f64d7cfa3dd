//! Who may call the operator API and the WorkOS-compatible API: an operator API key that
//! reaches the route's area. Each route names its area once, where it is registered
//! ([`in_area`]); the extractors of both APIs ask [`key_for`] and answer a refusal in
//! their own format.

use axum::Extension;
use axum::http::Method;
use axum::http::request::Parts;
use axum::routing::MethodRouter;
use service::api_keys::{self, ApiArea, ApiKeyError, AuthenticatedKey};

use super::AppState;

/// Registers `handler` as a route of `area`.
pub(crate) fn in_area(area: ApiArea, handler: MethodRouter<AppState>) -> MethodRouter<AppState> {
    handler.layer(Extension(area))
}

/// Why a request was not let through.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// 401: no key, or one unknown, expired or revoked.
    Unauthorized,
    /// 403: a good key that does not reach the route (the reason in words).
    Forbidden(String),
    Service(service::ServiceError),
}

/// The request's key, if it reaches the route's area (for writing unless the method only
/// reads).
pub(crate) async fn key_for(parts: &Parts, state: &AppState) -> Result<AuthenticatedKey, Refusal> {
    let presented = super::bearer_credential(&parts.headers).ok_or(Refusal::Unauthorized)?;
    let key = match api_keys::authenticate_api_key(&state.store, presented, state.effects.now()).await {
        Ok(key) => key,
        Err(ApiKeyError::Unauthorized) => return Err(Refusal::Unauthorized),
        Err(ApiKeyError::Service(error)) => return Err(Refusal::Service(error)),
    };
    let Some(area) = parts.extensions.get::<ApiArea>().copied() else {
        // Every route is registered through `in_area`; one that is not is refused to all.
        tracing::error!(path = %parts.uri.path(), "an API route without an area");
        return Err(Refusal::Service(service::ServiceError::Internal("an API route without an area".into())));
    };
    let write = !matches!(parts.method, Method::GET | Method::HEAD);
    key.require(area, write).map_err(Refusal::Forbidden)?;
    Ok(key)
}
