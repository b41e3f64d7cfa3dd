//! Signing in and out, and who is signed in. Every server function that touches data calls
//! [`require_operator`] (server side) before doing anything.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in operator as pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorView {
    pub email: String,
    /// `operator` or `support`.
    pub role: String,
}

/// Checks an operator's email and password; on success starts a session under a new id
/// and sends the browser to the start page.
#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), ServerFnError> {
    use service::operators::{self, OperatorError, SignInThrottle};
    // Contexts are read before the first `.await`: after it, a server function running
    // inside a server-rendered resource may no longer see them.
    let store = expect_context::<service::Store>();
    let throttle = expect_context::<SignInThrottle>();
    let response = server::response();
    let session = server::session().await?;
    match operators::sign_in(&store, &throttle, &email, password).await {
        Ok(operator) => {
            // A new session id at sign-in, so an id planted before sign-in is worthless.
            session.cycle_id().await.map_err(|e| server::session_failed(&e))?;
            let remembered = server::SessionOperator {
                id: operator.id.to_string(),
                email: operator.email,
                role: operator.role.as_str().to_owned(),
            };
            session.insert(server::OPERATOR_KEY, remembered).await.map_err(|e| server::session_failed(&e))?;
            leptos_axum::redirect("/");
            Ok(())
        }
        Err(OperatorError::InvalidCredentials | OperatorError::InvalidEmail | OperatorError::PasswordTooShort) => {
            server::set_status(response.as_ref(), http::StatusCode::UNAUTHORIZED);
            Err(ServerFnError::new("The email or the password is not right."))
        }
        Err(OperatorError::Throttled) => {
            server::set_status(response.as_ref(), http::StatusCode::TOO_MANY_REQUESTS);
            Err(ServerFnError::new("Too many attempts for this account. Wait a minute, then try again."))
        }
        Err(OperatorError::Service(_)) => {
            Err(ServerFnError::new("Signing in is unavailable right now. Try again shortly."))
        }
    }
}

/// Ends the session and sends the browser to the sign-in page.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    let session = server::session().await?;
    session.flush().await.map_err(|e| server::session_failed(&e))?;
    leptos_axum::redirect("/sign-in");
    Ok(())
}

/// The signed-in operator, or `None`.
#[server(endpoint = "current_operator")]
pub async fn current_operator() -> Result<Option<OperatorView>, ServerFnError> {
    Ok(server::signed_in_operator().await?.map(|operator| OperatorView { email: operator.email, role: operator.role }))
}

/// The signed-in operator, or an "unauthorized" error (with status 401) for the caller to
/// return as is.
#[cfg(feature = "ssr")]
pub async fn require_operator() -> Result<server::SessionOperator, ServerFnError> {
    let response = server::response();
    match server::signed_in_operator().await? {
        Some(operator) => Ok(operator),
        None => {
            server::set_status(response.as_ref(), http::StatusCode::UNAUTHORIZED);
            Err(ServerFnError::new("Your session has ended. Sign in again."))
        }
    }
}

/// The signed-in operator if their role may change things (`operator`, not `support`);
/// otherwise an error with status 401 or 403.
#[cfg(feature = "ssr")]
pub async fn require_operator_role() -> Result<server::SessionOperator, ServerFnError> {
    let response = server::response();
    let operator = require_operator().await?;
    if operator.role == service::OperatorRole::Operator.as_str() {
        Ok(operator)
    } else {
        server::set_status(response.as_ref(), http::StatusCode::FORBIDDEN);
        Err(ServerFnError::new("Your role can look but not change anything here."))
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use leptos::prelude::*;
    use serde::{Deserialize, Serialize};

    /// The session key under which the signed-in operator is kept.
    pub(crate) const OPERATOR_KEY: &str = "operator";

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SessionOperator {
        pub id: String,
        pub email: String,
        pub role: String,
    }

    pub(crate) async fn session() -> Result<tower_sessions::Session, ServerFnError> {
        leptos_axum::extract::<tower_sessions::Session>()
            .await
            .map_err(|_| ServerFnError::new("Sessions are unavailable right now. Try again shortly."))
    }

    pub(crate) fn session_failed(error: &tower_sessions::session::Error) -> ServerFnError {
        tracing_error(error);
        ServerFnError::new("Sessions are unavailable right now. Try again shortly.")
    }

    fn tracing_error(error: &tower_sessions::session::Error) {
        leptos::logging::error!("session failure: {error}");
    }

    pub(crate) async fn signed_in_operator() -> Result<Option<SessionOperator>, ServerFnError> {
        session().await?.get::<SessionOperator>(OPERATOR_KEY).await.map_err(|e| session_failed(&e))
    }

    /// The response being prepared. Take it before the first `.await` of a server function.
    pub(crate) fn response() -> Option<leptos_axum::ResponseOptions> {
        use_context::<leptos_axum::ResponseOptions>()
    }

    pub(crate) fn set_status(response: Option<&leptos_axum::ResponseOptions>, status: http::StatusCode) {
        if let Some(response) = response {
            response.set_status(status);
        }
    }
}
