//! `/branding`: the operator puts the vendor's name on the portal: the product's name,
//! logo, accent colour and support contact, which every page and email shows. Operators
//! change it; support staff see it.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::auth::OperatorView;
use crate::components::style::{CARD, INPUT, PRIMARY_BUTTON, SECONDARY_BUTTON};
use crate::components::{ErrorBox, ErrorView, SignedIn, Skeleton, TopBar, refusal_box, refusal_of};
use crate::error::PortalError;

/// The branding as the form shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrandingForm {
    pub product_name: String,
    pub accent: String,
    pub support_email: String,
    pub support_url: String,
    pub logo_path: Option<String>,
    /// "5 Dec 2026 21:30 UTC by ops@vendor.example", if it was ever changed.
    pub last_change: Option<String>,
}

#[server(endpoint = "branding_settings")]
pub async fn branding_settings() -> Result<BrandingForm, PortalError> {
    let operator = crate::portal::Operator::require().await?;
    let branding = service::branding::current(operator.store()).await?;
    let last_change = service::branding::last_change(operator.store())
        .await?
        .map(|(at, by)| format!("{} by {by}", at.format("%-d %b %Y %H:%M UTC")));
    Ok(BrandingForm {
        product_name: branding.product_name,
        accent: branding.accent.accent,
        support_email: branding.support_email.unwrap_or_default(),
        support_url: branding.support_url.unwrap_or_default(),
        logo_path: branding.logo_path,
        last_change,
    })
}

#[server(endpoint = "save_branding")]
pub async fn save_branding(
    product_name: String,
    accent: String,
    support_email: String,
    support_url: String,
) -> Result<(), PortalError> {
    let operator = crate::portal::Operator::require_role(service::OperatorRole::Operator).await?;
    let request = service::branding::BrandingRequest { product_name, accent, support_email, support_url };
    let updated =
        service::branding::update(operator.store(), &request, &operator.actor(), operator.portal.effects.now())
            .await
            .map_err(PortalError::from)
            .inspect_err(|error| {
                let typed = [
                    ("product_name", request.product_name.as_str()),
                    ("accent", request.accent.as_str()),
                    ("support_email", request.support_email.as_str()),
                    ("support_url", request.support_url.as_str()),
                ];
                crate::error::back_with_what_was_typed::<SaveBranding>(PAGE, &typed, error);
            });
    updated?;
    crate::error::after_plain_form_post_go_to(SAVED);
    Ok(())
}

/// The page's address, and where a saved change lands.
#[cfg(feature = "ssr")]
const PAGE: &str = "/branding";
#[cfg(feature = "ssr")]
const SAVED: &str = "/branding?saved=1";

#[server(endpoint = "remove_logo")]
pub async fn remove_logo() -> Result<(), PortalError> {
    let operator = crate::portal::Operator::require_role(service::OperatorRole::Operator).await?;
    service::branding::set_logo(operator.store(), None, &operator.actor(), operator.portal.effects.now()).await?;
    crate::error::after_plain_form_post_go_to(SAVED);
    Ok(())
}

/// What the logo upload's answer (`?logo=…` or `?logo-error=…`) means.
fn logo_outcome(saved: Option<String>, error: Option<String>) -> Option<Result<&'static str, &'static str>> {
    if let Some(code) = error {
        return Some(Err(match code.as_str() {
            "too-large" => "The logo is larger than 256 KiB. Export it smaller and upload it again.",
            "not-a-picture" => {
                "The logo must be a PNG, JPEG or WebP picture. SVG is not accepted: it can carry scripts."
            }
            "dimensions" => "Each side of the logo must be 16 to 1024 pixels.",
            "missing" => "Choose a picture to upload first.",
            "forbidden" => "Your role can look but not change anything here.",
            "unreadable" => "The upload did not arrive whole. Try again.",
            _ => "The logo could not be saved: the service is unavailable. Try again in a moment.",
        }));
    }
    saved.map(|_| Ok("The new logo is on every page now."))
}

/// The colour to preview: what the field holds if it is a colour, otherwise none.
fn previewable(text: &str) -> &str {
    let digits = text.trim().trim_start_matches('#');
    let colour = matches!(digits.len(), 3 | 6) && digits.bytes().all(|b| b.is_ascii_hexdigit());
    if colour { text.trim() } else { "transparent" }
}

/// The accent colour's field with a swatch of the colour typed: an island, so the swatch
/// follows the typing while the bundle runs (without it, the saved colour's).
#[island]
fn AccentField(value: String, may_change: bool) -> impl IntoView {
    let accent = RwSignal::new(value.clone());
    view! {
        <div>
            <label for="brand-accent-colour" class="block text-sm font-medium text-slate-700">"Accent colour"</label>
            <div class="flex items-center gap-3">
                <input id="brand-accent-colour" name="accent" required value=value class=INPUT disabled=!may_change
                    aria-describedby="accent-help" on:input=move |ev| accent.set(event_target_value(&ev))/>
                // A swatch of the colour typed, without text: a pale colour is shown as it
                // is, and the field's check says whether a label would be readable on it.
                <span id="accent-swatch" aria-hidden="true" class="mt-1 h-9 w-9 shrink-0 rounded-lg border border-slate-300"
                    style=move || format!("background-color: {}", previewable(&accent.get()))></span>
            </div>
            <p id="accent-help" class="mt-1 text-xs text-slate-600">
                "#rrggbb. It must keep 4.5:1 contrast with white (WCAG AA); a paler colour is refused with the nearest darker shade that passes."
            </p>
        </div>
    }
}

/// `/branding`
#[component]
pub fn BrandingPage() -> impl IntoView {
    view! { <SignedIn page=|operator| view! { <BrandingView operator/> }.into_any()/> }
}

/// Works whole without the bundle: the forms are plain forms; a saved change comes back
/// as `?saved=1`, a refusal with what was typed in the address.
#[component]
fn BrandingView(operator: OperatorView) -> impl IntoView {
    let may_change = operator.role == "operator";
    let query = use_query_map();
    let (saved, logo_outcome, typed) = query.with_untracked(|query| {
        let typed = refusal_of::<SaveBranding>().map(|error| Typed {
            product_name: query.get("product_name").unwrap_or_default(),
            accent: query.get("accent").unwrap_or_default(),
            support_email: query.get("support_email").unwrap_or_default(),
            support_url: query.get("support_url").unwrap_or_default(),
            error: error.to_string(),
        });
        (query.get("saved").is_some(), logo_outcome(query.get("logo"), query.get("logo-error")), typed)
    });
    let settings = Resource::new(|| (), |_| branding_settings());
    view! {
        <TopBar operator/>
        <main class="mx-auto max-w-5xl space-y-8 px-4 py-10 sm:px-6">
            <div>
                <h1 class="text-2xl font-bold tracking-tight">"Branding"</h1>
                <p class="mt-1 text-sm text-slate-600">
                    "Your customers' admins see this name, logo, colour and support contact on every page of the portal and in every email it sends."
                </p>
            </div>
            {saved.then(|| view! {
                <p id="branding-saved" role="status" class="rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm font-medium text-emerald-900">
                    "Saved. Every page and email uses it now."
                </p>
            })}
            <Suspense fallback=|| view! { <Skeleton/> }>
                {move || {
                    let typed = typed.clone();
                    Suspend::new(async move {
                        match settings.await {
                            Ok(form) => view! { <BrandingSections form typed may_change logo_outcome/> }.into_any(),
                            Err(error) => view! { <ErrorView error/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </main>
    }
}

/// What a refused save had typed, and why it was refused.
#[derive(Debug, Clone)]
struct Typed {
    product_name: String,
    accent: String,
    support_email: String,
    support_url: String,
    error: String,
}

#[component]
fn BrandingSections(
    form: BrandingForm,
    typed: Option<Typed>,
    may_change: bool,
    logo_outcome: Option<Result<&'static str, &'static str>>,
) -> impl IntoView {
    let logo = form.logo_path.clone();
    let last_change = form.last_change.clone();
    let (form, error) = match typed {
        Some(typed) => (
            BrandingForm {
                product_name: typed.product_name,
                accent: typed.accent,
                support_email: typed.support_email,
                support_url: typed.support_url,
                ..form
            },
            Some(typed.error),
        ),
        None => (form, None),
    };
    view! {
        <section class=CARD aria-labelledby="product-heading">
            <h2 id="product-heading" class="text-lg font-semibold">"Name, colour and support"</h2>
            {last_change.map(|change| view! { <p class="mt-1 text-sm text-slate-600">{format!("Last changed {change}.")}</p> })}
            <form method="post" action=SaveBranding::url() class="mt-4 grid gap-4 sm:grid-cols-2" aria-describedby="branding-error">
                <div>
                    <label for="brand-name" class="block text-sm font-medium text-slate-700">"Product name"</label>
                    <input id="brand-name" name="product_name" required maxlength="60" value=form.product_name class=INPUT disabled=!may_change/>
                </div>
                <AccentField value=form.accent may_change/>
                <div>
                    <label for="brand-support-email" class="block text-sm font-medium text-slate-700">"Support email (optional)"</label>
                    <input id="brand-support-email" name="support_email" type="email" value=form.support_email class=INPUT disabled=!may_change/>
                </div>
                <div>
                    <label for="brand-support-url" class="block text-sm font-medium text-slate-700">"Support site (optional)"</label>
                    <input id="brand-support-url" name="support_url" type="url" placeholder="https://" value=form.support_url class=INPUT disabled=!may_change/>
                </div>
                <div id="branding-error" class="sm:col-span-2" aria-live="polite">
                    {error.map(|message| view! { <ErrorBox message/> })}
                </div>
                {may_change.then(|| view! {
                    <div class="sm:col-span-2">
                        <button id="save-branding" type="submit" class=PRIMARY_BUTTON>"Save"</button>
                    </div>
                })}
            </form>
        </section>
        <section class=CARD aria-labelledby="logo-heading">
            <h2 id="logo-heading" class="text-lg font-semibold">"Logo"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "A PNG, JPEG or WebP picture of at most 256 KiB, 16 to 1024 pixels on each side. It is shown 32 pixels high beside the product name."
            </p>
            <div aria-live="polite">
                {logo_outcome.map(|outcome| match outcome {
                    Ok(message) => view! {
                        <p id="logo-saved" role="status" class="mt-3 rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-sm font-medium text-emerald-900">{message}</p>
                    }.into_any(),
                    Err(message) => view! { <div id="logo-error" class="mt-3"><ErrorBox message=message.to_owned()/></div> }.into_any(),
                })}
                {refusal_box::<RemoveLogo>()}
            </div>
            <div class="mt-4 flex flex-wrap items-center gap-4">
                {match logo.clone() {
                    Some(src) => view! { <img id="current-logo" src=src alt="The current logo" class="h-16 w-auto max-w-48 rounded border border-slate-200 bg-white object-contain p-1"/> }.into_any(),
                    None => view! { <p id="no-logo" class="text-sm text-slate-600">"No logo yet: pages show the product name alone."</p> }.into_any(),
                }}
            </div>
            {may_change.then(|| view! {
                // A plain form: the server answers with this page again, and it works before the page's script has loaded.
                <form method="post" action="/branding/logo" enctype="multipart/form-data" class="mt-4 flex flex-wrap items-end gap-4">
                    <div>
                        <label for="logo-file" class="block text-sm font-medium text-slate-700">"New logo"</label>
                        <input id="logo-file" name="logo" type="file" required accept="image/png,image/jpeg,image/webp" class="mt-1 block text-sm"/>
                    </div>
                    <button id="upload-logo" type="submit" class=PRIMARY_BUTTON>"Upload"</button>
                </form>
                {logo.is_some().then(|| view! {
                    <form method="post" action=RemoveLogo::url() class="mt-3">
                        <button id="remove-logo" type="submit" class=SECONDARY_BUTTON>"Remove the logo"</button>
                    </form>
                })}
            })}
        </section>
    }
}
