//! `/admin/directories/{id}/tokens`: a directory's bearer tokens: create, rotate with an
//! overlap, revoke; and its OAuth clients ([`crate::pages::oauth_clients`]). The wizard's
//! token step issues its token here too.

use leptos::prelude::*;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::style::{CARD, DANGER_BUTTON, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{AdminTopBar, Badge, CopyField, ErrorBox, SignedInAdmin, Skeleton};
use crate::error::PortalError;
use crate::pages::dashboard::directory_param;
#[cfg(feature = "ssr")]
use crate::portal::{Admin, date_time, directory_id};

/// A token just issued: shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedTokenView {
    pub token: String,
    /// `never` or a UTC date and time.
    pub expires: String,
    /// For a rotation: until when the replaced token keeps working.
    pub old_token_until: Option<String>,
}

/// A token on the tokens page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: String,
    pub label: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    /// `active`, `expiring` (within 7 days), `expired` or `revoked`.
    pub status: String,
}

#[server(endpoint = "list_tokens")]
pub async fn list_tokens(directory: String) -> Result<Vec<TokenView>, PortalError> {
    let admin = Admin::require().await?;
    let id = directory_id(&directory)?;
    let tokens = service::onboarding::tokens(admin.store(), admin.tenant(), id).await?;
    let now = admin.portal.now();
    Ok(tokens.into_iter().map(|token| server::token_view(token, now)).collect())
}

/// Replaces a token; the old one keeps working for `overlap_minutes`.
#[server(endpoint = "rotate_token")]
pub async fn rotate_token(
    directory: String,
    token: String,
    overlap_minutes: i64,
) -> Result<IssuedTokenView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let old = token.parse::<service::TokenId>().map_err(|_| PortalError::no_such_token())?;
    let overlap = chrono::Duration::minutes(overlap_minutes.clamp(0, 7 * 24 * 60));
    let tenant = admin.tenant();
    let rotated = service::directories::rotate_token(
        admin.store(),
        tenant,
        id,
        old,
        overlap,
        &admin.actor(),
        &admin.portal.effects,
    )
    .await?;
    let (issued, old_until) = rotated.ok_or_else(PortalError::no_such_token)?;
    let expires = service::onboarding::tokens(admin.store(), tenant, id)
        .await
        .ok()
        .and_then(|tokens| tokens.into_iter().find(|t| t.id == issued.id))
        .and_then(|t| t.expires_at);
    Ok(IssuedTokenView {
        token: issued.secret,
        expires: date_time(expires),
        old_token_until: Some(date_time(Some(old_until))),
    })
}

#[server(endpoint = "revoke_directory_token")]
pub async fn revoke_directory_token(directory: String, token: String) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let token = token.parse::<service::TokenId>().map_err(|_| PortalError::no_such_token())?;
    let (tenant, now) = (admin.tenant(), admin.portal.now());
    let revoked = service::directories::revoke_token(admin.store(), tenant, id, token, &admin.actor(), now).await?;
    if revoked { Ok(()) } else { Err(PortalError::no_such_token()) }
}

/// Issues a new token from the tokens page.
#[server(endpoint = "create_directory_token")]
pub async fn create_directory_token(
    directory: String,
    label: String,
    valid_days: u32,
) -> Result<IssuedTokenView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(PortalError::Invalid(
            "Give the token a name of 1 to 100 characters, such as \"Okta production\".".to_owned(),
        ));
    }
    server::issue_token(&admin, id, label.to_owned(), valid_days).await
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use super::{IssuedTokenView, TokenView};
    use crate::error::PortalError;
    use crate::portal::{Admin, date_time};

    /// Issues a directory token that expires after `valid_days` (0: never; at most ten
    /// years), records it in the tenant's audit trail, and returns it for showing once.
    pub(crate) async fn issue_token(
        admin: &Admin,
        directory: service::DirectoryId,
        label: String,
        valid_days: u32,
    ) -> Result<IssuedTokenView, PortalError> {
        let now = admin.portal.now();
        let expires_at = (valid_days > 0).then(|| now + chrono::Duration::days(i64::from(valid_days.min(3650))));
        let request = service::directories::TokenRequest { label, read_only: false, expires_at };
        let issued = service::directories::issue_token(
            admin.store(),
            admin.tenant(),
            directory,
            request,
            &admin.actor(),
            &admin.portal.effects,
        )
        .await?
        .ok_or_else(PortalError::no_such_directory)?;
        Ok(IssuedTokenView { token: issued.secret, expires: date_time(expires_at), old_token_until: None })
    }

    pub(crate) fn token_view(token: service::onboarding::TokenRecord, now: chrono::DateTime<chrono::Utc>) -> TokenView {
        let status = service::onboarding::TokenState::of(&token, now).as_str().to_owned();
        TokenView {
            id: token.id.to_string(),
            label: token.label,
            created: date_time(Some(token.created_at)),
            expires: date_time(token.expires_at),
            last_used: date_time(token.last_used_at),
            status,
        }
    }
}

/// `/admin/directories/{id}/tokens`: the directory's tokens.
#[component]
pub fn TokensPage() -> impl IntoView {
    view! { <SignedInAdmin page=|admin| view! { <TokensView admin/> }.into_any()/> }
}

#[component]
fn TokensView(admin: AdminView) -> impl IntoView {
    let directory = directory_param();
    let create = ServerAction::<CreateDirectoryToken>::new();
    let rotate = ServerAction::<RotateToken>::new();
    let revoke = ServerAction::<RevokeDirectoryToken>::new();
    // The token whose revocation waits for a confirmation: its id, name and last use.
    let confirming = RwSignal::new(None::<(String, String, String)>);
    Effect::new(move |_| {
        if revoke.version().get() > 0 {
            confirming.set(None);
        }
    });
    let tokens = LocalResource::new(move || {
        create.version().track();
        rotate.version().track();
        revoke.version().track();
        list_tokens(directory())
    });
    view! {
        <AdminTopBar admin/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <div>
                <A href=format!("/admin/directories/{}", directory()) attr:class="text-sm font-medium text-accent hover:text-accent-strong">"← Dashboard"</A>
                <h1 class="mt-2 text-2xl font-bold tracking-tight">"Tokens"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Rotate a token with an overlap: both tokens work until the overlap ends, so you can paste the new one into the identity provider without a failed sync."
                </p>
            </div>
            <section class=CARD aria-labelledby="new-token-heading">
                <h2 id="new-token-heading" class="text-lg font-semibold">"New token"</h2>
                <ActionForm action=create attr:class="mt-4 flex flex-wrap items-end gap-4">
                    <input type="hidden" name="directory" value=directory()/>
                    <div>
                        <label for="token-label" class="block text-sm font-medium text-slate-700">"Name"</label>
                        <input id="token-label" name="label" required placeholder="Okta production" class=INPUT/>
                    </div>
                    <div>
                        <label for="token-valid-days" class="block text-sm font-medium text-slate-700">"Expires"</label>
                        <select id="token-valid-days" name="valid_days" class=INPUT>
                            <option value="0">"Never"</option>
                            <option value="90" selected>"In 90 days"</option>
                            <option value="365">"In a year"</option>
                        </select>
                    </div>
                    <button id="create-token" type="submit" class=PRIMARY_BUTTON>"Create token"</button>
                </ActionForm>
                <IssuedPanel outcome=Signal::derive(move || create.value().get())/>
            </section>
            <section class=CARD aria-labelledby="tokens-heading">
                <h2 id="tokens-heading" class="text-lg font-semibold">"All tokens"</h2>
                <IssuedPanel outcome=Signal::derive(move || rotate.value().get())/>
                {move || revoke.value().get().and_then(Result::err).map(|error| view! { <ErrorBox message=error.to_string()/> })}
                <RevokeConfirmation directory=Signal::derive(directory) confirming revoke/>
                {move || {
                    let Some(loaded) = tokens.get() else { return view! { <Skeleton/> }.into_any(); };
                    match loaded {
                            Ok(tokens) => view! {
                                <div class="overflow-x-auto" tabindex="0"><table id="token-table" class="mt-4 w-full text-left text-sm">
                                    <thead class="border-b border-slate-200 text-slate-500">
                                        <tr>
                                            <th scope="col" class="py-2 font-medium">"Name"</th>
                                            <th scope="col" class="py-2 font-medium">"Status"</th>
                                            <th scope="col" class="py-2 font-medium">"Last used"</th>
                                            <th scope="col" class="py-2 font-medium">"Expires"</th>
                                            <th scope="col" class="py-2 font-medium"><span class="sr-only">"Actions"</span></th>
                                        </tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100">
                                        {tokens.into_iter().map(|token| {
                                            let tone = match token.status.as_str() { "active" => "good", "expiring" => "warn", "revoked" | "expired" => "bad", _ => "neutral" };
                                            let usable = token.status == "active" || token.status == "expiring";
                                            let rotate_id = token.id.clone();
                                            let asked = (token.id.clone(), token.label.clone(), token.last_used.clone());
                                            let overlap_id = format!("overlap-{}", token.id);
                                            let status = match token.status.as_str() { "expiring" => "Expires soon".to_owned(), other => sentence_case(other) };
                                            view! {
                                                <tr class="align-top" data-token=token.id>
                                                    <td class="py-2 font-medium">{token.label}<p class="text-xs font-normal text-slate-500">{format!("Created {}", token.created)}</p></td>
                                                    <td class="py-2"><Badge tone text=status/></td>
                                                    <td class="py-2 text-slate-600">{token.last_used}</td>
                                                    <td class="py-2 text-slate-600">{token.expires}</td>
                                                    <td class="py-2">
                                                        {usable.then(|| view! {
                                                            <div class="flex flex-wrap justify-end gap-2">
                                                                <ActionForm action=rotate attr:class="flex items-center gap-2">
                                                                    <input type="hidden" name="directory" value=directory()/>
                                                                    <input type="hidden" name="token" value=rotate_id/>
                                                                    <label class="sr-only" for=overlap_id.clone()>"Overlap"</label>
                                                                    <select id=overlap_id name="overlap_minutes" class="rounded-lg border border-slate-300 px-2 py-1 text-xs">
                                                                        <option value="60">"1 hour overlap"</option>
                                                                        <option value="1440" selected>"1 day overlap"</option>
                                                                        <option value="10080">"7 days overlap"</option>
                                                                        <option value="0">"No overlap"</option>
                                                                    </select>
                                                                    <button type="submit" class="rotate-token text-xs font-semibold text-accent hover:text-accent-strong">"Rotate"</button>
                                                                </ActionForm>
                                                                <button type="button" class="revoke-token text-xs font-semibold text-red-700 hover:text-red-600"
                                                                    on:click=move |_| confirming.set(Some(asked.clone()))>"Revoke"</button>
                                                            </div>
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                            }.into_any(),
                            Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                        }
                }}
            </section>
            <crate::pages::oauth_clients::OAuthClientsSection directory=Signal::derive(directory)/>
        </main>
    }
}

/// Asks before a token is revoked, naming it and its last use: the identity provider that
/// holds it is refused from then on.
#[component]
fn RevokeConfirmation(
    directory: Signal<String>,
    confirming: RwSignal<Option<(String, String, String)>>,
    revoke: ServerAction<RevokeDirectoryToken>,
) -> impl IntoView {
    view! {
        {move || confirming.get().map(|(id, label, last_used)| {
            let used = if last_used == "never" {
                "It has never been used.".to_owned()
            } else {
                format!("It was last used {last_used}: the identity provider holding it is refused from now on, until it has another token.")
            };
            view! {
                <div id="revoke-confirmation" role="alertdialog" aria-labelledby="revoke-question" aria-describedby="revoke-consequence"
                    class="mt-4 rounded-lg border border-red-200 bg-red-50 p-4">
                    <p id="revoke-question" class="text-sm font-semibold text-red-900">{format!("Revoke ‘{label}’?")}</p>
                    <p id="revoke-consequence" class="mt-1 text-sm text-red-900">{used}</p>
                    <ActionForm action=revoke attr:class="mt-3 flex flex-wrap gap-3">
                        <input type="hidden" name="directory" value=directory.get()/>
                        <input type="hidden" name="token" value=id/>
                        <button id="confirm-revoke" type="submit" class=DANGER_BUTTON>
                            {format!("Revoke ‘{label}’")}
                        </button>
                        <button id="cancel-revoke" type="button" class=SECONDARY_BUTTON on:click=move |_| confirming.set(None)>"Keep it"</button>
                    </ActionForm>
                </div>
            }
        })}
    }
    .into_any()
}

fn sentence_case(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[component]
fn IssuedPanel(outcome: Signal<Option<Result<IssuedTokenView, PortalError>>>) -> impl IntoView {
    view! {
        <div class="mt-4" aria-live="polite">
            {move || match outcome.get() {
                Some(Ok(issued)) => view! {
                    <div class="space-y-2 rounded-lg border border-emerald-200 bg-emerald-50 p-4">
                        <CopyField id="issued-token" label="New token" value=issued.token/>
                        <p class="text-sm text-emerald-900">{format!("Shown only now. Expires: {}.", issued.expires)}</p>
                        {issued.old_token_until.map(|until| view! {
                            <p id="old-token-until" class="text-sm text-emerald-900">{format!("The replaced token keeps working until {until}.")}</p>
                        })}
                    </div>
                }.into_any(),
                Some(Err(error)) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                None => ().into_any(),
            }}
        </div>
    }
}
