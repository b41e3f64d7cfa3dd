//! `/admin/directories/{id}/users/{user}` and `/admin/directories/{id}/groups/{group}`: one
//! user or group as its admin looks into it: the attributes as the identity provider
//! stored them, what the vendor's product reads (normalized with the tenant's mapping),
//! its groups or members, and its history from the audit trail in words. The admin
//! suspends a user here when the identity provider cannot be reached, and lifts it.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::components::style::{CARD, DANGER_BUTTON, INPUT, SECONDARY_BUTTON};
use crate::components::{AdminTopBar, Badge, ErrorBox, SignedIn, SignedInAdmin, Skeleton, TopBar, refusal_of};
use crate::error::PortalError;

/// The path segment of a kind's pages: `users`, `groups`, `agents` or
/// `agentic-applications`.
pub fn segment(kind: store_kind::Kind) -> &'static str {
    match kind {
        store_kind::Kind::User => "users",
        store_kind::Kind::Group => "groups",
        store_kind::Kind::Agent => "agents",
        store_kind::Kind::AgenticApplication => "agentic-applications",
    }
}

/// Where a reader's pages of a directory are: the admin's own (`tenant` empty) or, for
/// vendor staff, under the tenant's slug.
pub fn directory_pages(tenant: &str, directory: &str) -> String {
    if tenant.is_empty() {
        format!("/admin/directories/{directory}")
    } else {
        format!("/tenants/{tenant}/directories/{directory}")
    }
}

/// The page of a user or group of that directory, for the same reader.
pub fn resource_page(tenant: &str, directory: &str, kind: store_kind::Kind, id: &str) -> String {
    format!("{}/{}/{id}", directory_pages(tenant, directory), segment(kind))
}

/// The resource kinds as this page names them (the store's type is server-only).
pub mod store_kind {
    /// A user, a group, an agent or an agentic application.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Kind {
        User,
        Group,
        Agent,
        AgenticApplication,
    }

    #[cfg(feature = "ssr")]
    impl From<service::ResourceKind> for Kind {
        fn from(kind: service::ResourceKind) -> Self {
            match kind {
                service::ResourceKind::User => Kind::User,
                service::ResourceKind::Group => Kind::Group,
                service::ResourceKind::Agent => Kind::Agent,
                service::ResourceKind::AgenticApplication => Kind::AgenticApplication,
            }
        }
    }
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLine {
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub time: String,
    pub summary: String,
    pub by: String,
}

/// A user's suspension as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuspensionView {
    /// `YYYY-MM-DD HH:MM` UTC.
    pub since: String,
    /// Who suspended it, in words.
    pub by: String,
    pub reason: String,
}

/// A user or group as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceView {
    pub name: String,
    /// A user's state; `None` for a group.
    pub active: Option<bool>,
    /// A user's local suspension.
    pub suspension: Option<SuspensionView>,
    /// Pretty-printed JSON.
    pub stored: String,
    /// Pretty-printed JSON.
    pub normalized: String,
    /// A user's groups or a group's members: (page address, name).
    pub related: Vec<(String, String)>,
    /// How many there are in all (more than listed for a large group).
    pub related_total: usize,
    pub history: Vec<HistoryLine>,
}

/// `tenant`: empty for the signed-in admin's own directory, the tenant's slug for vendor
/// staff (whose read is recorded in the tenant's trail).
#[server(endpoint = "directory_resource")]
pub async fn directory_resource(
    directory: String,
    kind: String,
    id: String,
    #[server(default)] tenant: String,
) -> Result<ResourceView, PortalError> {
    let viewed = match kind.as_str() {
        "groups" => "a group's page",
        "agents" => "an agent's page",
        "agentic-applications" => "an agentic application's page",
        _ => "a user's page",
    };
    let reader = crate::portal::DirectoryReader::require(&tenant, &directory, viewed).await?;
    // Agents and applications relate to nothing listed here (their related list is empty).
    let (kind, related_kind) = match kind.as_str() {
        "users" => (service::ResourceKind::User, store_kind::Kind::Group),
        "groups" => (service::ResourceKind::Group, store_kind::Kind::User),
        "agents" => (service::ResourceKind::Agent, store_kind::Kind::Agent),
        "agentic-applications" => (service::ResourceKind::AgenticApplication, store_kind::Kind::AgenticApplication),
        _ => return Err(PortalError::NotFound("There is no such page.".to_owned())),
    };
    let detail =
        service::directory_browser::resource_detail(&reader.store, reader.tenant, reader.directory, kind, &id).await?;
    let pretty = |value: &serde_json::Value| serde_json::to_string_pretty(value).unwrap_or_default();
    let suspension = match detail.suspension {
        Some(suspension) => Some(SuspensionView {
            since: crate::portal::date_time(Some(suspension.suspended_at)),
            by: service::activity::actor_in_words(&reader.store, reader.tenant, &suspension.suspended_by).await?,
            reason: suspension.reason,
        }),
        None => None,
    };
    Ok(ResourceView {
        name: detail.name,
        active: detail.active,
        suspension,
        stored: pretty(&detail.stored),
        normalized: pretty(&detail.normalized),
        related_total: detail.related_total,
        related: detail
            .related
            .into_iter()
            .map(|(id, name)| (resource_page(&tenant, &directory, related_kind, &id), name))
            .collect(),
        history: detail
            .history
            .into_iter()
            .map(|(at, activity)| HistoryLine {
                time: at.format("%Y-%m-%d %H:%M:%S").to_string(),
                summary: activity.summary,
                by: activity.by,
            })
            .collect(),
    })
}

/// Suspends one of the signed-in admin's users for `reason` (`lift` empty), or lifts its
/// suspension (`lift` set).
#[server(endpoint = "set_user_suspension")]
pub async fn set_user_suspension(
    directory: String,
    id: String,
    #[server(default)] reason: String,
    #[server(default)] lift: String,
) -> Result<(), PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let directory = admin.directory(&directory).await?;
    let now = admin.portal.effects.now();
    let public_base = admin.portal.public_base().to_owned();
    let reason = lift.is_empty().then_some(reason.as_str());
    service::suspensions::set_suspension(
        admin.store(),
        admin.tenant(),
        directory,
        &id,
        reason,
        &admin.actor(),
        &public_base,
        now,
    )
    .await?;
    crate::error::after_plain_form_post_go_back_to_page();
    Ok(())
}

/// `/admin/directories/{id}/users/{user}`
#[component]
pub fn UserPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <AdminTopBar admin/><ResourcePageView kind="users"/> }.into_any()/> }
}

/// `/admin/directories/{id}/groups/{group}`
#[component]
pub fn GroupPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <AdminTopBar admin/><ResourcePageView kind="groups"/> }.into_any()/> }
}

/// `/admin/directories/{id}/agents/{agent}`
#[component]
pub fn AgentPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <AdminTopBar admin/><ResourcePageView kind="agents"/> }.into_any()/> }
}

/// `/admin/directories/{id}/agentic-applications/{application}`
#[component]
pub fn AgenticApplicationPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <AdminTopBar admin/><ResourcePageView kind="agentic-applications"/> }.into_any()/> }
}

/// `/tenants/{slug}/directories/{id}/agents/{agent}`: an agent as vendor staff see it.
#[component]
pub fn StaffAgentPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <TopBar operator/><ResourcePageView kind="agents"/> }.into_any()/> }
}

/// `/tenants/{slug}/directories/{id}/agentic-applications/{application}`: an agentic
/// application as vendor staff see it.
#[component]
pub fn StaffAgenticApplicationPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <TopBar operator/><ResourcePageView kind="agentic-applications"/> }.into_any()/> }
}

/// `/tenants/{slug}/directories/{id}/users/{user}`: a user as vendor staff see it.
#[component]
pub fn StaffUserPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <TopBar operator/><ResourcePageView kind="users"/> }.into_any()/> }
}

/// `/tenants/{slug}/directories/{id}/groups/{group}`: a group as vendor staff see it.
#[component]
pub fn StaffGroupPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <TopBar operator/><ResourcePageView kind="groups"/> }.into_any()/> }
}

/// The page's body, for the admin (no `slug` in the address) or vendor staff.
#[component]
fn ResourcePageView(kind: &'static str) -> impl IntoView {
    let params = use_params_map();
    let param = move |name: &str| params.read().get(name).unwrap_or_default();
    let directory = move || param("id");
    let tenant = move || param("slug");
    let kind = move || kind.to_owned();
    let back = move || directory_pages(&tenant(), &directory());
    // Rendered on the server; suspending or lifting is a plain form that reloads the page.
    let resource = Resource::new(
        move || (directory(), kind(), param("resource"), tenant()),
        |(directory, kind, id, tenant)| directory_resource(directory, kind, id, tenant),
    );
    let refused = refusal_of::<SetUserSuspension>();
    view! {
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <A href=back attr:class="text-sm font-medium text-accent-strong hover:text-accent-strong">
                {move || if tenant().is_empty() { "← Dashboard" } else { "← Users, groups and activity" }}
            </A>
            <Suspense fallback=|| view! { <Skeleton/> }>
            {move || { let refused = refused.clone(); Suspend::new(async move {
                let loaded = resource.await;
                let (related_title, empty) = if kind() == "users" { ("Groups", "In no group.") } else { ("Members", "No members.") };
                match loaded {
                    Ok(resource) => view! {
                        <div class="flex flex-wrap items-center gap-3">
                            <h1 id="resource-heading" class="break-all text-2xl font-bold tracking-tight">{resource.name}</h1>
                            {resource.suspension.is_some().then(|| view! { <Badge tone="bad" text="Suspended".to_owned()/> })}
                            {resource.active.map(|active| {
                                // Suspended, the state is the identity provider's word only.
                                let text = match (active, resource.suspension.is_some()) {
                                    (true, false) => "Active",
                                    (false, false) => "Deactivated",
                                    (true, true) => "Active at the identity provider",
                                    (false, true) => "Deactivated at the identity provider",
                                };
                                view! { <Badge tone=if active { "good" } else { "neutral" } text=text.to_owned()/> }
                            })}
                        </div>
                        {(kind() == "users").then(|| {
                            let admin = tenant().is_empty();
                            let directory = directory();
                            let id = param("resource");
                            view! {
                                <section id="suspension" class=CARD aria-labelledby="suspension-heading">
                                    <h2 id="suspension-heading" class="text-lg font-semibold">"Suspension"</h2>
                                    {match resource.suspension.clone() {
                                        Some(suspension) => view! {
                                            <p id="suspension-state" role="status" class="mt-2 rounded-lg bg-red-50 p-3 text-sm text-red-800">
                                                {format!("Suspended since {} by {}: {}. The product sees this user as suspended, whatever the identity provider sends, until the suspension is lifted.", suspension.since, suspension.by, suspension.reason)}
                                            </p>
                                            {admin.then(|| view! {
                                                <form method="post" action=SetUserSuspension::url() class="mt-3" aria-describedby="suspension-error">
                                                    <input type="hidden" name="directory" value=directory.clone()/>
                                                    <input type="hidden" name="id" value=id.clone()/>
                                                    <input type="hidden" name="lift" value="yes"/>
                                                    <button id="lift-suspension" type="submit" class=SECONDARY_BUTTON>"Lift the suspension"</button>
                                                </form>
                                            })}
                                        }.into_any(),
                                        None if admin => view! {
                                            <p class="mt-1 text-sm text-slate-600">
                                                "When the identity provider cannot be reached, suspend the user here: the product stops them at once, the identity provider's later changes do not undo it, and what the identity provider reads stays as it wrote it."
                                            </p>
                                            <form method="post" action=SetUserSuspension::url() class="mt-3 flex flex-wrap items-end gap-3" aria-describedby="suspension-error">
                                                <input type="hidden" name="directory" value=directory/>
                                                <input type="hidden" name="id" value=id/>
                                                <div class="min-w-[16rem] flex-1">
                                                    <label for="suspension-reason" class="block text-sm font-medium text-slate-700">"Reason"</label>
                                                    <input id="suspension-reason" name="reason" maxlength="500" class=INPUT/>
                                                </div>
                                                <button id="suspend-user" type="submit" class=DANGER_BUTTON>"Suspend"</button>
                                            </form>
                                        }.into_any(),
                                        None => view! { <p id="suspension-state" class="mt-1 text-sm text-slate-600">"Not suspended."</p> }.into_any(),
                                    }}
                                    <div id="suspension-error" class="mt-2" aria-live="polite">
                                        {refused.map(|error| view! { <ErrorBox message=error.to_string()/> })}
                                    </div>
                                </section>
                            }
                        })}
                        {matches!(kind().as_str(), "users" | "groups").then(|| view! {
                        <section class=CARD aria-labelledby="related-heading">
                            <h2 id="related-heading" class="text-lg font-semibold">{format!("{related_title} ({})", resource.related_total)}</h2>
                            {(resource.related_total > resource.related.len()).then(|| view! {
                                <p class="mt-1 text-sm text-slate-600">{format!("The first {} are listed.", resource.related.len())}</p>
                            })}
                            {if resource.related.is_empty() {
                                view! { <p class="mt-2 text-sm text-slate-600">{empty}</p> }.into_any()
                            } else {
                                view! {
                                    <ul id="related" class="mt-2 flex flex-wrap gap-2">
                                        {resource.related.into_iter().map(|(href, name)| view! {
                                            <li><A href=href attr:class="inline-block rounded-full bg-slate-100 px-3 py-1 text-sm text-slate-800 hover:bg-slate-200">{name}</A></li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </section>
                        })}
                        <section class=CARD aria-labelledby="history-heading">
                            <h2 id="history-heading" class="text-lg font-semibold">"History"</h2>
                            <ol id="history" class="mt-3 space-y-3 text-sm">
                                {resource.history.into_iter().map(|line| view! {
                                    <li class="border-l-2 border-slate-200 pl-3">
                                        <p class="font-medium text-slate-900">{line.summary}</p>
                                        <p class="text-xs text-slate-600">{format!("{} UTC · {}", line.time, line.by)}</p>
                                    </li>
                                }).collect_view()}
                            </ol>
                        </section>
                        <div class="grid gap-8 lg:grid-cols-2">
                            <section class=format!("{CARD} min-w-0") aria-labelledby="stored-heading">
                                <h2 id="stored-heading" class="text-lg font-semibold">"As your identity provider stored it"</h2>
                                <pre id="stored" tabindex="0" class="mt-3 max-h-96 overflow-auto rounded bg-slate-900 p-3 text-xs text-slate-100">{resource.stored}</pre>
                            </section>
                            <section class=format!("{CARD} min-w-0") aria-labelledby="normalized-heading">
                                <h2 id="normalized-heading" class="text-lg font-semibold">"As the product reads it"</h2>
                                <p class="mt-1 text-sm text-slate-600">"Normalized, with your attribute mapping and roles applied."</p>
                                <pre id="normalized" tabindex="0" class="mt-3 max-h-96 overflow-auto rounded bg-slate-900 p-3 text-xs text-slate-100">{resource.normalized}</pre>
                            </section>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <div id="resource-error"><ErrorBox message=error.to_string()/></div> }.into_any(),
                }
            })}}
            </Suspense>
        </main>
    }
}
