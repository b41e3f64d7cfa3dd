//! The users and groups of a directory as its admin browses them on the dashboard: a page
//! of typed rows in name order, optionally only those whose name starts with a search
//! text. Rows are read from the SCIM representation the directory serves, so the admin
//! sees what their identity provider wrote.

use scim::error::ScimError;
use serde_json::Value;
use store::{DirectoryId, ResourceKind, Store, TenantId};

use crate::ServiceError;
use crate::provisioning::{ListQuery, ProvisioningError, portal_endpoint};

/// The longest search text, in characters.
pub const MAX_SEARCH: usize = 200;

/// A user as the dashboard lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    /// The first of the user's emails.
    pub email: Option<String>,
    /// A user without `active` is active (RFC 7643 §4.1.1 leaves the default to the
    /// service provider; this one provisions them as active).
    pub active: bool,
}

/// A group as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub id: String,
    pub display_name: String,
    pub members: usize,
}

/// One page of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<Row> {
    /// How many match, on all pages.
    pub total: i64,
    /// The 1-based position of the first row.
    pub start: i64,
    pub rows: Vec<Row>,
}

/// Why no page could be read.
#[derive(Debug, thiserror::Error)]
pub enum BrowseError {
    /// No such directory in the tenant (also for another tenant's directory).
    #[error("there is no such directory in your organisation")]
    NotFound,
    /// No such user or group in the directory (any more).
    #[error("this directory has no such user or group (any more)")]
    NoSuchResource,
    #[error("search for at most {MAX_SEARCH} characters")]
    SearchTooLong,
    /// The directory refused the search (its schema or filter rules).
    #[error(transparent)]
    Refused(#[from] ScimError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<ProvisioningError> for BrowseError {
    fn from(error: ProvisioningError) -> Self {
        match error {
            ProvisioningError::Protocol(error) => BrowseError::Refused(error),
            ProvisioningError::Service(error) => BrowseError::Service(error),
        }
    }
}

/// The directory's users whose `userName` starts with `search` (all for an empty one), in
/// `userName` order, `count` from position `start`.
pub async fn users(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    search: &str,
    start: i64,
    count: i64,
) -> Result<Page<UserRow>, BrowseError> {
    let listed = list(store, tenant, directory, ResourceKind::User, search, start, count).await?;
    Ok(listed.map(|user| UserRow {
        id: text(&user, "id"),
        user_name: text(&user, "userName"),
        display_name: Some(text(&user, "displayName")).filter(|name| !name.is_empty()),
        email: user
            .get("emails")
            .and_then(Value::as_array)
            .and_then(|emails| emails.first())
            .and_then(|email| email.get("value"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        active: user.get("active").and_then(Value::as_bool).unwrap_or(true),
    }))
}

/// The directory's groups whose `displayName` starts with `search` (all for an empty one),
/// in `displayName` order, `count` from position `start`.
pub async fn groups(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    search: &str,
    start: i64,
    count: i64,
) -> Result<Page<GroupRow>, BrowseError> {
    let listed = list(store, tenant, directory, ResourceKind::Group, search, start, count).await?;
    Ok(listed.map(|group| GroupRow {
        id: text(&group, "id"),
        display_name: text(&group, "displayName"),
        members: group.get("members").and_then(Value::as_array).map_or(0, Vec::len),
    }))
}

/// An agent or agentic application as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
    /// An agent's `agentType` (applications have none).
    pub agent_type: Option<String>,
    pub active: bool,
}

/// The directory's agents or agentic applications (`kind`) whose `name` starts with
/// `search`, in `name` order, `count` from position `start`; none where the directory does
/// not serve them (its non-human identities are off).
pub async fn agentic(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    kind: ResourceKind,
    search: &str,
    start: i64,
    count: i64,
) -> Result<Page<AgentRow>, BrowseError> {
    let endpoint = portal_endpoint(store, tenant, directory, String::new()).await?.ok_or(BrowseError::NotFound)?;
    if !kind.is_agentic() || endpoint.require_offered(kind).is_err() {
        return Ok(Page { total: 0, start: start.max(1), rows: Vec::new() });
    }
    let listed = list(store, tenant, directory, kind, search, start, count).await?;
    Ok(listed.map(|agent| AgentRow {
        id: text(&agent, "id"),
        name: text(&agent, "name"),
        display_name: Some(text(&agent, "displayName")).filter(|name| !name.is_empty()),
        agent_type: Some(text(&agent, "agentType")).filter(|kind| !kind.is_empty()),
        active: agent.get("active").and_then(Value::as_bool).unwrap_or(true),
    }))
}

/// A user or group on a page of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDetail {
    pub kind: ResourceKind,
    pub id: String,
    /// Its userName or displayName.
    pub name: String,
    /// A user's `active`; `None` for a group.
    pub active: Option<bool>,
    /// A user's local suspension (see [`crate::suspensions`]), which the product sees
    /// instead of `active`.
    pub suspension: Option<store::SuspensionRecord>,
    /// The SCIM representation the directory serves (with a user's groups or a group's
    /// members), as the identity provider wrote it.
    pub stored: Value,
    /// What the vendor's product reads: the Directory Sync object, normalized with the
    /// tenant's attribute mapping (without its copy of the raw attributes).
    pub normalized: Value,
    /// A user's groups or a group's members: (id, name), the first [`RELATED_SHOWN`].
    pub related: Vec<(String, String)>,
    /// How many groups or members there are in all.
    pub related_total: usize,
    /// The records about it, newest first (at most [`HISTORY`]).
    pub history: Vec<(chrono::DateTime<chrono::Utc>, crate::activity::Activity)>,
}

/// Groups or members listed on a resource's page at most.
pub const RELATED_SHOWN: usize = 200;

/// Records shown in a resource's history at most.
pub const HISTORY: i64 = 100;

/// The user or group `id` of the directory, as stored, as the product reads it, and its
/// history in words.
pub async fn resource_detail(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    kind: ResourceKind,
    id: &str,
) -> Result<ResourceDetail, BrowseError> {
    use crate::directory_sync::{self, ids};
    let endpoint = portal_endpoint(store, tenant, directory, String::new()).await?.ok_or(BrowseError::NotFound)?;
    let stored = match endpoint.get(kind, id, &crate::provisioning::Projection::default()).await {
        Ok(versioned) => versioned.body,
        Err(ProvisioningError::Protocol(ScimError::NotFound(_))) => return Err(BrowseError::NoSuchResource),
        Err(error) => return Err(error.into()),
    };
    let sync_error = |error: directory_sync::SyncError| match error {
        directory_sync::SyncError::Service(error) => BrowseError::Service(error),
        _ => BrowseError::NoSuchResource,
    };
    let mut normalized = match kind {
        ResourceKind::User => serde_json::to_value(
            directory_sync::user(store, &ids::user_id(directory, id), None).await.map_err(sync_error)?,
        ),
        ResourceKind::Group => serde_json::to_value(
            directory_sync::group(store, &ids::group_id(directory, id), None).await.map_err(sync_error)?,
        ),
        // Not in the WorkOS-compatible API: the view its change records carry.
        ResourceKind::Agent | ResourceKind::AgenticApplication => {
            serde_json::to_value(scim::normalized::normalize_agent(id, &stored))
        }
    }
    .map_err(|error| ServiceError::Internal(error.to_string()))?;
    if let Some(fields) = normalized.as_object_mut() {
        // Shown beside it already, as stored; the groups are listed on their own.
        fields.remove("raw_attributes");
        fields.remove("groups");
    }
    let name_attribute = kind.name_attribute();
    let related_attribute = match kind {
        ResourceKind::User => "groups",
        ResourceKind::Group => "members",
        // An agent's `groups` are read-only and kept empty: nothing relates to it yet.
        ResourceKind::Agent | ResourceKind::AgenticApplication => "",
    };
    let mut related_ids: Vec<String> = stored
        .get(related_attribute)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get("value")?.as_str().map(str::to_owned))
        .collect();
    let related_total = related_ids.len();
    related_ids.truncate(RELATED_SHOWN);
    // Members carry no `display` unless the client sent one: their stored names instead.
    let names = store.tenant(tenant).resource_names(&related_ids).await.map_err(ServiceError::from)?;
    let named: std::collections::HashMap<String, String> = names.into_iter().map(|(id, _, name)| (id, name)).collect();
    let related = related_ids
        .into_iter()
        .map(|id| {
            let name = named.get(&id).cloned().unwrap_or_else(|| id.clone());
            (id, name)
        })
        .collect();
    let query =
        store::AuditQuery { resource_ids: vec![id.to_owned()], directory: Some(directory), ..Default::default() };
    let records = store.tenant(tenant).audit_page(&query, None, HISTORY).await.map_err(ServiceError::from)?;
    let activities = crate::activity::describe_records(store, tenant, &records).await?;
    let history =
        records.iter().zip(activities).map(|(record, (_, activity))| (record.occurred_at, activity)).collect();
    let suspension = match kind {
        ResourceKind::User => crate::suspensions::suspension(store, tenant, directory, id).await?,
        ResourceKind::Group | ResourceKind::Agent | ResourceKind::AgenticApplication => None,
    };
    Ok(ResourceDetail {
        kind,
        id: id.to_owned(),
        suspension,
        name: text(&stored, name_attribute),
        active: kind.has_active().then(|| stored.get("active").and_then(Value::as_bool).unwrap_or(true)),
        stored,
        normalized,
        related,
        related_total,
        history,
    })
}

impl<Row> Page<Row> {
    /// The same page with each row turned into another.
    pub fn map<Other>(self, row: impl Fn(Row) -> Other) -> Page<Other> {
        Page { total: self.total, start: self.start, rows: self.rows.into_iter().map(row).collect() }
    }
}

/// A page of `kind`'s representations, searched and sorted by its name attribute.
async fn list(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    kind: ResourceKind,
    search: &str,
    start: i64,
    count: i64,
) -> Result<Page<Value>, BrowseError> {
    let name_attribute = kind.name_attribute();
    let search = search.trim();
    if search.chars().count() > MAX_SEARCH {
        return Err(BrowseError::SearchTooLong);
    }
    let endpoint = portal_endpoint(store, tenant, directory, String::new()).await?.ok_or(BrowseError::NotFound)?;
    let start = start.max(1);
    // A JSON string is a SCIM string literal (RFC 7644 §3.4.2.2 takes JSON values).
    let filter = (!search.is_empty()).then(|| format!("{name_attribute} sw {}", Value::String(search.to_owned())));
    let query = ListQuery {
        filter,
        sort_by: Some(name_attribute.to_owned()),
        start_index: Some(start),
        count: Some(count),
        ..ListQuery::default()
    };
    let mut listed = endpoint.list(kind, &query).await?;
    let total = listed.get("totalResults").and_then(Value::as_i64).unwrap_or(0);
    let rows = match listed.get_mut("Resources").map(Value::take) {
        Some(Value::Array(rows)) => rows,
        _ => Vec::new(),
    };
    Ok(Page { total, start, rows })
}

fn text(resource: &Value, key: &str) -> String {
    resource.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}
