//! `/admin/directories/{id}`: a directory's dashboard after setup: sync health, users and
//! groups with search and paging, non-human identities with those whose owner is
//! deactivated flagged, and the directory's deletion.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::delete_directory::delete_directory;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{
    AdminTopBar, Badge, CopyField, DeleteDirectoryAction, DeleteDirectoryForm, DeletionOutcome, ErrorBox,
    SignedInAdmin, Skeleton,
};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use crate::portal::{Admin, date_time, directory_id};

/// The dashboard's header and sync health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    pub idp_name: String,
    pub scim_base_url: String,
    pub completed: bool,
    pub reached: u8,
    /// `never`, or a UTC date and time.
    pub last_request: String,
    pub requests_24h: i64,
    pub failures_24h: i64,
}

/// A user or group in the dashboard's tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub id: String,
    /// `userName` or `displayName`.
    pub name: String,
    /// A user's display name or email; a group's member count.
    pub secondary: String,
    /// Users only.
    pub active: Option<bool>,
}

/// A page of users or groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourcePage {
    pub total: i64,
    pub start: i64,
    pub rows: Vec<ResourceRow>,
}

/// Resources per dashboard page.
pub const DASHBOARD_PAGE: i64 = 20;

#[server(endpoint = "directory_dashboard")]
pub async fn directory_dashboard(directory: String) -> Result<DashboardView, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    let setup = service::onboarding::directory_setup(admin.store(), admin.tenant(), id).await?;
    let health = service::onboarding::sync_health(admin.store(), admin.tenant(), id, admin.portal.now()).await?;
    Ok(DashboardView {
        idp_name: setup.directory.idp.display_name().to_owned(),
        scim_base_url: admin.portal.scim_base_url(id),
        completed: setup.state.completed.is_some(),
        reached: setup.state.step,
        last_request: date_time(health.last_request_at),
        requests_24h: health.requests,
        failures_24h: health.failures,
    })
}

/// A page of the directory's users (`kind` = `users`) or groups (`groups`), optionally
/// only those whose name starts with `search`.
#[server(endpoint = "directory_resources")]
pub async fn directory_resources(
    directory: String,
    kind: String,
    search: String,
    start: i64,
) -> Result<ResourcePage, PortalError> {
    use service::directory_browser;
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let (store, tenant) = (admin.store(), admin.tenant());
    let page = match kind.as_str() {
        "users" => {
            directory_browser::users(store, tenant, id, &search, start, DASHBOARD_PAGE).await?.map(server::user_row)
        }
        "groups" => {
            directory_browser::groups(store, tenant, id, &search, start, DASHBOARD_PAGE).await?.map(server::group_row)
        }
        _ => return Err(PortalError::Invalid("Choose users or groups.".to_owned())),
    };
    Ok(ResourcePage { total: page.total, start: page.start, rows: page.rows })
}

#[cfg(feature = "ssr")]
mod server {
    use super::ResourceRow;

    pub(crate) fn user_row(user: service::directory_browser::UserRow) -> ResourceRow {
        ResourceRow {
            id: user.id,
            secondary: user.display_name.or(user.email).unwrap_or_default(),
            name: user.user_name,
            active: Some(user.active),
        }
    }

    pub(crate) fn group_row(group: service::directory_browser::GroupRow) -> ResourceRow {
        let members = group.members;
        ResourceRow {
            id: group.id,
            name: group.display_name,
            secondary: format!("{members} member{}", if members == 1 { "" } else { "s" }),
            active: None,
        }
    }
}

/// A non-human identity (service account or agent) as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRow {
    pub id: String,
    pub user_name: String,
    /// `Service account` or `Agent`.
    pub kind: String,
    pub active: bool,
    pub expires: String,
    /// The owner's userName, its id when it was deleted, empty without an owner.
    pub owner: String,
    /// `none`, `active`, `deactivated` or `deleted`.
    pub owner_state: String,
    /// Nobody active answers for it: its owner is deactivated or deleted.
    pub flagged: bool,
}

#[cfg(feature = "ssr")]
pub(crate) mod identity_rows {
    use service::nonhuman::{NonHumanKind, OwnerState};

    pub(crate) fn kind_label(kind: NonHumanKind) -> &'static str {
        match kind {
            NonHumanKind::ServiceAccount => "Service account",
            NonHumanKind::Agent => "Agent",
        }
    }

    pub(crate) fn owner_state(state: OwnerState) -> &'static str {
        match state {
            OwnerState::NoOwner => "none",
            OwnerState::Active => "active",
            OwnerState::Deactivated => "deactivated",
            OwnerState::Gone => "deleted",
        }
    }

    /// The owner's userName, or its id once it was deleted.
    pub(crate) fn owner(identity: &service::nonhuman::NonHumanIdentity) -> String {
        identity.owner_name.clone().or_else(|| identity.owner_id.clone()).unwrap_or_default()
    }

    pub(crate) fn row(identity: service::nonhuman::NonHumanIdentity) -> super::IdentityRow {
        super::IdentityRow {
            kind: kind_label(identity.kind).to_owned(),
            active: identity.active,
            expires: identity
                .expires_at
                .map_or_else(|| "never".to_owned(), |at| at.format("%Y-%m-%d %H:%M UTC").to_string()),
            owner: owner(&identity),
            owner_state: owner_state(identity.owner_state).to_owned(),
            flagged: identity.owner_state.is_flagged(),
            id: identity.id,
            user_name: identity.user_name,
        }
    }
}

/// The non-human identities of one of the signed-in admin's directories.
#[server(endpoint = "directory_identities")]
pub async fn directory_identities(directory: String) -> Result<Vec<IdentityRow>, PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let identities = service::nonhuman::directory_identities(admin.store(), admin.tenant(), id).await?;
    Ok(identities.into_iter().map(identity_rows::row).collect())
}

pub(crate) fn directory_param() -> impl Fn() -> String + Copy {
    let params = use_params_map();
    move || params.read().get("id").unwrap_or_default()
}

/// `/admin/directories/{id}`: sync health, users and groups.
#[component]
pub fn DashboardPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <DashboardView admin/> }.into_any()/> }
}

#[component]
fn DashboardView(admin: AdminView) -> impl IntoView {
    let directory = directory_param();
    // Loaded in the browser: the health figures change from one read to the next, and a
    // server render that differs from the first client render would stop the hydration.
    let summary = LocalResource::new(move || directory_dashboard(directory()));
    let delete: DeleteDirectoryAction = Action::new(|(directory, confirmation): &(String, String)| {
        let (directory, confirmation) = (directory.clone(), confirmation.clone());
        async move { delete_directory(directory, confirmation).await }
    });
    let deleted = move || delete.value().with(|outcome| matches!(outcome, Some(Ok(_))));
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-6 py-10">
            <DeletionOutcome delete/>
            <Show when=deleted>
                <A href="/admin" attr:id="back-to-directories" attr:class=PRIMARY_BUTTON>"Back to your directories"</A>
            </Show>
            {move || {
                if deleted() {
                    return ().into_any();
                }
                let Some(loaded) = summary.get() else { return view! { <Skeleton/> }.into_any(); };
                match loaded {
                        Ok(summary) => {
                            let error_rate = if summary.requests_24h == 0 { "—".to_owned() } else {
                                format!("{:.1} %", summary.failures_24h as f64 * 100.0 / summary.requests_24h as f64)
                            };
                            let health = if summary.requests_24h == 0 { ("No requests today", "neutral") }
                                else if summary.failures_24h * 10 > summary.requests_24h { ("Failing", "bad") }
                                else if summary.failures_24h > 0 { ("Some failures", "warn") }
                                else { ("Healthy", "good") };
                            view! {
                                <div class="flex flex-wrap items-end justify-between gap-4">
                                    <div>
                                        <A href="/admin" attr:class="text-sm font-medium text-indigo-600 hover:text-indigo-500">"← Directories"</A>
                                        <h1 id="dashboard-heading" class="mt-2 text-2xl font-bold tracking-tight">{summary.idp_name.clone()}</h1>
                                    </div>
                                    <div class="flex gap-3">
                                        <A href=format!("/admin/directories/{}/roles", directory()) attr:id="manage-roles" attr:class=SECONDARY_BUTTON>"Roles"</A>
                                        <A href=format!("/admin/directories/{}/brake", directory()) attr:id="manage-brake" attr:class=SECONDARY_BUTTON>"Safety brake"</A>
                                        <A href=format!("/admin/directories/{}/tokens", directory()) attr:id="manage-tokens" attr:class=SECONDARY_BUTTON>"Tokens"</A>
                                        {(!summary.completed).then(|| view! {
                                            <A href=format!("/admin/directories/{}/setup/test", directory()) attr:class=PRIMARY_BUTTON>"Finish setup"</A>
                                        })}
                                    </div>
                                </div>
                                <crate::pages::brake::HeldBanner directory=directory()/>
                                <crate::pages::alerts::AlertsPanel directory=directory()/>
                                <crate::pages::group_roles::RepublishProgressPanel directory=directory()/>
                                <section class=CARD aria-labelledby="health-heading">
                                    <div class="flex items-center gap-3">
                                        <h2 id="health-heading" class="text-lg font-semibold">"Sync health"</h2>
                                        <Badge tone=health.1 text=health.0.to_owned()/>
                                    </div>
                                    <dl id="sync-health" class="mt-4 grid gap-4 text-sm sm:grid-cols-4">
                                        <div><dt class="text-slate-500">"Last request"</dt><dd class="mt-1 font-semibold">{summary.last_request}</dd></div>
                                        <div><dt class="text-slate-500">"Requests, last 24 h"</dt><dd class="mt-1 font-semibold">{summary.requests_24h}</dd></div>
                                        <div><dt class="text-slate-500">"Failures, last 24 h"</dt><dd class="mt-1 font-semibold">{summary.failures_24h}</dd></div>
                                        <div><dt class="text-slate-500">"Error rate"</dt><dd class="mt-1 font-semibold">{error_rate}</dd></div>
                                    </dl>
                                    <div class="mt-4"><CopyField id="scim-base-url" label="SCIM base URL" value=summary.scim_base_url/></div>
                                </section>
                                <ResourceTable directory=directory() kind="users" title="Users"/>
                                <ResourceTable directory=directory() kind="groups" title="Groups"/>
                                <IdentityTable directory=directory()/>
                                <crate::pages::alerts::SilenceSetting directory=directory()/>
                                <section class=CARD aria-labelledby="delete-heading">
                                    <h2 id="delete-heading" class="text-lg font-semibold">"Delete this directory"</h2>
                                    <p class="mt-1 text-sm text-slate-600">
                                        "Its tokens stop working at once and your identity provider can no longer provision into it; its users and groups are removed from the product. This cannot be undone."
                                    </p>
                                    <DeleteDirectoryForm directory=directory() name=summary.idp_name delete/>
                                </section>
                            }.into_any()
                        }
                        Err(error) => view! { <div id="dashboard-error"><ErrorBox message=error.to_string()/></div> }.into_any(),
                    }
            }}
        </main>
    }
}

#[component]
fn ResourceTable(directory: String, kind: &'static str, title: &'static str) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let start = RwSignal::new(1_i64);
    // Client-side only: a resource nested in the page's suspense would otherwise have to
    // match the server's render at hydration.
    let rows =
        LocalResource::new(move || directory_resources(directory.clone(), kind.to_owned(), search.get(), start.get()));
    let search_id = format!("{kind}-search");
    view! {
        <section class=CARD aria-labelledby=format!("{kind}-heading")>
            <div class="flex flex-wrap items-center justify-between gap-3">
                <h2 id=format!("{kind}-heading") class="text-lg font-semibold">{title}</h2>
                <div class="w-64">
                    <label for=search_id.clone() class="sr-only">{format!("Search {}", title.to_lowercase())}</label>
                    <input id=search_id type="search" placeholder=if kind == "users" { "User name starts with…" } else { "Group name starts with…" }
                        class=INPUT
                        on:input=move |event| {
                            search.set(event_target_value(&event));
                            start.set(1);
                        }/>
                </div>
            </div>
            {move || {
                let Some(loaded) = rows.get() else { return view! { <Skeleton/> }.into_any(); };
                match loaded {
                        Ok(page) => {
                            let last = page.start + page.rows.len() as i64 - 1;
                            let has_previous = page.start > 1;
                            let has_next = last < page.total;
                            let summary = if page.total == 0 { "None".to_owned() } else { format!("{}–{} of {}", page.start, last, page.total) };
                            view! {
                                <table id=format!("{kind}-table") class="mt-4 w-full text-left text-sm">
                                    <thead class="border-b border-slate-200 text-slate-500">
                                        <tr>
                                            <th scope="col" class="py-2 font-medium">{if kind == "users" { "User name" } else { "Group" }}</th>
                                            <th scope="col" class="py-2 font-medium">{if kind == "users" { "Name or email" } else { "Members" }}</th>
                                            {(kind == "users").then(|| view! { <th scope="col" class="py-2 font-medium">"Status"</th> })}
                                        </tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100">
                                        {page.rows.into_iter().map(|row| view! {
                                            <tr>
                                                <td class="py-2 font-medium">{row.name}</td>
                                                <td class="py-2 text-slate-600">{row.secondary}</td>
                                                {row.active.map(|active| view! {
                                                    <td class="py-2"><Badge tone=if active { "good" } else { "neutral" } text=(if active { "Active" } else { "Deactivated" }).to_owned()/></td>
                                                })}
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <div class="mt-3 flex items-center justify-between text-sm text-slate-600">
                                    <span id=format!("{kind}-count")>{summary}</span>
                                    <div class="flex gap-2">
                                        <button type="button" class=SECONDARY_BUTTON disabled=!has_previous
                                            on:click=move |_| start.update(|s| *s = (*s - DASHBOARD_PAGE).max(1))>"Previous"</button>
                                        <button type="button" class=SECONDARY_BUTTON disabled=!has_next
                                            on:click=move |_| start.update(|s| *s += DASHBOARD_PAGE)>"Next"</button>
                                    </div>
                                </div>
                            }.into_any()
                        }
                        Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    }
            }}
        </section>
    }
}

/// The directory's service accounts and agents, with a warning for those whose owner is
/// deactivated or deleted: nobody active answers for them any more.
#[component]
fn IdentityTable(directory: String) -> impl IntoView {
    let rows = LocalResource::new(move || directory_identities(directory.clone()));
    view! {
        <section class=CARD aria-labelledby="identities-heading">
            <h2 id="identities-heading" class="text-lg font-semibold">"Non-human identities"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Service accounts and agents, provisioned with the non-human identity extension. They are deactivated when they expire."
            </p>
            {move || {
                let Some(loaded) = rows.get() else { return view! { <Skeleton/> }.into_any(); };
                match loaded {
                    Ok(rows) if rows.is_empty() => view! {
                        <p id="no-identities" class="mt-4 text-sm text-slate-600">"No service accounts or agents in this directory."</p>
                    }.into_any(),
                    Ok(rows) => {
                        let flagged = rows.iter().filter(|row| row.flagged).count();
                        view! {
                            {(flagged > 0).then(|| view! {
                                <p id="owner-deactivated-warning" role="status" class="mt-4 flex items-center gap-2 rounded-lg bg-red-50 p-3 text-sm text-red-800">
                                    <Badge tone="bad" text=format!("{flagged} owner deactivated")/>
                                    {if flagged == 1 { "One identity has no active owner. Find it a new owner or deactivate it.".to_owned() }
                                        else { format!("{flagged} identities have no active owner. Find them a new owner or deactivate them.") }}
                                </p>
                            })}
                            <table id="identities-table" class="mt-4 w-full text-left text-sm">
                                <thead class="border-b border-slate-200 text-slate-500">
                                    <tr>
                                        <th scope="col" class="py-2 font-medium">"Identity"</th>
                                        <th scope="col" class="py-2 font-medium">"Kind"</th>
                                        <th scope="col" class="py-2 font-medium">"Owner"</th>
                                        <th scope="col" class="py-2 font-medium">"Expires"</th>
                                        <th scope="col" class="py-2 font-medium">"Status"</th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100">
                                    {rows.into_iter().map(|row| {
                                        let owner_badge = match row.owner_state.as_str() {
                                            "deactivated" => Some(("bad", "Owner deactivated")),
                                            "deleted" => Some(("bad", "Owner deleted")),
                                            _ => None,
                                        };
                                        view! {
                                            <tr data-identity=row.id.clone() class:bg-red-50=row.flagged>
                                                <th scope="row" class="py-2 font-medium">{row.user_name}</th>
                                                <td class="py-2">{row.kind}</td>
                                                <td class="py-2 text-slate-600">
                                                    {if row.owner.is_empty() { "—".to_owned() } else { row.owner }}
                                                    {owner_badge.map(|(tone, text)| view! { <span class="ml-2"><Badge tone text=text.to_owned()/></span> })}
                                                </td>
                                                <td class="py-2 text-slate-600">{row.expires}</td>
                                                <td class="py-2"><Badge tone=if row.active { "good" } else { "neutral" } text=(if row.active { "Active" } else { "Deactivated" }).to_owned()/></td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                }
            }}
        </section>
    }
}
