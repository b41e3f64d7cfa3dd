//! Who calls a directory's SCIM endpoint: the bearer token, checked against the directory
//! the path names. Run once per request by the middleware in [`super::audit`], which hands
//! the opened [`Endpoint`] to the handlers and records the outcome.

use axum::extract::OriginalUri;
use axum::http::request::Parts;
use service::directories::{self, AuthenticationError, Refusal};
use service::provisioning::Endpoint;
use store::{DirectoryId, TenantId};

use super::error::ScimFailure;

use crate::http::AppState;

/// The outcome of authenticating one request.
#[derive(Debug)]
pub(super) enum Authentication {
    /// The directory's endpoint, opened for the token's caller.
    Accepted(Box<Endpoint>),
    /// No valid token for this directory. The answer is the same whatever the reason;
    /// `Some` when the refusal goes into a known directory's trail (within
    /// [`super::audit::RefusalRecords`]' allowance).
    Refused(Option<Refused>),
    /// Our failure while checking the token.
    Failed(ScimFailure),
}

/// A refusal at a known directory, as its tenant's trail records it.
#[derive(Debug)]
pub(super) struct Refused {
    pub(super) tenant: TenantId,
    pub(super) directory: DirectoryId,
    pub(super) refusal: Refusal,
}

/// Checks the request's bearer token against the directory in its path.
pub(super) async fn authenticate(parts: &Parts, state: &AppState) -> Authentication {
    // The directory is read from the path itself, so that unknown endpoints of a
    // directory answer 401 before 404, like everything else without a token. Inside a
    // nested router `uri` has lost its prefix; the original has it.
    let uri = parts.extensions.get::<OriginalUri>().map_or(&parts.uri, |original| &original.0);
    let directory: Option<DirectoryId> = uri
        .path()
        .strip_prefix("/scim/v2/")
        .and_then(|rest| rest.split('/').next())
        .and_then(|segment| segment.parse().ok());
    let Some(directory) = directory else { return Authentication::Refused(None) };
    let Some(token) = crate::http::bearer_credential(&parts.headers) else {
        return refused(state, directory, Refusal::NoToken).await;
    };
    let (caller, found, extensions) =
        match directories::authenticate_for_directory(&state.store, directory, token, state.effects.now()).await {
            Ok(authenticated) => authenticated,
            Err(AuthenticationError::Unauthorized(refusal)) => return refused(state, directory, refusal).await,
            Err(AuthenticationError::Service(error)) => return Authentication::Failed(ScimFailure::Service(error)),
        };
    let base_url = format!("{}/scim/v2/{directory}", state.portal.public_base);
    match Endpoint::for_caller(&state.store, caller, found, &extensions, base_url, state.effects.clone()) {
        Ok(endpoint) => Authentication::Accepted(Box::new(endpoint)),
        Err(error) => Authentication::Failed(error.into()),
    }
}

/// A refusal, kept for the directory's trail when the directory exists and its allowance
/// of recorded refusals is not spent.
async fn refused(state: &AppState, directory: DirectoryId, refusal: Refusal) -> Authentication {
    match state.store.directory_owner(directory).await {
        Ok(Some(tenant)) if state.refusal_records.admit(directory) => {
            Authentication::Refused(Some(Refused { tenant, directory, refusal }))
        }
        Ok(_) => Authentication::Refused(None),
        Err(error) => {
            tracing::warn!(%error, %directory, "cannot look up the directory of a refused request");
            Authentication::Refused(None)
        }
    }
}
