//! Alerts in the portal: the open alerts of the admin's tenant (on the admin home and a
//! directory's dashboard), every tenant's in the support console, and a directory's
//! silence threshold (how long its identity provider may send nothing before an alert).

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::style::{CARD, INPUT, SECONDARY_BUTTON};
use crate::components::{Badge, ErrorBox, Skeleton, refusal_of};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use crate::portal::{Admin, Operator, date_time};

/// An open alert as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRow {
    pub id: String,
    /// `revocation_overdue`, `idp_silent`, `token_expiring`, `webhook_failing`, `scim_errors`.
    pub kind: String,
    pub kind_label: String,
    pub summary: String,
    /// What someone can do about it.
    pub advice: String,
    /// UTC, to the minute.
    pub opened: String,
    /// Notifications sent so far (email, webhook).
    pub notifications: i64,
    /// The tenant's slug; empty for the deployment's own alerts (the operator's webhooks).
    pub tenant: String,
    pub tenant_name: String,
}

#[cfg(feature = "ssr")]
fn alert_row(tenant: Option<&service::alerts::Tenant>, alert: service::alerts::Alert) -> AlertRow {
    let kind = service::alerts::AlertKind::parse(&alert.kind);
    AlertRow {
        id: alert.id.to_string(),
        kind_label: kind.map_or("Alert", kind_label).to_owned(),
        advice: kind.map_or("", service::alerts::AlertKind::advice).to_owned(),
        kind: alert.kind,
        summary: alert.summary,
        opened: date_time(Some(alert.opened_at)),
        notifications: alert.notifications,
        tenant: tenant.map(|t| t.slug.to_string()).unwrap_or_default(),
        tenant_name: tenant.map_or_else(|| "The product's webhook endpoints".to_owned(), |t| t.display_name.clone()),
    }
}

#[cfg(feature = "ssr")]
fn kind_label(kind: service::alerts::AlertKind) -> &'static str {
    use service::alerts::AlertKind;
    match kind {
        AlertKind::RevocationOverdue => "Revocation overdue",
        AlertKind::IdpSilent => "Identity provider silent",
        AlertKind::TokenExpiring => "Token expiring",
        AlertKind::WebhookFailing => "Webhook failing",
        AlertKind::ScimErrors => "Failed requests",
        AlertKind::ChangesHeld => "Changes held for review",
        AlertKind::OperatorWebhookFailing => "Product webhook failing",
    }
}

/// The admin's tenant's open alerts; with a directory, that directory's and the tenant's
/// webhooks'.
#[server(endpoint = "open_alerts")]
pub async fn open_alerts(directory: Option<String>) -> Result<Vec<AlertRow>, PortalError> {
    let admin = Admin::require().await?;
    let directory = match directory.as_deref().filter(|d| !d.is_empty()) {
        Some(text) => Some(admin.directory(text).await?),
        None => None,
    };
    let alerts = service::alerts::open_alerts(admin.store(), admin.tenant(), directory).await?;
    let tenant =
        service::alerts::tenant(admin.store(), admin.tenant()).await?.ok_or_else(PortalError::no_such_tenant)?;
    Ok(alerts.into_iter().map(|alert| alert_row(Some(&tenant), alert)).collect())
}

/// Every tenant's open alerts and the deployment's own, oldest first (operators and support).
#[server(endpoint = "support_alerts")]
pub async fn support_alerts() -> Result<Vec<AlertRow>, PortalError> {
    let operator = Operator::require().await?;
    let alerts = service::alerts::open_across_tenants(operator.store()).await?;
    Ok(alerts.into_iter().map(|(tenant, alert)| alert_row(tenant.as_ref(), alert)).collect())
}

/// A directory's silence threshold as the form shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilenceView {
    /// What the admin set; empty for the provider's default.
    pub hours: String,
    /// What applies, in words.
    pub applies: String,
}

#[cfg(feature = "ssr")]
fn silence_view(threshold: service::alerts::SilenceThreshold) -> SilenceView {
    let idp = threshold.idp.display_name();
    let applies = match (threshold.hours, threshold.effective_hours) {
        (_, 0) => format!("No alert when {idp} is silent."),
        (None, hours) => format!("The default for {idp}: an alert after {hours} hours without a request."),
        (Some(_), hours) => format!("An alert after {hours} hours without a request from {idp}."),
    };
    SilenceView { hours: threshold.hours.map(|h| h.to_string()).unwrap_or_default(), applies }
}

#[server(endpoint = "silence_alert")]
pub async fn silence_alert(directory: String) -> Result<SilenceView, PortalError> {
    let admin = Admin::require().await?;
    let directory = admin.directory(&directory).await?;
    let threshold = service::alerts::silence_threshold(admin.store(), admin.tenant(), directory)
        .await?
        .ok_or_else(PortalError::no_such_directory)?;
    Ok(silence_view(threshold))
}

/// Sets how long the directory's identity provider may be silent before an alert: whole
/// hours, 0 for never, empty for the provider's default.
#[server(endpoint = "set_silence_alert")]
pub async fn set_silence_alert(directory: String, hours: String) -> Result<SilenceView, PortalError> {
    use service::alerts::SilenceThresholdError;
    let admin = Admin::require().await?;
    let directory = admin.directory(&directory).await?;
    let now = admin.portal.now();
    let page = crate::pages::dashboard::dashboard_page(&directory.to_string());
    let set =
        service::alerts::set_silence_threshold(admin.store(), &admin.actor(), admin.tenant(), directory, &hours, now)
            .await
            .map_err(|error| match error {
                SilenceThresholdError::NoSuchDirectory => PortalError::no_such_directory(),
                error @ SilenceThresholdError::Invalid => PortalError::Invalid(service::sentence(&error.to_string())),
                SilenceThresholdError::Service(error) => error.into(),
            })
            .inspect_err(|error| {
                crate::error::back_with_what_was_typed::<SetSilenceAlert>(
                    &page,
                    &[(SILENCE_HOURS, hours.as_str())],
                    error,
                );
            })?;
    crate::error::after_plain_form_post_go_to(&page);
    Ok(silence_view(set))
}

/// The address parameter of a refused silence threshold, as it was typed.
const SILENCE_HOURS: &str = "silence_hours";

/// The open alerts of the admin's tenant (of one directory, when given); nothing when
/// there are none. Read when the page is rendered, on the server.
#[component]
pub fn AlertsPanel(#[prop(optional)] directory: Option<String>) -> impl IntoView {
    let alerts = Resource::new(|| (), move |_| open_alerts(directory.clone()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match alerts.await {
                    Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    Ok(rows) if rows.is_empty() => ().into_any(),
                    Ok(rows) => view! {
                        <section id="open-alerts" class="rounded-xl border border-red-200 bg-red-50 p-6" aria-labelledby="open-alerts-heading">
                            <h2 id="open-alerts-heading" class="text-lg font-semibold text-red-900">
                                {if rows.len() == 1 { "1 open alert".to_owned() } else { format!("{} open alerts", rows.len()) }}
                            </h2>
                            <ul class="mt-3 space-y-3">
                                {rows.into_iter().map(|row| view! { <AlertItem row show_tenant=false/> }).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AlertItem(row: AlertRow, show_tenant: bool) -> impl IntoView {
    let tenant_link = format!("/tenants/{}", row.tenant);
    view! {
        <li class="rounded-lg bg-white p-4 shadow-sm" data-alert-kind=row.kind>
            <div class="flex flex-wrap items-center gap-2">
                <Badge tone="bad" text=row.kind_label/>
                {match (show_tenant, row.tenant.is_empty()) {
                    (false, _) => ().into_any(),
                    (true, false) => view! {
                        <a href=tenant_link class="text-sm font-medium text-accent-strong hover:text-accent-strong">{row.tenant_name}</a>
                    }.into_any(),
                    (true, true) => view! { <span class="text-sm font-medium text-slate-800">{row.tenant_name}</span> }.into_any(),
                }}
                <span class="text-xs text-slate-600">{format!("since {}", row.opened)}</span>
            </div>
            <p class="alert-summary mt-2 text-sm text-slate-900">{row.summary}</p>
            <p class="mt-1 text-sm text-slate-600">{row.advice}</p>
        </li>
    }
}

/// Every tenant's open alerts and the deployment's own, for the support console.
#[component]
pub fn SupportAlerts() -> impl IntoView {
    let alerts = Resource::new(|| (), |_| support_alerts());
    view! {
        <section class=CARD aria-labelledby="support-alerts-heading">
            <h2 id="support-alerts-heading" class="text-lg font-semibold">"Open alerts"</h2>
            <Suspense fallback=|| view! { <Skeleton lines=2/> }>
            {move || Suspend::new(async move { match alerts.await {
                Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                Ok(rows) if rows.is_empty() => view! {
                    <p id="no-open-alerts" class="mt-4 text-sm text-slate-600">"No open alerts: every tenant and the product's webhook endpoints are fine."</p>
                }.into_any(),
                Ok(rows) => view! {
                    <ul id="support-alerts" class="mt-4 space-y-3">
                        {rows.into_iter().map(|row| view! { <AlertItem row show_tenant=true/> }).collect_view()}
                    </ul>
                }.into_any(),
            }})}
            </Suspense>
        </section>
    }
}

/// The directory's silence threshold, with a plain form to change it (a refusal comes back
/// with what was typed).
#[component]
pub fn SilenceSetting(directory: String) -> impl IntoView {
    let form_directory = directory.clone();
    let current = Resource::new(move || directory.clone(), silence_alert);
    let refused = refusal_of::<SetSilenceAlert>();
    let typed = refused.is_some().then(|| use_query_map().with_untracked(|query| query.get(SILENCE_HOURS))).flatten();
    view! {
        <section class=CARD aria-labelledby="silence-heading">
            <h2 id="silence-heading" class="text-lg font-semibold">"Alert when the identity provider goes quiet"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "If no request arrives for this many hours after setup, you and the vendor's support are alerted. Leave it empty for the default; 0 turns the alert off."
            </p>
            <Suspense fallback=|| ()>
                {move || {
                    let form_directory = form_directory.clone();
                    let typed = typed.clone();
                    Suspend::new(async move {
                        match current.await {
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                            Ok(view) => view! {
                                <p id="silence-applies" class="mt-3 text-sm font-medium text-slate-800">{view.applies}</p>
                                <form method="post" action=SetSilenceAlert::url() class="mt-3 flex flex-wrap items-end gap-3">
                                    <input type="hidden" name="directory" value=form_directory/>
                                    <label class="block text-sm font-medium text-slate-700">
                                        "Hours"
                                        <input id="silence-hours" name="hours" type="number" min="0" max="8760" inputmode="numeric"
                                            class=INPUT value=typed.unwrap_or(view.hours)/>
                                    </label>
                                    <button id="save-silence" type="submit" class=SECONDARY_BUTTON>"Save"</button>
                                </form>
                            }.into_any(),
                        }
                    })
                }}
            </Suspense>
            {refused.map(|error| view! { <div id="silence-error" class="mt-3"><ErrorBox message=error.to_string()/></div> })}
        </section>
    }
}
