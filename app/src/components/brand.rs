//! The operator's branding in the portal: the product's name and logo, and how to reach
//! the vendor's support. The server resolves it before a page renders
//! (`service::branding::PageBranding`), like the signed-in account. The accent colour is
//! not here: the document's head sets it as CSS ([`accent_style`]), which no component
//! re-renders.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the pages show of the branding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brand {
    pub product_name: String,
    pub logo_path: Option<String>,
    pub support_email: Option<String>,
    pub support_url: Option<String>,
}

impl Default for Brand {
    fn default() -> Self {
        Self { product_name: "SCIM Portal".to_owned(), logo_path: None, support_email: None, support_url: None }
    }
}

#[cfg(feature = "ssr")]
fn page_branding() -> Option<service::branding::Branding> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<service::branding::PageBranding>().cloned())
        .map(|page| page.0)
}

/// The CSS that sets the accent colours, for the document's head (server only).
#[cfg(feature = "ssr")]
pub(crate) fn accent_style() -> String {
    page_branding().unwrap_or_default().accent.css()
}

/// Provides the page's [`Brand`]; called once, at the app's root.
pub(crate) fn provide_brand() {
    #[cfg(feature = "ssr")]
    let brand = page_branding()
        .map(|branding| Brand {
            product_name: branding.product_name,
            logo_path: branding.logo_path,
            support_email: branding.support_email,
            support_url: branding.support_url,
        })
        .unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let brand = Brand::default();
    provide_context(brand);
}

/// The page's brand (the defaults outside the app root).
pub(crate) fn brand() -> Brand {
    use_context::<Brand>().unwrap_or_default()
}

/// The logo, if any, and the product's name: the left end of the top bars and the head of
/// the signed-out pages.
#[component]
pub(crate) fn BrandMark(
    /// Classes of the name.
    #[prop(default = "font-semibold text-slate-900")]
    class: &'static str,
) -> impl IntoView {
    let brand = brand();
    view! {
        <span class="brand-mark inline-flex items-center gap-2">
            // The name beside it says what it is: the picture is decoration.
            {brand.logo_path.map(|src| view! { <img src=src alt="" class="h-8 w-auto max-w-32 object-contain"/> })}
            <span class=class>{brand.product_name}</span>
        </span>
    }
}

/// How to reach the vendor's support, at the foot of every page (nothing if the operator
/// has not set a contact).
#[component]
pub(crate) fn SupportFooter() -> impl IntoView {
    let brand = brand();
    let has_contact = brand.support_email.is_some() || brand.support_url.is_some();
    let both = brand.support_email.is_some() && brand.support_url.is_some();
    has_contact.then(|| {
        view! {
            <footer id="support-contact" class="mx-auto max-w-5xl px-4 pb-10 text-sm text-slate-600 sm:px-6">
                {format!("Questions about {}? ", brand.product_name)}
                {brand.support_email.map(|email| (format!("mailto:{email}"), email)).map(|(href, email)| view! {
                    <a href=href class="font-medium text-accent underline hover:text-accent-strong">{email}</a>
                })}
                {both.then_some(" · ")}
                {brand.support_url.map(|url| view! {
                    <a href=url rel="noopener noreferrer" class="font-medium text-accent underline hover:text-accent-strong">"Support site"</a>
                })}
            </footer>
        }
    })
}
