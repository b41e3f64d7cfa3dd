//! `/admin/directories/{id}`: a directory's dashboard after setup: sync health, users and
//! groups with search and paging, non-human identities with those whose owner is
//! deactivated flagged, and the directory's deletion.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{
    AdminTopBar, Badge, CopyField, DeleteDirectoryForm, DeletionOutcome, ErrorBox, LiveRegions, SignedInAdmin,
    Skeleton, deletion_notice, refusal_box, refusal_of,
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
            .await
            .map_err(PortalError::from)
            .inspect_err(|error| {
                let typed = [("policy", policy.as_str()), ("fallback_user_name", fallback.as_str())];
                crate::error::back_with_what_was_typed::<SetOwnerPolicy>(&dashboard_page(&directory), &typed, error);
            })?;
    crate::error::after_plain_form_post_go_to(&dashboard_page(&directory));
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
    let page = dashboard_page(&directory);
    crate::error::after_plain_form_post_go_to(&if indexed > 0 {
        format!("{page}?{EXTENSION_INDEXED}={indexed}")
    } else {
        page
    });
    Ok(indexed)
}

/// A directory's dashboard, the address its plain forms come back to.
#[cfg(feature = "ssr")]
pub(crate) fn dashboard_page(directory: &str) -> String {
    format!("/admin/directories/{directory}")
}

/// The address parameter saying how many users became non-human identities when the
/// extension was turned on.
const EXTENSION_INDEXED: &str = "extension_indexed";

pub(crate) fn directory_param() -> impl Fn() -> String + Copy {
    let params = use_params_map();
    move || params.read().get("id").unwrap_or_default()
}

/// `/admin/directories/{id}`: sync health, users and groups.
#[component]
pub fn DashboardPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <DashboardView admin/> }.into_any()/> }
}

/// Works whole without the bundle: the figures, tables and activity are rendered on the
/// server, searching and paging the tables and choosing the chart's period are addresses
/// of the page (`?users_search=`, `?groups_start=`, `?chart=week`), and its settings are
/// plain forms. While the bundle runs, the health, activity and tables are put in place as
/// requests arrive (an island, `LiveRegions`: server-sent events, and a read every 30 s in
/// case a proxy holds the stream back).
#[component]
fn DashboardView(admin: AdminView) -> impl IntoView {
    let directory = directory_param();
    let summary = Resource::new(directory, directory_dashboard);
    let deleted = deletion_notice();
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            // A refused deletion comes back here; a deletion lands on the admin's home.
            <DeletionOutcome notice=deleted/>
            <Transition fallback=|| view! { <Skeleton/> }>
                {move || Suspend::new(async move {
                    match summary.await {
                        Ok(summary) => view! {
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
                        }.into_any(),
                        Err(error) => view! { <div id="dashboard-error"><ErrorBox message=error.to_string()/></div> }.into_any(),
                    }
                })}
            </Transition>
            <crate::pages::brake::HeldBanner directory=directory()/>
            <crate::pages::alerts::AlertsPanel directory=directory()/>
            <crate::pages::group_roles::RepublishProgressPanel directory=directory()/>
            <div id="sync-health-panel">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        summary.await.ok().map(|summary| view! { <SyncHealth summary/> })
                    })}
                </Transition>
            </div>
            <crate::pages::google::GoogleSyncPanel directory=directory() tenant=String::new()/>
            <ActivityPanel directory=directory() tenant=String::new()/>
            <ResourceTable directory=directory() tenant=String::new() kind="users" title="Users"/>
            <ResourceTable directory=directory() tenant=String::new() kind="groups" title="Groups"/>
            <IdentityTable directory=directory()/>
            <ResourceTable directory=directory() tenant=String::new() kind="agents" title="Agents"/>
            <ResourceTable directory=directory() tenant=String::new() kind="agentic-applications" title="Agentic applications"/>
            <LiveRegions directory=Some(directory()) every_seconds=30 regions=LIVE_REGIONS.map(str::to_owned).to_vec() until_settled=false/>
            <crate::pages::stale_users::StaleUsers directory=directory() tenant=String::new()/>
            <crate::pages::alerts::SilenceSetting directory=directory()/>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    summary.await.ok().map(|summary| view! {
                        <section class=CARD aria-labelledby="delete-heading">
                            <h2 id="delete-heading" class="text-lg font-semibold">"Delete this directory"</h2>
                            <p class="mt-1 text-sm text-slate-600">
                                "Its tokens stop working at once and your identity provider can no longer provision into it; its users and groups are removed from the product. This cannot be undone."
                            </p>
                            <DeleteDirectoryForm directory=directory() name=summary.idp_name/>
                        </section>
                    })
                })}
            </Transition>
        </main>
    }
}

/// The dashboard's sync health: when the identity provider last called, its requests and
/// failures of the last day, and the directory's SCIM address.
#[component]
fn SyncHealth(summary: DashboardView) -> impl IntoView {
    let error_rate = if summary.requests_24h == 0 {
        "—".to_owned()
    } else {
        format!("{:.1} %", summary.failures_24h as f64 * 100.0 / summary.requests_24h as f64)
    };
    let health = sync_health_badge(summary.requests_24h, summary.failures_24h);
    view! {
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
    }
}

/// `path` with the current address's query, `changes` applied (`None` removes a key) and
/// server_fn's refusal parameters (`__err`, `__path`) left out: the links and search forms
/// of one panel keep the others' state.
pub(crate) fn address_with(
    path: &str,
    query: &leptos_router::params::ParamsMap,
    changes: &[(&str, Option<String>)],
) -> String {
    let mut kept: Vec<(String, String)> = query
        .latest_values()
        .filter(|(key, _)| !key.starts_with("__") && !changes.iter().any(|(changed, _)| **key == **changed))
        .map(|(key, value)| (key.to_string(), value.to_owned()))
        .collect();
    // A changed key keeps its place, so the addresses of one page's links read alike.
    for (key, value) in changes {
        if let Some(value) = value {
            let at = query.latest_values().position(|(existing, _)| **existing == **key).unwrap_or(kept.len());
            kept.insert(at.min(kept.len()), ((*key).to_owned(), value.clone()));
        }
    }
    if kept.is_empty() {
        return path.to_owned();
    }
    format!("{path}?{}", form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish())
}

/// A link to another page of a list (Newer, Next…), or the same words greyed out when
/// there is no such page.
#[component]
pub(crate) fn PageLink(
    label: &'static str,
    href: Option<String>,
    #[prop(optional)] id: Option<&'static str>,
) -> impl IntoView {
    match href {
        Some(href) => view! { <a id=id href=href class=SECONDARY_BUTTON>{label}</a> }.into_any(),
        None => {
            view! { <span id=id class=format!("{SECONDARY_BUTTON} opacity-50") aria-disabled="true">{label}</span> }
                .into_any()
        }
    }
}

/// The page's other parameters (its other panels' state) as hidden fields, for a GET form
/// that sets only `except` (and drops server_fn's refusal parameters).
pub(crate) fn kept_fields(query: &leptos_router::params::ParamsMap, except: &[&str]) -> AnyView {
    query
        .latest_values()
        .filter(|(key, _)| !key.starts_with("__") && !except.contains(&&***key))
        .map(|(key, value)| view! { <input type="hidden" name=key.to_string() value=value.to_owned()/> })
        .collect_view()
        .into_any()
}

/// What the dashboard puts in place as requests arrive: the health, the activity and the
/// tables' rows (their search fields stay as typed).
const LIVE_REGIONS: [&str; 6] =
    ["sync-health-panel", "activity-lines", "users-rows", "groups-rows", "agents-rows", "agentic-applications-rows"];

/// The directory's recent requests in words, with the chart of the last day (or, at
/// `?chart=week`, the last week).
#[component]
pub(crate) fn ActivityPanel(directory: String, tenant: String) -> impl IntoView {
    let query = use_query_map();
    let week = Memo::new(move |_| query.read().get_str("chart") == Some("week"));
    let page = crate::pages::resource::directory_pages(&tenant, &directory);
    let activity = Resource::new(
        move || (directory.clone(), tenant.clone()),
        |(directory, tenant)| directory_activity(directory, tenant),
    );
    let period_link = move |week: bool| {
        let page = page.clone();
        move || address_with(&page, &query.read(), &[("chart", week.then(|| "week".to_owned()))])
    };
    view! {
        <section class=CARD aria-labelledby="activity-heading">
            <div class="flex flex-wrap items-center justify-between gap-3">
                <h2 id="activity-heading" class="text-lg font-semibold">"Activity"</h2>
                <nav class="flex gap-2" aria-label="Chart period">
                    <a id="chart-day" class=SECONDARY_BUTTON href=period_link(false)
                        aria-current=move || (!week.get()).then_some("true")>"Last 24 hours"</a>
                    <a id="chart-week" class=SECONDARY_BUTTON href=period_link(true)
                        aria-current=move || week.get().then_some("true")>"Last 7 days"</a>
                </nav>
            </div>
            <div id="activity-lines">
            <Transition fallback=|| view! { <Skeleton/> }>
                {move || {
                    let week = week.get();
                    Suspend::new(async move {
                        match activity.await {
                            Ok(activity) => {
                                let bars = if week { activity.days } else { activity.hours };
                                view! {
                                    <RequestChart bars week/>
                                    <ActivityLines lines=activity.lines/>
                                }.into_any()
                            }
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                    })
                }}
            </Transition>
            </div>
        </section>
    }
}

/// The activity's requests in words, newest first, each with its raw request.
#[component]
fn ActivityLines(lines: Vec<ActivityLine>) -> impl IntoView {
    if lines.is_empty() {
        return view! { <p id="activity-empty" class="mt-4 text-sm text-slate-600">"No requests yet. They appear here as they arrive."</p> }.into_any();
    }
    view! {
        <ol id="activity" class="mt-4 divide-y divide-slate-100 text-sm">
            {lines.into_iter().map(|line| view! {
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

/// A table of the directory's users, groups, agents or agentic applications, searched by
/// a GET form (`?users_search=`) and paged by links (`?users_start=`), each keeping the
/// other panels' state in the address.
#[component]
pub(crate) fn ResourceTable(
    directory: String,
    /// Empty for the admin's own directory, the tenant's slug for vendor staff.
    tenant: String,
    kind: &'static str,
    title: &'static str,
) -> impl IntoView {
    let query = use_query_map();
    let search_key = format!("{kind}_search");
    let start_key = format!("{kind}_start");
    let search = {
        let search_key = search_key.clone();
        Memo::new(move |_| query.read().get(&search_key).unwrap_or_default())
    };
    let start = {
        let start_key = start_key.clone();
        Memo::new(move |_| {
            query.read().get_str(&start_key).and_then(|start| start.parse::<i64>().ok()).unwrap_or(1).max(1)
        })
    };
    // The pages of its rows: the admin's, or staff's under the tenant.
    let pages = crate::pages::resource::directory_pages(&tenant, &directory);
    let rows = Resource::new(
        move || (directory.clone(), tenant.clone(), search.get(), start.get()),
        move |(directory, tenant, search, start)| {
            directory_resources(directory, kind.to_owned(), search, start, tenant)
        },
    );
    let search_id = format!("{kind}-search");
    let kept = {
        let (search_key, start_key) = (search_key.clone(), start_key.clone());
        move || kept_fields(&query.read(), &[&search_key, &start_key])
    };
    let form_action = pages.clone();
    view! {
        <section class=CARD aria-labelledby=format!("{kind}-heading")>
            <div class="flex flex-wrap items-center justify-between gap-3">
                <h2 id=format!("{kind}-heading") class="text-lg font-semibold">{title}</h2>
                <form method="get" action=form_action role="search" class="flex items-center gap-2">
                    {kept}
                    <label for=search_id.clone() class="sr-only">{format!("Search {}", title.to_lowercase())}</label>
                    <input id=search_id name=search_key type="search" placeholder=match kind {
                            "users" => "User name starts with…",
                            "groups" => "Group name starts with…",
                            _ => "Name starts with…",
                        }
                        class=format!("{INPUT} w-56") value=move || search.get() prop:value=move || search.get()/>
                    <button type="submit" class=SECONDARY_BUTTON>"Search"</button>
                </form>
            </div>
            <div id=format!("{kind}-rows")>
            <Transition fallback=|| view! { <Skeleton/> }>
                {move || {
                    let pages = pages.clone();
                    let start_key = start_key.clone();
                    Suspend::new(async move {
                        match rows.await {
                            Ok(page) => {
                                let last = page.start + page.rows.len() as i64 - 1;
                                let previous = (page.start > 1).then(|| (page.start - DASHBOARD_PAGE).max(1));
                                let next = (last < page.total).then_some(page.start + DASHBOARD_PAGE);
                                let summary = if page.total == 0 { "None".to_owned() } else { format!("{}–{} of {}", page.start, last, page.total) };
                                let link = |label: &'static str, to: Option<i64>| {
                                    let href = to.map(|to| address_with(&pages, &query.read_untracked(), &[(start_key.as_str(), Some(to.to_string()))]));
                                    view! { <PageLink label href/> }
                                };
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
                                        <nav class="flex gap-2" aria-label=format!("Pages of {}", title.to_lowercase())>
                                            {link("Previous", previous)}
                                            {link("Next", next)}
                                        </nav>
                                    </div>
                                }.into_any()
                            }
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                    })
                }}
            </Transition>
            </div>
        </section>
    }
}

/// The directory's service accounts and agents, with a warning for those whose owner is
/// deactivated or deleted: nobody active answers for them any more.
#[component]
fn IdentityTable(directory: String) -> impl IntoView {
    let policy_directory = directory.clone();
    let extension_directory = directory.clone();
    let rows = Resource::new(move || directory.clone(), directory_identities);
    view! {
        <section class=CARD aria-labelledby="identities-heading">
            <h2 id="identities-heading" class="text-lg font-semibold">"Non-human identities"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Service accounts and agents, provisioned with the non-human identity extension. They are deactivated when they expire."
            </p>
            <ExtensionChoice directory=extension_directory/>
            <Suspense fallback=|| view! { <Skeleton/> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(rows) if rows.is_empty() => view! {
                            <p id="no-identities" class="mt-4 text-sm text-slate-600">"No service accounts or agents in this directory."</p>
                        }.into_any(),
                        Ok(rows) => view! { <IdentityRows rows/> }.into_any(),
                        Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    }
                })}
            </Suspense>
            <OwnerPolicyForm directory=policy_directory/>
        </section>
    }
}

#[component]
fn IdentityRows(rows: Vec<IdentityRow>) -> impl IntoView {
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
    }
}

/// What happens to the directory's identities when their owner is deactivated or deleted:
/// flagged here (the default), deactivated, or given to a fallback owner. The sweeper
/// applies it within a minute, each change in the audit trail. A plain form: the fallback
/// owner's field shows while "give them" is chosen by CSS alone, and a refusal comes back
/// with what was chosen and typed.
#[component]
fn OwnerPolicyForm(directory: String) -> impl IntoView {
    let form_directory = directory.clone();
    let current = Resource::new(move || directory.clone(), owner_policy);
    let refused = refusal_of::<SetOwnerPolicy>();
    // What the refused form held, in place of what is saved.
    let typed = refused.is_some().then(|| {
        use_query_map()
            .with_untracked(|query| (query.get("policy").unwrap_or_default(), query.get("fallback_user_name")))
    });
    view! {
        <div id="owner-policy" class="group mt-6 border-t border-slate-200 pt-4">
            <h3 class="text-sm font-semibold text-slate-900">"When an owner is deactivated or deleted"</h3>
            <Suspense fallback=|| view! { <Skeleton/> }>
                {move || {
                    let typed = typed.clone();
                    let directory = form_directory.clone();
                    Suspend::new(async move {
                        match current.await {
                            Ok(saved) => {
                                let summary = match (saved.policy.as_str(), saved.fallback_user_name.clone()) {
                                    ("deactivate", _) => "Their identities are deactivated within a minute.".to_owned(),
                                    ("reassign", Some(name)) => format!("Their identities are given to {name} within a minute."),
                                    ("reassign", None) => "Their identities are given to the fallback owner, who no longer exists: choose another.".to_owned(),
                                    _ => "Their identities stay as they are, flagged here and in the vendor's support console.".to_owned(),
                                };
                                let (policy, fallback) = typed.unwrap_or((saved.policy.clone(), saved.fallback_user_name));
                                view! {
                                    <p id="owner-policy-summary" class="mt-1 text-sm text-slate-600">{summary}</p>
                                    <form method="post" action=SetOwnerPolicy::url() class="mt-3 flex flex-wrap items-end gap-4" aria-describedby="owner-policy-error">
                                        <input type="hidden" name="directory" value=directory/>
                                        <div>
                                            <label for="owner-policy-choice" class="block text-sm font-medium text-slate-700">"Policy"</label>
                                            <select id="owner-policy-choice" name="policy" class=INPUT>
                                                <option value="flag" selected=policy == "flag">"Flag them"</option>
                                                <option value="deactivate" selected=policy == "deactivate">"Deactivate them"</option>
                                                <option value="reassign" selected=policy == "reassign">"Give them to a fallback owner"</option>
                                            </select>
                                        </div>
                                        <div class="hidden group-has-[option[value=reassign]:checked]:block">
                                            <label for="owner-policy-fallback" class="block text-sm font-medium text-slate-700">"Fallback owner (userName)"</label>
                                            <input id="owner-policy-fallback" name="fallback_user_name" class=INPUT value=fallback.unwrap_or_default()/>
                                        </div>
                                        <button id="save-owner-policy" type="submit" class=SECONDARY_BUTTON>"Save policy"</button>
                                    </form>
                                }.into_any()
                            }
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
            <div id="owner-policy-error" class="mt-2" aria-live="polite">
                {refused.map(|error| view! { <ErrorBox message=error.to_string()/> })}
            </div>
        </div>
    }
}

/// Whether the directory's SCIM endpoint offers the non-human identity extension. Off, it
/// has RFC 7643's User and Group schemas only (some identity providers and checkers
/// expect exactly those); turning it off is refused while service accounts or agents are
/// left, and turning it on makes identities of the users that already carry it (how many
/// comes back in the address, `?extension_indexed=`).
#[component]
fn ExtensionChoice(directory: String) -> impl IntoView {
    let form_directory = directory.clone();
    let current = Resource::new(move || directory.clone(), nonhuman_extension);
    let indexed = use_query_map()
        .with_untracked(|query| query.get_str(EXTENSION_INDEXED).and_then(|count| count.parse::<u64>().ok()))
        .filter(|indexed| *indexed > 0);
    view! {
        <div id="nonhuman-extension" class="mt-4 rounded-lg border border-slate-200 p-3">
            <Suspense fallback=|| view! { <Skeleton/> }>
                {move || {
                    let directory = form_directory.clone();
                    Suspend::new(async move {
                    match current.await {
                        Ok(offered) => view! {
                            <form method="post" action=SetNonhumanExtension::url() class="flex flex-wrap items-center justify-between gap-3" aria-describedby="nonhuman-extension-outcome">
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
                            </form>
                        }.into_any(),
                        Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    }
                    })
                }}
            </Suspense>
            <div id="nonhuman-extension-outcome" class="mt-2 text-sm" aria-live="polite">
                {refusal_box::<SetNonhumanExtension>()}
                {indexed.map(|indexed| view! {
                    <p class="text-slate-700">
                        {if indexed == 1 {
                            "One user already carried the extension and is now a non-human identity.".to_owned()
                        } else {
                            format!("{indexed} users already carried the extension and are now non-human identities.")
                        }}
                    </p>
                })}
            </div>
        </div>
    }
}
