//! `/tenants/{slug}/directories/{id}`: a tenant's directory as vendor staff read it, from
//! the tenant's page: its recent activity in words with the chart, its users and groups
//! (each opening its page), and the stale-user report. Read-only; every read is recorded in the tenant's trail
//! (`support.viewed_directory`), so the page does not poll: it reads once per visit.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::auth::OperatorView;
use crate::components::{SignedIn, TopBar};
use crate::pages::dashboard::{ActivityPanel, ResourceTable};
use crate::pages::stale_users::StaleUsers;

#[component]
pub fn StaffDirectoryPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <StaffDirectoryView operator/> }.into_any()/> }
}

#[component]
fn StaffDirectoryView(operator: OperatorView) -> impl IntoView {
    let params = use_params_map();
    let slug = params.read_untracked().get("slug").unwrap_or_default();
    let directory = params.read_untracked().get("id").unwrap_or_default();
    // Nothing here follows the requests: staff reads are recorded, so they happen when
    // staff look, not on a timer.
    view! {
        <TopBar operator/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <div>
                <A href=format!("/tenants/{slug}") attr:class="text-sm font-medium text-accent-strong hover:text-accent-strong">"← Tenant"</A>
                <h1 id="staff-directory-heading" class="mt-2 text-2xl font-bold tracking-tight">"Users, groups and activity"</h1>
                <p class="mt-1 text-sm text-slate-600">"Read-only, except asking a Google Workspace directory to sync. Your reading is recorded in the tenant's audit trail."</p>
            </div>
            <ActivityPanel directory=directory.clone() tenant=slug.clone()/>
            <crate::pages::google::GoogleSyncPanel directory=directory.clone() tenant=slug.clone()/>
            <ResourceTable directory=directory.clone() tenant=slug.clone() kind="users" title="Users"/>
            <ResourceTable directory=directory.clone() tenant=slug.clone() kind="groups" title="Groups"/>
            <ResourceTable directory=directory.clone() tenant=slug.clone() kind="agents" title="Agents"/>
            <ResourceTable directory=directory.clone() tenant=slug.clone() kind="agentic-applications" title="Agentic applications"/>
            <StaleUsers directory tenant=slug/>
        </main>
    }
}
