//! `/api-keys`: the operator API's keys. Operators issue keys reaching only the areas an
//! integration needs (optionally read-only, optionally expiring), see each key's reach,
//! state and last use, and revoke one after a confirmation naming it; support staff see
//! the list only.

// A form's check boxes are sent only when ticked, so each area is its own argument of
// `issue_api_key`, and the server-function macro's client side carries them all.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::auth::OperatorView;
use crate::components::style::{CARD, DANGER_BUTTON, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{Badge, CopyField, ErrorBox, SignedIn, Skeleton, TopBar, refusal_box, refusal_of, shown_once};
use crate::error::PortalError;

/// One key as the page lists it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRow {
    pub id: String,
    pub label: String,
    /// The areas in words, "(read-only)" appended when it only reads.
    pub reach: String,
    /// `active`, `expired` or `revoked`.
    pub state: String,
    pub created: String,
    /// "never" when it does not expire.
    pub expires: String,
    /// "never" when unused.
    pub last_used: String,
}

/// A key just issued, with its secret (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedKey {
    pub label: String,
    pub reach: String,
    pub key: String,
}

/// What a key reaches, in words.
#[cfg(feature = "ssr")]
fn reach(scopes: &service::api_keys::ApiKeyScopes) -> String {
    let areas: Vec<&str> = scopes.areas.iter().map(|area| area.label()).collect();
    let areas = areas.join("; ");
    if scopes.read_only { format!("{areas} (read-only)") } else { areas }
}

#[server(endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyRow>, PortalError> {
    use crate::portal::date_time;
    let operator = crate::portal::Operator::require().await?;
    let now = operator.portal.effects.now();
    let keys = service::api_keys::list_api_keys(operator.store()).await?;
    Ok(keys
        .into_iter()
        .map(|key| ApiKeyRow {
            id: key.id.to_string(),
            state: key.state(now).as_str().to_owned(),
            reach: reach(&key.scopes),
            label: key.label,
            created: date_time(Some(key.created_at)),
            expires: date_time(key.expires_at),
            last_used: date_time(key.last_used_at),
        })
        .collect())
}

/// Issues a key reaching the ticked areas. A check box is sent only when ticked, so each
/// area is its own optional field.
#[server(endpoint = "issue_api_key")]
pub async fn issue_api_key(
    label: String,
    tenants: Option<String>,
    directory_data: Option<String>,
    webhooks: Option<String>,
    audit: Option<String>,
    api_keys: Option<String>,
    read_only: Option<String>,
    valid_days: String,
) -> Result<IssuedKey, PortalError> {
    use service::OperatorRole;
    use service::api_keys::{ApiArea, ApiKeyRequest, ApiKeyScopes};
    let operator = crate::portal::Operator::require_role(OperatorRole::Operator).await?;
    let ticked = [
        (ApiArea::Tenants, tenants),
        (ApiArea::DirectoryData, directory_data),
        (ApiArea::Webhooks, webhooks),
        (ApiArea::Audit, audit),
        (ApiArea::ApiKeys, api_keys),
    ];
    let areas = ticked.into_iter().filter(|(_, field)| field.is_some()).map(|(area, _)| area);
    let days = match valid_days.trim() {
        "" | "0" => None,
        text => Some(
            text.parse::<i64>()
                .map_err(|_| PortalError::Invalid("Choose when the key expires, or that it does not.".to_owned()))?,
        ),
    };
    let effects = &operator.portal.effects;
    let expires_at = service::api_keys::expiry_after_days(days, effects.now())?;
    let request = ApiKeyRequest { label, scopes: ApiKeyScopes::new(areas, read_only.is_some()), expires_at };
    let issued = service::api_keys::issue_api_key(operator.store(), request, None, &operator.actor(), effects).await?;
    let issued = IssuedKey { reach: reach(&issued.key.scopes), label: issued.key.label, key: issued.secret };
    crate::error::show_once_after_plain_form_post(PAGE, NEW_API_KEY, &issued).await?;
    Ok(issued)
}

/// The key the last issue of this session made, sealed under `key` for the page the
/// browser was sent back to: taken, so it is shown once.
#[server(endpoint = "take_issued_api_key")]
pub async fn take_issued_api_key(key: String) -> Result<Option<IssuedKey>, PortalError> {
    crate::portal::Operator::require_role(service::OperatorRole::Operator).await?;
    crate::error::take_shown_once(NEW_API_KEY, &key).await
}

/// The page's address.
const PAGE: &str = "/api-keys";
/// The address parameter (and kind of one-time outcome) of a key just issued.
const NEW_API_KEY: &str = "new_api_key";

#[server(endpoint = "revoke_api_key")]
pub async fn revoke_api_key(key: String) -> Result<(), PortalError> {
    use service::OperatorRole;
    let operator = crate::portal::Operator::require_role(OperatorRole::Operator).await?;
    let no_such_key = || PortalError::NotFound("No such API key.".to_owned());
    let id: service::api_keys::ApiKeyId = key.parse().map_err(|_| no_such_key())?;
    let now = operator.portal.effects.now();
    service::api_keys::revoke_api_key(operator.store(), id, &operator.actor(), now).await?;
    // Back to the list, not to the confirmation the form was on.
    crate::error::after_plain_form_post_go_to(PAGE);
    Ok(())
}

/// `/api-keys`
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <ApiKeysView operator/> }.into_any()/> }
}

/// The areas of the form: (field, label as `service::api_keys::ApiArea::label` says it;
/// the browser's build has no `service`).
const AREAS: [(&str, &str); 5] = [
    ("tenants", "Tenants, directories and setup links"),
    ("directory_data", "Directory data: users, groups, events, receipts, roles"),
    ("webhooks", "Webhook endpoints and deliveries"),
    ("audit", "Audit trails"),
    ("api_keys", "API keys (list, issue, revoke)"),
];

/// Works whole without the bundle: the list is rendered on the server, the forms are
/// plain forms, revoking asks at an address of its own (`?revoke=<id>`), and a new key is
/// sealed in the session for the one page that shows it.
#[component]
fn ApiKeysView(operator: OperatorView) -> impl IntoView {
    let may_change = operator.role == "operator";
    let (revoking, shown) = use_query_map().with_untracked(|query| (query.get("revoke"), query.get(NEW_API_KEY)));
    let keys = Resource::new(|| (), |_| list_api_keys());
    let issued = shown_once(shown, take_issued_api_key);
    view! {
        <TopBar operator/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"API keys"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Keys of the operator API and the WorkOS-compatible API, for your product's integration. Give each key only the areas it needs: a key that reads the event feed needs no tenants or webhooks."
                </p>
            </div>
            {may_change.then(|| view! {
                <section class=CARD aria-labelledby="new-key-heading">
                    <h2 id="new-key-heading" class="text-lg font-semibold">"New key"</h2>
                    <form method="post" action=IssueApiKey::url() class="mt-4 space-y-4">
                        <div class="flex flex-wrap items-end gap-4">
                            <div>
                                <label for="key-label" class="block text-sm font-medium text-slate-700">"What uses it"</label>
                                <input id="key-label" name="label" required maxlength="100" placeholder="Product: directory sync worker" class=INPUT/>
                            </div>
                            <div>
                                <label for="key-valid-days" class="block text-sm font-medium text-slate-700">"Expires"</label>
                                <select id="key-valid-days" name="valid_days" class=INPUT>
                                    <option value="0">"Never"</option>
                                    <option value="90">"In 90 days"</option>
                                    <option value="365" selected>"In a year"</option>
                                </select>
                            </div>
                        </div>
                        <fieldset>
                            <legend class="text-sm font-medium text-slate-700">"Reaches"</legend>
                            <div class="mt-2 grid gap-2 sm:grid-cols-2">
                                {AREAS.into_iter().map(|(field, label)| {
                                    let id = format!("key-area-{field}");
                                    view! {
                                        <label class="flex items-center gap-2 text-sm text-slate-800">
                                            <input id=id type="checkbox" name=field class="h-4 w-4 rounded border-slate-300"/>
                                            {label}
                                        </label>
                                    }
                                }).collect_view()}
                            </div>
                            <label class="mt-3 flex items-center gap-2 text-sm text-slate-800">
                                <input id="key-read-only" type="checkbox" name="read_only" class="h-4 w-4 rounded border-slate-300"/>
                                "Read-only: reads, never changes anything"
                            </label>
                        </fieldset>
                        <button id="issue-key" type="submit" class=PRIMARY_BUTTON>"Issue key"</button>
                    </form>
                    <div class="mt-4" aria-live="polite">
                        {refusal_of::<IssueApiKey>().map(|error| view! { <div id="issue-key-error"><ErrorBox message=error.to_string()/></div> })}
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                match issued.await {
                                    Ok(Some(issued)) => view! {
                                        <div id="issued-key-panel" class="space-y-2 rounded-lg border border-emerald-200 bg-emerald-50 p-4">
                                            <CopyField id="issued-key" label="New key" value=issued.key/>
                                            <p class="text-sm text-emerald-900">{format!("‘{}’ reaches: {}.", issued.label, issued.reach)}</p>
                                            <p class="text-sm text-emerald-900">"Shown only now: only its digest is stored. Send it as Authorization: Bearer <key>."</p>
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
            <section class=CARD aria-labelledby="keys-heading">
                <h2 id="keys-heading" class="text-lg font-semibold">"All keys"</h2>
                {refusal_box::<RevokeApiKey>()}
                <Suspense fallback=|| view! { <Skeleton/> }>
                    {move || {
                        let revoking = revoking.clone();
                        Suspend::new(async move {
                            match keys.await {
                                Ok(rows) if rows.is_empty() => view! {
                                    <p id="no-api-keys" class="mt-4 text-sm text-slate-600">"No key yet."</p>
                                }.into_any(),
                                Ok(rows) => {
                                    let asked = revoking
                                        .filter(|_| may_change)
                                        .and_then(|id| rows.iter().find(|row| row.id == id && row.state == "active").cloned());
                                    view! {
                                        {asked.map(|key| view! { <RevokeConfirmation key/> })}
                                        <KeyTable rows may_change/>
                                    }.into_any()
                                }
                                Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            </section>
        </main>
    }
}

#[component]
fn KeyTable(rows: Vec<ApiKeyRow>, may_change: bool) -> impl IntoView {
    view! {
        <div class="overflow-x-auto" tabindex="0"><table id="api-key-table" class="mt-4 w-full text-left text-sm">
            <thead class="border-b border-slate-200 text-slate-500">
                <tr>
                    <th scope="col" class="py-2 font-medium">"Key"</th>
                    <th scope="col" class="py-2 font-medium">"Status"</th>
                    <th scope="col" class="py-2 font-medium">"Last used"</th>
                    <th scope="col" class="py-2 font-medium">"Expires"</th>
                    <th scope="col" class="py-2 font-medium"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-100">
                {rows.into_iter().map(|row| {
                    let tone = if row.state == "active" { "good" } else { "bad" };
                    let status = match row.state.as_str() { "active" => "Active", "expired" => "Expired", _ => "Revoked" };
                    let ask_to_revoke = format!("{PAGE}?revoke={}#revoke-key-confirmation", row.id);
                    let revocable = may_change && row.state == "active";
                    view! {
                        <tr class="align-top" data-api-key=row.id>
                            <td class="py-2 font-medium">
                                {row.label}
                                <p class="text-xs font-normal text-slate-600">{row.reach}</p>
                                <p class="text-xs font-normal text-slate-500">{format!("Issued {}", row.created)}</p>
                            </td>
                            <td class="py-2 whitespace-nowrap"><Badge tone text=status.to_owned()/></td>
                            <td class="py-2 text-slate-600">{row.last_used}</td>
                            <td class="py-2 text-slate-600">{row.expires}</td>
                            <td class="py-2 text-right">
                                {revocable.then(|| view! {
                                    <a href=ask_to_revoke rel="external" class="revoke-key text-xs font-semibold text-red-700 hover:text-red-600">"Revoke"</a>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }
}

/// Asks before a key is revoked, naming it and its last use: what holds it is refused
/// from its next request.
#[component]
fn RevokeConfirmation(key: ApiKeyRow) -> impl IntoView {
    let used = if key.last_used == "never" {
        "It has never been used.".to_owned()
    } else {
        format!("It was last used {}: whatever holds it is refused from its next request.", key.last_used)
    };
    let label = key.label;
    view! {
        <div id="revoke-key-confirmation" role="alertdialog" aria-labelledby="revoke-key-question" aria-describedby="revoke-key-consequence"
            class="mt-4 rounded-lg border border-red-200 bg-red-50 p-4">
            <p id="revoke-key-question" class="text-sm font-semibold text-red-900">{format!("Revoke ‘{label}’?")}</p>
            <p id="revoke-key-consequence" class="mt-1 text-sm text-red-900">{used}</p>
            <form method="post" action=RevokeApiKey::url() class="mt-3 flex flex-wrap items-center gap-3">
                <input type="hidden" name="key" value=key.id/>
                <button id="confirm-revoke-key" type="submit" class=DANGER_BUTTON>
                    {format!("Revoke ‘{label}’")}
                </button>
                <a id="cancel-revoke-key" href=PAGE rel="external" class=SECONDARY_BUTTON>"Keep it"</a>
            </form>
        </div>
    }
}
