//! `/admin`: the tenant admin's home: the organisation's directories with their setup
//! progress, and its admins, with invitations for more.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{
    AdminTopBar, Badge, CopyField, DeletionOutcome, ErrorBox, STEPS, SignedInAdmin, Skeleton, deletion_notice,
    refusal_box, shown_once,
};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use crate::portal::Admin;

/// One directory on the admin's home page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorySummary {
    pub id: String,
    pub idp_name: String,
    pub step: u8,
    pub completed: bool,
    pub created: String,
}

/// The admin's home page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeData {
    pub tenant_name: String,
    pub email: String,
    pub directories: Vec<DirectorySummary>,
    pub admins: Vec<String>,
    /// An admin account (not someone sent in with an Admin Portal link): may change the
    /// other admins.
    pub manages_admins: bool,
}

#[server(endpoint = "admin_home")]
pub async fn admin_home() -> Result<HomeData, PortalError> {
    let admin = Admin::require().await?;
    let setups = service::onboarding::directory_setups(admin.store(), admin.tenant()).await?;
    let admins = service::admins::admins(admin.store(), admin.tenant()).await?;
    let manages_admins = admin.session.portal_link().is_none();
    Ok(HomeData {
        tenant_name: admin.session.tenant_name,
        email: admin.session.email,
        directories: setups
            .into_iter()
            .map(|setup| DirectorySummary {
                id: setup.directory.id.to_string(),
                idp_name: setup.directory.idp.display_name().to_owned(),
                step: setup.state.step,
                completed: setup.state.completed.is_some(),
                created: setup.directory.created_at.format("%Y-%m-%d").to_string(),
            })
            .collect(),
        admins: admins.into_iter().map(|admin| admin.email).collect(),
        manages_admins,
    })
}

/// Makes a setup link that invites a colleague to the admin's tenant; returns its address.
#[server(endpoint = "invite_admin")]
pub async fn invite_admin(valid_days: u32) -> Result<String, PortalError> {
    let admin = Admin::require().await?;
    let lifetime = chrono::Duration::days(i64::from(valid_days));
    let link = service::admins::create_setup_link(
        admin.store(),
        admin.tenant(),
        &admin.actor(),
        lifetime,
        &admin.portal.effects,
    )
    .await?;
    let url = link.url(admin.portal.public_base());
    crate::error::show_once_after_plain_form_post("/admin", NEW_INVITATION, &url).await?;
    Ok(url)
}

/// The invitation the last invite of this session made, sealed under `key` for the page
/// the browser was sent back to: taken, so it is shown once.
#[server(endpoint = "take_invitation")]
pub async fn take_invitation(key: String) -> Result<Option<String>, PortalError> {
    Admin::require().await?;
    crate::error::take_shown_once(NEW_INVITATION, &key).await
}

/// The address parameter (and kind of one-time outcome) of an invitation just made.
const NEW_INVITATION: &str = "new_invitation";

/// `/admin`: the organisation's directories, with their setup progress, and its admins.
#[component]
pub fn AdminHomePage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <AdminHomeView admin/> }.into_any()/> }
}

/// Works whole without the bundle: the directories and the panels are rendered on the
/// server, the forms are plain forms, an invitation is sealed for the one page that shows
/// it. The panels sit outside the directories' boundary, each owning its own.
#[component]
fn AdminHomeView(admin: AdminView) -> impl IntoView {
    // An admin account (not someone the vendor's product sent in with an Admin Portal
    // link) may change the other admins.
    let manages_admins = admin.vendor.is_none();
    let home = Resource::new(|| (), |_| admin_home());
    let deleted = deletion_notice();
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            // A directory deleted from its dashboard lands here.
            <DeletionOutcome notice=deleted/>
            <Suspense fallback=|| view! { <Skeleton/> }>
                {move || Suspend::new(async move {
                    match home.await {
                        Ok(home) => view! { <HomeContent home/> }.into_any(),
                        Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    }
                })}
            </Suspense>
            <crate::pages::alerts::AlertsPanel/>
            <crate::pages::people::AdminsPanel tenant=String::new() may_change=manages_admins/>
            <InviteSection/>
            <crate::pages::setup_links::SetupLinksPanel tenant=String::new() may_change=manages_admins/>
        </main>
    }
}

#[component]
fn HomeContent(home: HomeData) -> impl IntoView {
    let directories = home.directories;
    let empty = directories.is_empty();
    view! {
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"Directory sync"</h1>
                <p class="mt-1 text-sm text-slate-600">{format!("Identity providers connected for {}.", home.tenant_name)}</p>
            </div>
            <A href="/admin/connect" attr:id="connect-idp" attr:class=PRIMARY_BUTTON>"Connect an identity provider"</A>
        </div>
        <section class=CARD aria-labelledby="directories-heading">
            <h2 id="directories-heading" class="text-lg font-semibold">"Directories"</h2>
            {if empty {
                view! { <p id="no-directories" class="mt-2 text-sm text-slate-600">"Nothing is connected yet. Start with Connect an identity provider."</p> }.into_any()
            } else {
                view! {
                    <ul id="directory-list" class="mt-4 divide-y divide-slate-100">
                        {directories.into_iter().map(|directory| {
                            let (badge, tone) = if directory.completed {
                                ("Connected".to_owned(), "good")
                            } else {
                                (format!("Setup: step {} of {}", directory.step, STEPS.len()), "warn")
                            };
                            let continue_href = if directory.completed {
                                format!("/admin/directories/{}", directory.id)
                            } else {
                                let (step, _) = STEPS[usize::from(directory.step).clamp(1, STEPS.len()) - 1];
                                format!("/admin/directories/{}/setup/{step}", directory.id)
                            };
                            let action = if directory.completed { "Open dashboard" } else { "Continue setup" };
                            view! {
                                <li class="flex flex-wrap items-center justify-between gap-3 py-3">
                                    <div>
                                        <p class="font-medium">{directory.idp_name}</p>
                                        <p class="text-xs text-slate-500">{format!("Added {}", directory.created)}</p>
                                    </div>
                                    <div class="flex items-center gap-4">
                                        <Badge tone text=badge/>
                                        <A href=continue_href attr:class="text-sm font-semibold text-accent hover:text-accent-strong">{action}</A>
                                    </div>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn InviteSection() -> impl IntoView {
    let shown = use_query_map().with_untracked(|query| query.get(NEW_INVITATION));
    let invitation = shown_once(shown, take_invitation);
    view! {
        <section class=CARD aria-labelledby="invite-heading">
            <h2 id="invite-heading" class="text-lg font-semibold">"Invite an admin"</h2>
            <form method="post" action=InviteAdmin::url() class="mt-4 flex flex-wrap items-end gap-4">
                <div>
                    <label for="invite-valid-days" class="block text-sm font-medium text-slate-700">"Invitation valid for"</label>
                    <select id="invite-valid-days" name="valid_days" class=INPUT>
                        <option value="1">"1 day"</option>
                        <option value="7" selected>"7 days"</option>
                        <option value="30">"30 days"</option>
                    </select>
                </div>
                <button id="invite-admin" type="submit" class=SECONDARY_BUTTON>"Invite another admin"</button>
            </form>
            <div class="mt-4" aria-live="polite">
                {refusal_box::<InviteAdmin>()}
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match invitation.await {
                            Ok(Some(url)) => view! {
                                <div class="rounded-lg border border-emerald-200 bg-emerald-50 p-4">
                                    <CopyField id="invite-link" label="Invitation link" value=url/>
                                    <p class="mt-2 text-sm text-emerald-900">"Send it to your colleague. It works once, and is shown only now."</p>
                                </div>
                            }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </section>
    }
}
