//! Pages of the portal.

use leptos::prelude::*;

use crate::status::{StatusReport, deployment_status};

/// The landing page: what this deployment is and whether its database answers.
#[component]
pub fn StatusPage() -> impl IntoView {
    let check = Action::new(|_: &()| deployment_status());
    let pending = check.pending();
    let outcome = check.value();

    view! {
        <main class="mx-auto max-w-3xl px-6 py-12">
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
                        class="rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:cursor-wait disabled:opacity-60"
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
                        None => view! {
                            <p class="text-sm text-slate-500">"Not checked yet."</p>
                        }.into_any(),
                        Some(Ok(report)) => view! { <StatusDetails report/> }.into_any(),
                        Some(Err(error)) => view! {
                            <p class="rounded-lg bg-red-50 p-3 text-sm text-red-800" role="alert">
                                {error_message(&error)}
                            </p>
                        }.into_any(),
                    }}
                </div>
            </section>
        </main>
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

/// The readable part of a server function error.
fn error_message(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        _ => "The server could not be reached. Try again in a moment.".to_owned(),
    }
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
