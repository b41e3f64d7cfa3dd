//! `/`: the operator's start page, with the deployment's status read from the database.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::OperatorView;
use crate::components::style::PRIMARY_BUTTON;
use crate::components::{BrandMark, ErrorBox, SignedIn, TopBar};
use crate::error::PortalError;

/// The deployment status as the page shows it (its own type, so that the browser bundle
/// does not depend on the server-only crates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// "SQLite" or "PostgreSQL".
    pub database: String,
    pub schema_version: i64,
    pub tenants: i64,
    pub version: String,
}

/// Reads the deployment status from the database.
#[server(endpoint = "deployment_status")]
pub async fn deployment_status() -> Result<StatusReport, PortalError> {
    let operator = crate::portal::Operator::require().await?;
    let status = service::deployment::status(operator.store())
        .await
        // The service logs the cause; the browser gets a readable message only.
        .map_err(|_| PortalError::Unavailable("The database is unavailable. Check the server log.".to_owned()))?;
    Ok(StatusReport {
        database: status.database,
        schema_version: status.schema_version,
        tenants: status.tenants,
        version: status.version,
    })
}

/// The landing page for signed-in operators: what this deployment is and whether its
/// database answers.
#[component]
pub fn StatusPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <StatusView operator/> }.into_any()/> }
}

/// Works whole without the bundle: checking is a plain form that asks for this page at
/// `?check=database` (a read, so a GET), which the server renders with the report.
#[component]
fn StatusView(operator: OperatorView) -> impl IntoView {
    let checked = leptos_router::hooks::use_query_map().with_untracked(|query| query.get("check").is_some());
    let report = Resource::new(
        || (),
        move |_| async move { if checked { deployment_status().await.map(Some) } else { Ok(None) } },
    );
    view! {
        <TopBar operator/>
        <main class="mx-auto max-w-5xl px-4 py-12 sm:px-6">
            <header class="mb-10">
                <p><BrandMark class="text-sm font-semibold uppercase tracking-wide text-accent"/></p>
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
                    <form method="get" action="/">
                        <input type="hidden" name="check" value="database"/>
                        <button id="check-database" type="submit" class=PRIMARY_BUTTON>"Check database"</button>
                    </form>
                </div>
                <div id="status-result" class="mt-6" aria-live="polite">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match report.await {
                                Ok(None) => view! { <p class="text-sm text-slate-500">"Not checked yet."</p> }.into_any(),
                                Ok(Some(report)) => view! { <StatusDetails report/> }.into_any(),
                                Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                            }
                        })}
                    </Suspense>
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
