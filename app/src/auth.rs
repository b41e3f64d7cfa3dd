//! Signing in and out, and who is signed in: for server functions through the guards of
//! `crate::portal` (server only), and for pages before they render
//! (`service::session::PageAccount`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::PortalError;

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
    /// For someone the vendor's product sent in with an Admin Portal link: the way back.
    pub vendor: Option<VendorReturn>,
}

/// Where an Admin Portal link's session goes back to the vendor's product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorReturn {
    /// How the buttons name the vendor's product: the host of its URLs.
    pub name: String,
    /// Leaving before setup is complete.
    pub return_url: Option<String>,
    /// Once setup is complete (the return URL when the vendor gave no success URL).
    pub success_url: Option<String>,
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
pub async fn sign_in(email: String, password: String) -> Result<(), PortalError> {
    use service::admins::SignedInAccount;
    let visitor = crate::portal::Visitor::current()?;
    let portal = &visitor.portal;
    let address = crate::portal::Visitor::client_address();
    let account = service::admins::sign_in(&portal.store, &portal.sign_in_throttle, &email, password, address)
        .await
        .map_err(PortalError::sign_in_refused)
        // A plain form refused: back to the page with the reason and the email typed
        // (never the password).
        .inspect_err(|error| {
            crate::error::back_with_what_was_typed::<SignIn>("/sign-in", &[("email", email.as_str())], error);
        })?;
    // Operators come to work on their customers: the tenant list, not the status page.
    let landing = match &account {
        SignedInAccount::Operator(_) => "/tenants",
        SignedInAccount::Admin(admin) => service::admins::landing_page(&portal.store, admin.tenant).await?,
    };
    visitor.session.start(&portal.store, &account).await?;
    leptos_axum::redirect(landing);
    Ok(())
}

/// Ends the session and sends the browser to the sign-in page.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), PortalError> {
    crate::portal::Visitor::current()?.session.end().await?;
    leptos_axum::redirect("/sign-in");
    Ok(())
}

/// Who is signed in: an operator, a tenant admin, or nobody.
#[server(endpoint = "current_account")]
pub async fn current_account() -> Result<Option<Account>, PortalError> {
    Ok(crate::portal::Visitor::current()?.account().await?.map(Account::from))
}

#[cfg(feature = "ssr")]
impl From<service::session::SessionAccount> for Account {
    fn from(account: service::session::SessionAccount) -> Self {
        use service::session::SessionAccount;
        match account {
            SessionAccount::Operator(operator) => Account::Operator(OperatorView::from(operator)),
            SessionAccount::Admin(admin) => {
                let vendor = admin.portal_link().and_then(VendorReturn::of);
                Account::Admin(AdminView { email: admin.email, tenant_name: admin.tenant_name, vendor })
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl VendorReturn {
    /// The way back a link's session offers, if the vendor gave any URL.
    fn of(link: &service::session::PortalLinkReturn) -> Option<Self> {
        let success_url = link.success_url.clone().or_else(|| link.return_url.clone());
        let name =
            success_url.as_deref().or(link.return_url.as_deref()).and_then(service::portal_links::vendor_name)?;
        Some(VendorReturn { name, return_url: link.return_url.clone(), success_url })
    }
}

#[cfg(feature = "ssr")]
impl From<service::session::OperatorSession> for OperatorView {
    fn from(operator: service::session::OperatorSession) -> Self {
        OperatorView { email: operator.email, role: operator.role.as_str().to_owned() }
    }
}

/// Who is signed in. Rendering never waits for it: on the server it is the
/// `service::session::PageAccount` the server resolved before rendering, and it travels
/// inside the document to the browser, which reads it back while hydrating. In the browser it is read again
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
                .and_then(|parts| parts.extensions.get::<service::session::PageAccount>().cloned())
                .and_then(|account| account.0)
                .map(Account::from)
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
pub async fn current_operator() -> Result<Option<OperatorView>, PortalError> {
    Ok(crate::portal::Visitor::current()?.session.operator().await?.map(OperatorView::from))
}
