//! The Directory Sync read model the vendor's product integrates with: organizations
//! (tenants), directories, and their users and groups normalized with the tenant's attribute
//! mapping applied (see [`scim::normalized`]), in the shapes of WorkOS's Directory Sync API,
//! so that a product written against the official WorkOS SDKs reads this deployment by
//! changing its API host. The HTTP layer (`server::http::workos_api`) only parses and
//! answers.

pub mod events;
pub mod ids;
pub mod mapping;
pub mod objects;
pub mod paging;
pub mod roles;
pub mod webhooks;

use std::collections::HashMap;

use scim::normalized::{MappedAttribute, NormalizedUser, normalize_group, normalize_user};
use serde_json::Value;
use store::{Directory, DirectoryId, ResourceKind, ResourceRecord, Store, TenantId, TenantSlug};

use crate::ServiceError;
use crate::provisioning::{Endpoint, ProvisioningError, portal_endpoint};
pub use events::{EventData, EventQuery, MembershipEvent, ResourceEvent, SyncEvent, list_events, read_events};
pub use objects::{
    DirectoryGroup, DirectoryMetadata, DirectoryUser, Organization, RawAttributes, SyncDirectory, UserCounts,
    event_directory,
};
pub use paging::{Cursor, DEFAULT_LIMIT, MAX_LIMIT, Order, Page, PageRequest};
pub use webhooks::{EndpointChange, OperatorDeliverer, WebhookEndpoint};

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No such object (also: another tenant's object under a key scoped to a tenant).
    #[error("{0} not found")]
    NotFound(String),
    /// A parameter is missing or malformed: `field` names it.
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<store::StoreError> for SyncError {
    fn from(error: store::StoreError) -> Self {
        SyncError::Service(error.into())
    }
}

impl From<ProvisioningError> for SyncError {
    fn from(error: ProvisioningError) -> Self {
        match error {
            ProvisioningError::Service(error) => SyncError::Service(error),
            // Filters here are built by this module from parsed ids: a refusal is a bug.
            ProvisioningError::Protocol(error) => SyncError::Service(ServiceError::Internal(error.to_string())),
        }
    }
}

fn invalid_cursor(field: &'static str) -> SyncError {
    SyncError::Invalid { field, message: format!("`{field}` is not a cursor of this list") }
}

/// The cursor of a page over objects whose ids parse with `parse` to store ids.
fn store_cursor<Id>(
    page: &PageRequest<Cursor<String>>,
    parse: impl Fn(&str) -> Option<Id>,
) -> Result<PageRequest<Cursor<Id>>, SyncError> {
    let cursor = match &page.cursor {
        None => None,
        Some(Cursor::After(id)) => Some(Cursor::After(parse(id).ok_or_else(|| invalid_cursor("after"))?)),
        Some(Cursor::Before(id)) => Some(Cursor::Before(parse(id).ok_or_else(|| invalid_cursor("before"))?)),
    };
    Ok(PageRequest { limit: page.limit, order: page.order, cursor })
}

/// A page over an in-memory list of items with ids `key`, in id order.
fn page_in_memory<T, K: Ord + Copy>(
    request: &PageRequest<Cursor<K>>,
    mut items: Vec<T>,
    key: impl Fn(&T) -> K,
    cursor: impl Fn(&T) -> String,
) -> Page<T> {
    let plan = request.read_plan();
    items.sort_by_key(|item| key(item));
    if plan.descending {
        items.reverse();
    }
    let rows: Vec<T> = items
        .into_iter()
        .filter(|item| match plan.from {
            None => true,
            Some(from) if plan.descending => key(item) < *from,
            Some(from) => key(item) > *from,
        })
        .take(usize::try_from(plan.take).unwrap_or(usize::MAX))
        .collect();
    paging::page_of(request, rows, cursor)
}

/// `GET /organizations`: every tenant; with `domains`, those with one of them (tenants
/// have no domains yet, so none).
pub async fn list_organizations(
    store: &Store,
    domains: &[String],
    page: &PageRequest<Cursor<String>>,
) -> Result<Page<Organization>, SyncError> {
    let request = store_cursor(page, ids::parse_organization)?;
    let tenants = if domains.is_empty() { store.tenant_summaries().await? } else { Vec::new() };
    let organizations: Vec<(TenantId, Organization)> =
        tenants.iter().map(|summary| (summary.tenant.id, Organization::of(&summary.tenant))).collect();
    let page = page_in_memory(&request, organizations, |(id, _)| *id, |(_, org)| org.id.clone());
    Ok(Page { data: page.data.into_iter().map(|(_, org)| org).collect(), before: page.before, after: page.after })
}

/// `GET /organizations/{id}`.
pub async fn organization(store: &Store, id: &str) -> Result<Organization, SyncError> {
    let tenant = ids::parse_organization(id).ok_or_else(|| SyncError::NotFound(format!("organization {id}")))?;
    let tenant = store.tenant_by_id(tenant).await?.ok_or_else(|| SyncError::NotFound(format!("organization {id}")))?;
    Ok(Organization::of(&tenant))
}

/// `GET /organizations/external_id/{external_id}`: the tenant with that slug.
pub async fn organization_by_external_id(store: &Store, external_id: &str) -> Result<Organization, SyncError> {
    let not_found = || SyncError::NotFound(format!("organization with external id {external_id}"));
    let slug = TenantSlug::parse(external_id).map_err(|_| not_found())?;
    let tenant = store.tenant_by_slug(&slug).await?.ok_or_else(not_found)?;
    Ok(Organization::of(&tenant))
}

/// A directory with what the API shows of it.
async fn sync_directory(store: &Store, tenant: TenantId, directory: &Directory) -> Result<SyncDirectory, SyncError> {
    let linked = store.tenant(tenant).setup_state(directory.id).await?.is_some_and(|state| state.completed.is_some());
    let metadata = counts(store, tenant, directory.id).await?;
    Ok(SyncDirectory::of(tenant, directory, linked, metadata))
}

/// How many active and inactive users and how many groups a directory holds.
pub async fn counts(store: &Store, tenant: TenantId, directory: DirectoryId) -> Result<DirectoryMetadata, SyncError> {
    let endpoint = open(store, tenant, directory).await?;
    let count = |kind, filter: Option<&'static str>| {
        let endpoint = &endpoint;
        async move { Ok::<i64, SyncError>(endpoint.records(kind, filter, None, false, 0).await?.total) }
    };
    let users = count(ResourceKind::User, None).await?;
    let inactive = count(ResourceKind::User, Some("active eq false")).await?;
    let groups = count(ResourceKind::Group, None).await?;
    Ok(DirectoryMetadata { users: UserCounts { active: users - inactive, inactive }, groups })
}

/// `GET /directories`: every directory, or an organization's; with `search`, those whose
/// name contains it (ignoring case).
pub async fn list_directories(
    store: &Store,
    organization: Option<&str>,
    search: Option<&str>,
    page: &PageRequest<Cursor<String>>,
) -> Result<Page<SyncDirectory>, SyncError> {
    let request = store_cursor(page, ids::parse_directory)?;
    let tenants: Vec<TenantId> = match organization {
        Some(id) => match ids::parse_organization(id) {
            Some(tenant) if store.tenant_by_id(tenant).await?.is_some() => vec![tenant],
            _ => Vec::new(),
        },
        None => store.tenant_summaries().await?.into_iter().map(|summary| summary.tenant.id).collect(),
    };
    let search = search.map(str::trim).filter(|text| !text.is_empty()).map(str::to_lowercase);
    let mut found: Vec<(TenantId, Directory)> = Vec::new();
    for tenant in tenants {
        for directory in store.tenant(tenant).directories().await? {
            if search.as_ref().is_none_or(|text| directory.display_name.to_lowercase().contains(text)) {
                found.push((tenant, directory));
            }
        }
    }
    let page = page_in_memory(&request, found, |(_, d)| d.id, |(_, d)| ids::directory_id(d.id));
    let mut data = Vec::with_capacity(page.data.len());
    for (tenant, directory) in &page.data {
        data.push(sync_directory(store, *tenant, directory).await?);
    }
    Ok(Page { data, before: page.before, after: page.after })
}

/// A directory by its API id, with its tenant.
async fn find_directory(store: &Store, id: &str) -> Result<(TenantId, Directory), SyncError> {
    let not_found = || SyncError::NotFound(format!("directory {id}"));
    let directory = ids::parse_directory(id).ok_or_else(not_found)?;
    locate(store, directory).await?.ok_or_else(not_found)
}

/// The tenant and record of a directory.
async fn locate(store: &Store, directory: DirectoryId) -> Result<Option<(TenantId, Directory)>, SyncError> {
    let Some(tenant) = store.directory_owner(directory).await? else { return Ok(None) };
    Ok(store.tenant(tenant).directory(directory).await?.map(|found| (tenant, found)))
}

/// `GET /directories/{id}`.
pub async fn directory(store: &Store, id: &str) -> Result<SyncDirectory, SyncError> {
    let (tenant, directory) = find_directory(store, id).await?;
    sync_directory(store, tenant, &directory).await
}

/// `DELETE /directories/{id}`: deletes the directory (see
/// [`crate::directory_lifecycle::delete_directory`]); deleting it again succeeds and changes
/// nothing, until its data is purged.
pub async fn delete_directory(
    store: &Store,
    id: &str,
    actor: &crate::Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<crate::directory_lifecycle::Deletion, SyncError> {
    let not_found = || SyncError::NotFound(format!("directory {id}"));
    let directory = ids::parse_directory(id).ok_or_else(not_found)?;
    // The route stays until the purge, so that a repeated deletion finds the first one.
    let tenant = store.directory_owner(directory).await?.ok_or_else(not_found)?;
    let deletion = crate::directory_lifecycle::delete_directory(store, tenant, directory, actor, now).await?;
    deletion.ok_or_else(not_found)
}

async fn open(store: &Store, tenant: TenantId, directory: DirectoryId) -> Result<Endpoint, SyncError> {
    portal_endpoint(store, tenant, directory, String::new())
        .await?
        .ok_or_else(|| SyncError::NotFound(format!("directory {}", ids::directory_id(directory))))
}

/// The custom attributes the directory's mapping produces.
/// What shapes a directory's users: its attribute mapping and the roles its groups grant.
#[derive(Debug, Clone)]
pub(crate) struct UserShaping {
    pub(crate) mapping: Vec<MappedAttribute>,
    pub(crate) roles: roles::RoleAssignment,
}

impl UserShaping {
    pub(crate) async fn of(store: &Store, tenant: TenantId, directory: DirectoryId) -> Result<Self, SyncError> {
        let (rows, _) = crate::onboarding::mapping(store, tenant, directory).await.map_err(|error| match error {
            crate::onboarding::OnboardingError::Service(error) => SyncError::Service(error),
            _ => SyncError::NotFound(format!("directory {}", ids::directory_id(directory))),
        })?;
        let roles = roles::assignment(store, tenant, directory).await?;
        Ok(Self { mapping: mapping::mapped_attributes(&rows), roles })
    }

    /// User `record` normalized, with the roles of `groups` (its groups' ids).
    pub(crate) fn user<'g>(
        &self,
        record: &ResourceRecord,
        groups: impl IntoIterator<Item = &'g str>,
    ) -> NormalizedUser {
        let mut user = normalize_user(&record.id, &record.doc, &self.mapping);
        self.roles.apply(&mut user, groups);
        user
    }

    /// The groups of `records` when roles depend on them (none to read otherwise).
    pub(crate) async fn groups_for_roles(
        &self,
        endpoint: &Endpoint,
        records: &[ResourceRecord],
    ) -> Result<HashMap<String, Vec<store::GroupRef>>, SyncError> {
        if !self.roles.depends_on_groups() {
            return Ok(HashMap::new());
        }
        let ids: Vec<String> = records.iter().map(|record| record.id.clone()).collect();
        Ok(endpoint.groups_of_users(&ids).await?)
    }
}

/// Which users to list: a directory's, a group's, or both at once (the group must be in the
/// directory); on a directory's own route also by `email` or `idp_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub directory: Option<String>,
    pub group: Option<String>,
    pub email: Option<String>,
    pub idp_id: Option<String>,
    /// Answer each user's groups (the deployment-wide routes do).
    pub with_groups: bool,
}

/// Where a listing reads: one directory, maybe narrowed to a group or a user.
struct Scope {
    tenant: TenantId,
    directory: Directory,
    endpoint: Endpoint,
}

/// A user or group a listing is narrowed to, by its API id.
struct Narrowed<'a> {
    id: &'a str,
    parse: fn(&str) -> Option<(DirectoryId, String)>,
    what: &'static str,
}

/// The directory a listing reads (named, or the one of the object it is narrowed to) and
/// the stored id of that object; `None` when the two name different directories.
async fn scope_of(
    store: &Store,
    directory: Option<&str>,
    member: Option<Narrowed<'_>>,
) -> Result<Option<(Scope, Option<String>)>, SyncError> {
    let from_directory = match directory {
        Some(id) => Some(ids::parse_directory(id).ok_or_else(|| SyncError::NotFound(format!("directory {id}")))?),
        None => None,
    };
    let from_member = match member {
        Some(Narrowed { id, parse, what }) => {
            Some(parse(id).ok_or_else(|| SyncError::NotFound(format!("{what} {id}")))?)
        }
        None => None,
    };
    let directory = match (from_directory, &from_member) {
        (Some(directory), Some((of_member, _))) if directory != *of_member => return Ok(None),
        (Some(directory), _) => directory,
        (None, Some((of_member, _))) => *of_member,
        (None, None) => {
            return Err(SyncError::Invalid {
                field: "directory",
                message: "name a `directory` or a `group` (or `user`) to list".to_owned(),
            });
        }
    };
    let Some((tenant, directory)) = locate(store, directory).await? else {
        return Err(SyncError::NotFound(format!("directory {}", ids::directory_id(directory))));
    };
    let endpoint = open(store, tenant, directory.id).await?;
    Ok(Some((Scope { tenant, directory, endpoint }, from_member.map(|(_, id)| id))))
}

/// A JSON string, as a SCIM filter literal (RFC 7644 §3.4.2.2 takes JSON values).
pub(crate) fn literal(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

/// `GET /directory_users` and `GET /directories/{id}/users`.
pub async fn list_users(
    store: &Store,
    query: &UserQuery,
    page: &PageRequest<Cursor<String>>,
) -> Result<Page<DirectoryUser>, SyncError> {
    let group = query.group.as_deref().map(|id| Narrowed { id, parse: ids::parse_group, what: "group" });
    let Some((scope, group)) = scope_of(store, query.directory.as_deref(), group).await? else {
        return Ok(Page { data: Vec::new(), before: None, after: None });
    };
    let directory = scope.directory.id;
    let request = store_cursor(page, |id| ids::parse_user(id).filter(|(d, _)| *d == directory).map(|(_, id)| id))?;
    if let Some(group) = &group
        && scope.endpoint.record(ResourceKind::Group, group).await?.is_none()
    {
        return Err(SyncError::NotFound(format!("group {}", ids::group_id(directory, group))));
    }
    let mut conditions = Vec::new();
    if let Some(group) = &group {
        conditions.push(format!("groups[value eq {}]", literal(group)));
    }
    if let Some(email) = query.email.as_deref() {
        conditions.push(format!("emails[value eq {}]", literal(email)));
    }
    if let Some(idp_id) = query.idp_id.as_deref() {
        conditions.push(format!("(externalId eq {0} or id eq {0})", literal(idp_id)));
    }
    let filter = (!conditions.is_empty()).then(|| conditions.join(" and "));
    let plan = request.read_plan();
    let listed = scope
        .endpoint
        .records(ResourceKind::User, filter.as_deref(), plan.from.cloned(), plan.descending, plan.take)
        .await?;
    let page = paging::page_of(&request, listed.records, |record| ids::user_id(directory, &record.id));
    let users = users_of(store, &scope, page.data, query.with_groups).await?;
    Ok(Page { data: users, before: page.before, after: page.after })
}

/// Records as users, with their groups when asked.
async fn users_of(
    store: &Store,
    scope: &Scope,
    records: Vec<ResourceRecord>,
    with_groups: bool,
) -> Result<Vec<DirectoryUser>, SyncError> {
    // Users with changes held by the safety brake read as the product last received them.
    let ids: Vec<String> = records.iter().map(|record| record.id.clone()).collect();
    let mut held = store.tenant(scope.tenant).held_documents(scope.directory.id, &ids).await?;
    let records: Vec<ResourceRecord> = records
        .into_iter()
        .map(|record| match held.remove(&record.id) {
            Some(doc) => ResourceRecord { doc, ..record },
            None => record,
        })
        .collect();
    let shaping = UserShaping::of(store, scope.tenant, scope.directory.id).await?;
    let mut groups_by_user = shaping.groups_for_roles(&scope.endpoint, &records).await?;
    if with_groups && !shaping.roles.depends_on_groups() {
        groups_by_user = scope.endpoint.groups_of_users(&ids).await?;
    }
    if with_groups || shaping.roles.depends_on_groups() {
        let users: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        as_published(store, scope, &users, &mut groups_by_user).await?;
    }
    let mut groups: HashMap<String, DirectoryGroup> = HashMap::new();
    if with_groups {
        for group in groups_by_user.values().flatten() {
            if groups.contains_key(&group.id) {
                continue;
            }
            if let Some(record) = scope.endpoint.record(ResourceKind::Group, &group.id).await? {
                groups.insert(group.id.clone(), group_of(scope, &record));
            }
        }
    }
    let suspensions = store.tenant(scope.tenant).directory_data(scope.directory.id).suspensions(&ids).await?;
    Ok(records
        .iter()
        .map(|record| {
            let of_user = groups_by_user.get(&record.id).into_iter().flatten();
            let mut normalized = shaping.user(record, of_user.map(|group| group.id.as_str()));
            if let Some(suspension) = suspensions.get(&record.id) {
                normalized.suspend(suspension.normalized());
            }
            let mut user = DirectoryUser::of(scope.tenant, &scope.directory, record, normalized);
            if with_groups {
                let of_user = groups_by_user.get(&record.id).into_iter().flatten();
                user.groups = Some(of_user.filter_map(|group| groups.get(&group.id).cloned()).collect());
            }
            user
        })
        .collect())
}

/// Users' groups as the product last received them: the membership changes the safety
/// brake holds are undone, newest first.
async fn as_published(
    store: &Store,
    scope: &Scope,
    users: &std::collections::HashSet<&str>,
    groups_by_user: &mut HashMap<String, Vec<store::GroupRef>>,
) -> Result<(), SyncError> {
    for (added, group, members) in store.tenant(scope.tenant).held_memberships(scope.directory.id).await? {
        for member in members.into_iter().filter(|member| users.contains(member.as_str())) {
            let groups = groups_by_user.entry(member).or_default();
            if added {
                groups.retain(|held| held.id != group);
            } else if !groups.iter().any(|kept| kept.id == group)
                && let Some(record) = scope.endpoint.record(ResourceKind::Group, &group).await?
            {
                let display = record.doc.get("displayName").and_then(Value::as_str).unwrap_or(&group).to_owned();
                groups.push(store::GroupRef { id: group.clone(), display });
            }
        }
    }
    Ok(())
}

fn group_of(scope: &Scope, record: &ResourceRecord) -> DirectoryGroup {
    DirectoryGroup::of(scope.tenant, &scope.directory, record, normalize_group(&record.id, &record.doc))
}

/// `GET /directory_users/{id}` (with groups) and `GET /directories/{directory}/users/{id}`
/// (`in_directory`, without).
pub async fn user(store: &Store, id: &str, in_directory: Option<&str>) -> Result<DirectoryUser, SyncError> {
    let not_found = || SyncError::NotFound(format!("directory user {id}"));
    let (directory, user) = ids::parse_user(id).ok_or_else(not_found)?;
    if in_directory.is_some_and(|named| ids::parse_directory(named) != Some(directory)) {
        return Err(not_found());
    }
    let Some((scope, _)) = scope_of(store, Some(&ids::directory_id(directory)), None).await? else {
        return Err(not_found());
    };
    let record = scope.endpoint.record(ResourceKind::User, &user).await?.ok_or_else(not_found)?;
    let mut users = users_of(store, &scope, vec![record], in_directory.is_none()).await?;
    users.pop().ok_or_else(not_found)
}

/// Which groups to list: a directory's, a user's, or both (the user must be in it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupQuery {
    pub directory: Option<String>,
    pub user: Option<String>,
}

/// `GET /directory_groups` and `GET /directories/{id}/groups`.
pub async fn list_groups(
    store: &Store,
    query: &GroupQuery,
    page: &PageRequest<Cursor<String>>,
) -> Result<Page<DirectoryGroup>, SyncError> {
    let user = query.user.as_deref().map(|id| Narrowed { id, parse: ids::parse_user, what: "directory user" });
    let Some((scope, user)) = scope_of(store, query.directory.as_deref(), user).await? else {
        return Ok(Page { data: Vec::new(), before: None, after: None });
    };
    let directory = scope.directory.id;
    let request = store_cursor(page, |id| ids::parse_group(id).filter(|(d, _)| *d == directory).map(|(_, id)| id))?;
    if let Some(user) = &user
        && scope.endpoint.record(ResourceKind::User, user).await?.is_none()
    {
        return Err(SyncError::NotFound(format!("directory user {}", ids::user_id(directory, user))));
    }
    let filter = user.as_ref().map(|user| format!("members[value eq {}]", literal(user)));
    let plan = request.read_plan();
    let listed = scope
        .endpoint
        .records(ResourceKind::Group, filter.as_deref(), plan.from.cloned(), plan.descending, plan.take)
        .await?;
    let page = paging::page_of(&request, listed.records, |record| ids::group_id(directory, &record.id));
    let data = page.data.iter().map(|record| group_of(&scope, record)).collect();
    Ok(Page { data, before: page.before, after: page.after })
}

/// `GET /directory_groups/{id}` and `GET /directories/{directory}/groups/{id}`.
pub async fn group(store: &Store, id: &str, in_directory: Option<&str>) -> Result<DirectoryGroup, SyncError> {
    let not_found = || SyncError::NotFound(format!("directory group {id}"));
    let (directory, group) = ids::parse_group(id).ok_or_else(not_found)?;
    if in_directory.is_some_and(|named| ids::parse_directory(named) != Some(directory)) {
        return Err(not_found());
    }
    let Some((scope, _)) = scope_of(store, Some(&ids::directory_id(directory)), None).await? else {
        return Err(not_found());
    };
    let record = scope.endpoint.record(ResourceKind::Group, &group).await?.ok_or_else(not_found)?;
    Ok(group_of(&scope, &record))
}
