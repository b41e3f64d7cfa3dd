//! `/roles`: the deployment's roles, which the operator defines once for every tenant.
//! Tenant admins grant them to their identity provider's groups; each directory user then
//! carries `role` and `roles`, which the vendor's product reads. Operators add, change
//! (never the slug) and delete roles; support staff see the list only.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::auth::OperatorView;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{Badge, ErrorBox, ErrorView, SignedIn, Skeleton, TopBar, refusal_box, refusal_of};
use crate::error::PortalError;

/// One role as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRow {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub precedence: i64,
    pub is_default: bool,
}

/// The deployment's roles in precedence order.
#[server(endpoint = "deployment_roles")]
pub async fn deployment_roles() -> Result<Vec<RoleRow>, PortalError> {
    let operator = crate::portal::Operator::require().await?;
    let roles = service::directory_sync::roles::list_roles(operator.store()).await?;
    Ok(roles
        .into_iter()
        .map(|role| RoleRow {
            slug: role.slug,
            name: role.name,
            description: role.description,
            precedence: role.precedence,
            is_default: role.is_default,
        })
        .collect())
}

/// Adds a role, or with `existing` (its slug) changes that role. `is_default` is the
/// checkbox's value: present when ticked.
#[server(endpoint = "save_deployment_role")]
pub async fn save_deployment_role(
    slug: String,
    name: String,
    description: String,
    precedence: String,
    is_default: Option<String>,
    existing: Option<String>,
) -> Result<RoleRow, PortalError> {
    use service::OperatorRole;
    let operator = crate::portal::Operator::require_role(OperatorRole::Operator).await?;
    let precedence = precedence.trim().parse().map_err(|_| {
        PortalError::Invalid("The precedence must be a whole number from 1 (first) to 10000.".to_owned())
    })?;
    let input = service::directory_sync::roles::RoleInput {
        slug,
        name,
        description,
        precedence,
        is_default: is_default.is_some(),
    };
    let existing = existing.filter(|slug| !slug.is_empty());
    let now = operator.portal.now();
    let role = service::directory_sync::roles::save_role(operator.store(), &input, existing.as_deref(), now).await?;
    crate::error::after_plain_form_post_go_to(&format!("{PAGE}?saved={}", role.slug));
    Ok(RoleRow {
        slug: role.slug,
        name: role.name,
        description: role.description,
        precedence: role.precedence,
        is_default: role.is_default,
    })
}

/// Deletes a role and every grant of it.
#[server(endpoint = "delete_deployment_role")]
pub async fn delete_deployment_role(slug: String) -> Result<(), PortalError> {
    use service::OperatorRole;
    let operator = crate::portal::Operator::require_role(OperatorRole::Operator).await?;
    let now = operator.portal.now();
    service::directory_sync::roles::delete_role(operator.store(), &slug, now).await?;
    // Back to the list, not to the confirmation the form was on.
    crate::error::after_plain_form_post_go_to(PAGE);
    Ok(())
}

/// The page's address.
const PAGE: &str = "/roles";

/// `/roles`
#[component]
pub fn RolesPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <RolesView operator/> }.into_any()/> }
}

/// Works whole without the bundle: the list is rendered on the server, the forms are
/// plain forms, and editing (`?edit=<slug>`) and deleting (`?delete=<slug>`) are pages at
/// addresses of their own; a saved role comes back as `?saved=<slug>`.
#[component]
fn RolesView(operator: OperatorView) -> impl IntoView {
    let may_change = operator.role == "operator";
    let (editing, deleting, saved) =
        use_query_map().with_untracked(|query| (query.get("edit"), query.get("delete"), query.get("saved")));
    let roles = Resource::new(|| (), |_| deployment_roles());
    view! {
        <TopBar operator/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"Roles"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Roles are your product's permissions: each tenant's admin grants them to groups of their identity provider, and your product reads the role and roles of each directory user."
                </p>
            </div>
            <Suspense fallback=|| view! { <Skeleton/> }>
                {move || {
                    let (editing, deleting, saved) = (editing.clone(), deleting.clone(), saved.clone());
                    Suspend::new(async move {
                        match roles.await {
                            Ok(rows) => {
                                let edited = editing.filter(|_| may_change).and_then(|slug| rows.iter().find(|row| row.slug == slug).cloned());
                                let deleting = deleting.filter(|_| may_change);
                                view! {
                                    {may_change.then(|| view! {
                                        <section class=CARD aria-labelledby="role-form-heading">
                                            <RoleForm role=edited/>
                                            <div class="mt-4" aria-live="polite">
                                                {saved.map(|slug| view! {
                                                    <p id="role-saved" class="rounded-lg bg-emerald-50 p-3 text-sm text-emerald-800">{format!("Saved role {slug}.")}</p>
                                                })}
                                                {refusal_of::<SaveDeploymentRole>().map(|error| view! { <div id="role-error"><ErrorBox message=error.to_string()/></div> })}
                                            </div>
                                        </section>
                                    })}
                                    <section class=CARD aria-labelledby="roles-heading">
                                        <h2 id="roles-heading" class="text-lg font-semibold">"The deployment's roles"</h2>
                                        <div aria-live="polite">{refusal_box::<DeleteDeploymentRole>()}</div>
                                        {if rows.is_empty() {
                                            view! {
                                                <p id="no-roles" class="mt-4 text-sm text-slate-600">"No roles yet: directory users carry no role until you add one."</p>
                                            }.into_any()
                                        } else {
                                            view! { <RolesTable rows may_change deleting/> }.into_any()
                                        }}
                                    </section>
                                }.into_any()
                            }
                            Err(error) => view! { <ErrorView error/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </main>
    }
}

/// The form for a new role (`role: None`) or for changing `role` (its slug fixed).
#[component]
fn RoleForm(role: Option<RoleRow>) -> impl IntoView {
    let is_edit = role.is_some();
    let role = role.unwrap_or(RoleRow {
        slug: String::new(),
        name: String::new(),
        description: String::new(),
        precedence: 10,
        is_default: false,
    });
    let heading = if is_edit { format!("Change role {}", role.slug) } else { "New role".to_owned() };
    let existing = if is_edit { role.slug.clone() } else { String::new() };
    view! {
        <h2 id="role-form-heading" class="text-lg font-semibold">{heading}</h2>
        <form method="post" action=SaveDeploymentRole::url() class="mt-4 grid gap-4 sm:grid-cols-2">
            <input type="hidden" name="existing" value=existing/>
            <div>
                <label for="role-slug" class="block text-sm font-medium text-slate-700">"Slug"</label>
                <input id="role-slug" name="slug" required value=role.slug readonly=is_edit placeholder="admin"
                    aria-describedby="role-slug-help" class=format!("{INPUT} font-mono read-only:bg-slate-50")/>
                <p id="role-slug-help" class="mt-1 text-xs text-slate-500">"What your product compares: lower-case letters, digits, - and _. It cannot change later."</p>
            </div>
            <div>
                <label for="role-name" class="block text-sm font-medium text-slate-700">"Name"</label>
                <input id="role-name" name="name" required value=role.name placeholder="Administrator" class=INPUT/>
            </div>
            <div class="sm:col-span-2">
                <label for="role-description" class="block text-sm font-medium text-slate-700">"Description"</label>
                <input id="role-description" name="description" value=role.description class=INPUT/>
            </div>
            <div>
                <label for="role-precedence" class="block text-sm font-medium text-slate-700">"Precedence"</label>
                <input id="role-precedence" name="precedence" type="number" min="1" max="10000" required value=role.precedence.to_string()
                    aria-describedby="role-precedence-help" class=INPUT/>
                <p id="role-precedence-help" class="mt-1 text-xs text-slate-500">"1 comes first: a user with several roles has the first as their role."</p>
            </div>
            <div class="flex items-center gap-2 self-center">
                <input id="role-default" name="is_default" type="checkbox" value="true" checked=role.is_default/>
                <label for="role-default" class="text-sm text-slate-700">"Default role: for users no group grants a role"</label>
            </div>
            <div class="flex items-center gap-3 sm:col-span-2">
                <button id="save-role" type="submit" class=PRIMARY_BUTTON>{if is_edit { "Save changes" } else { "Add role" }}</button>
                {is_edit.then(|| view! {
                    <a id="cancel-edit" href=PAGE rel="external" class=SECONDARY_BUTTON>"Cancel"</a>
                })}
            </div>
        </form>
    }
}

#[component]
fn RolesTable(rows: Vec<RoleRow>, may_change: bool, deleting: Option<String>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto" tabindex="0"><table id="roles-table" class="mt-4 w-full text-left text-sm">
            <thead class="border-b border-slate-200 text-slate-500">
                <tr>
                    <th scope="col" class="py-2 pr-4 font-medium">"Slug"</th>
                    <th scope="col" class="py-2 pr-4 font-medium">"Name"</th>
                    <th scope="col" class="py-2 pr-4 font-medium">"Description"</th>
                    <th scope="col" class="py-2 pr-4 font-medium">"Precedence"</th>
                    <th scope="col" class="py-2 pr-4 font-medium">"Default"</th>
                    {may_change.then(|| view! { <th scope="col" class="py-2 font-medium"><span class="sr-only">"Actions"</span></th> })}
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-100">
                {rows.into_iter().map(|row| {
                    let asked = deleting.as_deref() == Some(row.slug.as_str());
                    let slug = row.slug.clone();
                    view! {
                        <tr data-role=row.slug class="align-top">
                            <td class="py-2 pr-4 font-mono">{row.slug.clone()}</td>
                            <td class="py-2 pr-4">{row.name.clone()}</td>
                            <td class="py-2 pr-4 text-slate-600">{row.description.clone()}</td>
                            <td class="py-2 pr-4">{row.precedence}</td>
                            <td class="py-2 pr-4">{row.is_default.then(|| view! { <Badge tone="good" text="Default".to_owned()/> })}</td>
                            {may_change.then(|| view! {
                                <td class="py-2 text-right">
                                    {if asked {
                                        view! {
                                            <div id="delete-role-confirmation" class="space-y-2" role="alert">
                                                <p class="text-sm text-red-800">{format!("Delete {slug}? Its grants go too, and its users are re-derived.")}</p>
                                                <form method="post" action=DeleteDeploymentRole::url() class="flex items-center justify-end gap-2">
                                                    <input type="hidden" name="slug" value=slug/>
                                                    <button type="submit" class="rounded-lg bg-red-600 px-4 py-2 text-sm font-semibold text-white hover:bg-red-500">"Delete role"</button>
                                                    <a href=PAGE rel="external" class=SECONDARY_BUTTON>"Keep"</a>
                                                </form>
                                            </div>
                                        }.into_any()
                                    } else {
                                        view! {
                                            <div class="flex justify-end gap-2">
                                                <a href=format!("{PAGE}?edit={slug}") rel="external" class=format!("edit-role {SECONDARY_BUTTON}")>"Edit"</a>
                                                <a href=format!("{PAGE}?delete={slug}#delete-role-confirmation") rel="external" class=format!("delete-role {SECONDARY_BUTTON}")>"Delete"</a>
                                            </div>
                                        }.into_any()
                                    }}
                                </td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }
}
