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

/// Who is signed in. Rendering never waits for it: it is the
/// `service::session::PageAccount` the server resolved before rendering (pages are
/// rendered on the server only; the browser runs islands, which do not ask).
#[derive(Debug, Clone)]
pub(crate) struct SignedInAccount(Option<Account>);

/// Provides [`SignedInAccount`] to the whole app; called once, first thing at its root.
pub(crate) fn provide_signed_in_account() {
    #[cfg(feature = "ssr")]
    let account = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<service::session::PageAccount>().cloned())
        .and_then(|account| account.0)
        .map(Account::from);
    #[cfg(not(feature = "ssr"))]
    let account = None::<Account>;
    provide_context(SignedInAccount(account));
}

/// Who is signed in now (signed out if the app root provided nobody).
pub(crate) fn signed_in_account() -> Option<Account> {
    use_context::<SignedInAccount>().and_then(|account| account.0)
}

/// The signed-in operator, or `None`.
#[server(endpoint = "current_operator")]
pub async fn current_operator() -> Result<Option<OperatorView>, PortalError> {
    Ok(crate::portal::Visitor::current()?.session.operator().await?.map(OperatorView::from))
}
