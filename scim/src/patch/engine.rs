//! Applying the operations of a PATCH request to a copy of a resource (RFC 7644 §3.5.2);
//! the rules are listed in the parent module.
//!
//! Every operation reads the current value of one top-level attribute, computes its new
//! value, and stores it through [`Engine::update`], which is the one place that enforces
//! `readOnly`, `immutable` and `required` for whole attributes. Values are kept in the
//! schema's spelling, and an unassigned attribute is absent, never `null` or `[]`.

use serde_json::{Map, Value};

use super::target::{self, Attr, Target};
use super::{PatchOpKind, PatchOperation, PatchRequest, in_operation};
use crate::error::ScimError;
use crate::filter::check::CheckedNode;
use crate::filter::eval;
use crate::schema::{AttrType, AttributeDef, Mutability, ResourceTypeDef, SchemaRegistry};
use crate::validate::check_scalar;

/// The `primary` sub-attribute of multi-valued attributes (RFC 7643 §2.4).
const PRIMARY: &str = "primary";

pub(super) fn apply<'r>(
    resource: &Map<String, Value>,
    request: &PatchRequest,
    registry: &'r SchemaRegistry,
    resource_type: &'r str,
) -> Result<Map<String, Value>, ScimError> {
    let rt = target::resource_type_def(registry, resource_type)?;
    let mut engine = Engine { registry, resource_type, rt, doc: resource.clone(), touched: Vec::new() };
    for (op, &number) in request.operations.iter().zip(&request.numbers) {
        engine.operation(op).map_err(|e| in_operation(e, number, op))?;
    }
    engine.settle_extensions();
    Ok(engine.doc)
}

struct Engine<'r> {
    registry: &'r SchemaRegistry,
    resource_type: &'r str,
    rt: &'r ResourceTypeDef,
    /// The working copy; the caller's resource is never touched.
    doc: Map<String, Value>,
    /// Extensions whose data changed: their `schemas` entry is brought in line at the end.
    touched: Vec<&'r str>,
}

impl<'r> Engine<'r> {
    fn operation(&mut self, op: &PatchOperation) -> Result<(), ScimError> {
        super::check_shape(op)?;
        let Some(path) = &op.path else {
            return match &op.value {
                Some(Value::Object(attrs)) => self.attributes(op.op, attrs, None),
                _ => Err(ScimError::InvalidValue(format!("{} without a \"path\" needs an object", op.op))),
            };
        };
        let target = target::resolve(path, self.registry, self.resource_type)?;
        let value = op.value.as_ref().filter(|v| !v.is_null());
        match (op.op, value) {
            (PatchOpKind::Remove, listed) => self.remove(&target, listed),
            // RFC 7643 §2.5: null is the unassigned state.
            (_, None) => self.remove(&target, None),
            (kind, Some(value)) => self.write(kind, &target, value),
        }
    }

    /// The keys of a path-less value (or of a bare extension URN's value, `within` it): each
    /// is a path of its own (`name.givenName`, `urn:…:User:manager`), written with `kind`.
    fn attributes(
        &mut self,
        kind: PatchOpKind,
        attrs: &Map<String, Value>,
        within: Option<&'r str>,
    ) -> Result<(), ScimError> {
        for (key, value) in attrs {
            // `schemas` follows the extension data present; see `settle_extensions`. Clients
            // also send it inside an extension's object (scim2-tester does); it names the
            // extension itself, not an attribute.
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let text = match within {
                Some(ext) => format!("{ext}:{key}"),
                None => key.clone(),
            };
            let path = target::parse_path(&text, self.registry, self.resource_type)?;
            let target = target::resolve(&path, self.registry, self.resource_type)?;
            if value.is_null() {
                self.remove(&target, None)?;
            } else {
                self.write(kind, &target, value)?;
            }
        }
        Ok(())
    }

    fn write(&mut self, kind: PatchOpKind, target: &Target<'r>, value: &Value) -> Result<(), ScimError> {
        guard_target(target)?;
        match target {
            Target::Extension(ext) => match value {
                Value::Object(attrs) => self.attributes(kind, attrs, Some(ext)),
                _ => Err(ScimError::InvalidValue(format!("the value for {ext} must be an object of its attributes"))),
            },
            Target::Attr { attr, sub: None } => self.update(*attr, |old| set_attribute(kind, *attr, old, value)),
            Target::Attr { attr, sub: Some(sub) } => {
                let v = sub_value(sub, &sub_label(*attr, sub), value)?;
                self.update(*attr, |old| set_sub_everywhere(*attr, sub, old, &v))
            }
            Target::Elements { attr, filter, seed, text, sub } => {
                let selection = Selection { attr: *attr, filter, seed: seed.as_ref(), text };
                self.update(*attr, |old| selection.write(kind, *sub, old, value))
            }
        }
    }

    /// `remove`; `listed` is the value some clients send along (only used to pick values
    /// out of a multi-valued attribute, Entra's older form).
    fn remove(&mut self, target: &Target<'r>, listed: Option<&Value>) -> Result<(), ScimError> {
        guard_target(target)?;
        match target {
            Target::Extension(ext) => self.remove_extension(ext),
            Target::Attr { attr, sub: None } => self.update(*attr, |old| {
                Ok(match (old, listed) {
                    (Some(Value::Array(items)), Some(listed)) if attr.def.multi_valued() => {
                        non_empty(items.iter().filter(|item| !is_listed(listed, item)).cloned().collect::<Vec<_>>())
                    }
                    _ => None,
                })
            }),
            Target::Attr { attr, sub: Some(sub) } => self.update(*attr, |old| remove_sub_everywhere(*attr, sub, old)),
            Target::Elements { attr, filter, sub, .. } => self.update(*attr, |old| {
                let items = old.and_then(Value::as_array).cloned().unwrap_or_default();
                let mut kept = Vec::with_capacity(items.len());
                for mut item in items {
                    let keep = match sub {
                        _ if !eval::node_matches(filter, &item) => true,
                        Some(sub) => remove_sub_in(*attr, sub, &mut item)?,
                        None => false,
                    };
                    if keep {
                        kept.push(item);
                    }
                }
                Ok(non_empty(kept))
            }),
        }
    }

    fn remove_extension(&mut self, ext: &'r str) -> Result<(), ScimError> {
        let Some(existing) = get_ignore_case(&self.doc, ext).cloned() else {
            return Ok(());
        };
        if self.rt.extensions().iter().any(|(e, required)| *required && e == ext) {
            return Err(ScimError::Mutability(format!("{ext} is a required extension and cannot be removed")));
        }
        if let (Some(schema), Some(obj)) = (self.registry.schema(ext), existing.as_object()) {
            for def in schema.attributes() {
                if get_ignore_case(obj, def.name()).is_some_and(is_assigned) {
                    guard_unassign(def, &format!("{ext}:{}", def.name()))?;
                }
            }
        }
        take_ignore_case(&mut self.doc, ext);
        self.touch(ext);
        Ok(())
    }

    /// Replaces the value of one top-level attribute by `change(current value)`, enforcing
    /// `readOnly`, `immutable` and `required` (RFC 7644 §3.5.2, §3.5.2.2).
    fn update(
        &mut self,
        attr: Attr<'r>,
        change: impl FnOnce(Option<&Value>) -> Result<Option<Value>, ScimError>,
    ) -> Result<(), ScimError> {
        let label = attr.label();
        if attr.def.mutability() == Mutability::ReadOnly {
            return Err(ScimError::Mutability(format!("{label} is readOnly")));
        }
        let old = self.current(attr);
        let new = change(old.as_ref())?;
        if new == old {
            return Ok(());
        }
        if attr.def.mutability() == Mutability::Immutable && old.is_some() {
            return Err(ScimError::Mutability(format!("{label} is immutable: it can be set once, not changed")));
        }
        if new.is_none() {
            guard_unassign(attr.def, &label)?;
        }
        self.store(attr, new);
        Ok(())
    }

    fn current(&self, attr: Attr<'r>) -> Option<Value> {
        let container = match attr.ext {
            Some(ext) => get_ignore_case(&self.doc, ext)?.as_object()?,
            None => &self.doc,
        };
        get_ignore_case(container, attr.def.name()).filter(|v| is_assigned(v)).cloned()
    }

    fn store(&mut self, attr: Attr<'r>, value: Option<Value>) {
        match attr.ext {
            None => put(&mut self.doc, attr.def.name(), value),
            Some(ext) => {
                let mut obj = match take_ignore_case(&mut self.doc, ext) {
                    Some(Value::Object(obj)) => obj,
                    _ => Map::new(),
                };
                put(&mut obj, attr.def.name(), value);
                self.doc.insert(ext.to_owned(), Value::Object(obj));
                self.touch(ext);
            }
        }
    }

    fn touch(&mut self, ext: &'r str) {
        if !self.touched.contains(&ext) {
            self.touched.push(ext);
        }
    }

    /// An extension with data is listed in `schemas` (RFC 7643 §3: `schemas` names the
    /// schemas the resource's attributes come from); one left empty is dropped with its URN.
    fn settle_extensions(&mut self) {
        for ext in std::mem::take(&mut self.touched) {
            let has_data = get_ignore_case(&self.doc, ext).and_then(Value::as_object).is_some_and(|o| !o.is_empty());
            if !has_data {
                take_ignore_case(&mut self.doc, ext);
            }
            let mut schemas = match take_ignore_case(&mut self.doc, "schemas") {
                Some(Value::Array(schemas)) => schemas,
                _ if has_data => vec![Value::String(self.rt.schema().to_owned())],
                _ => continue,
            };
            let listed = schemas.iter().position(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(ext)));
            match (has_data, listed) {
                (true, None) => schemas.push(Value::String(ext.to_owned())),
                (false, Some(i)) => {
                    schemas.remove(i);
                }
                _ => {}
            }
            self.doc.insert("schemas".to_owned(), Value::Array(schemas));
        }
    }
}

/// The elements a value filter selects, and how to write them.
struct Selection<'a, 'r> {
    attr: Attr<'r>,
    filter: &'a CheckedNode,
    seed: Option<&'a Map<String, Value>>,
    text: &'a str,
}

impl Selection<'_, '_> {
    fn write(
        &self,
        kind: PatchOpKind,
        sub: Option<&AttributeDef>,
        old: Option<&Value>,
        value: &Value,
    ) -> Result<Option<Value>, ScimError> {
        let label = self.attr.label();
        let mut items = old.and_then(Value::as_array).cloned().unwrap_or_default();
        let mut written: Vec<bool> = items.iter().map(|item| eval::node_matches(self.filter, item)).collect();
        if !written.contains(&true) {
            // RFC 7644 §3.5.2.3 answers `noTarget` when a value filter matches nothing. For a
            // sub-attribute (and for `add`) of an element the filter fully describes, Entra
            // expects that element to be created: see the module documentation.
            let creates = kind == PatchOpKind::Add || sub.is_some();
            match self.seed {
                Some(seed) if creates => {
                    items.push(Value::Object(seed.clone()));
                    written.push(true);
                }
                _ => return Err(ScimError::NoTarget(format!("no value of {label} matches [{}]", self.text))),
            }
        }
        let sub = match sub {
            Some(sub) => Some((sub, sub_value(sub, &sub_label(self.attr, sub), value)?)),
            None => None,
        };
        for (item, _) in items.iter_mut().zip(&written).filter(|(_, hit)| **hit) {
            match &sub {
                Some((sub, v)) => set_sub_in(self.attr, sub, item, v)?,
                None => {
                    let Value::Object(given) = value else {
                        return Err(ScimError::InvalidValue(format!(
                            "{label}[{}] selects whole values of {label}: the value must be an object",
                            self.text
                        )));
                    };
                    let current = as_record(self.attr, item)?;
                    let new = match kind {
                        PatchOpKind::Replace => without_nulls(canonical(self.attr.def, &label, given)?),
                        _ => merge(self.attr.def, &label, current.clone(), given)?,
                    };
                    check_record_change(self.attr, current, &new)?;
                    *item = Value::Object(new);
                }
            }
        }
        Ok(non_empty(settle(items, written)))
    }
}

/// `add`/`replace` of a whole attribute.
fn set_attribute(
    kind: PatchOpKind,
    attr: Attr<'_>,
    old: Option<&Value>,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    let def = attr.def;
    let label = attr.label();
    if def.multi_valued() {
        let given: Vec<&Value> = match value {
            Value::Array(items) => items.iter().filter(|v| !v.is_null()).collect(),
            one => vec![one],
        };
        let mut items = match kind {
            PatchOpKind::Add => old.and_then(Value::as_array).cloned().unwrap_or_default(),
            _ => Vec::new(),
        };
        let start = items.len();
        for item in given {
            items.push(record(def, &label, item)?);
        }
        let written = (0..items.len()).map(|i| i >= start).collect();
        return Ok(non_empty(settle(items, written)));
    }
    if def.ty() == AttrType::Complex {
        // RFC 7644 §3.5.2.3: for a complex attribute, "Sub-attributes that are not specified
        // in the "value" parameter are left unchanged"; §3.5.2.1 adds them the same way.
        let Value::Object(given) = value else {
            return Err(ScimError::InvalidValue(format!(
                "{label} is complex: its value must be an object of sub-attributes, such as {{\"value\": …}}"
            )));
        };
        let current = old.and_then(Value::as_object).cloned().unwrap_or_default();
        let merged = merge(def, &label, current.clone(), given)?;
        check_record_change(attr, &current, &merged)?;
        return Ok(non_empty(Value::Object(merged)));
    }
    if value.is_array() {
        return Err(ScimError::InvalidValue(format!("{label} is single-valued and takes no array")));
    }
    check_scalar(def, &label, value)?;
    Ok(Some(value.clone()))
}

/// Sets `attr.sub` in the attribute's object, or in every element of a multi-valued one
/// (creating the first element when there is none, RFC 7644 §3.5.2.1: "If the target
/// location does not exist, the attribute and value are added").
fn set_sub_everywhere(
    attr: Attr<'_>,
    sub: &AttributeDef,
    old: Option<&Value>,
    value: &Value,
) -> Result<Option<Value>, ScimError> {
    if !attr.def.multi_valued() {
        let mut item = Value::Object(old.and_then(Value::as_object).cloned().unwrap_or_default());
        set_sub_in(attr, sub, &mut item, value)?;
        return Ok(non_empty(item));
    }
    let mut items = old.and_then(Value::as_array).cloned().unwrap_or_default();
    if items.is_empty() {
        items.push(Value::Object(Map::new()));
    }
    for item in &mut items {
        set_sub_in(attr, sub, item, value)?;
    }
    let written = vec![true; items.len()];
    Ok(non_empty(settle(items, written)))
}

/// Unassigns `attr.sub` in the attribute's object or in every element.
fn remove_sub_everywhere(attr: Attr<'_>, sub: &AttributeDef, old: Option<&Value>) -> Result<Option<Value>, ScimError> {
    let Some(old) = old else {
        return Ok(None);
    };
    if !attr.def.multi_valued() {
        let mut item = old.clone();
        return Ok(if remove_sub_in(attr, sub, &mut item)? { Some(item) } else { None });
    }
    let mut kept = Vec::new();
    for mut item in old.as_array().cloned().unwrap_or_default() {
        if remove_sub_in(attr, sub, &mut item)? {
            kept.push(item);
        }
    }
    Ok(non_empty(kept))
}

fn set_sub_in(attr: Attr<'_>, sub: &AttributeDef, item: &mut Value, value: &Value) -> Result<(), ScimError> {
    guard_writable(sub, &sub_label(attr, sub))?;
    let record = as_record_mut(attr, item)?;
    let old = get_ignore_case(record, sub.name()).filter(|v| is_assigned(v)).cloned();
    check_sub_change(attr, sub, old.as_ref(), Some(value))?;
    put(record, sub.name(), Some(value.clone()));
    Ok(())
}

/// Unassigns `sub` in one object; whether anything is left of it.
fn remove_sub_in(attr: Attr<'_>, sub: &AttributeDef, item: &mut Value) -> Result<bool, ScimError> {
    guard_writable(sub, &sub_label(attr, sub))?;
    let record = as_record_mut(attr, item)?;
    let old = get_ignore_case(record, sub.name()).filter(|v| is_assigned(v)).cloned();
    check_sub_change(attr, sub, old.as_ref(), None)?;
    put(record, sub.name(), None);
    Ok(!record.is_empty())
}

/// `immutable` and `required` for one sub-attribute going from `old` to `new`.
fn check_sub_change(
    attr: Attr<'_>,
    sub: &AttributeDef,
    old: Option<&Value>,
    new: Option<&Value>,
) -> Result<(), ScimError> {
    if old == new {
        return Ok(());
    }
    let label = sub_label(attr, sub);
    if sub.mutability() == Mutability::Immutable && old.is_some() {
        return Err(ScimError::Mutability(format!("{label} is immutable: it can be set once, not changed")));
    }
    if new.is_none() {
        guard_unassign(sub, &label)?;
    }
    Ok(())
}

/// [`check_sub_change`] for every defined sub-attribute of one object.
fn check_record_change(attr: Attr<'_>, old: &Map<String, Value>, new: &Map<String, Value>) -> Result<(), ScimError> {
    for sub in attr.def.sub_attributes() {
        let before = get_ignore_case(old, sub.name()).filter(|v| is_assigned(v));
        let after = get_ignore_case(new, sub.name()).filter(|v| is_assigned(v));
        check_sub_change(attr, sub, before, after)?;
    }
    Ok(())
}

/// A path to a `readOnly` sub-attribute fails whatever the resource holds; `readOnly`
/// attributes are refused in [`Engine::update`].
fn guard_target(target: &Target<'_>) -> Result<(), ScimError> {
    match target {
        Target::Attr { attr, sub: Some(sub) } | Target::Elements { attr, sub: Some(sub), .. } => {
            guard_writable(sub, &sub_label(*attr, sub))
        }
        _ => Ok(()),
    }
}

/// RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability "readOnly"".
fn guard_writable(def: &AttributeDef, label: &str) -> Result<(), ScimError> {
    if def.mutability() == Mutability::ReadOnly {
        return Err(ScimError::Mutability(format!("{label} is readOnly")));
    }
    Ok(())
}

/// RFC 7644 §3.5.2.2: an attribute that "is removed or becomes unassigned and is defined as
/// a required attribute" is a `mutability` error.
fn guard_unassign(def: &AttributeDef, label: &str) -> Result<(), ScimError> {
    if def.required() {
        return Err(ScimError::Mutability(format!("{label} is required and cannot be removed")));
    }
    if def.mutability() == Mutability::Immutable {
        return Err(ScimError::Mutability(format!("{label} is immutable: it can be set once, not removed")));
    }
    Ok(())
}

/// One value of a multi-valued attribute (or of a complex one) as given in a request:
/// type-checked, sub-attributes in canonical spelling, `readOnly` and null ones left out.
fn record(def: &AttributeDef, label: &str, value: &Value) -> Result<Value, ScimError> {
    check_scalar(def, label, value)?;
    match value {
        Value::Object(given) => Ok(Value::Object(without_nulls(canonical(def, label, given)?))),
        other => Ok(other.clone()),
    }
}

/// The sub-attributes of `given` in canonical spelling and type-checked; `readOnly` ones
/// are dropped (RFC 7644 §3.3 has them ignored in a body); nulls are kept, as "unassign".
/// Names the schema does not define are kept as written, for `validate` to judge.
fn canonical(def: &AttributeDef, label: &str, given: &Map<String, Value>) -> Result<Map<String, Value>, ScimError> {
    let mut out = Map::new();
    for (key, value) in given {
        let Some(sub) = def.sub_attribute(key) else {
            out.insert(key.clone(), value.clone());
            continue;
        };
        if sub.mutability() == Mutability::ReadOnly {
            continue;
        }
        let v = if value.is_null() { Value::Null } else { sub_value(sub, &format!("{label}.{}", sub.name()), value)? };
        out.insert(sub.name().to_owned(), v);
    }
    Ok(out)
}

/// `given` merged into `base`: each given sub-attribute replaces, a null one unassigns.
fn merge(
    def: &AttributeDef,
    label: &str,
    mut base: Map<String, Value>,
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, ScimError> {
    for (key, value) in canonical(def, label, given)? {
        let value = if value.is_null() { None } else { Some(value) };
        put(&mut base, &key, value);
    }
    Ok(base)
}

/// A value for a sub-attribute (which is never complex, RFC 7643 §2.3.8).
fn sub_value(sub: &AttributeDef, label: &str, value: &Value) -> Result<Value, ScimError> {
    match value {
        Value::Array(items) if sub.multi_valued() => {
            items.iter().try_for_each(|item| check_scalar(sub, label, item))?;
            Ok(value.clone())
        }
        Value::Array(_) => Err(ScimError::InvalidValue(format!("{label} is single-valued and takes no array"))),
        one if sub.multi_valued() => {
            check_scalar(sub, label, one)?;
            Ok(Value::Array(vec![one.clone()]))
        }
        one => {
            check_scalar(sub, label, one)?;
            Ok(one.clone())
        }
    }
}

/// Multi-valued attributes after a write: no two values that differ only in `primary`
/// (RFC 7644 §3.5.2.1: a value "already contained" is not added again), and at most one
/// `primary: true` (RFC 7643 §2.4), the last one written winning (RFC 7644 §3.5.2: the
/// others are set to `false`). `written` marks the values the operation wrote.
fn settle(items: Vec<Value>, written: Vec<bool>) -> Vec<Value> {
    let mut out: Vec<(Value, bool)> = Vec::with_capacity(items.len());
    for (item, was_written) in items.into_iter().zip(written) {
        if let Some((kept, kept_written)) = out.iter_mut().find(|(kept, _)| same_value(kept, &item)) {
            // A written duplicate still says whether its value is primary.
            if let Some(primary) = primary_of(&item)
                && (was_written || primary)
            {
                set_primary(kept, primary);
            }
            *kept_written |= was_written;
            continue;
        }
        out.push((item, was_written));
    }
    if let Some(winner) = out.iter().rposition(|(item, w)| *w && primary_of(item) == Some(true)) {
        for (i, (item, _)) in out.iter_mut().enumerate() {
            if i != winner && primary_of(item) == Some(true) {
                set_primary(item, false);
            }
        }
    }
    out.into_iter().map(|(item, _)| item).collect()
}

/// Equal apart from `primary`.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let rest = |o: &Map<String, Value>| o.iter().filter(|(k, _)| !k.eq_ignore_ascii_case(PRIMARY)).count();
            rest(a) == rest(b)
                && a.iter()
                    .filter(|(k, _)| !k.eq_ignore_ascii_case(PRIMARY))
                    .all(|(k, v)| get_ignore_case(b, k) == Some(v))
        }
        _ => a == b,
    }
}

fn primary_of(item: &Value) -> Option<bool> {
    item.as_object().and_then(|o| get_ignore_case(o, PRIMARY)).and_then(Value::as_bool)
}

fn set_primary(item: &mut Value, primary: bool) {
    if let Value::Object(obj) = item {
        put(obj, PRIMARY, Some(Value::Bool(primary)));
    }
}

/// Whether `item` is one of the `listed` values: equal, or for objects, agreeing on every
/// sub-attribute listed (`{"value": "2819c223…"}` picks that member).
fn is_listed(listed: &Value, item: &Value) -> bool {
    let one = |l: &Value| match (l, item) {
        (Value::Object(l), Value::Object(item)) => {
            !l.is_empty() && l.iter().all(|(k, v)| get_ignore_case(item, k) == Some(v))
        }
        _ => l == item,
    };
    match listed {
        Value::Array(ls) => ls.iter().any(one),
        l => one(l),
    }
}

fn as_record<'v>(attr: Attr<'_>, item: &'v Value) -> Result<&'v Map<String, Value>, ScimError> {
    item.as_object().ok_or_else(|| not_a_record(attr))
}

fn as_record_mut<'v>(attr: Attr<'_>, item: &'v mut Value) -> Result<&'v mut Map<String, Value>, ScimError> {
    item.as_object_mut().ok_or_else(|| not_a_record(attr))
}

fn not_a_record(attr: Attr<'_>) -> ScimError {
    ScimError::InvalidValue(format!("{} holds a value that is not an object", attr.label()))
}

fn sub_label(attr: Attr<'_>, sub: &AttributeDef) -> String {
    format!("{}.{}", attr.label(), sub.name())
}

/// RFC 7643 §2.5: null and an empty array are the unassigned state; an empty object is too.
fn is_assigned(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => !items.is_empty(),
        Value::Object(obj) => !obj.is_empty(),
        _ => true,
    }
}

fn non_empty(value: impl Into<Value>) -> Option<Value> {
    let value = value.into();
    is_assigned(&value).then_some(value)
}

fn without_nulls(mut obj: Map<String, Value>) -> Map<String, Value> {
    obj.retain(|_, v| !v.is_null());
    obj
}

fn get_ignore_case<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    super::get_ignore_case(obj, key)
}

/// Removes every key equal to `key` ignoring case; returns the value of the exact spelling
/// if present, else of the first variant.
fn take_ignore_case(obj: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let exact = obj.remove(key);
    let variants: Vec<String> = obj.keys().filter(|k| k.eq_ignore_ascii_case(key)).cloned().collect();
    let mut first = None;
    for k in variants {
        let v = obj.remove(&k);
        first = first.or(v);
    }
    exact.or(first)
}

/// Stores `value` under `name` (the canonical spelling), dropping other spellings;
/// `None` unassigns.
fn put(obj: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    take_ignore_case(obj, name);
    if let Some(value) = value {
        obj.insert(name.to_owned(), value);
    }
}
