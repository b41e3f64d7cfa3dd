//! Single sign-on routes for tenant admins (see `service::sso`): `POST /sso/start` sends
//! the browser to the tenant's OpenID Connect provider, `GET /sso/callback` is where it
//! comes back. Plain routes rather than server functions, because both end in a full-page
//! redirect to or from another site. Failures go back to the sign-in page with a fixed
//! code (`/sign-in?sso=…`) that the page turns into a sentence: nothing from the provider
//! or the address is echoed.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use service::admins::{SetupLinkError, SignedInAccount};
use service::session::PortalSession;
use service::sso::{self, PendingSignIn, SignInFor, SsoError};
use tower_sessions::Session;

use super::AppState;

/// The session key of a sign-in in progress.
const PENDING_KEY: &str = "sso_pending";

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/sso/start", post(start)).route("/sso/callback", get(callback))
}

fn callback_url(state: &AppState) -> String {
    format!("{}/sso/callback", state.portal.public_base)
}

/// The sign-in form: the organisation's name, or the setup link's secret.
#[derive(Debug, Deserialize)]
pub(crate) struct StartForm {
    organisation: Option<String>,
    setup: Option<String>,
}

async fn start(State(state): State<AppState>, session: Session, Form(form): Form<StartForm>) -> Response {
    let target = match (form.setup, form.organisation) {
        (Some(secret), _) if !secret.is_empty() => SignInFor::SetupLink(secret),
        (_, Some(organisation)) if !organisation.trim().is_empty() => SignInFor::Organisation(organisation),
        _ => return back_to_sign_in("not-configured"),
    };
    match sso::start(&state.store, &state.sso, target, &callback_url(&state), &state.effects).await {
        Ok(started) => {
            if session.insert(PENDING_KEY, &started.pending).await.is_err() {
                return back_to_sign_in("unavailable");
            }
            Redirect::to(&started.authorize_url).into_response()
        }
        Err(error) => failed(&error),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(State(state): State<AppState>, session: Session, Query(query): Query<CallbackQuery>) -> Response {
    // Single use: whatever happens next, this sign-in attempt is over.
    let pending: Option<PendingSignIn> = session.remove(PENDING_KEY).await.ok().flatten();
    let Some(pending) = pending else { return back_to_sign_in("state") };
    if query.error.is_some() {
        return back_to_sign_in("refused");
    }
    let (Some(code), Some(returned_state)) = (query.code, query.state) else { return back_to_sign_in("state") };
    let finished =
        sso::finish(&state.store, &state.sso, pending, &code, &returned_state, &callback_url(&state), &state.effects)
            .await;
    match finished {
        Ok(admin) => {
            let landing = match service::admins::landing_page(&state.store, admin.tenant).await {
                Ok(landing) => landing,
                Err(error) => {
                    tracing::error!(%error, "finding an admin's landing page after single sign-on");
                    return back_to_sign_in("unavailable");
                }
            };
            match PortalSession::new(session).start(&state.store, &SignedInAccount::Admin(admin)).await {
                Ok(()) => Redirect::to(landing).into_response(),
                Err(error) => {
                    tracing::error!(%error, "starting an admin session after single sign-on");
                    back_to_sign_in("unavailable")
                }
            }
        }
        Err(error) => failed(&error),
    }
}

fn failed(error: &SsoError) -> Response {
    let code = match error {
        SsoError::NotConfigured => "not-configured",
        SsoError::InvalidSettings(_) | SsoError::Provider(_) => "provider",
        SsoError::StateMismatch => "state",
        SsoError::InvalidToken(_) => "token",
        SsoError::NoVerifiedEmail => "email",
        SsoError::NoAccount => "no-account",
        SsoError::SetupLink(SetupLinkError::Used) => "link-used",
        SsoError::SetupLink(SetupLinkError::Expired) => "link-expired",
        SsoError::SetupLink(SetupLinkError::Revoked) => "link-revoked",
        SsoError::SetupLink(SetupLinkError::EmailTaken) => "email-taken",
        SsoError::SetupLink(SetupLinkError::Service(_)) | SsoError::Service(_) => "unavailable",
        SsoError::SetupLink(_) => "link-unknown",
    };
    if matches!(code, "provider" | "token") {
        // The provider's misbehaviour is for the operator's logs, not the visitor's page.
        tracing::warn!(%error, "single sign-on failed");
    }
    back_to_sign_in(code)
}

fn back_to_sign_in(code: &str) -> Response {
    Redirect::to(&format!("/sign-in?sso={code}")).into_response()
}
