//! PATCH (RFC 7644 §3.5.2): parse a PatchOp body, then apply its operations to a copy of a
//! stored resource; the copy is returned only if every operation succeeded, so a request
//! applies entirely or not at all.
//!
//! Decisions where the RFC leaves room, each because identity providers depend on it:
//! - `op` is read ignoring case (Entra ID sends `Add`, `Replace`, `Remove`).
//! - `add`/`replace` without `path` accept keys that are attribute paths (`name.givenName`,
//!   `urn:…:enterprise:2.0:User:department`) as well as attribute names and extension URNs;
//!   read-only attributes in such an object (`id`, `meta`, `schemas`) are ignored, as in a
//!   POST body.
//! - `add`/`replace` with a value filter and a sub-attribute that match no element create
//!   the element when the filter is `type eq "…"`: Entra ID's default mappings write
//!   `emails[type eq "work"].value` to users that have no work email yet.
//! - `remove` of a multi-valued attribute with a `value` list removes just those elements
//!   (Entra ID removes group members that way); without a value, the whole attribute.
//! - Removing something that is not there succeeds: IdPs retry, and PATCH must be idempotent.
//! - A group's `members` can be taken out of the request as [`MemberOperation`]s, so that the
//!   storage layer applies them without loading the group's members.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::check::{UnknownAttributes, check};
use crate::filter::eval::matches;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::path::{AttrPath, PatchPath};
use crate::schema::{AttrType, AttributeDef, Mutability, SchemaRegistry};

/// The URN of the PATCH request message (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The three operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

/// One operation of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// A parsed PatchOp request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    operations: Vec<PatchOperation>,
}

/// A change of a group's membership, by member id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberOperation {
    Add(Vec<String>),
    Remove(Vec<String>),
    RemoveAll,
    /// The new complete list.
    Replace(Vec<String>),
}

fn syntax(message: String) -> ScimError {
    ScimError::InvalidSyntax(message)
}

/// Case-insensitive lookup of an object key.
fn get_ci<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    object.get(key).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

impl PatchRequest {
    /// Parses a PatchOp body for `resource_type`.
    pub fn parse(body: &Value, registry: &SchemaRegistry, resource_type: &str) -> Result<Self, ScimError> {
        let body = body.as_object().ok_or_else(|| syntax("the body must be a JSON object".into()))?;
        let schemas = get_ci(body, "schemas").and_then(Value::as_array);
        if !schemas
            .is_some_and(|s| s.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))))
        {
            return Err(syntax(format!("\"schemas\" must contain {PATCH_OP_SCHEMA}")));
        }
        let operations = get_ci(body, "Operations")
            .and_then(Value::as_array)
            .filter(|ops| !ops.is_empty())
            .ok_or_else(|| syntax("\"Operations\" must be a non-empty array".into()))?;
        let rt = registry
            .resource_type(resource_type)
            .ok_or_else(|| ScimError::NotFound(format!("resource type {resource_type}")))?;
        let is_schema = |urn: &str| {
            rt.schema().eq_ignore_ascii_case(urn) || rt.extensions().iter().any(|(e, _)| e.eq_ignore_ascii_case(urn))
        };
        let operations = operations
            .iter()
            .enumerate()
            .map(|(index, operation)| {
                let at = |e: ScimError| with_index(e, index);
                let operation =
                    operation.as_object().ok_or_else(|| at(syntax("an operation must be an object".into())))?;
                let op = match get_ci(operation, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                    Some("add") => PatchOpKind::Add,
                    Some("remove") => PatchOpKind::Remove,
                    Some("replace") => PatchOpKind::Replace,
                    _ => return Err(at(syntax("\"op\" must be add, remove or replace".into()))),
                };
                let path = match get_ci(operation, "path") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(path)) if path.trim().is_empty() => None,
                    Some(Value::String(path)) => {
                        Some(PatchPath::parse_with_schemas(path.trim(), is_schema).map_err(|e| at(e.into()))?)
                    }
                    Some(_) => return Err(at(ScimError::InvalidPath("\"path\" must be a string".into()))),
                };
                let value = get_ci(operation, "value").cloned();
                if op != PatchOpKind::Remove && value.is_none() {
                    return Err(at(ScimError::InvalidValue("add and replace need a \"value\"".into())));
                }
                Ok(PatchOperation { op, path, value })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { operations })
    }

    /// The operations, in request order.
    pub fn operations(&self) -> &[PatchOperation] {
        &self.operations
    }

    /// Removes the operations on a group's `members` and returns them, in order, as
    /// membership changes by id.
    pub fn take_member_operations(&mut self) -> Result<Vec<MemberOperation>, ScimError> {
        let mut members = Vec::new();
        let mut rest = Vec::new();
        for (index, mut operation) in std::mem::take(&mut self.operations).into_iter().enumerate() {
            let at = |e: ScimError| with_index(e, index);
            match &operation.path {
                None => {
                    // `{"op": "add", "value": {"members": […], …}}`
                    if let Some(Value::Object(value)) = &mut operation.value
                        && let Some(key) = value.keys().find(|k| k.eq_ignore_ascii_case("members")).cloned()
                    {
                        let list = value.remove(&key).unwrap_or(Value::Null);
                        let ids = member_ids(&list).map_err(at)?;
                        members.push(match operation.op {
                            PatchOpKind::Replace => MemberOperation::Replace(ids),
                            _ => MemberOperation::Add(ids),
                        });
                        if value.is_empty() {
                            continue;
                        }
                    }
                    rest.push(operation);
                }
                Some(PatchPath::Attr(path)) if path.name().eq_ignore_ascii_case("members") => {
                    if path.sub_attr().is_some() {
                        return Err(at(ScimError::InvalidPath(
                            "members can be changed only as a whole list or by members[value eq \"id\"]".into(),
                        )));
                    }
                    let value = operation.value.as_ref();
                    members.push(match (operation.op, value) {
                        (PatchOpKind::Add, Some(value)) => MemberOperation::Add(member_ids(value).map_err(at)?),
                        (PatchOpKind::Replace, Some(value)) => MemberOperation::Replace(member_ids(value).map_err(at)?),
                        (PatchOpKind::Remove, Some(value)) if !value.is_null() => {
                            MemberOperation::Remove(member_ids(value).map_err(at)?)
                        }
                        (PatchOpKind::Remove, _) => MemberOperation::RemoveAll,
                        _ => return Err(at(ScimError::InvalidValue("add and replace need a \"value\"".into()))),
                    });
                }
                Some(PatchPath::Value { attr, filter, sub_attr }) if attr.name().eq_ignore_ascii_case("members") => {
                    if operation.op != PatchOpKind::Remove || sub_attr.is_some() {
                        return Err(at(ScimError::InvalidPath(
                            "members can be added or replaced only as a list; a filter selects members to remove"
                                .into(),
                        )));
                    }
                    let ids = filter_ids(filter).ok_or_else(|| {
                        at(ScimError::InvalidFilter(
                            "members are selected by value: members[value eq \"id\" or value eq \"id2\"]".into(),
                        ))
                    })?;
                    members.push(MemberOperation::Remove(ids));
                }
                _ => rest.push(operation),
            }
        }
        self.operations = rest;
        Ok(members)
    }
}

/// `value eq "a"`, or several of those joined by `or`.
fn filter_ids(filter: &Filter) -> Option<Vec<String>> {
    match filter {
        Filter::Compare { path, op: CompareOp::Eq, value: CompValue::String(id) }
            if path.name().eq_ignore_ascii_case("value") && path.sub_attr().is_none() && path.uri().is_none() =>
        {
            Some(vec![id.clone()])
        }
        Filter::Or(children) => children.iter().map(filter_ids).try_fold(Vec::new(), |mut all, ids| {
            all.extend(ids?);
            Some(all)
        }),
        _ => None,
    }
}

/// The ids of a `members` value: one `{"value": id}` or a list of them.
fn member_ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let items = match value {
        Value::Array(items) => items.as_slice(),
        Value::Object(_) => std::slice::from_ref(value),
        _ => return Err(ScimError::InvalidValue("members must be a list of {\"value\": id}".into())),
    };
    items
        .iter()
        .map(|item| {
            item.as_object()
                .and_then(|o| get_ci(o, "value"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| ScimError::InvalidValue("every member needs a string \"value\" (its id)".into()))
        })
        .collect()
}

/// Prefixes an error's detail with the (1-based) operation it comes from.
fn with_index(error: ScimError, index: usize) -> ScimError {
    let n = index + 1;
    match error {
        ScimError::InvalidSyntax(d) => ScimError::InvalidSyntax(format!("operation {n}: {d}")),
        ScimError::InvalidPath(d) => ScimError::InvalidPath(format!("operation {n}: {d}")),
        ScimError::InvalidValue(d) => ScimError::InvalidValue(format!("operation {n}: {d}")),
        ScimError::InvalidFilter(d) => ScimError::InvalidFilter(format!("operation {n}: {d}")),
        ScimError::NoTarget(d) => ScimError::NoTarget(format!("operation {n}: {d}")),
        ScimError::Mutability(d) => ScimError::Mutability(format!("operation {n}: {d}")),
        other => other,
    }
}

/// Applies every operation of `request` to a copy of `resource` (canonical attribute names,
/// extensions under their URN; no `id` or `meta`), returning the copy.
pub fn apply(
    resource: &Map<String, Value>,
    request: &PatchRequest,
    registry: &SchemaRegistry,
    resource_type: &str,
) -> Result<Map<String, Value>, ScimError> {
    let patcher = Patcher { registry, resource_type };
    let mut doc = resource.clone();
    for (index, operation) in request.operations.iter().enumerate() {
        patcher.operation(&mut doc, operation).map_err(|e| with_index(e, index))?;
    }
    patcher.tidy(&mut doc);
    Ok(doc)
}

struct Patcher<'r> {
    registry: &'r SchemaRegistry,
    resource_type: &'r str,
}

/// A resolved attribute path.
struct Target<'r> {
    /// The extension URN the attribute is stored under.
    extension: Option<String>,
    def: &'r AttributeDef,
    sub: Option<&'r AttributeDef>,
}

impl Target<'_> {
    fn name(&self) -> &str {
        self.def.name()
    }
}

impl<'r> Patcher<'r> {
    fn target(&self, path: &AttrPath) -> Result<Target<'r>, ScimError> {
        let unknown = || ScimError::InvalidPath(format!("unknown attribute {path}"));
        let top = AttrPath::new(path.uri(), path.name(), None).map_err(|_| unknown())?;
        let def = self.registry.resolve(self.resource_type, &top).ok_or_else(unknown)?;
        let extension = self.registry.extension_of(self.resource_type, &top).map(str::to_owned);
        let sub = match path.sub_attr() {
            Some(sub) => Some(def.sub_attribute(sub).ok_or_else(unknown)?),
            None => None,
        };
        let read_only =
            def.mutability() == Mutability::ReadOnly || sub.is_some_and(|s| s.mutability() == Mutability::ReadOnly);
        if read_only {
            return Err(ScimError::Mutability(format!("{path} is read-only")));
        }
        Ok(Target { extension, def, sub })
    }

    fn is_extension(&self, key: &str) -> Option<String> {
        let rt = self.registry.resource_type(self.resource_type)?;
        rt.extensions().iter().find(|(e, _)| e.eq_ignore_ascii_case(key)).map(|(e, _)| e.clone())
    }

    fn operation(&self, doc: &mut Map<String, Value>, operation: &PatchOperation) -> Result<(), ScimError> {
        let value = operation.value.clone().unwrap_or(Value::Null);
        match (operation.op, &operation.path) {
            (PatchOpKind::Remove, None) => Err(ScimError::NoTarget("remove needs a \"path\"".into())),
            (PatchOpKind::Remove, Some(PatchPath::Attr(path))) => self.remove(doc, path, operation.value.as_ref()),
            (PatchOpKind::Remove, Some(PatchPath::Schema(urn))) => {
                if let Some(urn) = self.is_extension(urn) {
                    doc.remove(&urn);
                }
                Ok(())
            }
            (PatchOpKind::Remove, Some(PatchPath::Value { attr, filter, sub_attr })) => {
                self.remove_matching(doc, attr, filter, sub_attr.as_deref())
            }
            (op, None) => {
                let Value::Object(object) = value else {
                    return Err(ScimError::InvalidValue("without a path, the value must be an object".into()));
                };
                self.set_object(doc, op, None, object)
            }
            (op, Some(PatchPath::Schema(urn))) => {
                let Value::Object(object) = value else {
                    return Err(ScimError::InvalidValue(format!("the value of {urn} must be an object")));
                };
                let urn =
                    self.is_extension(urn).ok_or_else(|| ScimError::InvalidPath(format!("unknown schema {urn}")))?;
                self.set_object(doc, op, Some(&urn), object)
            }
            (op, Some(PatchPath::Attr(path))) => {
                let target = self.target(path)?;
                self.set(doc, op, &target, value)
            }
            (op, Some(PatchPath::Value { attr, filter, sub_attr })) => {
                self.set_matching(doc, op, attr, filter, sub_attr.as_deref(), value)
            }
        }
    }

    /// `add`/`replace` of an object of attributes (no path, or a whole extension).
    fn set_object(
        &self,
        doc: &mut Map<String, Value>,
        op: PatchOpKind,
        extension: Option<&str>,
        object: Map<String, Value>,
    ) -> Result<(), ScimError> {
        for (key, value) in object {
            let not_an_attribute = if extension.is_none() { &["schemas", "id", "meta"][..] } else { &["schemas"][..] };
            if not_an_attribute.iter().any(|k| key.eq_ignore_ascii_case(k)) {
                continue;
            }
            if extension.is_none()
                && let Some(urn) = self.is_extension(&key)
            {
                let Value::Object(inner) = value else {
                    return Err(ScimError::InvalidValue(format!("the value of {urn} must be an object")));
                };
                self.set_object(doc, op, Some(&urn), inner)?;
                continue;
            }
            let path = match extension {
                Some(urn) => AttrPath::parse(&format!("{urn}:{key}")),
                None => AttrPath::parse(&key),
            }
            .map_err(|_| ScimError::InvalidPath(format!("{key:?} is not an attribute path")))?;
            let target = match self.target(&path) {
                // Read-only attributes in a value object are ignored, as in a POST body.
                Err(ScimError::Mutability(_)) => continue,
                other => other?,
            };
            self.set(doc, op, &target, value)?;
        }
        Ok(())
    }

    /// The object holding a target's attribute: the resource, or its extension object
    /// (created when missing).
    fn container<'d>(
        doc: &'d mut Map<String, Value>,
        extension: Option<&str>,
    ) -> Result<&'d mut Map<String, Value>, ScimError> {
        let Some(urn) = extension else {
            return Ok(doc);
        };
        let slot = doc.entry(urn.to_owned()).or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        slot.as_object_mut().ok_or_else(|| ScimError::Internal(format!("{urn} is not an object")))
    }

    /// `add` or `replace` at an attribute path.
    fn set(
        &self,
        doc: &mut Map<String, Value>,
        op: PatchOpKind,
        target: &Target<'_>,
        value: Value,
    ) -> Result<(), ScimError> {
        let container = Self::container(doc, target.extension.as_deref())?;
        let name = target.name().to_owned();
        if value.is_null() {
            // Setting null unassigns (RFC 7643 §2.5).
            remove_key(container, &name, target.sub.map(AttributeDef::name));
            return Ok(());
        }
        match (target.sub, target.def.multi_valued()) {
            (None, false) => {
                let merged = match (container.get(&name), &value) {
                    (Some(Value::Object(old)), Value::Object(new)) if target.def.ty() == AttrType::Complex => {
                        let mut merged = old.clone();
                        for (k, v) in new {
                            let k = canonical_sub(target.def, k);
                            if v.is_null() {
                                merged.remove(&k);
                            } else {
                                merged.insert(k, v.clone());
                            }
                        }
                        Value::Object(merged)
                    }
                    _ => value,
                };
                container.insert(name, merged);
            }
            (None, true) => {
                let items = match value {
                    Value::Array(items) => items,
                    single => vec![single],
                };
                let items: Vec<Value> = items.into_iter().filter(|v| !v.is_null()).collect();
                if target.def.ty() == AttrType::Complex && items.iter().any(|item| !item.is_object()) {
                    return Err(ScimError::InvalidValue(format!("the values of {name} must be objects")));
                }
                let mut list = match (op, container.remove(&name)) {
                    (PatchOpKind::Add, Some(Value::Array(old))) => old,
                    _ => Vec::new(),
                };
                let new_primary = items.iter().any(is_primary);
                if new_primary {
                    list.iter_mut().for_each(clear_primary);
                }
                let last_primary = items.iter().rposition(is_primary);
                for (i, mut item) in items.into_iter().enumerate() {
                    if new_primary && Some(i) != last_primary {
                        clear_primary(&mut item);
                    }
                    if !list.contains(&item) {
                        list.push(item);
                    }
                }
                container.insert(name, Value::Array(list));
            }
            (Some(sub), false) => {
                let parent = container.entry(name).or_insert_with(|| Value::Object(Map::new()));
                if !parent.is_object() {
                    *parent = Value::Object(Map::new());
                }
                if let Value::Object(parent) = parent {
                    parent.insert(sub.name().to_owned(), value);
                }
            }
            (Some(sub), true) => {
                return Err(ScimError::InvalidPath(format!(
                    "{name}.{} names a sub-attribute of every {name} value; select values with a filter, e.g. {name}[type eq \"work\"].{}",
                    sub.name(),
                    sub.name()
                )));
            }
        }
        Ok(())
    }

    /// The elements of a multi-valued attribute a value filter selects.
    fn selected(
        &self,
        container: &Map<String, Value>,
        target: &Target<'_>,
        attr: &AttrPath,
        filter: &Filter,
    ) -> Result<Vec<usize>, ScimError> {
        let full = Filter::ValuePath { path: attr.clone(), filter: Box::new(filter.clone()) };
        let schema = self.registry.for_resource_type(self.resource_type);
        let checked = check(&full, &schema, UnknownAttributes::Reject).map_err(ScimError::from)?;
        let Some(Value::Array(items)) = container.get(target.name()) else {
            return Ok(Vec::new());
        };
        Ok(items
            .iter()
            .enumerate()
            .filter(|(_, item)| {
                // Evaluate on a resource holding just this element, where the filter's
                // location (with its extension) finds it.
                let mut one = Map::new();
                one.insert(target.name().to_owned(), Value::Array(vec![(*item).clone()]));
                let resource = match &target.extension {
                    Some(urn) => Value::Object([(urn.clone(), Value::Object(one))].into_iter().collect()),
                    None => Value::Object(one),
                };
                matches(&checked, &resource)
            })
            .map(|(i, _)| i)
            .collect())
    }

    fn value_path_target(&self, attr: &AttrPath, sub: Option<&str>) -> Result<(Target<'r>, Option<String>), ScimError> {
        let target = self.target(attr)?;
        if !target.def.multi_valued() || target.def.ty() != AttrType::Complex {
            return Err(ScimError::InvalidPath(format!("{attr} is not a multi-valued complex attribute")));
        }
        let sub = match sub {
            Some(sub) => {
                let def = target
                    .def
                    .sub_attribute(sub)
                    .ok_or_else(|| ScimError::InvalidPath(format!("unknown attribute {attr}.{sub}")))?;
                if def.mutability() == Mutability::ReadOnly {
                    return Err(ScimError::Mutability(format!("{attr}.{sub} is read-only")));
                }
                Some(def.name().to_owned())
            }
            None => None,
        };
        Ok((target, sub))
    }

    /// `add`/`replace` at `attr[filter]` or `attr[filter].sub`.
    fn set_matching(
        &self,
        doc: &mut Map<String, Value>,
        op: PatchOpKind,
        attr: &AttrPath,
        filter: &Filter,
        sub: Option<&str>,
        value: Value,
    ) -> Result<(), ScimError> {
        let (target, sub) = self.value_path_target(attr, sub)?;
        if sub.is_none() && !value.is_object() {
            return Err(ScimError::InvalidValue(format!("a value of {attr} must be an object")));
        }
        let selected = self.selected(Self::container(doc, target.extension.as_deref())?, &target, attr, filter)?;
        let container = Self::container(doc, target.extension.as_deref())?;
        let name = target.name().to_owned();
        if selected.is_empty() {
            // Entra ID: `emails[type eq "work"].value` on a user without a work email.
            if let (Some(sub), Some(kind)) = (&sub, type_equality(filter)) {
                let mut element = Map::new();
                element.insert("type".to_owned(), Value::String(kind));
                element.insert(sub.clone(), value);
                let list = container.entry(name).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(list) = list {
                    list.push(Value::Object(element));
                }
                return Ok(());
            }
            return Err(ScimError::NoTarget(format!("no value of {attr} matches the filter")));
        }
        let Some(Value::Array(items)) = container.get_mut(&name) else {
            return Ok(());
        };
        let sets_primary = match &sub {
            Some(sub) => sub == "primary" && value == Value::Bool(true),
            None => is_primary(&value),
        };
        if sets_primary {
            items.iter_mut().for_each(clear_primary);
        }
        for (n, &i) in selected.iter().enumerate() {
            let Some(item) = items.get_mut(i) else { continue };
            match &sub {
                Some(sub) => {
                    if let Value::Object(element) = item {
                        if value.is_null() {
                            element.remove(sub);
                        } else {
                            element.insert(sub.clone(), value.clone());
                        }
                    }
                }
                None => match (op, &value, &mut *item) {
                    (PatchOpKind::Add, Value::Object(new), Value::Object(element)) => {
                        for (k, v) in new {
                            element.insert(canonical_sub(target.def, k), v.clone());
                        }
                    }
                    _ => *item = value.clone(),
                },
            }
            // Only one element can be primary.
            if sets_primary && n + 1 < selected.len() {
                clear_primary(item);
            }
        }
        Ok(())
    }

    /// `remove` at an attribute path (with Entra ID's value list for multi-valued ones).
    fn remove(&self, doc: &mut Map<String, Value>, path: &AttrPath, value: Option<&Value>) -> Result<(), ScimError> {
        let target = self.target(path)?;
        let container = Self::container(doc, target.extension.as_deref())?;
        let name = target.name().to_owned();
        match (target.sub, value) {
            (None, Some(Value::Array(remove))) if target.def.multi_valued() => {
                if let Some(Value::Array(items)) = container.get_mut(&name) {
                    let key = |v: &Value| v.as_object().and_then(|o| get_ci(o, "value")).cloned();
                    items.retain(|item| !remove.iter().any(|r| r == item || (key(r).is_some() && key(r) == key(item))));
                }
            }
            (None, _) => {
                container.remove(&name);
            }
            (Some(sub), _) => match container.get_mut(&name) {
                Some(Value::Object(parent)) => {
                    parent.remove(sub.name());
                }
                Some(Value::Array(items)) => {
                    for item in items.iter_mut().filter_map(Value::as_object_mut) {
                        item.remove(sub.name());
                    }
                }
                _ => {}
            },
        }
        Ok(())
    }

    /// `remove` at `attr[filter]` or `attr[filter].sub`; nothing selected is no error.
    fn remove_matching(
        &self,
        doc: &mut Map<String, Value>,
        attr: &AttrPath,
        filter: &Filter,
        sub: Option<&str>,
    ) -> Result<(), ScimError> {
        let (target, sub) = self.value_path_target(attr, sub)?;
        let selected = self.selected(Self::container(doc, target.extension.as_deref())?, &target, attr, filter)?;
        let container = Self::container(doc, target.extension.as_deref())?;
        let Some(Value::Array(items)) = container.get_mut(target.name()) else {
            return Ok(());
        };
        match sub {
            Some(sub) => {
                for &i in &selected {
                    if let Some(Value::Object(element)) = items.get_mut(i) {
                        element.remove(&sub);
                    }
                }
            }
            None => {
                let mut index = 0;
                items.retain(|_| {
                    let keep = !selected.contains(&index);
                    index += 1;
                    keep
                });
            }
        }
        Ok(())
    }

    /// Drops what became empty and lists exactly the extensions present in `schemas`.
    fn tidy(&self, doc: &mut Map<String, Value>) {
        let Some(rt) = self.registry.resource_type(self.resource_type) else { return };
        let extensions: Vec<String> = rt.extensions().iter().map(|(e, _)| e.clone()).collect();
        for urn in &extensions {
            if let Some(Value::Object(inner)) = doc.get_mut(urn) {
                inner.retain(|_, v| !is_empty(v));
            }
        }
        doc.retain(|_, v| !is_empty(v));
        let mut schemas = vec![Value::String(rt.schema().to_owned())];
        schemas.extend(extensions.into_iter().filter(|urn| doc.contains_key(urn)).map(Value::String));
        doc.insert("schemas".to_owned(), Value::Array(schemas));
    }
}

/// The canonical spelling of a sub-attribute name, if the schema defines it.
fn canonical_sub(def: &AttributeDef, key: &str) -> String {
    def.sub_attribute(key).map_or_else(|| key.to_owned(), |s| s.name().to_owned())
}

/// `type eq "work"`: the kind of element an Entra ID mapping writes to.
fn type_equality(filter: &Filter) -> Option<String> {
    match filter {
        Filter::Compare { path, op: CompareOp::Eq, value: CompValue::String(kind) }
            if path.name().eq_ignore_ascii_case("type") && path.sub_attr().is_none() =>
        {
            Some(kind.clone())
        }
        _ => None,
    }
}

fn is_primary(value: &Value) -> bool {
    value.as_object().and_then(|o| get_ci(o, "primary")) == Some(&Value::Bool(true))
}

fn clear_primary(value: &mut Value) {
    if let Value::Object(element) = value
        && let Some(key) = element.keys().find(|k| k.eq_ignore_ascii_case("primary")).cloned()
        && element.get(&key) == Some(&Value::Bool(true))
    {
        element.insert(key, Value::Bool(false));
    }
}

fn remove_key(container: &mut Map<String, Value>, name: &str, sub: Option<&str>) {
    match sub {
        None => {
            container.remove(name);
        }
        Some(sub) => {
            if let Some(Value::Object(parent)) = container.get_mut(name) {
                parent.remove(sub);
            }
        }
    }
}

/// Unassigned values (RFC 7643 §2.5): null, an empty list, an object with nothing in it.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(members) => members.values().all(is_empty),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "patch_tests.rs"]
mod tests;
