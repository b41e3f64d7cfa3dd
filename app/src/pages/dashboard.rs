//! `/admin/directories/{id}`: a directory's dashboard after setup: sync health, users and
//! groups with search and paging, non-human identities with those whose owner is
//! deactivated flagged, and the directory's deletion.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{
    AdminTopBar, Badge, CopyField, DeleteDirectoryForm, DeletionOutcome, ErrorBox, SignedInAdmin, Skeleton,
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

/// A SCIM request of the directory in words, for the dashboard's activity list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityLine {
    pub seq: i64,
    /// `YYYY-MM-DD HH:MM:SS` UTC.
    pub time: String,
    pub summary: String,
    pub by: String,
    pub ok: bool,
    /// For a failure: what went wrong and what to do.
    pub cause: Option<String>,
    /// The page of the user or group it was about, while it is stored.
    pub subject_href: Option<String>,
    /// `PATCH /scim/v2/…/Users/… → 200`.
    pub raw: String,
}

/// Requests and failures of one bar of the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarView {
    /// `14:00` or `Mon 3 Dec`, UTC.
    pub label: String,
    pub requests: i64,
    pub failures: i64,
}

/// The dashboard's live part: recent requests in words and the chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityView {
    pub lines: Vec<ActivityLine>,
    /// The last 24 hours, hour by hour, oldest first.
    pub hours: Vec<BarView>,
    /// The last 7 days, day by day, oldest first.
    pub days: Vec<BarView>,
}

/// Requests listed in the dashboard's activity.
pub const ACTIVITY_LINES: i64 = 15;

/// `tenant`: empty for the signed-in admin's own directory, the tenant's slug for vendor
/// staff (whose read is recorded in the tenant's trail).
#[server(endpoint = "directory_activity")]
pub async fn directory_activity(
    directory: String,
    #[server(default)] tenant: String,
) -> Result<ActivityView, PortalError> {
    let reader = crate::portal::DirectoryReader::require(&tenant, &directory, "directory activity").await?;
    let (store, tenant, id, now) = (&reader.store, reader.tenant, reader.directory, reader.now);
    let requests = service::onboarding::recent_requests(store, tenant, id, 0, ACTIVITY_LINES).await?;
    let activities = service::activity::describe_requests(store, tenant, id, &requests).await?;
    let lines = requests
        .iter()
        .zip(activities)
        .map(|(request, activity)| {
            let cause = service::onboarding::failure_cause(request);
            ActivityLine {
                seq: request.seq,
                time: request.occurred_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                summary: activity.summary,
                by: activity.by,
                ok: cause.is_none(),
                cause,
                subject_href: activity.subject.map(|subject| reader.resource_page(subject.kind, &subject.id)),
                raw: format!("{} {} → {}", request.method, request.path, request.status),
            }
        })
        .collect();
    let bars = |chart: Vec<service::onboarding::RequestBar>, format: &str| {
        chart
            .into_iter()
            .map(|bar| BarView {
                label: bar.from.format(format).to_string(),
                requests: bar.requests,
                failures: bar.failures,
            })
            .collect()
    };
    let hour = chrono::Duration::hours(1);
    let hours = service::onboarding::request_chart(store, tenant, id, now, hour, 24).await?;
    let days = service::onboarding::request_chart(store, tenant, id, now, chrono::Duration::days(1), 7).await?;
    Ok(ActivityView { lines, hours: bars(hours, "%H:%M"), days: bars(days, "%a %-d %b") })
}

/// A directory's sync health over a day in a word, with its badge tone: what the dashboard
/// and the operator's tenant page say of it.
pub fn sync_health_badge(requests: i64, failures: i64) -> (&'static str, &'static str) {
    if requests == 0 {
        ("No requests today", "neutral")
    } else if failures * 10 > requests {
        ("Failing", "bad")
    } else if failures > 0 {
        ("Some failures", "warn")
    } else {
        ("Healthy", "good")
    }
}

/// Resources per dashboard page.
pub const DASHBOARD_PAGE: i64 = 20;

#[server(endpoint = "directory_dashboard")]
pub async fn directory_dashboard(directory: String) -> Result<DashboardView, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    let setup = service::onboarding::directory_setup(admin.store(), admin.tenant(), id).await?;
    let now = admin.portal.now();
    // Like the wizard's live feed: the identity provider's first provisioning completes
    // setup wherever the admin is looking (the dashboard follows the same live stream).
    // Checked only while it is not complete: once it is, it stays so.
    let completed = setup.state.completed.is_some()
        || service::onboarding::complete_if_provisioned(admin.store(), admin.tenant(), id, now).await?;
    let health = service::onboarding::sync_health(admin.store(), admin.tenant(), id, now).await?;
    Ok(DashboardView {
        idp_name: setup.directory.idp.display_name().to_owned(),
        scim_base_url: admin.portal.scim_base_url(id),
        completed,
        reached: setup.state.step,
        last_request: date_time(health.last_request_at),
        requests_24h: health.requests,
        failures_24h: health.failures,
    })
}

/// A page of the directory's users (`kind` = `users`) or groups (`groups`), optionally
/// only those whose name starts with `search`. `tenant` as for [`directory_activity`].
#[server(endpoint = "directory_resources")]
pub async fn directory_resources(
    directory: String,
    kind: String,
    search: String,
    start: i64,
    #[server(default)] tenant: String,
) -> Result<ResourcePage, PortalError> {
    use service::directory_browser;
    let reader = crate::portal::DirectoryReader::require(&tenant, &directory, "directory users and groups").await?;
    let (store, tenant, id) = (&reader.store, reader.tenant, reader.directory);
    let page = match kind.as_str() {
        "users" => {
            directory_browser::users(store, tenant, id, &search, start, DASHBOARD_PAGE).await?.map(server::user_row)
        }
        "groups" => {
            directory_browser::groups(store, tenant, id, &search, start, DASHBOARD_PAGE).await?.map(server::group_row)
        }
        "agents" | "agentic-applications" => {
            let kind =
                if kind == "agents" { service::ResourceKind::Agent } else { service::ResourceKind::AgenticApplication };
            directory_browser::agentic(store, tenant, id, kind, &search, start, DASHBOARD_PAGE)
                .await?
                .map(server::agent_row)
        }
        _ => return Err(PortalError::Invalid("Choose users, groups, agents or agentic applications.".to_owned())),
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

    pub(crate) fn agent_row(agent: service::directory_browser::AgentRow) -> ResourceRow {
        let secondary = match (agent.display_name, agent.agent_type) {
            (Some(display), Some(kind)) => format!("{display} ({kind})"),
            (Some(text), None) | (None, Some(text)) => text,
            (None, None) => String::new(),
        };
        ResourceRow { id: agent.id, name: agent.name, secondary, active: Some(agent.active) }
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

/// A directory's owner policy: what happens to its identities when their owner goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerPolicyView {
    /// `flag`, `deactivate` or `reassign`.
    pub policy: String,
    /// The fallback owner's userName, for `reassign`.
    pub fallback_user_name: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<service::nonhuman::OwnerPolicySetting> for OwnerPolicyView {
    fn from(setting: service::nonhuman::OwnerPolicySetting) -> Self {
        Self { policy: setting.policy.as_str().to_owned(), fallback_user_name: setting.fallback_user_name }
    }
}

#[server(endpoint = "owner_policy")]
pub async fn owner_policy(directory: String) -> Result<OwnerPolicyView, PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let id = admin.directory(&directory).await?;
    Ok(service::nonhuman::owner_policy(admin.store(), admin.tenant(), id).await?.into())
}

/// Sets the owner policy: `flag`, `deactivate`, or `reassign` to `fallback_user_name`.
#[server(endpoint = "set_owner_policy")]
pub async fn set_owner_policy(
    directory: String,
    policy: String,
    fallback_user_name: Option<String>,
) -> Result<OwnerPolicyView, PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let fallback = fallback_user_name.unwrap_or_default();
    let now = admin.portal.effects.now();
    let set =
        service::nonhuman::set_owner_policy(admin.store(), admin.tenant(), id, &policy, &fallback, &admin.actor(), now)
            .await?;
    Ok(set.into())
}

/// Whether the directory offers the non-human identity extension on its SCIM endpoint.
#[server(endpoint = "nonhuman_extension")]
pub async fn nonhuman_extension(directory: String) -> Result<bool, PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let found = admin.store().tenant(admin.tenant()).directory(id).await.map_err(service::ServiceError::from)?;
    Ok(found.ok_or_else(|| PortalError::NotFound("No such directory.".to_owned()))?.settings.nonhuman_extension)
}

/// Offers the non-human identity extension (`offered` is `on`) or stops offering it
/// (`off`); answers how many users already carrying it became identities.
#[server(endpoint = "set_nonhuman_extension")]
pub async fn set_nonhuman_extension(directory: String, offered: String) -> Result<u64, PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let offered = match offered.as_str() {
        "on" => true,
        "off" => false,
        other => return Err(PortalError::Invalid(format!("Choose on or off, not {other:?}."))),
    };
    let now = admin.portal.effects.now();
    let indexed =
        service::nonhuman::set_nonhuman_extension(admin.store(), admin.tenant(), id, offered, &admin.actor(), now)
            .await?;
    Ok(indexed)
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
    // New requests bump this (server-sent events, and a read every 30 s in case a proxy
    // holds the stream back): the figures, tables and activity follow without a reload.
    let tick = crate::pages::wizard::live_requests(directory(), std::time::Duration::from_secs(30));
    // Loaded in the browser: the health figures change from one read to the next, and a
    // server render that differs from the first client render would stop the hydration.
    let summary = LocalResource::new(move || {
        tick.track();
        directory_dashboard(directory())
    });
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            // A refused deletion comes back here; a deletion lands on the admin's home.
            <DeletionOutcome/>
            {move || {
                let Some(loaded) = summary.get() else { return view! { <Skeleton/> }.into_any(); };
                match loaded {
                        Ok(summary) => {
                            let error_rate = if summary.requests_24h == 0 { "—".to_owned() } else {
                                format!("{:.1} %", summary.failures_24h as f64 * 100.0 / summary.requests_24h as f64)
                            };
                            let health = sync_health_badge(summary.requests_24h, summary.failures_24h);
                            view! {
                                <div class="flex flex-wrap items-end justify-between gap-4">
                                    <div>
                                        <A href="/admin" attr:class="text-sm font-medium text-accent hover:text-accent-strong">"← Directories"</A>
                                        <h1 id="dashboard-heading" class="mt-2 text-2xl font-bold tracking-tight">{summary.idp_name.clone()}</h1>
                                    </div>
                                    <div class="flex flex-wrap gap-3">
                                        {summary.completed.then(|| view! {
                                            <A href=format!("/admin/directories/{}/setup/mapping", directory()) attr:id="edit-setup" attr:class=SECONDARY_BUTTON>"Edit setup"</A>
                                        })}
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
                                        <div><dt class="text-slate-500">"Failures, last 24 h"</dt><dd class="mt-1 font-semibold">
                                            {if summary.failures_24h > 0 {
                                                view! { <a id="failures-link" href="#activity-heading" class="text-red-700 underline">{summary.failures_24h}</a> }.into_any()
                                            } else {
                                                view! { <span>{summary.failures_24h}</span> }.into_any()
                                            }}
                                        </dd></div>
                                        <div><dt class="text-slate-500">"Error rate"</dt><dd class="mt-1 font-semibold">{error_rate}</dd></div>
                                    </dl>
                                    <div class="mt-4"><CopyField id="scim-base-url" label="SCIM base URL" value=summary.scim_base_url/></div>
                                </section>
                                <crate::pages::google::GoogleSyncPanel directory=directory() tenant=String::new()/>
                                <ActivityPanel directory=directory() tenant=String::new() tick/>
                                <ResourceTable directory=directory() tenant=String::new() kind="users" title="Users" tick/>
                                <ResourceTable directory=directory() tenant=String::new() kind="groups" title="Groups" tick/>
                                <IdentityTable directory=directory()/>
                                <ResourceTable directory=directory() tenant=String::new() kind="agents" title="Agents" tick/>
                                <ResourceTable directory=directory() tenant=String::new() kind="agentic-applications" title="Agentic applications" tick/>
                                <crate::pages::stale_users::StaleUsers directory=directory() tenant=String::new()/>
                                <crate::pages::alerts::SilenceSetting directory=directory()/>
                                <section class=CARD aria-labelledby="delete-heading">
                                    <h2 id="delete-heading" class="text-lg font-semibold">"Delete this directory"</h2>
                                    <p class="mt-1 text-sm text-slate-600">
                                        "Its tokens stop working at once and your identity provider can no longer provision into it; its users and groups are removed from the product. This cannot be undone."
                                    </p>
                                    <DeleteDirectoryForm directory=directory() name=summary.idp_name/>
                                </section>
                            }.into_any()
                        }
                        Err(error) => view! { <div id="dashboard-error"><ErrorBox message=error.to_string()/></div> }.into_any(),
                    }
            }}
        </main>
    }
}

/// The directory's recent requests in words, live, with the chart of the last day and week.
#[component]
pub(crate) fn ActivityPanel(directory: String, tenant: String, tick: RwSignal<u32>) -> impl IntoView {
    let activity = LocalResource::new(move || {
        tick.track();
        directory_activity(directory.clone(), tenant.clone())
    });
    let week = RwSignal::new(false);
    view! {
        <section class=CARD aria-labelledby="activity-heading">
            <div class="flex flex-wrap items-center justify-between gap-3">
                <h2 id="activity-heading" class="text-lg font-semibold">"Activity"</h2>
                <div class="flex gap-2" role="group" aria-label="Chart period">
                    <button type="button" id="chart-day" class=SECONDARY_BUTTON aria-pressed=move || (!week.get()).to_string()
                        on:click=move |_| week.set(false)>"Last 24 hours"</button>
                    <button type="button" id="chart-week" class=SECONDARY_BUTTON aria-pressed=move || week.get().to_string()
                        on:click=move |_| week.set(true)>"Last 7 days"</button>
                </div>
            </div>
            {move || {
                let Some(loaded) = activity.get() else { return view! { <Skeleton/> }.into_any() };
                match loaded {
                    Ok(activity) => {
                        let bars = if week.get() { activity.days } else { activity.hours };
                        view! {
                            <RequestChart bars week=week.get()/>
                            {if activity.lines.is_empty() {
                                view! { <p id="activity-empty" class="mt-4 text-sm text-slate-600">"No requests yet. They appear here as they arrive."</p> }.into_any()
                            } else {
                                view! {
                                    <ol id="activity" class="mt-4 divide-y divide-slate-100 text-sm">
                                        {activity.lines.into_iter().map(|line| view! {
                                            <li class="py-2" data-seq=line.seq data-ok=line.ok.to_string()>
                                                <div class="flex flex-wrap items-baseline justify-between gap-x-3">
                                                    <p class="font-medium text-slate-900">
                                                        {(!line.ok).then(|| view! { <span class="mr-2"><Badge tone="bad" text="Failed".to_owned()/></span> })}
                                                        {match line.subject_href {
                                                            Some(href) => view! { <A href=href attr:class="hover:text-accent-strong hover:underline">{line.summary}</A> }.into_any(),
                                                            None => view! { <span>{line.summary}</span> }.into_any(),
                                                        }}
                                                    </p>
                                                    <p class="text-xs text-slate-500">{format!("{} UTC", line.time)}</p>
                                                </div>
                                                <p class="text-xs text-slate-600">{line.by}</p>
                                                {line.cause.map(|cause| view! { <p class="activity-cause mt-1 text-sm text-red-800">{cause}</p> })}
                                                <details class="mt-1">
                                                    <summary class="cursor-pointer text-xs text-slate-600">"Raw request"</summary>
                                                    <p class="mt-1 break-all font-mono text-xs">{line.raw}</p>
                                                </details>
                                            </li>
                                        }).collect_view()}
                                    </ol>
                                    <a href="/admin/audit" class="mt-2 inline-block text-sm font-medium text-accent-strong hover:text-accent-strong">"Everything in the audit trail →"</a>
                                }.into_any()
                            }}
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                }
            }}
        </section>
    }
}

/// Bars of requests (grey) with their failures (red) on top of the baseline.
#[component]
fn RequestChart(bars: Vec<BarView>, week: bool) -> impl IntoView {
    let highest = bars.iter().map(|bar| bar.requests).max().unwrap_or(0).max(1);
    let (requests, failures): (i64, i64) = bars.iter().fold((0, 0), |(r, f), bar| (r + bar.requests, f + bar.failures));
    let period = if week { "the last 7 days" } else { "the last 24 hours" };
    let plural = |n: i64, noun: &str| if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") };
    let label = format!("{} and {} over {period}", plural(requests, "request"), plural(failures, "failure"));
    let width = 100.0 / bars.len().max(1) as f64;
    let first = bars.first().map(|bar| bar.label.clone()).unwrap_or_default();
    let last = bars.last().map(|bar| bar.label.clone()).unwrap_or_default();
    view! {
        <figure class="mt-4">
            <svg id="request-chart" role="img" aria-label=label.clone() viewBox="0 0 100 40" preserveAspectRatio="none" class="h-32 w-full">
                {bars.into_iter().enumerate().map(|(index, bar)| {
                    let x = index as f64 * width;
                    let height = bar.requests as f64 * 38.0 / highest as f64;
                    let failed = bar.failures as f64 * 38.0 / highest as f64;
                    view! {
                        <g>
                            <title>{format!("{}: {} requests, {} failures", bar.label, bar.requests, bar.failures)}</title>
                            <rect x=x + width * 0.1 y=40.0 - height width=width * 0.8 height=height class="fill-slate-300"></rect>
                            <rect x=x + width * 0.1 y=40.0 - failed width=width * 0.8 height=failed class="fill-red-500"></rect>
                        </g>
                    }
                }).collect_view()}
            </svg>
            <figcaption class="mt-1 flex justify-between text-xs text-slate-500">
                <span>{first}</span>
                <span id="chart-caption">{label}</span>
                <span>{last}</span>
            </figcaption>
        </figure>
    }
}

#[component]
pub(crate) fn ResourceTable(
    directory: String,
    /// Empty for the admin's own directory, the tenant's slug for vendor staff.
    tenant: String,
    kind: &'static str,
    title: &'static str,
    tick: RwSignal<u32>,
) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let start = RwSignal::new(1_i64);
    // The pages of its rows: the admin's, or staff's under the tenant.
    let pages = crate::pages::resource::directory_pages(&tenant, &directory);
    // Client-side only: a resource nested in the page's suspense would otherwise have to
    // match the server's render at hydration.
    let rows = LocalResource::new(move || {
        tick.track();
        directory_resources(directory.clone(), kind.to_owned(), search.get(), start.get(), tenant.clone())
    });
    let search_id = format!("{kind}-search");
    view! {
        <section class=CARD aria-labelledby=format!("{kind}-heading")>
            <div class="flex flex-wrap items-center justify-between gap-3">
                <h2 id=format!("{kind}-heading") class="text-lg font-semibold">{title}</h2>
                <div class="w-64">
                    <label for=search_id.clone() class="sr-only">{format!("Search {}", title.to_lowercase())}</label>
                    <input id=search_id type="search" placeholder=match kind {
                            "users" => "User name starts with…",
                            "groups" => "Group name starts with…",
                            _ => "Name starts with…",
                        }
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
                                <div class="overflow-x-auto" tabindex="0"><table id=format!("{kind}-table") class="mt-4 w-full text-left text-sm">
                                    <thead class="border-b border-slate-200 text-slate-500">
                                        <tr>
                                            <th scope="col" class="py-2 font-medium">{match kind { "users" => "User name", "groups" => "Group", _ => "Name" }}</th>
                                            <th scope="col" class="py-2 font-medium">{match kind { "users" => "Name or email", "groups" => "Members", _ => "Display name" }}</th>
                                            {(kind != "groups").then(|| view! { <th scope="col" class="py-2 font-medium">"Status"</th> })}
                                        </tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100">
                                        {page.rows.into_iter().map(|row| view! {
                                            <tr>
                                                <td class="py-2 font-medium break-all">
                                                    <A href=format!("{pages}/{kind}/{}", row.id) attr:class="text-accent-strong hover:underline">{row.name}</A>
                                                </td>
                                                <td class="py-2 text-slate-600">{row.secondary}</td>
                                                {row.active.map(|active| view! {
                                                    <td class="py-2"><Badge tone=if active { "good" } else { "neutral" } text=(if active { "Active" } else { "Deactivated" }).to_owned()/></td>
                                                })}
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
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
    let policy_directory = directory.clone();
    let extension_directory = directory.clone();
    // Turning the extension on can make identities of users already in the directory.
    let extension_changed = RwSignal::new(0_u32);
    let rows = LocalResource::new(move || {
        extension_changed.get();
        directory_identities(directory.clone())
    });
    view! {
        <section class=CARD aria-labelledby="identities-heading">
            <h2 id="identities-heading" class="text-lg font-semibold">"Non-human identities"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Service accounts and agents, provisioned with the non-human identity extension. They are deactivated when they expire."
            </p>
            <ExtensionChoice directory=extension_directory changed=extension_changed/>
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
                            <div class="overflow-x-auto" tabindex="0"><table id="identities-table" class="mt-4 w-full text-left text-sm">
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
                            </table></div>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                }
            }}
            <OwnerPolicyForm directory=policy_directory/>
        </section>
    }
}

/// What happens to the directory's identities when their owner is deactivated or deleted:
/// flagged here (the default), deactivated, or given to a fallback owner. The sweeper
/// applies it within a minute, each change in the audit trail.
#[component]
fn OwnerPolicyForm(directory: String) -> impl IntoView {
    let save = ServerAction::<SetOwnerPolicy>::new();
    // The choice in the form while it differs from what is saved.
    let chosen = RwSignal::new(None::<String>);
    // Saved policies only: a refused one leaves the form as the admin filled it in.
    let saved = RwSignal::new(0_u32);
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            chosen.set(None);
            saved.update(|count| *count += 1);
        }
    });
    let current = {
        let directory = directory.clone();
        LocalResource::new(move || {
            saved.get();
            owner_policy(directory.clone())
        })
    };
    let error = move || save.value().get().and_then(Result::err).map(|error| error.to_string());
    view! {
        <div id="owner-policy" class="mt-6 border-t border-slate-200 pt-4">
            <h3 class="text-sm font-semibold text-slate-900">"When an owner is deactivated or deleted"</h3>
            {move || {
                let Some(loaded) = current.get() else { return view! { <Skeleton/> }.into_any(); };
                let directory = directory.clone();
                match loaded {
                    Ok(view_of) => {
                        let policy = view_of.policy.clone();
                        let summary = match (policy.as_str(), view_of.fallback_user_name.clone()) {
                            ("deactivate", _) => "Their identities are deactivated within a minute.".to_owned(),
                            ("reassign", Some(name)) => format!("Their identities are given to {name} within a minute."),
                            ("reassign", None) => "Their identities are given to the fallback owner, who no longer exists: choose another.".to_owned(),
                            _ => "Their identities stay as they are, flagged here and in the vendor's support console.".to_owned(),
                        };
                        let shown = Memo::new(move |_| chosen.get().unwrap_or_else(|| policy.clone()));
                        view! {
                            <p id="owner-policy-summary" class="mt-1 text-sm text-slate-600">{summary}</p>
                            <ActionForm action=save attr:class="mt-3 flex flex-wrap items-end gap-4" attr:aria-describedby="owner-policy-error">
                                <input type="hidden" name="directory" value=directory/>
                                <div>
                                    <label for="owner-policy-choice" class="block text-sm font-medium text-slate-700">"Policy"</label>
                                    <select id="owner-policy-choice" name="policy" class=INPUT on:change=move |ev| chosen.set(Some(event_target_value(&ev)))>
                                        <option value="flag" selected=view_of.policy == "flag" prop:selected=move || shown.get() == "flag">"Flag them"</option>
                                        <option value="deactivate" selected=view_of.policy == "deactivate" prop:selected=move || shown.get() == "deactivate">"Deactivate them"</option>
                                        <option value="reassign" selected=view_of.policy == "reassign" prop:selected=move || shown.get() == "reassign">"Give them to a fallback owner"</option>
                                    </select>
                                </div>
                                <Show when=move || shown.get() == "reassign">
                                    <div>
                                        <label for="owner-policy-fallback" class="block text-sm font-medium text-slate-700">"Fallback owner (userName)"</label>
                                        <input id="owner-policy-fallback" name="fallback_user_name" class=INPUT value=view_of.fallback_user_name.clone().unwrap_or_default()/>
                                    </div>
                                </Show>
                                <button id="save-owner-policy" type="submit" class=SECONDARY_BUTTON>"Save policy"</button>
                            </ActionForm>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                }
            }}
            <div id="owner-policy-error" class="mt-2" aria-live="polite">
                {move || error().map(|message| view! { <ErrorBox message/> })}
            </div>
        </div>
    }
}

/// Whether the directory's SCIM endpoint offers the non-human identity extension. Off, it
/// has RFC 7643's User and Group schemas only (some identity providers and checkers
/// expect exactly those); turning it off is refused while service accounts or agents are
/// left, and turning it on makes identities of the users that already carry it.
#[component]
fn ExtensionChoice(directory: String, changed: RwSignal<u32>) -> impl IntoView {
    let save = ServerAction::<SetNonhumanExtension>::new();
    let saved = RwSignal::new(0_u32);
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            saved.update(|count| *count += 1);
            changed.update(|count| *count += 1);
        }
    });
    let current = {
        let directory = directory.clone();
        LocalResource::new(move || {
            saved.get();
            nonhuman_extension(directory.clone())
        })
    };
    let outcome = move || match save.value().get() {
        Some(Ok(indexed)) if indexed > 0 => Some(Ok(if indexed == 1 {
            "One user already carried the extension and is now a non-human identity.".to_owned()
        } else {
            format!("{indexed} users already carried the extension and are now non-human identities.")
        })),
        Some(Err(error)) => Some(Err(error.to_string())),
        _ => None,
    };
    view! {
        <div id="nonhuman-extension" class="mt-4 rounded-lg border border-slate-200 p-3">
            {move || {
                let Some(loaded) = current.get() else { return view! { <Skeleton/> }.into_any(); };
                let directory = directory.clone();
                match loaded {
                    Ok(offered) => view! {
                        <ActionForm action=save attr:class="flex flex-wrap items-center justify-between gap-3" attr:aria-describedby="nonhuman-extension-outcome">
                            <p id="nonhuman-extension-state" class="text-sm text-slate-700">
                                {if offered {
                                    "This directory's SCIM endpoint offers the non-human identity extension."
                                } else {
                                    "This directory's SCIM endpoint does not offer the non-human identity extension: it has the standard User and Group schemas only, and service accounts arrive as plain users."
                                }}
                            </p>
                            <input type="hidden" name="directory" value=directory/>
                            <input type="hidden" name="offered" value=if offered { "off" } else { "on" }/>
                            <button id="toggle-nonhuman-extension" type="submit" class=SECONDARY_BUTTON>
                                {if offered { "Stop offering it" } else { "Offer it" }}
                            </button>
                        </ActionForm>
                    }.into_any(),
                    Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                }
            }}
            <div id="nonhuman-extension-outcome" class="mt-2 text-sm" aria-live="polite">
                {move || outcome().map(|outcome| match outcome {
                    Ok(message) => view! { <p class="text-slate-700">{message}</p> }.into_any(),
                    Err(message) => view! { <ErrorBox message/> }.into_any(),
                })}
            </div>
        </div>
    }
}
