//! `/setup/{secret}`: a setup link. The visitor picks an email and password (or signs in
//! with their organisation's single sign-on) and becomes an admin of the link's tenant.

use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::components::style::{INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{BrandMark, ErrorBox, ErrorView};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use crate::portal::{Portal, Visitor};

/// What a setup link invites to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupInvite {
    pub tenant_name: String,
    /// The organisation's single sign-on provider, if the operator configured one.
    pub sso_provider: Option<String>,
    /// The address the link was emailed to: offered as the admin's email.
    pub sent_to: Option<String>,
}

#[server(endpoint = "open_setup_link")]
pub async fn open_setup_link(secret: String) -> Result<SetupInvite, PortalError> {
    // The visitor has no account yet: the page needs the deployment, not a session.
    let portal = Portal::current()?;
    let store = &portal.store;
    let invitation = service::admins::open_setup_link(store, &secret, portal.now()).await?;
    let sso_provider = service::sso::provider(store, invitation.tenant.id).await?;
    Ok(SetupInvite {
        tenant_name: invitation.tenant.display_name,
        sso_provider: sso_provider.map(|p| p.display_name),
        sent_to: invitation.sent_to,
    })
}

/// Makes the visitor an admin of the link's tenant and signs them in.
#[server(endpoint = "accept_setup_link")]
pub async fn accept_setup_link(
    secret: String,
    email: String,
    password: String,
    password_again: String,
) -> Result<(), PortalError> {
    let accepted = accept(&secret, email, password, password_again).await;
    if let Err(error) = &accepted {
        crate::error::back_to_secret_page::<AcceptSetupLink>(&format!("/setup/{secret}"), error);
    }
    accepted
}

#[cfg(feature = "ssr")]
async fn accept(secret: &str, email: String, password: String, password_again: String) -> Result<(), PortalError> {
    let visitor = Visitor::current()?;
    if password != password_again {
        return Err(PortalError::Invalid("The two passwords differ. Type the same password twice.".to_owned()));
    }
    let store = &visitor.portal.store;
    let portal = &visitor.portal;
    let admin = service::admins::redeem_setup_link(store, secret, &email, password, &portal.effects).await?;
    service::email_confirmation::send_first_link(
        store,
        portal.mailer.as_ref(),
        portal.public_base(),
        &admin,
        &portal.effects,
    )
    .await;
    let landing = service::admins::landing_page(store, admin.tenant).await?;
    visitor.session.start(store, &service::admins::SignedInAccount::Admin(admin)).await?;
    leptos_axum::redirect(landing);
    Ok(())
}

/// `/setup/{secret}`: a setup link. The visitor picks an email and password and becomes an
/// admin of the link's organisation.
#[component]
pub fn SetupLinkPage() -> impl IntoView {
    let params = use_params_map();
    let secret = move || params.read().get("secret").unwrap_or_default();
    let invite = Resource::new_blocking(secret, open_setup_link);
    view! {
        // The secret is in this page's address: never send it on as a referrer.
        <Meta name="referrer" content="no-referrer"/>
        <main class="mx-auto flex min-h-screen max-w-md flex-col justify-center px-6 py-12">
            <p><BrandMark/></p>
            <p class="mt-4 text-sm font-semibold uppercase tracking-wide text-accent">"Directory sync setup"</p>
            <Suspense fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Checking the link…"</p> }>
                {move || Suspend::new(async move {
                    match invite.await {
                        Ok(invite) => view! {
                            <AcceptForm secret=secret() tenant_name=invite.tenant_name email=invite.sent_to.unwrap_or_default()/>
                            {invite.sso_provider.map(|provider| view! {
                                <div class="mt-8 border-t border-slate-200 pt-6">
                                    <p class="text-sm text-slate-600">"Or, without a password:"</p>
                                    // A plain form: the answer is a redirect to another site.
                                    <form method="post" action="/sso/start" class="mt-3">
                                        <input type="hidden" name="setup" value=secret()/>
                                        <button id="setup-with-sso" type="submit" class=format!("{SECONDARY_BUTTON} w-full")>
                                            {format!("Continue with {provider}")}
                                        </button>
                                    </form>
                                </div>
                            })}
                        }.into_any(),
                        Err(error) => view! {
                            <h1 class="mt-2 text-2xl font-bold tracking-tight">"This link cannot be used"</h1>
                            <div id="setup-link-refused" class="mt-6"><ErrorView error/></div>
                            <p class="mt-6 text-sm text-slate-600">
                                "Already set up? " <A href="/sign-in" attr:class="font-semibold text-accent hover:text-accent-strong">"Sign in"</A>
                            </p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn AcceptForm(secret: String, tenant_name: String, email: String) -> impl IntoView {
    let accept = ServerAction::<AcceptSetupLink>::new();
    let pending = accept.pending();
    let failure = move || accept.value().get().and_then(Result::err).map(|error| error.to_string());
    view! {
        <h1 class="mt-2 text-2xl font-bold tracking-tight">{format!("Connect {tenant_name}'s identity provider")}</h1>
        <p class="mt-2 text-sm text-slate-600">
            "Create your admin account. Next, a step-by-step guide connects your identity provider, so that "
            "users and groups are provisioned automatically."
        </p>
        <ActionForm action=accept attr:class="mt-8 space-y-5" attr:aria-describedby="accept-error">
            <input type="hidden" name="secret" value=secret/>
            <div>
                <label for="admin-email" class="block text-sm font-medium text-slate-700">"Your work email"</label>
                <input id="admin-email" name="email" type="email" autocomplete="username" required
                    value=email aria-describedby="email-hint" class=INPUT/>
                <p id="email-hint" class="mt-1 text-xs text-slate-500">"You sign in with it once you confirm it: we send a link to it."</p>
            </div>
            <div>
                <label for="admin-password" class="block text-sm font-medium text-slate-700">"Choose a password"</label>
                <input id="admin-password" name="password" type="password" autocomplete="new-password" minlength="12" required
                    aria-describedby="password-hint" class=INPUT/>
                <p id="password-hint" class="mt-1 text-xs text-slate-500">"At least 12 characters. A passphrase is best."</p>
            </div>
            <div>
                <label for="admin-password-again" class="block text-sm font-medium text-slate-700">"Type it again"</label>
                <input id="admin-password-again" name="password_again" type="password" autocomplete="new-password" minlength="12" required class=INPUT/>
            </div>
            <button id="create-account" type="submit" class=format!("{PRIMARY_BUTTON} w-full") disabled=move || pending.get()>
                {move || if pending.get() { "Creating your account…" } else { "Create account and continue" }}
            </button>
        </ActionForm>
        <div id="accept-error" class="mt-4" aria-live="assertive">
            {move || failure().map(|message| view! { <ErrorBox message/> })}
        </div>
    }
}
