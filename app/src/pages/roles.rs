//! `/roles`: the deployment's roles, which the operator defines once for every tenant.
//! Tenant admins grant them to their identity provider's groups; each directory user then
//! carries `role` and `roles`, which the vendor's product reads. Operators add, change
//! (never the slug) and delete roles; support staff see the list only.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::OperatorView;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{Badge, ErrorBox, ErrorView, SignedIn, Skeleton, TopBar};
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
    Ok(service::directory_sync::roles::delete_role(operator.store(), &slug, now).await?)
}

/// `/roles`
#[component]
pub fn RolesPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <RolesView operator/> }.into_any()/> }
}

#[component]
fn RolesView(operator: OperatorView) -> impl IntoView {
    let may_change = operator.role == "operator";
    let save = ServerAction::<SaveDeploymentRole>::new();
    let delete = ServerAction::<DeleteDeploymentRole>::new();
    let roles = Resource::new(move || (save.version().get(), delete.version().get()), |_| deployment_roles());
    // The role being edited (its form replaces the new-role form), and the one whose
    // deletion awaits confirmation.
    let editing = RwSignal::new(None::<RoleRow>);
    let confirming = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            editing.set(None);
        }
    });
    view! {
        <TopBar operator/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"Roles"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Roles are your product's permissions: each tenant's admin grants them to groups of their identity provider, and your product reads the role and roles of each directory user."
                </p>
            </div>
            <Show when=move || may_change>
                <section class=CARD aria-labelledby="role-form-heading">
                    {move || {
                        let role = editing.get();
                        view! { <RoleForm role save editing/> }
                    }}
                    <div class="mt-4" aria-live="polite">
                        {move || save.value().get().map(|result| match result {
                            Ok(role) => view! {
                                <p id="role-saved" class="rounded-lg bg-emerald-50 p-3 text-sm text-emerald-800">{format!("Saved role {}.", role.slug)}</p>
                            }.into_any(),
                            Err(error) => view! { <div id="role-error"><ErrorBox message=error.to_string()/></div> }.into_any(),
                        })}
                    </div>
                </section>
            </Show>
            <section class=CARD aria-labelledby="roles-heading">
                <h2 id="roles-heading" class="text-lg font-semibold">"The deployment's roles"</h2>
                <div aria-live="polite">
                    {move || delete.value().get().and_then(Result::err).map(|error| view! { <ErrorBox message=error.to_string()/> })}
                </div>
                <Transition fallback=|| view! { <Skeleton/> }>
                    {move || Suspend::new(async move {
                        match roles.await {
                            Ok(rows) if rows.is_empty() => view! {
                                <p id="no-roles" class="mt-4 text-sm text-slate-600">"No roles yet: directory users carry no role until you add one."</p>
                            }.into_any(),
                            Ok(rows) => view! { <RolesTable rows may_change editing confirming delete/> }.into_any(),
                            Err(error) => view! { <ErrorView error/> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </main>
    }
}

/// The form for a new role (`role: None`) or for changing `role` (its slug fixed).
#[component]
fn RoleForm(
    role: Option<RoleRow>,
    save: ServerAction<SaveDeploymentRole>,
    editing: RwSignal<Option<RoleRow>>,
) -> impl IntoView {
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
        <ActionForm action=save attr:class="mt-4 grid gap-4 sm:grid-cols-2">
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
            <div class="flex gap-3 sm:col-span-2">
                <button id="save-role" type="submit" class=PRIMARY_BUTTON>{if is_edit { "Save changes" } else { "Add role" }}</button>
                {is_edit.then(|| view! {
                    <button id="cancel-edit" type="button" class=SECONDARY_BUTTON on:click=move |_| editing.set(None)>"Cancel"</button>
                })}
            </div>
        </ActionForm>
    }
}

#[component]
fn RolesTable(
    rows: Vec<RoleRow>,
    may_change: bool,
    editing: RwSignal<Option<RoleRow>>,
    confirming: RwSignal<Option<String>>,
    delete: ServerAction<DeleteDeploymentRole>,
) -> impl IntoView {
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
                    let slug = row.slug.clone();
                    let edit_row = row.clone();
                    let confirm_slug = slug.clone();
                    let asked = { let slug = slug.clone(); move || confirming.get().as_deref() == Some(slug.as_str()) };
                    let row_slug = slug.clone();
                    view! {
                        <tr data-role=row_slug class="align-top">
                            <td class="py-2 pr-4 font-mono">{row.slug.clone()}</td>
                            <td class="py-2 pr-4">{row.name.clone()}</td>
                            <td class="py-2 pr-4 text-slate-600">{row.description.clone()}</td>
                            <td class="py-2 pr-4">{row.precedence}</td>
                            <td class="py-2 pr-4">{row.is_default.then(|| view! { <Badge tone="good" text="Default".to_owned()/> })}</td>
                            {may_change.then(|| view! {
                                <td class="py-2 text-right">
                                    {move || if asked() {
                                        let slug = slug.clone();
                                        view! {
                                            <div class="space-y-2" role="alert">
                                                <p class="text-sm text-red-800">{format!("Delete {slug}? Its grants go too, and its users are re-derived.")}</p>
                                                <div class="flex justify-end gap-2">
                                                    <ActionForm action=delete>
                                                        <input type="hidden" name="slug" value=slug/>
                                                        <button type="submit" class="rounded-lg bg-red-600 px-4 py-2 text-sm font-semibold text-white hover:bg-red-500">"Delete role"</button>
                                                    </ActionForm>
                                                    <button type="button" class=SECONDARY_BUTTON on:click=move |_| confirming.set(None)>"Keep"</button>
                                                </div>
                                            </div>
                                        }.into_any()
                                    } else {
                                        let (edit_row, confirm_slug) = (edit_row.clone(), confirm_slug.clone());
                                        view! {
                                            <div class="flex justify-end gap-2">
                                                <button type="button" class=SECONDARY_BUTTON on:click=move |_| editing.set(Some(edit_row.clone()))>"Edit"</button>
                                                <button type="button" class=SECONDARY_BUTTON on:click=move |_| confirming.set(Some(confirm_slug.clone()))>"Delete"</button>
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
