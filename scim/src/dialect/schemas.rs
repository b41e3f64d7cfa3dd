//! Quirks in the `schemas` attribute and extension keys of resource bodies (RFC 7643 §3):
//! SCIM 1.1 URNs and a Microsoft-internal schema URI that carries no attributes.

use serde_json::Value;

use super::walk::{BodyKind, Cx, get_ci_mut, key_ci};
use crate::schema::builtin::ENTERPRISE_USER;

/// SCIM 1.1 names of the core schema, and the `…:2.0` spelling OneLogin templates use.
const LEGACY_CORE: [&str; 2] = ["urn:scim:schemas:core:1.0", "urn:scim:schemas:core:2.0"];
/// SCIM 1.1 names of the enterprise extension, and the `…:2.0` spelling.
const LEGACY_ENTERPRISE: [&str; 2] =
    ["urn:scim:schemas:extension:enterprise:1.0", "urn:scim:schemas:extension:enterprise:2.0"];

/// Maps SCIM 1.1 schema URNs to the RFC 7643 ones: in `schemas` (dropping a mapped URN the
/// list already holds) and as the key of the enterprise extension's container, where the
/// SCIM 1.1 `manager.managerId` becomes `manager.value`. A body that already has both the
/// legacy and the RFC container is left for validation: merging them could hide a conflict.
pub(super) fn scim1_schema_urns(cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    if kind != BodyKind::Resource {
        return false;
    }
    let Some(core) = cx.core_urn() else {
        return false;
    };
    let enterprise = cx.extension_urn(ENTERPRISE_USER);
    let map_urn = |urn: &str| {
        if LEGACY_CORE.iter().any(|l| l.eq_ignore_ascii_case(urn)) {
            Some(core)
        } else if LEGACY_ENTERPRISE.iter().any(|l| l.eq_ignore_ascii_case(urn)) {
            enterprise
        } else {
            None
        }
    };
    let Some(obj) = body.as_object_mut() else {
        return false;
    };
    let mut changed = false;
    if let Some(Value::Array(list)) = get_ci_mut(obj, "schemas") {
        let mut produced: Vec<&str> = Vec::new();
        let mapped: Vec<Value> = list
            .drain(..)
            .map(|item| match item.as_str().and_then(map_urn) {
                Some(urn) => {
                    produced.push(urn);
                    Value::String(urn.to_owned())
                }
                None => item,
            })
            .collect();
        changed |= !produced.is_empty();
        // A mapped URN may already be in the list (Google sends both): keep one of each.
        for item in mapped {
            let duplicate = item.as_str().is_some_and(|s| {
                produced.iter().any(|p| p.eq_ignore_ascii_case(s))
                    && list.iter().filter_map(Value::as_str).any(|kept| kept.eq_ignore_ascii_case(s))
            });
            if !duplicate {
                list.push(item);
            }
        }
    }
    let Some(enterprise) = enterprise else {
        return changed;
    };
    for legacy in LEGACY_ENTERPRISE {
        let Some(key) = key_ci(obj, legacy) else {
            continue;
        };
        if key_ci(obj, enterprise).is_some() {
            continue;
        }
        let Some(mut container) = obj.remove(&key) else {
            continue;
        };
        rename_manager_id(&mut container);
        obj.insert(enterprise.to_owned(), container);
        changed = true;
    }
    changed
}

/// SCIM 1.1's enterprise `manager.managerId` is RFC 7643's `manager.value` (§4.3).
fn rename_manager_id(container: &mut Value) {
    let Some(Value::Object(manager)) = container.as_object_mut().and_then(|c| get_ci_mut(c, "manager")) else {
        return;
    };
    if key_ci(manager, "value").is_some() {
        return;
    }
    if let Some(key) = key_ci(manager, "managerId")
        && let Some(id) = manager.remove(&key)
    {
        manager.insert("value".to_owned(), id);
    }
}

/// The schema URI Entra lists on group creates; no attribute of the request lives under it.
const ADSCIM_GROUP: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// Drops the ADSCIM group schema URI from `schemas` when the body has no container under
/// that URI, so nothing but the declaration goes.
pub(super) fn adscim_group_schema(cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    if kind != BodyKind::Resource || !cx.is("Group") {
        return false;
    }
    let Some(obj) = body.as_object_mut() else {
        return false;
    };
    if key_ci(obj, ADSCIM_GROUP).is_some() {
        return false;
    }
    let Some(Value::Array(list)) = get_ci_mut(obj, "schemas") else {
        return false;
    };
    let before = list.len();
    list.retain(|v| !v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(ADSCIM_GROUP)));
    list.len() != before
}
