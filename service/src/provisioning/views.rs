//! What Directory Sync consumers read of a change besides the SCIM document: the resource
//! normalized with the tenant's attribute mapping (see [`scim::normalized`]), and for an
//! update the normalized fields it changed with their old values. Computed in the write,
//! under the mapping in force then, and stored with the change record.

use scim::normalized::{normalize_agent, normalize_group, normalize_user, previous_attributes};
use serde_json::{Value, json};
use store::ResourceKind;

use super::{Endpoint, ProvisioningError};
use crate::ServiceError;
use crate::directory_sync::UserShaping;

impl Endpoint {
    /// What shapes the directory's users (its attribute mapping and roles), read once per
    /// endpoint.
    pub(super) async fn shaping(&self) -> Result<&UserShaping, ServiceError> {
        self.shaping
            .get_or_try_init(|| async {
                UserShaping::of(&self.store, self.caller.tenant, self.caller.directory).await.map_err(|error| {
                    match error {
                        crate::directory_sync::SyncError::Service(error) => error,
                        other => {
                            ServiceError::Internal(format!("the user shaping of {}: {other}", self.caller.directory))
                        }
                    }
                })
            })
            .await
    }

    /// The ids of the groups of user `id` when its roles depend on them (none otherwise, and
    /// for groups). Read before the write's transaction: a membership change meanwhile queues
    /// the user for re-derivation, so the roles catch up.
    pub(super) async fn role_groups(&self, kind: ResourceKind, id: &str) -> Result<Vec<String>, ProvisioningError> {
        if kind != ResourceKind::User || !self.shaping().await?.roles.depends_on_groups() {
            return Ok(Vec::new());
        }
        let groups = self.data().groups_of(&[id.to_owned()]).await?;
        Ok(groups.get(id).into_iter().flatten().map(|group| group.id.clone()).collect())
    }
}

/// The view of a change of resource `id` from the stored document `before` to `after`
/// (`None` on the side where the resource does not exist): `{"normalized": …,
/// "previous_attributes": …}`, the latter only for an update. A user's roles are those of
/// `groups`.
pub(super) fn change_view(
    kind: ResourceKind,
    id: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    shaping: &UserShaping,
    groups: &[String],
) -> Option<Value> {
    let normalized = |doc: &Value| match kind {
        ResourceKind::User => {
            let mut user = normalize_user(id, doc, &shaping.mapping);
            shaping.roles.apply(&mut user, groups.iter().map(String::as_str));
            serde_json::to_value(user).ok()
        }
        ResourceKind::Group => serde_json::to_value(normalize_group(id, doc)).ok(),
        ResourceKind::Agent | ResourceKind::AgenticApplication => serde_json::to_value(normalize_agent(id, doc)).ok(),
    };
    let (before, after) = (before.and_then(normalized), after.and_then(normalized));
    let previous = match (&before, &after) {
        (Some(before), Some(after)) => Value::Object(previous_attributes(before, after)),
        _ => Value::Null,
    };
    let normalized = after.or(before)?;
    Some(json!({ "normalized": normalized, "previous_attributes": previous }))
}

#[cfg(test)]
mod tests {
    use scim::normalized::{MappedAttribute, SourcePath};

    use super::*;

    fn department() -> UserShaping {
        let source = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
        let mapping = vec![MappedAttribute { key: "department".into(), source: SourcePath::parse(source).unwrap() }];
        UserShaping { mapping, roles: Default::default() }
    }

    fn user(department: &str, active: bool) -> Value {
        json!({
            "userName": "ada",
            "active": active,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": department },
        })
    }

    #[test]
    fn an_update_names_the_normalized_fields_it_changed_with_their_old_values() {
        let view = views_of(Some(&user("R&D", true)), Some(&user("Sales", false)));
        assert_eq!(view["normalized"]["state"], "inactive");
        assert_eq!(view["normalized"]["custom_attributes"], json!({ "department": "Sales" }));
        assert_eq!(
            view["previous_attributes"],
            json!({ "state": "active", "custom_attributes": { "department": "R&D" } })
        );
    }

    #[test]
    fn a_creation_and_a_deletion_carry_the_resource_without_previous_attributes() {
        let created = views_of(None, Some(&user("R&D", true)));
        assert_eq!(
            (created["normalized"]["username"].as_str(), &created["previous_attributes"]),
            (Some("ada"), &Value::Null)
        );
        let deleted = views_of(Some(&user("R&D", true)), None);
        assert_eq!(deleted["normalized"]["custom_attributes"]["department"], "R&D", "as it was");
    }

    fn views_of(before: Option<&Value>, after: Option<&Value>) -> Value {
        change_view(ResourceKind::User, "u1", before, after, &department(), &[]).unwrap()
    }
}
