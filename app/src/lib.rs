//! The portal: Leptos pages and components, rendered on the server (the browser runs only
//! the islands, `components::live` and the small fields marked `#[island]`), and the server
//! functions they call (which delegate to the `service` crate).

// A release build keeps every view's full type (debug builds erase them), and the deepest
// pages (a top bar and a page of sections) nest past the compiler's default of 128.
#![recursion_limit = "256"]

pub mod auth;
pub mod components;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod portal;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};
use pages::{
    admin_home, api_keys, audit, brake, branding, confirm_email, dashboard, group_roles, not_found, offboarding,
    people, portal_link, probe, resource, roles, setup_link, sign_in, staff_directory, status, support, team, tenants,
    tokens, webhooks, wizard,
};

/// The file stem of the wasm, js and css bundles under `/pkg`; the xtask builds them with
/// this name and the server's Leptos options name it.
pub const BUNDLE_NAME: &str = "portal";

/// Deployment settings the server functions need, provided by the server as context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSettings {
    /// The public URL without a trailing slash, e.g. `https://scim.vendor.example`.
    pub public_base: String,
    /// Days a deleted directory's data is kept before it is purged (0: at the purge job's
    /// next run), as the operator set it.
    pub deleted_directory_retention_days: u32,
    /// Minutes within which the product must confirm a revocation (see
    /// `service::receipts`), as the operator set it.
    pub revocation_sla_minutes: u32,
    /// Directories a tenant may have at most, as the operator set it (the CLI is not
    /// limited).
    pub max_directories_per_tenant: u32,
    /// The shortest audit retention a tenant may set, in days, as the operator set it.
    pub audit_retention_minimum_days: u32,
}

#[cfg(feature = "ssr")]
impl PortalSettings {
    /// The revocation SLA.
    pub fn revocation_sla(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.revocation_sla_minutes))
    }
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    allow_only_this_pages_scripts();
    // Linked here, where the server's options name the bundle's (versioned) directory.
    let stylesheet = format!("/{}/{BUNDLE_NAME}.css", options.site_pkg_dir);
    // The operator's accent colour, after the stylesheet whose theme declares it.
    #[cfg(feature = "ssr")]
    let accent = components::brand::accent_style();
    #[cfg(not(feature = "ssr"))]
    let accent = String::new();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" id="leptos" href=stylesheet/>
                <style id="brand-accent">{accent}</style>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

/// Sends the page's Content-Security-Policy: scripts run only from the portal's own origin
/// (the bundle) or inline with this answer's nonce, which Leptos puts on the hydration and
/// streaming scripts it writes, so a script smuggled into a page (a display name, an
/// attribute an IdP sent) does not run even if escaping failed somewhere. WebAssembly may
/// be compiled (`'wasm-unsafe-eval'`), JavaScript `eval` may not. Styles allow inline
/// attributes (a chart's bar heights); nothing else loads from another origin. Answers
/// that are not pages get the server's stricter default policy.
#[cfg(feature = "ssr")]
fn allow_only_this_pages_scripts() {
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return };
    let Some(nonce) = leptos::nonce::use_nonce() else { return };
    let policy = content_security_policy(&nonce);
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The policy of a page whose inline scripts carry `nonce`.
#[cfg(feature = "ssr")]
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    )
}

/// The router: one route per page.
#[component]
pub fn App() -> impl IntoView {
    auth::provide_signed_in_account();
    components::brand::provide_brand();
    provide_meta_context();
    let product_name = components::brand().product_name;
    view! {
        <Title text=product_name/>
        <Router>
            <Routes fallback=not_found::NotFound>
                // Async: the whole page, with its server-loaded data, is rendered before
                // anything is sent, so that a signed-out visitor gets an HTTP redirect rather
                // than a page, and a page that fails to render gets an error page.
                <Route path=path!("/") view=status::StatusPage ssr=SsrMode::Async/>
                <Route path=path!("/sign-in") view=sign_in::SignInPage/>
                <Route path=path!("/tenants") view=tenants::TenantsPage ssr=SsrMode::Async/>
                <Route path=path!("/team") view=team::TeamPage ssr=SsrMode::Async/>
                <Route path=path!("/api-keys") view=api_keys::ApiKeysPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=people::AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/roles") view=roles::RolesPage ssr=SsrMode::Async/>
                <Route path=path!("/branding") view=branding::BrandingPage ssr=SsrMode::Async/>
                <Route path=path!("/support") view=support::SupportPage ssr=SsrMode::Async/>
                <Route path=path!("/tenants/:slug") view=tenants::TenantPage ssr=SsrMode::Async/>
                <Route path=path!("/tenants/:slug/audit") view=audit::StaffAuditPage ssr=SsrMode::Async/>
                <Route path=path!("/tenants/:slug/directories/:id") view=staff_directory::StaffDirectoryPage ssr=SsrMode::Async/>
                <Route path=path!("/tenants/:slug/directories/:id/users/:resource") view=resource::StaffUserPage ssr=SsrMode::Async/>
                <Route path=path!("/tenants/:slug/directories/:id/groups/:resource") view=resource::StaffGroupPage ssr=SsrMode::Async/>
                <Route path=path!("/tenants/:slug/directories/:id/agents/:resource") view=resource::StaffAgentPage ssr=SsrMode::Async/>
                <Route path=path!("/tenants/:slug/directories/:id/agentic-applications/:resource") view=resource::StaffAgenticApplicationPage ssr=SsrMode::Async/>
                <Route path=path!("/setup/:secret") view=setup_link::SetupLinkPage ssr=SsrMode::Async/>
                <Route path=path!("/confirm-email/:secret") view=confirm_email::ConfirmEmailPage ssr=SsrMode::Async/>
                <Route path=path!("/portal-link-refused/:reason") view=portal_link::PortalLinkRefusedPage ssr=SsrMode::Async/>
                <Route path=path!("/admin") view=admin_home::AdminHomePage ssr=SsrMode::Async/>
                <Route path=path!("/admin/connect") view=wizard::ConnectPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/audit") view=audit::AuditPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/webhooks") view=webhooks::WebhooksPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/offboarding") view=offboarding::OffboardingPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/directories/:id") view=dashboard::DashboardPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/directories/:id/tokens") view=tokens::TokensPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/directories/:id/roles") view=group_roles::GroupRolesPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/directories/:id/brake") view=brake::BrakePage ssr=SsrMode::Async/>
                <Route path=path!("/admin/directories/:id/users/:resource") view=resource::UserPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/directories/:id/groups/:resource") view=resource::GroupPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/directories/:id/agents/:resource") view=resource::AgentPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/directories/:id/agentic-applications/:resource") view=resource::AgenticApplicationPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/directories/:id/setup/:step") view=wizard::WizardPage ssr=SsrMode::Async/>
                // Pages that fail on purpose in test builds only; elsewhere "Page not found".
                <Route path=path!("/_probe/:kind") view=probe::ProbePage ssr=SsrMode::Async/>
            </Routes>
            <components::SupportFooter/>
        </Router>
    }
}
