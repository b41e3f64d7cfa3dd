//! The operator API under `/api/v1`: what the vendor's own product calls, with an operator
//! API key (`Authorization: Bearer scimk_…`). Errors are RFC 9457 problem documents. The
//! OpenAPI document at `/api/openapi.json` is derived from these handlers and types.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use service::api_keys::{self, ApiKeyError};
use service::events::{self, Cursor, Event, EventsError};
use store::{ApiKeyId, DirectoryId};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use super::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/directories/{directory}/events", get(directory_events))
        .route("/api/openapi.json", get(openapi_document))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SCIM onboarding portal: operator API",
        version = "1",
        description = "What the operator's own product calls: the ordered, replayable event feed of each directory."
    ),
    paths(directory_events),
    components(schemas(EventPage, Event, Problem)),
    modifiers(&ApiKeyScheme),
    security(("api_key" = []))
)]
struct OperatorApiDocument;

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("An operator API key (`server admin create-api-key`)".to_owned());
        components.add_security_scheme("api_key", SecurityScheme::Http(bearer));
    }
}

/// `GET /api/openapi.json`
async fn openapi_document() -> Response {
    Json(OperatorApiDocument::openapi()).into_response()
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
struct Problem {
    /// `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    kind: &'static str,
    title: String,
    status: u16,
    detail: String,
}

/// A refusal of the operator API, answered as a problem document.
#[derive(Debug)]
pub(crate) enum ApiFailure {
    Unauthorized,
    NotFound(String),
    BadRequest(String),
    Unavailable,
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            ApiFailure::Unauthorized => {
                (StatusCode::UNAUTHORIZED, "the API key is missing, unknown or revoked".to_owned())
            }
            ApiFailure::NotFound(detail) => (StatusCode::NOT_FOUND, detail),
            ApiFailure::BadRequest(detail) => (StatusCode::BAD_REQUEST, detail),
            ApiFailure::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "the service is unavailable; retry later".to_owned())
            }
        };
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"operator-api\""));
        }
        response
    }
}

impl From<service::ServiceError> for ApiFailure {
    fn from(_: service::ServiceError) -> Self {
        // The cause is logged where it happened; callers retry a 503.
        ApiFailure::Unavailable
    }
}

/// A request authenticated with an operator API key.
pub(crate) struct OperatorApiKey(#[allow(dead_code)] pub(crate) ApiKeyId);

impl FromRequestParts<AppState> for OperatorApiKey {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim())
            .ok_or(ApiFailure::Unauthorized)?;
        #[allow(clippy::disallowed_methods)] // the clock is read at the edge
        let now = chrono::Utc::now();
        match api_keys::authenticate_api_key(&state.store, presented, now).await {
            Ok(key) => Ok(Self(key)),
            Err(ApiKeyError::Unauthorized) => Err(ApiFailure::Unauthorized),
            Err(ApiKeyError::Service(error)) => Err(error.into()),
        }
    }
}

/// A page of the event feed, oldest first.
#[derive(Debug, Serialize, ToSchema)]
struct EventPage {
    events: Vec<Event>,
    /// Pass it as `after` to read on; unchanged when there was nothing new.
    next_cursor: String,
    /// More events were already waiting beyond this page: read again without waiting.
    has_more: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EventsQuery {
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
async fn directory_events(
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
        events::read_events(&state.store, directory_id, after, limit, wait).await.map_err(|error| match error {
            EventsError::UnknownDirectory => unknown(),
            other => from_events(other),
        })?;
    Ok(Json(EventPage {
        events: page.events.into_iter().map(|record| Event::new(directory_id, record)).collect(),
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
