//! The safety brake of a directory (the store holds the changes, see
//! `store::resources::brake`): its settings, the groups marked privileged, the held
//! batches, and the admin's decision on one — release (the product receives the changes,
//! in order) or discard (the directory is put back as it was). Every setting and decision
//! is recorded in the tenant's audit trail.

use chrono::{DateTime, Utc};
use serde_json::json;
pub use store::{BRAKE_WINDOW_MINUTES, BrakeSettings, HeldBatch, HeldChange, HoldReason};
use store::{DirectoryId, ListSpec, PageSpec, ResourceKind, SortField, SortKey, Store, StoreError, TenantId};

use crate::ServiceError;
use crate::actor::Actor;

/// Held changes shown per page of a batch.
pub const HELD_CHANGES_PAGE: i64 = 500;

/// Why a brake setting or decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum BrakeError {
    #[error("no such directory")]
    NoSuchDirectory,
    #[error("no such group in this directory")]
    NoSuchGroup,
    #[error("this batch was already released or discarded")]
    NotOpen,
    #[error("the percentage is a whole number from 1 to 100")]
    InvalidPercent,
    #[error("the minimum is a whole number from 1 to 1,000,000")]
    InvalidMinimum,
    /// A deleted resource cannot come back (its name was taken since).
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for BrakeError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(reason) => Self::Conflict(reason),
            other => Self::Service(other.into()),
        }
    }
}

/// A directory's brake as its page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct BrakeOverview {
    pub settings: BrakeSettings,
    /// The directory's groups (the first [`GROUPS_SHOWN`] by name), marked or not.
    pub groups: Vec<GroupChoice>,
    /// Open first, then the latest decided ones.
    pub batches: Vec<HeldBatch>,
    /// The open batch's changes (the first [`HELD_CHANGES_PAGE`]), if one is open.
    pub open_changes: Vec<HeldChangeView>,
}

/// Groups listed for marking.
pub const GROUPS_SHOWN: i64 = 500;

/// A group the admin can mark privileged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChoice {
    pub id: String,
    pub name: String,
    pub privileged: bool,
}

/// A held change in words.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldChangeView {
    pub change: HeldChange,
    /// What it does: "Deactivated alice@example.com", "Added carol to ‘Admins’"…
    pub summary: String,
    /// Who sent it: the identity provider and its token's label, or a person.
    pub by: String,
}

/// A directory's brake (`None`: no such directory of the tenant).
pub async fn overview(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<Option<BrakeOverview>, ServiceError> {
    let scope = store.tenant(tenant);
    let Some(settings) = scope.brake_settings(directory).await? else {
        return Ok(None);
    };
    let data = scope.directory_data(directory);
    let marked: std::collections::HashSet<String> = scope.privileged_groups(directory).await?.into_iter().collect();
    let spec = ListSpec {
        filter: None,
        sort: Some(SortKey { field: SortField::Name, descending: false }),
        page: PageSpec::Offset { skip: 0, take: GROUPS_SHOWN },
        hide_self_test: true,
    };
    let groups = data
        .list(ResourceKind::Group, &spec)
        .await?
        .records
        .into_iter()
        .map(|record| GroupChoice {
            name: record.doc.get("displayName").and_then(|n| n.as_str()).unwrap_or(&record.id).to_owned(),
            privileged: marked.contains(&record.id),
            id: record.id,
        })
        .collect();
    let mut batches = scope.held_batches(Some(directory), false, 20).await?;
    batches.sort_by_key(|batch| (batch.state != "open", std::cmp::Reverse(batch.opened_at)));
    let open_changes = match batches.first().filter(|batch| batch.state == "open") {
        Some(open) => {
            in_words(store, tenant, directory, scope.held_changes(directory, open.number, 0, HELD_CHANGES_PAGE).await?)
                .await?
        }
        None => Vec::new(),
    };
    Ok(Some(BrakeOverview { settings, groups, batches, open_changes }))
}

/// The directory's open batch, if changes are held (`None` also for another tenant's
/// directory): what the dashboard's banner needs, without the page's groups and changes.
pub async fn open_batch(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<Option<HeldBatch>, ServiceError> {
    Ok(store.tenant(tenant).held_batches(Some(directory), true, 1).await?.pop())
}

/// Held changes in words, with who sent them.
async fn in_words(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    changes: Vec<HeldChange>,
) -> Result<Vec<HeldChangeView>, ServiceError> {
    let scope = store.tenant(tenant);
    let data = scope.directory_data(directory);
    let idp = scope.directory(directory).await?.map(|d| d.idp.display_name()).unwrap_or("The identity provider");
    let tokens: std::collections::HashMap<String, String> = scope
        .directory_tokens(directory)
        .await?
        .into_iter()
        .map(|token| (format!("token:{}", token.id), format!("{idp} (token ‘{}’)", token.label)))
        .collect();
    let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut shown = Vec::with_capacity(changes.len());
    for change in changes {
        let members = store::change_members(&change.data);
        let mut member_names = Vec::new();
        for (member, before) in members.iter().zip(&change.member_names).take(3) {
            if !names.contains_key(member) {
                // As it is now, else as it was before the batch (deleted by it since).
                let name = match data.resource(ResourceKind::User, member).await? {
                    Some(user) => user.doc.get("userName").and_then(|n| n.as_str()).unwrap_or(member).to_owned(),
                    None => before.clone(),
                };
                names.insert(member.clone(), name);
            }
            member_names.push(names[member].clone());
        }
        let who = if members.len() > 3 {
            format!("{} and {} more", member_names.join(", "), members.len() - 3)
        } else {
            member_names.join(", ")
        };
        let mut name = change.resource_name.clone();
        if name == change.resource_id {
            let kind = if change.resource_type == "Group" { ResourceKind::Group } else { ResourceKind::User };
            if let Some(record) = data.resource(kind, &change.resource_id).await? {
                let key = if kind == ResourceKind::Group { "displayName" } else { "userName" };
                name = record.doc.get(key).and_then(|n| n.as_str()).unwrap_or(&name).to_owned();
            }
        }
        let summary = match change.kind.as_str() {
            "user.created" => format!("Created {name}"),
            "user.updated" => format!("Updated {name}"),
            "user.deactivated" => format!("Deactivated {name}"),
            "user.reactivated" => format!("Reactivated {name}"),
            "user.deleted" => format!("Deleted {name}"),
            "group.created" => format!("Created the group ‘{name}’"),
            "group.updated" => format!("Updated the group ‘{name}’"),
            "group.deleted" => format!("Deleted the group ‘{name}’"),
            "group.member_added" => format!("Added {who} to ‘{name}’"),
            "group.member_removed" => format!("Removed {who} from ‘{name}’"),
            other => format!("{other} {name}"),
        };
        let by = tokens.get(&change.actor).cloned().unwrap_or_else(|| change.actor.clone());
        shown.push(HeldChangeView { change, summary, by });
    }
    Ok(shown)
}

/// The brake settings as the admin's form sends them.
#[derive(Debug, Clone, Copy)]
pub struct SettingsForm<'a> {
    pub enabled: bool,
    pub percent: &'a str,
    pub minimum: &'a str,
}

impl SettingsForm<'_> {
    /// The settings the form asks for, or why they cannot be.
    pub fn parse(self) -> Result<BrakeSettings, BrakeError> {
        let SettingsForm { enabled, percent, minimum } = self;
        let percent = percent.trim().parse::<i32>().map_err(|_| BrakeError::InvalidPercent)?;
        let minimum = minimum.trim().replace(',', "").parse::<i32>().map_err(|_| BrakeError::InvalidMinimum)?;
        validated(BrakeSettings { enabled, percent, minimum })
    }
}

/// The settings when they are within bounds.
pub fn validated(settings: BrakeSettings) -> Result<BrakeSettings, BrakeError> {
    if !(1..=100).contains(&settings.percent) {
        return Err(BrakeError::InvalidPercent);
    }
    if !(1..=1_000_000).contains(&settings.minimum) {
        return Err(BrakeError::InvalidMinimum);
    }
    Ok(settings)
}

/// Saves a directory's brake settings (from the admin's form or the operator API).
pub async fn set_settings(
    store: &Store,
    actor: &Actor,
    tenant: TenantId,
    directory: DirectoryId,
    settings: BrakeSettings,
    now: DateTime<Utc>,
) -> Result<BrakeSettings, BrakeError> {
    let settings = validated(settings)?;
    let BrakeSettings { enabled, percent, minimum } = settings;
    let mut action = store.tenant(tenant).begin_action().await?;
    if !action.set_brake_settings(directory, settings).await? {
        return Err(BrakeError::NoSuchDirectory);
    }
    let detail = json!({ "enabled": enabled, "percent": percent, "minimum": minimum });
    action.commit(actor.record("directory.brake_set", Some(directory), detail, now)).await?;
    Ok(settings)
}

/// A directory's brake settings; `None`: no such directory of the tenant.
pub async fn settings(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
) -> Result<Option<BrakeSettings>, ServiceError> {
    Ok(store.tenant(tenant).brake_settings(directory).await?)
}

/// Marks a group privileged (adding members to it is then held for review) or not.
pub async fn set_privileged(
    store: &Store,
    actor: &Actor,
    tenant: TenantId,
    directory: DirectoryId,
    group: &str,
    privileged: bool,
    now: DateTime<Utc>,
) -> Result<(), BrakeError> {
    let mut action = store.tenant(tenant).begin_action().await?;
    if !action.set_group_privileged(directory, group, privileged, now).await? {
        return Err(BrakeError::NoSuchGroup);
    }
    let kind = if privileged { "group.marked_privileged" } else { "group.unmarked_privileged" };
    action.commit(actor.record(kind, Some(directory), json!({ "group": group }), now)).await?;
    Ok(())
}

/// What the admin decided about a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Release,
    Discard,
}

/// Releases or discards an open batch as one unit, recorded in the tenant's trail with
/// what it held. Answers how many changes were published (release) or resources put back
/// (discard).
pub async fn decide(
    store: &Store,
    actor: &Actor,
    tenant: TenantId,
    directory: DirectoryId,
    number: i64,
    decision: Decision,
    now: DateTime<Utc>,
) -> Result<usize, BrakeError> {
    let scope = store.tenant(tenant);
    let batch = scope.held_batch(directory, number).await?.ok_or(BrakeError::NotOpen)?;
    if batch.state != "open" {
        return Err(BrakeError::NotOpen);
    }
    let data = scope.directory_data(directory);
    let detail = json!({
        "batch": number,
        "reason": batch.reason.as_str(),
        "changes": batch.changes,
        "revocations": batch.revocations,
    });
    let (kind, result) = match decision {
        Decision::Release => {
            let record = actor.record("held_changes.released", Some(directory), detail, now);
            ("released", data.release_held(number, &decided_by(actor), now, &record).await)
        }
        Decision::Discard => {
            let record = actor.record("held_changes.discarded", Some(directory), detail, now);
            ("discarded", data.discard_held(number, &decided_by(actor), now, &record).await)
        }
    };
    match result {
        Ok(count) => {
            tracing::info!(%tenant, %directory, number, count, "held changes {kind}");
            Ok(count)
        }
        Err(StoreError::NotFound) => Err(BrakeError::NotOpen),
        Err(error) => Err(error.into()),
    }
}

/// Who decided, as the batch shows it: a person by email, anyone else by the trail's name.
fn decided_by(actor: &Actor) -> String {
    match actor {
        Actor::Admin { email, .. } | Actor::Operator { email, .. } => email.clone(),
        Actor::PortalLink { name, .. } => name.clone(),
        other => other.audit_name(),
    }
}
