//! The server side of the portal's server functions: the deployment context they work
//! with ([`Portal`]) and the guards that say who is calling ([`Visitor`], [`Admin`],
//! [`Operator`]). A server function is a guard, one service call and the mapping of its
//! result; service errors become [`PortalError`]s in [`errors`], in one place.
//!
//! Guards read the request's contexts when they are called, before anything is awaited: a
//! server function that runs inside a server-rendered resource may no longer see the
//! request's contexts after its first `.await`.

mod errors;

use std::future::Future;

use chrono::{DateTime, Utc};
use leptos::prelude::use_context;
use service::session::{AdminSession, OperatorSession, PortalSession, SessionAccount};
use service::{Actor, DirectoryId, OperatorRole, Store, TenantId};

use crate::PortalSettings;
use crate::error::PortalError;

/// What the portal's server functions work with, provided by the server as one context.
#[derive(Debug, Clone)]
pub struct Portal {
    pub store: Store,
    pub settings: PortalSettings,
    /// The time, ids and secrets passed to the use cases (tests set the time).
    pub effects: service::Effects,
    pub sign_in_throttle: service::operators::SignInThrottle,
    /// How webhooks are registered and replayed.
    pub webhooks: service::webhooks::WebhookOptions,
    /// The public keys whose signed audit checkpoints are trusted.
    pub audit_keys: std::sync::Arc<Vec<service::audit_checkpoints::PublicKey>>,
    /// Sends the portal's mail (email confirmation links); `None` when no SMTP server is
    /// configured.
    pub mailer: Option<service::mail::Mailer>,
    /// Where the Google Workspace connector talks to Google.
    pub google: service::google::GoogleOptions,
}

impl Portal {
    /// The time now, from the portal's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.effects.now()
    }

    /// The public URL without a trailing slash.
    pub fn public_base(&self) -> &str {
        &self.settings.public_base
    }

    /// The SCIM base URL of a directory, as identity providers are given it.
    pub fn scim_base_url(&self, directory: DirectoryId) -> String {
        format!("{}/scim/v2/{directory}", self.public_base())
    }

    /// The portal of the request being served (signed in or not: a page that needs no
    /// session, such as a setup link's, reads only this).
    pub(crate) fn current() -> Result<Self, PortalError> {
        use_context::<Portal>().ok_or_else(|| {
            leptos::logging::error!("the server provided no portal context to a server function");
            PortalError::unavailable()
        })
    }
}

/// The address a portal request comes from: the peer's, or behind a proxy the server is
/// told to trust, the address the proxy saw (set by the server for every portal request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

/// Whoever calls, signed in or not: the portal and the caller's session.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub portal: Portal,
    pub session: PortalSession,
}

impl Visitor {
    /// The caller of the server function being run.
    pub fn current() -> Result<Self, PortalError> {
        let portal = Portal::current()?;
        let session = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<tower_sessions::Session>().cloned())
            .ok_or_else(|| {
                leptos::logging::error!("a server function was called outside the session layer");
                PortalError::sessions_unavailable()
            })?;
        Ok(Self { portal, session: PortalSession::new(session) })
    }

    /// Where the call comes from (unspecified when the server did not say).
    pub fn client_address() -> std::net::IpAddr {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<ClientAddress>().copied())
            .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |address| address.0)
    }

    /// Who is signed in, if anyone.
    pub async fn account(&self) -> Result<Option<SessionAccount>, PortalError> {
        Ok(self.session.account().await?)
    }
}

/// A signed-in tenant admin. Operators are not tenant admins: the admin's server functions
/// refuse them too.
#[derive(Debug, Clone)]
pub struct Admin {
    pub portal: Portal,
    pub session: AdminSession,
}

impl Admin {
    /// The signed-in admin, or 401.
    pub fn require() -> impl Future<Output = Result<Self, PortalError>> + Send + 'static {
        let visitor = Visitor::current();
        async move {
            let visitor = visitor?;
            let session = visitor.session.admin().await?.ok_or_else(PortalError::signed_out)?;
            Ok(Self { portal: visitor.portal, session })
        }
    }

    pub fn store(&self) -> &Store {
        &self.portal.store
    }

    /// The admin's tenant: the only one whose data they reach.
    pub fn tenant(&self) -> TenantId {
        self.session.tenant
    }

    /// This admin as the actor of what they do.
    pub fn actor(&self) -> Actor {
        self.session.actor()
    }

    /// The directory named `text`, if it is one of the admin's tenant's; otherwise 404, the
    /// same answer for another tenant's directory as for none.
    pub async fn directory(&self, text: &str) -> Result<DirectoryId, PortalError> {
        let directory = directory_id(text)?;
        service::onboarding::directory_setup(self.store(), self.tenant(), directory).await?;
        Ok(directory)
    }
}

/// A signed-in operator or support person, in the operator console.
#[derive(Debug, Clone)]
pub struct Operator {
    pub portal: Portal,
    pub session: OperatorSession,
}

impl Operator {
    /// The signed-in operator of either role, or 401.
    pub fn require() -> impl Future<Output = Result<Self, PortalError>> + Send + 'static {
        let visitor = Visitor::current();
        async move {
            let visitor = visitor?;
            let session = visitor.session.operator().await?.ok_or_else(PortalError::signed_out)?;
            Ok(Self { portal: visitor.portal, session })
        }
    }

    /// The signed-in operator if their role may do what `role` may (an operator may do
    /// all that support may); otherwise 401 or 403.
    pub fn require_role(role: OperatorRole) -> impl Future<Output = Result<Self, PortalError>> + Send + 'static {
        let operator = Self::require();
        async move {
            let operator = operator.await?;
            match (operator.session.role, role) {
                (OperatorRole::Operator, _) | (OperatorRole::Support, OperatorRole::Support) => Ok(operator),
                (OperatorRole::Support, OperatorRole::Operator) => {
                    Err(PortalError::Forbidden("Your role can look but not change anything here.".to_owned()))
                }
            }
        }
    }

    pub fn store(&self) -> &Store {
        &self.portal.store
    }

    /// This operator as the actor of what they do and see.
    pub fn actor(&self) -> Actor {
        self.session.actor()
    }

    /// The tenant named `slug`, or 404.
    pub async fn tenant(&self, slug: &str) -> Result<TenantId, PortalError> {
        let slug = service::TenantSlug::parse(slug).map_err(|_| PortalError::no_such_tenant())?;
        match service::tenants::detail(self.store(), &slug).await? {
            Some((tenant, _)) => Ok(tenant.id),
            None => Err(PortalError::no_such_tenant()),
        }
    }
}

/// Someone reading a directory's users, groups and activity: the tenant's admin (`tenant`
/// empty) or vendor staff of either role naming the tenant by its slug. A staff read is
/// recorded in the tenant's trail (`support.viewed_directory`) before anything is read.
#[derive(Debug, Clone)]
pub struct DirectoryReader {
    pub store: Store,
    pub tenant: TenantId,
    pub directory: DirectoryId,
    pub now: DateTime<Utc>,
    /// The tenant's slug for staff; empty for the admin.
    pub slug: String,
}

impl DirectoryReader {
    /// The reader of `directory` of `tenant` (empty for the signed-in admin's own), having
    /// recorded a staff read of `viewed` (what the page shows).
    pub async fn require(tenant: &str, directory: &str, viewed: &str) -> Result<Self, PortalError> {
        if tenant.is_empty() {
            let admin = Admin::require().await?;
            let id = admin.directory(directory).await?;
            return Ok(Self {
                store: admin.store().clone(),
                tenant: admin.tenant(),
                directory: id,
                now: admin.portal.now(),
                slug: String::new(),
            });
        }
        let operator = Operator::require().await?;
        let tenant_id = operator.tenant(tenant).await?;
        let id = directory_id(directory)?;
        service::onboarding::directory_setup(operator.store(), tenant_id, id).await?;
        let now = operator.portal.now();
        service::support::record_directory_view(operator.store(), tenant_id, &operator.actor(), id, viewed, now)
            .await?;
        Ok(Self { store: operator.store().clone(), tenant: tenant_id, directory: id, now, slug: tenant.to_owned() })
    }

    /// This reader's page of a user or group of the directory.
    pub fn resource_page(&self, kind: service::ResourceKind, id: &str) -> String {
        crate::pages::resource::resource_page(&self.slug, &self.directory.to_string(), kind.into(), id)
    }
}

/// A time as pages show it, to the minute, or `never`.
pub fn date_time(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(|| "never".to_owned(), |at| at.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// A directory id from a form; one that does not parse is no directory of the tenant.
pub fn directory_id(text: &str) -> Result<DirectoryId, PortalError> {
    text.parse().map_err(|_| PortalError::no_such_directory())
}
