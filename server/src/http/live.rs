//! `GET /admin/directories/{id}/requests/stream`: the SCIM requests of a directory as they
//! arrive, as server-sent events (one `request` event per request, JSON data as the
//! wizard's feed shows it), for the signed-in admin of the directory's tenant. The writer
//! of the audit trail wakes the stream after each batch; a read every few seconds also
//! catches requests that other server processes recorded.
//!
//! A stream outlives no session: every [`LiveStreams::recheck`] it reads the session from
//! the database again and ends once it is gone (signed out, expired, ended elsewhere). One
//! admin holds at most [`STREAMS_PER_ADMIN`] streams at once (a tab each); past that, 429.

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

/// Live streams one admin may hold open at once.
pub(crate) const STREAMS_PER_ADMIN: usize = 4;

/// The live streams open in this process, per admin, and how often each re-reads its
/// session.
#[derive(Debug, Clone)]
pub(crate) struct LiveStreams {
    open: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
    recheck: Duration,
}

impl LiveStreams {
    pub(crate) fn new(recheck: Duration) -> Self {
        Self { open: std::sync::Arc::default(), recheck }
    }

    /// A place for one more stream of `holder`, if they have one left.
    fn admit(&self, holder: String) -> Option<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(holder.clone()).or_insert(0);
        if *count >= STREAMS_PER_ADMIN {
            return None;
        }
        *count += 1;
        Some(StreamSlot { streams: self.clone(), holder })
    }
}

/// One open stream's place; given back when the stream ends (the client left, the session
/// ended, the server stops).
#[derive(Debug)]
struct StreamSlot {
    streams: LiveStreams,
    holder: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.holder) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.holder);
            }
        }
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/admin/directories/{directory}/requests/stream", get(stream_requests))
}

#[derive(Debug, Deserialize)]
pub(crate) struct StreamQuery {
    /// The newest request the page already shows; absent: only requests from now on.
    after: Option<i64>,
}

struct Cursor {
    /// Held while the stream lives.
    _slot: StreamSlot,
    /// The session's id, read again from the database every `recheck`.
    session_id: Option<String>,
    recheck: Duration,
    checked_at: tokio::time::Instant,
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
    let session_id = session.id().map(|id| id.to_string());
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
    let Some(slot) = state.live_streams.admit(admin.actor().audit_name()) else {
        let message =
            format!("You have {STREAMS_PER_ADMIN} live views open already. Close one (a tab of this page) and reload.");
        return (StatusCode::TOO_MANY_REQUESTS, message).into_response();
    };
    let cursor = Cursor {
        _slot: slot,
        session_id,
        recheck: state.live_streams.recheck,
        checked_at: tokio::time::Instant::now(),
        store: state.store.clone(),
        tenant,
        directory,
        after,
        appended: state.audit.appended(),
        ready: VecDeque::new(),
    };
    let events = stream::unfold(cursor, |mut cursor| async move {
        loop {
            if cursor.checked_at.elapsed() >= cursor.recheck {
                cursor.checked_at = tokio::time::Instant::now();
                // Ended when the session is gone; kept when the database is away a moment.
                let id = cursor.session_id.as_deref().unwrap_or_default();
                if let Ok(false) = service::session::still_signed_in(&cursor.store, id).await {
                    return None;
                }
            }
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
                    let wait = RECHECK.min(cursor.recheck);
                    if let Ok(Err(_)) = tokio::time::timeout(wait, cursor.appended.changed()).await {
                        // The writer has stopped (shutting down): read on, slowly.
                        tokio::time::sleep(RECHECK).await;
                    }
                }
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default()).into_response()
}
