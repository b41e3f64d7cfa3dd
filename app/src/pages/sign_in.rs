//! `/sign-in`: operators and tenant admins sign in with a password or, for admins, their
//! organisation's single sign-on.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;

use crate::auth::SignIn;
use crate::components::style::PRIMARY_BUTTON;
use crate::components::{BrandMark, ErrorBox, refusal_of};

/// Operators sign in with email and password. Works without JavaScript too: the form posts
/// to the server function and follows its redirect.
#[component]
pub fn SignInPage() -> impl IntoView {
    // A plain form: a refusal comes back in the address with the email typed; the other
    // outcomes are in the address too (set by the single sign-on callback, and by a
    // confirmation link's page).
    let failure = refusal_of::<SignIn>().map(|error| error.to_string());
    let (sso_failure, email_confirmed, typed_email) = leptos_router::hooks::use_query_map().with_untracked(|query| {
        (
            query.get("sso").map(|code| sso_message(&code).to_owned()),
            query.get("email").is_some_and(|state| state == "confirmed"),
            failure.as_ref().and_then(|_| query.get("email")).unwrap_or_default(),
        )
    });
    let input = "mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm shadow-sm \
                 focus:border-accent focus:outline-none focus:ring-2 focus:ring-accent/30";
    view! {
        <main class="mx-auto flex min-h-screen max-w-sm flex-col justify-center px-6 py-12">
            <p><BrandMark class="text-sm font-semibold uppercase tracking-wide text-accent"/></p>
            <h1 class="mt-2 text-2xl font-bold tracking-tight">"Sign in"</h1>
            <p class="mt-2 text-sm text-slate-600">"For operators of this deployment and admins of connected organisations."</p>
            {email_confirmed.then(|| view! {
                <p id="email-confirmed" class="mt-4 rounded-lg bg-emerald-50 p-3 text-sm text-emerald-800" role="status">
                    "Your email is confirmed: sign in with it from now on."
                </p>
            })}
            <form method="post" action=SignIn::url() class="mt-8 space-y-5" aria-describedby="sign-in-error">
                <div>
                    <label for="email" class="block text-sm font-medium text-slate-700">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required class=input value=typed_email/>
                </div>
                <div>
                    <label for="password" class="block text-sm font-medium text-slate-700">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required class=input/>
                </div>
                <button id="sign-in" type="submit" class=format!("{PRIMARY_BUTTON} w-full")>"Sign in"</button>
            </form>
            <div id="sign-in-error" class="mt-4" aria-live="assertive">
                {failure.or(sso_failure).map(|message| view! { <ErrorBox message/> })}
            </div>
            <div class="mt-8 border-t border-slate-200 pt-6">
                <h2 class="text-sm font-semibold text-slate-800">"Single sign-on"</h2>
                <p class="mt-1 text-sm text-slate-600">"If your organisation signs in with its own identity provider."</p>
                // A plain form: the answer is a redirect to the identity provider's site.
                <form method="post" action="/sso/start" class="mt-3 flex items-end gap-3">
                    <div class="grow">
                        <label for="sso-organisation" class="block text-sm font-medium text-slate-700">"Organisation"</label>
                        <input id="sso-organisation" name="organisation" required placeholder="acme" autocomplete="organization" class=input/>
                    </div>
                    <button id="sign-in-sso" type="submit" class="rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-semibold text-slate-700 shadow-sm hover:bg-slate-50">"Continue"</button>
                </form>
            </div>
        </main>
    }
}

/// The sentence for a single sign-on failure code (`/sign-in?sso=…`, set by the server's
/// callback route); unknown codes get a generic sentence, so the address carries no text.
fn sso_message(code: &str) -> &'static str {
    match code {
        "not-configured" => "Single sign-on is not set up for this organisation. Sign in with your email and password.",
        "provider" => {
            "Your organisation's identity provider could not be reached or answered unexpectedly. Try again, or tell your operator."
        }
        "state" => "That sign-in was started in another browser or has expired. Start again.",
        "refused" => "Your identity provider did not sign you in.",
        "token" => "Your identity provider's answer could not be verified. Tell your operator.",
        "email" => "Your identity provider did not confirm an email address for you.",
        "no-account" => {
            "There is no admin account for you in this organisation. Ask one of its admins for an invitation."
        }
        "link-used" => "This setup link has been used already. Ask for a new one, or sign in.",
        "link-expired" => "This setup link has expired. Ask for a new one.",
        "link-revoked" => "This setup link was withdrawn. Ask for a new one.",
        "email-taken" => "An account with your email exists already. Sign in with it instead.",
        "link-unknown" => "This setup link is not valid. Check that it was copied whole.",
        _ => "Single sign-on is unavailable right now. Try again shortly.",
    }
}
