//! Confirming an admin's email: `/confirm-email/{secret}` (the link mailed to them), and
//! [`EmailSection`] on the admin's account page (whether it is confirmed; the link sent
//! again). Until it is confirmed, an admin's email is not their sign-in name (see
//! `service::email_confirmation`). Following the link changes nothing by itself: mail
//! scanners open links, so the page asks for a click.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_meta::Meta;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::components::style::{CARD, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{BrandMark, ErrorBox, ErrorView, refusal_of};
use crate::error::PortalError;

/// What a confirmation link confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEmail {
    pub email: String,
    pub tenant_name: String,
}

/// The signed-in admin's email and whether it is their sign-in name yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailState {
    pub email: String,
    pub confirmed: bool,
    /// Whether the deployment sends mail (else an operator confirms the address).
    pub mail_enabled: bool,
}

#[server(endpoint = "open_email_confirmation")]
pub async fn open_email_confirmation(secret: String) -> Result<PendingEmail, PortalError> {
    let portal = crate::portal::Portal::current()?;
    let pending = service::email_confirmation::open_link(&portal.store, &secret, portal.now()).await?;
    Ok(PendingEmail { email: pending.email, tenant_name: pending.tenant_name })
}

/// Follows a confirmation link; returns the email that is now a sign-in name.
#[server(endpoint = "confirm_email")]
pub async fn confirm_email(secret: String) -> Result<String, PortalError> {
    let portal = crate::portal::Visitor::current()?.portal;
    let confirmed = service::email_confirmation::confirm_with_link(&portal.store, &secret, &portal.effects)
        .await
        .map_err(PortalError::from);
    match &confirmed {
        // The link is used now: reopening its page would only say so. The sign-in page
        // says the address is confirmed (not which: addresses stay out of addresses).
        Ok(_) => crate::error::after_plain_form_post_go_to("/sign-in?email=confirmed"),
        Err(error) => {
            crate::error::back_to_secret_page::<ConfirmEmail>(&format!("/confirm-email/{secret}"), error);
        }
    }
    confirmed
}

/// The signed-in admin's email state; `None` for someone an Admin Portal link signed in
/// (they have no account).
#[server(endpoint = "email_confirmation")]
pub async fn email_confirmation() -> Result<Option<EmailState>, PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let service::session::AdminIdentity::Account(id) = admin.session.identity else { return Ok(None) };
    let state = service::email_confirmation::state(admin.store(), admin.tenant(), id).await?;
    Ok(state.map(|state| EmailState {
        email: state.email,
        confirmed: state.confirmed,
        mail_enabled: admin.portal.mailer.is_some(),
    }))
}

/// Mails the signed-in admin a new confirmation link.
#[server(endpoint = "send_email_confirmation")]
pub async fn send_email_confirmation() -> Result<(), PortalError> {
    let admin = crate::portal::Admin::require().await?;
    let service::session::AdminIdentity::Account(id) = admin.session.identity else {
        return Err(PortalError::Forbidden(
            "Your vendor's product signed you in: you have no account here.".to_owned(),
        ));
    };
    let portal = &admin.portal;
    service::email_confirmation::send_link(
        admin.store(),
        portal.mailer.as_ref(),
        portal.public_base(),
        admin.tenant(),
        id,
        &portal.effects,
    )
    .await?;
    crate::error::after_plain_form_post_go_to("/account?confirmation=sent");
    Ok(())
}

/// `/confirm-email/{secret}`: asks the visitor to confirm the address the link was sent to.
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let params = use_params_map();
    let secret = move || params.read().get("secret").unwrap_or_default();
    let pending = Resource::new_blocking(secret, open_email_confirmation);
    let confirm = ServerAction::<ConfirmEmail>::new();
    view! {
        // The secret is in this page's address: never send it on as a referrer.
        <Meta name="referrer" content="no-referrer"/>
        <main class="mx-auto flex min-h-screen max-w-md flex-col justify-center px-6 py-12">
            <p><BrandMark/></p>
            <p class="mt-4 text-sm font-semibold uppercase tracking-wide text-accent">"Directory sync"</p>
            <Suspense fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Checking the link…"</p> }>
                {move || Suspend::new(async move {
                    match pending.await {
                        Ok(pending) => view! {
                            <h1 class="mt-2 text-2xl font-bold tracking-tight">"Confirm your email"</h1>
                            <p class="mt-2 text-sm text-slate-600">
                                {format!("Confirm {} as your sign-in address for {}.", pending.email, pending.tenant_name)}
                            </p>
                            <ActionForm action=confirm attr:class="mt-6">
                                <input type="hidden" name="secret" value=secret()/>
                                <button id="confirm-email" type="submit" class=format!("{PRIMARY_BUTTON} w-full")>
                                    "Confirm my email"
                                </button>
                            </ActionForm>
                            <div class="mt-4" aria-live="polite">
                                {move || confirm.value().get().map(|result| match result {
                                    Ok(email) => view! {
                                        <p id="email-confirmed" class="rounded-lg bg-emerald-50 p-3 text-sm text-emerald-800">
                                            {format!("Confirmed: sign in with {email} from now on. ")}
                                            <A href="/sign-in" attr:class="font-semibold underline">"Sign in"</A>
                                        </p>
                                    }.into_any(),
                                    Err(error) => view! { <div id="confirm-email-error"><ErrorBox message=error.to_string()/></div> }.into_any(),
                                })}
                            </div>
                        }.into_any(),
                        Err(error) => view! {
                            <h1 class="mt-2 text-2xl font-bold tracking-tight">"This link cannot be used"</h1>
                            <div id="confirm-email-refused" class="mt-6"><ErrorView error/></div>
                            <p class="mt-6 text-sm text-slate-600">
                                <A href="/sign-in" attr:class="font-semibold text-accent hover:text-accent-strong">"Sign in"</A>
                            </p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

/// The admin's email on their account page: confirmed (their sign-in name) or not, and
/// the confirmation link sent again.
#[component]
pub fn EmailSection() -> impl IntoView {
    // A plain form: a sent link comes back as `?confirmation=sent`, a refusal in the address.
    let sent = leptos_router::hooks::use_query_map().with_untracked(|query| query.get("confirmation").is_some());
    let state = Resource::new(|| (), |_| email_confirmation());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(Some(state)) = state.await else { return ().into_any() };
                view! {
                    <section class=CARD aria-labelledby="email-heading">
                        <h2 id="email-heading" class="text-lg font-semibold">"Your email"</h2>
                        {if state.confirmed {
                            view! {
                                <p id="email-state" class="mt-1 text-sm text-slate-600">
                                    {format!("{} is confirmed: you sign in with it.", state.email)}
                                </p>
                            }.into_any()
                        } else if state.mail_enabled {
                            view! {
                                <p id="email-state" class="mt-1 text-sm text-slate-700">
                                    {format!("{} is not confirmed yet: follow the link we mailed to it to sign in with it later. Until then, this browser stays signed in.", state.email)}
                                </p>
                                <form method="post" action=SendEmailConfirmation::url() class="mt-4">
                                    <button id="send-confirmation" type="submit" class=SECONDARY_BUTTON>"Send the link again"</button>
                                </form>
                                <div class="mt-3" aria-live="polite">
                                    {sent.then(|| view! { <p id="confirmation-sent" class="text-sm text-emerald-800">"Sent. The newest link and any earlier one work."</p> })}
                                    {refusal_of::<SendEmailConfirmation>().map(|error| view! { <ErrorBox message=error.to_string()/> })}
                                </div>
                            }.into_any()
                        } else {
                            view! {
                                <p id="email-state" class="mt-1 text-sm text-slate-700">
                                    {format!("{} is not confirmed yet, and this deployment sends no email: ask your operator to confirm it, so that you can sign in with it later. Until then, this browser stays signed in.", state.email)}
                                </p>
                            }.into_any()
                        }}
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}
