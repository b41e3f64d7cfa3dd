//! The six-step onboarding wizard: choose the identity provider, set up the endpoint,
//! exchange a token, map attributes, grant roles to groups (skipped when the operator
//! defined no roles), test the sync. Each step explains itself for the
//! identity provider chosen; progress is kept on the server, so the wizard resumes.

pub mod calls;
pub mod guides;

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use self::calls::{
    ChangeProvider, ConnectionView, FeedView, IssueSetupClient, IssueSetupToken, MappingView, RequestView, RunSelfTest,
    SaveMapping, StartSetup, StoredPreviewView, WizardData, load_mapping, preview_stored_users, sync_feed,
    wizard_state,
};
use self::guides::{identity_providers, instructions, source};
use crate::auth::{AdminView, VendorReturn};
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{AdminTopBar, Badge, CopyField, ErrorBox, STEPS, SignedInAdmin, Skeleton, Stepper};
use crate::pages::group_roles::{GrantEditor, RepublishProgressPanel, load_grants};

/// The identity provider choice, as radio cards.
#[component]
fn ProviderChoice(selected: String) -> impl IntoView {
    view! {
        <fieldset>
            <legend class="text-sm font-medium text-slate-700">"Which identity provider manages your users?"</legend>
            <div class="mt-3 grid gap-3 sm:grid-cols-2">
                {identity_providers().into_iter().map(|(value, name, note)| {
                    let id = format!("idp-{value}");
                    let label_for = id.clone();
                    view! {
                        <label for=label_for class="flex cursor-pointer gap-3 rounded-lg border border-slate-200 p-4 hover:border-accent/60 has-[:checked]:border-accent has-[:checked]:bg-accent-soft">
                            <input id=id type="radio" name="idp" value=value required checked=selected == value class="mt-1"/>
                            <span>
                                <span class="block font-medium">{name}</span>
                                <span class="block text-xs text-slate-600">{note}</span>
                            </span>
                        </label>
                    }
                }).collect_view()}
            </div>
        </fieldset>
    }
}

/// `/admin/connect`: step 1 for a new directory.
#[component]
pub fn ConnectPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <ConnectView admin/> }.into_any()/> }
}

#[component]
fn ConnectView(admin: AdminView) -> impl IntoView {
    let start = ServerAction::<StartSetup>::new();
    let pending = start.pending();
    let failure = move || start.value().get().and_then(Result::err).map(|error| error.to_string());
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <Stepper directory=None current=1 reached=1/>
            <section class=CARD aria-labelledby="step-heading">
                <h1 id="step-heading" class="text-xl font-semibold">"Step 1: Choose your identity provider"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "The choice sets how this service reads your identity provider's requests, and which "
                    "instructions the next steps show."
                </p>
                <ActionForm action=start attr:class="mt-6 space-y-6">
                    <ProviderChoice selected=String::new()/>
                    <button id="choose-idp" type="submit" class=PRIMARY_BUTTON disabled=move || pending.get()>"Continue"</button>
                </ActionForm>
                <div class="mt-4" aria-live="assertive">{move || failure().map(|message| view! { <ErrorBox message/> })}</div>
            </section>
        </main>
    }
}

/// `/admin/directories/{id}/setup/{step}`: one step of a directory's wizard.
#[component]
pub fn WizardPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <WizardView admin/> }.into_any()/> }
}

#[component]
fn WizardView(admin: AdminView) -> impl IntoView {
    let params = use_params_map();
    let directory = move || params.read().get("id").unwrap_or_default();
    let step = move || params.read().get("step").unwrap_or_default();
    // Loaded in the browser: the step's content holds live parts (the request feed, the
    // mapping form) whose server render could differ from the first client render, and a
    // mismatch would stop the page's hydration.
    let state = LocalResource::new(move || wizard_state(directory(), step()));
    let vendor = admin.vendor.clone();
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            {move || {
                let Some(loaded) = state.get() else { return view! { <Skeleton/> }.into_any(); };
                let step = step();
                    match loaded {
                        Ok(state) => {
                            let Some(current) = STEPS.iter().position(|(slug, _)| *slug == step) else {
                                return view! { <ErrorBox message="There is no such setup step.".to_owned()/> }.into_any();
                            };
                            let reached = usize::from(state.reached);
                            view! {
                                <Stepper directory=Some(state.directory.clone()) current=current + 1 reached/>
                                <StepContent step state vendor=vendor.clone()/>
                            }.into_any()
                        }
                        Err(error) => view! {
                            <div id="wizard-error"><ErrorBox message=error.to_string()/></div>
                            <A href="/admin" attr:class="text-sm font-semibold text-accent">"Back to your directories"</A>
                        }.into_any(),
                    }
            }}
        </main>
    }
}

#[component]
fn StepContent(step: String, state: WizardData, vendor: Option<VendorReturn>) -> impl IntoView {
    match step.as_str() {
        "provider" => view! { <ProviderStep state/> }.into_any(),
        // Google Workspace pushes nothing to a custom app: its directory is read from Google.
        "endpoint" if state.idp == "google" => view! { <GoogleConnectStep state/> }.into_any(),
        "token" if state.idp == "google" => view! { <GoogleFirstSyncStep state/> }.into_any(),
        "endpoint" => view! { <EndpointStep state/> }.into_any(),
        "token" => view! { <TokenStep state/> }.into_any(),
        "mapping" => view! { <MappingStep state/> }.into_any(),
        "roles" => view! { <RolesStep state/> }.into_any(),
        _ => view! { <TestStep state vendor/> }.into_any(),
    }
}

/// The IdP-specific steps, as a numbered list.
#[component]
fn Instructions(idp: String, idp_name: String, step: &'static str) -> impl IntoView {
    view! {
        <div class="rounded-lg bg-slate-50 p-4">
            <h2 class="text-sm font-semibold text-slate-800">{format!("In {idp_name}")}</h2>
            <ol id="idp-instructions" class="mt-2 list-decimal space-y-1 pl-5 text-sm text-slate-700">
                {instructions(&idp, step).into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}
            </ol>
            {source(&idp).map(|source| view! {
                <p id="guide-source" class="mt-3 text-xs text-slate-600">
                    "Follows "
                    <a href=source.url target="_blank" rel="noopener noreferrer" class="font-medium text-accent-strong underline hover:text-accent-strong">
                        {source.title}
                    </a>
                    {format!(", checked on {}.", source.checked_on)}
                    {source.assumed.map(|assumed| view! { <span class="guide-assumed">" Assumed: "{assumed}</span> })}
                </p>
            })}
        </div>
    }
}

#[component]
fn NextLink(directory: String, #[prop(into)] next: String, label: &'static str) -> impl IntoView {
    view! {
        <div class="flex justify-end">
            <A href=format!("/admin/directories/{directory}/setup/{next}") attr:id="next-step" attr:class=PRIMARY_BUTTON>{label}</A>
        </div>
    }
}

#[component]
fn ProviderStep(state: WizardData) -> impl IntoView {
    let change = ServerAction::<ChangeProvider>::new();
    let failure = move || change.value().get().and_then(Result::err).map(|error| error.to_string());
    view! {
        <section class=CARD aria-labelledby="step-heading">
            <h1 id="step-heading" class="text-xl font-semibold">"Step 1: Choose your identity provider"</h1>
            <ActionForm action=change attr:class="mt-6 space-y-6">
                <input type="hidden" name="directory" value=state.directory.clone()/>
                <ProviderChoice selected=state.idp.clone()/>
                <button id="choose-idp" type="submit" class=PRIMARY_BUTTON>"Continue"</button>
            </ActionForm>
            <div class="mt-4" aria-live="assertive">{move || failure().map(|message| view! { <ErrorBox message/> })}</div>
        </section>
    }
}

#[component]
fn EndpointStep(state: WizardData) -> impl IntoView {
    view! {
        <section class=format!("{CARD} space-y-6") aria-labelledby="step-heading">
            <div>
                <h1 id="step-heading" class="text-xl font-semibold">"Step 2: Endpoint setup"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    {format!("{} sends users and groups to this address. It belongs to this directory alone.", state.idp_name)}
                </p>
            </div>
            <CopyField id="scim-base-url" label="SCIM base URL" value=state.scim_base_url.clone()/>
            <Instructions idp=state.idp.clone() idp_name=state.idp_name.clone() step="endpoint"/>
            <NextLink directory=state.directory next="token" label="Next: token"/>
        </section>
    }
}

/// Step 2 of a Google Workspace directory: connect the service account.
#[component]
fn GoogleConnectStep(state: WizardData) -> impl IntoView {
    let connected = RwSignal::new(0_u32);
    view! {
        <section class=format!("{CARD} space-y-6") aria-labelledby="step-heading">
            <div>
                <h1 id="step-heading" class="text-xl font-semibold">"Step 2: Connect Google Workspace"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "This service reads your users and groups from Google with a service account you authorise, and keeps this directory in step with them."
                </p>
            </div>
            <Instructions idp=state.idp.clone() idp_name=state.idp_name.clone() step="endpoint"/>
            <crate::pages::google::GoogleConnectForm directory=state.directory.clone() connected/>
            <crate::pages::google::GoogleSyncPanel directory=state.directory.clone() tenant=String::new() changed=connected/>
            <NextLink directory=state.directory next="token" label="Next: first sync"/>
        </section>
    }
}

/// Step 3 of a Google Workspace directory: the first sync, instead of a token to paste.
#[component]
fn GoogleFirstSyncStep(state: WizardData) -> impl IntoView {
    view! {
        <section class=format!("{CARD} space-y-6") aria-labelledby="step-heading">
            <div>
                <h1 id="step-heading" class="text-xl font-semibold">"Step 3: First sync"</h1>
                <p class="mt-1 text-sm text-slate-600">"What each sync read from Google and wrote to this directory."</p>
            </div>
            <Instructions idp=state.idp.clone() idp_name=state.idp_name.clone() step="token"/>
            <crate::pages::google::GoogleSyncPanel directory=state.directory.clone() tenant=String::new()/>
            <NextLink directory=state.directory next="mapping" label="Next: attributes"/>
        </section>
    }
}

/// A signal that changes whenever a SCIM request of `directory` arrives: the browser
/// listens to the server's event stream of the directory's requests (server-sent events),
/// and reads again every `fallback` too, in case a proxy holds the stream back. Never
/// runs on the server.
pub(crate) fn live_requests(directory: String, fallback: Duration) -> RwSignal<u32> {
    let tick = RwSignal::new(0_u32);
    Effect::new(move |_| {
        let bump = move || tick.update(|n| *n = n.wrapping_add(1));
        if let Ok(handle) = set_interval_with_handle(bump, fallback) {
            on_cleanup(move || handle.clear());
        }
        listen(&directory, bump);
    });
    tick
}

#[cfg(feature = "hydrate")]
fn listen(directory: &str, on_request: impl Fn() + 'static) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let url = format!("/admin/directories/{directory}/requests/stream");
    let Ok(source) = web_sys::EventSource::new(&url) else { return };
    let listener = Closure::<dyn Fn(web_sys::Event)>::new(move |_: web_sys::Event| on_request());
    let _ = source.add_event_listener_with_callback("request", listener.as_ref().unchecked_ref());
    // The closure lives as long as the page's listener: it is dropped with the source.
    let source = send_wrapper::SendWrapper::new((source, listener));
    on_cleanup(move || source.0.close());
}

#[cfg(not(feature = "hydrate"))]
fn listen(_directory: &str, _on_request: impl Fn() + 'static) {}

#[component]
fn TokenStep(state: WizardData) -> impl IntoView {
    let issue = ServerAction::<IssueSetupToken>::new();
    let client = ServerAction::<IssueSetupClient>::new();
    let tick = live_requests(state.directory.clone(), Duration::from_secs(10));
    let directory = state.directory.clone();
    // Client-side only: live data, and a resource nested in the page's suspense would
    // otherwise have to match the server's render at hydration.
    let feed = LocalResource::new(move || {
        tick.track();
        sync_feed(directory.clone(), 0)
    });
    let token_directory = state.directory.clone();
    let client_directory = state.directory.clone();
    view! {
        <section class=format!("{CARD} space-y-6") aria-labelledby="step-heading">
            <div>
                <h1 id="step-heading" class="text-xl font-semibold">"Step 3: Token exchange"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    {format!("{} proves who it is with a secret token. It is shown once: paste it straight into {}.", state.idp_name, state.idp_name)}
                </p>
            </div>
            // Identity providers such as Entra ask for the address and the token on one screen.
            <div>
                <CopyField id="token-step-base-url" label="SCIM base URL" value=state.scim_base_url.clone()/>
                <p class="mt-1 text-xs text-slate-500">"The same address as in step 2, for the screen that asks for both."</p>
            </div>
            <ActionForm action=issue attr:class="flex flex-wrap items-end gap-4">
                <input type="hidden" name="directory" value=token_directory/>
                <div>
                    <label for="token-valid-days" class="block text-sm font-medium text-slate-700">"Expires"</label>
                    <select id="token-valid-days" name="valid_days" class=INPUT>
                        <option value="0" selected>"Never (rotate it on the tokens page)"</option>
                        <option value="90">"In 90 days"</option>
                        <option value="365">"In a year"</option>
                    </select>
                </div>
                <button id="generate-token" type="submit" class=PRIMARY_BUTTON>"Generate token"</button>
            </ActionForm>
            <div aria-live="polite">
                {move || match issue.value().get() {
                    Some(Ok(issued)) => view! {
                        <div class="rounded-lg border border-emerald-200 bg-emerald-50 p-4 space-y-2">
                            <CopyField id="new-token" label="Bearer token" value=issued.token/>
                            <p class="text-sm text-emerald-900">{format!("Shown only now. Expires: {}.", issued.expires)}</p>
                        </div>
                    }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
            <details class="text-sm">
                <summary class="cursor-pointer font-medium text-slate-700">"Does your identity provider use OAuth client credentials instead?"</summary>
                <ActionForm action=client attr:class="mt-3">
                    <input type="hidden" name="directory" value=client_directory/>
                    <button id="generate-client" type="submit" class=SECONDARY_BUTTON>"Generate client credentials"</button>
                </ActionForm>
                {move || match client.value().get() {
                    Some(Ok(credentials)) => view! {
                        <div class="mt-3 space-y-3 rounded-lg border border-emerald-200 bg-emerald-50 p-4">
                            <CopyField id="client-id" label="Client ID" value=credentials.client_id/>
                            <CopyField id="client-secret" label="Client secret" value=credentials.client_secret/>
                            <CopyField id="token-url" label="Token URL" value=credentials.token_url/>
                        </div>
                    }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    None => ().into_any(),
                }}
            </details>
            <Instructions idp=state.idp.clone() idp_name=state.idp_name.clone() step="token"/>
            <div id="first-request" aria-live="polite">
                {move || {
                    let Some(loaded) = feed.get() else { return ().into_any(); };
                    first_request_banner(loaded)
                }}
            </div>
            <NextLink directory=state.directory next="mapping" label="Next: attributes"/>
        </section>
    }
}

/// The token step's banner: the service's verdict on the directory's newest requests.
/// Green only once a request succeeded with a working token; a request refused for its
/// token is red, with the reason.
fn first_request_banner(feed: Result<FeedView, crate::error::PortalError>) -> AnyView {
    let connection = match feed {
        Ok(feed) => feed.connection,
        Err(error) => return view! { <ErrorBox message=error.to_string()/> }.into_any(),
    };
    let request_line = |request: &RequestView| {
        format!("{} UTC: {} {} → {}", request.time, request.method, request.path, request.status)
    };
    match connection {
        ConnectionView::Connected { request } => {
            let text = format!(
                "Connected: the first accepted request arrived at {} UTC ({} {} → {}).",
                request.time, request.method, request.path, request.status
            );
            view! {
                <p id="connected" class="rounded-lg border border-emerald-300 bg-emerald-50 p-3 text-sm font-medium text-emerald-800">{text}</p>
            }.into_any()
        }
        ConnectionView::Refused { request, reason, detail } => view! {
            <div id="refused" class="space-y-1 rounded-lg border border-red-300 bg-red-50 p-3 text-sm text-red-800">
                <p class="font-semibold">"Not connected"</p>
                <p id="refused-reason">{reason}</p>
                <p class="font-mono text-xs break-all">{request_line(&request)}</p>
                {detail.map(|detail| view! { <p>{detail}</p> })}
            </div>
        }.into_any(),
        ConnectionView::Failing { request } => view! {
            <div id="failing" class="space-y-1 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900">
                <p class="font-semibold">"The token works, but the identity provider's requests fail"</p>
                <p class="font-mono text-xs break-all">{request_line(&request)}</p>
                {request.cause.map(|cause| view! { <p>{cause}</p> })}
            </div>
        }.into_any(),
        ConnectionView::Waiting => view! {
            <p id="waiting" class="flex items-center gap-2 rounded-lg border border-slate-200 bg-slate-50 p-3 text-sm text-slate-700">
                <span class="inline-block h-2 w-2 animate-pulse rounded-full bg-amber-500" aria-hidden="true"></span>
                "Waiting for the identity provider's first request… This turns green by itself."
            </p>
        }.into_any(),
    }
}

#[component]
fn MappingStep(state: WizardData) -> impl IntoView {
    let save = ServerAction::<SaveMapping>::new();
    let directory = state.directory.clone();
    let mapping = LocalResource::new(move || {
        save.version().track();
        load_mapping(directory.clone())
    });
    let saved = move || save.value().get().map(|result| result.map_err(|error| error.to_string()));
    let progress_directory = state.directory.clone();
    let directory = state.directory.clone();
    view! {
        <section class=format!("{CARD} space-y-6") aria-labelledby="step-heading">
            <div>
                <h1 id="step-heading" class="text-xl font-semibold">"Step 4: Attribute mapping"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    {format!("Which {} attribute fills each attribute of the app. Pre-filled with {}'s defaults; change any row to match your setup.", state.idp_name, state.idp_name)}
                </p>
            </div>
            <Instructions idp=state.idp.clone() idp_name=state.idp_name.clone() step="mapping"/>
            {move || {
                let directory = directory.clone();
                let Some(loaded) = mapping.get() else { return view! { <Skeleton/> }.into_any(); };
                match loaded {
                            Ok(view_data) => view! { <MappingForm directory view_data save/> }.into_any(),
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
            }}
            <div id="mapping-result" aria-live="polite">
                {move || match saved() {
                    Some(Ok(())) => view! { <p id="mapping-saved" class="rounded-lg bg-emerald-50 p-3 text-sm text-emerald-800">"Mapping saved."</p> }.into_any(),
                    Some(Err(message)) => view! { <ErrorBox message/> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
            // The mapping shapes every stored user: show their re-derivation once it is saved.
            {move || matches!(saved(), Some(Ok(()))).then(|| view! { <RepublishProgressPanel directory=progress_directory.clone()/> })}
            <NextLink directory=state.directory next=state.after_mapping.clone()
                label=if state.after_mapping == "roles" { "Next: roles" } else { "Next: test sync" }/>
        </section>
    }
}

/// Step 5: the grant editor of the Roles page. Skipped when the operator defined no roles
/// (the mapping step links past it; reached anyway, it moves on by itself).
#[component]
fn RolesStep(state: WizardData) -> impl IntoView {
    let directory = state.directory.clone();
    if state.after_mapping == "test" {
        let navigate = use_navigate();
        let test = format!("/admin/directories/{directory}/setup/test");
        Effect::new(move |_| navigate(&test, Default::default()));
    }
    let (previewed, saved) = crate::pages::group_roles::grants_in_address();
    let previewing = previewed.is_some();
    let page = LocalResource::new(move || load_grants(directory.clone(), previewed.clone()));
    let directory = state.directory.clone();
    view! {
        <section class=format!("{CARD} space-y-6") aria-labelledby="step-heading">
            <div>
                <h1 id="step-heading" class="text-xl font-semibold">"Step 5: Roles"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    {format!("Grant the app's roles to your {} groups: each member gets every role their groups grant.", state.idp_name)}
                </p>
            </div>
            {move || match page.get() {
                None => view! { <Skeleton/> }.into_any(),
                Some(Ok(loaded)) => view! {
                    <GrantEditor directory=directory.clone() page=loaded page_address=format!("/admin/directories/{directory}/setup/roles")
                        previewing saved
                        no_groups="No groups have been provisioned yet. You can grant roles later from the directory's Roles page; continue for now."/>
                }.into_any(),
                Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
            }}
            <NextLink directory=state.directory next="test" label="Next: test sync"/>
        </section>
    }
}

#[component]
fn MappingForm(directory: String, view_data: MappingView, save: ServerAction<SaveMapping>) -> impl IntoView {
    let unmapped = view_data.unmapped.clone();
    // The rows as edited: the preview on stored users follows each change of a source.
    let edited = RwSignal::new(view_data.rows.clone());
    let preview_directory = directory.clone();
    let stored = LocalResource::new(move || preview_stored_users(preview_directory.clone(), edited.get()));
    let sample = view_data.preview.clone();
    view! {
        <ActionForm action=save attr:class="space-y-4">
            <input type="hidden" name="directory" value=directory/>
            <div class="overflow-x-auto" tabindex="0"><table id="mapping-table" class="w-full text-left text-sm">
                <thead class="border-b border-slate-200 text-slate-500">
                    <tr>
                        <th scope="col" class="py-2 font-medium">"App attribute"</th>
                        <th scope="col" class="py-2 font-medium">"Identity provider attribute"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {view_data.rows.into_iter().enumerate().map(|(index, row)| {
                        let input_id = format!("source-{index}");
                        view! {
                            <tr>
                                <td class="py-2 pr-4 align-top">
                                    <label for=input_id.clone() class="font-medium">{row.label.clone()}</label>
                                    {row.required.then(|| view! { <span class="ml-1 text-xs text-red-700">"(required)"</span> })}
                                    <p class="font-mono text-xs text-slate-500">{row.attribute.clone()}</p>
                                    <input type="hidden" name=format!("attributes[{index}]") value=row.attribute/>
                                </td>
                                <td class="py-2">
                                    <input id=input_id name=format!("sources[{index}]") value=row.source required=row.required
                                        on:change=move |event| {
                                            let source = event_target_value(&event);
                                            edited.update(|rows| if let Some(row) = rows.get_mut(index) { row.source = source; });
                                        }
                                        class="block w-full rounded-lg border border-slate-300 px-2 py-1 font-mono text-xs"/>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table></div>
            <button id="save-mapping" type="submit" class=PRIMARY_BUTTON>"Save mapping"</button>
        </ActionForm>
        <div class="grid gap-4 sm:grid-cols-2">
            <div aria-live="polite">
                {move || match stored.get() {
                    None => view! { <p class="text-sm text-slate-500">"Reading your users…"</p> }.into_any(),
                    Some(Ok(preview)) if preview.total_users > 0 => view! { <StoredUsersPreview preview/> }.into_any(),
                    Some(Ok(_)) => view! { <SamplePreview sample=sample.clone()/> }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                }}
            </div>
            <div>
                <h2 class="text-sm font-semibold text-slate-800">"Sent by your identity provider, not mapped"</h2>
                {if unmapped.is_empty() {
                    view! { <p id="unmapped" class="mt-2 text-sm text-slate-600">"None so far. Attributes without a mapping are kept and listed here, never dropped."</p> }.into_any()
                } else {
                    view! {
                        <ul id="unmapped" class="mt-2 list-disc pl-5 font-mono text-xs text-amber-800">
                            {unmapped.into_iter().map(|name| view! { <li>{name}</li> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </div>
        </div>
    }
}

/// The directory has no users yet: a sample person as stored with this mapping.
#[component]
fn SamplePreview(sample: String) -> impl IntoView {
    view! {
        <h2 class="text-sm font-semibold text-slate-800">"Preview: a sample user as it will be stored"</h2>
        <p class="mt-1 text-xs text-slate-500">"No users have been provisioned yet, so this is a made-up person. Once users arrive, the preview shows them."</p>
        <details class="mt-2">
            <summary class="cursor-pointer text-sm text-slate-600">"Show the stored form"</summary>
            <pre id="mapping-preview" tabindex="0" class="mt-2 overflow-x-auto rounded-lg bg-slate-900 p-3 text-xs text-slate-100">{sample}</pre>
        </details>
    }
}

/// The mapping as edited on the most recently changed stored users, and the users that
/// lack a required attribute.
#[component]
fn StoredUsersPreview(preview: StoredPreviewView) -> impl IntoView {
    let shown = preview.users.len();
    view! {
        <h2 class="text-sm font-semibold text-slate-800">
            {format!("Preview: your {shown} most recently changed users (of {}) as your product will read them", preview.total_users)}
        </h2>
        <ul id="stored-preview" class="mt-2 space-y-1">
            {preview.users.into_iter().map(|(user_name, normalized)| view! {
                <li>
                    <details>
                        <summary class="cursor-pointer font-mono text-xs text-slate-700">{user_name}</summary>
                        <pre tabindex="0" class="mt-1 overflow-x-auto rounded-lg bg-slate-900 p-3 text-xs text-slate-100">{normalized}</pre>
                    </details>
                </li>
            }).collect_view()}
        </ul>
        {if preview.lacking_count == 0 {
            view! { <p id="lacking-required" class="mt-3 text-sm text-emerald-800">"Every stored user has the required attributes."</p> }.into_any()
        } else {
            view! {
                <div id="lacking-required" class="mt-3 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900">
                    <p class="font-semibold">{format!("{} stored {} lack a required attribute", preview.lacking_count, if preview.lacking_count == 1 { "user" } else { "users" })}</p>
                    <ul class="mt-1 list-disc pl-5 text-xs">
                        {preview.lacking.into_iter().map(|(user_name, missing)| view! {
                            <li><span class="font-mono">{user_name}</span>{format!(": no {}", missing.join(", "))}</li>
                        }).collect_view()}
                    </ul>
                </div>
            }.into_any()
        }}
    }
}

#[component]
fn TestStep(state: WizardData, vendor: Option<VendorReturn>) -> impl IntoView {
    let self_test = ServerAction::<RunSelfTest>::new();
    let pending = self_test.pending();
    let tick = live_requests(state.directory.clone(), Duration::from_secs(10));
    let directory = state.directory.clone();
    let feed = LocalResource::new(move || {
        tick.track();
        self_test.version().track();
        sync_feed(directory.clone(), 0)
    });
    let dashboard = format!("/admin/directories/{}", state.directory);
    view! {
        <section class=format!("{CARD} space-y-6") aria-labelledby="step-heading">
            <div>
                <h1 id="step-heading" class="text-xl font-semibold">"Step 6: Test sync"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    {format!("Provision a test user from {}, or run the self-test: it sends the requests {} sends, to this directory's own endpoint.", state.idp_name, state.idp_name)}
                </p>
            </div>
            <Instructions idp=state.idp.clone() idp_name=state.idp_name.clone() step="test"/>
            <ActionForm action=self_test>
                <input type="hidden" name="directory" value=state.directory.clone()/>
                <button id="run-self-test" type="submit" class=SECONDARY_BUTTON disabled=move || pending.get()>
                    {move || if pending.get() { "Running the self-test…" } else { "Run self-test" }}
                </button>
            </ActionForm>
            <div id="self-test-result" aria-live="polite">
                {move || match self_test.value().get() {
                    Some(Ok(report)) => view! {
                        <ol id="self-test-steps" class="space-y-2 text-sm">
                            {report.steps.into_iter().map(|step| view! {
                                <li class="flex items-start gap-3">
                                    <Badge tone=if step.passed { "good" } else { "bad" } text=(if step.passed { "Passed" } else { "Failed" }).to_owned()/>
                                    <span>
                                        <span class="font-medium">{step.name}</span>
                                        <span class="ml-2 font-mono text-xs text-slate-500">{format!("{} → {}", step.request, step.status.map_or_else(|| "no answer".to_owned(), |s| s.to_string()))}</span>
                                        <span class="block text-slate-600">{step.detail}</span>
                                    </span>
                                </li>
                            }).collect_view()}
                        </ol>
                    }.into_any(),
                    Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    None => ().into_any(),
                }}
            </div>
            {move || {
                let dashboard = dashboard.clone();
                let Some(loaded) = feed.get() else { return view! { <Skeleton/> }.into_any(); };
                match loaded {
                            Ok(feed) => view! { <LiveFeed feed dashboard vendor=vendor.clone()/> }.into_any(),
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
            }}
        </section>
    }
}

/// The live feed, and once setup is complete the way on: the dashboard, or for someone the
/// vendor's product sent in with an Admin Portal link, back to that product.
#[component]
fn LiveFeed(feed: FeedView, dashboard: String, vendor: Option<VendorReturn>) -> impl IntoView {
    let back = vendor.and_then(|vendor| vendor.success_url.map(|url| (vendor.name, url)));
    view! {
        {feed.completed.then(|| view! {
            <div id="setup-complete" class="flex flex-wrap items-center justify-between gap-3 rounded-lg border border-emerald-300 bg-emerald-50 p-4">
                <p class="font-medium text-emerald-800">"Setup complete: provisioning works."</p>
                {match back {
                    Some((name, url)) => view! {
                        <div class="flex flex-wrap items-center gap-3">
                            <A href=dashboard.clone() attr:id="open-dashboard" attr:class=SECONDARY_BUTTON>"Open the dashboard"</A>
                            <a id="return-to-vendor-success" href=url rel="noreferrer" class=PRIMARY_BUTTON>{format!("Return to {name}")}</a>
                        </div>
                    }.into_any(),
                    None => view! {
                        <A href=dashboard.clone() attr:id="open-dashboard" attr:class=PRIMARY_BUTTON>"Open the dashboard"</A>
                    }.into_any(),
                }}
            </div>
        })}
        <div>
            <h2 class="text-sm font-semibold text-slate-800">"Live requests"</h2>
            {if feed.requests.is_empty() {
                view! { <p id="feed-empty" class="mt-2 text-sm text-slate-600">"No request yet. They appear here as they arrive."</p> }.into_any()
            } else {
                view! {
                    <div class="overflow-x-auto" tabindex="0"><table id="live-feed" class="mt-2 w-full text-left text-sm">
                        <thead class="border-b border-slate-200 text-slate-500">
                            <tr>
                                <th scope="col" class="py-1 font-medium">"Time (UTC)"</th>
                                <th scope="col" class="py-1 font-medium">"What happened"</th>
                                <th scope="col" class="py-1 font-medium">"Outcome"</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {feed.requests.into_iter().map(|request| view! {
                                <tr class="align-top">
                                    <td class="py-1 pr-3 font-mono text-xs">{request.time}</td>
                                    <td class="py-1 pr-3 break-words">
                                        <span class="font-medium">{request.summary}</span>
                                        <span class="block text-xs text-slate-600">{request.by}</span>
                                        <details>
                                            <summary class="cursor-pointer text-xs text-slate-500">"Raw request"</summary>
                                            <span class="block font-mono text-xs break-all">{format!("{} {}", request.method, request.path)}</span>
                                        </details>
                                    </td>
                                    <td class="py-1">
                                        <Badge tone=if request.ok { "good" } else { "bad" } text=request.status.to_string()/>
                                        {request.cause.map(|cause| view! { <p class="mt-1 text-xs text-slate-700">{cause}</p> })}
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
        </div>
    }
}
