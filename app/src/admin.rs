//! The tenant admin's side of the portal: accepting a setup link, the home page with the
//! organisation's directories and admins, and the pieces every admin page shares.

use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::components::{A, Redirect};
use leptos_router::hooks::use_params_map;

use crate::auth::{Account, AdminView, SignOut, signed_in_account};
use crate::onboarding::{AcceptSetupLink, InviteAdmin, admin_home, open_setup_link};
use crate::pages::{ErrorBox, ErrorView, PRIMARY_BUTTON};

pub(crate) const INPUT: &str = "mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm shadow-sm \
     focus:border-indigo-600 focus:outline-none focus:ring-2 focus:ring-indigo-600/30";
pub(crate) const CARD: &str = "rounded-xl border border-slate-200 bg-white p-6 shadow-sm";
pub(crate) const SECONDARY_BUTTON: &str = "rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-semibold \
     text-slate-700 shadow-sm hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 \
     focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:cursor-wait disabled:opacity-60";

/// Renders `page` for a signed-in tenant admin; an operator goes to the console, anyone
/// else to the sign-in page. Like [`crate::pages::SignedIn`], synchronous: the server
/// answers a redirect (routes using it must be `SsrMode::Async`).
#[component]
pub(crate) fn SignedInAdmin(page: fn(AdminView) -> AnyView) -> impl IntoView {
    move || match signed_in_account() {
        Some(Account::Admin(admin)) => page(admin),
        Some(Account::Operator(_)) => view! { <Redirect path="/"/> }.into_any(),
        None => view! { <Redirect path="/sign-in"/> }.into_any(),
    }
}

/// The bar across the top of the admin's pages.
#[component]
pub(crate) fn AdminTopBar(admin: AdminView) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <div class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-3 px-6 py-3 text-sm">
                <nav class="flex items-center gap-3" aria-label="Main">
                    <A href="/admin" attr:class="font-semibold text-slate-900">{admin.tenant_name}</A>
                    <span class="text-slate-400">"·"</span>
                    <A href="/admin" exact=true attr:class="text-slate-600 hover:text-slate-900 aria-[current=page]:font-semibold aria-[current=page]:text-indigo-700">"Directory sync"</A>
                    <A href="/admin/audit" attr:class="text-slate-600 hover:text-slate-900 aria-[current=page]:font-semibold aria-[current=page]:text-indigo-700">"Audit trail"</A>
                    <A href="/admin/webhooks" attr:class="text-slate-600 hover:text-slate-900 aria-[current=page]:font-semibold aria-[current=page]:text-indigo-700">"Webhooks"</A>
                </nav>
                <div class="flex items-center gap-4">
                    <span class="text-slate-600">
                        "Signed in as " <span id="signed-in-as" class="font-medium text-slate-900">{admin.email}</span>
                    </span>
                    <ActionForm action=sign_out>
                        <button id="sign-out" type="submit" class="font-semibold text-indigo-600 hover:text-indigo-500">
                            "Sign out"
                        </button>
                    </ActionForm>
                </div>
            </div>
        </div>
    }
}

/// A read-only value with a button that copies it to the clipboard.
#[component]
pub(crate) fn CopyField(id: &'static str, label: &'static str, value: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy_value = value.clone();
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">{label}</label>
            <div class="mt-1 flex gap-2">
                <input id=id readonly value=value
                    class="block w-full rounded-lg border border-slate-300 bg-slate-50 px-3 py-2 font-mono text-xs"/>
                <button type="button" class=SECONDARY_BUTTON aria-label=format!("Copy {}", label.to_lowercase())
                    on:click=move |_| {
                        copy_to_clipboard(&copy_value);
                        copied.set(true);
                    }>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
        </div>
    }
}

#[cfg(feature = "hydrate")]
fn copy_to_clipboard(text: &str) {
    if let Some(window) = web_sys::window() {
        // The promise is dropped: a refused copy leaves the value selectable by hand.
        let _ = window.navigator().clipboard().write_text(text);
    }
}

#[cfg(not(feature = "hydrate"))]
fn copy_to_clipboard(_text: &str) {}

/// A coloured label for a state.
#[component]
pub(crate) fn Badge(tone: &'static str, text: String) -> impl IntoView {
    let colours = match tone {
        "good" => "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
        "warn" => "bg-amber-50 text-amber-800 ring-amber-600/20",
        "bad" => "bg-red-50 text-red-700 ring-red-600/20",
        _ => "bg-slate-100 text-slate-700 ring-slate-500/20",
    };
    view! {
        <span class=format!("inline-flex items-center rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ring-inset {colours}")>
            {text}
        </span>
    }
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
            <p class="text-sm font-semibold uppercase tracking-wide text-indigo-600">"Directory sync setup"</p>
            <Suspense fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Checking the link…"</p> }>
                {move || Suspend::new(async move {
                    match invite.await {
                        Ok(invite) => view! {
                            <AcceptForm secret=secret() tenant_name=invite.tenant_name/>
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
                                "Already set up? " <A href="/sign-in" attr:class="font-semibold text-indigo-600 hover:text-indigo-500">"Sign in"</A>
                            </p>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn AcceptForm(secret: String, tenant_name: String) -> impl IntoView {
    let accept = ServerAction::<AcceptSetupLink>::new();
    let pending = accept.pending();
    let failure = move || accept.value().get().and_then(Result::err).map(|error| error.to_string());
    view! {
        <h1 class="mt-2 text-2xl font-bold tracking-tight">{format!("Connect {tenant_name}'s identity provider")}</h1>
        <p class="mt-2 text-sm text-slate-600">
            "Create your admin account. Next, a five-step guide connects your identity provider, so that "
            "users and groups are provisioned automatically."
        </p>
        <ActionForm action=accept attr:class="mt-8 space-y-5" attr:aria-describedby="accept-error">
            <input type="hidden" name="secret" value=secret/>
            <div>
                <label for="admin-email" class="block text-sm font-medium text-slate-700">"Your work email"</label>
                <input id="admin-email" name="email" type="email" autocomplete="username" required class=INPUT/>
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

/// `/admin`: the organisation's directories, with their setup progress, and its admins.
#[component]
pub fn AdminHomePage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <AdminHomeView admin/> }.into_any()/> }
}

#[component]
fn AdminHomeView(admin: AdminView) -> impl IntoView {
    let home = LocalResource::new(admin_home);
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-6 py-10">
            {move || {
                let Some(loaded) = home.get() else { return view! { <p class="text-sm text-slate-500">"Loading…"</p> }.into_any(); };
                match loaded {
                        Ok(home) => view! { <HomeContent home/> }.into_any(),
                        Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    }
            }}
        </main>
    }
}

#[component]
fn HomeContent(home: crate::onboarding::HomeData) -> impl IntoView {
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
                                (format!("Setup: step {} of 5", directory.step), "warn")
                            };
                            let continue_href = if directory.completed {
                                format!("/admin/directories/{}", directory.id)
                            } else {
                                let step = ["provider", "endpoint", "token", "mapping", "test"]
                                    [usize::from(directory.step.clamp(1, 5)) - 1];
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
                                        <A href=continue_href attr:class="text-sm font-semibold text-indigo-600 hover:text-indigo-500">{action}</A>
                                    </div>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <InviteSection admins=home.admins/>
    }
}

#[component]
fn InviteSection(admins: Vec<String>) -> impl IntoView {
    let invite = ServerAction::<InviteAdmin>::new();
    let outcome = invite.value();
    view! {
        <section class=CARD aria-labelledby="admins-heading">
            <h2 id="admins-heading" class="text-lg font-semibold">"Admins"</h2>
            <ul id="admin-list" class="mt-2 text-sm text-slate-700">
                {admins.into_iter().map(|email| view! { <li>{email}</li> }).collect_view()}
            </ul>
            <ActionForm action=invite attr:class="mt-4 flex flex-wrap items-end gap-4 border-t border-slate-100 pt-4">
                <div>
                    <label for="invite-valid-days" class="block text-sm font-medium text-slate-700">"Invitation valid for"</label>
                    <select id="invite-valid-days" name="valid_days" class=INPUT>
                        <option value="1">"1 day"</option>
                        <option value="7" selected>"7 days"</option>
                        <option value="30">"30 days"</option>
                    </select>
                </div>
                <button id="invite-admin" type="submit" class=SECONDARY_BUTTON>"Invite another admin"</button>
            </ActionForm>
            <div class="mt-4" aria-live="polite">
                {move || match outcome.get() {
                    Some(Ok(url)) => view! {
                        <div class="rounded-lg border border-emerald-200 bg-emerald-50 p-4">
                            <CopyField id="invite-link" label="Invitation link" value=url/>
                            <p class="mt-2 text-sm text-emerald-900">"Send it to your colleague. It works once, and is shown only now."</p>
                        </div>
                    }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
        </section>
    }
}
