//! `/support`: the support console. Failed SCIM requests of the last 24 hours across every
//! tenant, grouped by cause with counts per hour; a cause lists its failures; a failure
//! opens with its request, response and a fix hint. Operators and support staff see it;
//! opening a failure is recorded in the tenant's audit trail, where its admins see it.
//! Below, the non-human identities across tenants whose owner is deactivated or deleted.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::auth::OperatorView;
use crate::components::style::CARD;
use crate::components::{ErrorBox, SignedIn, Skeleton, TopBar};
use crate::error::PortalError;

/// One cause over the last 24 hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CauseRow {
    pub cause: String,
    pub label: String,
    pub hint: String,
    pub failures: u64,
    pub tenants: usize,
    /// Failures per hour, oldest first.
    pub per_hour: Vec<u64>,
    pub latest: String,
}

/// A failed request in a cause's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureRow {
    pub tenant_id: String,
    pub tenant: String,
    pub seq: i64,
    pub time: String,
    pub directory: String,
    pub method: String,
    pub path: String,
    pub status: i32,
}

/// A failed request opened for investigation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureView {
    pub row: FailureRow,
    pub cause: String,
    pub explanation: String,
    pub request: String,
    pub response: String,
    /// For a uniqueness conflict: the page of the user or group it collided with, and its
    /// name.
    pub existing: Option<(String, String)>,
}

/// A non-human identity without an active owner, in the support console's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlaggedIdentityRow {
    pub tenant: String,
    pub directory: String,
    pub identity: String,
    pub kind: String,
    pub owner: String,
    /// `deactivated` or `deleted`.
    pub owner_state: String,
}

#[cfg(feature = "ssr")]
mod server {
    use super::FailureRow;

    pub(super) fn row(failure: service::support::Failure) -> FailureRow {
        FailureRow {
            tenant_id: failure.tenant.to_string(),
            tenant: failure.tenant_slug.to_string(),
            seq: failure.seq,
            time: failure.occurred_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            directory: failure.directory.map(|d| d.to_string()).unwrap_or_default(),
            method: failure.method,
            path: failure.path,
            status: failure.status,
        }
    }
}

#[server(endpoint = "support_overview")]
pub async fn support_overview() -> Result<Vec<CauseRow>, PortalError> {
    let operator = Operator::require().await?;
    let summaries = service::support::failures_by_cause(operator.store(), operator.portal.now()).await?;
    Ok(summaries
        .into_iter()
        .map(|summary| CauseRow {
            cause: summary.cause.as_str().to_owned(),
            label: summary.cause.label().to_owned(),
            hint: summary.cause.hint().to_owned(),
            failures: summary.failures,
            tenants: summary.tenants,
            per_hour: summary.per_hour,
            latest: summary.latest.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect())
}

#[server(endpoint = "support_failures")]
pub async fn support_failures(cause: String) -> Result<Vec<FailureRow>, PortalError> {
    let operator = Operator::require().await?;
    let Some(cause) = service::support::FailureCause::parse(&cause) else {
        return Err(PortalError::NotFound("There is no such cause.".to_owned()));
    };
    let failures = service::support::failures_of(operator.store(), cause, operator.portal.now(), 200).await?;
    Ok(failures.into_iter().map(server::row).collect())
}

/// Opens a failure; recorded in the tenant's audit trail before anything is shown.
#[server(endpoint = "support_failure")]
pub async fn support_failure(tenant: String, seq: i64) -> Result<FailureView, PortalError> {
    let operator = Operator::require().await?;
    let not_found = || PortalError::NotFound("That failure is not in the tenant's audit trail.".to_owned());
    let tenant: service::TenantId = tenant.parse().map_err(|_| not_found())?;
    let now = operator.portal.now();
    let detail = service::support::failure_detail(operator.store(), tenant, seq, &operator.actor(), now)
        .await?
        .ok_or_else(not_found)?;
    let pretty = |value: &serde_json::Value| serde_json::to_string_pretty(value).unwrap_or_default();
    // A GET or DELETE carries no body: say so rather than show `null`.
    let request = if detail.request.is_null() {
        format!("No body: a {} request carries none. What it asked for is in the line above.", detail.failure.method)
    } else {
        pretty(&detail.request)
    };
    let response = if detail.response.is_null() { "No body.".to_owned() } else { pretty(&detail.response) };
    let existing = detail.existing.zip(detail.failure.directory).map(|((kind, id, name), directory)| {
        let slug = detail.failure.tenant_slug.to_string();
        (crate::pages::resource::resource_page(&slug, &directory.to_string(), kind.into(), &id), name)
    });
    Ok(FailureView {
        existing,
        cause: detail.failure.cause.label().to_owned(),
        row: server::row(detail.failure),
        explanation: detail.explanation,
        request,
        response,
    })
}

/// Across tenants, the non-human identities whose owner is deactivated or deleted. A list
/// for follow-up like the failures of a cause; what each identity holds is not shown.
#[server(endpoint = "support_flagged_identities")]
pub async fn support_flagged_identities() -> Result<Vec<FlaggedIdentityRow>, PortalError> {
    use crate::pages::dashboard::identity_rows;
    let operator = Operator::require().await?;
    let flagged = service::nonhuman::flagged_across_tenants(operator.store(), 200).await?;
    Ok(flagged
        .into_iter()
        .map(|flagged| FlaggedIdentityRow {
            tenant: flagged.tenant_slug.to_string(),
            directory: flagged.directory_name,
            kind: identity_rows::kind_label(flagged.identity.kind).to_owned(),
            owner: identity_rows::owner(&flagged.identity),
            owner_state: identity_rows::owner_state(flagged.identity.owner_state).to_owned(),
            identity: flagged.identity.user_name,
        })
        .collect())
}

/// A tenant whose product has not confirmed every revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnappliedRow {
    pub tenant: String,
    pub tenant_name: String,
    pub unapplied: usize,
    pub overdue: usize,
    /// `YYYY-MM-DD HH:MM:SS` UTC: the oldest unconfirmed one's request.
    pub oldest: String,
}

/// Across tenants, the deactivations and deletions the product has not confirmed, tenants
/// with overdue ones (past the revocation SLA) first.
#[server(endpoint = "support_unapplied_revocations")]
pub async fn support_unapplied_revocations() -> Result<(u32, Vec<UnappliedRow>), PortalError> {
    let operator = Operator::require().await?;
    let sla = operator.portal.settings.revocation_sla();
    let rows = service::receipts::unapplied_by_tenant(operator.store(), sla, operator.portal.now()).await?;
    Ok((
        operator.portal.settings.revocation_sla_minutes,
        rows.into_iter()
            .map(|row| UnappliedRow {
                tenant: row.tenant.slug.to_string(),
                tenant_name: row.tenant.display_name,
                unapplied: row.unapplied,
                overdue: row.overdue,
                oldest: row.oldest.format("%Y-%m-%d %H:%M:%S").to_string(),
            })
            .collect(),
    ))
}

#[cfg(feature = "ssr")]
use crate::portal::Operator;

/// `/support`
#[component]
pub fn SupportPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <SupportView operator/> }.into_any()/> }
}

const TH: &str = "py-2 pr-4 font-medium";

/// The console's address for a chosen cause and an opened failure (`tenant:seq`): an
/// investigation can be shared, and survives a reload.
pub fn support_href(cause: Option<&str>, opened: Option<&(String, i64)>) -> String {
    let mut query = Vec::new();
    if let Some(cause) = cause {
        query.push(format!("cause={cause}"));
    }
    if let Some((tenant, seq)) = opened {
        query.push(format!("failure={tenant}:{seq}"));
    }
    if query.is_empty() { "/support".to_owned() } else { format!("/support?{}", query.join("&")) }
}

/// A failure named in the address: `tenant:seq`.
fn failure_in_address(text: &str) -> Option<(String, i64)> {
    let (tenant, seq) = text.split_once(':')?;
    Some((tenant.to_owned(), seq.parse().ok()?))
}

/// Rendered on the server: the cause chosen and the failure opened are the page's address
/// (links), so an investigation can be shared and works without the bundle. Opening a
/// failure is recorded in the tenant's trail once per visit of its address: the failure is
/// read by the page's one resource, never by a render that could repeat.
#[component]
fn SupportView(operator: OperatorView) -> impl IntoView {
    let query = use_query_map();
    let chosen_cause = Memo::new(move |_| query.with(|q| q.get("cause")));
    let opened = Memo::new(move |_| query.with(|q| q.get("failure").and_then(|f| failure_in_address(&f))));
    let overview = Resource::new(|| (), |_| support_overview());
    let failures = Resource::new(
        move || chosen_cause.get(),
        |cause| async move {
            match cause {
                Some(cause) => support_failures(cause).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let investigated = Resource::new(
        move || opened.get(),
        |opened| async move {
            match opened {
                Some((tenant, seq)) => support_failure(tenant, seq).await.map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <TopBar operator/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"Support"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Failed SCIM requests of the last 24 hours, across every tenant. Opening a failure is recorded in that tenant's audit trail, where its admins see it."
                </p>
            </div>
            <section class=CARD aria-labelledby="causes-heading">
                <h2 id="causes-heading" class="text-lg font-semibold">"Failures by cause"</h2>
                <Suspense fallback=|| view! { <Skeleton/> }>
                    {move || Suspend::new(async move {
                        match overview.await {
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                            Ok(rows) if rows.is_empty() => view! {
                                <p id="no-failures" class="mt-4 text-sm text-slate-600">"No SCIM request failed in the last 24 hours."</p>
                            }.into_any(),
                            Ok(rows) => view! {
                                <div class="overflow-x-auto" tabindex="0"><table id="causes-table" class="mt-4 w-full text-left text-sm">
                                    <thead class="border-b border-slate-200 text-slate-500">
                                        <tr>
                                            <th scope="col" class=TH>"Cause"</th>
                                            <th scope="col" class=TH>"Failures"</th>
                                            <th scope="col" class=TH>"Tenants"</th>
                                            <th scope="col" class=TH>"Per hour, last 24 hours"</th>
                                            <th scope="col" class=TH>"Latest"</th>
                                        </tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100">
                                        {rows.into_iter().map(|row| view! { <CauseLine row/> }).collect_view()}
                                    </tbody>
                                </table></div>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <Transition fallback=|| ()>
                {move || {
                    let cause = chosen_cause.get();
                    Suspend::new(async move {
                        match failures.await {
                            Ok(Some(rows)) => view! { <FailureList rows cause/> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                    })
                }}
            </Transition>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match investigated.await {
                        Ok(Some(view)) => view! { <FailureDetail view/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
            <crate::pages::alerts::SupportAlerts/>
            <UnappliedRevocations/>
            <FlaggedIdentities/>
        </main>
    }
}

/// Tenants whose product has not confirmed every deactivation and deletion.
#[component]
fn UnappliedRevocations() -> impl IntoView {
    let unapplied = Resource::new(|| (), |_| support_unapplied_revocations());
    view! {
        <section class=CARD aria-labelledby="unapplied-heading">
            <h2 id="unapplied-heading" class="text-lg font-semibold">"Revocations the product has not confirmed"</h2>
            <Suspense fallback=|| view! { <Skeleton lines=2/> }>
            {move || Suspend::new(async move { match unapplied.await {
                Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                Ok((_, rows)) if rows.is_empty() => view! {
                    <p id="no-unapplied" class="mt-4 text-sm text-slate-600">"The product has confirmed every deactivation and deletion."</p>
                }.into_any(),
                Ok((sla, rows)) => view! {
                    <p class="mt-1 text-sm text-slate-600">{format!("Overdue: not confirmed within {sla} minutes of the identity provider's request.")}</p>
                    <div class="overflow-x-auto" tabindex="0"><table id="unapplied-table" class="mt-4 w-full text-left text-sm">
                        <thead class="border-b border-slate-200 text-slate-500">
                            <tr>
                                <th scope="col" class=TH>"Tenant"</th>
                                <th scope="col" class=TH>"Unconfirmed"</th>
                                <th scope="col" class=TH>"Overdue"</th>
                                <th scope="col" class=TH>"Oldest (UTC)"</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {rows.into_iter().map(|row| {
                                let href = format!("/tenants/{}", row.tenant);
                                view! {
                                <tr data-tenant=row.tenant>
                                    <th scope="row" class="py-2 pr-4 font-medium">
                                        <a href=href class="text-accent hover:text-accent-strong">{row.tenant_name}</a>
                                    </th>
                                    <td class="py-2 pr-4">{row.unapplied}</td>
                                    <td class="py-2 pr-4">
                                        {if row.overdue > 0 {
                                            view! { <span class="font-semibold text-red-700">{row.overdue}</span> }.into_any()
                                        } else {
                                            view! { <span>"0"</span> }.into_any()
                                        }}
                                    </td>
                                    <td class="py-2 pr-4 font-mono text-xs">{row.oldest}</td>
                                </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any(),
            }})}
            </Suspense>
        </section>
    }
}

/// Service accounts and agents across tenants that nobody active answers for.
#[component]
fn FlaggedIdentities() -> impl IntoView {
    let flagged = Resource::new(|| (), |_| support_flagged_identities());
    view! {
        <section class=CARD aria-labelledby="flagged-identities-heading">
            <h2 id="flagged-identities-heading" class="text-lg font-semibold">"Non-human identities without an active owner"</h2>
            <Suspense fallback=|| view! { <Skeleton/> }>
            {move || Suspend::new(async move { match flagged.await {
                Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                Ok(rows) if rows.is_empty() => view! {
                    <p id="no-flagged-identities" class="mt-4 text-sm text-slate-600">"Every service account and agent has an active owner."</p>
                }.into_any(),
                Ok(rows) => view! {
                    <p id="flagged-identities-count" role="status" class="mt-2 text-sm text-red-800">
                        {format!("{} owner deactivated or deleted", rows.len())}
                    </p>
                    <div class="overflow-x-auto" tabindex="0"><table id="flagged-identities-table" class="mt-4 w-full text-left text-sm">
                        <thead class="border-b border-slate-200 text-slate-500">
                            <tr>
                                <th scope="col" class=TH>"Tenant"</th>
                                <th scope="col" class=TH>"Directory"</th>
                                <th scope="col" class=TH>"Identity"</th>
                                <th scope="col" class=TH>"Owner"</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {rows.into_iter().map(|row| view! {
                                <tr>
                                    <td class="py-2">{row.tenant}</td>
                                    <td class="py-2">{row.directory}</td>
                                    <th scope="row" class="py-2 font-medium">{row.identity}<span class="block text-xs font-normal text-slate-500">{row.kind}</span></th>
                                    <td class="py-2">
                                        {row.owner}
                                        <span class="ml-2 inline-flex items-center rounded-full bg-red-50 px-2.5 py-0.5 text-xs font-medium text-red-700 ring-1 ring-inset ring-red-600/20">
                                            {if row.owner_state == "deleted" { "Owner deleted" } else { "Owner deactivated" }}
                                        </span>
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any(),
            }})}
            </Suspense>
        </section>
    }
}

#[component]
fn CauseLine(row: CauseRow) -> impl IntoView {
    let peak = row.per_hour.iter().copied().max().unwrap_or(1).max(1);
    let bars = row
        .per_hour
        .iter()
        .map(|count| {
            // Bars of 2 to 24 pixels; an hour without failures stays flat.
            let height = if *count == 0 { 1 } else { 2 + count * 22 / peak };
            view! { <span class="w-1.5 bg-rose-400" style=format!("height: {height}px") title=format!("{count}")></span> }
        })
        .collect_view();
    view! {
        <tr>
            <td class="py-2">
                <a href=support_href(Some(&row.cause), None) class="cause-link font-semibold text-accent hover:text-accent-strong"
                    data-cause=row.cause.clone()>
                    {row.label}
                </a>
                <p class="text-xs text-slate-500">{row.hint}</p>
            </td>
            <td class="py-2 font-medium">{row.failures}</td>
            <td class="py-2">{row.tenants}</td>
            <td class="py-2">
                <span class="flex h-6 items-end gap-px" role="img" aria-label=format!("{} failures in the last 24 hours", row.failures)>{bars}</span>
            </td>
            <td class="py-2 text-slate-600">{row.latest}</td>
        </tr>
    }
}

#[component]
fn FailureList(rows: Vec<FailureRow>, cause: Option<String>) -> impl IntoView {
    view! {
        <section class=CARD aria-labelledby="failures-heading">
            <h2 id="failures-heading" class="text-lg font-semibold">"Failures"</h2>
            <div class="overflow-x-auto" tabindex="0"><table id="failures-table" class="mt-4 w-full table-fixed text-left text-sm">
                <thead class="border-b border-slate-200 text-slate-500">
                    <tr>
                        <th scope="col" class=format!("{TH} w-48")>"Time"</th>
                        <th scope="col" class=format!("{TH} w-28")>"Tenant"</th>
                        <th scope="col" class=TH>"Request"</th>
                        <th scope="col" class=format!("{TH} w-16")>"Status"</th>
                        <th scope="col" class=format!("{TH} w-28")><span class="sr-only">"Open"</span></th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {rows.into_iter().map(|row| {
                        let key = (row.tenant_id.clone(), row.seq);
                        view! {
                            <tr>
                                <td class="py-2 text-slate-600">{row.time}</td>
                                <td class="py-2">{row.tenant}</td>
                                <td class="truncate py-2 font-mono text-xs">{format!("{} {}", row.method, row.path)}</td>
                                <td class="py-2">{row.status}</td>
                                <td class="py-2 text-right">
                                    <a href=support_href(cause.as_deref(), Some(&key)) class="investigate font-semibold text-accent hover:text-accent-strong">
                                        "Investigate"
                                    </a>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table></div>
        </section>
    }
}

#[component]
fn FailureDetail(view: FailureView) -> impl IntoView {
    let pre = "mt-2 max-h-80 overflow-auto rounded-lg bg-slate-900 p-4 font-mono text-xs text-slate-100";
    view! {
        <section id="failure-detail" class=CARD aria-labelledby="failure-heading">
            <h2 id="failure-heading" class="text-lg font-semibold">
                {format!("{} {} → {}", view.row.method, view.row.path, view.row.status)}
            </h2>
            <p class="mt-1 text-sm text-slate-600">
                {format!("Tenant {}, directory {}, {}. Cause: {}.", view.row.tenant, view.row.directory, view.row.time, view.cause)}
            </p>
            <p id="fix-hint" class="mt-4 rounded-lg bg-amber-50 p-4 text-sm text-amber-900">{view.explanation}</p>
            {view.existing.map(|(href, name)| view! {
                <p id="existing-resource" class="mt-3 text-sm">
                    "It collided with "
                    <a href=href class="font-medium text-accent-strong hover:text-accent-strong">{name}</a>
                    ", which is already stored."
                </p>
            })}
            <p class="mt-3 flex flex-wrap gap-4 text-sm">
                <a href=format!("/tenants/{}", view.row.tenant) class="font-medium text-accent-strong hover:text-accent-strong">"The tenant"</a>
                {(!view.row.directory.is_empty()).then(|| view! {
                    <a href=crate::pages::resource::directory_pages(&view.row.tenant, &view.row.directory) class="font-medium text-accent-strong hover:text-accent-strong">"Its users and activity"</a>
                })}
                <a href=format!("/tenants/{}/audit", view.row.tenant) class="font-medium text-accent-strong hover:text-accent-strong">"Its audit trail"</a>
            </p>
            <div class="mt-4 grid gap-4 lg:grid-cols-2">
                <div>
                    <h3 class="text-sm font-semibold">"Request (secrets redacted)"</h3>
                    <pre id="failure-request" class=pre tabindex="0">{view.request}</pre>
                </div>
                <div>
                    <h3 class="text-sm font-semibold">"Response"</h3>
                    <pre id="failure-response" class=pre tabindex="0">{view.response}</pre>
                </div>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_investigation_has_its_own_address() {
        assert_eq!(support_href(None, None), "/support");
        assert_eq!(support_href(Some("not_found"), None), "/support?cause=not_found");
        let opened = ("0193-tenant".to_owned(), 42);
        assert_eq!(support_href(Some("not_found"), Some(&opened)), "/support?cause=not_found&failure=0193-tenant:42");
        assert_eq!(failure_in_address("0193-tenant:42"), Some(opened));
        assert_eq!(failure_in_address("0193-tenant"), None);
        assert_eq!(failure_in_address("t:x"), None);
    }
}
