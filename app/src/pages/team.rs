//! `/team`: the deployment's operator accounts. Operators add colleagues, as operators or
//! with the read-only `support` role; support staff see the list only.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::auth::OperatorView;
use crate::components::style::{CARD, DANGER_BUTTON, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{
    Badge, CopyField, ErrorBox, ErrorView, SignedIn, Skeleton, TopBar, refusal_box, refusal_of, shown_once,
};
use crate::error::PortalError;
use crate::pages::people::ChangeOperator;

/// One operator account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub created: String,
    pub disabled: bool,
    /// The operator looking at the page.
    pub is_you: bool,
}

/// An account just added, with its password (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedOperator {
    pub email: String,
    pub role: String,
    pub password: String,
}

#[server(endpoint = "list_operators")]
pub async fn list_operators() -> Result<Vec<OperatorRow>, PortalError> {
    let viewer = crate::portal::Operator::require().await?;
    let operators = service::operators::list(viewer.store()).await?;
    Ok(operators
        .into_iter()
        .map(|operator| OperatorRow {
            id: operator.id.to_string(),
            is_you: operator.id == viewer.session.id,
            disabled: operator.disabled_at.is_some(),
            email: operator.email,
            role: operator.role.as_str().to_owned(),
            created: operator.created_at.format("%Y-%m-%d").to_string(),
        })
        .collect())
}

/// Adds an operator account with the `operator` or `support` role.
#[server(endpoint = "add_operator")]
pub async fn add_operator(email: String, role: String) -> Result<AddedOperator, PortalError> {
    use service::OperatorRole;
    let operator = crate::portal::Operator::require_role(OperatorRole::Operator).await?;
    let role = match role.as_str() {
        "operator" => OperatorRole::Operator,
        "support" => OperatorRole::Support,
        _ => return Err(PortalError::Invalid("Choose the operator or the support role.".to_owned())),
    };
    let added = service::operators::add_operator(operator.store(), &email, role, &operator.portal.effects).await?;
    let added = AddedOperator {
        email: added.operator.email,
        role: added.operator.role.as_str().to_owned(),
        password: added.password,
    };
    crate::error::show_once_after_plain_form_post(PAGE, NEW_OPERATOR, &added).await?;
    Ok(added)
}

/// The account the last add of this session made, with its password, sealed under `key`
/// for the page the browser was sent back to: taken, so it is shown once.
#[server(endpoint = "take_added_operator")]
pub async fn take_added_operator(key: String) -> Result<Option<AddedOperator>, PortalError> {
    crate::portal::Operator::require_role(service::OperatorRole::Operator).await?;
    crate::error::take_shown_once(NEW_OPERATOR, &key).await
}

/// The page's address.
pub(crate) const PAGE: &str = "/team";
/// The address parameter (and kind of one-time outcome) of an account just added.
const NEW_OPERATOR: &str = "new_operator";

/// `/team`
#[component]
pub fn TeamPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <TeamView operator/> }.into_any()/> }
}

/// Works whole without the bundle: the list is rendered on the server, the forms are
/// plain forms, removing asks at an address of its own (`?remove=<id>`), and a new
/// account's password is sealed for the one page that shows it.
#[component]
fn TeamView(operator: OperatorView) -> impl IntoView {
    let may_change = operator.role == "operator";
    let (removing, shown) = use_query_map().with_untracked(|query| (query.get("remove"), query.get(NEW_OPERATOR)));
    let operators = Resource::new(|| (), |_| list_operators());
    let added = shown_once(shown, take_added_operator);
    view! {
        <TopBar operator/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <h1 class="text-2xl font-bold tracking-tight">"Team"</h1>
            {may_change.then(|| view! {
                <section class=CARD aria-labelledby="add-operator-heading">
                    <h2 id="add-operator-heading" class="text-lg font-semibold">"Add a colleague"</h2>
                    <p class="mt-1 text-sm text-slate-600">
                        "Support staff see every tenant's pages to investigate problems, and change nothing."
                    </p>
                    <form method="post" action=AddOperator::url() class="mt-4 flex flex-wrap items-end gap-4">
                        <div>
                            <label for="operator-email" class="block text-sm font-medium text-slate-700">"Email"</label>
                            <input id="operator-email" name="email" type="email" required class=INPUT/>
                        </div>
                        <div>
                            <label for="operator-role" class="block text-sm font-medium text-slate-700">"Role"</label>
                            <select id="operator-role" name="role" class=INPUT>
                                <option value="support" selected>"Support (read-only)"</option>
                                <option value="operator">"Operator"</option>
                            </select>
                        </div>
                        <button id="add-operator" type="submit" class=PRIMARY_BUTTON>"Add"</button>
                    </form>
                    <div class="mt-4" aria-live="polite">
                        {refusal_box::<AddOperator>()}
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                match added.await {
                                    Ok(Some(added)) => view! {
                                        <div class="rounded-lg border border-emerald-200 bg-emerald-50 p-4 text-sm">
                                            <p class="font-medium text-emerald-900">{format!("{} can sign in as {}.", added.email, added.role)}</p>
                                            <div class="mt-2"><CopyField id="new-operator-password" label="Their password" value=added.password/></div>
                                            <p class="mt-2 text-emerald-900">"Shown only now: hand it over in person or through a password manager."</p>
                                        </div>
                                    }.into_any(),
                                    Ok(None) => ().into_any(),
                                    Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                                }
                            })}
                        </Suspense>
                    </div>
                </section>
            })}
            <section class=CARD aria-labelledby="team-heading">
                <h2 id="team-heading" class="text-lg font-semibold">"Operators and support staff"</h2>
                <p class="mt-1 text-sm text-slate-600">"Disabling or removing someone signs them out everywhere at once."</p>
                {refusal_of::<ChangeOperator>().map(|error| view! { <div id="team-change-error" class="mt-3"><ErrorBox message=error.to_string()/></div> })}
                <Suspense fallback=|| view! { <Skeleton/> }>
                    {move || {
                        let removing = removing.clone();
                        Suspend::new(async move {
                            match operators.await {
                                Ok(rows) => {
                                    let asked = removing
                                        .filter(|_| may_change)
                                        .and_then(|id| rows.iter().find(|row| row.id == id && !row.is_you).cloned());
                                    view! {
                                        {asked.map(|row| view! { <RemoveConfirmation row/> })}
                                        <TeamTable rows may_change/>
                                    }.into_any()
                                }
                                Err(error) => view! { <ErrorView error/> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            </section>
        </main>
    }
}

/// Asks before an account is removed.
#[component]
fn RemoveConfirmation(row: OperatorRow) -> impl IntoView {
    let email = row.email;
    view! {
        <div id="remove-operator-confirmation" role="alertdialog" aria-labelledby="remove-operator-question"
            class="mt-4 rounded-lg border border-red-200 bg-red-50 p-4">
            <p id="remove-operator-question" class="text-sm font-semibold text-red-900">
                {format!("Remove {email}? They are signed out at once and their account is deleted.")}
            </p>
            <form method="post" action=ChangeOperator::url() class="mt-3 flex flex-wrap items-center gap-3">
                <input type="hidden" name="operator" value=row.id/>
                <input type="hidden" name="change" value="remove"/>
                <button id="confirm-remove-operator" type="submit" class=DANGER_BUTTON>{format!("Remove {email}")}</button>
                <a id="cancel-remove-operator" href=PAGE rel="external" class=SECONDARY_BUTTON>"Keep them"</a>
            </form>
        </div>
    }
}

#[component]
fn TeamTable(rows: Vec<OperatorRow>, may_change: bool) -> impl IntoView {
    view! {
        <div class="overflow-x-auto" tabindex="0"><table id="team-table" class="mt-4 w-full text-left text-sm">
            <thead class="border-b border-slate-200 text-slate-500">
                <tr>
                    <th scope="col" class="py-2 font-medium">"Email"</th>
                    <th scope="col" class="py-2 font-medium">"Role"</th>
                    <th scope="col" class="py-2 font-medium">"Since"</th>
                    <th scope="col" class="py-2 font-medium"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-100">
                {rows.into_iter().map(|row| {
                    let actions = may_change && !row.is_you;
                    let (toggle, toggle_label) = if row.disabled { ("enable", "Enable") } else { ("disable", "Disable") };
                    let ask_to_remove = format!("{PAGE}?remove={}#remove-operator-confirmation", row.id);
                    view! {
                        <tr data-operator=row.email>
                            <td class="py-2">
                                {row.email.clone()}
                                {row.is_you.then(|| view! { <span class="ml-2 text-xs text-slate-500">"(you)"</span> })}
                                {row.disabled.then(|| view! { <span class="ml-2"><Badge tone="bad" text="Disabled".to_owned()/></span> })}
                            </td>
                            <td class="py-2">{row.role}</td>
                            <td class="py-2 text-slate-600">{row.created}</td>
                            <td class="py-2">
                                {actions.then(|| view! {
                                    <div class="flex justify-end gap-3">
                                        <form method="post" action=ChangeOperator::url()>
                                            <input type="hidden" name="operator" value=row.id.clone()/>
                                            <input type="hidden" name="change" value=toggle/>
                                            <button type="submit" class="toggle-operator text-xs font-semibold text-slate-700 hover:text-slate-900">{toggle_label}</button>
                                        </form>
                                        <a href=ask_to_remove rel="external" class="remove-operator text-xs font-semibold text-red-700 hover:text-red-600">"Remove"</a>
                                    </div>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }
}
