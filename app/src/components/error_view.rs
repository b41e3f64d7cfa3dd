//! Errors on a page: a sentence in a red box.

use leptos::prelude::*;

use crate::error::PortalError;

#[component]
pub(crate) fn ErrorBox(message: String) -> impl IntoView {
    view! { <p class="rounded-lg bg-red-50 p-3 text-sm text-red-800" role="alert">{message}</p> }
}

/// A server function's error where a page shows what it loaded: its sentence, and when the
/// server renders it, the page's status is the error's (a refused setup link answers 410,
/// as its server function does).
#[component]
pub(crate) fn ErrorView(error: PortalError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = http::StatusCode::from_u16(error.status())
    {
        response.set_status(status);
    }
    view! { <ErrorBox message=error.to_string()/> }
}

/// The refusal of the last post of a plain form to server function `S`, when the page was
/// opened with one: server_fn sends a refused plain-form post back to the page with the
/// error in its address, and the router hands it on as a `ServerActionError`.
pub(crate) fn refusal_of<S: leptos::server_fn::ServerFn<Error = PortalError>>() -> Option<PortalError> {
    let error = use_context::<leptos::server::ServerActionError>()?;
    (error.path() == S::PATH)
        .then(|| leptos::server_fn::error::ServerFnUrlError::<PortalError>::decode_err(error.err()))
}

/// [`refusal_of`] `S`, in a red box.
pub(crate) fn refusal_box<S: leptos::server_fn::ServerFn<Error = PortalError>>() -> Option<impl IntoView> {
    refusal_of::<S>().map(|error| view! { <ErrorBox message=error.to_string()/> })
}
