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

/// A signed-in tenant admin as pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminView {
    pub email: String,
    pub tenant_name: String,
}

/// Who is signed in, if anyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Account {
    Operator(OperatorView),
    Admin(AdminView),
}

/// Checks an email and password (an operator's or a tenant admin's); on success starts a
/// session under a new id and sends the browser to that account's start page.
#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), ServerFnError> {
    use service::admins::SignedInAccount;
    use service::operators::{OperatorError, SignInThrottle};
    // Contexts are read before the first `.await`: after it, a server function running
    // inside a server-rendered resource may no longer see them.
    let store = expect_context::<service::Store>();
    let throttle = expect_context::<SignInThrottle>();
    let response = server::response();
    let session = server::session().await?;
    match service::admins::sign_in(&store, &throttle, &email, password).await {
        Ok(account) => {
            // A new session id at sign-in, so an id planted before sign-in is worthless.
            session.cycle_id().await.map_err(|e| server::session_failed(&e))?;
            let _ = session.remove_value(server::OPERATOR_KEY).await;
            let _ = session.remove_value(server::ADMIN_KEY).await;
            match account {
                SignedInAccount::Operator(operator) => {
                    let remembered = server::SessionOperator {
                        id: operator.id.to_string(),
                        email: operator.email,
                        role: operator.role.as_str().to_owned(),
                    };
                    session.insert(server::OPERATOR_KEY, remembered).await.map_err(|e| server::session_failed(&e))?;
                    leptos_axum::redirect("/");
                }
                SignedInAccount::Admin(admin) => {
                    server::remember_admin(&session, &admin).await?;
                    leptos_axum::redirect("/admin");
                }
            }
            Ok(())
        }
        Err(
            OperatorError::InvalidCredentials
            | OperatorError::InvalidEmail
            | OperatorError::PasswordTooShort
            | OperatorError::EmailTaken,
        ) => {
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

/// Who is signed in: an operator, a tenant admin, or nobody.
#[server(endpoint = "current_account")]
pub async fn current_account() -> Result<Option<Account>, ServerFnError> {
    let session = server::session().await?;
    account_of(&session).await.map_err(|error| server::session_failed(&error))
}

/// Who the session belongs to. The server resolves this for every page request before the
/// page renders ([`PageAccount`]), so pages know it synchronously.
#[cfg(feature = "ssr")]
pub async fn account_of(session: &tower_sessions::Session) -> Result<Option<Account>, tower_sessions::session::Error> {
    if let Some(operator) = session.get::<server::SessionOperator>(server::OPERATOR_KEY).await? {
        return Ok(Some(Account::Operator(OperatorView { email: operator.email, role: operator.role })));
    }
    Ok(session
        .get::<server::SessionAdmin>(server::ADMIN_KEY)
        .await?
        .map(|admin| Account::Admin(AdminView { email: admin.email, tenant_name: admin.tenant_name })))
}

/// The account of a page request, put into the request's extensions by the server before
/// the page renders (a request without it renders as signed out).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageAccount(pub Option<Account>);

/// Who is signed in. Rendering never waits for it: on the server it is the
/// [`PageAccount`] the server resolved before rendering, and it travels inside the document
/// to the browser, which reads it back while hydrating. In the browser it is read again
/// after every server-function redirect (sign-in, sign-out, an accepted setup link), before
/// the router navigates: those are the moments it can change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedInAccount(RwSignal<Option<Account>>);

/// Provides [`SignedInAccount`] to the whole app; called once, first thing at its root.
pub(crate) fn provide_signed_in_account() {
    let account = leptos::prelude::SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<PageAccount>().cloned())
                .and_then(|account| account.0)
        }
        #[cfg(not(feature = "ssr"))]
        {
            None::<Account>
        }
    });
    let account = RwSignal::new(account.into_inner());
    #[cfg(feature = "hydrate")]
    redirects::reread_account_before_navigating(account);
    provide_context(SignedInAccount(account));
}

/// Who is signed in now (signed out if the app root provided nobody). Reactive: a page
/// that reads it follows a change.
pub(crate) fn signed_in_account() -> Option<Account> {
    use_context::<SignedInAccount>().and_then(|account| account.0.get())
}

/// Server-function redirects in the browser.
#[cfg(feature = "hydrate")]
mod redirects {
    use std::cell::RefCell;
    use std::rc::Rc;

    use leptos::prelude::*;

    use super::{Account, current_account};

    type Navigate = Rc<dyn Fn(&str)>;

    thread_local! {
        /// The router's navigation, once the router exists ([`super::RedirectNavigation`]).
        static NAVIGATE: RefCell<Option<Navigate>> = const { RefCell::new(None) };
    }

    /// Installs the redirect hook before the router would install its own (which only
    /// navigates): this one first reads who is signed in, then navigates in the page.
    pub(super) fn reread_account_before_navigating(account: RwSignal<Option<Account>>) {
        let _ = leptos::server_fn::redirect::set_redirect_hook(move |location: &str| {
            let location = location.to_owned();
            leptos::task::spawn_local(async move {
                // A failed read keeps the account as it was; the next page's server
                // functions check the session themselves.
                // Set only when it changed: a set re-renders every signed-in page body.
                if let Ok(now) = current_account().await
                    && account.with_untracked(|before| *before != now)
                {
                    account.set(now);
                }
                match NAVIGATE.with(|navigate| navigate.borrow().clone()) {
                    Some(navigate) => navigate(&location),
                    None => {
                        if let Some(window) = web_sys::window() {
                            let _ = window.location().assign(&location);
                        }
                    }
                }
            });
        });
    }

    pub(super) fn remember(navigate: Navigate) {
        NAVIGATE.with(|slot| *slot.borrow_mut() = Some(navigate));
    }
}

/// Hands the router's navigation to the redirect hook; place it inside the `<Router>`.
#[leptos::component]
pub(crate) fn RedirectNavigation() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let navigate = leptos_router::hooks::use_navigate();
        redirects::remember(std::rc::Rc::new(move |location: &str| navigate(location, Default::default())));
    }
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

/// Starts a tenant admin's session after single sign-on (the server's callback route):
/// a new session id, no operator left in it, the admin remembered.
#[cfg(feature = "ssr")]
pub async fn start_admin_session(
    session: &tower_sessions::Session,
    store: &service::Store,
    admin: &service::admins::SignedInAdmin,
) -> Result<(), String> {
    session.cycle_id().await.map_err(|error| error.to_string())?;
    let _ = session.remove_value(server::OPERATOR_KEY).await;
    let tenant_name =
        service::tenants::name_of(store, admin.tenant).await.map_err(|error| error.to_string())?.unwrap_or_default();
    let remembered = server::SessionAdmin {
        id: admin.id.to_string(),
        email: admin.email.clone(),
        tenant_id: admin.tenant.to_string(),
        tenant_name,
    };
    session.insert(server::ADMIN_KEY, remembered).await.map_err(|error| error.to_string())
}

/// The tenant of the admin signed in with this session, if an admin is (for the server's
/// own routes outside server functions, such as the live request stream).
#[cfg(feature = "ssr")]
pub async fn admin_tenant(session: &tower_sessions::Session) -> Option<service::TenantId> {
    let admin = session.get::<server::SessionAdmin>(server::ADMIN_KEY).await.ok().flatten()?;
    admin.tenant_id.parse().ok()
}

/// The signed-in tenant admin, or an "unauthorized" error (status 401). Operators are
/// not tenant admins: the admin pages and their server functions refuse them too.
#[cfg(feature = "ssr")]
pub async fn require_admin() -> Result<server::SessionAdmin, ServerFnError> {
    let response = server::response();
    match server::signed_in_admin().await? {
        Some(admin) => Ok(admin),
        None => {
            server::set_status(response.as_ref(), http::StatusCode::UNAUTHORIZED);
            Err(ServerFnError::new("Your session has ended. Sign in again."))
        }
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use leptos::prelude::*;
    use serde::{Deserialize, Serialize};

    /// The time from the server's clock (a context of every request); the service takes
    /// it as a parameter.
    pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
        expect_context::<service::SharedClock>().now()
    }

    /// What a server function answers when the database failed (the cause is logged).
    pub(crate) fn unavailable() -> ServerFnError {
        ServerFnError::new("The database is unavailable. Try again shortly.")
    }

    /// The session key under which the signed-in operator is kept.
    pub(crate) const OPERATOR_KEY: &str = "operator";
    /// The session key under which the signed-in tenant admin is kept.
    pub(crate) const ADMIN_KEY: &str = "admin";

    /// A signed-in tenant admin as the session keeps them.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SessionAdmin {
        pub id: String,
        pub email: String,
        pub tenant_id: String,
        pub tenant_name: String,
    }

    impl SessionAdmin {
        /// The tenant, as the service takes it. A session holds what sign-in put there,
        /// so a value that does not parse means a tampered or foreign store: no access.
        pub fn tenant(&self) -> Result<service::TenantId, ServerFnError> {
            self.tenant_id.parse().map_err(|_| ServerFnError::new("Your session is not valid. Sign in again."))
        }

        /// This admin as the actor of what they do.
        pub fn actor(&self) -> Result<service::Actor, ServerFnError> {
            let id = self.id.parse().map_err(|_| ServerFnError::new("Your session is not valid. Sign in again."))?;
            Ok(service::Actor::Admin { id, email: self.email.clone() })
        }
    }

    /// Starts a tenant admin's session (the caller has cycled the id).
    pub(crate) async fn remember_admin(
        session: &tower_sessions::Session,
        admin: &service::admins::SignedInAdmin,
    ) -> Result<(), ServerFnError> {
        let store = expect_context::<service::Store>();
        let tenant_name = service::tenants::name_of(&store, admin.tenant)
            .await
            .map_err(|_| ServerFnError::new("Signing in is unavailable right now. Try again shortly."))?
            .unwrap_or_default();
        let remembered = SessionAdmin {
            id: admin.id.to_string(),
            email: admin.email.clone(),
            tenant_id: admin.tenant.to_string(),
            tenant_name,
        };
        session.insert(ADMIN_KEY, remembered).await.map_err(|e| session_failed(&e))
    }

    pub(crate) async fn signed_in_admin() -> Result<Option<SessionAdmin>, ServerFnError> {
        session().await?.get::<SessionAdmin>(ADMIN_KEY).await.map_err(|e| session_failed(&e))
    }

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct SessionOperator {
        pub id: String,
        pub email: String,
        pub role: String,
    }

    impl SessionOperator {
        /// This operator as the actor of what they do (and see: views of a tenant's data are
        /// recorded in that tenant's trail).
        pub fn actor(&self) -> Result<service::Actor, ServerFnError> {
            let id = self.id.parse().map_err(|_| ServerFnError::new("Your session is not valid. Sign in again."))?;
            let role = match self.role.as_str() {
                "support" => service::OperatorRole::Support,
                _ => service::OperatorRole::Operator,
            };
            Ok(service::Actor::Operator { id, email: self.email.clone(), role })
        }
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
