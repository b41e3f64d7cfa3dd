//! Stored records as SCIM resources: `id`, `meta`, a user's `groups` and a group's
//! `members` added to the stored document, then projected as the client asked.

use std::collections::HashMap;

use scim::error::ScimError;
use scim::projection::{Selection, project};
use serde_json::{Map, Value, json};
use store::{GroupRef, Member, ResourceKind, ResourceRecord};

use super::{Endpoint, Projection, ProvisioningError, Versioned, endpoint_name, etag, timestamp};

/// What a representation includes besides the stored document.
#[derive(Debug, Default)]
pub(super) struct Related {
    pub(super) groups: HashMap<String, Vec<GroupRef>>,
    pub(super) members: HashMap<String, Vec<Member>>,
}

impl Endpoint {
    /// `GET /Users/{id}` and `GET /Groups/{id}`.
    pub async fn get(
        &self,
        kind: ResourceKind,
        id: &str,
        projection: &Projection,
    ) -> Result<Versioned, ProvisioningError> {
        if self.hidden(id) {
            return Err(not_found(kind, id).into());
        }
        if kind == ResourceKind::User && self.keeps(kind, "groups", projection) {
            let (record, groups) = self.data().user_with_groups(id).await?.ok_or_else(|| not_found(kind, id))?;
            let mut related = Related::default();
            if !groups.is_empty() {
                related.groups.insert(record.id.clone(), groups);
            }
            let version = record.version;
            return Ok(Versioned { body: self.render(record, &related, projection), version });
        }
        let record = self.data().resource(kind, id).await?.ok_or_else(|| not_found(kind, id))?;
        self.respond(record, projection).await
    }

    /// Loads the `groups` of users or the `members` of groups, unless the projection
    /// leaves them out (a group may have 100,000 members: `excludedAttributes=members`
    /// must not load them).
    pub(super) async fn related(
        &self,
        kind: ResourceKind,
        records: &[ResourceRecord],
        projection: &Projection,
    ) -> Result<Related, ProvisioningError> {
        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        let mut related = Related::default();
        match kind {
            ResourceKind::User if self.keeps(kind, "groups", projection) => {
                related.groups = self.data().groups_of(&ids).await?;
            }
            ResourceKind::Group if self.keeps(kind, "members", projection) => {
                related.members = self.data().members_of(&ids).await?;
            }
            _ => {}
        }
        Ok(related)
    }

    /// Whether `attribute` survives the projection.
    pub(super) fn keeps(&self, kind: ResourceKind, attribute: &str, projection: &Projection) -> bool {
        if let Selection::Default = projection.selection() {
            // Every read without a projection (nearly all of them): the schema answers.
            return scim::projection::returned_by_default(self.registry(), kind.as_str(), attribute);
        }
        let probe: Map<String, Value> = [(attribute.to_owned(), json!([{"value": "x"}]))].into_iter().collect();
        project(self.registry(), kind.as_str(), probe, projection.selection()).contains_key(attribute)
    }

    /// The full representation of a record, before projection.
    pub(super) fn full(&self, record: ResourceRecord, related: &Related) -> Map<String, Value> {
        let ResourceRecord { kind, id, doc, version, created_at, last_modified } = record;
        let mut resource = match doc {
            Value::Object(doc) => doc,
            _ => Map::new(),
        };
        let location = self.location(kind, &id);
        match kind {
            ResourceKind::User => {
                if let Some(groups) = related.groups.get(&id) {
                    let groups: Vec<Value> = groups
                        .iter()
                        .map(|g| {
                            json!({
                                "value": g.id,
                                "display": g.display,
                                "$ref": self.location(ResourceKind::Group, &g.id),
                                "type": "direct",
                            })
                        })
                        .collect();
                    resource.insert("groups".to_owned(), Value::Array(groups));
                }
            }
            ResourceKind::Group => {
                if let Some(members) = related.members.get(&id) {
                    let members: Vec<Value> = members
                        .iter()
                        .map(|m| {
                            // RFC 7643 §8.7.1: a member has value, $ref and type.
                            json!({
                                "value": m.id,
                                "type": m.kind.as_str(),
                                "$ref": self.location(m.kind, &m.id),
                            })
                        })
                        .collect();
                    resource.insert("members".to_owned(), Value::Array(members));
                }
            }
            // Nothing of theirs lives outside the document.
            ResourceKind::Agent | ResourceKind::AgenticApplication => {}
        }
        resource.insert("id".to_owned(), Value::String(id));
        resource.insert(
            "meta".to_owned(),
            json!({
                "resourceType": kind.as_str(),
                "created": timestamp(created_at),
                "lastModified": timestamp(last_modified),
                "location": location,
                "version": etag(version),
            }),
        );
        resource
    }

    /// The representation of a record as the client asked for it.
    pub(super) fn render(&self, record: ResourceRecord, related: &Related, projection: &Projection) -> Value {
        let kind = record.kind;
        let full = self.full(record, related);
        Value::Object(project(self.registry(), kind.as_str(), full, projection.selection()))
    }

    /// The representation for change events: everything but `returned: never` values.
    pub(super) fn event_state(&self, record: &ResourceRecord) -> Value {
        let full = self.full(record.clone(), &Related::default());
        Value::Object(project(self.registry(), record.kind.as_str(), full, Selection::Default))
    }
}

pub(super) fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    ScimError::NotFound(format!("{} {id} not found", endpoint_name(kind).trim_end_matches('s')))
}
