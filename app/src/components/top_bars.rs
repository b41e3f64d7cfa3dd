//! The bars across the top of signed-in pages: the console's and the tenant admin's.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::auth::{AdminView, OperatorView, SignOut};
use crate::components::BrandMark;

/// The bar across the top of every signed-in page: where to go, who is signed in, and
/// signing out (a POST form: nothing changes state on GET).
#[component]
pub(crate) fn TopBar(operator: OperatorView) -> impl IntoView {
    let link = "rounded-md px-2 py-1 font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 \
                aria-[current=page]:bg-accent-soft aria-[current=page]:text-accent-strong";
    view! {
        <div class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-3 px-4 py-3 text-sm sm:px-6">
                <nav class="flex flex-wrap items-center gap-x-2 gap-y-1" aria-label="Main">
                    <span class="mr-3"><BrandMark/></span>
                    <A href="/" exact=true attr:class=link>"Status"</A>
                    <A href="/tenants" attr:class=link>"Tenants"</A>
                    <A href="/support" attr:class=link>"Support"</A>
                    <A href="/team" attr:class=link>"Team"</A>
                    <A href="/api-keys" attr:class=link>"API keys"</A>
                    <A href="/roles" attr:class=link>"Roles"</A>
                    <A href="/branding" attr:class=link>"Branding"</A>
                </nav>
                <SignedInAs email=operator.email/>
            </div>
        </div>
    }
}

/// The bar across the top of the admin's pages; for someone the vendor's product sent in
/// with an Admin Portal link, also the way back to it (leaving before setup is complete).
#[component]
pub(crate) fn AdminTopBar(admin: AdminView) -> impl IntoView {
    let back = admin.vendor.and_then(|vendor| vendor.return_url.map(|url| (vendor.name, url)));
    view! {
        <div class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-3 px-4 py-3 text-sm sm:px-6">
                <nav class="flex flex-wrap items-center gap-x-3 gap-y-1" aria-label="Main">
                    <BrandMark/>
                    <span class="text-slate-400">"·"</span>
                    <A href="/admin" attr:class="font-semibold text-slate-900">{admin.tenant_name}</A>
                    <span class="text-slate-400">"·"</span>
                    <A href="/admin" exact=true attr:class="text-slate-600 hover:text-slate-900 aria-[current=page]:font-semibold aria-[current=page]:text-accent-strong">"Directory sync"</A>
                    <A href="/admin/audit" attr:class="text-slate-600 hover:text-slate-900 aria-[current=page]:font-semibold aria-[current=page]:text-accent-strong">"Audit trail"</A>
                    <A href="/admin/offboarding" attr:class="text-slate-600 hover:text-slate-900 aria-[current=page]:font-semibold aria-[current=page]:text-accent-strong">"Offboarding"</A>
                    <A href="/admin/webhooks" attr:class="text-slate-600 hover:text-slate-900 aria-[current=page]:font-semibold aria-[current=page]:text-accent-strong">"Webhooks"</A>
                </nav>
                <div class="flex flex-wrap items-center gap-4">
                    <UnconfirmedEmail/>
                    {back.map(|(name, url)| view! {
                        <a id="return-to-vendor" href=url rel="noreferrer" class="font-semibold text-accent hover:text-accent-strong">
                            {format!("Back to {name}")}
                        </a>
                    })}
                    <SignedInAs email=admin.email/>
                </div>
            </div>
        </div>
    }
}

/// A reminder while the admin's email is not their sign-in name yet: without it they
/// cannot sign in again once this session ends.
#[component]
fn UnconfirmedEmail() -> impl IntoView {
    let state = Resource::new(|| (), |_| crate::pages::confirm_email::email_confirmation());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match state.await {
                    Ok(Some(state)) if !state.confirmed => view! {
                        <a id="confirm-email-reminder" href="/account" class="rounded-md bg-amber-50 px-2 py-1 font-semibold text-amber-800 hover:bg-amber-100">
                            "Confirm your email"
                        </a>
                    }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}

/// Who is signed in, and signing out: the right end of both bars.
#[component]
fn SignedInAs(email: String) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <div class="flex items-center gap-4">
            <span class="text-slate-600">
                "Signed in as " <a id="signed-in-as" href="/account" title="Your account and password" class="font-medium text-slate-900 underline decoration-slate-300 hover:decoration-slate-900">{email}</a>
            </span>
            <ActionForm action=sign_out>
                <button id="sign-out" type="submit" class="font-semibold text-accent hover:text-accent-strong">
                    "Sign out"
                </button>
            </ActionForm>
        </div>
    }
}
