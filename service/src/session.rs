//! Portal sign-in sessions: the keys a session holds and what each holds, typed. The
//! portal's server functions and the server's own routes (single sign-on, the live request
//! stream, the audit export, the page account) all read and write sessions through
//! [`PortalSession`], so the stored format has one owner.
//!
//! Stored values keep ids as strings (the store's id types have no serde form); they are
//! parsed once, when read, into [`OperatorSession`] and [`AdminSession`]. A stored value
//! that does not parse was not written by sign-in (a tampered or foreign session store):
//! it counts as nobody signed in.

use serde::{Deserialize, Serialize};
use store::{OperatorId, OperatorRole, Store, TenantAdminId, TenantId};
use tower_sessions::Session;

use crate::admins::{SignedInAccount, SignedInAdmin};
use crate::operators::SignedInOperator;
use crate::{Actor, ServiceError};

/// The key under which the signed-in operator is kept.
const OPERATOR_KEY: &str = "operator";
/// The key under which the signed-in tenant admin is kept.
const ADMIN_KEY: &str = "admin";

/// A signed-in operator (vendor staff), as the session holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSession {
    pub id: OperatorId,
    pub email: String,
    pub role: OperatorRole,
}

impl OperatorSession {
    /// This operator as the actor of what they do (and see: views of a tenant's data are
    /// recorded in that tenant's trail).
    pub fn actor(&self) -> Actor {
        Actor::Operator { id: self.id, email: self.email.clone(), role: self.role }
    }
}

/// A signed-in tenant admin, as the session holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSession {
    pub id: TenantAdminId,
    pub email: String,
    pub tenant: TenantId,
    /// The tenant's display name when the admin signed in (the pages' header shows it).
    pub tenant_name: String,
}

impl AdminSession {
    /// This admin as the actor of what they do.
    pub fn actor(&self) -> Actor {
        Actor::Admin { id: self.id, email: self.email.clone() }
    }
}

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionAccount {
    Operator(OperatorSession),
    Admin(AdminSession),
}

/// The account of a portal page request, resolved by the server before the page renders
/// and put into the request's extensions, so that pages know it synchronously (a request
/// without it renders as signed out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageAccount(pub Option<SessionAccount>);

/// Why a session could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The session store failed (it is logged here).
    #[error("the session store failed: {0}")]
    Store(#[from] tower_sessions::session::Error),
    /// Starting an admin's session reads their tenant's name, and the database failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// One browser's session, read and written only as typed values.
#[derive(Debug, Clone)]
pub struct PortalSession(Session);

impl PortalSession {
    pub fn new(session: Session) -> Self {
        Self(session)
    }

    /// Who is signed in: an operator, a tenant admin, or nobody.
    pub async fn account(&self) -> Result<Option<SessionAccount>, SessionError> {
        if let Some(operator) = self.operator().await? {
            return Ok(Some(SessionAccount::Operator(operator)));
        }
        Ok(self.admin().await?.map(SessionAccount::Admin))
    }

    /// The signed-in operator, if an operator is signed in.
    pub async fn operator(&self) -> Result<Option<OperatorSession>, SessionError> {
        let stored = self.0.get::<StoredOperator>(OPERATOR_KEY).await.map_err(logged)?;
        Ok(stored.and_then(StoredOperator::parse))
    }

    /// The signed-in tenant admin, if an admin is signed in.
    pub async fn admin(&self) -> Result<Option<AdminSession>, SessionError> {
        let stored = self.0.get::<StoredAdmin>(ADMIN_KEY).await.map_err(logged)?;
        Ok(stored.and_then(StoredAdmin::parse))
    }

    /// Starts the session of an account that just signed in (with a password, a setup
    /// link or single sign-on): a new session id, so an id planted before sign-in is
    /// worthless, and nobody else left in it.
    pub async fn start(&self, store: &Store, account: &SignedInAccount) -> Result<(), SessionError> {
        // Read first: a failure leaves the session as it was.
        let stored = match account {
            SignedInAccount::Operator(operator) => Stored::Operator(StoredOperator::of(operator)),
            SignedInAccount::Admin(admin) => Stored::Admin(StoredAdmin::of(store, admin).await?),
        };
        self.0.cycle_id().await.map_err(logged)?;
        self.0.remove_value(OPERATOR_KEY).await.map_err(logged)?;
        self.0.remove_value(ADMIN_KEY).await.map_err(logged)?;
        match stored {
            Stored::Operator(operator) => self.0.insert(OPERATOR_KEY, operator).await,
            Stored::Admin(admin) => self.0.insert(ADMIN_KEY, admin).await,
        }
        .map_err(logged)
    }

    /// Ends the session: its record is deleted and the cookie expires.
    pub async fn end(&self) -> Result<(), SessionError> {
        self.0.flush().await.map_err(logged)
    }
}

fn logged(error: tower_sessions::session::Error) -> SessionError {
    tracing::error!(%error, "session storage failed");
    SessionError::Store(error)
}

enum Stored {
    Operator(StoredOperator),
    Admin(StoredAdmin),
}

/// An operator as the session stores them (the format of existing sessions).
#[derive(Debug, Serialize, Deserialize)]
struct StoredOperator {
    id: String,
    email: String,
    /// `operator` or `support`.
    role: String,
}

impl StoredOperator {
    fn of(operator: &SignedInOperator) -> Self {
        Self { id: operator.id.to_string(), email: operator.email.clone(), role: operator.role.as_str().to_owned() }
    }

    fn parse(self) -> Option<OperatorSession> {
        let role = match self.role.as_str() {
            "operator" => OperatorRole::Operator,
            "support" => OperatorRole::Support,
            _ => return malformed(OPERATOR_KEY),
        };
        let Ok(id) = self.id.parse() else { return malformed(OPERATOR_KEY) };
        Some(OperatorSession { id, email: self.email, role })
    }
}

/// A tenant admin as the session stores them (the format of existing sessions).
#[derive(Debug, Serialize, Deserialize)]
struct StoredAdmin {
    id: String,
    email: String,
    tenant_id: String,
    tenant_name: String,
}

impl StoredAdmin {
    async fn of(store: &Store, admin: &SignedInAdmin) -> Result<Self, ServiceError> {
        let tenant_name = crate::tenants::name_of(store, admin.tenant).await?.unwrap_or_default();
        Ok(Self {
            id: admin.id.to_string(),
            email: admin.email.clone(),
            tenant_id: admin.tenant.to_string(),
            tenant_name,
        })
    }

    fn parse(self) -> Option<AdminSession> {
        let (Ok(id), Ok(tenant)) = (self.id.parse(), self.tenant_id.parse()) else { return malformed(ADMIN_KEY) };
        Some(AdminSession { id, email: self.email, tenant, tenant_name: self.tenant_name })
    }
}

fn malformed<T>(key: &str) -> Option<T> {
    tracing::warn!(key, "a session holds a value sign-in did not write; treated as signed out");
    None
}

#[cfg(test)]
mod tests {
    use store::testing::FreshId as _;

    use super::*;

    #[test]
    fn a_stored_operator_reads_back_with_its_role() {
        let id = OperatorId::fresh();
        let stored = StoredOperator { id: id.to_string(), email: "s@vendor.example".into(), role: "support".into() };
        let read = stored.parse();
        assert_eq!(read, Some(OperatorSession { id, email: "s@vendor.example".into(), role: OperatorRole::Support }));
    }

    #[test]
    fn a_stored_value_sign_in_did_not_write_is_nobody() {
        let stored =
            StoredOperator { id: "not-an-id".into(), email: "x@vendor.example".into(), role: "operator".into() };
        assert_eq!(stored.parse(), None);
        let unknown_role =
            StoredOperator { id: OperatorId::fresh().to_string(), email: "x@v.example".into(), role: "root".into() };
        assert_eq!(unknown_role.parse(), None);
        let admin = StoredAdmin {
            id: TenantAdminId::fresh().to_string(),
            email: "it@acme.example".into(),
            tenant_id: "acme".into(),
            tenant_name: "Acme".into(),
        };
        assert_eq!(admin.parse(), None);
    }

    #[test]
    fn the_stored_format_is_that_of_existing_sessions() {
        let stored = StoredAdmin {
            id: "i".into(),
            email: "it@acme.example".into(),
            tenant_id: "t".into(),
            tenant_name: "Acme".into(),
        };
        assert_eq!(
            serde_json::to_value(&stored).ok(),
            Some(serde_json::json!({"id": "i", "email": "it@acme.example", "tenant_id": "t", "tenant_name": "Acme"}))
        );
    }
}
