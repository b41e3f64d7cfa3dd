//! People: `/account` (everyone changes their own password; all their other sessions
//! end), the actions on `/team` (operators disable, enable or remove operator accounts),
//! and [`AdminsPanel`] (a tenant's admins, on the operator's tenant page and the admin's
//! home: disable, enable, remove; an admin does not change their own account). Each ends
//! the person's sessions at once.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::{use_location, use_query_map};
use serde::{Deserialize, Serialize};

use crate::auth::{Account, signed_in_account};
use crate::components::style::{CARD, DANGER_BUTTON, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{AdminTopBar, Badge, ErrorBox, Skeleton, TopBar, refusal_of};
use crate::error::PortalError;

#[cfg(feature = "ssr")]
fn refused(error: service::people::PeopleError) -> PortalError {
    use service::people::PeopleError;
    let sentence = service::sentence(&error.to_string());
    match error {
        PeopleError::NoSuchAccount => PortalError::NotFound(sentence),
        PeopleError::Yourself | PeopleError::LastOperator => PortalError::Conflict(sentence),
        PeopleError::WrongPassword | PeopleError::PasswordTooShort | PeopleError::NoPassword => {
            PortalError::Invalid(sentence)
        }
        PeopleError::Throttled => PortalError::Throttled(sentence),
        PeopleError::Service(error) => error.into(),
    }
}

#[cfg(feature = "ssr")]
fn parse_change(change: &str) -> Result<service::people::Change, PortalError> {
    use service::people::Change;
    match change {
        "disable" => Ok(Change::Disable),
        "enable" => Ok(Change::Enable),
        "remove" => Ok(Change::Remove),
        _ => Err(PortalError::Invalid("Choose to disable, enable or remove the account.".to_owned())),
    }
}

/// Changes the signed-in person's password; every other session of theirs ends, and this
/// one goes on under a new id.
#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String, confirm: String) -> Result<u64, PortalError> {
    let visitor = crate::portal::Visitor::current()?;
    let account = visitor.account().await?.ok_or_else(PortalError::signed_out)?;
    if new != confirm {
        return Err(PortalError::Invalid("The new password and its confirmation differ.".to_owned()));
    }
    let portal = &visitor.portal;
    let address = crate::portal::Visitor::client_address();
    let ended = service::people::change_own_password(
        &portal.store,
        &portal.sign_in_throttle,
        address,
        &account,
        current,
        new,
        &portal.effects,
    )
    .await
    .map_err(refused)?;
    // This session's row went with the others; a new id saves it again, signed in.
    visitor.session.renew_id().await?;
    let others = ended.saturating_sub(1);
    crate::error::after_plain_form_post_go_to(&format!("/account?password=changed&others={others}"));
    Ok(others)
}

/// Disables, enables or removes an operator account (operators only, not their own).
#[server(endpoint = "change_operator")]
pub async fn change_operator(operator: String, change: String) -> Result<(), PortalError> {
    let by = crate::portal::Operator::require_role(service::OperatorRole::Operator).await?;
    let change = parse_change(&change)?;
    let target = operator.parse().map_err(|_| PortalError::NotFound("There is no such account.".to_owned()))?;
    let now = by.portal.effects.now();
    service::people::change_operator(by.store(), by.session.id, target, change, now).await.map_err(refused)?;
    // Back to the team, not to the confirmation the form was on.
    crate::error::after_plain_form_post_go_to(crate::pages::team::PAGE);
    Ok(())
}

/// One admin of a tenant as the panel shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminRow {
    pub id: String,
    pub email: String,
    /// "password", "single sign-on" or both.
    pub signs_in_with: String,
    pub since: String,
    pub disabled: bool,
    /// Whether the email is their sign-in name yet (see `service::email_confirmation`).
    pub email_confirmed: bool,
    /// The admin looking at the panel.
    pub is_you: bool,
}

/// The caller's reach over a tenant's people and invitations: an operator (with the
/// tenant's slug) or an admin of the tenant (slug empty).
#[cfg(feature = "ssr")]
pub(crate) struct TenantReach {
    pub(crate) store: service::Store,
    pub(crate) tenant: service::TenantId,
    pub(crate) actor: service::Actor,
    /// The admin asking, when it is one with an account.
    pub(crate) by_admin: Option<service::session::TenantAdminId>,
    pub(crate) effects: service::Effects,
}

/// Who may read (`change`: change) a tenant's admins and setup links: an operator of
/// either role reads, of the operator role changes; the tenant's own admins do both, and
/// someone sent in with an Admin Portal link reads.
#[cfg(feature = "ssr")]
pub(crate) async fn tenant_reach(tenant: &str, change: bool) -> Result<TenantReach, PortalError> {
    if tenant.is_empty() {
        let admin = crate::portal::Admin::require().await?;
        let by_admin = match admin.session.identity {
            service::session::AdminIdentity::Account(id) => Some(id),
            // Someone sent in with an Admin Portal link reads the list, changes nobody.
            service::session::AdminIdentity::PortalLink(_) if change => {
                return Err(PortalError::Forbidden("Only the tenant's own admins change its admins.".to_owned()));
            }
            service::session::AdminIdentity::PortalLink(_) => None,
        };
        return Ok(TenantReach {
            store: admin.store().clone(),
            tenant: admin.tenant(),
            actor: admin.actor(),
            by_admin,
            effects: admin.portal.effects.clone(),
        });
    }
    let operator = if change {
        crate::portal::Operator::require_role(service::OperatorRole::Operator).await?
    } else {
        crate::portal::Operator::require().await?
    };
    let slug: service::TenantSlug = tenant.parse().map_err(|_| PortalError::no_such_tenant())?;
    let found = service::tenants::find(operator.store(), &slug).await?.ok_or_else(PortalError::no_such_tenant)?;
    Ok(TenantReach {
        store: operator.store().clone(),
        tenant: found.id,
        actor: operator.actor(),
        by_admin: None,
        effects: operator.portal.effects.clone(),
    })
}

/// A tenant's admins: `tenant` is the slug for an operator, empty for the tenant's admin.
#[server(endpoint = "tenant_admins")]
pub async fn tenant_admins(tenant: String) -> Result<Vec<AdminRow>, PortalError> {
    let reach = tenant_reach(&tenant, false).await?;
    let admins = service::admins::admins(&reach.store, reach.tenant).await?;
    Ok(admins
        .into_iter()
        .map(|admin| AdminRow {
            id: admin.id.to_string(),
            signs_in_with: match (admin.password_hash.is_some(), admin.oidc_subject.is_some()) {
                (true, true) => "password or single sign-on",
                (false, true) => "single sign-on",
                _ => "password",
            }
            .to_owned(),
            since: admin.created_at.format("%Y-%m-%d").to_string(),
            disabled: admin.disabled_at.is_some(),
            email_confirmed: admin.email_verified_at.is_some(),
            is_you: reach.by_admin == Some(admin.id),
            email: admin.email,
        })
        .collect())
}

/// Disables, enables or removes one of a tenant's admins (recorded in the tenant's trail).
#[server(endpoint = "change_tenant_admin")]
pub async fn change_tenant_admin(tenant: String, admin: String, change: String) -> Result<(), PortalError> {
    let reach = tenant_reach(&tenant, true).await?;
    let target = admin.parse().map_err(|_| PortalError::NotFound("There is no such account.".to_owned()))?;
    let now = reach.effects.now();
    if change == "confirm-email" {
        // An admin vouching for a colleague's address would let a tenant claim anyone's.
        if reach.by_admin.is_some() || tenant.is_empty() {
            return Err(PortalError::Forbidden(
                "Only an operator confirms an admin's email for them; admins follow the link mailed to them."
                    .to_owned(),
            ));
        }
        service::email_confirmation::confirm_by_operator(&reach.store, &reach.actor, reach.tenant, target, now).await?;
        crate::error::after_plain_form_post_go_back_to_page();
        return Ok(());
    }
    let change = parse_change(&change)?;
    service::people::change_admin(&reach.store, &reach.actor, reach.by_admin, reach.tenant, target, change, now)
        .await
        .map_err(refused)?;
    // The panel is on the tenant's page and on the admin's home: back to the one it was
    // posted from, without the confirmation it may have been on.
    crate::error::after_plain_form_post_go_back_to_page();
    Ok(())
}

/// `/account`: the signed-in person's password.
#[component]
pub fn AccountPage() -> impl IntoView {
    move || match signed_in_account() {
        Some(Account::Operator(operator)) => view! { <TopBar operator/><PasswordSection email=false/> }.into_any(),
        Some(Account::Admin(admin)) => {
            let through_link = admin.vendor.is_some();
            view! {
                <AdminTopBar admin/>
                {if through_link {
                    view! {
                        <main class="mx-auto max-w-5xl px-4 py-10 sm:px-6">
                            <h1 class="text-2xl font-bold tracking-tight">"Your account"</h1>
                            <p class="mt-2 text-sm text-slate-700">"Your vendor's product signed you in; there is no password to change here."</p>
                        </main>
                    }.into_any()
                } else {
                    view! { <PasswordSection email=true/> }.into_any()
                }}
            }
            .into_any()
        }
        None => view! { <leptos_router::components::Redirect path="/sign-in"/> }.into_any(),
    }
}

/// `email`: an admin's account, whose email may still need confirming.
#[component]
fn PasswordSection(email: bool) -> impl IntoView {
    // A plain form: a change comes back as `?password=changed&others=<n>`, a refusal in the
    // address.
    let changed = use_query_map().with_untracked(|query| {
        (query.get("password").as_deref() == Some("changed"))
            .then(|| query.get("others").and_then(|n| n.parse::<u64>().ok()).unwrap_or(0))
    });
    view! {
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <h1 class="text-2xl font-bold tracking-tight">"Your account"</h1>
            {email.then(|| view! { <crate::pages::confirm_email::EmailSection/> })}
            <section class=CARD aria-labelledby="password-heading">
                <h2 id="password-heading" class="text-lg font-semibold">"Change your password"</h2>
                <p class="mt-1 text-sm text-slate-600">
                    "At least 12 characters. Every other browser signed in as you is signed out at once; this one stays signed in."
                </p>
                <form method="post" action=ChangePassword::url() class="mt-4 space-y-3">
                    <div>
                        <label for="current-password" class="block text-sm font-medium text-slate-700">"Current password"</label>
                        <input id="current-password" name="current" type="password" required autocomplete="current-password" class=INPUT/>
                    </div>
                    <div>
                        <label for="new-password" class="block text-sm font-medium text-slate-700">"New password"</label>
                        <input id="new-password" name="new" type="password" required minlength="12" autocomplete="new-password" class=INPUT/>
                    </div>
                    <div>
                        <label for="confirm-password" class="block text-sm font-medium text-slate-700">"New password again"</label>
                        <input id="confirm-password" name="confirm" type="password" required minlength="12" autocomplete="new-password" class=INPUT/>
                    </div>
                    <button id="change-password" type="submit" class=PRIMARY_BUTTON>"Change password"</button>
                </form>
                <div class="mt-4" aria-live="polite">
                    {changed.map(|others| view! {
                        <p id="password-changed" class="rounded-lg bg-emerald-50 p-3 text-sm text-emerald-800">
                            {match others {
                                0 => "Your password is changed.".to_owned(),
                                1 => "Your password is changed; 1 other session was signed out.".to_owned(),
                                n => format!("Your password is changed; {n} other sessions were signed out."),
                            }}
                        </p>
                    })}
                    {refusal_of::<ChangePassword>().map(|error| view! { <div id="password-error"><ErrorBox message=error.to_string()/></div> })}
                </div>
            </section>
        </main>
    }
}

/// A tenant's admins with what the viewer may do to them. `tenant`: the slug on the
/// operator's tenant page, empty on the admin's home. `may_change`: the viewer's role
/// allows changes (support staff and Admin Portal visitors only read).
#[component]
pub fn AdminsPanel(tenant: String, may_change: bool) -> impl IntoView {
    let page = use_location().pathname.get_untracked();
    let removing = use_query_map().with_untracked(|query| query.get("remove_admin"));
    let admins = Resource::new(|| (), {
        let tenant = tenant.clone();
        move |_| tenant_admins(tenant.clone())
    });
    view! {
        <section class=CARD aria-labelledby="admins-heading">
            <h2 id="admins-heading" class="text-lg font-semibold">"Admins"</h2>
            <p class="mt-1 text-sm text-slate-600">"Disabling or removing an admin signs them out everywhere at once."</p>
            {refusal_of::<ChangeTenantAdmin>().map(|error| view! { <div id="admin-change-error" class="mt-3"><ErrorBox message=error.to_string()/></div> })}
            <Suspense fallback=|| view! { <Skeleton/> }>
                {move || {
                    let (tenant, page, removing) = (tenant.clone(), page.clone(), removing.clone());
                    Suspend::new(async move {
                        match admins.await {
                            Ok(rows) if rows.is_empty() => view! {
                                <p id="no-admins" class="mt-4 text-sm text-slate-600">"No admin yet: the setup link has not been used."</p>
                            }.into_any(),
                            Ok(rows) => {
                                let asked = removing
                                    .filter(|_| may_change)
                                    .and_then(|id| rows.iter().find(|row| row.id == id && !row.is_you).cloned());
                                view! {
                                    {asked.map(|row| view! { <RemoveConfirmation tenant=tenant.clone() page=page.clone() row/> })}
                                    <AdminList tenant page rows may_change/>
                                }.into_any()
                            }
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

/// Asks before an admin is removed.
#[component]
fn RemoveConfirmation(tenant: String, page: String, row: AdminRow) -> impl IntoView {
    let email = row.email;
    view! {
        <div id="remove-admin-confirmation" role="alertdialog" aria-labelledby="remove-admin-question"
            class="mt-4 rounded-lg border border-red-200 bg-red-50 p-4">
            <p id="remove-admin-question" class="text-sm font-semibold text-red-900">
                {format!("Remove {email}? They are signed out at once and need a new setup link to come back.")}
            </p>
            <form method="post" action=ChangeTenantAdmin::url() class="mt-3 flex flex-wrap items-center gap-3">
                <input type="hidden" name="tenant" value=tenant/>
                <input type="hidden" name="admin" value=row.id/>
                <input type="hidden" name="change" value="remove"/>
                <button id="confirm-remove-admin" type="submit" class=DANGER_BUTTON>{format!("Remove {email}")}</button>
                <a id="cancel-remove-admin" href=page rel="external" class=SECONDARY_BUTTON>"Keep them"</a>
            </form>
        </div>
    }
}

#[component]
fn AdminList(tenant: String, page: String, rows: Vec<AdminRow>, may_change: bool) -> impl IntoView {
    view! {
        <ul id="admin-list" class="mt-4 divide-y divide-slate-100 text-sm">
            {rows.into_iter().map(|row| {
                let tenant = tenant.clone();
                let toggle = if row.disabled { "enable" } else { "disable" };
                let toggle_label = if row.disabled { "Enable" } else { "Disable" };
                let ask_to_remove = format!("{page}?remove_admin={}#remove-admin-confirmation", row.id);
                let actions = may_change && !row.is_you;
                // Operators vouch for an address when the deployment sends no mail.
                let confirm_email = may_change && !tenant.is_empty() && !row.email_confirmed;
                let (confirm_tenant, confirm_admin) = (tenant.clone(), row.id.clone());
                view! {
                    <li class="flex flex-wrap items-center justify-between gap-3 py-2" data-admin=row.email>
                        <div>
                            <span class="font-medium text-slate-900">{row.email.clone()}</span>
                            {row.is_you.then(|| view! { <span class="ml-2 text-xs text-slate-500">"(you)"</span> })}
                            <p class="text-xs text-slate-600">{format!("Signs in with {}; admin since {}", row.signs_in_with, row.since)}</p>
                        </div>
                        <div class="flex items-center gap-3">
                            {row.disabled.then(|| view! { <Badge tone="bad" text="Disabled".to_owned()/> })}
                            {(!row.email_confirmed).then(|| view! { <Badge tone="warn" text="Email not confirmed".to_owned()/> })}
                            {confirm_email.then(|| view! {
                                <form method="post" action=ChangeTenantAdmin::url()>
                                    <input type="hidden" name="tenant" value=confirm_tenant/>
                                    <input type="hidden" name="admin" value=confirm_admin/>
                                    <input type="hidden" name="change" value="confirm-email"/>
                                    <button type="submit" class="confirm-admin-email text-xs font-semibold text-slate-700 hover:text-slate-900">"Confirm email"</button>
                                </form>
                            })}
                            {actions.then(|| view! {
                                <form method="post" action=ChangeTenantAdmin::url()>
                                    <input type="hidden" name="tenant" value=tenant.clone()/>
                                    <input type="hidden" name="admin" value=row.id.clone()/>
                                    <input type="hidden" name="change" value=toggle/>
                                    <button type="submit" class="toggle-admin text-xs font-semibold text-slate-700 hover:text-slate-900">{toggle_label}</button>
                                </form>
                                <a href=ask_to_remove rel="external" class="remove-admin text-xs font-semibold text-red-700 hover:text-red-600">"Remove"</a>
                            })}
                        </div>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
