//! Pages of the portal.

use leptos::prelude::*;
use leptos_router::components::{A, Redirect};

use crate::auth::{Account, OperatorView, SignIn, SignOut, signed_in_account};
use crate::error::PortalError;
use crate::status::{StatusReport, deployment_status};

pub(crate) const PRIMARY_BUTTON: &str = "rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm \
     hover:bg-indigo-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 \
     focus-visible:outline-indigo-600 disabled:cursor-wait disabled:opacity-60";

/// The landing page for signed-in operators: what this deployment is and whether its
/// database answers.
#[component]
pub fn StatusPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <StatusView operator/> }.into_any()/> }
}

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

#[component]
fn StatusView(operator: OperatorView) -> impl IntoView {
    let check = Action::new(|_: &()| deployment_status());
    let pending = check.pending();
    let outcome = check.value();

    view! {
        <TopBar operator/>
        <main class="mx-auto max-w-5xl px-6 py-12">
            <header class="mb-10">
                <p class="text-sm font-semibold uppercase tracking-wide text-indigo-600">"SCIM Portal"</p>
                <h1 class="mt-2 text-3xl font-bold tracking-tight text-slate-900">
                    "Directory sync for your customers"
                </h1>
                <p class="mt-3 text-base text-slate-600">
                    "Each of your customers connects their identity provider here, and users and groups "
                    "are provisioned into your product over SCIM 2.0."
                </p>
            </header>
            <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm" aria-labelledby="status-heading">
                <div class="flex flex-wrap items-center justify-between gap-4">
                    <div>
                        <h2 id="status-heading" class="text-lg font-semibold">"Deployment status"</h2>
                        <p class="text-sm text-slate-600">"Reads the schema version and tenant count from the database."</p>
                    </div>
                    <button
                        id="check-database"
                        type="button"
                        class=PRIMARY_BUTTON
                        disabled=move || pending.get()
                        on:click=move |_| {
                            check.dispatch(());
                        }
                    >
                        {move || if pending.get() { "Checking…" } else { "Check database" }}
                    </button>
                </div>
                <div id="status-result" class="mt-6" aria-live="polite">
                    {move || match outcome.get() {
                        None => view! { <p class="text-sm text-slate-500">"Not checked yet."</p> }.into_any(),
                        Some(Ok(report)) => view! { <StatusDetails report/> }.into_any(),
                        Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    }}
                </div>
            </section>
        </main>
    }
}

/// The bar across the top of every signed-in page: where to go, who is signed in, and
/// signing out (a POST form: nothing changes state on GET).
#[component]
pub(crate) fn TopBar(operator: OperatorView) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let link = "rounded-md px-2 py-1 font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 \
                aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700";
    view! {
        <div class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-3 px-6 py-3 text-sm">
                <nav class="flex items-center gap-2" aria-label="Main">
                    <span class="mr-3 font-semibold text-slate-900">"SCIM Portal"</span>
                    <A href="/" exact=true attr:class=link>"Status"</A>
                    <A href="/tenants" attr:class=link>"Tenants"</A>
                    <A href="/support" attr:class=link>"Support"</A>
                    <A href="/team" attr:class=link>"Team"</A>
                </nav>
                <div class="flex items-center gap-4">
                    <span class="text-slate-600">
                        "Signed in as " <span id="signed-in-as" class="font-medium text-slate-900">{operator.email}</span>
                    </span>
                    <ActionForm action=sign_out>
                        <button id="sign-out" type="submit" class="font-semibold text-indigo-600 hover:text-indigo-500">
                            "Sign out"
                        </button>
                    </ActionForm>
                </div>
            </div>
        </div>
    }
}

#[component]
fn StatusDetails(report: StatusReport) -> impl IntoView {
    view! {
        <div class="flex items-center gap-2">
            <span class="inline-flex items-center rounded-full bg-emerald-50 px-2.5 py-0.5 text-sm font-medium text-emerald-700 ring-1 ring-inset ring-emerald-600/20">
                "Connected"
            </span>
            <span class="text-sm text-slate-700">{format!("to {}", report.database)}</span>
        </div>
        <dl class="mt-4 grid grid-cols-3 gap-4 text-sm">
            <div>
                <dt class="text-slate-500">"Schema version"</dt>
                <dd id="schema-version" class="mt-1 font-semibold">{report.schema_version}</dd>
            </div>
            <div>
                <dt class="text-slate-500">"Tenants"</dt>
                <dd id="tenant-count" class="mt-1 font-semibold">{report.tenants}</dd>
            </div>
            <div>
                <dt class="text-slate-500">"Version"</dt>
                <dd class="mt-1 font-semibold">{report.version}</dd>
            </div>
        </dl>
    }
}

/// Operators sign in with email and password. Works without JavaScript too: the form posts
/// to the server function and follows its redirect.
#[component]
pub fn SignInPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let sso_failure = move || query.read().get("sso").map(|code| sso_message(&code).to_owned());
    let sign_in = ServerAction::<SignIn>::new();
    let pending = sign_in.pending();
    let failure = move || sign_in.value().get().and_then(Result::err).map(|error| error.to_string());
    let input = "mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm shadow-sm \
                 focus:border-indigo-600 focus:outline-none focus:ring-2 focus:ring-indigo-600/30";
    view! {
        <main class="mx-auto flex min-h-screen max-w-sm flex-col justify-center px-6 py-12">
            <p class="text-sm font-semibold uppercase tracking-wide text-indigo-600">"SCIM Portal"</p>
            <h1 class="mt-2 text-2xl font-bold tracking-tight">"Sign in"</h1>
            <p class="mt-2 text-sm text-slate-600">"For operators of this deployment and admins of connected organisations."</p>
            <ActionForm action=sign_in attr:class="mt-8 space-y-5" attr:aria-describedby="sign-in-error">
                <div>
                    <label for="email" class="block text-sm font-medium text-slate-700">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required class=input/>
                </div>
                <div>
                    <label for="password" class="block text-sm font-medium text-slate-700">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required class=input/>
                </div>
                <button id="sign-in" type="submit" class=format!("{PRIMARY_BUTTON} w-full") disabled=move || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <div id="sign-in-error" class="mt-4" aria-live="assertive">
                {move || failure().or_else(sso_failure).map(|message| view! { <ErrorBox message/> })}
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
        "email-taken" => "An account with your email exists already. Sign in with it instead.",
        "link-unknown" => "This setup link is not valid. Check that it was copied whole.",
        _ => "Single sign-on is unavailable right now. Try again shortly.",
    }
}

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

/// Shown for any path the router does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="mx-auto max-w-3xl px-6 py-12">
            <h1 class="text-2xl font-bold">"Page not found"</h1>
            <p class="mt-2 text-slate-600">"There is nothing at this address."</p>
            <a href="/" class="mt-6 inline-block font-semibold text-indigo-600 hover:text-indigo-500">"Back to the start page"</a>
        </main>
    }
}
