//! Roles from groups (issue 17 §2). The operator defines the vendor's roles for the whole
//! deployment; a tenant's admin grants them to the IdP groups of a directory. A user's
//! `roles` are every role their groups grant, in precedence order, or the default role when
//! they grant none; `role` is the first. Changing a role, a grant or a membership re-derives
//! the users concerned and publishes `dsync.user.updated` with the previous roles (see
//! [`crate::provisioning`]'s republish pass and queue).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use scim::normalized::{NormalizedUser, RoleRef};
use serde::Serialize;
use serde_json::json;
use store::{DirectoryId, RepublishJob, ResourceKind, Role, Store, StoreError, TenantId};

use super::SyncError;
use crate::ServiceError;
use crate::actor::Actor;

/// How a directory's users get their roles: the deployment's roles and the directory's
/// grants. Pure; loaded once per read or batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleAssignment {
    /// Slugs in precedence order (the order `roles` lists them).
    order: Vec<String>,
    default: Option<String>,
    /// Group id to the slugs it grants.
    grants: HashMap<String, Vec<String>>,
}

impl RoleAssignment {
    pub fn new(roles: &[Role], grants: HashMap<String, Vec<String>>) -> Self {
        let mut sorted: Vec<&Role> = roles.iter().collect();
        sorted.sort_by(|a, b| (a.precedence, &a.slug).cmp(&(b.precedence, &b.slug)));
        Self {
            order: sorted.iter().map(|role| role.slug.clone()).collect(),
            default: sorted.iter().find(|role| role.is_default).map(|role| role.slug.clone()),
            grants,
        }
    }

    /// Whether a user's groups matter (some group grants a role); when not, every user has
    /// the default role (or none) and their groups need not be read.
    pub fn depends_on_groups(&self) -> bool {
        !self.grants.is_empty()
    }

    /// The roles of a member of `groups`, in precedence order.
    pub fn roles_of<'g>(&self, groups: impl IntoIterator<Item = &'g str>) -> Vec<RoleRef> {
        let granted: HashSet<&str> =
            groups.into_iter().filter_map(|group| self.grants.get(group)).flatten().map(String::as_str).collect();
        let roles: Vec<RoleRef> = self
            .order
            .iter()
            .filter(|slug| granted.contains(slug.as_str()))
            .map(|slug| RoleRef { slug: slug.clone() })
            .collect();
        if roles.is_empty() {
            return self.default.iter().map(|slug| RoleRef { slug: slug.clone() }).collect();
        }
        roles
    }

    /// Sets `user`'s `roles` and `role` for a member of `groups`.
    pub fn apply<'g>(&self, user: &mut NormalizedUser, groups: impl IntoIterator<Item = &'g str>) {
        user.roles = self.roles_of(groups);
        user.role = user.roles.first().cloned();
    }
}

/// The assignment in force for a directory.
pub async fn assignment(store: &Store, tenant: TenantId, directory: DirectoryId) -> Result<RoleAssignment, StoreError> {
    let roles = store.roles().await?;
    if roles.is_empty() {
        return Ok(RoleAssignment::default());
    }
    Ok(RoleAssignment::new(&roles, store.tenant(tenant).group_roles(directory).await?))
}

/// A role as the operator writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInput {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub precedence: i64,
    pub is_default: bool,
}

/// A role as the APIs and the console show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleView {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub precedence: i64,
    pub is_default: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<Role> for RoleView {
    fn from(role: Role) -> Self {
        Self {
            slug: role.slug,
            name: role.name,
            description: role.description,
            precedence: role.precedence,
            is_default: role.is_default,
            created_at: super::objects::timestamp(role.created_at),
            updated_at: super::objects::timestamp(role.updated_at),
        }
    }
}

/// Why a role could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error("there is no role {0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for RoleError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => RoleError::Conflict(message.to_owned()),
            other => RoleError::Service(other.into()),
        }
    }
}

impl From<RoleError> for SyncError {
    fn from(error: RoleError) -> Self {
        match error {
            RoleError::Invalid { field, message } => SyncError::Invalid { field, message },
            RoleError::NotFound(slug) => SyncError::NotFound(format!("role {slug}")),
            RoleError::Conflict(message) => SyncError::Invalid { field: "slug", message },
            RoleError::Service(error) => SyncError::Service(error),
        }
    }
}

/// Checks a role as written: a slug of lower-case letters, digits, `-` and `_` (what the
/// product compares), a name, a positive precedence.
pub fn check_role(input: &RoleInput) -> Result<RoleInput, RoleError> {
    let slug = input.slug.trim();
    let valid_slug = !slug.is_empty()
        && slug.len() <= 64
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid_slug {
        return Err(RoleError::Invalid {
            field: "slug",
            message: "the slug must be 1 to 64 lower-case letters, digits, `-` or `_`".to_owned(),
        });
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(RoleError::Invalid { field: "name", message: "the name must be 1 to 100 characters".to_owned() });
    }
    if input.description.chars().count() > 500 {
        return Err(RoleError::Invalid {
            field: "description",
            message: "the description must be at most 500 characters".to_owned(),
        });
    }
    if !(1..=10_000).contains(&input.precedence) {
        return Err(RoleError::Invalid {
            field: "precedence",
            message: "the precedence must be a whole number from 1 (first) to 10000".to_owned(),
        });
    }
    Ok(RoleInput {
        slug: slug.to_owned(),
        name: name.to_owned(),
        description: input.description.trim().to_owned(),
        precedence: input.precedence,
        is_default: input.is_default,
    })
}

/// The deployment's roles in precedence order.
pub async fn list_roles(store: &Store) -> Result<Vec<RoleView>, ServiceError> {
    Ok(store.roles().await?.into_iter().map(RoleView::from).collect())
}

/// Adds a role (`existing: None`) or changes role `existing` (its slug cannot change).
/// Every directory's users are then re-derived in the background.
pub async fn save_role(
    store: &Store,
    input: &RoleInput,
    existing: Option<&str>,
    now: DateTime<Utc>,
) -> Result<RoleView, RoleError> {
    let input = check_role(input)?;
    let current = store.roles().await?;
    let created_at = match existing {
        Some(slug) => {
            let found =
                current.iter().find(|role| role.slug == slug).ok_or_else(|| RoleError::NotFound(slug.to_owned()))?;
            if input.slug != slug {
                return Err(RoleError::Invalid { field: "slug", message: "a role's slug cannot change".to_owned() });
            }
            found.created_at
        }
        None => now,
    };
    let role = Role {
        slug: input.slug,
        name: input.name,
        description: input.description,
        precedence: input.precedence,
        is_default: input.is_default,
        created_at,
        updated_at: now,
    };
    match store.save_role(&role, existing.is_some(), now).await {
        Ok(()) => Ok(role.into()),
        Err(StoreError::NotFound) => Err(RoleError::NotFound(role.slug)),
        Err(error) => Err(error.into()),
    }
}

/// Deletes a role and its grants; its users are re-derived in the background.
pub async fn delete_role(store: &Store, slug: &str, now: DateTime<Utc>) -> Result<(), RoleError> {
    if store.delete_role(slug, now).await? { Ok(()) } else { Err(RoleError::NotFound(slug.to_owned())) }
}

/// A group of a directory and what it grants, for the admin's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GroupGrants {
    pub group_id: String,
    pub group_name: String,
    /// Users that are direct members.
    pub members: usize,
    pub roles: Vec<String>,
}

/// How many users a role goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RoleCount {
    pub slug: String,
    pub name: String,
    pub users: usize,
}

/// The admin's page: the roles to grant, the directory's groups with their grants, how many
/// users get each role, and the re-derivation in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GroupRolesPage {
    pub roles: Vec<RoleSummary>,
    pub groups: Vec<GroupGrants>,
    pub preview: Vec<RoleCount>,
    /// Users no group grants a role and there is no default role: they get none.
    pub without_role: usize,
    pub progress: Option<RepublishProgress>,
}

/// A role as the admin picks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RoleSummary {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub is_default: bool,
}

/// Where a directory's re-derivation stands, for the portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RepublishProgress {
    pub reason: String,
    pub total: Option<i64>,
    pub done: i64,
    pub changed: i64,
    pub finished: bool,
}

impl From<RepublishJob> for RepublishProgress {
    fn from(job: RepublishJob) -> Self {
        Self {
            reason: job.reason,
            total: job.total,
            done: job.done,
            changed: job.changed,
            finished: job.finished_at.is_some(),
        }
    }
}

/// Where the re-derivation of a directory's users stands (the newest pass), if one was
/// ever requested: the portal shows it after a grant or mapping change, refreshed while it
/// runs.
pub async fn republish_progress(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<Option<RepublishProgress>, ServiceError> {
    Ok(store.tenant(tenant).republish_job(directory).await?.map(RepublishProgress::from))
}

/// The page for `grants` (the stored ones with `None`: a preview of a proposed change
/// otherwise).
pub async fn group_roles_page(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    proposed: Option<&[(String, String)]>,
) -> Result<GroupRolesPage, RoleError> {
    let endpoint = endpoint(store, tenant, directory).await?;
    let roles = store.roles().await?;
    let grants: HashMap<String, Vec<String>> = match proposed {
        Some(proposed) => {
            let mut grants: HashMap<String, Vec<String>> = HashMap::new();
            for (group, role) in proposed {
                grants.entry(group.clone()).or_default().push(role.clone());
            }
            grants
        }
        None => store.tenant(tenant).group_roles(directory).await?,
    };
    let assignment = RoleAssignment::new(&roles, grants.clone());
    // Every group, page by page, with its user members; for the counts, each user's groups
    // that grant something (users of no such group get the default).
    let mut groups = Vec::new();
    let mut granting_groups: HashMap<String, Vec<String>> = HashMap::new();
    let mut from = None;
    loop {
        let page =
            endpoint.records(ResourceKind::Group, None, from.clone(), false, 500).await.map_err(sync_internal)?;
        let ids: Vec<String> = page.records.iter().map(|record| record.id.clone()).collect();
        let members = endpoint.members_of_groups(&ids).await.map_err(sync_internal)?;
        for record in &page.records {
            let users: Vec<String> = members
                .get(&record.id)
                .into_iter()
                .flatten()
                .filter(|member| member.kind == ResourceKind::User)
                .map(|member| member.id.clone())
                .collect();
            let mut granted = grants.get(&record.id).cloned().unwrap_or_default();
            granted.sort();
            groups.push(GroupGrants {
                group_id: record.id.clone(),
                group_name: scim::normalized::normalize_group(&record.id, &record.doc).name,
                members: users.len(),
                roles: granted,
            });
            if grants.contains_key(&record.id) {
                for user in users {
                    granting_groups.entry(user).or_default().push(record.id.clone());
                }
            }
        }
        if page.records.len() < 500 {
            break;
        }
        from = page.records.last().map(|record| record.id.clone());
    }
    let total_users =
        usize::try_from(endpoint.records(ResourceKind::User, None, None, false, 1).await.map_err(sync_internal)?.total)
            .unwrap_or(0);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut without_role = 0;
    for groups in granting_groups.values() {
        let roles = assignment.roles_of(groups.iter().map(String::as_str));
        if roles.is_empty() {
            without_role += 1;
        }
        for role in roles {
            *counts.entry(role.slug).or_default() += 1;
        }
    }
    // Everyone else gets what a member of no granting group gets.
    let rest = total_users.saturating_sub(granting_groups.len());
    match assignment.roles_of([]).first() {
        Some(default) => *counts.entry(default.slug.clone()).or_default() += rest,
        None => without_role += rest,
    }
    let preview: Vec<RoleCount> = roles
        .iter()
        .map(|role| RoleCount {
            slug: role.slug.clone(),
            name: role.name.clone(),
            users: counts.get(&role.slug).copied().unwrap_or(0),
        })
        .collect();
    let progress = store.tenant(tenant).republish_job(directory).await?.map(RepublishProgress::from);
    Ok(GroupRolesPage {
        roles: roles
            .iter()
            .map(|role| RoleSummary {
                slug: role.slug.clone(),
                name: role.name.clone(),
                description: role.description.clone(),
                is_default: role.is_default,
            })
            .collect(),
        groups,
        preview,
        without_role,
        progress,
    })
}

/// Replaces the roles a directory's groups grant, as the tenant's admin chose them; each
/// group must be one of the directory's and each slug one of the deployment's roles. The
/// grants, the audit record and the request to re-derive the directory's users commit
/// together.
pub async fn save_group_roles(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    grants: &[(String, String)],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), RoleError> {
    let endpoint = endpoint(store, tenant, directory).await?;
    let roles = store.roles().await?;
    let mut checked: Vec<(String, String)> = Vec::new();
    for (group, role) in grants {
        if !roles.iter().any(|known| &known.slug == role) {
            return Err(RoleError::Invalid { field: "role", message: format!("there is no role {role}") });
        }
        if endpoint.record(ResourceKind::Group, group).await.map_err(sync_internal)?.is_none() {
            return Err(RoleError::Invalid { field: "group", message: format!("the directory has no group {group}") });
        }
        if !checked.contains(&(group.clone(), role.clone())) {
            checked.push((group.clone(), role.clone()));
        }
    }
    checked.sort();
    let detail: Vec<_> = checked.iter().map(|(group, role)| json!({ "group": group, "role": role })).collect();
    let mut action = store.tenant(tenant).begin_action().await?;
    action.set_group_roles(directory, &checked, now).await?;
    action
        .commit(actor.record("directory.group_roles_saved", Some(directory), json!({ "grants": detail }), now))
        .await?;
    Ok(())
}

async fn endpoint(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<crate::provisioning::Endpoint, RoleError> {
    // The base URL is not shown anywhere on these pages.
    crate::provisioning::portal_endpoint(store, tenant, directory, String::new())
        .await
        .map_err(sync_internal)?
        .ok_or_else(|| RoleError::NotFound(format!("directory {directory}")))
}

/// The reads here are fixed (no filter): a protocol error is a bug.
fn sync_internal(error: crate::provisioning::ProvisioningError) -> RoleError {
    RoleError::Service(error.into_service_error("reading a directory's groups and users for its roles"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(slug: &str, precedence: i64, is_default: bool) -> Role {
        let at = DateTime::UNIX_EPOCH;
        Role {
            slug: slug.into(),
            name: slug.into(),
            description: String::new(),
            precedence,
            is_default,
            created_at: at,
            updated_at: at,
        }
    }

    fn slugs(roles: &[RoleRef]) -> Vec<&str> {
        roles.iter().map(|role| role.slug.as_str()).collect()
    }

    #[test]
    fn a_user_gets_every_role_of_their_groups_in_precedence_order() {
        let roles = [role("member", 3, true), role("admin", 1, false), role("billing", 2, false)];
        let grants = HashMap::from([
            ("g-eng".to_owned(), vec!["member".to_owned()]),
            ("g-admins".to_owned(), vec!["admin".to_owned(), "billing".to_owned()]),
        ]);
        let assignment = RoleAssignment::new(&roles, grants);
        assert_eq!(slugs(&assignment.roles_of(["g-eng", "g-admins"])), ["admin", "billing", "member"]);
        assert_eq!(slugs(&assignment.roles_of(["g-eng"])), ["member"]);
    }

    #[test]
    fn a_user_no_group_grants_anything_gets_the_default_role_or_none() {
        let grants = HashMap::from([("g".to_owned(), vec!["admin".to_owned()])]);
        let with_default = RoleAssignment::new(&[role("admin", 1, false), role("viewer", 2, true)], grants.clone());
        assert_eq!(slugs(&with_default.roles_of(["other"])), ["viewer"]);
        let without = RoleAssignment::new(&[role("admin", 1, false)], grants);
        assert!(without.roles_of(["other"]).is_empty());
        assert!(RoleAssignment::default().roles_of(["g"]).is_empty());
    }

    #[test]
    fn role_is_the_first_of_roles_and_ties_go_by_slug() {
        let grants = HashMap::from([("g".to_owned(), vec!["b".to_owned(), "a".to_owned()])]);
        let assignment = RoleAssignment::new(&[role("b", 1, false), role("a", 1, false)], grants);
        let mut user = scim::normalized::normalize_user("u", &json!({ "userName": "u" }), &[]);
        assignment.apply(&mut user, ["g"]);
        assert_eq!(slugs(&user.roles), ["a", "b"]);
        assert_eq!(user.role, Some(RoleRef { slug: "a".into() }));
    }

    #[test]
    fn a_grant_of_a_role_that_no_longer_exists_grants_nothing() {
        let grants = HashMap::from([("g".to_owned(), vec!["gone".to_owned()])]);
        let assignment = RoleAssignment::new(&[role("viewer", 1, true)], grants);
        assert_eq!(slugs(&assignment.roles_of(["g"])), ["viewer"]);
    }

    #[test]
    fn a_role_is_checked_before_it_is_written() {
        let good = RoleInput {
            slug: " admin ".into(),
            name: "Admin".into(),
            description: String::new(),
            precedence: 1,
            is_default: false,
        };
        assert_eq!(check_role(&good).unwrap().slug, "admin");
        for (bad, field) in [
            (RoleInput { slug: "Admin".into(), ..good.clone() }, "slug"),
            (RoleInput { slug: "a b".into(), ..good.clone() }, "slug"),
            (RoleInput { name: " ".into(), ..good.clone() }, "name"),
            (RoleInput { precedence: 0, ..good }, "precedence"),
        ] {
            match check_role(&bad) {
                Err(RoleError::Invalid { field: got, .. }) => assert_eq!(got, field),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
