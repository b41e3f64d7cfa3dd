//! A tenant's setup links (on the operator's tenant page and the admin's home): who made
//! each, when it expires, whether it was used; an open one is withdrawn after a
//! confirmation, and then opens nothing.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::{use_location, use_query_map};
use serde::{Deserialize, Serialize};

use crate::components::style::{CARD, DANGER_BUTTON, SECONDARY_BUTTON};
use crate::components::{Badge, ErrorBox, Skeleton, refusal_of};
use crate::error::PortalError;

/// A setup link as the panel shows it (the secret is never stored, so never shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupLinkRow {
    pub id: String,
    pub made_by: String,
    pub created: String,
    pub expires: String,
    /// `open`, `used`, `expired` or `revoked`.
    pub state: String,
    /// When it was used or withdrawn.
    pub settled: Option<String>,
    /// The email of the admin who made their account with it.
    pub used_by: Option<String>,
    /// The address it was emailed to.
    pub sent_to: Option<String>,
}

/// `tenant`: the slug for an operator, empty for the tenant's admin.
#[server(endpoint = "list_setup_links")]
pub async fn list_setup_links(tenant: String) -> Result<Vec<SetupLinkRow>, PortalError> {
    use crate::portal::date_time;
    let reach = crate::pages::people::tenant_reach(&tenant, false).await?;
    let links = service::admins::setup_links(&reach.store, reach.tenant, reach.effects.now()).await?;
    Ok(links
        .into_iter()
        .map(|link| SetupLinkRow {
            id: link.id.to_string(),
            made_by: link.made_by,
            created: date_time(Some(link.created_at)),
            expires: date_time(Some(link.expires_at)),
            state: link.state.as_str().to_owned(),
            settled: link.used_at.or(link.revoked_at).map(|at| date_time(Some(at))),
            used_by: link.used_by,
            sent_to: link.sent_to,
        })
        .collect())
}

#[server(endpoint = "revoke_setup_link")]
pub async fn revoke_setup_link(tenant: String, link: String) -> Result<(), PortalError> {
    let reach = crate::pages::people::tenant_reach(&tenant, true).await?;
    let no_such_link = || PortalError::NotFound("There is no such setup link.".to_owned());
    let link = link.parse().map_err(|_| no_such_link())?;
    let now = reach.effects.now();
    service::admins::revoke_setup_link(&reach.store, &reach.actor, reach.tenant, link, now).await?;
    crate::error::after_plain_form_post_go_back_to_page();
    Ok(())
}

/// The panel; nothing when the tenant has no setup link. `changed` is bumped by whoever
/// makes links on the same page. It works whole without the bundle: the list is rendered
/// on the server, and withdrawing asks at an address of its own (`?withdraw_link=<id>` on
/// the page the panel is on) and posts a plain form.
#[component]
pub fn SetupLinksPanel(
    tenant: String,
    may_change: bool,
    #[prop(optional)] changed: Option<RwSignal<usize>>,
) -> impl IntoView {
    let location = use_location();
    let page = location.pathname.get_untracked();
    let withdrawing = use_query_map().with_untracked(|query| query.get("withdraw_link"));
    let links = Resource::new(move || changed.map(|changed| changed.get()), {
        let tenant = tenant.clone();
        move |_| list_setup_links(tenant.clone())
    });
    view! {
        <Suspense fallback=|| view! { <Skeleton lines=2/> }>
            {move || {
                let (tenant, page, withdrawing) = (tenant.clone(), page.clone(), withdrawing.clone());
                Suspend::new(async move {
                    match links.await {
                        Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        Ok(rows) if rows.is_empty() => ().into_any(),
                        Ok(rows) => {
                            let asked = withdrawing
                                .filter(|_| may_change)
                                .and_then(|id| rows.iter().find(|row| row.id == id && row.state == "open").cloned());
                            view! {
                                <section class=CARD aria-labelledby="setup-links-heading">
                                    <h2 id="setup-links-heading" class="text-lg font-semibold">"Setup links"</h2>
                                    <p class="mt-1 text-sm text-slate-600">"Each works once. Withdraw one that was sent to the wrong person or is no longer needed."</p>
                                    {refusal_of::<RevokeSetupLink>().map(|error| view! { <div id="setup-link-error" class="mt-3"><ErrorBox message=error.to_string()/></div> })}
                                    {asked.map(|row| view! { <WithdrawConfirmation tenant page=page.clone() made=made_by(&row) id=row.id/> })}
                                    <LinkList rows may_change page/>
                                </section>
                            }.into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

/// Who made a link and when, and where it was emailed.
fn made_by(row: &SetupLinkRow) -> String {
    match &row.sent_to {
        Some(to) => format!("by {} on {}, emailed to {to}", row.made_by, row.created),
        None => format!("by {} on {}", row.made_by, row.created),
    }
}

#[component]
fn LinkList(rows: Vec<SetupLinkRow>, may_change: bool, page: String) -> impl IntoView {
    view! {
        <ul id="setup-link-list" class="mt-4 divide-y divide-slate-100 text-sm">
            {rows.into_iter().map(|row| {
                let (tone, label) = match row.state.as_str() {
                    "open" => ("good", "Open"),
                    "used" => ("neutral", "Used"),
                    "expired" => ("warn", "Expired"),
                    _ => ("bad", "Withdrawn"),
                };
                let made = made_by(&row);
                let detail = match (row.state.as_str(), row.settled) {
                    ("used", Some(at)) => match &row.used_by {
                        Some(admin) => format!("Made {made}; used by {admin} on {at}"),
                        None => format!("Made {made}; used {at}"),
                    },
                    ("revoked", Some(at)) => format!("Made {made}; withdrawn {at}"),
                    _ => format!("Made {made}; expires {}", row.expires),
                };
                let open = may_change && row.state == "open";
                let ask = format!("{page}?withdraw_link={}#revoke-setup-link-confirmation", row.id);
                view! {
                    <li class="flex flex-wrap items-center justify-between gap-3 py-2" data-setup-link=row.id>
                        <p class="text-slate-700">{detail}</p>
                        <div class="flex items-center gap-3">
                            <Badge tone text=label.to_owned()/>
                            {open.then(|| view! {
                                <a href=ask rel="external" class="revoke-setup-link text-xs font-semibold text-red-700 hover:text-red-600">"Withdraw"</a>
                            })}
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// Asks before an open link is withdrawn.
#[component]
fn WithdrawConfirmation(tenant: String, page: String, made: String, id: String) -> impl IntoView {
    view! {
        <div id="revoke-setup-link-confirmation" role="alertdialog" aria-labelledby="revoke-setup-link-question"
            class="mt-4 rounded-lg border border-red-200 bg-red-50 p-4">
            <p id="revoke-setup-link-question" class="text-sm font-semibold text-red-900">
                {format!("Withdraw the setup link made {made}? Whoever has it can no longer use it.")}
            </p>
            <form method="post" action=RevokeSetupLink::url() class="mt-3 flex flex-wrap items-center gap-3">
                <input type="hidden" name="tenant" value=tenant/>
                <input type="hidden" name="link" value=id/>
                <button id="confirm-revoke-setup-link" type="submit" class=DANGER_BUTTON>"Withdraw it"</button>
                <a id="cancel-revoke-setup-link" href=page rel="external" class=SECONDARY_BUTTON>"Keep it"</a>
            </form>
        </div>
    }
}
