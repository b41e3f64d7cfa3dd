//! The objects of the Directory Sync API, with WorkOS's field names and shapes (what the
//! official SDKs deserialize: see the README's "Moving from WorkOS").

use chrono::{DateTime, SecondsFormat, Utc};
use scim::normalized::{NormalizedEmail, NormalizedGroup, NormalizedUser, RoleRef, UserState};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use store::{Directory, DirectoryChangeKind, DirectoryId, IdentityProvider, ResourceRecord, Tenant, TenantId};

use super::ids;

/// A tenant, as an organization.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Organization {
    pub object: &'static str,
    pub id: String,
    pub name: String,
    pub allow_profiles_outside_organization: bool,
    /// Tenants have no verified domains; the SDKs need the array.
    pub domains: Vec<Value>,
    /// The tenant's slug: the vendor's own name for the customer.
    pub external_id: String,
    pub metadata: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
}

impl Organization {
    pub fn of(tenant: &Tenant) -> Self {
        Self {
            object: "organization",
            id: ids::organization_id(tenant.id),
            name: tenant.display_name.clone(),
            allow_profiles_outside_organization: false,
            domains: Vec::new(),
            external_id: tenant.slug.as_str().to_owned(),
            metadata: Map::new(),
            created_at: timestamp(tenant.created_at),
            updated_at: timestamp(tenant.created_at),
        }
    }
}

/// A directory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncDirectory {
    pub object: &'static str,
    pub id: String,
    pub organization_id: String,
    pub external_key: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `linked` once its setup is complete, `unlinked` before (the SDKs show these as
    /// `active` and `inactive`).
    pub state: &'static str,
    pub name: String,
    pub metadata: DirectoryMetadata,
    pub created_at: String,
    pub updated_at: String,
}

/// How many users and groups a directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DirectoryMetadata {
    pub users: UserCounts,
    pub groups: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UserCounts {
    pub active: i64,
    pub inactive: i64,
}

impl SyncDirectory {
    pub fn of(tenant: TenantId, directory: &Directory, linked: bool, metadata: DirectoryMetadata) -> Self {
        Self {
            object: "directory",
            id: ids::directory_id(directory.id),
            organization_id: ids::organization_id(tenant),
            external_key: directory.id.to_string(),
            kind: directory_type(directory.idp),
            state: if linked { "linked" } else { "unlinked" },
            name: directory.display_name.clone(),
            metadata,
            created_at: timestamp(directory.created_at),
            updated_at: timestamp(directory.created_at),
        }
    }
}

/// A directory as Directory Sync's own events carry it, `at` being when the event happened:
/// `dsync.activated` with state `active` (the SDKs do not map `linked` in events) and
/// `dsync.deleted` with state `deleting` and without `domains` and `external_key`, as the
/// SDKs' `DsyncDeletedEvent` has it.
pub fn event_directory(tenant: TenantId, directory: &Directory, kind: DirectoryChangeKind, at: DateTime<Utc>) -> Value {
    let mut object = json!({
        "object": "directory",
        "id": ids::directory_id(directory.id),
        "type": directory_type(directory.idp),
        "name": directory.display_name,
        "organization_id": ids::organization_id(tenant),
        "created_at": timestamp(directory.created_at),
        "updated_at": timestamp(at),
    });
    match kind {
        DirectoryChangeKind::Activated => {
            object["state"] = json!("active");
            object["external_key"] = json!(directory.id.to_string());
            object["domains"] = json!([]);
        }
        DirectoryChangeKind::Deleted => object["state"] = json!("deleting"),
    }
    object
}

/// WorkOS's name of a directory's provider.
fn directory_type(idp: IdentityProvider) -> &'static str {
    match idp {
        IdentityProvider::Okta => "okta scim v2.0",
        IdentityProvider::Entra => "azure scim v2.0",
        IdentityProvider::Google => "gsuite directory",
        IdentityProvider::OneLogin => "onelogin scim v2.0",
        IdentityProvider::JumpCloud => "jump cloud scim v2.0",
        IdentityProvider::Ping => "pingfederate scim v2.0",
        IdentityProvider::Rippling => "rippling scim v2.0",
        IdentityProvider::Generic => "generic scim v2.0",
    }
}

/// A user with the tenant's mapping applied. `groups` is present on the deployment-wide
/// user routes (`/directory_users`), absent on a directory's own (`/directories/{id}/users`),
/// as WorkOS answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectoryUser {
    pub object: &'static str,
    pub id: String,
    pub directory_id: String,
    pub organization_id: String,
    pub idp_id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The display name, else the first and last name.
    pub name: Option<String>,
    pub state: UserState,
    pub username: Option<String>,
    pub emails: Vec<NormalizedEmail>,
    pub job_title: Option<String>,
    pub custom_attributes: Map<String, Value>,
    /// The first of `roles` by precedence (`null` when the user has none).
    pub role: Option<RoleRef>,
    /// The roles the user's groups grant, or the default role (see `roles`).
    pub roles: Vec<RoleRef>,
    /// The user as stored, with the identity provider's attribute names.
    pub raw_attributes: RawAttributes,
    /// Since when and why the tenant's admin suspended the user (`state` is then
    /// `suspended`); absent otherwise. Not a WorkOS field: its SDK ignores it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspension: Option<scim::normalized::Suspension>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<DirectoryGroup>>,
    pub created_at: String,
    pub updated_at: String,
}

impl DirectoryUser {
    pub fn of(tenant: TenantId, directory: &Directory, record: &ResourceRecord, normalized: NormalizedUser) -> Self {
        let times = (record.created_at, record.last_modified);
        Self::from_parts(tenant, directory.id, &record.id, record.doc.clone(), normalized, times)
    }

    /// A user from its stored document `raw` and its normalized view, `times` being when it
    /// was created and last changed.
    pub fn from_parts(
        tenant: TenantId,
        directory: DirectoryId,
        id: &str,
        raw: impl Into<RawAttributes>,
        normalized: NormalizedUser,
        times: (DateTime<Utc>, DateTime<Utc>),
    ) -> Self {
        let raw = raw.into();
        let display = raw.display_name();
        let joined = [normalized.first_name.as_deref(), normalized.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            object: "directory_user",
            id: ids::user_id(directory, id),
            directory_id: ids::directory_id(directory),
            organization_id: ids::organization_id(tenant),
            idp_id: normalized.idp_id,
            email: normalized.email,
            first_name: normalized.first_name,
            last_name: normalized.last_name,
            name: display.or_else(|| (!joined.is_empty()).then_some(joined)),
            state: normalized.state,
            suspension: normalized.suspension,
            username: normalized.username,
            emails: normalized.emails,
            job_title: normalized.job_title,
            custom_attributes: normalized.custom_attributes,
            role: normalized.role,
            roles: normalized.roles,
            raw_attributes: raw,
            groups: None,
            created_at: timestamp(times.0),
            updated_at: timestamp(times.1),
        }
    }
}

/// A resource as stored: parsed, or the stored JSON text handed on as it is (the events
/// API, which has no reason to look inside).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RawAttributes {
    Parsed(Value),
    Stored(Box<RawValue>),
}

impl RawAttributes {
    /// `displayName`, a string at the top level.
    fn display_name(&self) -> Option<String> {
        match self {
            RawAttributes::Parsed(raw) => raw.get("displayName").and_then(Value::as_str).map(str::to_owned),
            RawAttributes::Stored(raw) => {
                #[derive(serde::Deserialize)]
                struct Named {
                    #[serde(rename = "displayName")]
                    display_name: Option<Value>,
                }
                let named: Option<Named> = serde_json::from_str(raw.get()).ok();
                named.and_then(|named| named.display_name?.as_str().map(str::to_owned))
            }
        }
    }
}

impl From<Value> for RawAttributes {
    fn from(raw: Value) -> Self {
        RawAttributes::Parsed(raw)
    }
}

impl From<Box<RawValue>> for RawAttributes {
    fn from(raw: Box<RawValue>) -> Self {
        RawAttributes::Stored(raw)
    }
}

/// The same JSON, whichever way it is held.
impl PartialEq for RawAttributes {
    fn eq(&self, other: &Self) -> bool {
        let parsed = |raw: &Self| match raw {
            RawAttributes::Parsed(value) => Some(value.clone()),
            RawAttributes::Stored(text) => serde_json::from_str(text.get()).ok(),
        };
        parsed(self) == parsed(other)
    }
}

/// A group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectoryGroup {
    pub object: &'static str,
    pub id: String,
    pub idp_id: String,
    pub directory_id: String,
    pub organization_id: String,
    pub name: String,
    pub raw_attributes: RawAttributes,
    pub created_at: String,
    pub updated_at: String,
}

impl DirectoryGroup {
    pub fn of(tenant: TenantId, directory: &Directory, record: &ResourceRecord, normalized: NormalizedGroup) -> Self {
        let times = (record.created_at, record.last_modified);
        Self::from_parts(tenant, directory.id, &record.id, record.doc.clone(), normalized, times)
    }

    /// A group from its stored document `raw` and its normalized view.
    pub fn from_parts(
        tenant: TenantId,
        directory: DirectoryId,
        id: &str,
        raw: impl Into<RawAttributes>,
        normalized: NormalizedGroup,
        times: (DateTime<Utc>, DateTime<Utc>),
    ) -> Self {
        Self {
            object: "directory_group",
            id: ids::group_id(directory, id),
            idp_id: normalized.idp_id,
            directory_id: ids::directory_id(directory),
            organization_id: ids::organization_id(tenant),
            name: normalized.name,
            raw_attributes: raw.into(),
            created_at: timestamp(times.0),
            updated_at: timestamp(times.1),
        }
    }
}

/// ISO 8601 in UTC with milliseconds, as the SDKs parse with `new Date(…)`.
pub(super) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
