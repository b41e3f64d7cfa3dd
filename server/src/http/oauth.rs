//! `POST /oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for identity
//! providers configured with a client id and secret instead of a long-lived bearer token.
//! The access token it returns is a bearer token of the client's directory that expires
//! after an hour; errors follow RFC 6749 §5.2.

use std::collections::HashMap;

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use service::directories::{self, GrantError};

use super::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/oauth/token", post(token))
}

/// An RFC 6749 §5.2 error response.
fn refuse(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (status, axum::Json(json!({"error": error, "error_description": description}))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"oauth\""));
    }
    no_store(response)
}

/// Token responses must not be cached (RFC 6749 §5.1).
fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Client credentials from HTTP Basic authentication (RFC 6749 §2.3.1), if sent.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return match form.get("grant_type") {
            None => refuse(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required"),
            Some(_) => {
                refuse(StatusCode::BAD_REQUEST, "unsupported_grant_type", "only client_credentials is supported")
            }
        };
    }
    let credentials = basic_credentials(&headers)
        .or_else(|| Some((form.get("client_id")?.clone(), form.get("client_secret")?.clone())));
    let Some((client_id, secret)) = credentials else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "send the client id and secret (HTTP Basic or form)",
        );
    };
    match directories::exchange_client_credentials(&state.store, &client_id, &secret, &state.effects).await {
        Ok(token) => no_store(
            axum::Json(json!({
                "access_token": token.token,
                "token_type": "Bearer",
                "expires_in": token.expires_in_seconds,
            }))
            .into_response(),
        ),
        Err(GrantError::InvalidClient) => refuse(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "the client id or secret is wrong, or the client was revoked",
        ),
        Err(GrantError::Service(_)) => {
            refuse(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "retry later")
        }
    }
}
