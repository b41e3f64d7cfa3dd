//! The normalized view of a provisioned user or group: what the vendor's product reads (the
//! Directory Sync model that WorkOS made common), with the same fields whatever dialect the
//! identity provider speaks, and the tenant's attribute mapping applied.
//!
//! A user's standard fields come from fixed places of the stored SCIM document (RFC 7643
//! §4.1): `idp_id` is `externalId`, else the resource id; `email` the primary email, else the
//! work email, else the first; `state` follows `active` (absent means active, as this service
//! provisions). `custom_attributes` holds exactly what the mapping produces: each mapped
//! attribute of the vendor's product, read at its source path in the stored document (core,
//! enterprise, custom extension, or an attribute no schema defines that was kept).
//!
//! Source paths are PATCH paths (RFC 7644 §3.5.2) and are read without a schema, so that
//! attributes kept under the "preserve" policy can be mapped too: names compare ignoring case
//! (RFC 7643 §2.1), a value filter compares strings ignoring case.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::filter::{CompValue, CompareOp, Filter};
use crate::path::{AttrPath, PatchPath};

/// The core schemas: an attribute path under one of them reads the document's top level.
const CORE_SCHEMAS: [&str; 2] = [crate::schema::builtin::USER, crate::schema::builtin::GROUP];

/// Where in a stored SCIM document a mapped attribute is read: `title`, `name.givenName`,
/// `emails[type eq "work"].value`, `urn:…:enterprise:2.0:User:department`,
/// `urn:…:enterprise:2.0:User:manager.value`.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePath {
    text: String,
    path: PatchPath,
}

impl SourcePath {
    /// Parses a source path; a malformed one is `400 invalidPath`.
    pub fn parse(text: &str) -> Result<Self, crate::error::ScimError> {
        let text = text.trim();
        Ok(Self { text: text.to_owned(), path: PatchPath::parse(text)? })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path in `doc`, if there is one. A path that selects several values
    /// (a sub-attribute of a multi-valued attribute, a filter several elements match) reads
    /// them as an array, in document order.
    pub fn read(&self, doc: &Value) -> Option<Value> {
        let found = match &self.path {
            PatchPath::Attr(attr) => read_attr(doc, attr),
            PatchPath::Value { attr, filter, sub_attr } => {
                let elements = container_of(doc, attr).and_then(|c| key(c, attr.name()))?;
                let selected: Vec<&Value> = match elements {
                    Value::Array(items) => items.iter().filter(|item| element_matches(filter, item)).collect(),
                    single if element_matches(filter, single) => vec![single],
                    _ => Vec::new(),
                };
                let values: Vec<Value> = selected
                    .into_iter()
                    .filter_map(|element| match sub_attr {
                        Some(sub) => key(element, sub).cloned(),
                        None => Some(element.clone()),
                    })
                    .filter(|value| !value.is_null())
                    .collect();
                one_or_many(values)
            }
            PatchPath::Schema(urn) => key(doc, urn).cloned(),
        };
        found.filter(|value| !value.is_null())
    }
}

impl fmt::Display for SourcePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for SourcePath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for SourcePath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One attribute of the vendor's product (`key`, as `custom_attributes` names it) and where
/// it is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappedAttribute {
    pub key: String,
    pub source: SourcePath,
}

/// Whether a user may sign in to the vendor's product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserState {
    Active,
    Inactive,
    /// Suspended by the tenant's admin in the portal, whatever the identity provider says
    /// (see [`Suspension`]).
    Suspended,
}

/// A local suspension: the tenant's admin stopped the user in the vendor's product while
/// the identity provider could not be reached. It overrides the state the identity
/// provider's writes give until the admin lifts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    /// RFC 3339, UTC, milliseconds.
    pub suspended_at: String,
    pub reason: String,
}

/// One of a user's email addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalizedEmail {
    pub primary: bool,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: String,
}

/// A user's fields as the vendor's product reads them. The ids of directory, tenant and
/// groups, and the roles, are the caller's to add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalizedUser {
    /// The identity provider's id of the user: `externalId`, else the resource id.
    pub idp_id: String,
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub emails: Vec<NormalizedEmail>,
    pub job_title: Option<String>,
    pub state: UserState,
    /// What the tenant's attribute mapping produces; a mapped attribute the user lacks is
    /// absent.
    pub custom_attributes: Map<String, Value>,
    /// The first of `roles` by the vendor's precedence; `None` when the user has none.
    #[serde(default)]
    pub role: Option<RoleRef>,
    /// The vendor's roles the user's groups grant (or the default role), in precedence
    /// order. Derived by the caller from the user's groups; empty from [`normalize_user`].
    #[serde(default)]
    pub roles: Vec<RoleRef>,
    /// Set while the user is suspended (its `state` is then `suspended`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspension: Option<Suspension>,
}

impl NormalizedUser {
    /// The user as the vendor's product sees it while `suspension` holds.
    pub fn suspend(&mut self, suspension: Suspension) {
        self.state = UserState::Suspended;
        self.suspension = Some(suspension);
    }
}

/// A change's view (`{"normalized": user, "previous_attributes": …}`) as the vendor's
/// product sees it while the user is suspended: `state` is `suspended` and `suspension`
/// says since when and why, whatever the identity provider wrote; neither counts among the
/// previous attributes (the product's view of them did not change).
pub fn suspended_view(view: &mut Value, suspension: &Suspension) {
    if let Some(normalized) = view.get_mut("normalized").and_then(Value::as_object_mut) {
        normalized.insert("state".to_owned(), Value::String("suspended".to_owned()));
        normalized.insert("suspension".to_owned(), serde_json::to_value(suspension).unwrap_or(Value::Null));
    }
    if let Some(previous) = view.get_mut("previous_attributes").and_then(Value::as_object_mut) {
        previous.remove("state");
        previous.remove("suspension");
    }
}

/// One of the vendor's roles, as WorkOS shows it: `{"slug": "admin"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRef {
    pub slug: String,
}

/// A group's fields as the vendor's product reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalizedGroup {
    /// The identity provider's id of the group: `externalId`, else the resource id.
    pub idp_id: String,
    pub name: String,
}

/// An agent's or agentic application's fields as the vendor's product reads them
/// (draft-abbey-scim-agent-extension-00). The directory's attribute mapping and roles are
/// a user's; they do not apply here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalizedAgent {
    /// The identity provider's id: `externalId`, else the resource id.
    pub idp_id: String,
    /// The unique `name` (what the agent authenticates as).
    pub name: String,
    /// `displayName`, else `name`.
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `active`, absent counting as active, as for users.
    pub state: UserState,
}

/// The normalized view of agent or agentic application `id`, stored as `doc`.
pub fn normalize_agent(id: &str, doc: &Value) -> NormalizedAgent {
    let name = text(key(doc, "name")).unwrap_or_default();
    let active = key(doc, "active").and_then(Value::as_bool).unwrap_or(true);
    NormalizedAgent {
        idp_id: idp_id(id, doc),
        display_name: text(key(doc, "displayName")).unwrap_or_else(|| name.clone()),
        name,
        agent_type: text(key(doc, "agentType")),
        description: text(key(doc, "description")),
        state: if active { UserState::Active } else { UserState::Inactive },
    }
}

/// The normalized view of user `id`, stored as `doc`, under `mapping`.
pub fn normalize_user(id: &str, doc: &Value, mapping: &[MappedAttribute]) -> NormalizedUser {
    let emails = emails_of(doc);
    let email = emails
        .iter()
        .find(|email| email.primary)
        .or_else(|| emails.iter().find(|email| email.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("work"))))
        .or_else(|| emails.first())
        .map(|email| email.value.clone());
    let name = key(doc, "name");
    let active = match key(doc, "active") {
        Some(Value::Bool(active)) => *active,
        // Validation stores booleans; a document from before it did may hold text.
        Some(Value::String(text)) => !text.eq_ignore_ascii_case("false"),
        _ => true,
    };
    let custom_attributes =
        mapping.iter().filter_map(|mapped| mapped.source.read(doc).map(|value| (mapped.key.clone(), value))).collect();
    NormalizedUser {
        idp_id: idp_id(id, doc),
        username: text(key(doc, "userName")),
        first_name: text(name.and_then(|name| key(name, "givenName"))),
        last_name: text(name.and_then(|name| key(name, "familyName"))),
        email,
        emails,
        job_title: text(key(doc, "title")),
        state: if active { UserState::Active } else { UserState::Inactive },
        custom_attributes,
        role: None,
        roles: Vec::new(),
        suspension: None,
    }
}

/// The normalized view of group `id`, stored as `doc`.
pub fn normalize_group(id: &str, doc: &Value) -> NormalizedGroup {
    NormalizedGroup { idp_id: idp_id(id, doc), name: text(key(doc, "displayName")).unwrap_or_default() }
}

/// What changed from `before` to `after` (two normalized views as JSON objects), as the
/// values `before` had: a field `after` added reads `null`. Within `custom_attributes`, key by
/// key, so that a consumer sees which mapped attribute moved.
pub fn previous_attributes(before: &Value, after: &Value) -> Map<String, Value> {
    let empty = Map::new();
    let (before, after) = (before.as_object().unwrap_or(&empty), after.as_object().unwrap_or(&empty));
    let mut previous = Map::new();
    let names = before.keys().chain(after.keys().filter(|name| !before.contains_key(*name)));
    for name in names {
        let (old, new) = (before.get(name).unwrap_or(&Value::Null), after.get(name).unwrap_or(&Value::Null));
        if old == new {
            continue;
        }
        let nested = name == "custom_attributes" && (old.is_object() || new.is_object());
        let value = if nested { Value::Object(previous_attributes(old, new)) } else { old.clone() };
        previous.insert(name.clone(), value);
    }
    previous
}

fn idp_id(id: &str, doc: &Value) -> String {
    text(key(doc, "externalId")).filter(|external| !external.is_empty()).unwrap_or_else(|| id.to_owned())
}

fn emails_of(doc: &Value) -> Vec<NormalizedEmail> {
    let Some(Value::Array(items)) = key(doc, "emails") else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| {
            let value = text(key(item, "value"))?;
            let primary = matches!(key(item, "primary"), Some(Value::Bool(true)));
            Some(NormalizedEmail { primary, kind: text(key(item, "type")), value })
        })
        .collect()
}

/// A string value; other JSON values are not text.
fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_owned)
}

/// The member `name` of an object, ignoring case (RFC 7643 §2.1).
fn key<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    let object = object.as_object()?;
    object.get(name).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// The object an attribute path's name is looked up in: the document for a core
/// attribute, the extension's object for an extension attribute.
fn container_of<'v>(doc: &'v Value, attr: &AttrPath) -> Option<&'v Value> {
    match attr.uri() {
        Some(uri) if !CORE_SCHEMAS.iter().any(|core| core.eq_ignore_ascii_case(uri)) => key(doc, uri),
        _ => Some(doc),
    }
}

fn read_attr(doc: &Value, attr: &AttrPath) -> Option<Value> {
    let value = container_of(doc, attr).and_then(|container| key(container, attr.name()))?;
    let Some(sub) = attr.sub_attr() else { return Some(value.clone()) };
    match value {
        Value::Array(items) => one_or_many(items.iter().filter_map(|item| key(item, sub)).cloned().collect()),
        object => key(object, sub).cloned(),
    }
}

fn one_or_many(mut values: Vec<Value>) -> Option<Value> {
    match values.len() {
        0 => None,
        1 => values.pop(),
        _ => Some(Value::Array(values)),
    }
}

/// Whether one element of a multi-valued attribute satisfies a value filter. Paths are
/// relative to the element; strings compare ignoring case, since no schema says which
/// sub-attributes are case-exact.
fn element_matches(filter: &Filter, element: &Value) -> bool {
    match filter {
        Filter::And(children) => children.iter().all(|child| element_matches(child, element)),
        Filter::Or(children) => children.iter().any(|child| element_matches(child, element)),
        Filter::Not(inner) => !element_matches(inner, element),
        Filter::Present(path) => sub_value(element, path).is_some_and(|value| !is_empty(value)),
        Filter::Compare { path, op, value } => {
            sub_value(element, path).is_some_and(|stored| compare(stored, *op, value))
        }
        // `emails[type eq "work" and value[…]]` has no meaning inside one element.
        Filter::ValuePath { .. } => false,
    }
}

fn sub_value<'v>(element: &'v Value, path: &AttrPath) -> Option<&'v Value> {
    let value = key(element, path.name())?;
    match path.sub_attr() {
        Some(sub) => key(value, sub),
        None => Some(value),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.is_empty(),
        _ => false,
    }
}

fn compare(stored: &Value, op: CompareOp, literal: &CompValue) -> bool {
    match (stored, literal) {
        (Value::String(stored), CompValue::String(literal)) => {
            let (stored, literal) = (stored.to_lowercase(), literal.to_lowercase());
            match op {
                CompareOp::Eq => stored == literal,
                CompareOp::Ne => stored != literal,
                CompareOp::Co => stored.contains(&literal),
                CompareOp::Sw => stored.starts_with(&literal),
                CompareOp::Ew => stored.ends_with(&literal),
                CompareOp::Gt => stored > literal,
                CompareOp::Ge => stored >= literal,
                CompareOp::Lt => stored < literal,
                CompareOp::Le => stored <= literal,
            }
        }
        (Value::Bool(stored), CompValue::Bool(literal)) => match op {
            CompareOp::Eq => stored == literal,
            CompareOp::Ne => stored != literal,
            _ => false,
        },
        (Value::Number(stored), CompValue::Number(literal)) => {
            let (Some(stored), Some(literal)) = (stored.as_f64(), literal.as_f64()) else { return false };
            match op {
                CompareOp::Eq => stored == literal,
                CompareOp::Ne => stored != literal,
                CompareOp::Gt => stored > literal,
                CompareOp::Ge => stored >= literal,
                CompareOp::Lt => stored < literal,
                CompareOp::Le => stored <= literal,
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
            }
        }
        (Value::Null, CompValue::Null) => op == CompareOp::Eq,
        (_, CompValue::Null) => op == CompareOp::Ne,
        _ => op == CompareOp::Ne,
    }
}

#[cfg(test)]
#[path = "normalized_tests.rs"]
mod tests;
