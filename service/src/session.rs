//! Portal sign-in sessions: the keys a session holds and what each holds, typed. The
//! portal's server functions and the server's own routes (single sign-on, the live request
//! stream, the audit export, the page account) all read and write sessions through
//! [`PortalSession`], so the stored format has one owner.
//!
//! Stored values keep ids as strings (the store's id types have no serde form); they are
//! parsed once, when read, into [`OperatorSession`] and [`AdminSession`]. A tenant admin
//! is either an account of the tenant (password or single sign-on) or a person the
//! vendor's product sent in with an Admin Portal link ([`AdminIdentity`]); both pass the
//! same guards, and a link's session also carries where to send them back. A stored value
//! that does not parse was not written by sign-in (a tampered or foreign session store):
//! it counts as nobody signed in.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
pub use store::TenantAdminId;
use store::{OperatorId, OperatorRole, PortalLinkId, Store, TenantId};
use tower_sessions::Session;

use crate::admins::{SignedInAccount, SignedInAdmin};
use crate::operators::SignedInOperator;
use crate::portal_links::PortalLinkVisit;
use crate::{Actor, ServiceError};

/// The key under which the signed-in operator is kept.
const OPERATOR_KEY: &str = "operator";
/// The key under which the signed-in tenant admin is kept.
const ADMIN_KEY: &str = "admin";
/// The key under which a person signed in through an Admin Portal link is kept.
const PORTAL_LINK_KEY: &str = "portal_link_admin";
/// The key under which the time of sign-in is kept (unix seconds).
const SIGNED_IN_AT_KEY: &str = "signed_in_at";

/// A session ends this long after its sign-in however busy it is, besides ending after
/// the idle timeout: a stolen session cookie is not good forever.
pub const ABSOLUTE_LIFETIME_HOURS: i64 = 24;

/// Whether a session signed in at `signed_in_at` (unix seconds; `None`: a session from
/// before sign-in times were kept, or not written by sign-in) is still good at `now`.
pub fn within_lifetime(signed_in_at: Option<i64>, now: i64) -> bool {
    signed_in_at.is_some_and(|at| at <= now && now - at < ABSOLUTE_LIFETIME_HOURS * 3_600)
}

/// The wall clock in unix seconds: sessions expire on it (tower-sessions).
fn unix_now() -> i64 {
    #[allow(clippy::disallowed_methods)] // sessions expire on the wall clock (tower-sessions)
    chrono::Utc::now().timestamp()
}

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
    pub identity: AdminIdentity,
    /// How pages name the admin: an account's email, or who the vendor's product said the
    /// person behind an Admin Portal link is.
    pub email: String,
    pub tenant: TenantId,
    /// The tenant's display name when the admin signed in (the pages' header shows it).
    pub tenant_name: String,
}

/// Who a tenant admin's session stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminIdentity {
    /// An admin account of the tenant, signed in with a password, a setup link or single
    /// sign-on.
    Account(TenantAdminId),
    /// A person the vendor's product authenticated and sent in with this Admin Portal link;
    /// there is no account, the link is their identity.
    PortalLink(PortalLinkReturn),
}

/// A session made by an Admin Portal link: the link, and where the wizard sends the admin
/// back to the vendor's product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLinkReturn {
    pub link: PortalLinkId,
    /// Leaving before setup is complete.
    pub return_url: Option<String>,
    /// Once setup is complete.
    pub success_url: Option<String>,
}

impl AdminSession {
    /// This admin as the actor of what they do.
    pub fn actor(&self) -> Actor {
        match &self.identity {
            AdminIdentity::Account(id) => Actor::Admin { id: *id, email: self.email.clone() },
            AdminIdentity::PortalLink(visit) => Actor::PortalLink { link: visit.link, name: self.email.clone() },
        }
    }

    /// Where an Admin Portal link's session goes back to the vendor's product, if it does.
    pub fn portal_link(&self) -> Option<&PortalLinkReturn> {
        match &self.identity {
            AdminIdentity::PortalLink(visit) => Some(visit),
            AdminIdentity::Account(_) => None,
        }
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
    /// A one-time outcome could not be sealed for its page.
    #[error("a one-time outcome could not be sealed: {0}")]
    Sealing(String),
}

/// The account a session's stored data belongs to, as the session row names it (see
/// [`account_key_of_operator`], [`account_key_of_admin`]); `None`: nobody signed in, or an
/// Admin Portal link's visitor (no account).
pub fn account_key(data: &std::collections::HashMap<String, serde_json::Value>) -> Option<String> {
    let field = |key: &str, field: &str| data.get(key)?.get(field)?.as_str().map(str::to_owned);
    if let Some(id) = field(OPERATOR_KEY, "id") {
        return Some(format!("operator:{id}"));
    }
    Some(format!("admin:{}:{}", field(ADMIN_KEY, "tenant_id")?, field(ADMIN_KEY, "id")?))
}

/// The session rows' name of an operator's account.
pub fn account_key_of_operator(id: OperatorId) -> String {
    format!("operator:{id}")
}

/// The session rows' name of a tenant admin's account.
pub fn account_key_of_admin(tenant: TenantId, id: TenantAdminId) -> String {
    format!("admin:{tenant}:{id}")
}

/// Whether the session with this id is still in the database and unexpired (a long-lived
/// stream holds a copy of the session read when it opened; this reads it again).
pub async fn still_signed_in(store: &Store, session_id: &str) -> Result<bool, crate::ServiceError> {
    let now = unix_now();
    if session_id.is_empty() {
        return Ok(false);
    }
    let Some(row) = store.load_session(session_id, now).await? else {
        return Ok(false);
    };
    let data: serde_json::Value = serde_json::from_str(&row.data).unwrap_or_default();
    Ok(within_lifetime(data.get(SIGNED_IN_AT_KEY).and_then(serde_json::Value::as_i64), now))
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
        if !self.within_lifetime().await? {
            return Ok(None);
        }
        let stored = self.0.get::<StoredOperator>(OPERATOR_KEY).await.map_err(logged)?;
        Ok(stored.and_then(StoredOperator::parse))
    }

    /// The signed-in tenant admin (an account, or an Admin Portal link's visitor), if any.
    pub async fn admin(&self) -> Result<Option<AdminSession>, SessionError> {
        if !self.within_lifetime().await? {
            return Ok(None);
        }
        if let Some(stored) = self.0.get::<StoredAdmin>(ADMIN_KEY).await.map_err(logged)? {
            return Ok(stored.parse());
        }
        let stored = self.0.get::<StoredLinkVisit>(PORTAL_LINK_KEY).await.map_err(logged)?;
        Ok(stored.and_then(StoredLinkVisit::parse))
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
        self.replace_account(stored).await
    }

    /// Starts the session of someone who opened an Admin Portal link (see
    /// [`crate::portal_links::redeem_portal_link`]), like [`PortalSession::start`].
    pub async fn start_through_portal_link(&self, store: &Store, visit: &PortalLinkVisit) -> Result<(), SessionError> {
        let stored = StoredLinkVisit::of(store, visit).await?;
        self.replace_account(Stored::PortalLink(stored)).await
    }

    /// Whether the session's sign-in is recent enough (see [`ABSOLUTE_LIFETIME_HOURS`]).
    async fn within_lifetime(&self) -> Result<bool, SessionError> {
        let signed_in_at = self.0.get::<i64>(SIGNED_IN_AT_KEY).await.map_err(logged)?;
        Ok(within_lifetime(signed_in_at, unix_now()))
    }

    async fn replace_account(&self, stored: Stored) -> Result<(), SessionError> {
        self.0.cycle_id().await.map_err(logged)?;
        for key in [OPERATOR_KEY, ADMIN_KEY, PORTAL_LINK_KEY] {
            self.0.remove_value(key).await.map_err(logged)?;
        }
        self.0.insert(SIGNED_IN_AT_KEY, unix_now()).await.map_err(logged)?;
        match stored {
            Stored::Operator(operator) => self.0.insert(OPERATOR_KEY, operator).await,
            Stored::Admin(admin) => self.0.insert(ADMIN_KEY, admin).await,
            Stored::PortalLink(visit) => self.0.insert(PORTAL_LINK_KEY, visit).await,
        }
        .map_err(logged)
    }

    /// The session's id (none before it is first saved).
    pub fn id(&self) -> Option<String> {
        self.0.id().map(|id| id.to_string())
    }

    /// Gives the session a new id (after a password change: an id seen before it is
    /// worthless), keeping who is signed in.
    pub async fn renew_id(&self) -> Result<(), SessionError> {
        self.0.cycle_id().await.map_err(logged)
    }

    /// Ends the session: its record is deleted and the cookie expires.
    pub async fn end(&self) -> Result<(), SessionError> {
        self.0.flush().await.map_err(logged)
    }
}

/// The key under which a one-time outcome waits for the page that shows it.
const SHOWN_ONCE_KEY: &str = "shown_once";

/// How long a one-time outcome waits for its page: the redirect that follows the form's
/// post takes a moment; a page opened later shows that it was already shown.
const SHOWN_ONCE_SECONDS: i64 = 300;

/// The address-safe key of a one-time outcome: the page's address carries it, the session
/// holds only what it opens (see [`PortalSession::seal_for_one_showing`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownOnceKey(String);

impl ShownOnceKey {
    /// The key as it goes into a page's address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PortalSession {
    /// Seals `value` (a secret made by a form that the browser posted without the portal's
    /// bundle: a new token, an API key) for the one page that shows it after the redirect,
    /// and returns the key that page's address carries. The session store keeps only the
    /// ciphertext, under a key that is in the address alone, so neither the session row
    /// nor the address (history, logs) holds the secret. One outcome of a `kind` waits at a
    /// time; a newer one replaces it.
    pub async fn seal_for_one_showing<T: Serialize>(
        &self,
        effects: &crate::Effects,
        kind: &str,
        value: &T,
    ) -> Result<ShownOnceKey, SessionError> {
        let plaintext = serde_json::to_vec(value).map_err(|error| SessionError::Sealing(error.to_string()))?;
        let mut key = [0_u8; 32];
        effects.fill(&mut key);
        let (key, sealed) = shown_once::seal(key, kind, &plaintext, unix_now() + SHOWN_ONCE_SECONDS)?;
        let mut waiting =
            self.0.get::<Vec<shown_once::Sealed>>(SHOWN_ONCE_KEY).await.map_err(logged)?.unwrap_or_default();
        let now = unix_now();
        waiting.retain(|entry| entry.kind != kind && entry.expires_at > now);
        waiting.push(sealed);
        self.0.insert(SHOWN_ONCE_KEY, waiting).await.map_err(logged)?;
        Ok(key)
    }

    /// The outcome of `kind` that `key` opens, removed from the session as it is read: a
    /// second read, another session, a stale or a forged key all get `None`.
    pub async fn take_shown_once<T: DeserializeOwned>(&self, kind: &str, key: &str) -> Result<Option<T>, SessionError> {
        let Some(mut waiting) = self.0.get::<Vec<shown_once::Sealed>>(SHOWN_ONCE_KEY).await.map_err(logged)? else {
            return Ok(None);
        };
        let now = unix_now();
        let Some(position) = waiting.iter().position(|entry| entry.kind == kind) else { return Ok(None) };
        let opened = shown_once::open(&waiting[position], key, now);
        // Removed whether or not the key opened it: a wrong key does not get a second try.
        waiting.remove(position);
        waiting.retain(|entry| entry.expires_at > now);
        if waiting.is_empty() {
            self.0.remove_value(SHOWN_ONCE_KEY).await.map_err(logged)?;
        } else {
            self.0.insert(SHOWN_ONCE_KEY, waiting).await.map_err(logged)?;
        }
        Ok(opened.and_then(|plaintext| serde_json::from_slice(&plaintext).ok()))
    }
}

/// Sealing one-time outcomes: ChaCha20-Poly1305 under a random key made for this one value
/// (so a fixed nonce is safe), the outcome's kind as associated data.
mod shown_once {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
    use serde::{Deserialize, Serialize};

    use super::{SessionError, ShownOnceKey};

    /// A one-time outcome as the session stores it.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub(super) struct Sealed {
        pub(super) kind: String,
        /// Base64 of the ciphertext and its tag.
        ciphertext: String,
        /// Unix seconds.
        pub(super) expires_at: i64,
    }

    /// Seals `plaintext` under `key` (random, made for this one value).
    pub(super) fn seal(
        key: [u8; 32],
        kind: &str,
        plaintext: &[u8],
        expires_at: i64,
    ) -> Result<(ShownOnceKey, Sealed), SessionError> {
        let ciphertext = ChaCha20Poly1305::new(Key::from_slice(&key))
            .encrypt(&Nonce::default(), Payload { msg: plaintext, aad: kind.as_bytes() })
            .map_err(|_| SessionError::Sealing("the outcome could not be sealed".to_owned()))?;
        let sealed = Sealed { kind: kind.to_owned(), ciphertext: URL_SAFE_NO_PAD.encode(ciphertext), expires_at };
        Ok((ShownOnceKey(URL_SAFE_NO_PAD.encode(key)), sealed))
    }

    pub(super) fn open(sealed: &Sealed, key: &str, now: i64) -> Option<Vec<u8>> {
        if sealed.expires_at <= now {
            return None;
        }
        let key: [u8; 32] = URL_SAFE_NO_PAD.decode(key).ok()?.try_into().ok()?;
        let ciphertext = URL_SAFE_NO_PAD.decode(&sealed.ciphertext).ok()?;
        ChaCha20Poly1305::new(Key::from_slice(&key))
            .decrypt(&Nonce::default(), Payload { msg: &ciphertext, aad: sealed.kind.as_bytes() })
            .ok()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn only_its_own_key_kind_and_time_open_an_outcome() {
            let random = |byte: u8| [byte; 32];
            let (key, sealed) = seal(random(7), "issued_token", b"{\"token\":\"scim_secret\"}", 1_000).unwrap();
            assert_eq!(open(&sealed, key.as_str(), 999).as_deref(), Some(&b"{\"token\":\"scim_secret\"}"[..]));
            assert!(!sealed.ciphertext.contains("scim_secret"), "the session holds only ciphertext");
            assert_eq!(open(&sealed, key.as_str(), 1_000), None, "expired");
            let (other_key, _) = seal(random(8), "issued_token", b"other", 1_000).unwrap();
            assert_eq!(open(&sealed, other_key.as_str(), 999), None, "another outcome's key");
            let relabelled = Sealed { kind: "api_key".to_owned(), ..sealed.clone() };
            assert_eq!(open(&relabelled, key.as_str(), 999), None, "the kind is authenticated");
            assert_eq!(open(&sealed, "not base64!", 999), None);
            assert_eq!(open(&sealed, "c2hvcnQ", 999), None, "a key of the wrong length");
        }
    }
}

fn logged(error: tower_sessions::session::Error) -> SessionError {
    tracing::error!(%error, "session storage failed");
    SessionError::Store(error)
}

enum Stored {
    Operator(StoredOperator),
    Admin(StoredAdmin),
    PortalLink(StoredLinkVisit),
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
        Some(AdminSession {
            identity: AdminIdentity::Account(id),
            email: self.email,
            tenant,
            tenant_name: self.tenant_name,
        })
    }
}

/// A person signed in through an Admin Portal link, as the session stores them.
#[derive(Debug, Serialize, Deserialize)]
struct StoredLinkVisit {
    link: String,
    name: String,
    tenant_id: String,
    tenant_name: String,
    return_url: Option<String>,
    success_url: Option<String>,
}

impl StoredLinkVisit {
    async fn of(store: &Store, visit: &PortalLinkVisit) -> Result<Self, ServiceError> {
        let tenant_name = crate::tenants::name_of(store, visit.tenant).await?.unwrap_or_default();
        Ok(Self {
            link: visit.link.to_string(),
            name: visit.name.clone(),
            tenant_id: visit.tenant.to_string(),
            tenant_name,
            return_url: visit.return_url.clone(),
            success_url: visit.success_url.clone(),
        })
    }

    fn parse(self) -> Option<AdminSession> {
        let (Ok(link), Ok(tenant)) = (self.link.parse(), self.tenant_id.parse()) else {
            return malformed(PORTAL_LINK_KEY);
        };
        let visit = PortalLinkReturn { link, return_url: self.return_url, success_url: self.success_url };
        Some(AdminSession {
            identity: AdminIdentity::PortalLink(visit),
            email: self.name,
            tenant,
            tenant_name: self.tenant_name,
        })
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
    fn a_session_is_good_for_its_absolute_lifetime_after_sign_in_and_not_after() {
        let now = 1_800_000_000;
        let lifetime = ABSOLUTE_LIFETIME_HOURS * 3_600;
        assert!(within_lifetime(Some(now), now));
        assert!(within_lifetime(Some(now - lifetime + 1), now));
        assert!(!within_lifetime(Some(now - lifetime), now));
        assert!(!within_lifetime(None, now), "a session without a sign-in time");
        assert!(!within_lifetime(Some(now + 60), now), "a sign-in in the future was not written by this server");
    }

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
    fn a_portal_link_visit_reads_back_as_an_admin_acting_through_the_link() {
        let (link, tenant) = (PortalLinkId::fresh(), TenantId::fresh());
        let stored = StoredLinkVisit {
            link: link.to_string(),
            name: "user_42".into(),
            tenant_id: tenant.to_string(),
            tenant_name: "Acme".into(),
            return_url: Some("https://app.vendor.example/back".into()),
            success_url: None,
        };
        let session = stored.parse().unwrap();
        assert_eq!(session.actor(), Actor::PortalLink { link, name: "user_42".into() });
        assert_eq!(
            session.portal_link().and_then(|visit| visit.return_url.as_deref()),
            Some("https://app.vendor.example/back")
        );
        assert_eq!(session.tenant, tenant);
        let forged = StoredLinkVisit {
            link: "not-an-id".into(),
            name: "user_42".into(),
            tenant_id: tenant.to_string(),
            tenant_name: "Acme".into(),
            return_url: None,
            success_url: None,
        };
        assert_eq!(forged.parse(), None);
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
