//! Schema-aware traversal shared by the quirks: where a JSON value sits in a resource body or
//! a PATCH body, and which attribute definition describes it.
//!
//! Keys are matched ignoring ASCII case throughout, because SCIM attribute names, schema
//! URNs and the PatchOp message attributes are case-insensitive (RFC 7643 §2.1).

use serde_json::{Map, Value};

use crate::path::{AttrPath, PatchPath};
use crate::schema::{AttrType, AttributeDef, SchemaRegistry};

/// Which kind of request body a quirk is looking at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyKind {
    /// A POST or PUT body: a resource representation.
    Resource,
    /// A PATCH body: a PatchOp message.
    Patch,
}

/// The schema context of one request: the directory's registry and the resource type.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cx<'a> {
    pub(super) registry: &'a SchemaRegistry,
    pub(super) resource_type: &'a str,
}

impl<'a> Cx<'a> {
    /// The core schema URN of the resource type.
    pub(super) fn core_urn(&self) -> Option<&'a str> {
        self.registry.resource_type(self.resource_type).map(|rt| rt.schema())
    }

    /// The canonical spelling of `key` if it names an extension schema of the resource type.
    pub(super) fn extension_urn(&self, key: &str) -> Option<&'a str> {
        let rt = self.registry.resource_type(self.resource_type)?;
        rt.extensions().iter().find(|(urn, _)| urn.eq_ignore_ascii_case(key)).map(|(urn, _)| urn.as_str())
    }

    /// The definition of a top-level key of a resource body: a common or core attribute.
    /// Extension attributes live inside their schema's container, never at the top level.
    pub(super) fn top_level(&self, key: &str) -> Option<&'a AttributeDef> {
        let core = self.core_urn()?;
        self.registry.resolve_parts(self.resource_type, Some(core), key, None)
    }

    /// The definition of `key` inside the container of extension `urn`.
    pub(super) fn extension_attr(&self, urn: &str, key: &str) -> Option<&'a AttributeDef> {
        self.registry.schema(urn)?.attribute(key)
    }

    /// Whether the request is about resource type `name`.
    pub(super) fn is(&self, name: &str) -> bool {
        self.resource_type.eq_ignore_ascii_case(name)
    }

    /// Parses a PATCH path, recognising bare extension URNs.
    pub(super) fn patch_path(&self, path: &str) -> Option<PatchPath> {
        PatchPath::parse_with_schemas(path, |urn| self.extension_urn(urn).is_some()).ok()
    }

    /// The definition an attribute path names.
    pub(super) fn resolve(&self, path: &AttrPath) -> Option<&'a AttributeDef> {
        self.registry.resolve(self.resource_type, path)
    }
}

/// The value under `key`, matched ignoring case.
pub(super) fn get_ci<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// The value under `key`, matched ignoring case, for changing in place.
pub(super) fn get_ci_mut<'m>(map: &'m mut Map<String, Value>, key: &str) -> Option<&'m mut Value> {
    map.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// The spelling under which `key` is stored in `map`, matched ignoring case.
pub(super) fn key_ci(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}

/// The `Operations` array of a PatchOp message, if the body has one.
pub(super) fn operations_mut(body: &mut Value) -> Option<&mut Vec<Value>> {
    get_ci_mut(body.as_object_mut()?, "Operations")?.as_array_mut()
}

/// One PATCH operation's `op`, `path` and `value`, read without changing anything.
pub(super) struct OpView<'o> {
    pub(super) op: Option<&'o str>,
    pub(super) path: Option<&'o Value>,
    pub(super) value: Option<&'o Value>,
}

impl<'o> OpView<'o> {
    pub(super) fn of(op: &'o Map<String, Value>) -> Self {
        Self { op: get_ci(op, "op").and_then(Value::as_str), path: get_ci(op, "path"), value: get_ci(op, "value") }
    }

    /// Whether `op` is `name`, ignoring case (the PATCH engine accepts any case).
    pub(super) fn is(&self, name: &str) -> bool {
        self.op.is_some_and(|op| op.eq_ignore_ascii_case(name))
    }

    /// The path as a string, if the operation has one that is a string.
    pub(super) fn path_str(&self) -> Option<&'o str> {
        self.path.and_then(Value::as_str)
    }
}

/// Called on each attribute value the schema can place; returns whether it changed the value.
pub(super) type Visitor<'f> = dyn FnMut(&AttributeDef, &mut Value) -> bool + 'f;

/// Visits every attribute value of a resource body or of the values of a PATCH body, the
/// outer value before its sub-attributes, so that a visitor that reshapes a value (wraps a
/// string in an object) has the new shape visited too.
pub(super) fn visit_body(cx: &Cx<'_>, body: &mut Value, kind: BodyKind, f: &mut Visitor<'_>) -> bool {
    match kind {
        BodyKind::Resource => body.as_object_mut().is_some_and(|obj| visit_resource(cx, obj, f)),
        BodyKind::Patch => {
            let Some(ops) = operations_mut(body) else {
                return false;
            };
            let mut changed = false;
            for op in ops.iter_mut().filter_map(Value::as_object_mut) {
                changed |= visit_op_value(cx, op, f);
            }
            changed
        }
    }
}

/// Visits the `value` of one PATCH operation, placed by its `path` (RFC 7644 §3.5.2).
fn visit_op_value(cx: &Cx<'_>, op: &mut Map<String, Value>, f: &mut Visitor<'_>) -> bool {
    let path = match get_ci(op, "path") {
        None => None,
        Some(Value::String(p)) => match cx.patch_path(p) {
            Some(parsed) => Some(parsed),
            None => return false,
        },
        Some(_) => return false,
    };
    let Some(value) = get_ci_mut(op, "value") else {
        return false;
    };
    match path {
        // Without a path the value holds attributes of the resource itself.
        None => value.as_object_mut().is_some_and(|obj| visit_resource(cx, obj, f)),
        Some(PatchPath::Attr(p)) => cx.resolve(&p).is_some_and(|def| visit_value(def, value, f)),
        Some(PatchPath::Value { attr, sub_attr: Some(sub), .. }) => {
            let def = attr.with_sub_attr(&sub).ok().and_then(|p| cx.resolve(&p));
            def.is_some_and(|def| visit_value(def, value, f))
        }
        // A value path without a sub-attribute targets elements: the value is one element.
        Some(PatchPath::Value { attr, sub_attr: None, .. }) => {
            cx.resolve(&attr).is_some_and(|def| visit_element(def, value, f))
        }
        Some(PatchPath::Schema(urn)) => value.as_object_mut().is_some_and(|obj| visit_extension(cx, &urn, obj, f)),
    }
}

/// Visits the top-level attributes of a resource body (or of a path-less PATCH value),
/// including those inside extension containers.
pub(super) fn visit_resource(cx: &Cx<'_>, obj: &mut Map<String, Value>, f: &mut Visitor<'_>) -> bool {
    let mut changed = false;
    for (key, value) in obj.iter_mut() {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(urn) = cx.extension_urn(key) {
            if let Some(ext) = value.as_object_mut() {
                changed |= visit_extension(cx, urn, ext, f);
            }
        } else if let Some(def) = cx.top_level(key) {
            changed |= visit_value(def, value, f);
        }
    }
    changed
}

fn visit_extension(cx: &Cx<'_>, urn: &str, obj: &mut Map<String, Value>, f: &mut Visitor<'_>) -> bool {
    let mut changed = false;
    for (key, value) in obj.iter_mut() {
        if let Some(def) = cx.extension_attr(urn, key) {
            changed |= visit_value(def, value, f);
        }
    }
    changed
}

/// Visits the whole value of attribute `def` (an array if it is multi-valued), then its
/// elements' or its own sub-attributes.
pub(super) fn visit_value(def: &AttributeDef, value: &mut Value, f: &mut Visitor<'_>) -> bool {
    let mut changed = f(def, value);
    if def.ty() == AttrType::Complex {
        match value {
            Value::Array(items) if def.multi_valued() => {
                for item in items {
                    changed |= visit_element(def, item, f);
                }
            }
            Value::Object(_) if !def.multi_valued() => changed |= visit_element(def, value, f),
            _ => {}
        }
    }
    changed
}

/// Visits the sub-attributes of one element (or the object) of complex attribute `def`.
pub(super) fn visit_element(def: &AttributeDef, value: &mut Value, f: &mut Visitor<'_>) -> bool {
    let Value::Object(obj) = value else {
        return false;
    };
    let mut changed = false;
    for (key, sub_value) in obj.iter_mut() {
        if let Some(sub) = def.sub_attribute(key) {
            changed |= visit_value(sub, sub_value, f);
        }
    }
    changed
}

/// Whether `def` is a complex attribute whose elements are identified by a `value`
/// sub-attribute (RFC 7643 §2.4), so that a bare string can only mean that `value`.
pub(super) fn has_value_sub_attribute(def: &AttributeDef) -> bool {
    def.ty() == AttrType::Complex && def.sub_attribute("value").is_some()
}
