//! `/admin/directories/{id}/roles`: a tenant admin grants the operator's roles to the
//! directory's identity provider groups, sees how many users get each role before saving,
//! and after saving watches the re-derivation of the directory's users. The grant editor
//! is also the wizard's roles step; the progress panel also follows a mapping change.

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::style::{CARD, PRIMARY_BUTTON};
use crate::components::{AdminTopBar, ErrorBox, SignedInAdmin, Skeleton};
use crate::error::PortalError;
use crate::pages::dashboard::directory_param;
#[cfg(feature = "ssr")]
use crate::portal::Admin;

/// A grant: the members of group `group_id` get role `role` (a slug).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    pub group_id: String,
    pub role: String,
}

/// The page's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRolesView {
    pub roles: Vec<RoleChoice>,
    pub groups: Vec<GroupRow>,
    /// Users per role (slug, name, users), in precedence order.
    pub preview: Vec<(String, String, usize)>,
    pub without_role: usize,
    pub progress: Option<ProgressView>,
}

/// A role the admin can grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChoice {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub is_default: bool,
}

/// A group of the directory and the roles it grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub members: usize,
    pub roles: Vec<String>,
}

/// Where the re-derivation of the directory's users stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressView {
    /// What asked for it: `attribute mapping`, `group roles`…
    pub reason: String,
    pub total: Option<i64>,
    pub done: i64,
    pub changed: i64,
    pub finished: bool,
}

#[cfg(feature = "ssr")]
mod server {
    use super::{Grant, GroupRolesView, GroupRow, ProgressView, RoleChoice};
    use service::directory_sync::roles::{GroupRolesPage, RepublishProgress};

    pub(super) fn pairs(grants: Vec<Grant>) -> Vec<(String, String)> {
        grants.into_iter().map(|grant| (grant.group_id, grant.role)).collect()
    }

    pub(super) fn progress(progress: RepublishProgress) -> ProgressView {
        ProgressView {
            reason: progress.reason,
            total: progress.total,
            done: progress.done,
            changed: progress.changed,
            finished: progress.finished,
        }
    }

    pub(super) fn page(page: GroupRolesPage) -> GroupRolesView {
        GroupRolesView {
            roles: page
                .roles
                .into_iter()
                .map(|role| RoleChoice {
                    slug: role.slug,
                    name: role.name,
                    description: role.description,
                    is_default: role.is_default,
                })
                .collect(),
            groups: page
                .groups
                .into_iter()
                .map(|group| GroupRow {
                    id: group.group_id,
                    name: group.group_name,
                    members: group.members,
                    roles: group.roles,
                })
                .collect(),
            preview: page.preview.into_iter().map(|count| (count.slug, count.name, count.users)).collect(),
            without_role: page.without_role,
            progress: page.progress.map(progress),
        }
    }
}

/// The directory's groups with their stored grants, the roles, and users per role.
#[server(endpoint = "group_roles")]
pub async fn group_roles(directory: String) -> Result<GroupRolesView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let page = service::directory_sync::roles::group_roles_page(admin.store(), admin.tenant(), id, None).await?;
    Ok(server::page(page))
}

/// Users per role if the directory's groups granted `grants` (nothing is saved).
#[server(endpoint = "preview_group_roles", input = Json)]
pub async fn preview_group_roles(directory: String, grants: Vec<Grant>) -> Result<GroupRolesView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let proposed = server::pairs(grants);
    let page =
        service::directory_sync::roles::group_roles_page(admin.store(), admin.tenant(), id, Some(&proposed)).await?;
    Ok(server::page(page))
}

/// Replaces the directory's grants with `grants`; the directory's users are then
/// re-derived in the background.
#[server(endpoint = "save_group_roles", input = Json)]
pub async fn save_group_roles(directory: String, grants: Vec<Grant>) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let (tenant, now) = (admin.tenant(), admin.portal.now());
    let grants = server::pairs(grants);
    Ok(service::directory_sync::roles::save_group_roles(admin.store(), tenant, id, &grants, &admin.actor(), now)
        .await?)
}

/// Where the re-derivation of the directory's users stands, if one was ever requested.
#[server(endpoint = "republish_progress")]
pub async fn republish_progress(directory: String) -> Result<Option<ProgressView>, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let progress = service::directory_sync::roles::republish_progress(admin.store(), admin.tenant(), id).await?;
    Ok(progress.map(server::progress))
}

/// `/admin/directories/{id}/roles`
#[component]
pub fn GroupRolesPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <GroupRolesPageView admin/> }.into_any()/> }
}

#[component]
fn GroupRolesPageView(admin: AdminView) -> impl IntoView {
    let directory = directory_param();
    // Loaded in the browser: the editor's state lives there.
    let page = LocalResource::new(move || group_roles(directory()));
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <div>
                <A href=format!("/admin/directories/{}", directory()) attr:class="text-sm font-medium text-accent hover:text-accent-strong">"← Dashboard"</A>
                <h1 class="mt-2 text-2xl font-bold tracking-tight">"Roles"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Grant roles to your identity provider's groups: each member gets every role their groups grant."
                </p>
            </div>
            <section class=CARD aria-labelledby="grants-heading">
                <h2 id="grants-heading" class="text-lg font-semibold">"Roles of your groups"</h2>
                {move || match page.get() {
                    None => view! { <Skeleton/> }.into_any(),
                    Some(Ok(loaded)) => view! {
                        <GrantEditor directory=directory() page=loaded
                            no_groups="Your identity provider has sent no groups yet. Assign groups to the app there; they appear here once provisioned."/>
                    }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                }}
            </section>
        </main>
    }
}

/// The grant editor: a checkbox per group and role, the users per role under the grants as
/// edited (asked of the server on every change), Save, and the re-derivation's progress
/// once saved. With no roles defined, or no groups provisioned, it says so instead.
#[component]
pub(crate) fn GrantEditor(directory: String, page: GroupRolesView, no_groups: &'static str) -> impl IntoView {
    if page.roles.is_empty() {
        return view! {
            <p id="no-roles" class="mt-4 text-sm text-slate-600">
                "Your service provider has defined no roles, so there is nothing to grant: your users carry no role."
            </p>
        }
        .into_any();
    }
    if page.groups.is_empty() {
        return view! { <p id="no-groups" class="mt-4 text-sm text-slate-600">{no_groups}</p> }.into_any();
    }
    let stored: BTreeSet<Grant> = page
        .groups
        .iter()
        .flat_map(|group| group.roles.iter().map(|role| Grant { group_id: group.id.clone(), role: role.clone() }))
        .collect();
    let grants = RwSignal::new(stored.clone());
    let saved_grants = RwSignal::new(stored);
    let preview_directory = directory.clone();
    let preview = LocalResource::new(move || {
        let (directory, grants) = (preview_directory.clone(), grants.get().into_iter().collect());
        async move { preview_group_roles(directory, grants).await }
    });
    let save =
        Action::new(|(directory, grants): &(String, Vec<Grant>)| save_group_roles(directory.clone(), grants.clone()));
    let saving = save.pending();
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            saved_grants.set(grants.get_untracked());
        }
    });
    let changed = move || grants.get() != saved_grants.get();
    let roles = page.roles.clone();
    let save_directory = directory.clone();
    view! {
        <div class="overflow-x-auto" tabindex="0"><table id="group-roles" class="mt-4 w-full text-left text-sm">
            <thead class="border-b border-slate-200 text-slate-500">
                <tr>
                    <th scope="col" class="py-2 pr-4 font-medium">"Group"</th>
                    <th scope="col" class="py-2 pr-4 font-medium">"Members"</th>
                    {roles.iter().map(|role| view! {
                        <th scope="col" class="py-2 pr-4 font-medium" title=role.description.clone()>{role.name.clone()}</th>
                    }).collect_view()}
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-100">
                {page.groups.into_iter().map(|group| view! {
                    <tr data-group=group.name>
                        <th scope="row" class="py-2 pr-4 font-medium">{group.name.clone()}</th>
                        <td class="py-2 pr-4">{group.members}</td>
                        {roles.iter().map(|role| {
                            let grant = Grant { group_id: group.id.clone(), role: role.slug.clone() };
                            let checked = { let grant = grant.clone(); move || grants.with(|grants| grants.contains(&grant)) };
                            let label = format!("{} grants {}", group.name, role.name);
                            view! {
                                <td class="py-2 pr-4">
                                    <input type="checkbox" aria-label=label data-role=role.slug.clone() prop:checked=checked
                                        on:change=move |event| {
                                            let on = event_target_checked(&event);
                                            grants.update(|grants| {
                                                if on { grants.insert(grant.clone()); } else { grants.remove(&grant); }
                                            });
                                        }/>
                                </td>
                            }
                        }).collect_view()}
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
        <div class="mt-6" aria-live="polite">
            <h3 id="role-preview-heading" class="text-sm font-semibold text-slate-800">
                {move || if changed() { "Users per role with these changes (not saved yet)" } else { "Users per role" }}
            </h3>
            {move || match preview.get() {
                None => view! { <p class="mt-2 text-sm text-slate-500">"Counting…"</p> }.into_any(),
                Some(Ok(counted)) => view! { <RoleCounts view=counted/> }.into_any(),
                Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
            }}
        </div>
        <div class="mt-6 flex flex-wrap items-center gap-4">
            <button id="save-group-roles" type="button" class=PRIMARY_BUTTON disabled=move || saving.get()
                on:click=move |_| { save.dispatch((save_directory.clone(), grants.get_untracked().into_iter().collect())); }>
                "Save roles"
            </button>
            <div aria-live="polite">
                {move || match save.value().get() {
                    Some(Ok(())) => view! { <p id="group-roles-saved" class="text-sm text-emerald-800">"Saved. Your users' roles are being updated."</p> }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
        </div>
        {move || save.version().get().gt(&0).then(|| view! { <RepublishProgressPanel directory=directory.clone()/> })}
    }
    .into_any()
}

#[component]
fn RoleCounts(view: GroupRolesView) -> impl IntoView {
    view! {
        <dl id="role-preview" class="mt-2 grid gap-3 text-sm sm:grid-cols-4">
            {view.preview.into_iter().map(|(slug, name, users)| view! {
                <div data-role=slug class="rounded-lg bg-slate-50 p-3">
                    <dt class="text-slate-500">{name}</dt>
                    <dd class="mt-1 font-semibold">{format!("{users} {}", if users == 1 { "user" } else { "users" })}</dd>
                </div>
            }).collect_view()}
            <div id="without-role" class="rounded-lg bg-slate-50 p-3">
                <dt class="text-slate-500">"No role"</dt>
                <dd class="mt-1 font-semibold">{format!("{} {}", view.without_role, if view.without_role == 1 { "user" } else { "users" })}</dd>
            </div>
        </dl>
    }
}

/// The re-derivation of the directory's users after a change of grants, roles or mapping:
/// read every second while it runs, then left as it finished. Shows nothing if none was
/// ever requested.
#[component]
pub(crate) fn RepublishProgressPanel(directory: String) -> impl IntoView {
    let tick = RwSignal::new(0_u32);
    let progress = LocalResource::new(move || {
        tick.track();
        republish_progress(directory.clone())
    });
    // Runs in the browser only; stops reading once the pass has finished.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let running = progress.with_untracked(|loaded| {
                    matches!(loaded, Some(Ok(Some(progress))) if !progress.finished) || loaded.is_none()
                });
                if running {
                    tick.update(|n| *n = n.wrapping_add(1));
                }
            },
            Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <div aria-live="polite">
            {move || match progress.get() {
                Some(Ok(Some(progress))) => view! { <ProgressLine progress/> }.into_any(),
                Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                _ => ().into_any(),
            }}
        </div>
    }
}

#[component]
fn ProgressLine(progress: ProgressView) -> impl IntoView {
    let total = progress.total.map_or_else(|| "…".to_owned(), |total| total.to_string());
    let (tone, text) = if progress.finished {
        (
            "border-emerald-300 bg-emerald-50 text-emerald-800",
            format!("Users updated ({}): {} checked, {} changed.", progress.reason, progress.done, progress.changed),
        )
    } else {
        (
            "border-amber-300 bg-amber-50 text-amber-900",
            format!(
                "Updating users ({}): {} of {} checked, {} changed so far…",
                progress.reason, progress.done, total, progress.changed
            ),
        )
    };
    view! {
        <p id="republish-progress" data-finished=progress.finished.to_string() class=format!("mt-4 rounded-lg border p-3 text-sm {tone}")>{text}</p>
    }
}
