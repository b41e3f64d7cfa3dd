//! The signed checkpoints of a tenant's audit chain, for a copy kept outside the database:
//! `GET /admin/audit/checkpoints` for the signed-in tenant admin and
//! `GET /api/v1/tenants/{slug}/audit/checkpoints` for the operator API, both JSON Lines,
//! oldest first, streamed in pages; and the public keys they are checked against,
//! `GET /.well-known/audit-signing-keys`, for anyone (a public key is no secret).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::{StreamExt as _, stream};
use serde_json::json;
use service::session::PortalSession;
use store::{Store, TenantId};
use tower_sessions::Session;

use super::AppState;

/// Checkpoints read per database round trip.
const PAGE: i64 = 1000;

/// The portal's route (session-authenticated; inside the session layer).
pub(crate) fn portal_router() -> Router<AppState> {
    Router::new().route("/admin/audit/checkpoints", get(admin_export))
}

/// The public route.
pub(crate) fn public_router() -> Router<AppState> {
    Router::new().route("/.well-known/audit-signing-keys", get(signing_keys))
}

async fn admin_export(State(state): State<AppState>, session: Session) -> Response {
    // A session that cannot be read is treated as signed out.
    let Ok(Some(admin)) = PortalSession::new(session).admin().await else {
        return (StatusCode::UNAUTHORIZED, "Sign in as an admin of this organisation.").into_response();
    };
    export(state.store.clone(), admin.tenant)
}

/// The trusted public keys, the signing key's first.
async fn signing_keys(State(state): State<AppState>) -> Json<serde_json::Value> {
    let keys: Vec<_> = state
        .audit_keys
        .iter()
        .map(|key| json!({ "algorithm": "Ed25519", "key_id": key.key_id(), "public_key": key.to_base64() }))
        .collect();
    Json(json!({ "keys": keys }))
}

/// The response streaming `tenant`'s checkpoints, oldest first, one JSON object a line.
pub(crate) fn export(store: Store, tenant: TenantId) -> Response {
    let pages = stream::unfold(Some(0_i64), move |after| {
        let store = store.clone();
        async move {
            let after = after?;
            match store.tenant(tenant).audit_checkpoints(after, PAGE).await {
                Ok(page) => {
                    let next = (page.len() as i64 == PAGE).then(|| page.last().map_or(after, |last| last.seq));
                    let mut chunk = Vec::new();
                    for checkpoint in &page {
                        chunk.extend_from_slice(
                            service::audit_checkpoints::checkpoint_json(checkpoint).to_string().as_bytes(),
                        );
                        chunk.push(b'\n');
                    }
                    Some((Ok(Bytes::from(chunk)), next))
                }
                Err(error) => {
                    tracing::error!(%error, %tenant, "audit checkpoint export cut short");
                    Some((Err(std::io::Error::other("the checkpoints could not be read to the end")), None))
                }
            }
        }
    })
    // Ended stays ended, however often the compression layer polls (see `audit_export`).
    .fuse();
    let mut response = Body::from_stream(pages).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit-checkpoints.jsonl\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
