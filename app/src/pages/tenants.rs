//! `/tenants` and `/tenants/{slug}`: the operator console's tenants, and the directories
//! their identity providers feed, with the server functions they call. Reading needs a signed-in operator of
//! any role; changing needs the `operator` role. Both are checked here, on the server.
//! Reading one tenant's data is recorded in that tenant's audit trail (with the viewer's
//! email and role), where its admins see it.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use service::OperatorRole;

use crate::auth::OperatorView;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{
    Badge, CopyField, DeleteDirectoryForm, DeletionOutcome, ErrorBox, ErrorView, SignedIn, Skeleton, TopBar,
    deletion_notice, refusal_box, refusal_of,
};
use crate::error::PortalError;
#[cfg(feature = "ssr")]
use crate::portal::Operator;

/// One row of the tenant list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRow {
    pub slug: String,
    pub display_name: String,
    /// `YYYY-MM-DD`, UTC.
    pub created: String,
    pub directories: i64,
}

/// One directory on a tenant's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryRow {
    pub id: String,
    pub idp: String,
    pub scim_base_url: String,
    pub created: String,
    /// "Setup complete on …" or "In setup: step 3 of 6 (Token)".
    pub setup: String,
    pub completed: bool,
    pub active_users: i64,
    pub inactive_users: i64,
    pub groups: i64,
    pub requests_24h: i64,
    pub failures_24h: i64,
    /// `never`, or a UTC date and time.
    pub last_request: String,
}

/// A tenant's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantOverview {
    pub slug: String,
    pub display_name: String,
    pub directories: Vec<DirectoryRow>,
    pub sso: SsoSettings,
    /// Whether the deployment sends email (`SMTP_URL`): setup links can be emailed.
    pub sends_mail: bool,
}

/// A directory just added, with its token: the only time the token is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDirectory {
    pub idp: String,
    pub scim_base_url: String,
    pub token: String,
}

/// The identity providers a directory can be created for: (command-line name, product name).
pub fn identity_providers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("okta", "Okta"),
        ("entra", "Microsoft Entra ID"),
        ("google", "Google Workspace"),
        ("onelogin", "OneLogin"),
        ("jumpcloud", "JumpCloud"),
        ("ping", "PingFederate"),
        ("rippling", "Rippling"),
        ("generic", "Generic SCIM 2.0"),
    ]
}

#[server(endpoint = "list_tenants")]
pub async fn list_tenants() -> Result<Vec<TenantRow>, PortalError> {
    let operator = Operator::require().await?;
    let tenants = service::tenants::list(operator.store()).await?;
    Ok(tenants
        .into_iter()
        .map(|summary| TenantRow {
            slug: summary.tenant.slug.to_string(),
            display_name: summary.tenant.display_name,
            created: summary.tenant.created_at.format("%Y-%m-%d").to_string(),
            directories: summary.directory_count,
        })
        .collect())
}

/// Creates a tenant and opens its page. An empty `slug` is made from the display name
/// (what the form's script fills in as one types, done here for a form posted without it).
#[server(endpoint = "create_tenant")]
pub async fn create_tenant(slug: String, display_name: String) -> Result<(), PortalError> {
    let operator = Operator::require_role(OperatorRole::Operator).await?;
    let slug = if slug.trim().is_empty() { suggested_slug(&display_name) } else { slug };
    let created =
        service::tenants::create(operator.store(), &slug, &display_name, &operator.actor(), &operator.portal.effects)
            .await
            .map_err(PortalError::from)
            .inspect_err(|error| {
                let typed = [("display_name", display_name.as_str()), ("slug", slug.as_str())];
                crate::error::back_with_what_was_typed::<CreateTenant>("/tenants", &typed, error);
            })?;
    leptos_axum::redirect(&format!("/tenants/{}", created.slug));
    Ok(())
}

#[server(endpoint = "tenant_detail")]
pub async fn tenant_detail(slug: String) -> Result<Option<TenantOverview>, PortalError> {
    let operator = Operator::require().await?;
    let Ok(slug) = service::TenantSlug::parse(&slug) else { return Ok(None) };
    let page = service::support::tenant_page(operator.store(), &slug, &operator.actor(), operator.portal.now()).await?;
    let Some(service::support::TenantPage { tenant, directories, sso: provider }) = page else {
        return Ok(None);
    };
    let portal = &operator.portal;
    Ok(Some(TenantOverview {
        sso: SsoSettings::new(portal, provider),
        sends_mail: portal.mailer.is_some(),
        slug: tenant.slug.to_string(),
        display_name: tenant.display_name,
        directories: directories
            .into_iter()
            .map(|status| {
                let directory = status.directory;
                let step = usize::from(status.step_reached.clamp(1, 6));
                let setup = match status.completed_at {
                    Some(at) => format!("Setup complete on {}", at.format("%Y-%m-%d")),
                    None => format!(
                        "In setup: step {step} of {} ({})",
                        crate::components::STEPS.len(),
                        crate::components::STEPS[step - 1].1
                    ),
                };
                DirectoryRow {
                    id: directory.id.to_string(),
                    idp: directory.idp.display_name().to_owned(),
                    scim_base_url: portal.scim_base_url(directory.id),
                    created: directory.created_at.format("%Y-%m-%d").to_string(),
                    setup,
                    completed: status.completed_at.is_some(),
                    active_users: status.active_users,
                    inactive_users: status.inactive_users,
                    groups: status.groups,
                    requests_24h: status.health.requests,
                    failures_24h: status.health.failures,
                    last_request: crate::portal::date_time(status.health.last_request_at),
                }
            })
            .collect(),
    }))
}

#[server(endpoint = "add_directory")]
pub async fn add_directory(slug: String, idp: String) -> Result<NewDirectory, PortalError> {
    let operator = Operator::require_role(OperatorRole::Operator).await?;
    let (Ok(slug), Ok(idp)) = (service::TenantSlug::parse(&slug), idp.parse::<service::IdentityProvider>()) else {
        return Err(PortalError::Invalid("Choose one of the listed identity providers.".to_owned()));
    };
    let label = format!("Created by {} in the portal", operator.session.email);
    let added = service::tenants::add_directory(
        operator.store(),
        &slug,
        idp,
        label,
        Some(operator.portal.settings.max_directories_per_tenant),
        &operator.actor(),
        &operator.portal.effects,
    )
    .await?;
    let (directory, token) = added.ok_or_else(PortalError::no_such_tenant)?;
    let added = NewDirectory {
        idp: idp.display_name().to_owned(),
        scim_base_url: operator.portal.scim_base_url(directory.id),
        token: token.secret,
    };
    crate::error::show_once_after_plain_form_post(&tenant_page(slug.as_str()), NEW_DIRECTORY, &added).await?;
    Ok(added)
}

/// What the tenant page's forms made, sealed for the one page that shows it: a new
/// directory with its token, a setup link, where a link was emailed. `kind` is one of
/// [`NEW_DIRECTORY`], [`NEW_SETUP_LINK`], [`SETUP_LINK_SENT`].
#[server(endpoint = "take_tenant_page_outcome")]
pub async fn take_tenant_page_outcome(kind: String, key: String) -> Result<Option<TenantPageOutcome>, PortalError> {
    Operator::require_role(OperatorRole::Operator).await?;
    Ok(match kind.as_str() {
        NEW_DIRECTORY => crate::error::take_shown_once(NEW_DIRECTORY, &key).await?.map(TenantPageOutcome::Directory),
        NEW_SETUP_LINK => crate::error::take_shown_once(NEW_SETUP_LINK, &key)
            .await?
            .map(|(url, days)| TenantPageOutcome::SetupLink { url, days }),
        SETUP_LINK_SENT => crate::error::take_shown_once(SETUP_LINK_SENT, &key)
            .await?
            .map(|(to, days)| TenantPageOutcome::SetupLinkSent { to, days }),
        _ => None,
    })
}

/// One outcome of the tenant page's forms (see [`take_tenant_page_outcome`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TenantPageOutcome {
    Directory(NewDirectory),
    SetupLink { url: String, days: u32 },
    SetupLinkSent { to: String, days: u32 },
}

/// The address parameters (and kinds of one-time outcome) of the tenant page's forms.
const NEW_DIRECTORY: &str = "new_directory";
const NEW_SETUP_LINK: &str = "new_setup_link";
const SETUP_LINK_SENT: &str = "setup_link_sent";

/// The console page of the tenant `slug`.
#[cfg(feature = "ssr")]
fn tenant_page(slug: &str) -> String {
    format!("/tenants/{slug}")
}

/// A tenant's single sign-on settings as the console shows them (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSettings {
    /// The callback to register at the provider.
    pub redirect_uri: String,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub display_name: Option<String>,
}

#[cfg(feature = "ssr")]
impl SsoSettings {
    fn new(portal: &crate::portal::Portal, provider: Option<service::sso::ProviderSummary>) -> Self {
        SsoSettings {
            redirect_uri: format!("{}/sso/callback", portal.public_base()),
            issuer: provider.as_ref().map(|p| p.issuer.clone()),
            client_id: provider.as_ref().map(|p| p.client_id.clone()),
            display_name: provider.map(|p| p.display_name),
        }
    }
}

#[server(endpoint = "tenant_sso")]
pub async fn tenant_sso(slug: String) -> Result<SsoSettings, PortalError> {
    let operator = Operator::require().await?;
    let tenant = operator.tenant(&slug).await?;
    let provider =
        service::support::tenant_sso(operator.store(), tenant, &operator.actor(), operator.portal.now()).await?;
    Ok(SsoSettings::new(&operator.portal, provider))
}

/// Sets the tenant's OpenID Connect provider for admin sign-in.
#[server(endpoint = "configure_tenant_sso")]
pub async fn configure_tenant_sso(
    slug: String,
    issuer: String,
    client_id: String,
    client_secret: String,
    display_name: String,
) -> Result<(), PortalError> {
    let operator = Operator::require_role(OperatorRole::Operator).await?;
    let tenant = operator.tenant(&slug).await?;
    let settings = service::sso::ProviderSettings { issuer, client_id, client_secret, display_name };
    service::sso::configure(operator.store(), tenant, &settings, &operator.actor(), operator.portal.now()).await?;
    crate::error::after_plain_form_post_go_to(&format!("{}?sso=saved", tenant_page(&slug)));
    Ok(())
}

/// Makes a setup link for the tenant's next admin; returns its address (shown once).
#[server(endpoint = "create_setup_link")]
pub async fn create_setup_link(slug: String, valid_days: u32) -> Result<String, PortalError> {
    let operator = Operator::require_role(OperatorRole::Operator).await?;
    let tenant = operator.tenant(&slug).await?;
    let lifetime = chrono::Duration::days(i64::from(valid_days));
    let link = service::admins::create_setup_link(
        operator.store(),
        tenant,
        &operator.actor(),
        lifetime,
        &operator.portal.effects,
    )
    .await?;
    let url = link.url(operator.portal.public_base());
    crate::error::show_once_after_plain_form_post(&tenant_page(&slug), NEW_SETUP_LINK, &(&url, valid_days)).await?;
    Ok(url)
}

/// Makes a setup link for the tenant's next admin and emails it to `email`; returns the
/// address it went to. The link itself is in the email only.
#[server(endpoint = "email_setup_link")]
pub async fn email_setup_link(slug: String, valid_days: u32, email: String) -> Result<String, PortalError> {
    let operator = Operator::require_role(OperatorRole::Operator).await?;
    let tenant = operator.tenant(&slug).await?;
    let lifetime = chrono::Duration::days(i64::from(valid_days));
    let portal = &operator.portal;
    let sent = service::admins::email_setup_link(
        operator.store(),
        portal.mailer.as_ref(),
        portal.public_base(),
        tenant,
        &operator.actor(),
        lifetime,
        &email,
        &portal.effects,
    )
    .await?;
    let sent = (sent.sent_to, valid_days);
    crate::error::show_once_after_plain_form_post(&tenant_page(&slug), SETUP_LINK_SENT, &sent).await?;
    Ok(sent.0)
}

/// A tenant's name in addresses made from its display name: lower-cased, every run of other
/// characters a dash, starting with a letter, at most 63 characters (`Globex Corp.` →
/// `globex-corp`).
pub fn suggested_slug(display_name: &str) -> String {
    let mut slug = String::new();
    for c in display_name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || (c.is_ascii_digit() && !slug.is_empty()) {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let mut slug: String = slug.chars().take(63).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// A new tenant's display name and name in addresses: an island, so the name in addresses
/// follows the display name as it is typed until the operator types one (without the
/// bundle, one left empty is made from the display name on the server).
#[island]
fn TenantNameFields(typed_name: String, typed_slug: String) -> impl IntoView {
    let slug = RwSignal::new(typed_slug);
    let slug_edited = RwSignal::new(false);
    view! {
        <div>
            <label for="tenant-display-name" class="block text-sm font-medium text-slate-700">"Display name"</label>
            <input id="tenant-display-name" name="display_name" required placeholder="Acme Corporation" class=INPUT value=typed_name
                on:input=move |event| {
                    if !slug_edited.get_untracked() {
                        slug.set(suggested_slug(&event_target_value(&event)));
                    }
                }/>
        </div>
        <div>
            <label for="tenant-slug" class="block text-sm font-medium text-slate-700">"Name in addresses"</label>
            <input id="tenant-slug" name="slug" placeholder="acme" aria-describedby="tenant-slug-hint" class=INPUT
                prop:value=move || slug.get()
                on:input=move |event| {
                    slug_edited.set(true);
                    slug.set(event_target_value(&event));
                }/>
            <p id="tenant-slug-hint" class="mt-1 text-xs text-slate-500">"Lowercase letters, digits and dashes; made from the display name when left empty."</p>
        </div>
    }
}

/// `/tenants`: every tenant, and a form for a new one.
#[component]
pub fn TenantsPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <TenantsView operator/> }.into_any()/> }
}

/// Works whole without the bundle: the list is rendered on the server and the form is a
/// plain form (a refusal comes back with what was typed; the name in addresses, left
/// empty, is made from the display name on the server).
#[component]
fn TenantsView(operator: OperatorView) -> impl IntoView {
    let may_change = operator.role == "operator";
    let tenants = Resource::new(|| (), |()| list_tenants());
    let failure = refusal_of::<CreateTenant>().map(|error| error.to_string());
    let (typed_name, typed_slug) = use_query_map().with_untracked(|query| {
        let typed = |field: &str| failure.is_some().then(|| query.get(field)).flatten().unwrap_or_default();
        (typed("display_name"), typed("slug"))
    });
    view! {
        <TopBar operator/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <h1 class="text-2xl font-bold tracking-tight">"Tenants"</h1>
            {may_change.then(|| view! {
                <section class=CARD aria-labelledby="new-tenant-heading">
                    <h2 id="new-tenant-heading" class="text-lg font-semibold">"New tenant"</h2>
                    <p class="mt-1 text-sm text-slate-600">
                        "A tenant is one of your customers. Its name appears in addresses, so it is short and lowercase."
                    </p>
                    <form method="post" action=CreateTenant::url() class="mt-4 grid gap-4 sm:grid-cols-[1fr_1fr_auto] sm:items-end">
                        <TenantNameFields typed_name typed_slug/>
                        <button id="create-tenant" type="submit" class=PRIMARY_BUTTON>"Create tenant"</button>
                    </form>
                    <div id="create-tenant-error" class="mt-4" aria-live="assertive">
                        {failure.map(|message| view! { <ErrorBox message/> })}
                    </div>
                </section>
            })}
            <section class=CARD aria-labelledby="tenant-list-heading">
                <h2 id="tenant-list-heading" class="text-lg font-semibold">"All tenants"</h2>
                <Suspense fallback=|| view! { <Skeleton/> }>
                    {move || Suspend::new(async move {
                        match tenants.await {
                            Ok(rows) if rows.is_empty() => view! {
                                <p id="no-tenants" class="mt-4 text-sm text-slate-600">"No tenants yet."</p>
                            }.into_any(),
                            Ok(rows) => view! {
                                <div class="overflow-x-auto" tabindex="0"><table id="tenant-table" class="mt-4 w-full text-left text-sm">
                                    <thead class="border-b border-slate-200 text-slate-500">
                                        <tr>
                                            <th scope="col" class="py-2 font-medium">"Tenant"</th>
                                            <th scope="col" class="py-2 font-medium">"Name in addresses"</th>
                                            <th scope="col" class="py-2 text-right font-medium">"Directories"</th>
                                            <th scope="col" class="py-2 text-right font-medium">"Created"</th>
                                        </tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100">
                                        {rows.into_iter().map(|row| view! {
                                            <tr>
                                                <td class="py-2">
                                                    <A href=format!("/tenants/{}", row.slug) attr:class="font-medium text-accent hover:text-accent-strong">
                                                        {row.display_name}
                                                    </A>
                                                </td>
                                                <td class="py-2 font-mono text-slate-600">{row.slug}</td>
                                                <td class="py-2 text-right">{row.directories}</td>
                                                <td class="py-2 text-right text-slate-600">{row.created}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                            }.into_any(),
                            Err(error) => view! { <ErrorView error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </main>
    }
}

/// `/tenants/{slug}`: a tenant's directories, and adding one for an identity provider.
#[component]
pub fn TenantPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <TenantView operator/> }.into_any()/> }
}

#[component]
fn TenantView(operator: OperatorView) -> impl IntoView {
    let may_change = operator.role == "operator";
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    // What a form of the page made, sealed for this page (`?new_directory=<key>` and so
    // on): read once, as the page is opened.
    let shown = use_query_map().with_untracked(|query| {
        [NEW_DIRECTORY, NEW_SETUP_LINK, SETUP_LINK_SENT]
            .into_iter()
            .find_map(|kind| query.get(kind).map(|key| (kind.to_owned(), key)))
    });
    let outcome = Resource::new(
        || (),
        move |_| {
            let shown = shown.clone();
            async move {
                match shown {
                    Some((kind, key)) => take_tenant_page_outcome(kind, key).await,
                    None => Ok(None),
                }
            }
        },
    );
    let detail = Resource::new(slug, tenant_detail);
    let deleted = deletion_notice();
    view! {
        <TopBar operator/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <Suspense fallback=|| view! { <Skeleton/> }>
                {move || Suspend::new(async move {
                    let outcome = outcome.await;
                    match detail.await {
                        Ok(Some(tenant)) => {
                            let (directory_outcome, link_outcome) = match outcome {
                                Ok(Some(TenantPageOutcome::Directory(created))) => (Some(Ok(created)), None),
                                Ok(Some(link)) => (None, Some(Ok(link))),
                                Ok(None) => (None, None),
                                Err(error) => (Some(Err(error)), None),
                            };
                            let link_slug = tenant.slug.clone();
                            let row_slug = tenant.slug.clone();
                            let sso = tenant.sso.clone();
                            view! {
                            <div>
                                <A href="/tenants" attr:class="text-sm font-medium text-accent hover:text-accent-strong">"← All tenants"</A>
                                <h1 id="tenant-name" class="mt-2 text-2xl font-bold tracking-tight">{tenant.display_name}</h1>
                                <p class="font-mono text-sm text-slate-600">{tenant.slug.clone()}</p>
                            </div>
                            <section class=CARD aria-labelledby="directories-heading">
                                <div class="flex flex-wrap items-center justify-between gap-3">
                                    <h2 id="directories-heading" class="text-lg font-semibold">"Directories"</h2>
                                    <A href=format!("/tenants/{}/audit", tenant.slug) attr:id="tenant-audit" attr:class="text-sm font-medium text-accent-strong hover:text-accent-strong">"Audit trail →"</A>
                                </div>
                                <DeletionOutcome notice=deleted/>
                                {if tenant.directories.is_empty() {
                                    view! { <p id="no-directories" class="mt-2 text-sm text-slate-600">"No identity provider is connected yet."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul id="directory-list" class="mt-4 divide-y divide-slate-100">
                                            {tenant.directories.into_iter().map(|directory| {
                                                let (health, tone) =
                                                    crate::pages::dashboard::sync_health_badge(directory.requests_24h, directory.failures_24h);
                                                let link_slug_row = row_slug.clone();
                                                let row_id = directory.id.clone();
                                                view! {
                                                <li class="py-3" data-directory=row_id>
                                                    <div class="flex flex-wrap items-center gap-2">
                                                        <p class="font-medium">{directory.idp.clone()}</p>
                                                        <Badge tone=if directory.completed { "good" } else { "warn" } text=directory.setup.clone()/>
                                                        <Badge tone text=health.to_owned()/>
                                                    </div>
                                                    <dl class="directory-status mt-2 grid grid-cols-2 gap-x-4 gap-y-1 text-xs sm:grid-cols-4">
                                                        <div><dt class="text-slate-500">"Users"</dt><dd class="font-semibold">{format!("{} active, {} deactivated", directory.active_users, directory.inactive_users)}</dd></div>
                                                        <div><dt class="text-slate-500">"Groups"</dt><dd class="font-semibold">{directory.groups}</dd></div>
                                                        <div><dt class="text-slate-500">"Requests, last 24 h"</dt><dd class="font-semibold">{format!("{} ({} failed)", directory.requests_24h, directory.failures_24h)}</dd></div>
                                                        <div><dt class="text-slate-500">"Last request"</dt><dd class="font-semibold">{directory.last_request.clone()}</dd></div>
                                                    </dl>
                                                    <p class="mt-2 break-all font-mono text-xs text-slate-600">{directory.scim_base_url}</p>
                                                    <p class="text-xs text-slate-500">{format!("Created {}", directory.created)}</p>
                                                    <A href=crate::pages::resource::directory_pages(&link_slug_row, &directory.id) attr:class="directory-browse mt-1 inline-block text-sm font-medium text-accent-strong hover:text-accent-strong">"Users, groups and activity →"</A>
                                                    {may_change.then(|| view! {
                                                        <DeleteDirectoryForm directory=directory.id.clone() name=directory.idp.clone() slug=link_slug_row.clone()/>
                                                    })}
                                                </li>
                                            }}).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                                {may_change.then(|| view! { <AddDirectoryForm slug=tenant.slug.clone() outcome=directory_outcome/> })}
                            </section>
                            {may_change.then(|| view! {
                                <SetupLinkSection slug=link_slug.clone() sends_mail=tenant.sends_mail outcome=link_outcome/>
                                <SsoSection slug=link_slug.clone() settings=sso.clone()/>
                            })}
                        }.into_any()
                        }
                        Ok(None) => view! {
                            <h1 class="text-2xl font-bold">"No such tenant"</h1>
                            <p class="text-slate-600">"There is no tenant with this name."</p>
                            <A href="/tenants" attr:class="font-semibold text-accent hover:text-accent-strong">"All tenants"</A>
                        }.into_any(),
                        Err(error) => view! { <ErrorView error/> }.into_any(),
                    }
                })}
            </Suspense>
            // Outside the boundary: each panel owns its resource and its own boundary (a
            // component that makes a resource inside another boundary's children is made
            // again by each of its walks).
            <crate::pages::webhooks::TenantWebhooksSection slug=slug()/>
            <crate::pages::people::AdminsPanel tenant=slug() may_change/>
            <crate::pages::setup_links::SetupLinksPanel tenant=slug() may_change/>
        </main>
    }
}

#[component]
fn AddDirectoryForm(slug: String, outcome: Option<Result<NewDirectory, PortalError>>) -> impl IntoView {
    view! {
        <form method="post" action=AddDirectory::url() class="mt-6 flex flex-wrap items-end gap-4 border-t border-slate-100 pt-6">
            <input type="hidden" name="slug" value=slug/>
            <div>
                <label for="directory-idp" class="block text-sm font-medium text-slate-700">"Identity provider"</label>
                <select id="directory-idp" name="idp" class=INPUT>
                    {identity_providers().into_iter().map(|(value, name)| view! { <option value=value>{name}</option> }).collect_view()}
                </select>
            </div>
            <button id="add-directory" type="submit" class=PRIMARY_BUTTON>"Add directory"</button>
        </form>
        <div id="add-directory-result" class="mt-4" aria-live="polite">
            {refusal_box::<AddDirectory>()}
            {outcome.map(|outcome| match outcome {
                Ok(created) => view! { <NewDirectoryPanel created/> }.into_any(),
                Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
            })}
        </div>
    }
}

/// The SCIM endpoint and token of a directory just created. The token is shown only here.
#[component]
fn NewDirectoryPanel(created: NewDirectory) -> impl IntoView {
    let field = "mt-1 block w-full rounded-lg border border-slate-300 bg-slate-50 px-3 py-2 font-mono text-xs";
    view! {
        <div class="rounded-lg border border-emerald-200 bg-emerald-50 p-4 text-sm">
            <p class="font-semibold text-emerald-800">{format!("{} directory created.", created.idp)}</p>
            <label for="new-scim-base-url" class="mt-3 block font-medium text-slate-700">"SCIM base URL"</label>
            <input id="new-scim-base-url" readonly value=created.scim_base_url class=field/>
            <label for="new-token" class="mt-3 block font-medium text-slate-700">"Bearer token"</label>
            <input id="new-token" readonly value=created.token class=field/>
            <p class="mt-2 text-emerald-900">"Copy the token now: it is shown only once, and only its fingerprint is kept."</p>
        </div>
    }
}

/// A setup link for the tenant's admin: single-use, expiring; emailed to them, or shown
/// once to be passed on. `outcome`: what the last of the two forms made.
#[component]
fn SetupLinkSection(
    slug: String,
    sends_mail: bool,
    outcome: Option<Result<TenantPageOutcome, PortalError>>,
) -> impl IntoView {
    let validity = |days: u32| format!("It works once, for {days} day{}", if days == 1 { "" } else { "s" });
    let email_slug = slug.clone();
    view! {
        <section class=CARD aria-labelledby="setup-link-heading">
            <h2 id="setup-link-heading" class="text-lg font-semibold">"Setup link"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "For the customer's IT admin: they create their account with it and connect their identity provider themselves."
            </p>
            {if sends_mail {
                view! {
                    <form method="post" action=EmailSetupLink::url() class="mt-4 flex flex-wrap items-end gap-4">
                        <input type="hidden" name="slug" value=email_slug/>
                        <div class="min-w-64 flex-1">
                            <label for="setup-link-email" class="block text-sm font-medium text-slate-700">"Email it to"</label>
                            <input id="setup-link-email" name="email" type="email" required autocomplete="off"
                                placeholder="it-admin@customer.example" class=INPUT/>
                        </div>
                        <ValidFor id="setup-link-email-days"/>
                        <button id="email-setup-link" type="submit" class=PRIMARY_BUTTON>"Email setup link"</button>
                    </form>
                    <p class="mt-4 text-sm text-slate-600">"Or make a link to pass on yourself:"</p>
                }.into_any()
            } else {
                view! {
                    <p id="setup-link-no-mail" class="mt-2 text-sm text-slate-600">
                        "This deployment sends no email (SMTP_URL is not set): make the link here and pass it on yourself."
                    </p>
                }.into_any()
            }}
            <form method="post" action=CreateSetupLink::url() class="mt-2 flex flex-wrap items-end gap-4">
                <input type="hidden" name="slug" value=slug/>
                <ValidFor id="setup-link-days"/>
                <button id="create-setup-link" type="submit" class=if sends_mail { SECONDARY_BUTTON } else { PRIMARY_BUTTON }>"Create setup link"</button>
            </form>
            <div id="setup-link-result" class="mt-4" aria-live="polite">
                {refusal_box::<EmailSetupLink>()}
                {refusal_box::<CreateSetupLink>()}
                {outcome.map(|outcome| match outcome {
                    Ok(TenantPageOutcome::SetupLinkSent { to, days }) => view! {
                        <p id="setup-link-sent" class="rounded-lg border border-emerald-200 bg-emerald-50 p-4 text-sm text-emerald-900">
                            {format!("Emailed to {to}. {}; withdraw it below if it went to the wrong person.", validity(days))}
                        </p>
                    }.into_any(),
                    Ok(TenantPageOutcome::SetupLink { url, days }) => view! {
                        <div class="space-y-2 rounded-lg border border-emerald-200 bg-emerald-50 p-4 text-sm">
                            <CopyField id="setup-link" label="Setup link" value=url/>
                            <p id="setup-link-expiry" class="text-emerald-900">
                                {format!("Shown only now: copy it into your message to the customer. {}.", validity(days))}
                            </p>
                        </div>
                    }.into_any(),
                    Ok(TenantPageOutcome::Directory(_)) => ().into_any(),
                    Err(error) => view! { <ErrorBox message=error.to_string()/> }.into_any(),
                })}
            </div>
        </section>
    }
}

/// How long a new setup link stays valid.
#[component]
fn ValidFor(id: &'static str) -> impl IntoView {
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">"Valid for"</label>
            <select id=id name="valid_days" class=INPUT>
                <option value="1">"1 day"</option>
                <option value="7" selected>"7 days"</option>
                <option value="30">"30 days"</option>
            </select>
        </div>
    }
}

/// The tenant's OpenID Connect provider, which its admins may sign in with.
#[component]
fn SsoSection(slug: String, settings: SsoSettings) -> impl IntoView {
    let saved = use_query_map().with_untracked(|query| query.get("sso").is_some());
    let current = match (settings.display_name, settings.issuer) {
        (Some(name), Some(issuer)) => format!("Configured: {name} ({issuer})."),
        _ => "Not configured: admins sign in with a password.".to_owned(),
    };
    view! {
        <section class=CARD aria-labelledby="sso-heading">
            <h2 id="sso-heading" class="text-lg font-semibold">"Single sign-on for this tenant's admins"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Register this redirect URI at the customer's OpenID Connect provider: "
                <span id="sso-redirect-uri" class="font-mono text-xs">{settings.redirect_uri}</span>
            </p>
            <p id="sso-current" class="mt-2 text-sm text-slate-700">{current}</p>
            <form method="post" action=ConfigureTenantSso::url() class="mt-4 grid gap-4 sm:grid-cols-2">
                <input type="hidden" name="slug" value=slug/>
                <div>
                    <label for="sso-display-name" class="block text-sm font-medium text-slate-700">"Button label"</label>
                    <input id="sso-display-name" name="display_name" required placeholder="Acme Okta" class=INPUT/>
                </div>
                <div>
                    <label for="sso-issuer" class="block text-sm font-medium text-slate-700">"Issuer URL"</label>
                    <input id="sso-issuer" name="issuer" type="url" required placeholder="https://acme.okta.com" class=INPUT/>
                </div>
                <div>
                    <label for="sso-client-id" class="block text-sm font-medium text-slate-700">"Client ID"</label>
                    <input id="sso-client-id" name="client_id" required class=INPUT/>
                </div>
                <div>
                    <label for="sso-client-secret" class="block text-sm font-medium text-slate-700">"Client secret"</label>
                    <input id="sso-client-secret" name="client_secret" type="password" required autocomplete="off" class=INPUT/>
                </div>
                <div class="sm:col-span-2">
                    <button id="save-sso" type="submit" class=PRIMARY_BUTTON>"Save single sign-on"</button>
                </div>
            </form>
            <div class="mt-4" aria-live="polite">
                {saved.then(|| view! { <p id="sso-saved" class="rounded-lg bg-emerald-50 p-3 text-sm text-emerald-800">"Saved. Admins can now sign in with it."</p> })}
                {refusal_box::<ConfigureTenantSso>()}
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::suggested_slug;

    #[test]
    fn the_name_in_addresses_follows_the_display_name() {
        assert_eq!(suggested_slug("Globex Corporation"), "globex-corporation");
        assert_eq!(suggested_slug("  Acme, Inc. (EU)  "), "acme-inc-eu");
        assert_eq!(suggested_slug("3M Company"), "m-company");
        assert_eq!(suggested_slug("Zoë & Co"), "zo-co");
        assert_eq!(suggested_slug("!!!"), "");
        assert_eq!(suggested_slug(&"a".repeat(80)).len(), 63);
    }
}
