//! The operator's branding on the wire: the logo at a URL that names its digest (cached
//! for good), the logo's upload from the console's Branding page (a plain multipart form,
//! so it works before the page's script has loaded), and the branding every page request
//! resolves before the page renders ([`service::branding::PageBranding`]).

use axum::Router;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use service::branding::{self, PageBranding};
use service::session::PortalSession;
use store::OperatorRole;
use tower_sessions::Session;

use super::AppState;

/// The logo, for everyone (the sign-in and setup-link pages show it).
pub(super) fn public_router() -> Router<AppState> {
    Router::new().route("/branding/logo/{file}", get(logo))
}

/// The upload, for signed-in operators.
pub(super) fn portal_router() -> Router<AppState> {
    Router::new().route("/branding/logo", post(upload_logo))
}

async fn logo(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    match branding::logo(&state.store, &file).await {
        Ok(Some((content_type, bytes))) => {
            let content_type = HeaderValue::from_str(&content_type).unwrap_or(HeaderValue::from_static("image/png"));
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    // The URL names the digest: a new logo is a new URL.
                    (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
                ],
                bytes,
            )
                .into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such logo").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "the service is unavailable; retry later").into_response(),
    }
}

/// Takes the form's `logo` file, then sends the operator back to the Branding page with
/// what happened (`?logo=saved` or `?logo-error=<code>`, which the page words).
async fn upload_logo(State(state): State<AppState>, session: Session, mut form: Multipart) -> Response {
    // A session that cannot be read is treated as signed out.
    let Ok(Some(operator)) = PortalSession::new(session).operator().await else {
        return Redirect::to("/sign-in").into_response();
    };
    if operator.role != OperatorRole::Operator {
        return Redirect::to("/branding?logo-error=forbidden").into_response();
    }
    let mut picture = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("logo") => match field.bytes().await {
                Ok(bytes) => picture = Some(bytes),
                Err(_) => return Redirect::to("/branding?logo-error=unreadable").into_response(),
            },
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => return Redirect::to("/branding?logo-error=unreadable").into_response(),
        }
    }
    let Some(picture) = picture.filter(|bytes| !bytes.is_empty()) else {
        return Redirect::to("/branding?logo-error=missing").into_response();
    };
    match branding::set_logo(&state.store, Some(&picture), &operator.actor(), state.effects.now()).await {
        Ok(_) => Redirect::to("/branding?logo=saved").into_response(),
        Err(branding::BrandingError::Logo(error)) => {
            Redirect::to(&format!("/branding?logo-error={}", error.code())).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "saving the logo failed");
            Redirect::to("/branding?logo-error=unavailable").into_response()
        }
    }
}

/// Resolves the branding for a page request before the page renders.
pub(super) async fn resolve_page_branding(
    State(state): State<AppState>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if super::sessions::is_page_request(&request) {
        let resolved = branding::current(&state.store).await.unwrap_or_else(|error| {
            // The page itself reports an unavailable database; its frame keeps the defaults.
            tracing::warn!(%error, "reading the branding failed");
            branding::Branding::default()
        });
        request.extensions_mut().insert(PageBranding(resolved));
    }
    next.run(request).await
}
