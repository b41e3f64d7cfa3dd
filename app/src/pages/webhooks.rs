//! Webhooks in the portal. `/admin/webhooks`: a tenant admin's endpoints with how far each
//! got per directory, registering one (the signing secret shown once), each endpoint's
//! delivery log and dead letters with a replay. On an operator console tenant page, staff
//! of either role read the same (never the secret), and each reading is recorded in the
//! tenant's audit trail; only the tenant's admins register and replay in the portal.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{
    AdminTopBar, Badge, CopyField, ErrorBox, SignedInAdmin, Skeleton, refusal_box, refusal_of, shown_once,
};
use crate::error::PortalError;

/// Attempts and dead letters shown per endpoint at most (the newest).
pub const ACTIVITY_LIMIT: usize = 50;

/// How far an endpoint got in one directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressView {
    pub directory: String,
    /// The directory's identity provider, e.g. `Okta`.
    pub idp: String,
    /// Events up to this feed position are delivered, dead-lettered or held back.
    pub delivered_up_to: i64,
    /// Events waiting: refused, or behind a refused event of their user or group.
    pub held_back: usize,
    /// Users and groups whose events wait for a refused one.
    pub failing_resources: usize,
    /// `YYYY-MM-DD HH:MM:SS UTC`, if a retry is scheduled.
    pub next_attempt: Option<String>,
}

/// One endpoint, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub created: String,
    pub disabled: Option<String>,
    pub directories: Vec<ProgressView>,
}

/// An endpoint just registered: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedWebhookView {
    pub id: String,
    pub url: String,
    pub secret: String,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptView {
    pub id: String,
    pub time: String,
    pub event: String,
    pub seq: i64,
    pub attempt: i32,
    /// `delivered`, `failed` or `dead`.
    pub outcome: String,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

/// A dead letter and whether a replay has since delivered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterView {
    pub attempt: AttemptView,
    /// When a replay delivered it.
    pub replayed: Option<String>,
}

/// An endpoint's newest attempts and dead letters, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityView {
    pub attempts: Vec<AttemptView>,
    pub dead_letters: Vec<DeadLetterView>,
}

#[cfg(feature = "ssr")]
mod server {
    use super::{ActivityView, AttemptView, DeadLetterView, EndpointView, ProgressView};
    use crate::error::PortalError;

    /// The endpoint named `text`; an id that does not parse is no endpoint of the tenant.
    pub(super) fn webhook_id(text: &str) -> Result<service::webhooks::WebhookId, PortalError> {
        text.parse().map_err(|_| PortalError::no_such_webhook())
    }

    fn time(at: chrono::DateTime<chrono::Utc>) -> String {
        at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }

    pub(super) fn endpoint(endpoint: service::webhooks::EndpointOverview) -> EndpointView {
        EndpointView {
            id: endpoint.id.to_string(),
            url: endpoint.url,
            created: time(endpoint.created_at),
            disabled: endpoint.disabled_at.map(time),
            directories: endpoint
                .directories
                .into_iter()
                .map(|progress| ProgressView {
                    directory: progress.directory.to_string(),
                    idp: progress.idp.display_name().to_owned(),
                    delivered_up_to: progress.delivered_seq,
                    held_back: progress.held_back,
                    failing_resources: progress.failing_resources,
                    next_attempt: progress.next_attempt_at.map(time),
                })
                .collect(),
        }
    }

    fn attempt(attempt: service::webhooks::DeliveryAttempt) -> AttemptView {
        AttemptView {
            id: attempt.id.to_string(),
            time: time(attempt.attempted_at),
            event: attempt.event.to_string(),
            seq: attempt.seq,
            attempt: attempt.attempt,
            outcome: attempt.outcome.as_str().to_owned(),
            status_code: attempt.status_code,
            error: attempt.error,
        }
    }

    pub(super) fn activity(activity: service::webhooks::EndpointActivity) -> ActivityView {
        ActivityView {
            attempts: activity.attempts.into_iter().map(attempt).collect(),
            dead_letters: activity
                .dead_letters
                .into_iter()
                .map(|dead| DeadLetterView { replayed: dead.replayed_at.map(time), attempt: attempt(dead.attempt) })
                .collect(),
        }
    }
}

/// The signed-in admin's endpoints, oldest first.
#[server(endpoint = "webhook_endpoints")]
pub async fn webhook_endpoints() -> Result<Vec<EndpointView>, PortalError> {
    let admin = Admin::require().await?;
    let endpoints = service::webhooks::endpoints_overview(admin.store(), admin.tenant()).await?;
    Ok(endpoints.into_iter().map(server::endpoint).collect())
}

/// Registers an endpoint of the admin's tenant; returns its secret (shown once).
#[server(endpoint = "create_webhook")]
pub async fn create_webhook(url: String) -> Result<IssuedWebhookView, PortalError> {
    let admin = Admin::require().await?;
    let url = url.trim().to_owned();
    let portal = &admin.portal;
    let issued = service::webhooks::register_webhook(
        &portal.store,
        admin.tenant(),
        &url,
        &portal.webhooks,
        &admin.actor(),
        &portal.effects,
    )
    .await
    .map_err(PortalError::from)
    .inspect_err(|error| {
        crate::error::back_with_what_was_typed::<CreateWebhook>(PAGE, &[("url", url.as_str())], error);
    })?;
    let issued = IssuedWebhookView { id: issued.id.to_string(), url, secret: issued.secret };
    crate::error::show_once_after_plain_form_post(PAGE, NEW_WEBHOOK, &issued).await?;
    Ok(issued)
}

/// The endpoint the last registration of this session made, with its signing secret,
/// sealed under `key` for the page the browser was sent back to: taken, so shown once.
#[server(endpoint = "take_issued_webhook")]
pub async fn take_issued_webhook(key: String) -> Result<Option<IssuedWebhookView>, PortalError> {
    Admin::require().await?;
    crate::error::take_shown_once(NEW_WEBHOOK, &key).await
}

/// The admin's page, and the address parameter (and kind of one-time outcome) of an
/// endpoint just registered.
const PAGE: &str = "/admin/webhooks";
const NEW_WEBHOOK: &str = "new_webhook";

/// One of the admin's endpoints: its newest attempts and dead letters.
#[server(endpoint = "webhook_activity")]
pub async fn webhook_activity(webhook: String) -> Result<ActivityView, PortalError> {
    let admin = Admin::require().await?;
    let id = server::webhook_id(&webhook)?;
    let activity = service::webhooks::endpoint_activity(admin.store(), admin.tenant(), id, ACTIVITY_LIMIT).await?;
    Ok(server::activity(activity))
}

/// Sends a dead letter of the admin's endpoint again; whether it was delivered.
#[server(endpoint = "replay_dead_letter")]
pub async fn replay_dead_letter(webhook: String, delivery: String) -> Result<bool, PortalError> {
    let admin = Admin::require().await?;
    let id = server::webhook_id(&webhook)?;
    let delivery = delivery.parse().map_err(|_| PortalError::no_such_webhook())?;
    let portal = &admin.portal;
    let tenant = admin.tenant();
    let delivered = service::webhooks::replay(
        &portal.store,
        &portal.webhooks,
        tenant,
        id,
        delivery,
        &admin.actor(),
        &portal.effects,
    )
    .await?;
    let outcome = if delivered { "delivered" } else { "refused" };
    crate::error::after_plain_form_post_go_to(&format!("{PAGE}?log={webhook}&replayed={outcome}#dead-letters"));
    Ok(delivered)
}

/// A tenant's endpoints for operators and support; recorded in the tenant's trail.
#[server(endpoint = "tenant_webhooks")]
pub async fn tenant_webhooks(slug: String) -> Result<Vec<EndpointView>, PortalError> {
    let operator = Operator::require().await?;
    let tenant = operator.tenant(&slug).await?;
    let now = operator.portal.now();
    let endpoints = service::support::tenant_webhooks(operator.store(), tenant, &operator.actor(), now).await?;
    Ok(endpoints.into_iter().map(server::endpoint).collect())
}

/// A tenant's endpoint's attempts and dead letters for operators and support; recorded in
/// the tenant's trail.
#[server(endpoint = "tenant_webhook_activity")]
pub async fn tenant_webhook_activity(slug: String, webhook: String) -> Result<ActivityView, PortalError> {
    let operator = Operator::require().await?;
    let tenant = operator.tenant(&slug).await?;
    let id = server::webhook_id(&webhook)?;
    let (actor, now) = (operator.actor(), operator.portal.now());
    let activity =
        service::support::webhook_activity(operator.store(), tenant, id, &actor, ACTIVITY_LIMIT, now).await?;
    Ok(server::activity(activity))
}

#[cfg(feature = "ssr")]
use crate::portal::{Admin, Operator};

const TH: &str = "py-2 pr-4 font-medium";

/// `/admin/webhooks`
#[component]
pub fn WebhooksPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <WebhooksView admin/> }.into_any()/> }
}

/// Works whole without the bundle: the endpoints are rendered on the server, the forms
/// are plain forms, a delivery log is the page at `?log=<endpoint>`, and a new endpoint's
/// secret is sealed for the one page that shows it.
#[component]
fn WebhooksView(admin: AdminView) -> impl IntoView {
    let (opened, shown, replayed) =
        use_query_map().with_untracked(|query| (query.get("log"), query.get(NEW_WEBHOOK), query.get("replayed")));
    let refusal = refusal_of::<CreateWebhook>().map(|error| error.to_string());
    let typed_url =
        use_query_map().with_untracked(|query| refusal.as_ref().and_then(|_| query.get("url"))).unwrap_or_default();
    let endpoints = Resource::new(|| (), |_| webhook_endpoints());
    let issued = shown_once(shown, take_issued_webhook);
    let activity = Resource::new(
        || (),
        move |_| {
            let opened = opened.clone();
            async move {
                match opened {
                    Some(webhook) => webhook_activity(webhook.clone()).await.map(|activity| Some((webhook, activity))),
                    None => Ok(None),
                }
            }
        },
    );
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"Webhooks"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Each endpoint receives the changes of all your directories, in order per directory, signed with its secret (header Scim-Signature). A change that keeps failing becomes a dead letter, which you can send again."
                </p>
            </div>
            <section class=CARD aria-labelledby="new-webhook-heading">
                <h2 id="new-webhook-heading" class="text-lg font-semibold">"New endpoint"</h2>
                <form method="post" action=CreateWebhook::url() class="mt-4 flex flex-wrap items-end gap-4">
                    <div class="min-w-80 flex-1">
                        <label for="webhook-url" class="block text-sm font-medium text-slate-700">"Endpoint URL"</label>
                        <input id="webhook-url" name="url" type="url" required placeholder="https://hooks.example.com/scim" class=INPUT value=typed_url/>
                    </div>
                    <button id="create-webhook" type="submit" class=PRIMARY_BUTTON>"Register endpoint"</button>
                </form>
                <div class="mt-4" aria-live="polite">
                    {refusal.map(|message| view! { <div id="webhook-error"><ErrorBox message/></div> })}
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match issued.await {
                                Ok(Some(issued)) => view! {
                                    <div id="issued-webhook" class="space-y-2 rounded-lg border border-emerald-200 bg-emerald-50 p-4">
                                        <p class="text-sm font-semibold text-emerald-800">{format!("Registered {}.", issued.url)}</p>
                                        <CopyField id="webhook-secret" label="Signing secret" value=issued.secret/>
                                        <p class="text-sm text-emerald-900">"Shown only now: keep it where your receiver verifies signatures."</p>
                                    </div>
                                }.into_any(),
                                Ok(None) => ().into_any(),
                                Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                            }
                        })}
                    </Suspense>
                </div>
            </section>
            <section class=CARD aria-labelledby="webhooks-heading">
                <h2 id="webhooks-heading" class="text-lg font-semibold">"Endpoints"</h2>
                <Suspense fallback=|| view! { <Skeleton/> }>
                    {move || Suspend::new(async move {
                        match endpoints.await {
                            Ok(rows) => view! { <EndpointsTable rows log_base=format!("{PAGE}?")/> }.into_any(),
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <Suspense fallback=|| ()>
                {move || {
                    let replayed = replayed.clone();
                    Suspend::new(async move {
                        match activity.await {
                            Ok(Some((webhook, activity))) => view! { <ActivitySection webhook activity may_replay=true replayed/> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </main>
    }
}

/// A tenant's endpoints on an operator console tenant page: loaded (and the viewing
/// recorded in the tenant's trail) only when asked for, at an address of their own
/// (`?webhooks=shown`, and `&log=<endpoint>` for a delivery log), which the server loads
/// once as it renders the page. It sits outside the tenant page's boundary and owns its
/// own (see the README's rule on suspense).
#[component]
pub(crate) fn TenantWebhooksSection(slug: String) -> impl IntoView {
    let (shown, opened) = use_query_map().with_untracked(|query| (query.get("webhooks").is_some(), query.get("log")));
    let page = format!("/tenants/{slug}");
    let list = Resource::new(|| (), {
        let slug = slug.clone();
        move |_| {
            let slug = slug.clone();
            async move { if shown { tenant_webhooks(slug).await.map(Some) } else { Ok(None) } }
        }
    });
    let activity = Resource::new(|| (), {
        move |_| {
            let (slug, opened) = (slug.clone(), opened.clone());
            async move {
                match opened.filter(|_| shown) {
                    Some(webhook) => {
                        tenant_webhook_activity(slug, webhook.clone()).await.map(|activity| Some((webhook, activity)))
                    }
                    None => Ok(None),
                }
            }
        }
    });
    let show = format!("{page}?webhooks=shown#tenant-webhooks-heading");
    let log_base = format!("{page}?webhooks=shown&");
    view! {
        <section class=CARD aria-labelledby="tenant-webhooks-heading">
            <h2 id="tenant-webhooks-heading" class="text-lg font-semibold">"Webhooks"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Looking at the tenant's webhooks is recorded in its audit trail, where its admins see it."
            </p>
            {(!shown).then(|| view! {
                <a id="show-webhooks" href=show rel="external" class=format!("mt-4 inline-block {SECONDARY_BUTTON}")>"Show webhooks"</a>
            })}
            <Suspense fallback=|| ()>
                {move || {
                    let log_base = log_base.clone();
                    Suspend::new(async move {
                        match list.await {
                            Ok(Some(rows)) => view! { <EndpointsTable rows log_base/> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match activity.await {
                    Ok(Some((webhook, activity))) => view! { <ActivitySection webhook activity may_replay=false replayed=None/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EndpointsTable(rows: Vec<EndpointView>, log_base: String) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p id="no-webhooks" class="mt-4 text-sm text-slate-600">"No endpoint is registered."</p> }
            .into_any();
    }
    view! {
        <div class="overflow-x-auto" tabindex="0"><table id="webhooks-table" class="mt-4 w-full text-left text-sm">
            <thead class="border-b border-slate-200 text-slate-500">
                <tr>
                    <th scope="col" class=TH>"Endpoint"</th>
                    <th scope="col" class=TH>"Status"</th>
                    <th scope="col" class=TH>"Progress per directory"</th>
                    <th scope="col" class=TH><span class="sr-only">"Delivery log"</span></th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-100">
                {rows.into_iter().map(|row| {
                    let log = format!("{log_base}log={}#delivery-log", row.id);
                    let (tone, status) = match &row.disabled {
                        Some(at) => ("neutral", format!("Disabled {at}")),
                        None => ("good", "Active".to_owned()),
                    };
                    view! {
                        <tr class="align-top" data-webhook=row.id>
                            <td class="py-2 pr-4">
                                <p class="break-all font-mono text-xs">{row.url}</p>
                                <p class="text-xs text-slate-500">{format!("Created {}", row.created)}</p>
                            </td>
                            <td class="py-2 pr-4"><Badge tone text=status/></td>
                            <td class="py-2 pr-4">
                                {if row.directories.is_empty() {
                                    view! { <p class="text-slate-500">"No directory yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="space-y-1">
                                            {row.directories.into_iter().map(|progress| view! { <li>{progress_text(&progress)}</li> }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </td>
                            <td class="py-2 text-right">
                                <a href=log rel="external" class="open-delivery-log whitespace-nowrap font-semibold text-accent hover:text-accent-strong">
                                    "Delivery log"
                                </a>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}

/// `Okta: delivered up to event 12; 3 events held back (1 user or group failing), next try at …`.
pub fn progress_text(progress: &ProgressView) -> String {
    let delivered = if progress.delivered_up_to == 0 {
        "nothing delivered yet".to_owned()
    } else {
        format!("delivered up to event {}", progress.delivered_up_to)
    };
    let events = |n: usize| if n == 1 { "1 event held back".to_owned() } else { format!("{n} events held back") };
    let resources =
        |n: usize| if n == 1 { "1 user or group failing".to_owned() } else { format!("{n} users or groups failing") };
    let failing = match (progress.held_back, &progress.next_attempt) {
        (0, _) => String::new(),
        (n, Some(at)) => format!("; {} ({}), next try at {at}", events(n), resources(progress.failing_resources)),
        (n, None) => format!("; {} ({})", events(n), resources(progress.failing_resources)),
    };
    format!("{}: {delivered}{failing}", progress.idp)
}

fn outcome_badge(outcome: &str) -> (&'static str, String) {
    match outcome {
        "delivered" => ("good", "Delivered".to_owned()),
        "failed" => ("warn", "Failed".to_owned()),
        "dead" => ("bad", "Dead letter".to_owned()),
        other => ("neutral", other.to_owned()),
    }
}

#[component]
fn ActivitySection(
    webhook: String,
    activity: ActivityView,
    may_replay: bool,
    replayed: Option<String>,
) -> impl IntoView {
    view! {
        <section id="delivery-log" class=CARD aria-labelledby="delivery-log-heading">
            <h2 id="delivery-log-heading" class="text-lg font-semibold">"Delivery log"</h2>
            <p class="mt-1 text-sm text-slate-600">{format!("The newest attempts of endpoint {webhook}, newest first.")}</p>
            {if activity.attempts.is_empty() {
                view! { <p id="no-attempts" class="mt-4 text-sm text-slate-600">"Nothing was sent yet."</p> }.into_any()
            } else {
                view! {
                    <div class="mt-4 overflow-x-auto" tabindex="0" role="region" aria-label="Delivery attempts">
                        <table id="attempts-table" class="w-full text-left text-sm">
                            <thead class="border-b border-slate-200 text-slate-500">
                                <tr>
                                    <th scope="col" class=TH>"Time"</th>
                                    <th scope="col" class=TH>"Event"</th>
                                    <th scope="col" class=TH>"Position"</th>
                                    <th scope="col" class=TH>"Attempt"</th>
                                    <th scope="col" class=TH>"Outcome"</th>
                                    <th scope="col" class=TH>"Status"</th>
                                    <th scope="col" class=TH>"Error"</th>
                                </tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">
                                {activity.attempts.into_iter().map(|attempt| {
                                    let (tone, label) = outcome_badge(&attempt.outcome);
                                    view! {
                                        <tr data-outcome=attempt.outcome.clone()>
                                            <td class="whitespace-nowrap py-2 pr-4 text-slate-600">{attempt.time}</td>
                                            <td class="py-2 pr-4 font-mono text-xs">{attempt.event}</td>
                                            <td class="py-2 pr-4">{attempt.seq}</td>
                                            <td class="py-2 pr-4">{attempt.attempt}</td>
                                            <td class="py-2 pr-4"><Badge tone text=label/></td>
                                            <td class="py-2 pr-4">{attempt.status_code.map(|s| s.to_string()).unwrap_or_else(|| "—".to_owned())}</td>
                                            <td class="py-2 text-slate-600">{attempt.error.unwrap_or_default()}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
        <section id="dead-letters" class=CARD aria-labelledby="dead-letters-heading">
            <h2 id="dead-letters-heading" class="text-lg font-semibold">"Dead letters"</h2>
            <p class="mt-1 text-sm text-slate-600">
                {if may_replay {
                    "Changes given up on after repeated failures. Replay sends one again, with its original event id."
                } else {
                    "Changes given up on after repeated failures. The tenant's admins can replay them."
                }}
            </p>
            {may_replay.then(|| view! {
                <div class="mt-4" aria-live="polite">
                    {match replayed.as_deref() {
                        Some("delivered") => view! { <p id="replay-result" class="rounded-lg bg-emerald-50 p-3 text-sm text-emerald-800">"Delivered."</p> }.into_any(),
                        Some(_) => view! { <p id="replay-result" class="rounded-lg bg-amber-50 p-3 text-sm text-amber-900">"Not delivered: the endpoint still refuses it. The attempt is in the delivery log."</p> }.into_any(),
                        None => ().into_any(),
                    }}
                    {refusal_box::<ReplayDeadLetter>()}
                </div>
            })}
            {if activity.dead_letters.is_empty() {
                view! { <p id="no-dead-letters" class="mt-4 text-sm text-slate-600">"No dead letters."</p> }.into_any()
            } else {
                view! {
                    <div class="overflow-x-auto" tabindex="0"><table id="dead-letters-table" class="mt-4 w-full text-left text-sm">
                        <thead class="border-b border-slate-200 text-slate-500">
                            <tr>
                                <th scope="col" class=TH>"Given up"</th>
                                <th scope="col" class=TH>"Event"</th>
                                <th scope="col" class=TH>"Position"</th>
                                <th scope="col" class=TH>"Last error"</th>
                                <th scope="col" class=TH>"Replayed"</th>
                                {may_replay.then(|| view! { <th scope="col" class=TH><span class="sr-only">"Replay"</span></th> })}
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {activity.dead_letters.into_iter().map(|dead| {
                                let (webhook, delivery) = (webhook.clone(), dead.attempt.id.clone());
                                view! {
                                    <tr data-dead-letter=dead.attempt.id>
                                        <td class="whitespace-nowrap py-2 pr-4 text-slate-600">{dead.attempt.time}</td>
                                        <td class="py-2 pr-4 font-mono text-xs">{dead.attempt.event}</td>
                                        <td class="py-2 pr-4">{dead.attempt.seq}</td>
                                        <td class="py-2 pr-4 text-slate-600">{dead.attempt.error.unwrap_or_default()}</td>
                                        <td class="py-2 pr-4">{dead.replayed.map(|at| format!("Delivered {at}")).unwrap_or_else(|| "Not yet".to_owned())}</td>
                                        {may_replay.then(|| view! {
                                            <td class="py-2 text-right">
                                                <form method="post" action=ReplayDeadLetter::url()>
                                                    <input type="hidden" name="webhook" value=webhook/>
                                                    <input type="hidden" name="delivery" value=delivery/>
                                                    <button type="submit" class=format!("replay {SECONDARY_BUTTON}")>"Replay"</button>
                                                </form>
                                            </td>
                                        })}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(delivered_up_to: i64, held_back: usize, next_attempt: Option<&str>) -> ProgressView {
        ProgressView {
            directory: "d".into(),
            idp: "Okta".into(),
            delivered_up_to,
            held_back,
            failing_resources: 1,
            next_attempt: next_attempt.map(str::to_owned),
        }
    }

    #[test]
    fn progress_reads_as_a_sentence() {
        assert_eq!(progress_text(&progress(0, 0, None)), "Okta: nothing delivered yet");
        assert_eq!(progress_text(&progress(12, 0, None)), "Okta: delivered up to event 12");
        assert_eq!(
            progress_text(&progress(12, 3, Some("2026-12-03 10:00:00 UTC"))),
            "Okta: delivered up to event 12; 3 events held back (1 user or group failing), next try at 2026-12-03 10:00:00 UTC"
        );
        assert_eq!(
            progress_text(&progress(4, 1, None)),
            "Okta: delivered up to event 4; 1 event held back (1 user or group failing)"
        );
    }

    #[test]
    fn each_outcome_has_its_badge() {
        assert_eq!(outcome_badge("delivered").0, "good");
        assert_eq!(outcome_badge("failed").0, "warn");
        assert_eq!(outcome_badge("dead"), ("bad", "Dead letter".to_owned()));
    }
}
