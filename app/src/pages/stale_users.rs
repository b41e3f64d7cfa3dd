//! The dashboard's stale-user report: the active users the identity provider has not
//! written for a number of days while it kept writing others, each with a one-click,
//! audited deactivation (see `service::stale_users`).

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::style::{CARD, INPUT, SECONDARY_BUTTON};
use crate::components::{ErrorBox, Skeleton, refusal_box};
use crate::error::PortalError;

/// The report as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleReport {
    pub days: u32,
    /// `never`, or a UTC date and time.
    pub last_write: String,
    pub silent: bool,
    pub total: i64,
    pub users: Vec<StaleUserRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleUserRow {
    pub id: String,
    pub user_name: String,
    /// When the identity provider last wrote the user, UTC.
    pub touched: String,
    pub version: i64,
}

/// The stale-user report of a directory over `days` days: the signed-in admin's own
/// (`tenant` empty), or for vendor staff a tenant's (recorded in its trail).
#[server(endpoint = "stale_users")]
pub async fn stale_users(
    directory: String,
    days: i64,
    #[server(default)] tenant: String,
) -> Result<StaleReport, PortalError> {
    use crate::portal::date_time;
    let reader = crate::portal::DirectoryReader::require(&tenant, &directory, "stale users").await?;
    let (store, tenant, id) = (&reader.store, reader.tenant, reader.directory);
    let report = service::stale_users::stale_users(store, tenant, id, days, reader.now).await?;
    Ok(StaleReport {
        days: report.days,
        last_write: date_time(report.last_identity_provider_write),
        silent: report.identity_provider_silent,
        total: report.total,
        users: report
            .users
            .into_iter()
            .map(|user| StaleUserRow {
                touched: date_time(Some(user.touched_at)),
                id: user.id,
                user_name: user.user_name,
                version: user.version,
            })
            .collect(),
    })
}

/// Deactivates a user the report over `days` days listed at `version`.
#[server(endpoint = "deactivate_stale_user")]
pub async fn deactivate_stale_user(directory: String, id: String, version: i64, days: i64) -> Result<(), PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let directory = admin.directory(&directory).await?;
    let now = admin.portal.effects.now();
    let public_base = admin.portal.public_base().to_owned();
    service::stale_users::deactivate_stale_user(
        admin.store(),
        admin.tenant(),
        directory,
        &id,
        version,
        days,
        &admin.actor(),
        &public_base,
        now,
    )
    .await?;
    let page = crate::pages::dashboard::dashboard_page(&directory.to_string());
    crate::error::after_plain_form_post_go_to(&format!("{page}?{STALE_DAYS}={days}"));
    Ok(())
}

/// The address parameter of the report's number of days.
const STALE_DAYS: &str = "stale_days";

/// The report's section of the admin's dashboard (`tenant` empty), with a deactivation
/// beside each user, or of vendor staff's read-only view of a tenant's directory. The
/// number of days is a GET form (`?stale_days=`) keeping the page's other state; a
/// deactivation is a plain form that comes back to the report.
#[component]
pub fn StaleUsers(directory: String, tenant: String) -> impl IntoView {
    let staff = !tenant.is_empty();
    let query = use_query_map();
    let days = Memo::new(move |_| {
        query.read().get_str(STALE_DAYS).and_then(|days| days.trim().parse::<i64>().ok()).unwrap_or(30)
    });
    let page = crate::pages::resource::directory_pages(&tenant, &directory);
    let form_directory = directory.clone();
    let report = Resource::new(
        move || (directory.clone(), days.get(), tenant.clone()),
        |(directory, days, tenant)| stale_users(directory, days, tenant),
    );
    let kept = move || crate::pages::dashboard::kept_fields(&query.read(), &[STALE_DAYS]);
    view! {
        <section class=CARD aria-labelledby="stale-heading">
            <h2 id="stale-heading" class="text-lg font-semibold">"Users your identity provider stopped updating"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Active users it has not created or changed for a number of days while it kept changing others. Someone removed from the app whose deprovisioning never arrived looks like this."
            </p>
            <form method="get" action=page class="mt-3 flex items-end gap-2">
                {kept}
                <div class="w-40">
                    <label for="stale-days" class="block text-sm font-medium text-slate-700">"Not updated for (days)"</label>
                    <input id="stale-days" name=STALE_DAYS type="number" min="1" max="3650" class=INPUT value=move || days.get().to_string() prop:value=move || days.get().to_string()/>
                </div>
                <button type="submit" class=SECONDARY_BUTTON>"Show"</button>
            </form>
            <div id="stale-outcome" class="mt-2" aria-live="polite">
                {refusal_box::<DeactivateStaleUser>()}
            </div>
            <Suspense fallback=|| view! { <Skeleton/> }>
            {move || {
                let directory = form_directory.clone();
                Suspend::new(async move {
                match report.await {
                    Ok(report) if report.silent => view! {
                        <p id="stale-silent" role="status" class="mt-4 rounded-lg bg-amber-50 p-3 text-sm text-amber-900">
                            {format!("Your identity provider has changed no user of this directory in the last {} days (last change: {}). Its users are not stale; check its provisioning connection.", report.days, report.last_write)}
                        </p>
                    }.into_any(),
                    Ok(report) if report.users.is_empty() => view! {
                        <p id="no-stale-users" class="mt-4 text-sm text-slate-600">
                            {format!("No stale users: your identity provider changed every active user in the last {} days.", report.days)}
                        </p>
                    }.into_any(),
                    Ok(report) => {
                        let shown = report.users.len();
                        let summary = if report.total > i64::try_from(shown).unwrap_or(i64::MAX) {
                            format!("{} stale users; the {shown} least recently changed are listed.", report.total)
                        } else if report.total == 1 {
                            "One stale user.".to_owned()
                        } else {
                            format!("{} stale users.", report.total)
                        };
                        let days = report.days;
                        view! {
                            <p id="stale-summary" class="mt-4 text-sm text-slate-700">{summary}</p>
                            <div class="overflow-x-auto" tabindex="0"><table id="stale-users" class="mt-2 w-full text-left text-sm">
                                <thead class="border-b border-slate-200 text-slate-500">
                                    <tr>
                                        <th scope="col" class="py-2 font-medium">"User"</th>
                                        <th scope="col" class="py-2 font-medium">"Last changed by the identity provider"</th>
                                        {(!staff).then(|| view! { <th scope="col" class="py-2 font-medium"><span class="sr-only">"Action"</span></th> })}
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100">
                                    {report.users.into_iter().map(|user| {
                                        let directory = directory.clone();
                                        let label = format!("Deactivate {}", user.user_name);
                                        let row_id = user.id.clone();
                                        view! {
                                            <tr data-stale-user=row_id>
                                                <th scope="row" class="py-2 font-medium">{user.user_name.clone()}</th>
                                                <td class="py-2 text-slate-600">{user.touched}</td>
                                                {(!staff).then(|| view! {
                                                    <td class="py-2 text-right">
                                                        <form method="post" action=DeactivateStaleUser::url()>
                                                            <input type="hidden" name="directory" value=directory/>
                                                            <input type="hidden" name="id" value=user.id/>
                                                            <input type="hidden" name="version" value=user.version.to_string()/>
                                                            <input type="hidden" name="days" value=days.to_string()/>
                                                            <button type="submit" class=SECONDARY_BUTTON aria-label=label>"Deactivate"</button>
                                                        </form>
                                                    </td>
                                                })}
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table></div>
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                }
                })
            }}
            </Suspense>
        </section>
    }
}
