//! Extractors of operator API requests; their rejections are problem documents.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use service::api_keys::AuthenticatedKey;
use store::ApiKeyId;

use super::problem::ApiFailure;
use crate::http::AppState;
use crate::http::api_access::{Refusal, key_for};

/// A request authenticated with an operator API key that reaches the route's area.
pub(crate) struct OperatorApiKey(pub(crate) AuthenticatedKey);

impl OperatorApiKey {
    pub(crate) fn id(&self) -> ApiKeyId {
        self.0.id
    }

    /// The vendor's product, as the audit trail names what it does with this key.
    pub(crate) fn actor(&self) -> service::Actor {
        service::Actor::ApiKey(self.0.id)
    }
}

impl FromRequestParts<AppState> for OperatorApiKey {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match key_for(parts, state).await {
            Ok(key) => Ok(Self(key)),
            Err(Refusal::Unauthorized) => Err(ApiFailure::Unauthorized),
            Err(Refusal::Forbidden(reason)) => Err(ApiFailure::Forbidden(reason)),
            Err(Refusal::Service(error)) => Err(error.into()),
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
