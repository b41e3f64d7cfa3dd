//! Pages for one kind of account: who is signed in is known before the page renders
//! (`crate::auth::signed_in_account`), so these decide synchronously, outside any suspense
//! boundary, and the server answers anyone else with a redirect.

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::auth::{Account, AdminView, OperatorView, signed_in_account};

/// Renders `page` for a signed-in operator; sends anyone else to the sign-in page. Who is
/// signed in is known before rendering (see [`crate::auth::signed_in_account`]), so the
/// page is built once, outside any suspense boundary, and a signed-out visitor gets an
/// HTTP redirect (the route must use `SsrMode::Async`).
#[component]
pub(crate) fn SignedIn(page: fn(OperatorView) -> AnyView) -> impl IntoView {
    move || match signed_in_account() {
        Some(Account::Operator(operator)) => page(operator),
        // A tenant admin's start page is their own.
        Some(Account::Admin(_)) => view! { <Redirect path="/admin"/> }.into_any(),
        None => view! { <Redirect path="/sign-in"/> }.into_any(),
    }
}

/// Renders `page` for a signed-in tenant admin; an operator goes to the console, anyone
/// else to the sign-in page. Like [`crate::pages::SignedIn`], synchronous: the server
/// answers a redirect (routes using it must be `SsrMode::Async`).
#[component]
pub(crate) fn SignedInAdmin(page: fn(AdminView) -> AnyView) -> impl IntoView {
    move || match signed_in_account() {
        Some(Account::Admin(admin)) => page(admin),
        Some(Account::Operator(_)) => view! { <Redirect path="/"/> }.into_any(),
        None => view! { <Redirect path="/sign-in"/> }.into_any(),
    }
}
