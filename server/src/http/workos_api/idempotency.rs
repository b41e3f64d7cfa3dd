//! The `Idempotency-Key` of POSTs (see `service::idempotency`): the first request with a key
//! is answered and its answer kept; a retry with the same key and request gets that answer
//! again (marked `Idempotent-Replayed: true`), one still being answered is a 409, and the
//! same key with another request a 422. A failed request keeps nothing, so its retry runs
//! again. Requests without a key, or without a valid API key (which the handler refuses),
//! pass through.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use service::directory_sync::SyncError;
use service::idempotency::{self, MAX_KEY_LENGTH};
use store::Reservation;

use super::{Failure, authenticate};
use crate::http::AppState;

/// The largest body a POST of this API takes.
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub(super) async fn idempotent(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get("idempotency-key").map(|value| value.to_str().map(str::to_owned)) else {
        return next.run(request).await;
    };
    let key = match key {
        Ok(key) if !key.trim().is_empty() && key.len() <= MAX_KEY_LENGTH => key,
        _ => {
            let message = format!("`Idempotency-Key` must be 1 to {MAX_KEY_LENGTH} visible characters");
            return Failure::Sync(SyncError::Invalid { field: "idempotency_key", message }).into_response();
        }
    };
    let Ok(api_key) = authenticate(&state, request.headers()).await else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return Failure::TooLarge.into_response();
    };
    let target = parts.uri.path_and_query().map_or("", |target| target.as_str());
    let digest = idempotency::request_digest(parts.method.as_str(), target, &bytes);
    match idempotency::reserve(&state.store, api_key, &key, &digest, state.effects.now()).await {
        Err(error) => Failure::from(error).into_response(),
        Ok(Reservation::Answered { status, body }) => replay(status, body),
        Ok(Reservation::InProgress) => Failure::Conflict {
            message: "A request with this Idempotency-Key is still being answered; retry later.".to_owned(),
            code: "idempotency_key_in_progress",
        }
        .into_response(),
        Ok(Reservation::Mismatch) => Failure::Sync(SyncError::Invalid {
            field: "idempotency_key",
            message: "This Idempotency-Key was used for a different request.".to_owned(),
        })
        .into_response(),
        Ok(Reservation::Reserved) => {
            let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            answer_and_keep(&state, api_key, &key, response).await
        }
    }
}

/// Passes the first answer on, keeping it when it succeeded and freeing the key otherwise.
async fn answer_and_keep(state: &AppState, api_key: store::ApiKeyId, key: &str, response: Response) -> Response {
    if !response.status().is_success() {
        if let Err(error) = idempotency::release(&state.store, api_key, key).await {
            tracing::warn!(%error, "cannot free an idempotency key after a failed request");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        let _ = idempotency::release(&state.store, api_key, key).await;
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let text = String::from_utf8_lossy(&bytes);
    if let Err(error) = idempotency::keep(&state.store, api_key, key, parts.status.as_u16(), &text).await {
        // The request happened; only a retry would not see its answer again.
        tracing::warn!(%error, "cannot keep the answer to an idempotent request");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use clap::Parser;
    use serde_json::{Value, json};
    use store::testing::TestDatabase;
    use tower::ServiceExt;

    use super::*;

    store::backend_tests!(a_retry_with_the_same_key_gets_the_first_answer_and_runs_nothing_again);

    /// A POST route that counts its runs and fails when the body says so, behind the
    /// middleware, and a request maker with an API key.
    async fn counting_route(db: &TestDatabase) -> (Router, Arc<AtomicUsize>, String) {
        let cli = crate::config::Cli::try_parse_from(["server"]).unwrap();
        let state = crate::http::App::new(&cli.config, db.store.clone()).state;
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&runs);
        let handler = move |body: String| {
            let run = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                if body == "fail" {
                    return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({ "message": "no" })));
                }
                (StatusCode::CREATED, axum::Json(json!({ "run": run })))
            }
        };
        let router = Router::new()
            .route("/things", axum::routing::post(handler))
            .route_layer(axum::middleware::from_fn_with_state(state.clone(), idempotent))
            .with_state(state);
        let key = service::api_keys::issue_api_key(
            &db.store,
            service::api_keys::ApiKeyRequest::full_access("test"),
            None,
            &service::Actor::Cli,
            &service::Effects::system(),
        )
        .await
        .unwrap()
        .secret;
        (router, runs, key)
    }

    async fn send(router: &Router, api_key: &str, key: Option<&str>, body: &str) -> (StatusCode, Value, bool) {
        let mut request = Request::post("/things").header("authorization", format!("Bearer {api_key}"));
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let response = router.clone().oneshot(request.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
        let status = response.status();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), replayed)
    }

    async fn a_retry_with_the_same_key_gets_the_first_answer_and_runs_nothing_again(db: TestDatabase) {
        let (router, runs, api_key) = counting_route(&db).await;

        let first = send(&router, &api_key, Some("retry-1"), "a").await;
        assert_eq!(first, (StatusCode::CREATED, json!({ "run": 1 }), false));
        let retry = send(&router, &api_key, Some("retry-1"), "a").await;
        assert_eq!(retry, (StatusCode::CREATED, json!({ "run": 1 }), true), "the first answer, again");
        assert_eq!(runs.load(Ordering::SeqCst), 1);

        let (status, body, _) = send(&router, &api_key, Some("retry-1"), "b").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["errors"][0]["field"], "idempotency_key");

        // A failure keeps nothing: its retry runs again.
        assert_eq!(send(&router, &api_key, Some("retry-2"), "fail").await.0, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(send(&router, &api_key, Some("retry-2"), "a").await.1, json!({ "run": 3 }));
        assert_eq!(runs.load(Ordering::SeqCst), 3);

        // Without a key, every request runs; a key too long is refused.
        assert_eq!(send(&router, &api_key, None, "a").await.1, json!({ "run": 4 }));
        assert_eq!(send(&router, &api_key, None, "a").await.1, json!({ "run": 5 }));
        let long = "k".repeat(MAX_KEY_LENGTH + 1);
        assert_eq!(send(&router, &api_key, Some(&long), "a").await.0, StatusCode::UNPROCESSABLE_ENTITY);

        // Another API key's requests never see this key's answers.
        let other = service::api_keys::issue_api_key(
            &db.store,
            service::api_keys::ApiKeyRequest::full_access("other"),
            None,
            &service::Actor::Cli,
            &service::Effects::system(),
        )
        .await
        .unwrap()
        .secret;
        assert_eq!(
            send(&router, &other, Some("retry-1"), "a").await,
            (StatusCode::CREATED, json!({ "run": 6 }), false)
        );
    }
}
