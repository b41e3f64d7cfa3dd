//! `GET /admin/directories/{id}/requests/stream`: the SCIM requests of a directory as they
//! arrive, as server-sent events (one `request` event per request, JSON data as the
//! wizard's feed shows it), for the signed-in admin of the directory's tenant. The writer
//! of the audit trail wakes the stream after each batch; a read every few seconds also
//! catches requests that other server processes recorded.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::stream;
use serde::Deserialize;
use service::onboarding::{self, OnboardingError};
use service::session::PortalSession;
use store::{DirectoryId, Store, TenantId};
use tokio::sync::watch;
use tower_sessions::Session;

use super::AppState;

/// How often the stream reads even when this process recorded nothing.
const RECHECK: Duration = Duration::from_secs(5);

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/admin/directories/{directory}/requests/stream", get(stream_requests))
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamQuery {
    /// The newest request the page already shows; absent: only requests from now on.
    after: Option<i64>,
}

struct Cursor {
    store: Store,
    tenant: TenantId,
    directory: DirectoryId,
    after: i64,
    appended: watch::Receiver<u64>,
    ready: VecDeque<Event>,
}

async fn stream_requests(
    State(state): State<AppState>,
    session: Session,
    Path(directory): Path<String>,
    Query(query): Query<StreamQuery>,
) -> Response {
    // A session that cannot be read is treated as signed out.
    let Ok(Some(admin)) = PortalSession::new(session).admin().await else {
        return (StatusCode::UNAUTHORIZED, "Sign in as an admin of this organisation.").into_response();
    };
    let tenant = admin.tenant;
    let Ok(directory) = directory.parse::<DirectoryId>() else {
        return (StatusCode::NOT_FOUND, "There is no such directory in your organisation.").into_response();
    };
    let newest = match onboarding::recent_requests(&state.store, tenant, directory, 0, 1).await {
        Ok(newest) => newest,
        Err(OnboardingError::NotFound) => {
            return (StatusCode::NOT_FOUND, "There is no such directory in your organisation.").into_response();
        }
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let after = query.after.unwrap_or_else(|| newest.first().map_or(0, |request| request.seq));
    let cursor = Cursor {
        store: state.store.clone(),
        tenant,
        directory,
        after,
        appended: state.audit.appended(),
        ready: VecDeque::new(),
    };
    let events = stream::unfold(cursor, |mut cursor| async move {
        loop {
            if let Some(event) = cursor.ready.pop_front() {
                return Some((Ok::<Event, Infallible>(event), cursor));
            }
            match onboarding::recent_requests(&cursor.store, cursor.tenant, cursor.directory, cursor.after, 50).await {
                Ok(requests) if !requests.is_empty() => {
                    // Newest first from the store; sent oldest first.
                    for request in requests.into_iter().rev() {
                        cursor.after = cursor.after.max(request.seq);
                        let view = app::pages::wizard::calls::request_view(request);
                        if let Ok(event) = Event::default().event("request").json_data(&view) {
                            cursor.ready.push_back(event);
                        }
                    }
                }
                // Nothing new, or the database is away for a moment: wait and read again.
                _ => {
                    if let Ok(Err(_)) = tokio::time::timeout(RECHECK, cursor.appended.changed()).await {
                        // The writer has stopped (shutting down): read on, slowly.
                        tokio::time::sleep(RECHECK).await;
                    }
                }
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}
