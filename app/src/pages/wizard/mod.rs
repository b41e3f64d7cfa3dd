//! The six-step onboarding wizard: choose the identity provider, set up the endpoint,
//! exchange a token, map attributes, grant roles to groups (skipped when the operator
//! defined no roles), test the sync. Each step explains itself for the
//! identity provider chosen; progress is kept on the server, so the wizard resumes.

pub mod calls;
pub mod guides;

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::components::{A, Redirect};
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use self::calls::{
    ChangeProvider, ClientCredentialsView, ConnectionView, FeedView, IssueSetupClient, IssueSetupToken, MAPPING_SAVED,
    MappingView, NEW_CLIENT, NEW_TOKEN, RequestView, RunSelfTest, SELF_TEST, SaveMapping, SelfTestView, StartSetup,
    StoredPreviewView, WizardData, load_mapping, preview_stored_users, step_address, sync_feed, take_self_test,
    take_setup_client, take_setup_token, wizard_state,
};
use self::guides::{identity_providers, instructions, source};
use crate::auth::{AdminView, VendorReturn};
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{
    AdminTopBar, Badge, CopyField, ErrorBox, LiveRegions, STEPS, SignedInAdmin, Skeleton, Stepper, refusal_box,
    shown_once,
};
use crate::error::PortalError;
use crate::pages::google::{ConnectedView, GOOGLE_CONNECTED, take_google_connected};
use crate::pages::group_roles::{GrantEditor, GroupRolesView, RepublishProgressPanel, grants_in_address, load_grants};
use crate::pages::tokens::IssuedTokenView;

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
                <form method="post" action=StartSetup::url() class="mt-6 space-y-6">
                    <ProviderChoice selected=String::new()/>
                    <button id="choose-idp" type="submit" class=PRIMARY_BUTTON>"Continue"</button>
                </form>
                <div class="mt-4" aria-live="assertive">{refusal_box::<StartSetup>()}</div>
            </section>
        </main>
    }
}

/// `/admin/directories/{id}/setup/{step}`: one step of a directory's wizard.
#[component]
pub fn WizardPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <WizardView admin/> }.into_any()/> }
}

/// What a step shows beside the wizard's state, loaded with it by the page's one resource
/// (the steps themselves only render).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepData {
    Nothing,
    /// The token and test steps: the directory's newest requests.
    Feed(FeedView),
    /// The mapping step: the mapping (its sources as typed, when `edited`), and the stored
    /// users as that mapping makes them.
    Mapping {
        mapping: MappingView,
        stored: StoredPreviewView,
        edited: bool,
    },
    /// The roles step: the grant editor's data (previewed, when `previewing`).
    Roles {
        page: GroupRolesView,
        previewing: bool,
    },
}

/// The one-time outcomes a step shows after its plain form came back (each sealed in the
/// session for that page; see `crate::error::show_once_after_plain_form_post`).
#[derive(Debug, Clone, Default)]
struct StepOutcomes {
    token: Option<IssuedTokenView>,
    client: Option<ClientCredentialsView>,
    google: Option<ConnectedView>,
    self_test: Option<SelfTestView>,
    mapping_saved: bool,
    roles_saved: bool,
}

/// The sources of the mapping as typed, from the page's address (a preview asked for, or a
/// refused save come back): `sources[0]`, `sources[1]`…, by index.
fn typed_sources() -> Option<Vec<(usize, String)>> {
    use_query_map().with_untracked(|query| {
        let typed: Vec<(usize, String)> = query
            .latest_values()
            .filter_map(|(key, value)| {
                let index = key.strip_prefix("sources[").or_else(|| key.strip_prefix("sources%5B"))?;
                let index = index.trim_end_matches(']').trim_end_matches("%5D").parse().ok()?;
                Some((index, value.to_owned()))
            })
            .collect();
        (!typed.is_empty()).then_some(typed)
    })
}

/// What `step` shows beside the wizard's state.
async fn load_step(
    directory: String,
    step: String,
    typed: Option<Vec<(usize, String)>>,
    previewed: Option<Vec<String>>,
) -> Result<StepData, PortalError> {
    Ok(match step.as_str() {
        "token" | "test" => StepData::Feed(sync_feed(directory, 0).await?),
        "mapping" => {
            let mut mapping = load_mapping(directory.clone()).await?;
            let edited = typed.is_some();
            for (index, source) in typed.unwrap_or_default() {
                if let Some(row) = mapping.rows.get_mut(index) {
                    row.source = source;
                }
            }
            let stored = preview_stored_users(directory, mapping.rows.clone()).await?;
            StepData::Mapping { mapping, stored, edited }
        }
        "roles" => {
            let previewing = previewed.is_some();
            StepData::Roles { page: load_grants(directory, previewed).await?, previewing }
        }
        _ => StepData::Nothing,
    })
}

/// Works whole without the bundle: the state and what the step shows are rendered on the
/// server by the page's resources, every form is a plain form, and a secret the step made
/// (a token, client credentials) is sealed for the one page that shows it. While the
/// bundle runs, the token and test steps' requests are put in place as they arrive (an
/// island, `LiveRegions`).
#[component]
fn WizardView(admin: AdminView) -> impl IntoView {
    let params = use_params_map();
    let directory = move || params.read().get("id").unwrap_or_default();
    let step = move || params.read().get("step").unwrap_or_default();
    let state = Resource::new(move || (directory(), step()), |(directory, step)| wizard_state(directory, step));
    let typed = typed_sources();
    let (previewed, roles_saved) = grants_in_address();
    let data = Resource::new(
        move || (directory(), step(), typed.clone(), previewed.clone()),
        |(directory, step, typed, previewed)| load_step(directory, step, typed, previewed),
    );
    let keys = use_query_map().with_untracked(|query| {
        (
            query.get(NEW_TOKEN),
            query.get(NEW_CLIENT),
            query.get(GOOGLE_CONNECTED),
            query.get(SELF_TEST),
            query.get_str(MAPPING_SAVED) == Some("saved"),
        )
    });
    let mapping_saved = keys.4;
    let new_token = shown_once(keys.0, take_setup_token);
    let new_client = shown_once(keys.1, take_setup_client);
    let google = shown_once(keys.2, take_google_connected);
    let self_test = shown_once(keys.3, take_self_test);
    let vendor = admin.vendor.clone();
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <Transition fallback=|| view! { <Skeleton/> }>
                {move || {
                    let (step, vendor) = (step(), vendor.clone());
                    Suspend::new(async move {
                        let outcomes = StepOutcomes {
                            token: new_token.await.ok().flatten(),
                            client: new_client.await.ok().flatten(),
                            google: google.await.ok().flatten(),
                            self_test: self_test.await.ok().flatten(),
                            mapping_saved,
                            roles_saved,
                        };
                        let (state, data) = match (state.await, data.await) {
                            (Ok(state), Ok(data)) => (state, data),
                            (Err(error), _) | (_, Err(error)) => return view! {
                                <div id="wizard-error"><ErrorBox message=error.to_string()/></div>
                                <A href="/admin" attr:class="text-sm font-semibold text-accent">"Back to your directories"</A>
                            }.into_any(),
                        };
                        let Some(current) = STEPS.iter().position(|(slug, _)| *slug == step) else {
                            return view! { <ErrorBox message="There is no such setup step.".to_owned()/> }.into_any();
                        };
                        let reached = usize::from(state.reached);
                        view! {
                            <Stepper directory=Some(state.directory.clone()) current=current + 1 reached/>
                            <StepContent step state data outcomes vendor/>
                        }.into_any()
                    })
                }}
            </Transition>
            // A Google Workspace directory's runs (nothing for any other directory), and the
            // re-derivation of the users once a mapping or the grants were saved.
            {move || matches!(step().as_str(), "endpoint" | "token").then(|| view! {
                <crate::pages::google::GoogleSyncPanel directory=directory() tenant=String::new()/>
            })}
            {move || ((step() == "mapping" && mapping_saved) || (step() == "roles" && roles_saved)).then(|| view! {
                <RepublishProgressPanel directory=directory()/>
            })}
        </main>
    }
}

#[component]
fn StepContent(
    step: String,
    state: WizardData,
    data: StepData,
    outcomes: StepOutcomes,
    vendor: Option<VendorReturn>,
) -> impl IntoView {
    match (step.as_str(), data) {
        ("provider", _) => view! { <ProviderStep state/> }.into_any(),
        // Google Workspace pushes nothing to a custom app: its directory is read from Google.
        ("endpoint", _) if state.idp == "google" => {
            view! { <GoogleConnectStep state found=outcomes.google/> }.into_any()
        }
        ("token", _) if state.idp == "google" => view! { <GoogleFirstSyncStep state/> }.into_any(),
        ("endpoint", _) => view! { <EndpointStep state/> }.into_any(),
        ("token", StepData::Feed(feed)) => view! { <TokenStep state feed outcomes/> }.into_any(),
        ("mapping", StepData::Mapping { mapping, stored, edited }) => {
            view! { <MappingStep state mapping stored edited saved=outcomes.mapping_saved/> }.into_any()
        }
        ("roles", StepData::Roles { page, previewing }) => {
            view! { <RolesStep state page previewing saved=outcomes.roles_saved/> }.into_any()
        }
        ("test", StepData::Feed(feed)) => view! { <TestStep state feed report=outcomes.self_test vendor/> }.into_any(),
        _ => view! { <ErrorBox message="There is no such setup step.".to_owned()/> }.into_any(),
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
    view! {
        <section class=CARD aria-labelledby="step-heading">
            <h1 id="step-heading" class="text-xl font-semibold">"Step 1: Choose your identity provider"</h1>
            <form method="post" action=ChangeProvider::url() class="mt-6 space-y-6">
                <input type="hidden" name="directory" value=state.directory.clone()/>
                <ProviderChoice selected=state.idp/>
                <button id="choose-idp" type="submit" class=PRIMARY_BUTTON>"Continue"</button>
            </form>
            <div class="mt-4" aria-live="assertive">{refusal_box::<ChangeProvider>()}</div>
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
fn GoogleConnectStep(state: WizardData, found: Option<ConnectedView>) -> impl IntoView {
    view! {
        <section class=format!("{CARD} space-y-6") aria-labelledby="step-heading">
            <div>
                <h1 id="step-heading" class="text-xl font-semibold">"Step 2: Connect Google Workspace"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "This service reads your users and groups from Google with a service account you authorise, and keeps this directory in step with them."
                </p>
            </div>
            <Instructions idp=state.idp.clone() idp_name=state.idp_name.clone() step="endpoint"/>
            <crate::pages::google::GoogleConnectForm directory=state.directory.clone() found/>
            <p class="text-sm text-slate-600">"Once connected, the runs are listed below this step."</p>
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
            <p class="text-sm text-slate-600">"The runs are listed below this step."</p>
            <NextLink directory=state.directory next="mapping" label="Next: attributes"/>
        </section>
    }
}

#[component]
fn TokenStep(state: WizardData, feed: FeedView, outcomes: StepOutcomes) -> impl IntoView {
    let client_shown = outcomes.client.is_some();
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
            <form method="post" action=IssueSetupToken::url() class="flex flex-wrap items-end gap-4">
                <input type="hidden" name="directory" value=state.directory.clone()/>
                <div>
                    <label for="token-valid-days" class="block text-sm font-medium text-slate-700">"Expires"</label>
                    <select id="token-valid-days" name="valid_days" class=INPUT>
                        <option value="0" selected>"Never (rotate it on the tokens page)"</option>
                        <option value="90">"In 90 days"</option>
                        <option value="365">"In a year"</option>
                    </select>
                </div>
                <button id="generate-token" type="submit" class=PRIMARY_BUTTON>"Generate token"</button>
            </form>
            <div aria-live="polite">
                {outcomes.token.map(|issued| view! {
                    <div class="rounded-lg border border-emerald-200 bg-emerald-50 p-4 space-y-2">
                        <CopyField id="new-token" label="Bearer token" value=issued.token/>
                        <p class="text-sm text-emerald-900">{format!("Shown only now. Expires: {}.", issued.expires)}</p>
                    </div>
                })}
                {refusal_box::<IssueSetupToken>()}
            </div>
            <details class="text-sm" open=client_shown>
                <summary class="cursor-pointer font-medium text-slate-700">"Does your identity provider use OAuth client credentials instead?"</summary>
                <form method="post" action=IssueSetupClient::url() class="mt-3">
                    <input type="hidden" name="directory" value=state.directory.clone()/>
                    <button id="generate-client" type="submit" class=SECONDARY_BUTTON>"Generate client credentials"</button>
                </form>
                {outcomes.client.map(|credentials| view! {
                    <div class="mt-3 space-y-3 rounded-lg border border-emerald-200 bg-emerald-50 p-4">
                        <CopyField id="client-id" label="Client ID" value=credentials.client_id/>
                        <CopyField id="client-secret" label="Client secret" value=credentials.client_secret/>
                        <CopyField id="token-url" label="Token URL" value=credentials.token_url/>
                    </div>
                })}
                {refusal_box::<IssueSetupClient>()}
            </details>
            <Instructions idp=state.idp.clone() idp_name=state.idp_name.clone() step="token"/>
            <div id="first-request" aria-live="polite">{first_request_banner(feed.connection)}</div>
            // Turns green by itself: the banner follows the directory's requests.
            <LiveRegions directory=Some(state.directory.clone()) every_seconds=10
                regions=vec!["first-request".to_owned()] until_settled=false/>
            <NextLink directory=state.directory next="mapping" label="Next: attributes"/>
        </section>
    }
}

/// The token step's banner: the service's verdict on the directory's newest requests.
/// Green only once a request succeeded with a working token; a request refused for its
/// token is red, with the reason.
fn first_request_banner(connection: ConnectionView) -> AnyView {
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
fn MappingStep(
    state: WizardData,
    mapping: MappingView,
    stored: StoredPreviewView,
    edited: bool,
    saved: bool,
) -> impl IntoView {
    view! {
        <section class=format!("{CARD} space-y-6") aria-labelledby="step-heading">
            <div>
                <h1 id="step-heading" class="text-xl font-semibold">"Step 4: Attribute mapping"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    {format!("Which {} attribute fills each attribute of the app. Pre-filled with {}'s defaults; change any row to match your setup.", state.idp_name, state.idp_name)}
                </p>
            </div>
            <Instructions idp=state.idp.clone() idp_name=state.idp_name.clone() step="mapping"/>
            <MappingForm directory=state.directory.clone() view_data=mapping stored edited/>
            <div id="mapping-result" aria-live="polite">
                {saved.then(|| view! { <p id="mapping-saved" class="rounded-lg bg-emerald-50 p-3 text-sm text-emerald-800">"Mapping saved."</p> })}
                {refusal_box::<SaveMapping>()}
            </div>
            <NextLink directory=state.directory next=state.after_mapping.clone()
                label=if state.after_mapping == "roles" { "Next: roles" } else { "Next: test sync" }/>
        </section>
    }
}

/// Step 5: the grant editor of the Roles page. Skipped when the operator defined no roles
/// (the mapping step links past it; reached anyway, the server answers with a redirect to
/// the test step).
#[component]
fn RolesStep(state: WizardData, page: GroupRolesView, previewing: bool, saved: bool) -> impl IntoView {
    let directory = state.directory.clone();
    if state.after_mapping == "test" {
        return view! { <Redirect path=step_address(&directory, "test")/> }.into_any();
    }
    view! {
        <section class=format!("{CARD} space-y-6") aria-labelledby="step-heading">
            <div>
                <h1 id="step-heading" class="text-xl font-semibold">"Step 5: Roles"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    {format!("Grant the app's roles to your {} groups: each member gets every role their groups grant.", state.idp_name)}
                </p>
            </div>
            <GrantEditor directory=directory.clone() page page_address=step_address(&directory, "roles")
                previewing saved
                no_groups="No groups have been provisioned yet. You can grant roles later from the directory's Roles page; continue for now."/>
            <NextLink directory=state.directory next="test" label="Next: test sync"/>
        </section>
    }
    .into_any()
}

/// The mapping, a plain form: Save posts it; Preview asks for the step again with the
/// sources as typed (a GET), which shows the stored users as that mapping makes them.
#[component]
fn MappingForm(directory: String, view_data: MappingView, stored: StoredPreviewView, edited: bool) -> impl IntoView {
    let unmapped = view_data.unmapped.clone();
    let sample = view_data.preview.clone();
    let page = step_address(&directory, "mapping");
    view! {
        <form method="post" action=SaveMapping::url() class="space-y-4">
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
                                        class="block w-full rounded-lg border border-slate-300 px-2 py-1 font-mono text-xs"/>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table></div>
            <div class="flex flex-wrap gap-3">
                <button id="save-mapping" type="submit" class=PRIMARY_BUTTON>"Save mapping"</button>
                <button id="preview-mapping" type="submit" formmethod="get" formaction=page formnovalidate class=SECONDARY_BUTTON>
                    "Preview on your users"
                </button>
            </div>
        </form>
        <div class="grid gap-4 sm:grid-cols-2">
            <div aria-live="polite">
                {edited.then(|| view! { <p id="mapping-edited" class="mb-2 text-xs font-medium text-amber-800">"With the attributes as typed above, not saved yet."</p> })}
                {if stored.total_users > 0 {
                    view! { <StoredUsersPreview preview=stored/> }.into_any()
                } else {
                    view! { <SamplePreview sample/> }.into_any()
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
fn TestStep(
    state: WizardData,
    feed: FeedView,
    report: Option<SelfTestView>,
    vendor: Option<VendorReturn>,
) -> impl IntoView {
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
            <form method="post" action=RunSelfTest::url()>
                <input type="hidden" name="directory" value=state.directory.clone()/>
                <button id="run-self-test" type="submit" class=SECONDARY_BUTTON>"Run self-test"</button>
            </form>
            <div id="self-test-result" aria-live="polite">
                {report.map(|report| view! {
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
                })}
                {refusal_box::<RunSelfTest>()}
            </div>
            <div id="live-requests"><LiveFeed feed dashboard vendor/></div>
            // The requests appear as they arrive.
            <LiveRegions directory=Some(state.directory) every_seconds=10
                regions=vec!["live-requests".to_owned()] until_settled=false/>
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
