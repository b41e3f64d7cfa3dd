//! A directory's event feed: its changes in commit order, replayable from any cursor, with
//! long-polling.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use service::events::{self, Cursor, Event, EventsError};
use store::DirectoryId;
use utoipa::{IntoParams, ToSchema};

use super::extract::OperatorApiKey;
use super::problem::{ApiFailure, Problem};
use crate::http::AppState;

/// A page of the event feed, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct EventPage {
    events: Vec<Event>,
    /// Pass it as `after` to read on; unchanged when there was nothing new.
    next_cursor: String,
    /// More events were already waiting beyond this page: read again without waiting.
    has_more: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EventsQuery {
    /// The `cursor` of the last event seen (or a page's `next_cursor`); empty or absent to
    /// start from the directory's first event.
    after: Option<String>,
    /// Most events to return, 1 to 1000 (default 100).
    limit: Option<String>,
    /// Seconds to wait for an event when there is none yet, 0 to 25 (default 0):
    /// long-polling.
    wait: Option<String>,
}

/// The changes of a directory in commit order, replayable from any cursor.
#[utoipa::path(
    get,
    path = "/api/v1/directories/{directory}/events",
    params(("directory" = String, Path, description = "The directory's id"), EventsQuery),
    responses(
        (status = 200, description = "Events after the cursor", body = EventPage),
        (status = 400, description = "A bad cursor, limit or wait", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such directory", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn directory_events(
    _key: OperatorApiKey,
    State(state): State<AppState>,
    Path(directory): Path<String>,
    Query(query): Query<EventsQuery>,
) -> Result<Json<EventPage>, ApiFailure> {
    let unknown = || ApiFailure::NotFound(format!("there is no directory {directory}"));
    let directory_id: DirectoryId = directory.parse().map_err(|_| unknown())?;
    let after = Cursor::parse(query.after.as_deref().unwrap_or_default()).map_err(from_events)?;
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(text) => text.parse().map_err(|_| ApiFailure::BadRequest(format!("limit {text:?} is not a number")))?,
    };
    let wait = match query.wait.as_deref() {
        None => Duration::ZERO,
        Some(text) => text
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
            .filter(|wait| *wait <= events::MAX_WAIT)
            .ok_or_else(|| ApiFailure::BadRequest(format!("wait must be 0 to 25 seconds, not {text:?}")))?,
    };
    let page =
        events::read_events(&state.store, directory_id, after, limit, wait, &state.effects).await.map_err(|error| {
            match error {
                EventsError::UnknownDirectory => unknown(),
                other => from_events(other),
            }
        })?;
    Ok(Json(EventPage {
        events: page.events.into_iter().map(|record| Event::new(page.tenant, directory_id, record)).collect(),
        next_cursor: page.next_cursor.to_text(),
        has_more: page.has_more,
    }))
}

fn from_events(error: EventsError) -> ApiFailure {
    match error {
        EventsError::UnknownDirectory => ApiFailure::NotFound("no such directory".to_owned()),
        EventsError::InvalidCursor(detail) => ApiFailure::BadRequest(detail),
        EventsError::InvalidLimit => ApiFailure::BadRequest(EventsError::InvalidLimit.to_string()),
        EventsError::Service(error) => error.into(),
    }
}
