//! Identifiers and names the storage layer keys data by. Each is parsed once, at the edge,
//! and carried as its own type afterwards, so a directory id cannot be passed as a tenant id.

use std::fmt;
use std::str::FromStr;

use sqlx::error::BoxDynError;
use uuid::Uuid;
use uuid::fmt::Hyphenated;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (UUIDv7) id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        // Stored as canonical text on SQLite and as `uuid` on PostgreSQL, so that one query
        // expression binds and reads ids on both backends.
        impl sqlx::Type<sqlx::Sqlite> for $name {
            fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
                <Hyphenated as sqlx::Type<sqlx::Sqlite>>::type_info()
            }
            fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool {
                <Hyphenated as sqlx::Type<sqlx::Sqlite>>::compatible(ty)
            }
        }
        impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
            ) -> Result<sqlx::encode::IsNull, BoxDynError> {
                <Hyphenated as sqlx::Encode<'q, sqlx::Sqlite>>::encode(self.0.hyphenated(), buf)
            }
        }
        impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for $name {
            fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(Self(<Hyphenated as sqlx::Decode<'r, sqlx::Sqlite>>::decode(value)?.into_uuid()))
            }
        }
        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <Uuid as sqlx::Type<sqlx::Postgres>>::type_info()
            }
        }
        impl<'q> sqlx::Encode<'q, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, BoxDynError> {
                <Uuid as sqlx::Encode<'q, sqlx::Postgres>>::encode_by_ref(&self.0, buf)
            }
        }
        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(Self(<Uuid as sqlx::Decode<'r, sqlx::Postgres>>::decode(value)?))
            }
        }
    };
}

uuid_id!(
    /// A tenant: one of the operator's customers.
    TenantId
);
uuid_id!(
    /// A directory: one identity-provider connection of a tenant.
    DirectoryId
);
uuid_id!(
    /// A bearer token of a directory.
    TokenId
);
uuid_id!(
    /// An operator account.
    OperatorId
);
uuid_id!(
    /// A change event of a directory: the id its consumers deduplicate on.
    EventId
);
uuid_id!(
    /// A key of the operator API.
    ApiKeyId
);
uuid_id!(
    /// A record of a tenant's audit trail.
    AuditId
);
uuid_id!(
    /// An admin of a tenant (one of the customer's IT staff).
    TenantAdminId
);
uuid_id!(
    /// A setup link: a single-use invitation to become a tenant's admin.
    SetupLinkId
);
uuid_id!(
    /// A webhook endpoint of a tenant.
    WebhookId
);
uuid_id!(
    /// One attempt to deliver an event to a webhook.
    DeliveryId
);

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

    #[test]
    fn ids_print_as_hyphenated_uuids_and_parse_back() {
        let id = DirectoryId::generate();
        assert_eq!(id.to_string().parse::<DirectoryId>().unwrap(), id);
        assert_eq!(id.to_string().len(), 36);
    }
}
