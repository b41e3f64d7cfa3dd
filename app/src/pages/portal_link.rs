//! `/portal-link-refused/{reason}`: where an Admin Portal link that opens nothing lands
//! (the link itself is the server's `GET /portal-link/{secret}`, which signs its visitor in
//! and goes on to the setup wizard). The reason is one of a fixed set of words, never text
//! from the address; the page answers with the status to match: 410 for a used or expired
//! link, 404 for an unknown one, 503 when the database failed.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::{BrandMark, ErrorView};
use crate::error::PortalError;

/// The refusal a reason word stands for.
fn refusal(reason: &str) -> PortalError {
    match reason {
        "used" => PortalError::Gone(
            "This sign-in link has been used already: links work once. Go back to the product you came from and open \
             the setup again."
                .to_owned(),
        ),
        "expired" => PortalError::Gone(
            "This sign-in link has expired: links work for five minutes. Go back to the product you came from and \
             open the setup again."
                .to_owned(),
        ),
        "unavailable" => PortalError::unavailable(),
        _ => PortalError::NotFound(
            "This sign-in link is not valid. Check that it was copied whole, or go back to the product you came from \
             and open the setup again."
                .to_owned(),
        ),
    }
}

/// Why an Admin Portal link signed nobody in.
#[component]
pub fn PortalLinkRefusedPage() -> impl IntoView {
    let params = use_params_map();
    let error = refusal(&params.read_untracked().get("reason").unwrap_or_default());
    view! {
        <main class="mx-auto flex min-h-screen max-w-md flex-col justify-center px-6 py-12">
            <p><BrandMark/></p>
            <p class="mt-4 text-sm font-semibold uppercase tracking-wide text-accent">"Directory sync setup"</p>
            <h1 class="mt-2 text-2xl font-bold tracking-tight">"This link cannot be used"</h1>
            <div id="portal-link-refused" class="mt-6"><ErrorView error/></div>
            <p class="mt-6 text-sm text-slate-600">
                "Have an admin account here? "
                <a href="/sign-in" class="font-semibold text-accent hover:text-accent-strong">"Sign in"</a>
            </p>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_and_expired_links_are_gone_and_anything_else_is_unknown() {
        assert_eq!(refusal("used").status(), 410);
        assert_eq!(refusal("expired").status(), 410);
        assert_eq!(refusal("unavailable").status(), 503);
        assert_eq!(refusal("<script>").status(), 404);
    }
}
