//! After setup: a directory's dashboard (sync health, users and groups with search and
//! paging, non-human identities with those whose owner is deactivated flagged) and its
//! tokens page (create, rotate with an overlap, revoke).

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::admin::{AdminTopBar, Badge, CARD, CopyField, INPUT, SECONDARY_BUTTON, SignedInAdmin};
use crate::auth::AdminView;
use crate::error::PortalError;
use crate::onboarding::{
    CreateDirectoryToken, DASHBOARD_PAGE, IssuedTokenView, RevokeDirectoryToken, RotateToken, directory_dashboard,
    directory_resources, list_tokens,
};
use crate::pages::{ErrorBox, PRIMARY_BUTTON};

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

fn directory_param() -> impl Fn() -> String + Copy {
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
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-6 py-10">
            {move || {
                let Some(loaded) = summary.get() else { return view! { <p class="text-sm text-slate-500">"Loading…"</p> }.into_any(); };
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
                                        <A href=format!("/admin/directories/{}/tokens", directory()) attr:id="manage-tokens" attr:class=SECONDARY_BUTTON>"Tokens"</A>
                                        {(!summary.completed).then(|| view! {
                                            <A href=format!("/admin/directories/{}/setup/test", directory()) attr:class=PRIMARY_BUTTON>"Finish setup"</A>
                                        })}
                                    </div>
                                </div>
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
                let Some(loaded) = rows.get() else { return view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }.into_any(); };
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
                let Some(loaded) = rows.get() else { return view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }.into_any(); };
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

/// `/admin/directories/{id}/tokens`: the directory's tokens.
#[component]
pub fn TokensPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <TokensView admin/> }.into_any()/> }
}

#[component]
fn TokensView(admin: AdminView) -> impl IntoView {
    let directory = directory_param();
    let create = ServerAction::<CreateDirectoryToken>::new();
    let rotate = ServerAction::<RotateToken>::new();
    let revoke = ServerAction::<RevokeDirectoryToken>::new();
    let tokens = LocalResource::new(move || {
        create.version().track();
        rotate.version().track();
        revoke.version().track();
        list_tokens(directory())
    });
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-6 py-10">
            <div>
                <A href=format!("/admin/directories/{}", directory()) attr:class="text-sm font-medium text-indigo-600 hover:text-indigo-500">"← Dashboard"</A>
                <h1 class="mt-2 text-2xl font-bold tracking-tight">"Tokens"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Rotate a token with an overlap: both tokens work until the overlap ends, so you can paste the new one into the identity provider without a failed sync."
                </p>
            </div>
            <section class=CARD aria-labelledby="new-token-heading">
                <h2 id="new-token-heading" class="text-lg font-semibold">"New token"</h2>
                <ActionForm action=create attr:class="mt-4 flex flex-wrap items-end gap-4">
                    <input type="hidden" name="directory" value=directory()/>
                    <div>
                        <label for="token-label" class="block text-sm font-medium text-slate-700">"Name"</label>
                        <input id="token-label" name="label" required placeholder="Okta production" class=INPUT/>
                    </div>
                    <div>
                        <label for="token-valid-days" class="block text-sm font-medium text-slate-700">"Expires"</label>
                        <select id="token-valid-days" name="valid_days" class=INPUT>
                            <option value="0">"Never"</option>
                            <option value="90" selected>"In 90 days"</option>
                            <option value="365">"In a year"</option>
                        </select>
                    </div>
                    <button id="create-token" type="submit" class=PRIMARY_BUTTON>"Create token"</button>
                </ActionForm>
                <IssuedPanel outcome=Signal::derive(move || create.value().get())/>
            </section>
            <section class=CARD aria-labelledby="tokens-heading">
                <h2 id="tokens-heading" class="text-lg font-semibold">"All tokens"</h2>
                <IssuedPanel outcome=Signal::derive(move || rotate.value().get())/>
                {move || revoke.value().get().and_then(Result::err).map(|error| view! { <ErrorBox message=error.to_string()/> })}
                {move || {
                    let Some(loaded) = tokens.get() else { return view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }.into_any(); };
                    match loaded {
                            Ok(tokens) => view! {
                                <table id="token-table" class="mt-4 w-full text-left text-sm">
                                    <thead class="border-b border-slate-200 text-slate-500">
                                        <tr>
                                            <th scope="col" class="py-2 font-medium">"Name"</th>
                                            <th scope="col" class="py-2 font-medium">"Status"</th>
                                            <th scope="col" class="py-2 font-medium">"Last used"</th>
                                            <th scope="col" class="py-2 font-medium">"Expires"</th>
                                            <th scope="col" class="py-2 font-medium"><span class="sr-only">"Actions"</span></th>
                                        </tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100">
                                        {tokens.into_iter().map(|token| {
                                            let tone = match token.status.as_str() { "active" => "good", "expiring" => "warn", "revoked" | "expired" => "bad", _ => "neutral" };
                                            let usable = token.status == "active" || token.status == "expiring";
                                            let (rotate_id, revoke_id) = (token.id.clone(), token.id.clone());
                                            let overlap_id = format!("overlap-{}", token.id);
                                            let status = match token.status.as_str() { "expiring" => "Expires soon".to_owned(), other => sentence_case(other) };
                                            view! {
                                                <tr class="align-top" data-token=token.id>
                                                    <td class="py-2 font-medium">{token.label}<p class="text-xs font-normal text-slate-500">{format!("Created {}", token.created)}</p></td>
                                                    <td class="py-2"><Badge tone text=status/></td>
                                                    <td class="py-2 text-slate-600">{token.last_used}</td>
                                                    <td class="py-2 text-slate-600">{token.expires}</td>
                                                    <td class="py-2">
                                                        {usable.then(|| view! {
                                                            <div class="flex flex-wrap justify-end gap-2">
                                                                <ActionForm action=rotate attr:class="flex items-center gap-2">
                                                                    <input type="hidden" name="directory" value=directory()/>
                                                                    <input type="hidden" name="token" value=rotate_id/>
                                                                    <label class="sr-only" for=overlap_id.clone()>"Overlap"</label>
                                                                    <select id=overlap_id name="overlap_minutes" class="rounded-lg border border-slate-300 px-2 py-1 text-xs">
                                                                        <option value="60">"1 hour overlap"</option>
                                                                        <option value="1440" selected>"1 day overlap"</option>
                                                                        <option value="10080">"7 days overlap"</option>
                                                                        <option value="0">"No overlap"</option>
                                                                    </select>
                                                                    <button type="submit" class="rotate-token text-xs font-semibold text-indigo-600 hover:text-indigo-500">"Rotate"</button>
                                                                </ActionForm>
                                                                <ActionForm action=revoke>
                                                                    <input type="hidden" name="directory" value=directory()/>
                                                                    <input type="hidden" name="token" value=revoke_id/>
                                                                    <button type="submit" class="revoke-token text-xs font-semibold text-red-700 hover:text-red-600">"Revoke"</button>
                                                                </ActionForm>
                                                            </div>
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any(),
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                }}
            </section>
        </main>
    }
}

fn sentence_case(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[component]
fn IssuedPanel(outcome: Signal<Option<Result<IssuedTokenView, PortalError>>>) -> impl IntoView {
    view! {
        <div class="mt-4" aria-live="polite">
            {move || match outcome.get() {
                Some(Ok(issued)) => view! {
                    <div class="space-y-2 rounded-lg border border-emerald-200 bg-emerald-50 p-4">
                        <CopyField id="issued-token" label="New token" value=issued.token/>
                        <p class="text-sm text-emerald-900">{format!("Shown only now. Expires: {}.", issued.expires)}</p>
                        {issued.old_token_until.map(|until| view! {
                            <p id="old-token-until" class="text-sm text-emerald-900">{format!("The replaced token keeps working until {until}.")}</p>
                        })}
                    </div>
                }.into_any(),
                Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                None => ().into_any(),
            }}
        </div>
    }
}
