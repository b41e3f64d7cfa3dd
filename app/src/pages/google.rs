//! The Google Workspace connector in the portal: connecting a `google` directory in the
//! wizard (the service account's key file and the admin it reads as, checked with Google
//! at once), and its sync runs with "Sync now", for the admin (wizard, dashboard) and for
//! vendor staff (the console's directory page), who may ask for a full resync too.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use serde::{Deserialize, Serialize};

use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{Badge, ErrorBox, LiveRegions, Skeleton, refusal_box};
use crate::error::PortalError;

/// A directory's connection and its latest runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoogleSyncView {
    pub client_email: String,
    /// What the Workspace admin authorises for domain-wide delegation.
    pub client_id: String,
    pub admin_email: String,
    pub interval_minutes: i32,
    /// When the next run is due, in words.
    pub next_run: String,
    /// A run was asked for and has not started yet.
    pub requested: bool,
    pub runs: Vec<RunView>,
}

/// One run as the pages list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    /// `YYYY-MM-DD HH:MM UTC`.
    pub started: String,
    /// `Scheduled`, `Asked for by …`, `First sync`.
    pub trigger: String,
    pub succeeded: bool,
    /// "3 users created, 1 updated, 1 deactivated; 2 groups created" or the error.
    pub summary: String,
    /// The writes the directory refused, each in words.
    pub failures: Vec<String>,
}

/// What connecting found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedView {
    pub client_email: String,
    pub client_id: String,
    pub sample_users: Vec<String>,
}

/// The directory's Google connection and runs; `None` when it has none. `tenant` as for
/// the dashboard's reads (empty: the admin's own directory).
#[server(endpoint = "google_sync")]
pub async fn google_sync(
    directory: String,
    #[server(default)] tenant: String,
) -> Result<Option<GoogleSyncView>, PortalError> {
    let reader = crate::portal::DirectoryReader::require(&tenant, &directory, "the Google Workspace sync").await?;
    let scope = reader.store.tenant(reader.tenant);
    let Some(connection) = scope.google_connection(reader.directory).await.map_err(service::ServiceError::from)? else {
        return Ok(None);
    };
    let runs = scope
        .google_runs(reader.directory, service::google::connections::RUNS_SHOWN)
        .await
        .map_err(service::ServiceError::from)?;
    let mut views = Vec::with_capacity(runs.len());
    for run in runs {
        views.push(server::run_view(&reader.store, reader.tenant, run).await?);
    }
    Ok(Some(GoogleSyncView {
        client_email: connection.client_email,
        client_id: connection.client_id,
        admin_email: connection.admin_email,
        interval_minutes: connection.interval_minutes,
        next_run: crate::portal::date_time(Some(connection.next_run_at)),
        requested: connection.requested_by.is_some(),
        runs: views,
    }))
}

/// Connects one of the signed-in admin's `google` directories (or replaces its key).
#[server(endpoint = "connect_google")]
pub async fn connect_google(
    directory: String,
    key_file: String,
    admin_email: String,
    #[server(default)] customer: String,
    #[server(default)] interval_minutes: String,
) -> Result<ConnectedView, PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let interval_minutes = match interval_minutes.trim() {
        "" => None,
        text => Some(text.parse().map_err(|_| PortalError::Invalid("Choose how often to sync.".to_owned()))?),
    };
    let request = service::google::connections::ConnectRequest { key_file, admin_email, customer, interval_minutes };
    let http = service::google::connections::http_client()?;
    let connected = service::google::connections::connect(
        admin.store(),
        &admin.portal.google,
        http,
        admin.tenant(),
        id,
        request,
        &admin.actor(),
        &admin.portal.effects,
    )
    .await?;
    let found = ConnectedView {
        client_email: connected.client_email,
        client_id: connected.client_id,
        sample_users: connected.sample_users,
    };
    let page = crate::pages::wizard::calls::step_address(&directory, "endpoint");
    crate::error::show_once_after_plain_form_post(&page, GOOGLE_CONNECTED, &found).await?;
    Ok(found)
}

/// What connecting found, sealed for the step a plain form came back to: shown once.
#[server(endpoint = "take_google_connected")]
pub async fn take_google_connected(key: String) -> Result<Option<ConnectedView>, PortalError> {
    crate::portal::Admin::require().await?;
    crate::error::take_shown_once(GOOGLE_CONNECTED, &key).await
}

/// The address parameter (and kind of one-time outcome) of a connection just made.
pub(crate) const GOOGLE_CONNECTED: &str = "google_connected";

/// Asks for a full sync of the directory now: its admin (`tenant` empty) or vendor staff.
#[server(endpoint = "sync_google_now")]
pub async fn sync_google_now(directory: String, #[server(default)] tenant: String) -> Result<(), PortalError> {
    let (store, tenant_id, id, actor, now) = if tenant.is_empty() {
        let admin = crate::portal::Admin::require().await?;
        let id = admin.directory(&directory).await?;
        (admin.store().clone(), admin.tenant(), id, admin.actor(), admin.portal.now())
    } else {
        let operator = crate::portal::Operator::require().await?;
        let tenant_id = operator.tenant(&tenant).await?;
        let id = crate::portal::directory_id(&directory)?;
        (operator.store().clone(), tenant_id, id, operator.actor(), operator.portal.now())
    };
    if !service::google::connections::request_run(&store, tenant_id, id, &actor, now).await? {
        return Err(PortalError::NotFound("This directory is not connected to Google Workspace.".to_owned()));
    }
    crate::error::after_plain_form_post_go_back_to_page();
    Ok(())
}

#[cfg(feature = "ssr")]
mod server {
    use super::RunView;
    use crate::error::PortalError;

    /// A run in words.
    pub(super) async fn run_view(
        store: &service::Store,
        tenant: service::TenantId,
        run: service::google::GoogleRun,
    ) -> Result<RunView, PortalError> {
        let trigger = match run.trigger.as_str() {
            "schedule" => "Scheduled".to_owned(),
            "setup" => "First sync".to_owned(),
            who => format!("Asked for by {}", service::activity::actor_in_words(store, tenant, who).await?),
        };
        let number = |name: &str| run.counts[name].as_u64().unwrap_or(0);
        let summary = if run.succeeded {
            summary(&[
                (number("users_created"), "user", "created"),
                (number("users_updated"), "user", "updated"),
                (number("users_deactivated"), "user", "deactivated"),
                (number("groups_created"), "group", "created"),
                (number("groups_updated"), "group", "updated"),
                (number("groups_deleted"), "group", "deleted"),
                (number("writes_failed"), "write", "refused"),
            ])
            .unwrap_or_else(|| {
                let (users, groups) = (number("users_seen"), number("groups_seen"));
                let plural = |n: u64| if n == 1 { "" } else { "s" };
                format!("No changes: read {users} user{} and {groups} group{}", plural(users), plural(groups))
            })
        } else {
            run.error.clone().unwrap_or_else(|| "Failed".to_owned())
        };
        let failures = run
            .failures
            .as_array()
            .into_iter()
            .flatten()
            .map(|failure| {
                format!(
                    "{} → {}: {}",
                    failure["request"].as_str().unwrap_or_default(),
                    failure["status"],
                    failure["detail"].as_str().unwrap_or_default()
                )
            })
            .collect();
        Ok(RunView {
            started: crate::portal::date_time(Some(run.started_at)),
            trigger,
            succeeded: run.succeeded,
            summary,
            failures,
        })
    }

    /// "3 users created, 1 user updated" for the counts that are not zero.
    fn summary(counts: &[(u64, &str, &str)]) -> Option<String> {
        let parts: Vec<String> = counts
            .iter()
            .filter(|(n, _, _)| *n > 0)
            .map(|(n, noun, verb)| format!("{n} {noun}{} {verb}", if *n == 1 { "" } else { "s" }))
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// The wizard's "connect" form for a `google` directory, a plain form, with what
/// connecting found (`found`, shown once after the form came back). A refused form comes
/// back empty: the key file is a secret.
#[component]
pub fn GoogleConnectForm(directory: String, found: Option<ConnectedView>) -> impl IntoView {
    view! {
        <form method="post" action=ConnectGoogle::url() id="google-connect" class="space-y-4" aria-describedby="google-connect-result">
            <input type="hidden" name="directory" value=directory/>
            <div>
                <label for="google-key-file" class="block text-sm font-medium text-slate-700">"Service account key (the JSON file's contents)"</label>
                <textarea id="google-key-file" name="key_file" rows="6" required spellcheck="false" autocomplete="off"
                    class=format!("{INPUT} font-mono text-xs") placeholder="{\"type\": \"service_account\", …}"></textarea>
            </div>
            <div class="grid gap-4 sm:grid-cols-3">
                <div class="sm:col-span-2">
                    <label for="google-admin-email" class="block text-sm font-medium text-slate-700">"Workspace admin's email"</label>
                    <input id="google-admin-email" name="admin_email" type="email" required class=INPUT placeholder="it-admin@example.com"/>
                </div>
                <div>
                    <label for="google-interval" class="block text-sm font-medium text-slate-700">"Sync"</label>
                    <select id="google-interval" name="interval_minutes" class=INPUT>
                        <option value="15">"Every 15 minutes"</option>
                        <option value="60" selected>"Every hour"</option>
                        <option value="240">"Every 4 hours"</option>
                        <option value="1440">"Once a day"</option>
                    </select>
                </div>
            </div>
            <details class="text-sm">
                <summary class="cursor-pointer font-medium text-slate-700">"Reading another customer than the admin's own?"</summary>
                <label for="google-customer" class="mt-2 block text-sm font-medium text-slate-700">"Customer ID"</label>
                <input id="google-customer" name="customer" class=INPUT placeholder="my_customer"/>
            </details>
            <button id="google-connect-submit" type="submit" class=PRIMARY_BUTTON>"Connect"</button>
        </form>
        <div id="google-connect-result" class="mt-4" aria-live="polite">
            {found.map(|found| view! {
                <div id="google-connected" role="status" class="rounded-lg border border-emerald-200 bg-emerald-50 p-4 text-sm text-emerald-900">
                    <p class="font-semibold">{format!("Connected as {}.", found.client_email)}</p>
                    <p class="mt-1">{format!("Google listed {}. The first sync starts within a minute.",
                        if found.sample_users.is_empty() { "no users yet".to_owned() } else { found.sample_users.join(", ") })}</p>
                </div>
            })}
            {refusal_box::<ConnectGoogle>()}
        </div>
    }
}

/// A directory's Google sync: the connection, its runs, and "Sync now" (a plain form that
/// comes back to the page). Renders nothing for a directory without a connection.
/// `tenant`: empty for the admin, the slug for staff.
#[component]
pub fn GoogleSyncPanel(directory: String, tenant: String) -> impl IntoView {
    let (read_directory, read_tenant) = (directory.clone(), tenant.clone());
    let state = Resource::new(
        move || (read_directory.clone(), read_tenant.clone()),
        |(directory, tenant)| google_sync(directory, tenant),
    );
    // Runs take a moment: while the bundle runs, the admin's page reads the panel again
    // while one is asked for (an island; staff reads are recorded in the tenant's trail, so
    // theirs happen only when they look).
    let polls = tenant.is_empty();
    view! {
        <Transition fallback=|| view! { <Skeleton/> }>
        {move || {
            let (directory, tenant) = (directory.clone(), tenant.clone());
            Suspend::new(async move {
            match state.await {
                Ok(None) => ().into_any(),
                Ok(Some(sync)) => {
                    let follow = polls && sync.requested;
                    view! {
                        <section id="google-sync" class=CARD aria-labelledby="google-sync-heading"
                            data-unsettled=sync.requested.then_some("")>
                            <div class="flex flex-wrap items-center justify-between gap-3">
                                <h2 id="google-sync-heading" class="text-lg font-semibold">"Google Workspace sync"</h2>
                                <form method="post" action=SyncGoogleNow::url()>
                                    <input type="hidden" name="directory" value=directory/>
                                    <input type="hidden" name="tenant" value=tenant/>
                                    <button id="google-sync-now" type="submit" class=SECONDARY_BUTTON disabled=sync.requested>
                                        {if sync.requested { "Sync asked for…" } else { "Sync now" }}
                                    </button>
                                </form>
                            </div>
                            <dl class="mt-3 grid gap-3 text-sm sm:grid-cols-3">
                                <div><dt class="text-slate-500">"Service account"</dt><dd class="mt-1 break-all font-medium">{sync.client_email}</dd></div>
                                <div><dt class="text-slate-500">"Client ID (for domain-wide delegation)"</dt><dd id="google-client-id" class="mt-1 font-mono">{sync.client_id}</dd></div>
                                <div><dt class="text-slate-500">"Reads as"</dt><dd class="mt-1 break-all font-medium">{sync.admin_email}</dd></div>
                                <div><dt class="text-slate-500">"Schedule"</dt><dd class="mt-1">{format!("Every {} minutes", sync.interval_minutes)}</dd></div>
                                <div><dt class="text-slate-500">"Next sync"</dt><dd class="mt-1">{if sync.requested { "As soon as possible".to_owned() } else { sync.next_run }}</dd></div>
                            </dl>
                            {if sync.runs.is_empty() {
                                view! { <p id="google-no-runs" class="mt-4 text-sm text-slate-600">"No sync has run yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ol id="google-runs" class="mt-4 divide-y divide-slate-100 text-sm">
                                        {sync.runs.into_iter().map(|run| view! {
                                            <li class="py-2">
                                                <div class="flex flex-wrap items-center gap-2">
                                                    <Badge tone=if run.succeeded { "good" } else { "bad" } text=(if run.succeeded { "Succeeded" } else { "Failed" }).to_owned()/>
                                                    <span class="text-slate-600">{format!("{} · {}", run.started, run.trigger)}</span>
                                                </div>
                                                <p class="google-run-summary mt-1 text-slate-800">{run.summary}</p>
                                                {(!run.failures.is_empty()).then(|| view! {
                                                    <ul class="mt-1 list-disc pl-5 text-xs text-red-800">
                                                        {run.failures.into_iter().map(|failure| view! { <li>{failure}</li> }).collect_view()}
                                                    </ul>
                                                })}
                                            </li>
                                        }).collect_view()}
                                    </ol>
                                }.into_any()
                            }}
                            <div aria-live="polite">{refusal_box::<SyncGoogleNow>()}</div>
                        </section>
                        {follow.then(|| view! {
                            <LiveRegions directory=None every_seconds=5 regions=vec!["google-sync".to_owned()] until_settled=true/>
                        })}
                    }.into_any()
                }
                Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
            }
            })
        }}
        </Transition>
    }
}
