//! The SCIM service of one directory (RFC 7644): discovery, and the users and groups an
//! identity provider provisions. The HTTP layer authenticates the caller, opens an
//! [`Endpoint`] and calls one method per request; everything the protocol decides
//! (validation, PATCH, filters, projection, versions) happens here or in the `scim` crate.
//! Every write returns what it changed with its result ([`Written`]), for the request's
//! audit record.

mod bulk;
mod expiry;
pub use expiry::OwnerPolicyOutcome;
mod list;
mod patch;
mod records;
mod representation;
mod republish;
mod request;
mod stale;
mod suspension;
pub use stale::StaleDeactivation;
mod views;
mod write_summary;
mod writes;

pub use republish::REPUBLISH_ACTOR;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Utc};
use scim::discovery::{AuthenticationScheme, ServiceProviderConfig};
use scim::error::ScimError;
use scim::schema::SchemaRegistry;
use serde_json::{Value, json};
use store::{Directory, DirectoryId, ResourceKind, SchemaExtension, Store, StoreError};

use crate::directories::Caller;
use crate::{Effects, ServiceError};

pub use records::RecordPage;
pub use request::{ListQuery, Precondition, Projection};
pub use write_summary::{WriteSummary, Written};

/// The most resources one list response holds (advertised as `filter.maxResults`); a
/// larger `count` is clamped to it (RFC 7644 §3.4.2.4).
pub const MAX_PAGE_SIZE: usize = 1000;
/// The page size when the client gives no `count`.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Bulk limits, advertised in the ServiceProviderConfig and enforced.
pub const BULK_MAX_PAYLOAD_BYTES: usize = 4 * 1024 * 1024;

/// The most operations one Bulk request may hold (advertised as `bulk.maxOperations`). A
/// Bulk request is one transaction, there whole or not at all even when the process dies.
/// SQLite has one writer for every tenant of the deployment, so the request's size bounds
/// how long the others' writes wait: 1,000 creations held it ~250 ms on the issue's
/// reference machine (another tenant's slowest create 268 ms), 250 hold it about a quarter
/// of that. PostgreSQL locks rows, not the database: other tenants do not wait.
pub fn bulk_max_operations(backend: store::Backend) -> usize {
    match backend {
        store::Backend::Sqlite => 250,
        store::Backend::Postgres => 1000,
    }
}

const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The built-in schemas (User, Group, EnterpriseUser, the non-human identity extension),
/// shared by every directory without custom extensions.
static REGISTRY: LazyLock<Arc<SchemaRegistry>> = LazyLock::new(|| Arc::new(SchemaRegistry::new()));
/// The same without the non-human identity extension, for the directories that turned it
/// off.
static REGISTRY_WITHOUT_NONHUMAN: LazyLock<Arc<SchemaRegistry>> =
    LazyLock::new(|| Arc::new(SchemaRegistry::without_nonhuman()));

/// The built-in schemas plus `extensions`, defined in order (each checked against the
/// schemas before it).
fn build_registry(nonhuman: bool, extensions: &[SchemaExtension]) -> Result<SchemaRegistry, ScimError> {
    let mut registry = if nonhuman { SchemaRegistry::new() } else { SchemaRegistry::without_nonhuman() };
    for extension in extensions {
        registry.define_extension(extension.resource_type.as_str(), &extension.definition, extension.required)?;
    }
    Ok(registry)
}

/// The registries of directories with custom extensions, built once per process and
/// rebuilt only when the directory's extensions differ from those they were built from:
/// building one on every SCIM request would put all the built-in schemas on the hot path.
static EXTENDED_REGISTRIES: LazyLock<Mutex<HashMap<DirectoryId, BuiltRegistry>>> = LazyLock::new(Mutex::default);

/// A directory's registry and what it was built from: whether it offers the non-human
/// identity extension, and its custom extensions.
type BuiltRegistry = (bool, Vec<SchemaExtension>, Arc<SchemaRegistry>);

/// The schemas of a directory: the built-in ones (with the non-human identity extension
/// when `nonhuman`) plus its custom extensions.
fn registry_with(
    directory: DirectoryId,
    nonhuman: bool,
    extensions: &[SchemaExtension],
) -> Result<Arc<SchemaRegistry>, ScimError> {
    if extensions.is_empty() {
        return Ok(Arc::clone(if nonhuman { &REGISTRY } else { &REGISTRY_WITHOUT_NONHUMAN }));
    }
    // A poisoned lock only means another request panicked while holding it; the map is
    // still usable.
    let mut cache = EXTENDED_REGISTRIES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((built_with_nonhuman, built_from, registry)) = cache.get(&directory)
        && *built_with_nonhuman == nonhuman
        && built_from.as_slice() == extensions
    {
        return Ok(Arc::clone(registry));
    }
    let registry = Arc::new(build_registry(nonhuman, extensions)?);
    cache.insert(directory, (nonhuman, extensions.to_vec(), Arc::clone(&registry)));
    Ok(registry)
}

/// A custom schema extension to define.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionDefinition {
    /// Whose schema it extends: users' or groups'.
    pub resource_type: ResourceKind,
    /// Resources must carry it.
    pub required: bool,
    /// The RFC 7643 §7 JSON representation (`id` a URN, `attributes`).
    pub schema: Value,
}

/// Defines a custom schema extension (RFC 7643 §3.3, the §7 JSON representation) for a
/// directory's users or groups, after checking it against the directory's schemas
/// (a URN id, valid attributes, no clash with core attributes or other extensions), and
/// records `schema_extension.defined`. Returns its URN.
pub async fn define_extension(
    store: &Store,
    tenant: store::TenantId,
    directory: store::DirectoryId,
    extension: ExtensionDefinition,
    actor: &crate::actor::Actor,
    now: DateTime<Utc>,
) -> Result<String, ProvisioningError> {
    let ExtensionDefinition { resource_type, required, schema: definition } = extension;
    let scope = store.tenant(tenant);
    let Some(found) = scope.directory(directory).await? else {
        return Err(ScimError::NotFound(format!("no directory {directory}")).into());
    };
    let mut registry = build_registry(found.settings.nonhuman_extension, &scope.schema_extensions(directory).await?)?;
    let urn = registry.define_extension(resource_type.as_str(), &definition, required)?.id().to_owned();
    let extension = SchemaExtension { urn: urn.clone(), resource_type, required, definition };
    let mut action = scope.begin_action().await?;
    match action.add_schema_extension(directory, &extension, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(message)) => return Err(ScimError::Uniqueness(message.to_owned()).into()),
        Err(error) => return Err(error.into()),
    }
    let detail = serde_json::json!({"schema": urn, "resource_type": resource_type.as_str(), "required": required});
    action.commit(actor.record("schema_extension.defined", Some(directory), detail, now)).await?;
    Ok(urn)
}

/// Why a SCIM request failed: a protocol error the client is told about, or a failure of
/// ours (logged, answered with a 5xx so that the identity provider retries).
#[derive(Debug, thiserror::Error)]
pub enum ProvisioningError {
    #[error(transparent)]
    Protocol(#[from] ScimError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl ProvisioningError {
    /// For callers that are not SCIM clients (jobs, the portal's fixed reads): their
    /// requests are made by this code, so a protocol error is a bug, reported as an internal
    /// error naming what was being `done`.
    pub(crate) fn into_service_error(self, done: &str) -> ServiceError {
        match self {
            ProvisioningError::Service(error) => error,
            ProvisioningError::Protocol(error) => ServiceError::Internal(format!("{done}: {error}")),
        }
    }
}

impl From<StoreError> for ProvisioningError {
    fn from(error: StoreError) -> Self {
        ProvisioningError::Service(error.into())
    }
}

/// A resource representation and its version (the `ETag`).
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    pub body: Value,
    pub version: i64,
}

impl Versioned {
    /// The strong entity tag of this version (RFC 7232 §2.3), also `meta.version`.
    pub fn etag(&self) -> String {
        etag(self.version)
    }
}

fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// One directory's SCIM endpoint, as seen by one authenticated caller.
#[derive(Debug, Clone)]
pub struct Endpoint {
    store: Store,
    caller: Caller,
    directory: Directory,
    registry: Arc<SchemaRegistry>,
    /// `https://host/scim/v2/<directory>`: the prefix of every `location`.
    base_url: String,
    /// The transaction every write goes to while a Bulk request runs.
    batch: Option<Arc<store::WriteBatch>>,
    /// Where the ids of created resources come from; `None` for the portal's read-only
    /// endpoints, which create nothing.
    effects: Option<Effects>,
    /// Leave the self-test's resources out of reads (see `store::SELF_TEST_ID_PREFIX`):
    /// the portal's and the operator's reads do; the SCIM endpoint the self-test
    /// exercises does not.
    hide_self_test: bool,
    /// What shapes the directory's users (attribute mapping, roles), read at the first
    /// write that needs it.
    shaping: Arc<tokio::sync::OnceCell<crate::directory_sync::UserShaping>>,
}

impl Endpoint {
    /// The endpoint of a directory its caller was authenticated for (see
    /// `directories::authenticate_for_directory`); `base_url` is its public SCIM base URL.
    pub fn for_caller(
        store: &Store,
        caller: Caller,
        directory: Directory,
        extensions: &[SchemaExtension],
        base_url: String,
        effects: Effects,
    ) -> Result<Self, ProvisioningError> {
        let mut endpoint = Self::without_effects(store, caller, directory, extensions, base_url)?;
        endpoint.effects = Some(effects);
        endpoint.hide_self_test = false;
        Ok(endpoint)
    }

    fn without_effects(
        store: &Store,
        caller: Caller,
        directory: Directory,
        extensions: &[SchemaExtension],
        base_url: String,
    ) -> Result<Self, ProvisioningError> {
        let registry =
            registry_with(caller.directory, directory.settings.nonhuman_extension, extensions).map_err(|error| {
                tracing::error!(%error, directory = %caller.directory, "a stored schema extension no longer loads");
                ServiceError::Internal(format!("schema extensions of {}: {error}", caller.directory))
            })?;
        Ok(Self {
            store: store.clone(),
            caller,
            directory,
            registry,
            base_url,
            batch: None,
            effects: None,
            hide_self_test: true,
            shaping: Arc::default(),
        })
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    fn registry(&self) -> &SchemaRegistry {
        &self.registry
    }

    fn data(&self) -> store::DirectoryData<'_> {
        match &self.batch {
            Some(batch) => batch.data(),
            None => self.store.tenant(self.caller.tenant).directory_data(self.caller.directory),
        }
    }

    fn location(&self, kind: ResourceKind, id: &str) -> String {
        format!("{}/{}/{id}", self.base_url, endpoint_name(kind))
    }

    /// `GET /ServiceProviderConfig` (RFC 7643 §5).
    pub fn service_provider_config(&self) -> Value {
        service_provider_config(self.store.backend()).to_json(&format!("{}/ServiceProviderConfig", self.base_url))
    }

    /// `GET /ResourceTypes` (RFC 7644 §4).
    pub fn resource_types(&self) -> Value {
        let types: Vec<Value> = self
            .registry()
            .resource_types()
            .iter()
            .map(|rt| rt.to_json(&format!("{}/ResourceTypes/{}", self.base_url, rt.name())))
            .collect();
        list_of(types)
    }

    /// `GET /ResourceTypes/{name}`.
    pub fn resource_type(&self, name: &str) -> Result<Value, ScimError> {
        let rt = self
            .registry()
            .resource_types()
            .iter()
            .find(|rt| rt.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| ScimError::NotFound(format!("no resource type {name}")))?;
        Ok(rt.to_json(&format!("{}/ResourceTypes/{}", self.base_url, rt.name())))
    }

    /// `GET /Schemas` (RFC 7644 §4): every schema of the directory, extensions included.
    pub fn schemas(&self) -> Value {
        let schemas: Vec<Value> = self
            .registry()
            .schemas()
            .iter()
            .map(|schema| schema.to_json(&format!("{}/Schemas/{}", self.base_url, schema.id())))
            .collect();
        list_of(schemas)
    }

    /// `GET /Schemas/{urn}`.
    pub fn schema(&self, id: &str) -> Result<Value, ScimError> {
        let schema = self
            .registry()
            .schemas()
            .iter()
            .find(|schema| schema.id().eq_ignore_ascii_case(id))
            .ok_or_else(|| ScimError::NotFound(format!("no schema {id}")))?;
        Ok(schema.to_json(&format!("{}/Schemas/{}", self.base_url, schema.id())))
    }

    /// Whether `id` is a resource this endpoint's reads leave out.
    fn hidden(&self, id: &str) -> bool {
        self.hide_self_test && id.starts_with(store::SELF_TEST_ID_PREFIX)
    }

    /// The resource types this directory serves: users and groups always; agents and
    /// agentic applications where it offers non-human identities.
    pub fn offered_kinds(&self) -> impl Iterator<Item = ResourceKind> + '_ {
        ResourceKind::ALL.into_iter().filter(|kind| self.registry().resource_type(kind.as_str()).is_some())
    }

    /// `404` for a resource type this directory does not serve (see [`Self::offered_kinds`]).
    pub fn require_offered(&self, kind: ResourceKind) -> Result<(), ScimError> {
        if self.registry().resource_type(kind.as_str()).is_some() {
            return Ok(());
        }
        Err(ScimError::NotFound(format!(
            "this directory does not serve /{}: its non-human identities setting is off",
            kind.endpoint()
        )))
    }

    /// Writes need a token without the read-only scope.
    fn require_write(&self) -> Result<(), ScimError> {
        if self.caller.read_only {
            return Err(ScimError::Forbidden("this token is read-only".to_owned()));
        }
        Ok(())
    }

    /// The id of a resource about to be created; the self-test's start with
    /// [`store::SELF_TEST_ID_PREFIX`].
    fn new_resource_id(&self) -> Result<String, ProvisioningError> {
        let prefix = if self.caller.self_test { store::SELF_TEST_ID_PREFIX } else { "" };
        match &self.effects {
            Some(effects) => Ok(format!("{prefix}{}", effects.uuid())),
            None => Err(ServiceError::Internal("a read-only endpoint was asked to create".to_owned()).into()),
        }
    }
}

/// What every directory of a deployment on `backend` advertises (RFC 7643 §5).
pub fn service_provider_config(backend: store::Backend) -> ServiceProviderConfig {
    ServiceProviderConfig {
        patch: true,
        bulk: true,
        bulk_max_operations: u32::try_from(bulk_max_operations(backend)).unwrap_or(u32::MAX),
        bulk_max_payload_size: BULK_MAX_PAYLOAD_BYTES as u64,
        filter: true,
        filter_max_results: MAX_PAGE_SIZE as u32,
        change_password: false,
        sort: true,
        etag: true,
        authentication_schemes: vec![AuthenticationScheme {
            kind: "oauthbearertoken".into(),
            name: "OAuth Bearer Token".into(),
            description: "A bearer token issued for this directory in the portal".into(),
            primary: true,
        }],
        documentation_uri: None,
    }
}

/// The path segment of a resource type's endpoint.
pub fn endpoint_name(kind: ResourceKind) -> &'static str {
    kind.endpoint()
}

fn list_of(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

/// Times are kept to the millisecond, the precision `meta` shows, so that a client that
/// filters with `meta.lastModified gt <what it saw>` does not see the same change again.
pub(crate) fn truncate_to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = at.timestamp_subsec_nanos();
    at - chrono::Duration::nanoseconds(i64::from(nanos % 1_000_000))
}

/// Formats a time as `meta` shows it: RFC 3339 UTC with milliseconds.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A directory's SCIM endpoint as the portal reads it (dashboards, the mapping step):
/// read-only, opened for a tenant admin rather than a token. `None` when the tenant has no
/// such directory.
pub async fn portal_endpoint(
    store: &Store,
    tenant: store::TenantId,
    directory: DirectoryId,
    base_url: String,
) -> Result<Option<Endpoint>, ProvisioningError> {
    let scope = store.tenant(tenant);
    let Some(found) = scope.directory(directory).await? else { return Ok(None) };
    let extensions = scope.schema_extensions(directory).await?;
    // No token opened it: the nil id stands for "the portal" and never matches a token.
    let caller =
        Caller { tenant, directory, token: store::TokenId::from(uuid::Uuid::nil()), read_only: true, self_test: false };
    Endpoint::without_effects(store, caller, found, &extensions, base_url).map(Some)
}

/// Attribute paths no schema of the directory defines, found in its `newest` most recently
/// changed users, each once, sorted. They were kept (the directory preserves unknown
/// attributes) and are what the attribute-mapping step lists as unmapped.
pub async fn unmapped_attributes(
    store: &Store,
    tenant: store::TenantId,
    directory: DirectoryId,
    newest: i64,
) -> Result<Vec<String>, ProvisioningError> {
    let Some(endpoint) = portal_endpoint(store, tenant, directory, String::new()).await? else {
        return Ok(Vec::new());
    };
    let query = ListQuery {
        sort_by: Some("meta.lastModified".to_owned()),
        sort_order: Some("descending".to_owned()),
        count: Some(newest),
        ..ListQuery::default()
    };
    let page = endpoint.list(ResourceKind::User, &query).await?;
    let mut found = std::collections::BTreeSet::new();
    for user in page.get("Resources").and_then(Value::as_array).into_iter().flatten() {
        if let Ok((_, report)) = scim::validate::validate(
            endpoint.registry(),
            ResourceKind::User.as_str(),
            user,
            None,
            scim::validate::UnknownPolicy::Preserve,
        ) {
            found.extend(report.unmapped);
        }
    }
    Ok(found.into_iter().collect())
}
