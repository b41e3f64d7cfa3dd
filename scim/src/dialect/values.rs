//! Quirks in the shape of attribute values: booleans as strings, a string or a single object
//! where the schema expects a complex or multi-valued attribute, a one-element list where it
//! expects a single complex value. Each rewrite is driven by the attribute's definition in
//! the directory's registry, so a custom extension attribute is treated like a core one and
//! a string attribute that happens to hold `"True"` is never touched.

use serde_json::{Value, json};

use super::walk::{BodyKind, Cx, get_ci, get_ci_mut, has_value_sub_attribute, operations_mut, visit_body};
use crate::filter::{CompValue, Filter};
use crate::path::{AttrPath, PatchPath};
use crate::schema::AttrType;

/// `"True"`/`"False"` (any case) where the schema type is boolean become JSON booleans: in
/// resource bodies, in PATCH values, and as literals in PATCH path filters. The filter form
/// comes from Entra's own role mappings (`roles[primary eq "True"].value`, in "Customize
/// user provisioning attribute-mappings"). Other strings are left for validation to reject.
pub(super) fn string_booleans(cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    let mut changed = visit_body(cx, body, kind, &mut |def, value| {
        def.ty() == AttrType::Boolean && coerce_booleans(def.multi_valued(), value)
    });
    if kind == BodyKind::Patch {
        changed |= boolean_literals_in_paths(cx, body);
    }
    changed
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn coerce_booleans(multi_valued: bool, value: &mut Value) -> bool {
    match value {
        Value::String(s) => match parse_bool(s) {
            Some(b) => {
                *value = Value::Bool(b);
                true
            }
            None => false,
        },
        Value::Array(items) if multi_valued => {
            let mut changed = false;
            for item in items {
                changed |= coerce_booleans(false, item);
            }
            changed
        }
        _ => false,
    }
}

fn boolean_literals_in_paths(cx: &Cx<'_>, body: &mut Value) -> bool {
    let Some(ops) = operations_mut(body) else {
        return false;
    };
    let mut changed = false;
    for op in ops.iter_mut().filter_map(Value::as_object_mut) {
        let Some(text) = get_ci(op, "path").and_then(Value::as_str) else {
            continue;
        };
        let Some(PatchPath::Value { attr, mut filter, sub_attr }) = cx.patch_path(text) else {
            continue;
        };
        if !boolean_literals(cx, &attr, &mut filter) {
            continue;
        }
        let rendered = PatchPath::Value { attr, filter, sub_attr }.to_string();
        if let Some(path) = get_ci_mut(op, "path") {
            *path = Value::String(rendered);
            changed = true;
        }
    }
    changed
}

/// Rewrites string literals compared with boolean sub-attributes of `base`'s elements.
fn boolean_literals(cx: &Cx<'_>, base: &AttrPath, filter: &mut Filter) -> bool {
    match filter {
        Filter::And(children) | Filter::Or(children) => {
            let mut changed = false;
            for child in children {
                changed |= boolean_literals(cx, base, child);
            }
            changed
        }
        Filter::Not(inner) => boolean_literals(cx, base, inner),
        Filter::Present(_) => false,
        Filter::ValuePath { path, filter } => boolean_literals(cx, path, filter),
        Filter::Compare { path, value, .. } => {
            let CompValue::String(text) = value else {
                return false;
            };
            let Some(b) = parse_bool(text) else {
                return false;
            };
            // Paths inside a value filter are relative to one element of `base`.
            let is_boolean = path.uri().is_none()
                && path.sub_attr().is_none()
                && base
                    .with_sub_attr(path.name())
                    .ok()
                    .and_then(|p| cx.resolve(&p))
                    .is_some_and(|d| d.ty() == AttrType::Boolean);
            if is_boolean {
                *value = CompValue::Bool(b);
            }
            is_boolean
        }
    }
}

/// A plain string where a single-valued complex attribute with a `value` sub-attribute is
/// expected (the enterprise `manager`) can only be that `value`.
pub(super) fn string_for_complex(cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    visit_body(cx, body, kind, &mut |def, value| {
        if def.multi_valued() || !has_value_sub_attribute(def) {
            return false;
        }
        let Value::String(text) = value else {
            return false;
        };
        let text = std::mem::take(text);
        *value = json!({ "value": text });
        true
    })
}

/// A plain string where a multi-valued complex attribute with a `value` sub-attribute is
/// expected is one element with that `value`. Empty strings and strings that look like
/// serialised JSON are ambiguous (a JSON-encoded list, a cleared value) and are left for
/// validation to reject rather than guessed at.
pub(super) fn string_for_multi_valued(cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    visit_body(cx, body, kind, &mut |def, value| {
        if !def.multi_valued() || !has_value_sub_attribute(def) {
            return false;
        }
        let Value::String(text) = value else {
            return false;
        };
        let trimmed = text.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('[') || trimmed.starts_with('{') {
            return false;
        }
        let text = std::mem::take(text);
        *value = json!([{ "value": text }]);
        true
    })
}

/// One object where a multi-valued attribute is expected is a list of that one element.
/// Only resource bodies: in PATCH a single object already has a meaning for value paths.
pub(super) fn object_for_multi_valued(cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    if kind != BodyKind::Resource {
        return false;
    }
    visit_body(cx, body, kind, &mut |def, value| {
        if !def.multi_valued() || !value.is_object() {
            return false;
        }
        let element = std::mem::take(value);
        *value = Value::Array(vec![element]);
        true
    })
}

/// A one-element list of objects where a single-valued complex attribute is expected (PATCH
/// `add` of `manager` with `[{"$ref": …, "value": …}]`) is that element. Longer lists are
/// left for the PATCH engine to reject: which element was meant cannot be known.
pub(super) fn single_valued_as_list(cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    if kind != BodyKind::Patch {
        return false;
    }
    visit_body(cx, body, kind, &mut |def, value| {
        if def.multi_valued() || def.ty() != AttrType::Complex {
            return false;
        }
        let Value::Array(items) = value else {
            return false;
        };
        if items.len() != 1 || !items.first().is_some_and(Value::is_object) {
            return false;
        }
        match items.pop() {
            Some(element) => {
                *value = element;
                true
            }
            None => false,
        }
    })
}
