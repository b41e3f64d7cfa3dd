//! The HTTP application: every route of the process is assembled here, in one place.

mod api_access;
mod audit_checkpoints;
mod audit_export;
mod branding;
mod client_address;
mod cross_site;
mod health;
mod live;
mod metrics;
mod oauth;
mod offboarding_export;
mod operator_api;
mod portal_visit;
mod render_guard;
mod scim_endpoints;
mod security_headers;
mod sessions;
mod sso;
mod static_assets;
mod workos_api;

pub use metrics::{BackgroundJob, PortalMetrics};
pub(crate) use sessions::spawn_expiry_sweeper;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use service::operators::SignInThrottle;
use store::Store;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;

/// Shared state of every handler, behind one `Arc`: axum clones the state for every
/// extractor and middleware of every request, and a clone of the fields themselves (each
/// an `Arc` or several) was a fifth of the server's CPU in a profile of `GET /Users/{id}`,
/// in atomic reference counts bouncing between the cores.
#[derive(Debug, Clone)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// What [`AppState`] shares.
#[derive(Debug)]
pub struct SharedState {
    pub store: Store,
    pub leptos: LeptosOptions,
    pub sign_in_throttle: SignInThrottle,
    /// Whether the client's address is the proxy's word (`X-Forwarded-For`).
    pub trust_forwarded_for: bool,
    /// The live request streams open, per admin.
    pub(crate) live_streams: live::LiveStreams,
    pub portal: app::PortalSettings,
    scim_rate_limits: scim_endpoints::DirectoryRateLimits,
    scim_tenant_limits: scim_endpoints::TenantRateLimits,
    /// How many refused SCIM requests each directory's trail still takes this minute.
    refusal_records: scim_endpoints::audit::RefusalRecords,
    secure_cookies: bool,
    /// Where SCIM requests are recorded (the tenant's audit trail).
    pub audit: service::audit::AuditLog,
    /// Talks to tenants' OpenID Connect providers.
    pub sso: service::sso::SsoClient,
    /// How webhooks are registered and replayed (internal targets allowed or not).
    pub webhooks: service::webhooks::WebhookOptions,
    /// The counters `/metrics` exposes.
    pub metrics: PortalMetrics,
    /// The public keys whose signed audit checkpoints are trusted (the signing key's first).
    pub audit_keys: Arc<Vec<service::audit_checkpoints::PublicKey>>,
    /// The time, ids and secrets handlers pass to the use cases.
    pub effects: service::Effects,
    /// The mailer (`SMTP_URL`), shared with the alerts; `None` when none is configured.
    pub mailer: Option<service::mail::Mailer>,
    /// Where the Google Workspace connector talks to Google (the wizard tests a connection).
    pub google: service::google::GoogleOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// The application, ready to be served.
#[derive(Debug, Clone)]
pub struct App {
    state: AppState,
    metrics_listen: crate::config::MetricsListen,
}

/// No request may hold a connection longer than this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl App {
    pub fn new(config: &Config, store: Store) -> Self {
        Self::with_effects(config, store, service::Effects::system())
    }

    /// The application reading the time from `clock` (tests set it).
    pub fn with_clock(config: &Config, store: Store, clock: service::SharedClock) -> Self {
        Self::with_effects(config, store, service::Effects::new(clock))
    }

    /// The application passing `effects` to the use cases.
    pub fn with_effects(config: &Config, store: Store, effects: service::Effects) -> Self {
        render_guard::install_executor();
        let store_for_audit = store.clone();
        let bundle_version = static_assets::bundle_version(&config.site_root);
        let leptos = LeptosOptions::builder()
            .output_name(app::BUNDLE_NAME)
            .site_root(config.site_root.to_string_lossy().into_owned())
            .site_pkg_dir(static_assets::pkg_dir(bundle_version.as_deref()))
            .site_addr(config.bind)
            .build();
        let secure_cookies = config.secure_cookies();
        let portal = app::PortalSettings {
            public_base: config.public_base().to_owned(),
            deleted_directory_retention_days: config.deleted_directory_retention_days,
            revocation_sla_minutes: config.revocation_sla_minutes,
            max_directories_per_tenant: config.max_directories_per_tenant,
            audit_retention_minimum_days: config.audit_retention_minimum_days,
        };
        // `serve` has read (or made) the key and checked the trusted ones before; a key
        // that cannot be read here leaves the checks with the configured keys alone.
        let audit_keys = config.audit_trusted_keys().unwrap_or_else(|error| {
            tracing::error!(error = format!("{error:#}"), "the audit signing key cannot be read");
            Vec::new()
        });
        // `serve` has checked the mail settings before (with the other alert settings).
        let mailer = config.alert_channels().map(|channels| channels.mailer).unwrap_or_else(|error| {
            tracing::error!(error = format!("{error:#}"), "the mail settings cannot be used");
            None
        });
        Self {
            state: AppState(Arc::new(SharedState {
                store,
                leptos,
                sign_in_throttle: SignInThrottle::default(),
                trust_forwarded_for: config.trust_forwarded_for,
                live_streams: live::LiveStreams::new(Duration::from_secs(config.live_session_recheck_seconds)),
                portal,
                scim_rate_limits: scim_endpoints::DirectoryRateLimits::default(),
                scim_tenant_limits: scim_endpoints::TenantRateLimits::new(config.scim_tenant_rate_limit_per_second),
                refusal_records: scim_endpoints::audit::RefusalRecords::default(),
                secure_cookies,
                audit: service::audit::AuditLog::start(store_for_audit).0,
                sso: service::sso::SsoClient::new(config.webhooks_allow_internal_targets),
                webhooks: crate::webhook_options(config),
                metrics: PortalMetrics::default(),
                audit_keys: Arc::new(audit_keys),
                effects,
                mailer,
                google: config.google_options(),
            })),
            metrics_listen: config.metrics_listen,
        }
    }

    /// The measurements `/metrics` exposes; background jobs count their runs here.
    pub fn metrics(&self) -> PortalMetrics {
        self.state.metrics.clone()
    }

    /// `/metrics` alone, for a listener of its own (`METRICS_LISTEN=<address>`): the
    /// address, and the routes to serve there. `None` when metrics are on the main
    /// listener or off.
    pub fn separate_metrics(&self) -> Option<(std::net::SocketAddr, Router)> {
        match self.metrics_listen {
            crate::config::MetricsListen::Separate(address) => {
                Some((address, metrics::router().with_state(self.state.clone())))
            }
            crate::config::MetricsListen::Main | crate::config::MetricsListen::Off => None,
        }
    }

    /// The time, ids and secrets the application uses (its jobs use the same).
    pub fn effects(&self) -> service::Effects {
        self.state.effects.clone()
    }

    /// The audit trail SCIM requests are recorded to (flush it before stopping).
    pub fn audit_log(&self) -> service::audit::AuditLog {
        self.state.audit.clone()
    }

    /// All routes with their middleware.
    pub fn into_router(self) -> Router {
        let state = self.state;
        let metrics_here = match self.metrics_listen {
            crate::config::MetricsListen::Main => metrics::router(),
            crate::config::MetricsListen::Separate(_) | crate::config::MetricsListen::Off => Router::new(),
        };
        let portal_routes = portal_route_list();
        let secure_cookies = state.secure_cookies;
        let session_layer = sessions::layer(state.store.clone(), secure_cookies);
        let portal_context = app::portal::Portal {
            store: state.store.clone(),
            settings: state.portal.clone(),
            effects: state.effects.clone(),
            sign_in_throttle: state.sign_in_throttle.clone(),
            webhooks: state.webhooks.clone(),
            audit_keys: state.audit_keys.clone(),
            mailer: state.mailer.clone(),
            google: state.google.clone(),
        };
        let provide_portal = move || provide_context(portal_context.clone());

        // Machine clients (probes, identity providers) never carry a portal session: their
        // routes stay outside the session layer, which would otherwise run on every SCIM
        // request.
        let machines = Router::new()
            .merge(static_assets::router(&state.leptos))
            .merge(health::router())
            .merge(metrics_here)
            .merge(audit_checkpoints::public_router())
            .merge(branding::public_router())
            .merge(scim_endpoints::router(state.clone()))
            .merge(oauth::router())
            .merge(operator_api::router())
            .merge(workos_api::router(state.clone()))
            .with_state(state.clone());
        let portal = Router::new()
            .leptos_routes_with_context(&state, portal_routes, provide_portal, {
                let leptos = state.leptos.clone();
                move || app::shell(leptos.clone())
            })
            // Anything else is a file of the built bundle under the site root, or the
            // portal's not-found page.
            .merge(sso::router())
            .merge(portal_visit::router())
            .merge(live::router())
            .merge(audit_export::portal_router())
            .merge(audit_checkpoints::portal_router())
            .merge(offboarding_export::portal_router())
            .merge(branding::portal_router())
            .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
            .layer(axum::middleware::from_fn(sessions::resolve_page_account))
            .layer(axum::middleware::from_fn_with_state(state.clone(), branding::resolve_page_branding))
            .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), render_guard::guard_render))
            .layer(axum::middleware::from_fn_with_state(
                cross_site::PublicOrigin::of(&state.portal.public_base),
                cross_site::refuse_cross_site,
            ))
            .layer(axum::middleware::from_fn_with_state(state.trust_forwarded_for, client_address::resolve))
            .with_state(state)
            .layer(session_layer);
        let security_headers = security_headers::SecurityHeaders::new(secure_cookies);
        machines
            .merge(portal)
            .layer(axum::middleware::from_fn_with_state(security_headers, security_headers::add))
            .layer(CompressionLayer::new())
            .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
    }
}

/// The portal's routes, listed once per process. Leptos lists them by running the portal
/// with resource loading suppressed, and keeps that switch in one process-wide flag: a
/// resource that another request first polls while it is on waits forever (leptos-rs/leptos
/// #4773), so listing them again for a second application in the same process (tests start
/// many) froze pages being rendered for the first. The first list is made before any
/// server of the process serves.
fn portal_route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

/// The credential of an `Authorization: Bearer …` header (the scheme in any case), which
/// SCIM clients and the operator API both authenticate with.
pub(crate) fn bearer_credential(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, credential)| credential.trim())
}

/// The span of one request: its lines carry the method, the address and the request id
/// (set by the outer layer, or the client's own `x-request-id`), which error pages show as
/// their reference.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let request_id = request.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or_default();
    // Redacted as in the audit trail: a query can carry a secret (`filter=password eq "…"`),
    // and spans may leave the deployment (OTLP).
    let uri = service::audit::redact_query(
        request.uri().path_and_query().map_or_else(|| request.uri().path(), axum::http::uri::PathAndQuery::as_str),
    );
    let span = tracing::info_span!("request", method = %request.method(), uri = %uri, request_id);
    // Without a trace exporter the propagator is a no-op and so is this.
    let _ = span.set_parent(crate::telemetry::remote_parent(request.headers()));
    span
}
