//! `/admin/directories/{id}/brake`: the directory's safety brake. A tenant admin reviews a
//! batch of held changes (who, what, sent by which token) and releases it to the product or
//! discards it (the directory is put back as it was), sets the mass-deactivation threshold,
//! and marks the groups whose new members need review. The dashboard shows a banner while
//! changes are held.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{AdminTopBar, Badge, ErrorBox, SignedInAdmin, Skeleton, refusal_box, refusal_of};
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

/// Saves the threshold: `enabled` is `true` or `false` (a plain form's unticked box sends
/// nothing, which is `false`).
#[server(endpoint = "save_brake")]
pub async fn save_brake(
    directory: String,
    #[server(default)] enabled: String,
    percent: String,
    minimum: String,
) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let (store, tenant, now) = (admin.store(), admin.tenant(), admin.portal.now());
    let page = brake_page_address(&directory);
    let form = service::brake::SettingsForm { enabled: enabled == "true", percent: &percent, minimum: &minimum };
    let saved = match form.parse() {
        Ok(settings) => service::brake::set_settings(store, &admin.actor(), tenant, id, settings, now).await.map(drop),
        Err(error) => Err(error),
    };
    saved.map_err(brake_error).inspect_err(|error| {
        let typed = [("enabled", enabled.as_str()), ("percent", percent.as_str()), ("minimum", minimum.as_str())];
        crate::error::back_with_what_was_typed::<SaveBrake>(&page, &typed, error);
    })?;
    crate::error::after_plain_form_post_go_to(&format!("{page}?{SAVED}=threshold"));
    Ok(())
}

/// Marks a group privileged (`privileged` is `true`) or not.
#[server(endpoint = "set_privileged_group")]
pub async fn set_privileged_group(directory: String, group: String, privileged: String) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let (store, tenant, now) = (admin.store(), admin.tenant(), admin.portal.now());
    service::brake::set_privileged(store, &admin.actor(), tenant, id, &group, privileged == "true", now)
        .await
        .map_err(brake_error)?;
    crate::error::after_plain_form_post_go_to(&format!("{}?{SAVED}=privileged", brake_page_address(&directory)));
    Ok(())
}

/// Releases (`decision` is `release`) or discards (`discard`) a batch; answers what was
/// done, in words (a plain form comes back to the page with `?released=` or `?discarded=`
/// and the count, which the page says in the same words).
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
    let released = matches!(decision, Decision::Release);
    let outcome = if released { RELEASED } else { DISCARDED };
    crate::error::after_plain_form_post_go_to(&format!("{}?{outcome}={count}", brake_page_address(&directory)));
    Ok(decision_in_words(released, u64::try_from(count).unwrap_or(u64::MAX)))
}

/// What releasing (`released`) or discarding `count` held changes did, in words.
fn decision_in_words(released: bool, count: u64) -> String {
    if released {
        format!(
            "Released: {count} {} sent to the product, in the order they were made.",
            if count == 1 { "change was" } else { "changes were" }
        )
    } else {
        format!(
            "Discarded: {count} {} put back as {} before. Fix the scope in your identity provider; its next sync \
             sends what is real.",
            if count == 1 { "user or group was" } else { "users and groups were" },
            if count == 1 { "it was" } else { "they were" }
        )
    }
}

/// The brake page of a directory, where its plain forms come back.
fn brake_page_address(directory: &str) -> String {
    format!("/admin/directories/{directory}/brake")
}

/// Address parameters: what was just saved (`threshold` or `privileged`), how many changes
/// were released or discarded, and the decision being confirmed (`release` or `discard`).
const SAVED: &str = "saved";
const RELEASED: &str = "released";
const DISCARDED: &str = "discarded";
const DECIDE: &str = "decide";

/// `/admin/directories/{id}/brake`
#[component]
pub fn BrakePage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <BrakePageView admin/> }.into_any()/> }
}

/// Works whole without the bundle: rendered on the server, its settings plain forms, and
/// releasing or discarding asked first at an address of its own (`?decide=release`).
#[component]
fn BrakePageView(admin: AdminView) -> impl IntoView {
    let directory = directory_param();
    let page = Resource::new(directory, brake_page);
    let (saved, decided, deciding) = use_query_map().with_untracked(|query| {
        let count = |key: &str| query.get_str(key).and_then(|count| count.parse::<u64>().ok());
        let decided =
            count(RELEASED).map(|count| (true, count)).or_else(|| count(DISCARDED).map(|count| (false, count)));
        (query.get(SAVED), decided, query.get(DECIDE))
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
                {decided.map(|(released, count)| view! {
                    <p id="decision-outcome" class="rounded-lg border border-emerald-300 bg-emerald-50 p-3 text-sm text-emerald-800">{decision_in_words(released, count)}</p>
                })}
                {refusal_box::<DecideHeld>()}
            </div>
            <Suspense fallback=|| view! { <Skeleton lines=4/> }>
                {move || {
                    let (saved, deciding) = (saved.clone(), deciding.clone());
                    Suspend::new(async move {
                        match page.await {
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                            Ok(loaded) => view! { <BrakeSections directory=directory() page=loaded saved deciding/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </main>
    }
}

#[component]
fn BrakeSections(directory: String, page: BrakeView, saved: Option<String>, deciding: Option<String>) -> impl IntoView {
    view! {
        <HeldBatchSection directory=directory.clone() open=page.open.clone() changes=page.open_changes.clone() deciding/>
        <ThresholdSection directory=directory.clone() enabled=page.enabled percent=page.percent minimum=page.minimum window=page.window_minutes
            saved=saved.as_deref() == Some("threshold")/>
        <PrivilegedGroups directory=directory groups=page.groups.clone() saved=saved.as_deref() == Some("privileged")/>
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

/// The open batch; `deciding` (`release` or `discard`, from the address) asks to confirm.
#[component]
fn HeldBatchSection(
    directory: String,
    open: Option<BatchRow>,
    changes: Vec<HeldRow>,
    deciding: Option<String>,
) -> impl IntoView {
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
    let page = brake_page_address(&directory);
    let deciding = deciding.filter(|decision| matches!(decision.as_str(), "release" | "discard"));
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
            {match deciding {
                None => view! {
                    <div class="mt-6 flex flex-wrap items-center gap-3">
                        <a id="release-held" href=format!("{page}?{DECIDE}=release") rel="external" class=PRIMARY_BUTTON>{format!("Release {total} to the product…")}</a>
                        <a id="discard-held" href=format!("{page}?{DECIDE}=discard") rel="external" class=SECONDARY_BUTTON>"Discard and put the directory back…"</a>
                    </div>
                }.into_any(),
                Some(decision) => {
                    let question = if decision == "release" {
                        format!("Release all {total} changes? The product receives them in the order they were made and removes access where they say so.")
                    } else {
                        format!("Discard all {total} changes? The users and groups they touched are put back as they were before, and the product never receives them. Your identity provider still believes they were made: fix its scope, and its next sync sends what is real.")
                    };
                    view! {
                        <div id="confirm-decision" role="alertdialog" aria-labelledby="confirm-question" class="mt-4 rounded-lg border border-slate-300 bg-white p-4">
                            <p id="confirm-question" class="text-sm text-slate-900">{question}</p>
                            <form method="post" action=DecideHeld::url() class="mt-3 flex gap-3">
                                <input type="hidden" name="directory" value=directory/>
                                <input type="hidden" name="number" value=number.to_string()/>
                                <input type="hidden" name="decision" value=decision.clone()/>
                                <button id="confirm-held-decision" type="submit" class=PRIMARY_BUTTON>
                                    {if decision == "release" { "Yes, release them" } else { "Yes, discard them" }}
                                </button>
                                <a href=page rel="external" class=SECONDARY_BUTTON>"Cancel"</a>
                            </form>
                        </div>
                    }.into_any()
                }
            }}
        </section>
    }
    .into_any()
}

/// The mass-deactivation threshold, a plain form; a refusal comes back with what was typed.
#[component]
fn ThresholdSection(
    directory: String,
    enabled: bool,
    percent: i32,
    minimum: i32,
    window: i64,
    saved: bool,
) -> impl IntoView {
    let refused = refusal_of::<SaveBrake>();
    let (enabled, percent, minimum) = match &refused {
        Some(_) => use_query_map().with_untracked(|query| {
            (
                query.get_str("enabled") == Some("true"),
                query.get("percent").unwrap_or_default(),
                query.get("minimum").unwrap_or_default(),
            )
        }),
        None => (enabled, percent.to_string(), minimum.to_string()),
    };
    view! {
        <section class=CARD aria-labelledby="threshold-heading">
            <h2 id="threshold-heading" class="text-lg font-semibold">"Mass deactivations"</h2>
            <p class="mt-1 text-sm text-slate-600">
                {format!("Hold deactivations and deletions once more than this share of your active users, and at least this many, leave within {window} minutes.")}
            </p>
            <form id="brake-settings" method="post" action=SaveBrake::url() class="mt-4 grid gap-4 sm:grid-cols-3">
                <input type="hidden" name="directory" value=directory/>
                <div class="flex items-center gap-2 sm:col-span-3">
                    <input id="brake-enabled" name="enabled" value="true" type="checkbox" checked=enabled/>
                    <label for="brake-enabled" class="text-sm font-medium text-slate-700">"Hold mass deactivations for review"</label>
                </div>
                <div>
                    <label for="brake-percent" class="block text-sm font-medium text-slate-700">"Share of active users (%)"</label>
                    <input id="brake-percent" name="percent" type="text" inputmode="numeric" class=INPUT value=percent/>
                </div>
                <div>
                    <label for="brake-minimum" class="block text-sm font-medium text-slate-700">"At least (users)"</label>
                    <input id="brake-minimum" name="minimum" type="text" inputmode="numeric" class=INPUT value=minimum/>
                </div>
                <div class="flex items-end">
                    <button id="save-brake" type="submit" class=PRIMARY_BUTTON>"Save"</button>
                </div>
            </form>
            <div aria-live="polite" class="mt-3">
                {saved.then(|| view! { <p id="brake-saved" class="text-sm text-emerald-800">"Saved."</p> })}
                {refused.map(|error| view! { <ErrorBox message=error.to_string()/> })}
            </div>
        </section>
    }
}

/// The groups whose new members are held for review: each marked or unmarked by a plain
/// form of its own.
#[component]
fn PrivilegedGroups(directory: String, groups: Vec<GroupChoiceRow>, saved: bool) -> impl IntoView {
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
                    <ul id="privileged-groups" class="mt-4 divide-y divide-slate-100">
                        {groups.into_iter().map(|group| {
                            let label = if group.privileged { format!("Stop holding new members of {}", group.name) } else { format!("Hold new members of {}", group.name) };
                            view! {
                                <li class="flex flex-wrap items-center justify-between gap-2 py-2" data-group=group.name.clone() data-privileged=group.privileged.to_string()>
                                    <span class="flex items-center gap-2 text-sm text-slate-800">
                                        {group.name.clone()}
                                        {group.privileged.then(|| view! { <Badge tone="bad" text="Privileged".to_owned()/> })}
                                    </span>
                                    <form method="post" action=SetPrivilegedGroup::url()>
                                        <input type="hidden" name="directory" value=directory.clone()/>
                                        <input type="hidden" name="group" value=group.id.clone()/>
                                        <input type="hidden" name="privileged" value=(!group.privileged).to_string()/>
                                        <button id=format!("privileged-{}", group.id) type="submit" class=SECONDARY_BUTTON aria-label=label>
                                            {if group.privileged { "Unmark" } else { "Mark privileged" }}
                                        </button>
                                    </form>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <div aria-live="polite" class="mt-3">
                {saved.then(|| view! { <p id="privileged-saved" class="text-sm text-emerald-800">"Saved."</p> })}
                {refusal_box::<SetPrivilegedGroup>()}
            </div>
        </section>
    }
}

/// A banner on the dashboard while changes of the directory are held; nothing otherwise.
#[component]
pub fn HeldBanner(directory: String) -> impl IntoView {
    let link = format!("/admin/directories/{directory}/brake");
    let held = Resource::new(move || directory.clone(), held_changes_count);
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let link = link.clone();
                Suspend::new(async move {
                    held.await.ok().flatten().map(|changes| view! {
                        <div id="held-banner" role="status" class="rounded-xl border border-amber-300 bg-amber-50 p-4 text-sm text-amber-950">
                            <span class="font-semibold">{format!("{changes} {} held for your review. ", if changes == 1 { "change is" } else { "changes are" })}</span>
                            <A href=link attr:id="review-held" attr:class="font-semibold text-accent-strong underline">"Review them"</A>
                        </div>
                    })
                })
            }}
        </Suspense>
    }
}
