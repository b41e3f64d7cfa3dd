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
