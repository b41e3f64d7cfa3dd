//! Extractors of operator API requests; their rejections are problem documents.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use service::api_keys::{self, ApiKeyError};
use store::ApiKeyId;

use super::problem::ApiFailure;
use crate::http::AppState;

/// A request authenticated with an operator API key.
pub(crate) struct OperatorApiKey(pub(crate) ApiKeyId);

impl OperatorApiKey {
    /// The vendor's product, as the audit trail names what it does with this key.
    pub(crate) fn actor(&self) -> service::Actor {
        service::Actor::ApiKey(self.0)
    }
}

impl FromRequestParts<AppState> for OperatorApiKey {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = crate::http::bearer_credential(&parts.headers).ok_or(ApiFailure::Unauthorized)?;
        let now = state.effects.now();
        match api_keys::authenticate_api_key(&state.store, presented, now).await {
            Ok(key) => Ok(Self(key)),
            Err(ApiKeyError::Unauthorized) => Err(ApiFailure::Unauthorized),
            Err(ApiKeyError::Service(error)) => Err(error.into()),
        }
    }
}

/// A JSON body whose rejection is a problem document.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiFailure;

    async fn from_request(request: axum::extract::Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiFailure::BadRequest(rejection.body_text())),
        }
    }
}
