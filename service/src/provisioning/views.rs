//! What Directory Sync consumers read of a change besides the SCIM document: the resource
//! normalized with the tenant's attribute mapping (see [`scim::normalized`]), and for an
//! update the normalized fields it changed with their old values. Computed in the write,
//! under the mapping in force then, and stored with the change record.

use scim::normalized::{MappedAttribute, normalize_group, normalize_user, previous_attributes};
use serde_json::{Value, json};
use store::ResourceKind;

use super::Endpoint;
use crate::ServiceError;

impl Endpoint {
    /// The custom attributes the directory's mapping produces, read once per endpoint.
    pub(super) async fn mapping(&self) -> Result<&[MappedAttribute], ServiceError> {
        let mapping = self
            .mapping
            .get_or_try_init(|| async {
                let (rows, _) = crate::onboarding::mapping(&self.store, self.caller.tenant, self.caller.directory)
                    .await
                    .map_err(|error| match error {
                        crate::onboarding::OnboardingError::Service(error) => error,
                        other => ServiceError::Internal(format!("the mapping of {}: {other}", self.caller.directory)),
                    })?;
                Ok::<_, ServiceError>(crate::directory_sync::mapping::mapped_attributes(&rows))
            })
            .await?;
        Ok(mapping)
    }
}

/// The view of a change of resource `id` from the stored document `before` to `after`
/// (`None` on the side where the resource does not exist): `{"normalized": …,
/// "previous_attributes": …}`, the latter only for an update.
pub(super) fn change_view(
    kind: ResourceKind,
    id: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    mapping: &[MappedAttribute],
) -> Option<Value> {
    let normalized = |doc: &Value| match kind {
        ResourceKind::User => serde_json::to_value(normalize_user(id, doc, mapping)).ok(),
        ResourceKind::Group => serde_json::to_value(normalize_group(id, doc)).ok(),
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
    use scim::normalized::SourcePath;

    use super::*;

    fn department() -> Vec<MappedAttribute> {
        let source = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
        vec![MappedAttribute { key: "department".into(), source: SourcePath::parse(source).unwrap() }]
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
        change_view(ResourceKind::User, "u1", before, after, &department()).unwrap()
    }
}
