//! `GET /portal-link/{secret}`: where an Admin Portal link (see `service::portal_links`)
//! signs its visitor in. A plain route rather than a page: opening the link uses it up and
//! starts a session, which a page's render (run more than once) must never do. Success goes
//! on to the tenant's setup wizard; a link that opens nothing goes to
//! `/portal-link-refused/{reason}`, a page that says why with the status to match (410 for
//! a used or expired link, 404 for an unknown one). Nothing from the address is echoed.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::http::header::REFERRER_POLICY;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use service::portal_links::{self, PortalLinkError};
use service::session::PortalSession;
use tower_sessions::Session;

use super::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/portal-link/{secret}", get(open))
}

async fn open(State(state): State<AppState>, session: Session, Path(secret): Path<String>) -> Response {
    let location = match portal_links::redeem_portal_link(&state.store, &secret, &state.effects).await {
        Ok(visit) => match PortalSession::new(session).start_through_portal_link(&state.store, &visit).await {
            Ok(()) => visit.landing,
            Err(error) => {
                tracing::error!(%error, "starting the session of an Admin Portal link");
                refused("unavailable")
            }
        },
        Err(PortalLinkError::Used) => refused("used"),
        Err(PortalLinkError::Expired) => refused("expired"),
        Err(PortalLinkError::Service(_)) => refused("unavailable"),
        Err(_) => refused("unknown"),
    };
    let mut response = Redirect::to(&location).into_response();
    // The secret is in this request's address: the next page must not pass it on.
    response.headers_mut().insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn refused(reason: &str) -> String {
    format!("/portal-link-refused/{reason}")
}
