//! The OAuth clients section of a directory's tokens page: each client with its last token
//! request and live access tokens; rotate its secret with an overlap, end its access
//! tokens, or revoke it (asked first, naming it and its last use).

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::style::{CARD, DANGER_BUTTON, SECONDARY_BUTTON};
use crate::components::{Badge, CopyField, ErrorBox, Skeleton, refusal_of, shown_once};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use crate::error::{after_plain_form_post_go_to, show_once_after_plain_form_post, take_shown_once};
use crate::pages::tokens::OverlapSelect;
#[cfg(feature = "ssr")]
use crate::portal::{Admin, date_time};

/// A client as the page shows it (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthClientView {
    pub client_id: String,
    pub label: String,
    pub created: String,
    /// When it last fetched an access token, or "never".
    pub last_token: String,
    pub live_tokens: i64,
    /// "active" or "revoked".
    pub status: String,
    /// Until when the secret a rotation replaced still works (none: it does not).
    pub old_secret_until: Option<String>,
}

/// A new secret: shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotatedSecretView {
    pub client_id: String,
    pub secret: String,
    /// Until when the replaced secret works, or none when it stopped at once.
    pub old_secret_until: Option<String>,
}

#[cfg(feature = "ssr")]
fn refused(error: service::oauth_clients::OAuthClientError) -> PortalError {
    use service::oauth_clients::OAuthClientError;
    match error {
        OAuthClientError::NoSuchClient => PortalError::NotFound("This directory has no such OAuth client.".to_owned()),
        OAuthClientError::Revoked => {
            PortalError::Conflict("This OAuth client is revoked; issue a new one in the setup wizard.".to_owned())
        }
        OAuthClientError::Service(error) => error.into(),
    }
}

#[server(endpoint = "list_oauth_clients")]
pub async fn list_oauth_clients(directory: String) -> Result<Vec<OAuthClientView>, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let now = admin.portal.now();
    let clients = service::oauth_clients::list(admin.store(), admin.tenant(), id, &admin.portal.effects)
        .await?
        .ok_or_else(PortalError::no_such_directory)?;
    Ok(clients
        .into_iter()
        .map(|client| OAuthClientView {
            status: if client.revoked_at.is_some() { "revoked" } else { "active" }.to_owned(),
            old_secret_until: client.previous_secret_until.filter(|until| *until > now).map(|at| date_time(Some(at))),
            client_id: client.client_id,
            label: client.label,
            created: date_time(Some(client.created_at)),
            last_token: date_time(client.last_token_at),
            live_tokens: client.live_tokens,
        })
        .collect())
}

/// Gives the client a new secret; the old one keeps working for `overlap_minutes`.
#[server(endpoint = "rotate_oauth_client")]
pub async fn rotate_oauth_client(
    directory: String,
    client_id: String,
    overlap_minutes: i64,
) -> Result<RotatedSecretView, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let overlap = chrono::Duration::minutes(overlap_minutes.clamp(0, 7 * 24 * 60));
    let rotated = service::oauth_clients::rotate_secret(
        admin.store(),
        admin.tenant(),
        id,
        &client_id,
        overlap,
        &admin.actor(),
        &admin.portal.effects,
    )
    .await
    .map_err(refused)?;
    let rotated = RotatedSecretView {
        client_id: rotated.client_id,
        secret: rotated.secret,
        old_secret_until: rotated.old_until.map(|at| date_time(Some(at))),
    };
    show_once_after_plain_form_post(&tokens_page(&directory), NEW_CLIENT_SECRET, &rotated).await?;
    Ok(rotated)
}

/// The client secret the last rotation of this session made, sealed under `key` for the
/// page the browser was sent back to: taken, so it is shown once.
#[server(endpoint = "take_rotated_client_secret")]
pub async fn take_rotated_client_secret(key: String) -> Result<Option<RotatedSecretView>, PortalError> {
    Admin::require().await?;
    take_shown_once(NEW_CLIENT_SECRET, &key).await
}

/// The address parameter (and kind of one-time outcome) of a rotated client secret.
pub(crate) const NEW_CLIENT_SECRET: &str = "new_client_secret";
/// The address parameters of how many access tokens a revocation or an ending ended (not
/// secret: they stay in the address).
const REVOKED_WITH: &str = "client_revoked_with";
const TOKENS_ENDED: &str = "client_tokens_ended";

/// Revokes the client and the access tokens it minted; answers how many tokens ended.
#[server(endpoint = "revoke_oauth_client")]
pub async fn revoke_oauth_client(directory: String, client_id: String) -> Result<u64, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let (store, tenant, actor) = (admin.store(), admin.tenant(), admin.actor());
    let ended = service::oauth_clients::revoke(store, tenant, id, &client_id, &actor, &admin.portal.effects)
        .await
        .map_err(refused)?;
    after_plain_form_post_go_to(&format!("{}?{REVOKED_WITH}={ended}", tokens_page(&directory)));
    Ok(ended)
}

/// Ends the client's live access tokens; its identity provider fetches new ones.
#[server(endpoint = "end_oauth_access_tokens")]
pub async fn end_oauth_access_tokens(directory: String, client_id: String) -> Result<u64, PortalError> {
    let admin = Admin::require().await?;
    let id = admin.directory(&directory).await?;
    let (store, tenant, actor) = (admin.store(), admin.tenant(), admin.actor());
    let ended = service::oauth_clients::end_access_tokens(store, tenant, id, &client_id, &actor, &admin.portal.effects)
        .await
        .map_err(refused)?;
    after_plain_form_post_go_to(&format!("{}?{TOKENS_ENDED}={ended}", tokens_page(&directory)));
    Ok(ended)
}

/// The section: nothing when the directory has no OAuth client. Like the rest of the
/// tokens page, it works whole without the bundle: plain forms, a confirmation at its own
/// address (`?revoke_client=<id>`), a new secret sealed for the page it is shown on.
#[component]
pub fn OAuthClientsSection(directory: String) -> impl IntoView {
    let query = use_query_map();
    let (revoking, shown, revoked_with, tokens_ended) = query.with_untracked(|query| {
        let count = |name: &str| query.get(name).and_then(|count| count.parse::<u64>().ok());
        (query.get("revoke_client"), query.get(NEW_CLIENT_SECRET), count(REVOKED_WITH), count(TOKENS_ENDED))
    });
    // Refusals of the forms' posts, from the page's address.
    let refusals =
        [refusal_of::<RotateOauthClient>(), refusal_of::<RevokeOauthClient>(), refusal_of::<EndOauthAccessTokens>()];
    let clients = Resource::new(
        {
            let directory = directory.clone();
            move || directory.clone()
        },
        list_oauth_clients,
    );
    let rotated = shown_once(shown, take_rotated_client_secret);
    let page = tokens_page(&directory);
    view! {
        <Suspense fallback=|| view! { <Skeleton/> }>
            {move || {
                let (directory, page, revoking, refusals) = (directory.clone(), page.clone(), revoking.clone(), refusals.clone());
                Suspend::new(async move {
                    let rows = match clients.await {
                        Ok(rows) if rows.is_empty() => return ().into_any(),
                        Ok(rows) => rows,
                        Err(error) => return view! { <ErrorBox message=error.to_string()/> }.into_any(),
                    };
                    let rotated = rotated.await;
                    let asked = revoking.and_then(|id| rows.iter().find(|client| client.client_id == id && client.status == "active").cloned());
                    view! {
                        <section class=CARD aria-labelledby="oauth-clients-heading">
                            <h2 id="oauth-clients-heading" class="text-lg font-semibold">"OAuth clients"</h2>
                            <p class="mt-1 text-sm text-slate-600">
                                "The identity provider fetches short-lived access tokens with a client's id and secret. Rotating gives the client a new secret while the old one keeps working for the overlap; revoking a client ends every access token it fetched."
                            </p>
                            {match rotated {
                                Ok(Some(rotated)) => view! { <RotatedPanel rotated/> }.into_any(),
                                Ok(None) => ().into_any(),
                                Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                            }}
                            {revoked_with.map(|ended| view! {
                                <p id="oauth-client-revoked" class="mt-3 text-sm text-slate-800" role="status">
                                    {format!("Revoked, with {ended} access {}.", if ended == 1 { "token" } else { "tokens" })}
                                </p>
                            })}
                            {tokens_ended.map(|ended| view! {
                                <p id="oauth-tokens-ended" class="mt-3 text-sm text-slate-800" role="status">
                                    {format!("Ended {ended} access {}; the identity provider fetches a new one with its secret.", if ended == 1 { "token" } else { "tokens" })}
                                </p>
                            })}
                            {refusals.into_iter().flatten().map(|error| view! { <ErrorBox message=error.to_string()/> }).collect_view()}
                            {asked.map(|client| view! { <RevokeClientConfirmation directory=directory.clone() page=page.clone() client/> })}
                            <ClientTable directory page rows/>
                        </section>
                    }.into_any()
                })
            }}
        </Suspense>
    }
}

#[component]
fn ClientTable(directory: String, page: String, rows: Vec<OAuthClientView>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto" tabindex="0"><table id="oauth-client-table" class="mt-4 w-full text-left text-sm">
            <thead class="border-b border-slate-200 text-slate-500">
                <tr>
                    <th scope="col" class="py-2 font-medium">"Client"</th>
                    <th scope="col" class="py-2 font-medium">"Status"</th>
                    <th scope="col" class="py-2 font-medium">"Last token fetched"</th>
                    <th scope="col" class="py-2 font-medium">"Live access tokens"</th>
                    <th scope="col" class="py-2 font-medium"><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody class="divide-y divide-slate-100">
                {rows.into_iter().map(|client| {
                    let active = client.status == "active";
                    let (tone, status) = if active { ("good", "Active") } else { ("bad", "Revoked") };
                    let overlap_id = format!("client-overlap-{}", client.client_id);
                    let ask_to_revoke = format!("{page}?revoke_client={}#revoke-client-confirmation", client.client_id);
                    let (directory, rotate_id, end_id, row_id) =
                        (directory.clone(), client.client_id.clone(), client.client_id.clone(), client.client_id.clone());
                    view! {
                        <tr class="align-top" data-oauth-client=row_id>
                            <td class="py-2 font-medium">
                                {client.label}
                                <p class="font-mono text-xs font-normal text-slate-600">{client.client_id}</p>
                                <p class="text-xs font-normal text-slate-500">{format!("Created {}", client.created)}</p>
                                {client.old_secret_until.map(|until| view! {
                                    <p class="text-xs font-normal text-amber-800">{format!("The previous secret works until {until}")}</p>
                                })}
                            </td>
                            <td class="py-2 whitespace-nowrap"><Badge tone text=status.to_owned()/></td>
                            <td class="py-2 text-slate-600">{client.last_token}</td>
                            <td class="py-2 text-slate-600">{client.live_tokens}</td>
                            <td class="py-2">
                                {active.then(|| view! {
                                    <div class="flex flex-wrap justify-end gap-2">
                                        <form method="post" action=RotateOauthClient::url() class="flex items-center gap-2">
                                            <input type="hidden" name="directory" value=directory.clone()/>
                                            <input type="hidden" name="client_id" value=rotate_id/>
                                            <OverlapSelect id=overlap_id/>
                                            <button type="submit" class="rotate-client text-xs font-semibold text-accent hover:text-accent-strong">"Rotate secret"</button>
                                        </form>
                                        <form method="post" action=EndOauthAccessTokens::url()>
                                            <input type="hidden" name="directory" value=directory/>
                                            <input type="hidden" name="client_id" value=end_id/>
                                            <button type="submit" class="end-client-tokens text-xs font-semibold text-slate-700 hover:text-slate-900">"End access tokens"</button>
                                        </form>
                                        <a href=ask_to_revoke rel="external" class="revoke-client text-xs font-semibold text-red-700 hover:text-red-600">"Revoke"</a>
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

/// A client's new secret: shown this once.
#[component]
fn RotatedPanel(rotated: RotatedSecretView) -> impl IntoView {
    view! {
        <div class="mt-4 space-y-2 rounded-lg border border-emerald-200 bg-emerald-50 p-4" aria-live="polite">
            <CopyField id="rotated-client-secret" label="New client secret" value=rotated.secret/>
            <p class="text-sm text-emerald-900">
                {match rotated.old_secret_until {
                    Some(until) => format!("Shown only now. Paste it into the identity provider for client {}; the old secret keeps working until {until}.", rotated.client_id),
                    None => format!("Shown only now. Paste it into the identity provider for client {}; the old secret no longer works.", rotated.client_id),
                }}
            </p>
        </div>
    }
}

/// Asks before a client is revoked, naming it and its last use.
#[component]
fn RevokeClientConfirmation(directory: String, page: String, client: OAuthClientView) -> impl IntoView {
    let used = if client.last_token == "never" {
        "It has never fetched an access token.".to_owned()
    } else {
        format!(
            "It last fetched an access token {}: the identity provider holding it is refused from its next request, its access tokens included.",
            client.last_token
        )
    };
    let label = client.label;
    view! {
        <div id="revoke-client-confirmation" role="alertdialog" aria-labelledby="revoke-client-question" aria-describedby="revoke-client-consequence"
            class="mt-4 rounded-lg border border-red-200 bg-red-50 p-4">
            <p id="revoke-client-question" class="text-sm font-semibold text-red-900">{format!("Revoke ‘{label}’?")}</p>
            <p id="revoke-client-consequence" class="mt-1 text-sm text-red-900">{used}</p>
            <form method="post" action=RevokeOauthClient::url() class="mt-3 flex flex-wrap items-center gap-3">
                <input type="hidden" name="directory" value=directory/>
                <input type="hidden" name="client_id" value=client.client_id/>
                <button id="confirm-revoke-client" type="submit" class=DANGER_BUTTON>
                    {format!("Revoke ‘{label}’")}
                </button>
                <a id="cancel-revoke-client" href=page rel="external" class=SECONDARY_BUTTON>"Keep it"</a>
            </form>
        </div>
    }
}

/// The tokens page of `directory`, which this section is part of.
pub(crate) fn tokens_page(directory: &str) -> String {
    format!("/admin/directories/{directory}/tokens")
}
