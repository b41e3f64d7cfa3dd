//! `/admin/directories/{id}/tokens`: a directory's bearer tokens: create, rotate with an
//! overlap, revoke; and its OAuth clients ([`crate::pages::oauth_clients`]). The wizard's
//! token step issues its token here too.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::auth::AdminView;
use crate::components::style::{CARD, DANGER_BUTTON, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{AdminTopBar, Badge, CopyField, ErrorBox, SignedInAdmin, Skeleton, refusal_box, shown_once};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use crate::error::{after_plain_form_post_go_to, show_once_after_plain_form_post, take_shown_once};
use crate::pages::dashboard::directory_param;
use crate::pages::oauth_clients::tokens_page;
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
    let issued = IssuedTokenView {
        token: issued.secret,
        expires: date_time(expires),
        old_token_until: Some(date_time(Some(old_until))),
    };
    show_once_after_plain_form_post(&tokens_page(&directory), NEW_TOKEN, &issued).await?;
    Ok(issued)
}

/// The token the last create or rotate of this session issued, sealed under `key` for
/// the page the browser was sent back to: taken, so it is shown once.
#[server(endpoint = "take_issued_token")]
pub async fn take_issued_token(key: String) -> Result<Option<IssuedTokenView>, PortalError> {
    Admin::require().await?;
    take_shown_once(NEW_TOKEN, &key).await
}

#[server(endpoint = "revoke_directory_token")]
pub async fn revoke_directory_token(directory: String, token: String) -> Result<(), PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let token = token.parse::<service::TokenId>().map_err(|_| PortalError::no_such_token())?;
    let (tenant, now) = (admin.tenant(), admin.portal.now());
    let revoked = service::directories::revoke_token(admin.store(), tenant, id, token, &admin.actor(), now).await?;
    if !revoked {
        return Err(PortalError::no_such_token());
    }
    // Back to the list, not to the confirmation the form was on.
    after_plain_form_post_go_to(&tokens_page(&directory));
    Ok(())
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
    let issued = server::issue_token(&admin, id, label.to_owned(), valid_days).await?;
    show_once_after_plain_form_post(&tokens_page(&directory), NEW_TOKEN, &issued).await?;
    Ok(issued)
}

/// The address parameter (and kind of one-time outcome) of a new or rotated token.
const NEW_TOKEN: &str = "new_token";

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

/// The page's forms are plain HTML forms: each post reloads the page with the outcome
/// (a refusal in the address, a new token sealed in the session for the one page that
/// shows it), so the page works the same whether or not the bundle has arrived, and needs
/// none of it to show what it loaded (the list is rendered on the server).
#[component]
fn TokensView(admin: AdminView) -> impl IntoView {
    let directory = directory_param();
    let query = use_query_map();
    // The token whose revocation waits for a confirmation (`?revoke=<id>`), and the key
    // of a token just issued (`?new_token=<key>`): read once, as the page is opened.
    let revoking = query.with_untracked(|query| query.get("revoke"));
    let shown = query.with_untracked(|query| query.get(NEW_TOKEN));
    let tokens = Resource::new(directory, list_tokens);
    let key_given = shown.is_some();
    let issued = shown_once(shown, take_issued_token);
    let page = move || tokens_page(&directory());
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
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match issued.await {
                        Ok(Some(issued)) => view! { <IssuedPanel issued/> }.into_any(),
                        Ok(None) if key_given => view! {
                            <p id="issued-token-gone" class="rounded-lg bg-amber-50 p-3 text-sm text-amber-900" role="status">
                                "That token was shown once, when it was issued, and is not shown again. If it was not copied, rotate it for a new one."
                            </p>
                        }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    }
                })}
            </Suspense>
            <section class=CARD aria-labelledby="new-token-heading">
                <h2 id="new-token-heading" class="text-lg font-semibold">"New token"</h2>
                <form method="post" action=CreateDirectoryToken::url() class="mt-4 flex flex-wrap items-end gap-4">
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
                </form>
                {refusal_box::<CreateDirectoryToken>()}
            </section>
            <section class=CARD aria-labelledby="tokens-heading">
                <h2 id="tokens-heading" class="text-lg font-semibold">"All tokens"</h2>
                {refusal_box::<RotateToken>()}
                {refusal_box::<RevokeDirectoryToken>()}
                <Suspense fallback=|| view! { <Skeleton/> }>
                    {move || {
                        let revoking = revoking.clone();
                        Suspend::new(async move {
                            match tokens.await {
                                Ok(tokens) => {
                                    let asked = revoking.and_then(|id| tokens.iter().find(|token| token.id == id && token.usable()).cloned());
                                    view! {
                                        {asked.map(|token| view! { <RevokeConfirmation directory=directory() page=page() token/> })}
                                        <TokenTable directory=directory() page=page() tokens/>
                                    }.into_any()
                                }
                                Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            </section>
            <crate::pages::oauth_clients::OAuthClientsSection directory=directory()/>
        </main>
    }
}

impl TokenView {
    /// Whether the token still lets its identity provider in (and can be rotated or revoked).
    fn usable(&self) -> bool {
        self.status == "active" || self.status == "expiring"
    }
}

#[component]
fn TokenTable(directory: String, page: String, tokens: Vec<TokenView>) -> impl IntoView {
    view! {
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
                    let usable = token.usable();
                    let overlap_id = format!("overlap-{}", token.id);
                    // A link, not a button: the confirmation is part of the page the server
                    // renders for this address, with or without the bundle.
                    let ask_to_revoke = format!("{page}?revoke={}#revoke-confirmation", token.id);
                    let status = match token.status.as_str() { "expiring" => "Expires soon".to_owned(), other => sentence_case(other) };
                    let (directory, id) = (directory.clone(), token.id.clone());
                    view! {
                        <tr class="align-top" data-token=token.id>
                            <td class="py-2 font-medium">{token.label}<p class="text-xs font-normal text-slate-500">{format!("Created {}", token.created)}</p></td>
                            <td class="py-2"><Badge tone text=status/></td>
                            <td class="py-2 text-slate-600">{token.last_used}</td>
                            <td class="py-2 text-slate-600">{token.expires}</td>
                            <td class="py-2">
                                {usable.then(|| view! {
                                    <div class="flex flex-wrap justify-end gap-2">
                                        <form method="post" action=RotateToken::url() class="flex items-center gap-2">
                                            <input type="hidden" name="directory" value=directory/>
                                            <input type="hidden" name="token" value=id/>
                                            <OverlapSelect id=overlap_id/>
                                            <button type="submit" class="rotate-token text-xs font-semibold text-accent hover:text-accent-strong">"Rotate"</button>
                                        </form>
                                        <a href=ask_to_revoke rel="external" class="revoke-token text-xs font-semibold text-red-700 hover:text-red-600">"Revoke"</a>
                                    </div>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }
}

/// How long a replaced credential keeps working after a rotation: the tokens' and the
/// OAuth clients' rotate forms (`overlap_minutes`).
#[component]
pub(crate) fn OverlapSelect(id: String) -> impl IntoView {
    view! {
        <label class="sr-only" for=id.clone()>"Overlap"</label>
        <select id=id name="overlap_minutes" class="rounded-lg border border-slate-300 px-2 py-1 text-xs">
            <option value="60">"1 hour overlap"</option>
            <option value="1440" selected>"1 day overlap"</option>
            <option value="10080">"7 days overlap"</option>
            <option value="0">"No overlap"</option>
        </select>
    }
}

/// Asks before a token is revoked, naming it and its last use: the identity provider that
/// holds it is refused from then on.
#[component]
fn RevokeConfirmation(directory: String, page: String, token: TokenView) -> impl IntoView {
    let used = if token.last_used == "never" {
        "It has never been used.".to_owned()
    } else {
        format!(
            "It was last used {}: the identity provider holding it is refused from now on, until it has another token.",
            token.last_used
        )
    };
    let label = token.label;
    view! {
        <div id="revoke-confirmation" role="alertdialog" aria-labelledby="revoke-question" aria-describedby="revoke-consequence"
            class="mt-4 rounded-lg border border-red-200 bg-red-50 p-4">
            <p id="revoke-question" class="text-sm font-semibold text-red-900">{format!("Revoke ‘{label}’?")}</p>
            <p id="revoke-consequence" class="mt-1 text-sm text-red-900">{used}</p>
            <form method="post" action=RevokeDirectoryToken::url() class="mt-3 flex flex-wrap items-center gap-3">
                <input type="hidden" name="directory" value=directory/>
                <input type="hidden" name="token" value=token.id/>
                <button id="confirm-revoke" type="submit" class=DANGER_BUTTON>
                    {format!("Revoke ‘{label}’")}
                </button>
                <a id="cancel-revoke" href=page rel="external" class=SECONDARY_BUTTON>"Keep it"</a>
            </form>
        </div>
    }
}

fn sentence_case(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A token just issued or rotated: shown this once.
#[component]
fn IssuedPanel(issued: IssuedTokenView) -> impl IntoView {
    view! {
        <div class="space-y-2 rounded-lg border border-emerald-200 bg-emerald-50 p-4" aria-live="polite">
            <CopyField id="issued-token" label="New token" value=issued.token/>
            <p class="text-sm text-emerald-900">{format!("Shown only now. Expires: {}.", issued.expires)}</p>
            {issued.old_token_until.map(|until| view! {
                <p id="old-token-until" class="text-sm text-emerald-900">{format!("The replaced token keeps working until {until}.")}</p>
            })}
        </div>
    }
}
