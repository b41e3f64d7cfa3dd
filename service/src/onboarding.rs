//! The onboarding wizard's use cases: a tenant admin connects an identity provider in six
//! steps (choose the IdP, set up the endpoint, exchange a token, map attributes, grant the
//! operator's roles to groups, test the sync). Progress is kept per directory, so the
//! wizard resumes where it was left.
//!
//! Every function takes the admin's tenant and looks the directory up inside it: a
//! directory of another tenant is simply not found.

mod connection;
mod stored_preview;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::{
    Directory, DirectoryId, DirectoryRequest, DirectorySettings, IdentityProvider, SetupCompletion, SetupState, Store,
    SyncHealth, TenantId,
};

use crate::actor::Actor;
use crate::{Effects, ServiceError};

pub use connection::{CONNECTION_WINDOW, Connection, READ_ONLY_TOKEN, REFUSED_TOKEN, current_connection};
pub use store::{AuditOutcome as RequestOutcome, DirectoryRequest as RequestRecord, TokenRecord};
pub use stored_preview::{
    LACKING_LISTED, LackingUser, PREVIEWED_USERS, PreviewedUser, StoredUsersPreview, stored_users_preview,
};

/// The wizard's steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Provider = 1,
    Endpoint = 2,
    Token = 3,
    Mapping = 4,
    /// Skipped when the operator defined no roles (see [`Step::after_mapping`]).
    Roles = 5,
    Test = 6,
}

impl Step {
    pub const ALL: [Step; 6] = [Step::Provider, Step::Endpoint, Step::Token, Step::Mapping, Step::Roles, Step::Test];

    /// The step's name in addresses (`/setup/<slug>`).
    pub fn slug(self) -> &'static str {
        match self {
            Step::Provider => "provider",
            Step::Endpoint => "endpoint",
            Step::Token => "token",
            Step::Mapping => "mapping",
            Step::Roles => "roles",
            Step::Test => "test",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.slug() == slug)
    }

    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Provider => "Choose your identity provider",
            Step::Endpoint => "Endpoint setup",
            Step::Token => "Token exchange",
            Step::Mapping => "Attribute mapping",
            Step::Roles => "Roles",
            Step::Test => "Test sync",
        }
    }

    /// The step after the mapping: the roles, unless the operator defined none (there is
    /// nothing to grant then).
    pub async fn after_mapping(store: &Store) -> Result<Step, ServiceError> {
        Ok(if store.roles().await?.is_empty() { Step::Test } else { Step::Roles })
    }
}

/// A directory as the wizard and dashboard see it.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectorySetup {
    pub directory: Directory,
    pub state: SetupState,
}

/// Why a wizard action failed.
#[derive(Debug, thiserror::Error)]
pub enum OnboardingError {
    /// No such directory in the admin's tenant (also for another tenant's directory).
    #[error("there is no such directory in your organisation")]
    NotFound,
    #[error("{0}")]
    InvalidMapping(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for OnboardingError {
    fn from(error: store::StoreError) -> Self {
        OnboardingError::Service(error.into())
    }
}

/// Step 1: makes a directory for `idp` in the admin's tenant (see
/// [`crate::directories::add_directory`], `limit` directories at most); its token comes at
/// step 3.
pub async fn start_directory(
    store: &Store,
    tenant: TenantId,
    idp: IdentityProvider,
    limit: u32,
    actor: &Actor,
    effects: &Effects,
) -> Result<Directory, crate::directories::AddDirectoryError> {
    let new = crate::directories::NewDirectory { idp, settings: DirectorySettings::default(), first_token: None };
    let (directory, _) = crate::directories::add_directory(store, tenant, new, Some(limit), actor, effects).await?;
    Ok(directory)
}

/// Step 1 again: the admin picked another identity provider for the same directory.
pub async fn change_identity_provider(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    idp: IdentityProvider,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), OnboardingError> {
    let mut action = store.tenant(tenant).begin_action().await?;
    if !action.set_directory_idp(directory, idp).await? {
        return Err(OnboardingError::NotFound);
    }
    let detail = json!({ "idp": idp.as_str() });
    action.commit(actor.record("directory.idp_changed", Some(directory), detail, now)).await?;
    Ok(())
}

/// A directory of the tenant with its wizard progress.
pub async fn directory_setup(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<DirectorySetup, OnboardingError> {
    let scope = store.tenant(tenant);
    let found = scope.directory(directory).await?.ok_or(OnboardingError::NotFound)?;
    let state = scope.setup_state(directory).await?.ok_or(OnboardingError::NotFound)?;
    Ok(DirectorySetup { directory: found, state })
}

/// Every directory of the tenant with its wizard progress, oldest first.
pub async fn directory_setups(store: &Store, tenant: TenantId) -> Result<Vec<DirectorySetup>, ServiceError> {
    let scope = store.tenant(tenant);
    let mut setups = Vec::new();
    for directory in scope.directories().await? {
        if let Some(state) = scope.setup_state(directory.id).await? {
            setups.push(DirectorySetup { directory, state });
        }
    }
    Ok(setups)
}

/// Records that the admin reached `step` of a directory's wizard.
pub async fn reach_step(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    step: Step,
) -> Result<(), OnboardingError> {
    if store.tenant(tenant).reach_setup_step(directory, step.number()).await? {
        Ok(())
    } else {
        Err(OnboardingError::NotFound)
    }
}

/// The tokens an admin issued for the directory, newest first.
pub async fn tokens(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<Vec<TokenRecord>, OnboardingError> {
    directory_setup(store, tenant, directory).await?;
    Ok(store.tenant(tenant).directory_tokens(directory).await?)
}

/// Where a token stands: usable (`Active`, or `Expiring` within [`EXPIRING_WITHIN`]) or
/// not any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Active,
    Expiring,
    Expired,
    Revoked,
}

/// A token this close to its expiry is flagged, so that the admin rotates it in time.
pub const EXPIRING_WITHIN: Duration = Duration::days(7);

impl TokenState {
    /// `token`'s state at `now`.
    pub fn of(token: &TokenRecord, now: DateTime<Utc>) -> Self {
        match token.expires_at {
            _ if token.revoked_at.is_some() => TokenState::Revoked,
            Some(at) if at <= now => TokenState::Expired,
            Some(at) if at - now <= EXPIRING_WITHIN => TokenState::Expiring,
            _ => TokenState::Active,
        }
    }

    /// `active`, `expiring`, `expired` or `revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenState::Active => "active",
            TokenState::Expiring => "expiring",
            TokenState::Expired => "expired",
            TokenState::Revoked => "revoked",
        }
    }
}

/// What went wrong with a failed request, in plain words, and what to do; `None` for a
/// request that succeeded.
pub fn failure_cause(request: &RequestRecord) -> Option<String> {
    if request.outcome == RequestOutcome::Success {
        return None;
    }
    // The detail is the JSON the trail kept; an unreadable one still gets the status's hint.
    let detail: Value = serde_json::from_str(&request.detail).unwrap_or_default();
    Some(crate::support::explain(request.status, &detail))
}

/// The newest SCIM requests of a directory (newest first), after `after_seq`.
pub async fn recent_requests(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<DirectoryRequest>, OnboardingError> {
    directory_setup(store, tenant, directory).await?;
    Ok(store.tenant(tenant).directory_requests(directory, after_seq, limit.clamp(1, 200)).await?)
}

/// Requests and failures over the last day, and the time of the last request.
pub async fn sync_health(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    now: DateTime<Utc>,
) -> Result<SyncHealth, OnboardingError> {
    directory_setup(store, tenant, directory).await?;
    Ok(store.tenant(tenant).directory_sync_health(directory, now - Duration::days(1)).await?)
}

/// Requests and failures of one stretch of time (an hour or a day) on the dashboard's chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RequestBar {
    /// The stretch's start.
    pub from: DateTime<Utc>,
    pub requests: i64,
    pub failures: i64,
}

/// The directory's requests and failures in `bars` stretches of `width` up to `now`,
/// oldest first (empty stretches included).
pub async fn request_chart(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    now: DateTime<Utc>,
    width: Duration,
    bars: i32,
) -> Result<Vec<RequestBar>, OnboardingError> {
    directory_setup(store, tenant, directory).await?;
    let since = now - width * bars;
    let mut chart: Vec<RequestBar> =
        (0..bars).map(|bar| RequestBar { from: since + width * bar, ..RequestBar::default() }).collect();
    let buckets = store.tenant(tenant).directory_request_buckets(directory, since, width.num_seconds()).await?;
    for (bucket, requests, failures) in buckets {
        // Buckets count whole seconds from `since`: a request in the current second lands
        // one past the last bar, and belongs in it.
        let last = chart.len().saturating_sub(1);
        if let Some(bar) = usize::try_from(bucket).ok().and_then(|index| chart.get_mut(index.min(last))) {
            bar.requests += requests;
            bar.failures += failures;
        }
    }
    Ok(chart)
}

/// Step 5 with a real identity provider: once it has created a resource successfully with
/// one of the admin's tokens (not the self-test's), setup is complete. Returns whether it is.
pub async fn complete_if_provisioned(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    now: DateTime<Utc>,
) -> Result<bool, OnboardingError> {
    let setup = directory_setup(store, tenant, directory).await?;
    if setup.state.completed.is_some() {
        return Ok(true);
    }
    let self_test_tokens: Vec<String> = store
        .tenant(tenant)
        .directory_tokens(directory)
        .await?
        .into_iter()
        .filter(|token| token.label == crate::self_test::TOKEN_LABEL)
        .map(|token| format!("token:{}", token.id))
        .collect();
    let requests = store.tenant(tenant).directory_requests(directory, 0, 200).await?;
    let provisioned = requests
        .iter()
        .any(|request| request.method == "POST" && request.status == 201 && !self_test_tokens.contains(&request.actor));
    if provisioned {
        let mut action = store.tenant(tenant).begin_action().await?;
        let by = SetupCompletion::IdentityProvider;
        crate::directory_lifecycle::complete_setup(&mut action, tenant, &setup.directory, by, &Actor::System, now)
            .await?;
        let detail = json!({ "completed_by": "idp" });
        action.commit(Actor::System.record("directory.setup_completed", Some(directory), detail, now)).await?;
    }
    Ok(provisioned)
}

/// One row of an attribute mapping: which attribute of the identity provider fills which
/// attribute of the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRow {
    /// The SCIM attribute path as stored (`userName`, `name.givenName`,
    /// `emails[type eq "work"].value`, `urn:…:enterprise:2.0:User:department`).
    pub attribute: String,
    /// What people call it.
    pub label: String,
    pub required: bool,
    /// The identity provider's attribute (in its own naming); empty: not mapped.
    pub source: String,
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The app's user attributes the wizard maps: (path, label, required).
fn core_attributes() -> Vec<(String, &'static str, bool)> {
    [
        ("userName", "User name", true),
        ("externalId", "External id", false),
        ("name.givenName", "First name", false),
        ("name.familyName", "Last name", false),
        ("displayName", "Display name", false),
        ("emails[type eq \"work\"].value", "Work email", false),
        ("title", "Job title", false),
        ("phoneNumbers[type eq \"mobile\"].value", "Mobile phone", false),
        ("active", "Active", false),
    ]
    .into_iter()
    .map(|(path, label, required)| (path.to_owned(), label, required))
    .chain(
        [("department", "Department"), ("employeeNumber", "Employee number"), ("manager", "Manager")]
            .into_iter()
            .map(|(name, label)| (format!("{ENTERPRISE}:{name}"), label, false)),
    )
    .collect()
}

/// What `idp` calls each core attribute by default, from its SCIM provisioning docs.
fn default_source(idp: IdentityProvider, attribute: &str) -> &'static str {
    use IdentityProvider::*;
    let short = attribute.rsplit(':').next().unwrap_or(attribute);
    let key = if attribute.starts_with(ENTERPRISE) { short } else { attribute };
    match (idp, key) {
        // Okta: expression-language names of its user profile (Profile Editor).
        (Okta, "userName") => "user.login",
        (Okta, "externalId") => "user.id",
        (Okta, "name.givenName") => "user.firstName",
        (Okta, "name.familyName") => "user.lastName",
        (Okta, "displayName") => "user.displayName",
        (Okta, "emails[type eq \"work\"].value") => "user.email",
        (Okta, "title") => "user.title",
        (Okta, "phoneNumbers[type eq \"mobile\"].value") => "user.mobilePhone",
        (Okta, "active") => "user.status",
        (Okta, "department") => "user.department",
        (Okta, "employeeNumber") => "user.employeeNumber",
        (Okta, "manager") => "user.managerId",
        // Entra ID: the source attributes of its default "Provision Microsoft Entra ID Users" mapping.
        (Entra, "userName") => "userPrincipalName",
        (Entra, "externalId") => "mailNickname",
        (Entra, "name.givenName") => "givenName",
        (Entra, "name.familyName") => "surname",
        (Entra, "displayName") => "displayName",
        (Entra, "emails[type eq \"work\"].value") => "mail",
        (Entra, "title") => "jobTitle",
        (Entra, "phoneNumbers[type eq \"mobile\"].value") => "mobile",
        (Entra, "active") => "Switch([IsSoftDeleted], , \"False\", \"True\", \"True\", \"False\")",
        (Entra, "department") => "department",
        (Entra, "employeeNumber") => "employeeId",
        (Entra, "manager") => "manager",
        // Google Workspace: Directory API user fields.
        (Google, "userName") => "primaryEmail",
        (Google, "externalId") => "id",
        (Google, "name.givenName") => "name.givenName",
        (Google, "name.familyName") => "name.familyName",
        (Google, "displayName") => "name.fullName",
        (Google, "emails[type eq \"work\"].value") => "primaryEmail",
        (Google, "title") => "organizations.title",
        (Google, "phoneNumbers[type eq \"mobile\"].value") => "phones[mobile]",
        (Google, "active") => "suspended (inverted)",
        (Google, "department") => "organizations.department",
        (Google, "employeeNumber") => "externalIds[organization]",
        (Google, "manager") => "relations[manager]",
        // OneLogin: user fields in its SCIM app's parameter editor.
        (OneLogin, "userName") => "Username",
        (OneLogin, "externalId") => "OneLogin ID",
        (OneLogin, "name.givenName") => "First Name",
        (OneLogin, "name.familyName") => "Last Name",
        (OneLogin, "displayName") => "Name",
        (OneLogin, "emails[type eq \"work\"].value") => "Email",
        (OneLogin, "title") => "Title",
        (OneLogin, "phoneNumbers[type eq \"mobile\"].value") => "Phone",
        (OneLogin, "active") => "Status",
        (OneLogin, "department") => "Department",
        (OneLogin, "employeeNumber") => "Employee ID",
        (OneLogin, "manager") => "Manager",
        // JumpCloud: system user fields.
        (JumpCloud, "userName") => "email",
        (JumpCloud, "externalId") => "id",
        (JumpCloud, "name.givenName") => "firstname",
        (JumpCloud, "name.familyName") => "lastname",
        (JumpCloud, "displayName") => "displayname",
        (JumpCloud, "emails[type eq \"work\"].value") => "email",
        (JumpCloud, "title") => "jobTitle",
        (JumpCloud, "phoneNumbers[type eq \"mobile\"].value") => "phoneNumbers.mobile",
        (JumpCloud, "active") => "suspended (inverted)",
        (JumpCloud, "department") => "department",
        (JumpCloud, "employeeNumber") => "employeeIdentifier",
        (JumpCloud, "manager") => "manager",
        // PingFederate: LDAP attributes of its outbound provisioning channel.
        (Ping, "userName") => "uid",
        (Ping, "externalId") => "entryUUID",
        (Ping, "name.givenName") => "givenName",
        (Ping, "name.familyName") => "sn",
        (Ping, "displayName") => "cn",
        (Ping, "emails[type eq \"work\"].value") => "mail",
        (Ping, "title") => "title",
        (Ping, "phoneNumbers[type eq \"mobile\"].value") => "mobile",
        (Ping, "active") => "accountEnabled",
        (Ping, "department") => "departmentNumber",
        (Ping, "employeeNumber") => "employeeNumber",
        (Ping, "manager") => "manager",
        // Rippling: employee fields of its SCIM app.
        (Rippling, "userName") => "work_email",
        (Rippling, "externalId") => "id",
        (Rippling, "name.givenName") => "first_name",
        (Rippling, "name.familyName") => "last_name",
        (Rippling, "displayName") => "preferred_name",
        (Rippling, "emails[type eq \"work\"].value") => "work_email",
        (Rippling, "title") => "title",
        (Rippling, "phoneNumbers[type eq \"mobile\"].value") => "phone_number",
        (Rippling, "active") => "employment_status",
        (Rippling, "department") => "department",
        (Rippling, "employeeNumber") => "employee_number",
        (Rippling, "manager") => "manager",
        // Generic SCIM clients send SCIM attributes under their own names.
        (Generic, _) => "",
        _ => "",
    }
}

/// The default mapping for `idp`, plus one row per attribute of the directory's custom
/// user extensions (unmapped until the admin names the source).
pub fn default_mapping(idp: IdentityProvider, extensions: &[store::SchemaExtension]) -> Vec<MappingRow> {
    let mut rows: Vec<MappingRow> = core_attributes()
        .into_iter()
        .map(|(attribute, label, required)| {
            let source = match default_source(idp, &attribute) {
                "" => attribute.clone(),
                named => named.to_owned(),
            };
            MappingRow { label: label.to_owned(), required, source, attribute }
        })
        .collect();
    for extension in extensions.iter().filter(|e| e.resource_type == store::ResourceKind::User) {
        let attributes = extension.definition.get("attributes").and_then(Value::as_array).cloned().unwrap_or_default();
        for attribute in attributes {
            let Some(name) = attribute.get("name").and_then(Value::as_str) else { continue };
            let required = extension.required && attribute.get("required").and_then(Value::as_bool).unwrap_or(false);
            rows.push(MappingRow {
                attribute: format!("{}:{name}", extension.urn),
                label: name.to_owned(),
                required,
                source: String::new(),
            });
        }
    }
    rows
}

/// The mapping the wizard shows: the confirmed one, or the IdP's defaults. Rows of the
/// defaults missing from a confirmed mapping (a custom attribute defined since) are added.
pub async fn mapping(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<(Vec<MappingRow>, bool), OnboardingError> {
    let setup = directory_setup(store, tenant, directory).await?;
    let extensions = store.tenant(tenant).schema_extensions(directory).await?;
    let defaults = default_mapping(setup.directory.idp, &extensions);
    let Some(stored) = setup.state.attribute_mapping else { return Ok((defaults, false)) };
    let mut confirmed: Vec<MappingRow> = serde_json::from_value(stored)
        .map_err(|error| ServiceError::Internal(format!("stored mapping of {directory}: {error}")))?;
    for row in defaults {
        if !confirmed.iter().any(|kept| kept.attribute == row.attribute) {
            confirmed.push(row);
        }
    }
    Ok((confirmed, true))
}

/// Checks a mapping: every attribute the app knows appears once, sources are short single
/// lines, and required attributes have a source.
pub fn check_mapping(rows: &[MappingRow], known: &[MappingRow]) -> Result<(), OnboardingError> {
    for row in rows {
        if !known.iter().any(|k| k.attribute == row.attribute) {
            return Err(OnboardingError::InvalidMapping(format!("{} is not an attribute of this app", row.attribute)));
        }
        if row.source.chars().count() > 200 || row.source.contains(['\n', '\r']) {
            return Err(OnboardingError::InvalidMapping(format!(
                "the source of {} must be one line of at most 200 characters",
                row.label
            )));
        }
    }
    for required in known.iter().filter(|k| k.required) {
        let mapped =
            rows.iter().find(|r| r.attribute == required.attribute).is_some_and(|r| !r.source.trim().is_empty());
        if !mapped {
            return Err(OnboardingError::InvalidMapping(format!(
                "{} is required: name the identity provider's attribute that fills it",
                required.label
            )));
        }
    }
    Ok(())
}

/// Step 4: stores the admin's mapping after checking it.
pub async fn save_mapping(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    rows: Vec<MappingRow>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), OnboardingError> {
    let setup = directory_setup(store, tenant, directory).await?;
    let extensions = store.tenant(tenant).schema_extensions(directory).await?;
    let known = default_mapping(setup.directory.idp, &extensions);
    check_mapping(&rows, &known)?;
    let rows: Vec<MappingRow> = rows
        .into_iter()
        .map(|row| {
            let label =
                known.iter().find(|k| k.attribute == row.attribute).map(|k| k.label.clone()).unwrap_or_default();
            let required = known.iter().any(|k| k.attribute == row.attribute && k.required);
            MappingRow { label, required, source: row.source.trim().to_owned(), attribute: row.attribute }
        })
        .collect();
    let value = serde_json::to_value(&rows).map_err(|error| ServiceError::Internal(error.to_string()))?;
    let next = Step::after_mapping(store).await?;
    let mut action = store.tenant(tenant).begin_action().await?;
    action.set_attribute_mapping(directory, &value).await?;
    // Every stored user is shaped by the mapping: re-derive them in the background.
    action.request_republish(directory, "attribute mapping", now).await?;
    action.reach_setup_step(directory, next.number()).await?;
    action.commit(actor.record("directory.mapping_saved", Some(directory), json!({ "mapping": value }), now)).await?;
    Ok(())
}

/// The sample person the preview shows, by the identity provider's attribute names: each
/// mapped source gets a value that reads like what that attribute holds.
fn sample_value(attribute: &str, source: &str) -> Value {
    let short = attribute.rsplit(':').next().unwrap_or(attribute);
    match short {
        "userName" | "emails[type eq \"work\"].value" => json!("ada.lovelace@example.com"),
        "externalId" => json!("00u1a2b3c4d5e6f7g8h9"),
        "name.givenName" => json!("Ada"),
        "name.familyName" => json!("Lovelace"),
        "displayName" => json!("Ada Lovelace"),
        "title" => json!("Chief Analyst"),
        "phoneNumbers[type eq \"mobile\"].value" => json!("+44 20 7946 0018"),
        "active" => json!(true),
        "department" => json!("Engineering"),
        "employeeNumber" => json!("1815"),
        "manager" => json!({ "value": "00u0charlesbabbage" }),
        _ => json!(format!("(value of {source})")),
    }
}

/// A sample user as it will be stored with this mapping: each mapped attribute set from
/// the sample person, unmapped ones left out.
pub fn preview(rows: &[MappingRow]) -> Value {
    let mut user = Map::new();
    let mut schemas = vec![json!("urn:ietf:params:scim:schemas:core:2.0:User")];
    for row in rows.iter().filter(|row| !row.source.trim().is_empty()) {
        let value = sample_value(&row.attribute, row.source.trim());
        let (target, path) = match row.attribute.rsplit_once(':') {
            Some((urn, name)) if row.attribute.starts_with("urn:") => {
                if !schemas.contains(&json!(urn)) {
                    schemas.push(json!(urn));
                }
                let extension = user.entry(urn.to_owned()).or_insert_with(|| json!({}));
                (extension.as_object_mut(), name.to_owned())
            }
            _ => (Some(&mut user), row.attribute.clone()),
        };
        if let Some(target) = target {
            set_path(target, &path, value);
        }
    }
    user.insert("schemas".to_owned(), Value::Array(schemas));
    Value::Object(user)
}

/// Sets `name`, `parent.sub` or `multi[type eq "t"].sub` in `target`.
fn set_path(target: &mut Map<String, Value>, path: &str, value: Value) {
    if let Some((multi, rest)) = path.split_once('[') {
        let kind = rest.split('"').nth(1).unwrap_or_default();
        let sub = rest.rsplit_once("].").map_or("value", |(_, sub)| sub);
        let list = target.entry(multi.to_owned()).or_insert_with(|| json!([]));
        if let Some(items) = list.as_array_mut() {
            items.push(json!({ "type": kind, sub: value, "primary": items.is_empty() }));
        }
    } else if let Some((parent, sub)) = path.split_once('.') {
        let object = target.entry(parent.to_owned()).or_insert_with(|| json!({}));
        if let Some(object) = object.as_object_mut() {
            object.insert(sub.to_owned(), value);
        }
    } else {
        target.insert(path.to_owned(), value);
    }
}

/// Attributes the identity provider has sent that no schema of the directory defines
/// (kept, never dropped: see the unknown-attribute policy), found in its newest users.
pub async fn unmapped_attributes(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<Vec<String>, OnboardingError> {
    directory_setup(store, tenant, directory).await?;
    // The query is fixed: a protocol error here is a bug, not the admin's doing.
    crate::provisioning::unmapped_attributes(store, tenant, directory, 500)
        .await
        .map_err(|error| OnboardingError::Service(error.into_service_error("listing users for the mapping step")))
}

#[cfg(test)]
mod tests {
    use store::testing::FreshId as _;

    use super::*;

    #[test]
    fn a_token_is_expiring_within_seven_days_of_its_expiry_and_revoked_first() {
        let now = DateTime::<Utc>::MIN_UTC + Duration::days(365);
        let token = |expires_at: Option<DateTime<Utc>>, revoked_at: Option<DateTime<Utc>>| TokenRecord {
            id: store::TokenId::fresh(),
            directory: DirectoryId::fresh(),
            label: "Okta".to_owned(),
            read_only: false,
            created_at: now,
            expires_at,
            revoked_at,
            last_used_at: None,
        };
        assert_eq!(TokenState::of(&token(None, None), now), TokenState::Active);
        assert_eq!(TokenState::of(&token(Some(now + Duration::days(8)), None), now), TokenState::Active);
        assert_eq!(TokenState::of(&token(Some(now + Duration::days(7)), None), now), TokenState::Expiring);
        assert_eq!(TokenState::of(&token(Some(now), None), now), TokenState::Expired);
        assert_eq!(TokenState::of(&token(Some(now), Some(now)), now), TokenState::Revoked);
    }

    #[test]
    fn every_identity_provider_maps_the_required_user_name() {
        for idp in IdentityProvider::ALL {
            let rows = default_mapping(idp, &[]);
            assert_eq!(check_mapping(&rows, &rows).map_err(|e| e.to_string()), Ok(()), "{idp:?}");
            let user_name = rows.iter().find(|r| r.attribute == "userName").unwrap();
            assert!(user_name.required);
            assert!(!user_name.source.is_empty());
        }
        assert_eq!(default_mapping(IdentityProvider::Okta, &[])[0].source, "user.login");
        assert_eq!(default_mapping(IdentityProvider::Entra, &[])[0].source, "userPrincipalName");
    }

    #[test]
    fn a_mapping_without_a_source_for_a_required_attribute_is_refused_by_name() {
        let known = default_mapping(IdentityProvider::Okta, &[]);
        let mut rows = known.clone();
        rows[0].source = "  ".to_owned();
        let error = check_mapping(&rows, &known).unwrap_err().to_string();
        assert_eq!(error, "User name is required: name the identity provider's attribute that fills it");
        let mut foreign = known.clone();
        foreign[1].attribute = "shoeSize".to_owned();
        assert_eq!(
            check_mapping(&foreign, &known).unwrap_err().to_string(),
            "shoeSize is not an attribute of this app"
        );
    }

    #[test]
    fn the_preview_stores_mapped_attributes_where_scim_puts_them() {
        let mut rows = default_mapping(IdentityProvider::Entra, &[]);
        rows.retain(|row| row.attribute != "title");
        let user = preview(&rows);
        assert_eq!(user["userName"], "ada.lovelace@example.com");
        assert_eq!(user["name"]["givenName"], "Ada");
        assert_eq!(user["emails"], json!([{ "type": "work", "value": "ada.lovelace@example.com", "primary": true }]));
        assert_eq!(user[ENTERPRISE]["department"], "Engineering");
        assert_eq!(user["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]));
        assert!(user.get("title").is_none(), "an unmapped attribute was previewed");
    }
}
