//! Identifiers and names the storage layer keys data by. Each is parsed once, at the edge,
//! and carried as its own type afterwards, so a directory id cannot be passed as a tenant id.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::str::FromStr;

use sqlx::error::BoxDynError;
use uuid::Uuid;
use uuid::fmt::Hyphenated;

/// A UUID that identifies one `K` (a marker type of the module `kind` below). Each kind has
/// its own id type, named below (`TenantId` is `Id<kind::Tenant>`), so one kind's id is
/// never taken for another's.
pub struct Id<K>(Uuid, PhantomData<fn() -> K>);

/// What an [`Id`] identifies: the marker types of the module `kind`.
pub trait IdKind {
    /// The id type's name, which `Debug` shows (`TenantId(…)`).
    const NAME: &'static str;
}

/// A tenant: one of the operator's customers.
pub type TenantId = Id<kind::Tenant>;
/// A directory: one identity-provider connection of a tenant.
pub type DirectoryId = Id<kind::Directory>;
/// A bearer token of a directory.
pub type TokenId = Id<kind::Token>;
/// An operator account.
pub type OperatorId = Id<kind::Operator>;
/// A change event of a directory: the id its consumers deduplicate on.
pub type EventId = Id<kind::Event>;
/// A key of the operator API.
pub type ApiKeyId = Id<kind::ApiKey>;
/// A record of a tenant's audit trail.
pub type AuditId = Id<kind::Audit>;
/// An admin of a tenant (one of the customer's IT staff).
pub type TenantAdminId = Id<kind::TenantAdmin>;
/// A setup link: a single-use invitation to become a tenant's admin.
pub type SetupLinkId = Id<kind::SetupLink>;
/// A link that confirms a tenant admin's email.
pub type EmailVerificationId = Id<kind::EmailVerification>;
/// An Admin Portal link: a single-use sign-in to a tenant's setup wizard that the vendor's
/// product asked for through the WorkOS-compatible API.
pub type PortalLinkId = Id<kind::PortalLink>;
/// A webhook endpoint of a tenant.
pub type WebhookId = Id<kind::Webhook>;
/// One attempt to deliver an event to a webhook.
pub type DeliveryId = Id<kind::Delivery>;
/// A webhook endpoint of the operator (all tenants' Directory Sync events).
pub type OperatorWebhookId = Id<kind::OperatorWebhook>;
/// An alert of a tenant: one condition someone must act on, from opened to resolved.
pub type AlertId = Id<kind::Alert>;
/// One run of a directory's Google Workspace connector.
pub type GoogleRunId = Id<kind::GoogleRun>;

/// The markers that tell the kinds of [`Id`] apart; never values, only type parameters.
mod kind {
    use super::IdKind;

    /// See [`TenantId`](super::TenantId).
    #[derive(Debug)]
    pub enum Tenant {}
    /// See [`DirectoryId`](super::DirectoryId).
    #[derive(Debug)]
    pub enum Directory {}
    /// See [`TokenId`](super::TokenId).
    #[derive(Debug)]
    pub enum Token {}
    /// See [`OperatorId`](super::OperatorId).
    #[derive(Debug)]
    pub enum Operator {}
    /// See [`EventId`](super::EventId).
    #[derive(Debug)]
    pub enum Event {}
    /// See [`ApiKeyId`](super::ApiKeyId).
    #[derive(Debug)]
    pub enum ApiKey {}
    /// See [`AuditId`](super::AuditId).
    #[derive(Debug)]
    pub enum Audit {}
    /// See [`TenantAdminId`](super::TenantAdminId).
    #[derive(Debug)]
    pub enum TenantAdmin {}
    /// See [`SetupLinkId`](super::SetupLinkId).
    #[derive(Debug)]
    pub enum SetupLink {}
    /// See [`EmailVerificationId`](super::EmailVerificationId).
    #[derive(Debug)]
    pub enum EmailVerification {}
    /// See [`PortalLinkId`](super::PortalLinkId).
    #[derive(Debug)]
    pub enum PortalLink {}
    /// See [`WebhookId`](super::WebhookId).
    #[derive(Debug)]
    pub enum Webhook {}
    /// See [`DeliveryId`](super::DeliveryId).
    #[derive(Debug)]
    pub enum Delivery {}
    /// See [`OperatorWebhookId`](super::OperatorWebhookId).
    #[derive(Debug)]
    pub enum OperatorWebhook {}
    /// See [`AlertId`](super::AlertId).
    #[derive(Debug)]
    pub enum Alert {}
    /// See [`GoogleRunId`](super::GoogleRunId).
    #[derive(Debug)]
    pub enum GoogleRun {}

    impl IdKind for GoogleRun {
        const NAME: &'static str = "GoogleRunId";
    }

    impl IdKind for Alert {
        const NAME: &'static str = "AlertId";
    }
    impl IdKind for OperatorWebhook {
        const NAME: &'static str = "OperatorWebhookId";
    }

    impl IdKind for Tenant {
        const NAME: &'static str = "TenantId";
    }
    impl IdKind for Directory {
        const NAME: &'static str = "DirectoryId";
    }
    impl IdKind for Token {
        const NAME: &'static str = "TokenId";
    }
    impl IdKind for Operator {
        const NAME: &'static str = "OperatorId";
    }
    impl IdKind for Event {
        const NAME: &'static str = "EventId";
    }
    impl IdKind for ApiKey {
        const NAME: &'static str = "ApiKeyId";
    }
    impl IdKind for Audit {
        const NAME: &'static str = "AuditId";
    }
    impl IdKind for TenantAdmin {
        const NAME: &'static str = "TenantAdminId";
    }
    impl IdKind for SetupLink {
        const NAME: &'static str = "SetupLinkId";
    }
    impl IdKind for EmailVerification {
        const NAME: &'static str = "EmailVerificationId";
    }
    impl IdKind for PortalLink {
        const NAME: &'static str = "PortalLinkId";
    }
    impl IdKind for Webhook {
        const NAME: &'static str = "WebhookId";
    }
    impl IdKind for Delivery {
        const NAME: &'static str = "DeliveryId";
    }
}

impl<K> Id<K> {
    /// The id of the `seq`-th row of a numbered sequence that `owner` keeps (a directory's
    /// change events, a tenant's audit records), made at `at`. Such rows are numbered by a
    /// counter on their owner that never goes back, so the store derives their ids instead
    /// of drawing them: a UUIDv7 (RFC 9562 §5.7) with `at`'s milliseconds, whose random
    /// bits are a hash of owner and number. The same row always gets the same id, and no
    /// two rows share one. Every other id is made by the caller (`service::Effects`).
    pub(crate) fn of_numbered_row(owner: Uuid, seq: i64, at: chrono::DateTime<chrono::Utc>) -> Self {
        use sha2::{Digest, Sha256};
        let hash = Sha256::new().chain_update(owner.as_bytes()).chain_update(seq.to_be_bytes()).finalize();
        let mut bits = [0_u8; 10];
        bits.copy_from_slice(&hash[..10]);
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        Self::from(uuid::Builder::from_unix_timestamp_millis(millis, &bits).into_uuid())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl<K> From<Uuid> for Id<K> {
    fn from(id: Uuid) -> Self {
        Self(id, PhantomData)
    }
}

impl<K> FromStr for Id<K> {
    type Err = uuid::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(text).map(Self::from)
    }
}

impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// As a derived `Debug` of a `TenantId(Uuid)` struct would print it.
impl<K: IdKind> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(K::NAME).field(&self.0).finish()
    }
}

// Written out rather than derived: a derive would require the marker to implement each
// trait too, though only the UUID is compared, hashed and copied.
impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Id<K> {}

impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K> Eq for Id<K> {}

impl<K> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl<K> Hash for Id<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

// Stored as canonical text on SQLite and as `uuid` on PostgreSQL, so that one query
// expression binds and reads ids on both backends.
impl<K> sqlx::Type<sqlx::Sqlite> for Id<K> {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <Hyphenated as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
    fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool {
        <Hyphenated as sqlx::Type<sqlx::Sqlite>>::compatible(ty)
    }
}
impl<'q, K> sqlx::Encode<'q, sqlx::Sqlite> for Id<K> {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
    ) -> Result<sqlx::encode::IsNull, BoxDynError> {
        <Hyphenated as sqlx::Encode<'q, sqlx::Sqlite>>::encode(self.0.hyphenated(), buf)
    }
}
impl<'r, K> sqlx::Decode<'r, sqlx::Sqlite> for Id<K> {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self::from(<Hyphenated as sqlx::Decode<'r, sqlx::Sqlite>>::decode(value)?.into_uuid()))
    }
}
impl<K> sqlx::Type<sqlx::Postgres> for Id<K> {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <Uuid as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}
impl<'q, K> sqlx::Encode<'q, sqlx::Postgres> for Id<K> {
    fn encode_by_ref(&self, buf: &mut sqlx::postgres::PgArgumentBuffer) -> Result<sqlx::encode::IsNull, BoxDynError> {
        <Uuid as sqlx::Encode<'q, sqlx::Postgres>>::encode_by_ref(&self.0, buf)
    }
}
impl<'r, K> sqlx::Decode<'r, sqlx::Postgres> for Id<K> {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self::from(<Uuid as sqlx::Decode<'r, sqlx::Postgres>>::decode(value)?))
    }
}

/// A tenant's URL name: 2 to 63 characters of lowercase letters, digits and hyphens,
/// starting with a letter and not ending with a hyphen (a DNS label, so it can also name a
/// subdomain).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantSlug(String);

/// Why a tenant slug was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a valid tenant name: use 2 to 63 lowercase letters, digits and hyphens, \
     starting with a letter and not ending with a hyphen"
)]
pub struct InvalidSlug(pub String);

impl TenantSlug {
    pub fn parse(text: &str) -> Result<Self, InvalidSlug> {
        let valid = (2..=63).contains(&text.len())
            && text.starts_with(|c: char| c.is_ascii_lowercase())
            && !text.ends_with('-')
            && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid { Ok(Self(text.to_owned())) } else { Err(InvalidSlug(text.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for TenantSlug {
    type Err = InvalidSlug;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The identity provider that feeds a directory. It selects the SCIM dialect the directory
/// accepts and the setup instructions the portal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityProvider {
    Okta,
    Entra,
    Google,
    OneLogin,
    JumpCloud,
    Ping,
    Rippling,
    Generic,
}

/// Why an identity provider name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown identity provider {0:?}: expected one of okta, entra, google, onelogin, jumpcloud, ping, rippling, generic"
)]
pub struct UnknownIdentityProvider(pub String);

impl IdentityProvider {
    pub const ALL: [IdentityProvider; 8] = [
        IdentityProvider::Okta,
        IdentityProvider::Entra,
        IdentityProvider::Google,
        IdentityProvider::OneLogin,
        IdentityProvider::JumpCloud,
        IdentityProvider::Ping,
        IdentityProvider::Rippling,
        IdentityProvider::Generic,
    ];

    /// The stored and command-line name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityProvider::Okta => "okta",
            IdentityProvider::Entra => "entra",
            IdentityProvider::Google => "google",
            IdentityProvider::OneLogin => "onelogin",
            IdentityProvider::JumpCloud => "jumpcloud",
            IdentityProvider::Ping => "ping",
            IdentityProvider::Rippling => "rippling",
            IdentityProvider::Generic => "generic",
        }
    }

    /// The product name people know.
    pub fn display_name(self) -> &'static str {
        match self {
            IdentityProvider::Okta => "Okta",
            IdentityProvider::Entra => "Microsoft Entra ID",
            IdentityProvider::Google => "Google Workspace",
            IdentityProvider::OneLogin => "OneLogin",
            IdentityProvider::JumpCloud => "JumpCloud",
            IdentityProvider::Ping => "PingFederate",
            IdentityProvider::Rippling => "Rippling",
            IdentityProvider::Generic => "Generic SCIM 2.0",
        }
    }
}

impl FromStr for IdentityProvider {
    type Err = UnknownIdentityProvider;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|idp| idp.as_str() == wanted).ok_or_else(|| UnknownIdentityProvider(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_dns_label_rules() {
        for good in ["acme", "acme-corp", "a1", "globex-2026"] {
            assert_eq!(TenantSlug::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "a", "Acme", "1acme", "acme-", "ac me", "acme_corp", "ächme", &"a".repeat(64)] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn identity_providers_round_trip_through_their_names() {
        for idp in IdentityProvider::ALL {
            assert_eq!(idp.as_str().parse::<IdentityProvider>().unwrap(), idp);
        }
        assert_eq!(" Entra ".parse::<IdentityProvider>().unwrap(), IdentityProvider::Entra);
        assert!("azure".parse::<IdentityProvider>().is_err());
    }

    fn an_id() -> DirectoryId {
        DirectoryId::from(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001))
    }

    #[test]
    fn ids_print_as_hyphenated_uuids_and_parse_back() {
        let id = an_id();
        assert_eq!(id.to_string().parse::<DirectoryId>().unwrap(), id);
        assert_eq!(id.to_string().len(), 36);
    }

    #[test]
    fn ids_debug_print_their_type_name() {
        let id = TenantId::from(an_id().as_uuid());
        assert_eq!(format!("{id:?}"), format!("TenantId({id})"));
        assert_eq!(format!("{:?}", DeliveryId::from(id.as_uuid())), format!("DeliveryId({id})"));
    }

    #[test]
    fn a_numbered_rows_id_is_a_uuidv7_of_its_time_and_the_same_for_the_same_row() {
        let at = chrono::DateTime::from_timestamp_millis(1_764_000_000_123).unwrap();
        let owner = an_id().as_uuid();
        let id = EventId::of_numbered_row(owner, 7, at);
        assert_eq!(id, EventId::of_numbered_row(owner, 7, at));
        assert_eq!(id.as_uuid().get_version_num(), 7);
        let (seconds, nanos) = id.as_uuid().get_timestamp().unwrap().to_unix();
        assert_eq!((seconds, nanos / 1_000_000), (1_764_000_000, 123));
        assert_ne!(id, EventId::of_numbered_row(owner, 8, at));
        assert_ne!(id, EventId::of_numbered_row(Uuid::from_u128(1), 7, at));
    }
}
