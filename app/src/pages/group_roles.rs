//! `/admin/directories/{id}/roles`: a tenant admin grants the operator's roles to the
//! directory's identity provider groups, sees how many users get each role before saving,
//! and after saving watches the re-derivation of the directory's users. The grant editor
//! is also the wizard's roles step; the progress panel also follows a mapping change.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::style::{CARD, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{AdminTopBar, ErrorBox, LiveRegions, SignedInAdmin, Skeleton, refusal_box};
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

impl Grant {
    /// The grant as the editor's box sends it: `role/group id` (a role's slug has no `/`).
    pub fn field_value(&self) -> String {
        format!("{}/{}", self.role, self.group_id)
    }

    /// A grant as the editor's box sent it.
    pub fn parse(value: &str) -> Result<Self, PortalError> {
        match value.split_once('/') {
            Some((role, group_id)) if !role.is_empty() && !group_id.is_empty() => {
                Ok(Self { group_id: group_id.to_owned(), role: role.to_owned() })
            }
            _ => Err(PortalError::Invalid(format!("{value:?} is not a grant: expected a role and a group."))),
        }
    }
}

/// The grants a form sent, each `role/group id` (see [`Grant::field_value`]).
#[cfg(feature = "ssr")]
fn parse_grants(grants: &[String]) -> Result<Vec<Grant>, PortalError> {
    grants.iter().map(|grant| Grant::parse(grant)).collect()
}

/// The grants being previewed, from the page's address (`?preview=1&grants[0]=…`, what the
/// editor's Preview button sends): `None` when the page shows what is saved.
fn previewed_grants() -> Option<Vec<String>> {
    use_query_map().with_untracked(|query| {
        query.get_str("preview")?;
        Some(
            query
                .latest_values()
                .filter(|(key, _)| key.starts_with("grants[") || key.starts_with("grants%5B"))
                .map(|(_, value)| value.to_owned())
                .collect(),
        )
    })
}

/// The editor's data: what is saved, or the users per role under `previewed` grants.
pub(crate) async fn load_grants(
    directory: String,
    previewed: Option<Vec<String>>,
) -> Result<GroupRolesView, PortalError> {
    match previewed {
        Some(grants) => preview_group_roles(directory, grants).await,
        None => group_roles(directory).await,
    }
}

/// The editor's state from the page's address: the previewed grants, if any, and whether
/// grants were just saved (`?group_roles=saved`).
pub(crate) fn grants_in_address() -> (Option<Vec<String>>, bool) {
    let saved = use_query_map().with_untracked(|query| query.get_str(SAVED_PARAMETER) == Some("saved"));
    (previewed_grants(), saved)
}

/// The address parameter saying the grants were just saved.
const SAVED_PARAMETER: &str = "group_roles";

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

/// Users per role if the directory's groups granted `grants` (nothing is saved); each
/// grant is `role/group id`, as the editor's boxes send them.
#[server(endpoint = "preview_group_roles")]
pub async fn preview_group_roles(
    directory: String,
    #[server(default)] grants: Vec<String>,
) -> Result<GroupRolesView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let proposed = server::pairs(parse_grants(&grants)?);
    let page =
        service::directory_sync::roles::group_roles_page(admin.store(), admin.tenant(), id, Some(&proposed)).await?;
    Ok(server::page(page))
}

/// Replaces the directory's grants with `grants`; the directory's users are then
/// re-derived in the background.
/// Each grant is `role/group id`, as the editor's boxes send them; a plain form comes back
/// to the page it was posted from, saying so (`?group_roles=saved`).
#[server(endpoint = "save_group_roles")]
pub async fn save_group_roles(directory: String, #[server(default)] grants: Vec<String>) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let (tenant, now) = (admin.tenant(), admin.portal.now());
    let grants = server::pairs(parse_grants(&grants)?);
    service::directory_sync::roles::save_group_roles(admin.store(), tenant, id, &grants, &admin.actor(), now).await?;
    crate::error::after_plain_form_post_go_back_to_page_with(&format!("{SAVED_PARAMETER}=saved"));
    Ok(())
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

/// Works whole without the bundle: rendered on the server; the editor is a plain form
/// whose Preview button asks for the page again with the boxes as ticked (a GET), and whose
/// Save posts them.
#[component]
fn GroupRolesPageView(admin: AdminView) -> impl IntoView {
    let directory = directory_param();
    let (previewed, saved) = grants_in_address();
    let page = Resource::new(
        move || (directory(), previewed.clone()),
        |(directory, previewed)| load_grants(directory, previewed),
    );
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
                <Suspense fallback=|| view! { <Skeleton/> }>
                    {move || Suspend::new(async move {
                        match page.await {
                            Ok(loaded) => view! {
                                <GrantEditor directory=directory() page=loaded page_address=format!("/admin/directories/{}/roles", directory())
                                    previewing=previewed_grants().is_some() saved
                                    no_groups="Your identity provider has sent no groups yet. Assign groups to the app there; they appear here once provisioned."/>
                            }.into_any(),
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                    })}
                </Suspense>
                <RepublishProgressPanel directory=directory()/>
            </section>
        </main>
    }
}

/// The grant editor, a plain form: a box per group and role, the users per role under the
/// grants shown (saved, or previewed: `previewing`), a Preview button that asks for
/// `page_address` again with the boxes as ticked, and Save. With no roles defined, or no
/// groups provisioned, it says so instead.
#[component]
pub(crate) fn GrantEditor(
    directory: String,
    page: GroupRolesView,
    page_address: String,
    previewing: bool,
    saved: bool,
    no_groups: &'static str,
) -> impl IntoView {
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
    let roles = page.roles.clone();
    let mut field = 0_usize;
    let rows = page
        .groups
        .clone()
        .into_iter()
        .map(|group| {
            let boxes = roles
                .iter()
                .map(|role| {
                    let grant = Grant { group_id: group.id.clone(), role: role.slug.clone() };
                    let label = format!("{} grants {}", group.name, role.name);
                    field += 1;
                    view! {
                        <td class="py-2 pr-4">
                            <input type="checkbox" name=format!("grants[{field}]") value=grant.field_value() aria-label=label
                                data-role=role.slug.clone() checked=group.roles.contains(&role.slug)/>
                        </td>
                    }
                })
                .collect_view();
            view! {
                <tr data-group=group.name>
                    <th scope="row" class="py-2 pr-4 font-medium">{group.name.clone()}</th>
                    <td class="py-2 pr-4">{group.members}</td>
                    {boxes}
                </tr>
            }
        })
        .collect_view();
    view! {
        <form method="post" action=SaveGroupRoles::url()>
            <input type="hidden" name="directory" value=directory/>
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
                <tbody class="divide-y divide-slate-100">{rows}</tbody>
            </table></div>
            <div class="mt-6" aria-live="polite">
                <h3 id="role-preview-heading" class="text-sm font-semibold text-slate-800">
                    {if previewing { "Users per role with the roles ticked above (not saved yet)" } else { "Users per role" }}
                </h3>
                <RoleCounts view=page/>
            </div>
            <div class="mt-6 flex flex-wrap items-center gap-4">
                <button id="preview-group-roles" type="submit" formmethod="get" formaction=page_address name="preview" value="1" class=SECONDARY_BUTTON>
                    "Preview users per role"
                </button>
                <button id="save-group-roles" type="submit" class=PRIMARY_BUTTON>"Save roles"</button>
                <div aria-live="polite">
                    {saved.then(|| view! { <p id="group-roles-saved" class="text-sm text-emerald-800">"Saved. Your users' roles are being updated."</p> })}
                    {refusal_box::<SaveGroupRoles>()}
                </div>
            </div>
        </form>
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

/// The re-derivation of the directory's users after a change of grants, roles or mapping,
/// rendered on the server; while the bundle runs it is read every second until it has
/// finished (an island, `LiveRegions`). Shows nothing if none was ever requested.
#[component]
pub(crate) fn RepublishProgressPanel(directory: String) -> impl IntoView {
    let progress = Resource::new(move || directory.clone(), republish_progress);
    view! {
        <div aria-live="polite">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match progress.await {
                        Ok(Some(progress)) => {
                            let running = !progress.finished;
                            view! {
                                <div id="republish-panel"><ProgressLine progress/></div>
                                {running.then(|| view! {
                                    <LiveRegions directory=None every_seconds=1
                                        regions=vec!["republish-panel".to_owned()] until_settled=true/>
                                })}
                            }.into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    }
                })}
            </Transition>
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
        <p id="republish-progress" data-finished=progress.finished.to_string()
            data-unsettled=(!progress.finished).then_some("") class=format!("mt-4 rounded-lg border p-3 text-sm {tone}")>{text}</p>
    }
}
