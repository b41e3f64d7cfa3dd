//! `/admin/directories/{id}/brake`: the directory's safety brake. A tenant admin reviews a
//! batch of held changes (who, what, sent by which token) and releases it to the product or
//! discards it (the directory is put back as it was), sets the mass-deactivation threshold,
//! and marks the groups whose new members need review. The dashboard shows a banner while
//! changes are held.

use leptos::prelude::*;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{AdminTopBar, ErrorBox, SignedInAdmin, Skeleton};
use crate::error::PortalError;
use crate::pages::dashboard::directory_param;
#[cfg(feature = "ssr")]
use crate::portal::Admin;

/// The page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrakeView {
    pub enabled: bool,
    pub percent: i32,
    pub minimum: i32,
    /// The window mass deactivations are counted in, in minutes.
    pub window_minutes: i64,
    pub groups: Vec<GroupChoiceRow>,
    /// The open batch, if changes are held.
    pub open: Option<BatchRow>,
    /// Its changes (the first 500), in the order they were made.
    pub open_changes: Vec<HeldRow>,
    /// Batches decided before, newest first.
    pub past: Vec<BatchRow>,
}

/// A group the admin can mark privileged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupChoiceRow {
    pub id: String,
    pub name: String,
    pub privileged: bool,
}

/// A batch of held changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRow {
    pub number: i64,
    /// Why it was held, in words.
    pub reason: String,
    pub opened: String,
    pub changes: i64,
    pub revocations: i64,
    /// `open`, `released` or `discarded`.
    pub state: String,
    /// "Released by … on …" once decided.
    pub decided: String,
}

/// One held change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRow {
    pub kind: String,
    pub when: String,
    pub summary: String,
    pub by: String,
}

#[cfg(feature = "ssr")]
fn batch_row(batch: &service::brake::HeldBatch) -> BatchRow {
    use crate::portal::date_time;
    let reason = match batch.reason {
        service::brake::HoldReason::MassRevocation => format!(
            "More users were deactivated or deleted within {} minutes than the threshold allows.",
            service::brake::BRAKE_WINDOW_MINUTES
        ),
        service::brake::HoldReason::PrivilegedGroup => "Members were added to a privileged group.".to_owned(),
    };
    let decided = match (batch.state.as_str(), &batch.decided_by) {
        ("released", Some(by)) => format!("Released by {by} on {}", date_time(batch.decided_at)),
        ("discarded", Some(by)) => format!("Discarded by {by} on {}", date_time(batch.decided_at)),
        _ => String::new(),
    };
    BatchRow {
        number: batch.number,
        reason,
        opened: date_time(Some(batch.opened_at)),
        changes: batch.changes,
        revocations: batch.revocations,
        state: batch.state.clone(),
        decided,
    }
}

/// The directory's brake: settings, groups, the open batch and its changes, past batches.
#[server(endpoint = "brake_page")]
pub async fn brake_page(directory: String) -> Result<BrakeView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let overview = service::brake::overview(admin.store(), admin.tenant(), id)
        .await?
        .ok_or_else(PortalError::no_such_directory)?;
    let open = overview.batches.iter().find(|batch| batch.state == "open").map(batch_row);
    let past = overview.batches.iter().filter(|batch| batch.state != "open").map(batch_row).collect();
    Ok(BrakeView {
        enabled: overview.settings.enabled,
        percent: overview.settings.percent,
        minimum: overview.settings.minimum,
        window_minutes: service::brake::BRAKE_WINDOW_MINUTES,
        groups: overview
            .groups
            .into_iter()
            .map(|group| GroupChoiceRow { id: group.id, name: group.name, privileged: group.privileged })
            .collect(),
        open,
        open_changes: overview
            .open_changes
            .into_iter()
            .map(|held| HeldRow {
                kind: held.change.kind.clone(),
                when: crate::portal::date_time(Some(held.change.occurred_at)),
                summary: held.summary,
                by: held.by,
            })
            .collect(),
        past,
    })
}

#[cfg(feature = "ssr")]
fn brake_error(error: service::brake::BrakeError) -> PortalError {
    use service::brake::BrakeError;
    match error {
        BrakeError::NoSuchDirectory => PortalError::no_such_directory(),
        BrakeError::Service(error) => error.into(),
        error @ (BrakeError::NotOpen | BrakeError::Conflict(_)) => {
            PortalError::Conflict(service::sentence(&error.to_string()))
        }
        error => PortalError::Invalid(service::sentence(&error.to_string())),
    }
}

/// How many changes of the directory are held, if a batch is open (the dashboard's banner).
#[server(endpoint = "held_changes_count")]
pub async fn held_changes_count(directory: String) -> Result<Option<i64>, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let open = service::brake::open_batch(admin.store(), admin.tenant(), id).await?;
    Ok(open.map(|batch| batch.changes))
}

/// Saves the threshold: `enabled` is `true` or `false`.
#[server(endpoint = "save_brake")]
pub async fn save_brake(
    directory: String,
    enabled: String,
    percent: String,
    minimum: String,
) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let (store, tenant, now) = (admin.store(), admin.tenant(), admin.portal.now());
    let form = service::brake::SettingsForm { enabled: enabled == "true", percent: &percent, minimum: &minimum };
    let settings = form.parse().map_err(brake_error)?;
    service::brake::set_settings(store, &admin.actor(), tenant, id, settings, now).await.map(drop).map_err(brake_error)
}

/// Marks a group privileged (`privileged` is `true`) or not.
#[server(endpoint = "set_privileged_group")]
pub async fn set_privileged_group(directory: String, group: String, privileged: String) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let (store, tenant, now) = (admin.store(), admin.tenant(), admin.portal.now());
    service::brake::set_privileged(store, &admin.actor(), tenant, id, &group, privileged == "true", now)
        .await
        .map_err(brake_error)
}

/// Releases (`decision` is `release`) or discards (`discard`) a batch; answers what was
/// done, in words.
#[server(endpoint = "decide_held")]
pub async fn decide_held(directory: String, number: i64, decision: String) -> Result<String, PortalError> {
    use service::brake::Decision;
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let decision = match decision.as_str() {
        "release" => Decision::Release,
        "discard" => Decision::Discard,
        _ => return Err(PortalError::Invalid("Choose to release or to discard the held changes.".to_owned())),
    };
    let (store, tenant, now) = (admin.store(), admin.tenant(), admin.portal.now());
    let count =
        service::brake::decide(store, &admin.actor(), tenant, id, number, decision, now).await.map_err(brake_error)?;
    Ok(match decision {
        Decision::Release => format!(
            "Released: {count} {} sent to the product, in the order they were made.",
            if count == 1 { "change was" } else { "changes were" }
        ),
        Decision::Discard => format!(
            "Discarded: {count} {} put back as {} before. Fix the scope in your identity provider; its next sync \
             sends what is real.",
            if count == 1 { "user or group was" } else { "users and groups were" },
            if count == 1 { "it was" } else { "they were" }
        ),
    })
}

/// `/admin/directories/{id}/brake`
#[component]
pub fn BrakePage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <BrakePageView admin/> }.into_any()/> }
}

#[component]
fn BrakePageView(admin: AdminView) -> impl IntoView {
    let directory = directory_param();
    let reload = RwSignal::new(0_u32);
    // Loaded in the browser: held changes come and go between two reads.
    let page = LocalResource::new(move || {
        reload.track();
        brake_page(directory())
    });
    // Owned here, not by the batch's section, which the reload after a decision replaces.
    let decide: DecideAction = Action::new(|(directory, number, decision): &(String, i64, String)| {
        decide_held(directory.clone(), *number, decision.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = decide.value().get() {
            reload.update(|n| *n = n.wrapping_add(1));
        }
    });
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <div>
                <A href=format!("/admin/directories/{}", directory()) attr:class="text-sm font-medium text-accent hover:text-accent-strong">"← Dashboard"</A>
                <h1 class="mt-2 text-2xl font-bold tracking-tight">"Safety brake"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "When your identity provider deactivates or deletes many users at once, or adds someone to a privileged group, the changes are kept here until you review them. Your identity provider sees them done; the product receives them only when you release them."
                </p>
            </div>
            <div aria-live="polite">
                {move || match decide.value().get() {
                    Some(Ok(message)) => view! { <p id="decision-outcome" class="rounded-lg border border-emerald-300 bg-emerald-50 p-3 text-sm text-emerald-800">{message}</p> }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
            {move || match page.get() {
                None => view! { <Skeleton lines=4/> }.into_any(),
                Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                Some(Ok(loaded)) => view! { <BrakeSections directory=directory() page=loaded decide/> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn BrakeSections(directory: String, page: BrakeView, decide: DecideAction) -> impl IntoView {
    view! {
        <HeldBatchSection directory=directory.clone() open=page.open.clone() changes=page.open_changes.clone() decide/>
        <ThresholdSection directory=directory.clone() enabled=page.enabled percent=page.percent minimum=page.minimum window=page.window_minutes/>
        <PrivilegedGroups directory=directory groups=page.groups.clone()/>
        {(!page.past.is_empty()).then(|| view! {
            <section class=CARD aria-labelledby="past-batches-heading">
                <h2 id="past-batches-heading" class="text-lg font-semibold">"Earlier reviews"</h2>
                <ul id="past-batches" class="mt-4 space-y-2 text-sm">
                    {page.past.into_iter().map(|batch| view! {
                        <li data-state=batch.state>
                            <span class="font-medium">{format!("{} {} held on {}", batch.changes, if batch.changes == 1 { "change" } else { "changes" }, batch.opened)}</span>
                            " — " {batch.decided}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
    }
}

/// Releasing or discarding a batch: (directory, batch number, `release` or `discard`).
type DecideAction = Action<(String, i64, String), Result<String, PortalError>>;

#[component]
fn HeldBatchSection(
    directory: String,
    open: Option<BatchRow>,
    changes: Vec<HeldRow>,
    decide: DecideAction,
) -> impl IntoView {
    let asking = RwSignal::new(None::<&'static str>);
    let Some(batch) = open else {
        return view! {
            <section class=CARD aria-labelledby="held-heading">
                <h2 id="held-heading" class="text-lg font-semibold">"Held changes"</h2>
                <p id="nothing-held" class="mt-2 text-sm text-slate-600">"Nothing is held: every change has reached the product."</p>
            </section>
        }
        .into_any();
    };
    let total = batch.changes;
    let shown = changes.len();
    let number = batch.number;
    let pending = decide.pending();
    let confirm_directory = directory;
    view! {
        <section id="held-batch" class="rounded-xl border border-amber-300 bg-amber-50 p-6" aria-labelledby="held-heading">
            <h2 id="held-heading" class="text-lg font-semibold text-amber-950">
                {format!("{total} {} held for review", if total == 1 { "change" } else { "changes" })}
            </h2>
            <p class="mt-1 text-sm text-amber-950">{batch.reason.clone()}
                {format!(" Held since {}; {} of the changes deactivate or delete users.", batch.opened, batch.revocations)}</p>
            <div class="mt-4 overflow-x-auto rounded-lg bg-white" tabindex="0">
                <table id="held-changes" class="w-full text-left text-sm">
                    <caption class="sr-only">"The held changes, in the order they were made"</caption>
                    <thead class="border-b border-slate-200 text-slate-600">
                        <tr>
                            <th scope="col" class="px-3 py-2 font-medium">"When"</th>
                            <th scope="col" class="px-3 py-2 font-medium">"Change"</th>
                            <th scope="col" class="px-3 py-2 font-medium">"Sent by"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100">
                        {changes.into_iter().map(|row| view! {
                            <tr data-kind=row.kind>
                                <td class="whitespace-nowrap px-3 py-2 text-slate-600">{row.when}</td>
                                <td class="px-3 py-2">{row.summary}</td>
                                <td class="px-3 py-2 text-slate-600">{row.by}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {(i64::try_from(shown).unwrap_or(i64::MAX) < total).then(|| view! {
                <p class="mt-2 text-sm text-amber-950">{format!("The first {shown} of {total} are shown; a decision applies to all of them.")}</p>
            })}
            <div class="mt-6 flex flex-wrap items-center gap-3">
                <button id="release-held" type="button" class=PRIMARY_BUTTON disabled=move || pending.get()
                    on:click=move |_| asking.set(Some("release"))>{format!("Release {total} to the product…")}</button>
                <button id="discard-held" type="button" class=SECONDARY_BUTTON disabled=move || pending.get()
                    on:click=move |_| asking.set(Some("discard"))>"Discard and put the directory back…"</button>
            </div>
            {move || asking.get().map(|decision| {
                let directory = confirm_directory.clone();
                let question = if decision == "release" {
                    format!("Release all {total} changes? The product receives them in the order they were made and removes access where they say so.")
                } else {
                    format!("Discard all {total} changes? The users and groups they touched are put back as they were before, and the product never receives them. Your identity provider still believes they were made: fix its scope, and its next sync sends what is real.")
                };
                view! {
                    <div id="confirm-decision" role="alertdialog" aria-labelledby="confirm-question" class="mt-4 rounded-lg border border-slate-300 bg-white p-4">
                        <p id="confirm-question" class="text-sm text-slate-900">{question}</p>
                        <div class="mt-3 flex gap-3">
                            <button id="confirm-held-decision" type="button" class=PRIMARY_BUTTON disabled=move || pending.get()
                                on:click=move |_| { decide.dispatch((directory.clone(), number, decision.to_owned())); }>
                                {if decision == "release" { "Yes, release them" } else { "Yes, discard them" }}
                            </button>
                            <button type="button" class=SECONDARY_BUTTON on:click=move |_| asking.set(None)>"Cancel"</button>
                        </div>
                    </div>
                }
            })}
        </section>
    }
    .into_any()
}

#[component]
fn ThresholdSection(directory: String, enabled: bool, percent: i32, minimum: i32, window: i64) -> impl IntoView {
    let enabled = RwSignal::new(enabled);
    let percent = RwSignal::new(percent.to_string());
    let minimum = RwSignal::new(minimum.to_string());
    let save = Action::new(|(directory, enabled, percent, minimum): &(String, bool, String, String)| {
        save_brake(directory.clone(), enabled.to_string(), percent.clone(), minimum.clone())
    });
    let pending = save.pending();
    view! {
        <section class=CARD aria-labelledby="threshold-heading">
            <h2 id="threshold-heading" class="text-lg font-semibold">"Mass deactivations"</h2>
            <p class="mt-1 text-sm text-slate-600">
                {format!("Hold deactivations and deletions once more than this share of your active users, and at least this many, leave within {window} minutes.")}
            </p>
            <form id="brake-settings" class="mt-4 grid gap-4 sm:grid-cols-3" on:submit=move |event| {
                event.prevent_default();
                save.dispatch((directory.clone(), enabled.get_untracked(), percent.get_untracked(), minimum.get_untracked()));
            }>
                <div class="flex items-center gap-2 sm:col-span-3">
                    <input id="brake-enabled" type="checkbox" prop:checked=move || enabled.get()
                        on:change=move |event| enabled.set(event_target_checked(&event))/>
                    <label for="brake-enabled" class="text-sm font-medium text-slate-700">"Hold mass deactivations for review"</label>
                </div>
                <div>
                    <label for="brake-percent" class="block text-sm font-medium text-slate-700">"Share of active users (%)"</label>
                    <input id="brake-percent" type="text" inputmode="numeric" class=INPUT prop:value=move || percent.get()
                        on:input=move |event| percent.set(event_target_value(&event))/>
                </div>
                <div>
                    <label for="brake-minimum" class="block text-sm font-medium text-slate-700">"At least (users)"</label>
                    <input id="brake-minimum" type="text" inputmode="numeric" class=INPUT prop:value=move || minimum.get()
                        on:input=move |event| minimum.set(event_target_value(&event))/>
                </div>
                <div class="flex items-end">
                    <button id="save-brake" type="submit" class=PRIMARY_BUTTON disabled=move || pending.get()>"Save"</button>
                </div>
            </form>
            <div aria-live="polite" class="mt-3">
                {move || match save.value().get() {
                    Some(Ok(())) => view! { <p id="brake-saved" class="text-sm text-emerald-800">"Saved."</p> }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
        </section>
    }
}

#[component]
fn PrivilegedGroups(directory: String, groups: Vec<GroupChoiceRow>) -> impl IntoView {
    let mark = Action::new(|(directory, group, on): &(String, String, bool)| {
        set_privileged_group(directory.clone(), group.clone(), on.to_string())
    });
    view! {
        <section class=CARD aria-labelledby="privileged-heading">
            <h2 id="privileged-heading" class="text-lg font-semibold">"Privileged groups"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Anyone your identity provider adds to a privileged group is held for your review before the product grants what the group gives."
            </p>
            {if groups.is_empty() {
                view! { <p id="no-groups" class="mt-4 text-sm text-slate-600">"Your identity provider has sent no groups yet."</p> }.into_any()
            } else {
                view! {
                    <ul id="privileged-groups" class="mt-4 grid gap-2 sm:grid-cols-2">
                        {groups.into_iter().map(|group| {
                            let directory = directory.clone();
                            let id = format!("privileged-{}", group.id);
                            let group_id = group.id.clone();
                            let name = group.name.clone();
                            view! {
                                <li class="flex items-center gap-2" data-group=name>
                                    <input id=id.clone() type="checkbox" prop:checked=group.privileged
                                        on:change=move |event| { mark.dispatch((directory.clone(), group_id.clone(), event_target_checked(&event))); }/>
                                    <label for=id class="text-sm text-slate-800">{group.name}</label>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <div aria-live="polite" class="mt-3">
                {move || match mark.value().get() {
                    Some(Ok(())) => view! { <p id="privileged-saved" class="text-sm text-emerald-800">"Saved."</p> }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
        </section>
    }
}

/// A banner on the dashboard while changes of the directory are held; nothing otherwise.
#[component]
pub fn HeldBanner(directory: String) -> impl IntoView {
    let link = format!("/admin/directories/{directory}/brake");
    let held = LocalResource::new(move || held_changes_count(directory.clone()));
    move || {
        held.get().and_then(Result::ok).flatten().map(|changes| {
            view! {
                <div id="held-banner" role="status" class="rounded-xl border border-amber-300 bg-amber-50 p-4 text-sm text-amber-950">
                    <span class="font-semibold">{format!("{changes} {} held for your review. ", if changes == 1 { "change is" } else { "changes are" })}</span>
                    <A href=link.clone() attr:id="review-held" attr:class="font-semibold text-accent-strong underline">"Review them"</A>
                </div>
            }
        })
    }
}
