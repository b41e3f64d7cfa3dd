//! Single sign-on for tenant admins with the tenant's own OpenID Connect provider
//! (OpenID Connect Core 1.0, authorization code flow, with PKCE per RFC 7636), on the
//! `openidconnect` crate (built on `oauth2`): discovery, the authorization URL, the code
//! exchange, and ID token verification (signature against the provider's JWKS, issuer,
//! audience, expiry and nonce).
//!
//! An operator configures the provider per tenant. An admin then either arrives with a
//! setup link and signs in with the provider instead of choosing a password (the ID
//! token's verified email becomes the account), or signs in later by naming their
//! organisation. The state, nonce and PKCE verifier of a sign-in in progress are kept in
//! the visitor's server-side session, never in the browser.

use chrono::{DateTime, Utc};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use store::{OidcProvider, Store, TenantId, TenantSlug};

use crate::actor::Actor;
use crate::admins::{SetupLinkError, SignedInAdmin};
use crate::{Effects, ServiceError};

/// Why single sign-on did not go through. The portal shows a fixed sentence per case, so
/// nothing a provider or visitor sends is echoed back.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("single sign-on is not set up for this organisation")]
    NotConfigured,
    #[error("the identity provider's settings are not valid: {0}")]
    InvalidSettings(String),
    #[error("the identity provider could not be reached or answered unexpectedly: {0}")]
    Provider(String),
    #[error("the sign-in answer does not belong to the sign-in this browser started")]
    StateMismatch,
    #[error("the identity provider's ID token did not verify: {0}")]
    InvalidToken(String),
    #[error("the identity provider did not vouch for an email address")]
    NoVerifiedEmail,
    #[error("no admin of this organisation has this email address; ask an admin for an invitation")]
    NoAccount,
    #[error(transparent)]
    SetupLink(#[from] SetupLinkError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for SsoError {
    fn from(error: store::StoreError) -> Self {
        SsoError::Service(error.into())
    }
}

/// The HTTP client for providers, under the webhooks' outbound policy: it follows no
/// redirects (a provider's discovery or token endpoint cannot bounce the server into other
/// addresses), uses no proxy from the environment, and unless the operator allows internal
/// targets, reaches no internal address — names resolve to public addresses only (the
/// webhooks' resolver) and an address written literally in a URL (an issuer, or a token or
/// JWKS endpoint its discovery document names) is refused before any request.
#[derive(Debug, Clone)]
pub struct SsoClient {
    /// `None` when the TLS stack could not start: every sign-in then fails as a provider error.
    http: Option<openidconnect::reqwest::Client>,
    allow_internal_targets: bool,
}

/// Why a request to a provider did not go out, or failed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("{0} is an internal address, and the operator has not allowed internal targets")]
    InternalTarget(String),
    #[error(transparent)]
    Http(#[from] openidconnect::HttpClientError<openidconnect::reqwest::Error>),
}

impl SsoClient {
    /// `allow_internal_targets`: the operator lets outbound requests reach private,
    /// loopback and link-local addresses (a provider on the same network; tests).
    pub fn new(allow_internal_targets: bool) -> Self {
        let mut builder = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            // As the webhook client: a proxy from the environment is not used unless configured.
            .no_proxy()
            .timeout(std::time::Duration::from_secs(10));
        if !allow_internal_targets {
            builder = builder.dns_resolver(crate::webhooks::public_only_resolver());
        }
        match builder.build() {
            Ok(http) => Self { http: Some(http), allow_internal_targets },
            Err(error) => {
                tracing::error!(%error, "single sign-on is unavailable: the HTTP client did not start");
                Self { http: None, allow_internal_targets }
            }
        }
    }

    /// One request to a provider, under the outbound policy.
    async fn send(&self, request: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, OutboundError> {
        use openidconnect::AsyncHttpClient as _;
        let http = self.http.as_ref().ok_or_else(|| OutboundError::InternalTarget("no HTTP client".to_owned()))?;
        if !self.allow_internal_targets
            && let Some(host) = request.uri().host()
            && let Ok(ip) = host.trim_matches(['[', ']']).parse::<std::net::IpAddr>()
            && crate::webhooks::is_internal(ip)
        {
            return Err(OutboundError::InternalTarget(host.to_owned()));
        }
        Ok(http.call(request).await?)
    }

    fn ready(&self) -> Result<(), SsoError> {
        self.http.as_ref().map(drop).ok_or_else(|| SsoError::Provider("the HTTP client did not start".to_owned()))
    }
}

/// The client openidconnect sends discovery, JWKS and token requests through.
impl<'c> openidconnect::AsyncHttpClient<'c> for SsoClient {
    type Error = OutboundError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, OutboundError>> + Send + Sync + 'c>,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// A sign-in in progress, kept in the visitor's session until the provider sends them back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSignIn {
    /// The tenant's id, as text (sessions hold JSON).
    pub tenant: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The setup link the visitor came with, if this sign-in makes their account.
    pub setup_link: Option<String>,
}

/// Where to send the visitor, and what to remember until they come back.
#[derive(Debug)]
pub struct Started {
    pub authorize_url: String,
    pub pending: PendingSignIn,
}

/// What the portal shows about a tenant's provider (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSummary {
    pub issuer: String,
    pub client_id: String,
    pub display_name: String,
}

/// What an operator enters for a tenant's provider.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// What the sign-in button says.
    pub display_name: String,
}

/// Sets a tenant's OpenID Connect provider after checking the settings' form (the
/// provider itself is contacted at the next sign-in). `https://` is required except for
/// loopback addresses, which only a provider on the server's own machine has.
pub async fn configure(
    store: &Store,
    tenant: TenantId,
    settings: &ProviderSettings,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), SsoError> {
    let issuer = settings.issuer.trim().trim_end_matches('/');
    let url = url::Url::parse(issuer).map_err(|error| SsoError::InvalidSettings(format!("the issuer URL: {error}")))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(SsoError::InvalidSettings("the issuer URL must start with https://".to_owned()));
    }
    let (client_id, client_secret, display_name) =
        (settings.client_id.trim(), settings.client_secret.trim(), settings.display_name.trim());
    if client_id.is_empty() || client_secret.is_empty() {
        return Err(SsoError::InvalidSettings("enter the client ID and the client secret".to_owned()));
    }
    if display_name.is_empty() || display_name.chars().count() > 60 {
        return Err(SsoError::InvalidSettings("name the provider in 1 to 60 characters".to_owned()));
    }
    let provider = OidcProvider {
        issuer: issuer.to_owned(),
        client_id: client_id.to_owned(),
        client_secret: client_secret.to_owned(),
        display_name: display_name.to_owned(),
        updated_at: now,
    };
    let mut action = store.tenant(tenant).begin_action().await?;
    action.set_oidc_provider(&provider).await?;
    let detail = serde_json::json!({ "issuer": provider.issuer, "client_id": provider.client_id });
    action.commit(actor.record("sso.configured", None, detail, now)).await?;
    Ok(())
}

/// The tenant's provider as the portal shows it, if one is configured.
pub async fn provider(store: &Store, tenant: TenantId) -> Result<Option<ProviderSummary>, ServiceError> {
    Ok(store.tenant(tenant).oidc_provider().await?.map(|provider| ProviderSummary {
        issuer: provider.issuer,
        client_id: provider.client_id,
        display_name: provider.display_name,
    }))
}

/// The name of the provider a usable setup link's tenant signs in with, if any.
pub async fn provider_for_setup_link(
    store: &Store,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, SsoError> {
    let tenant = crate::admins::setup_link_tenant(store, secret, now).await?;
    Ok(provider(store, tenant).await?.map(|provider| provider.display_name))
}

/// Which tenant a sign-in is for: by its name (a returning admin), or by a setup link.
#[derive(Debug, Clone)]
pub enum SignInFor {
    Organisation(String),
    SetupLink(String),
}

/// Starts a sign-in: reads the provider's discovery document and builds the authorization
/// URL with a fresh state, nonce and PKCE challenge. `redirect_url` is this deployment's
/// callback (`{public base}/sso/callback`), registered at the provider.
pub async fn start(
    store: &Store,
    client: &SsoClient,
    target: SignInFor,
    redirect_url: &str,
    effects: &Effects,
) -> Result<Started, SsoError> {
    let now = effects.now();
    let (tenant, setup_link) = match target {
        SignInFor::Organisation(name) => {
            let slug = TenantSlug::parse(name.trim().to_lowercase().as_str()).map_err(|_| SsoError::NotConfigured)?;
            let tenant = store.tenant_by_slug(&slug).await?.ok_or(SsoError::NotConfigured)?;
            (tenant.id, None)
        }
        SignInFor::SetupLink(secret) => (crate::admins::setup_link_tenant(store, &secret, now).await?, Some(secret)),
    };
    let provider = store.tenant(tenant).oidc_provider().await?.ok_or(SsoError::NotConfigured)?;
    let oidc = discover(client, &provider, redirect_url).await?;
    // 256 bits for the PKCE verifier (RFC 7636 §4.1: 43 characters of base64url), 128 each
    // for state and nonce.
    let verifier = PkceCodeVerifier::new(effects.secret(32));
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    let (state, nonce) = (CsrfToken::new(effects.secret(16)), Nonce::new(effects.secret(16)));
    let (url, state, nonce) = oidc
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, move || state, move || nonce)
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("profile".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    Ok(Started {
        authorize_url: url.to_string(),
        pending: PendingSignIn {
            tenant: tenant.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            setup_link,
        },
    })
}

/// Finishes a sign-in when the provider sends the visitor back with `code` and `state`:
/// exchanges the code (with the PKCE verifier), verifies the ID token, and finds the
/// admin (by subject, else by verified email, linking the subject) or, with a setup link,
/// makes them.
pub async fn finish(
    store: &Store,
    client: &SsoClient,
    pending: PendingSignIn,
    code: &str,
    state: &str,
    redirect_url: &str,
    effects: &Effects,
) -> Result<SignedInAdmin, SsoError> {
    let now = effects.now();
    // Constant-time comparison is not needed: the state is single-use and never secret
    // from the visitor who carries it.
    if pending.state != state {
        return Err(SsoError::StateMismatch);
    }
    let tenant: TenantId = pending.tenant.parse().map_err(|_| SsoError::StateMismatch)?;
    let scope = store.tenant(tenant);
    let provider = scope.oidc_provider().await?.ok_or(SsoError::NotConfigured)?;
    let oidc = discover(client, &provider, redirect_url).await?;
    let exchange = oidc
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|error| SsoError::Provider(error.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
    client.ready()?;
    let tokens = exchange.request_async(client).await.map_err(|error| SsoError::Provider(error.to_string()))?;
    let id_token =
        tokens.id_token().ok_or_else(|| SsoError::InvalidToken("the answer holds no ID token".to_owned()))?;
    let verifier = oidc.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce.clone()))
        .map_err(|error| SsoError::InvalidToken(error.to_string()))?;
    let subject = claims.subject().as_str().to_owned();
    let email = match (claims.email(), claims.email_verified()) {
        (Some(email), Some(true)) => email.as_str().trim().to_lowercase(),
        _ => return Err(SsoError::NoVerifiedEmail),
    };
    if let Some(secret) = &pending.setup_link {
        return Ok(crate::admins::redeem_setup_link_with_identity(store, secret, &email, &subject, effects).await?);
    }
    // The sign-in and, at an admin's first single sign-on, the subject it links commit
    // with the record.
    let mut action = scope.begin_action().await?;
    let admin = match scope.tenant_admin_by_subject(&subject).await? {
        Some(admin) => admin,
        None => {
            // The tenant's own provider vouches for the address within this tenant only, so
            // an admin of it whose email is unconfirmed is found too.
            let admin = scope.tenant_admin_with_email(&email).await?.ok_or(SsoError::NoAccount)?;
            // First single sign-on of an admin who had a password: remember the subject,
            // unless the account is already tied to another one.
            if !action.link_admin_subject(admin.id, &subject).await? {
                return Err(SsoError::NoAccount);
            }
            admin
        }
    };
    if admin.disabled_at.is_some() {
        return Err(SsoError::NoAccount);
    }
    let detail = serde_json::json!({ "issuer": provider.issuer });
    let actor = Actor::Admin { id: admin.id, email: admin.email.clone() };
    action.commit(actor.record("admin.signed_in_sso", None, detail, now)).await?;
    Ok(SignedInAdmin { id: admin.id, email: admin.email, tenant: admin.tenant })
}

type ConfiguredClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

async fn discover(
    client: &SsoClient,
    provider: &OidcProvider,
    redirect_url: &str,
) -> Result<ConfiguredClient, SsoError> {
    let issuer =
        IssuerUrl::new(provider.issuer.clone()).map_err(|error| SsoError::InvalidSettings(error.to_string()))?;
    client.ready()?;
    let metadata = CoreProviderMetadata::discover_async(issuer, client)
        .await
        .map_err(|error| SsoError::Provider(format!("discovery: {error}")))?;
    let redirect =
        RedirectUrl::new(redirect_url.to_owned()).map_err(|error| SsoError::InvalidSettings(error.to_string()))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.clone()),
        Some(ClientSecret::new(provider.client_secret.clone())),
    )
    .set_redirect_uri(redirect))
}
