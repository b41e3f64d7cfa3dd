//! The `attributes` and `excludedAttributes` query parameters (RFC 7644 §3.4.2.5, §3.9),
//! applied with the `returned` characteristic of RFC 7643 §7: `always` attributes (and
//! `schemas`) are always returned, `never` never, `request` only when named in
//! `attributes`, `default` unless `attributes` is given without them or they are excluded.
//! Attributes the schema does not know are treated as `default`.

use serde_json::{Map, Value};

use crate::path::AttrPath;
use crate::schema::{AttributeDef, Returned, SchemaRegistry};

/// Which attributes the client asked for.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// Neither parameter given.
    Default,
    /// `attributes=...`.
    Only(&'a [AttrPath]),
    /// `excludedAttributes=...`.
    Excluding(&'a [AttrPath]),
}

/// Does `p` name the top-level attribute `name` of schema `schema` (`p` may carry a sub)?
fn names(p: &AttrPath, schema: &str, name: &str) -> bool {
    p.name().eq_ignore_ascii_case(name) && p.uri().is_none_or(|u| u.eq_ignore_ascii_case(schema))
}

/// Does `p` name the whole extension `urn` (parsed as `uri:lastSegment`)?
fn names_extension(p: &AttrPath, urn: &str) -> bool {
    p.sub_attr().is_none() && p.uri().is_some_and(|u| format!("{u}:{}", p.name()).eq_ignore_ascii_case(urn))
}

fn project_complex(def: &AttributeDef, value: &Value, subs_asked: &[&str], exclude: bool) -> Value {
    let keep = |key: &str| -> bool {
        match def.sub_attribute(key) {
            Some(sd) if sd.returned() == Returned::Never => false,
            Some(sd) if sd.returned() == Returned::Always => true,
            sd => {
                let asked = subs_asked.iter().any(|s| s.eq_ignore_ascii_case(key));
                if exclude { !asked && sd.is_none_or(|d| d.returned() != Returned::Request) } else { asked }
            }
        }
    };
    let filter_obj = |o: &Map<String, Value>| -> Value {
        Value::Object(o.iter().filter(|(k, _)| keep(k)).map(|(k, v)| (k.clone(), v.clone())).collect())
    };
    match value {
        Value::Object(o) => filter_obj(o),
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| i.as_object().map_or_else(|| i.clone(), filter_obj)).collect())
        }
        other => other.clone(),
    }
}

/// Projects the attributes of one schema (`schema` URN), moving those kept into `out`.
fn project_attrs<'r>(
    registry_attr: &dyn Fn(&str) -> Option<&'r AttributeDef>,
    schema: &str,
    attributes: impl IntoIterator<Item = (String, Value)>,
    sel: Selection<'_>,
    out: &mut Map<String, Value>,
) {
    for (key, value) in attributes {
        let def = registry_attr(&key);
        let returned = def.map_or(Returned::Default, AttributeDef::returned);
        match returned {
            Returned::Never => continue,
            Returned::Always => {
                out.insert(key, value);
                continue;
            }
            Returned::Default | Returned::Request => {}
        }
        let (paths, exclude) = match sel {
            Selection::Default => {
                if returned == Returned::Default {
                    out.insert(key, value);
                }
                continue;
            }
            Selection::Only(p) => (p, false),
            Selection::Excluding(p) => (p, true),
        };
        let hits: Vec<&AttrPath> = paths.iter().filter(|p| names(p, schema, &key)).collect();
        let whole = hits.iter().any(|p| p.sub_attr().is_none());
        let subs: Vec<&str> = hits.iter().filter_map(|p| p.sub_attr()).collect();
        let projected = if exclude {
            if whole || returned == Returned::Request {
                None
            } else if subs.is_empty() {
                Some(value)
            } else {
                def.map(|d| project_complex(d, &value, &subs, true))
            }
        } else if whole {
            Some(value)
        } else if subs.is_empty() {
            None
        } else {
            def.map(|d| project_complex(d, &value, &subs, false))
        };
        if let Some(v) = projected {
            out.insert(key, v);
        }
    }
}

/// Whether a core attribute named `name` of `resource_type` is in a representation asked
/// for without `attributes` or `excludedAttributes`: what [`project`] with
/// [`Selection::Default`] keeps, answered from the schema without building a resource.
pub fn returned_by_default(registry: &SchemaRegistry, resource_type: &str, name: &str) -> bool {
    let Some(rt) = registry.resource_type(resource_type) else {
        return true;
    };
    registry
        .resolve_parts(resource_type, Some(rt.schema()), name, None)
        .is_none_or(|def| matches!(def.returned(), Returned::Always | Returned::Default))
}

/// Applies `sel` to `resource` of `resource_type`. `schemas` and `returned: always`
/// attributes (e.g. `id`) are always kept; `returned: never` attributes (e.g. `password`)
/// are always dropped; extension objects are projected attribute by attribute and dropped
/// when they end up empty. Takes the resource by value: what is kept is moved, not copied
/// (every resource a SCIM read answers passes through here).
pub fn project(
    registry: &SchemaRegistry,
    resource_type: &str,
    resource: Map<String, Value>,
    sel: Selection<'_>,
) -> Map<String, Value> {
    let Some(rt) = registry.resource_type(resource_type) else {
        return resource;
    };
    let core = rt.schema();
    let core_lookup = |name: &str| registry.resolve_parts(resource_type, Some(core), name, None);
    let mut core_attributes = Vec::with_capacity(resource.len());
    let mut out = Map::new();
    for (key, value) in resource {
        if key.eq_ignore_ascii_case("schemas") {
            out.insert(key, value);
            continue;
        }
        let ext = rt.extensions().iter().find(|(e, _)| e.eq_ignore_ascii_case(&key));
        match (ext, value) {
            (Some((urn, _)), Value::Object(inner)) => {
                let whole = |ps: &[AttrPath]| ps.iter().any(|p| names_extension(p, urn));
                let projected = match sel {
                    Selection::Only(ps) if whole(ps) => inner,
                    Selection::Excluding(ps) if whole(ps) => Map::new(),
                    _ => {
                        let lookup = |name: &str| registry.resolve_parts(resource_type, Some(urn), name, None);
                        let mut projected = Map::new();
                        project_attrs(&lookup, urn, inner, sel, &mut projected);
                        projected
                    }
                };
                if !projected.is_empty() {
                    out.insert(key, Value::Object(projected));
                }
            }
            (_, value) => core_attributes.push((key, value)),
        }
    }
    project_attrs(&core_lookup, core, core_attributes, sel, &mut out);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Map<String, Value> {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "id": "2819c223",
            "userName": "bjensen",
            "password": "t1meMa$heen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "Tour Operations", "costCenter": "4130"
            }
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    fn paths(list: &[&str]) -> Vec<AttrPath> {
        list.iter().map(|p| AttrPath::parse(p).unwrap()).collect()
    }

    #[test]
    fn returned_by_default_agrees_with_the_default_projection() {
        let reg = SchemaRegistry::new();
        for (resource_type, name) in [
            ("User", "groups"),
            ("User", "password"),
            ("User", "userName"),
            ("User", "id"),
            ("User", "notAnAttribute"),
            ("Group", "members"),
            ("Unknown", "anything"),
        ] {
            let probe: Map<String, Value> = [(name.to_owned(), json!([{"value": "x"}]))].into_iter().collect();
            let projected = project(&reg, resource_type, probe, Selection::Default).contains_key(name);
            assert_eq!(returned_by_default(&reg, resource_type, name), projected, "{resource_type} {name}");
        }
        assert!(!returned_by_default(&reg, "User", "password"));
        assert!(returned_by_default(&reg, "User", "groups"));
    }

    #[test]
    fn default_projection_drops_password_only() {
        let reg = SchemaRegistry::new();
        let out = project(&reg, "User", user(), Selection::Default);
        assert_eq!(out.get("password"), None);
        assert_eq!(out.len(), user().len() - 1);
    }

    #[test]
    fn attributes_keeps_id_and_schemas_and_named_sub_attributes() {
        let reg = SchemaRegistry::new();
        let ps = paths(&["userName", "name.givenName", "password"]);
        let out = project(&reg, "User", user(), Selection::Only(&ps));
        let keys: Vec<&str> = out.keys().map(String::as_str).collect();
        assert_eq!(keys, ["id", "name", "schemas", "userName"]);
        assert_eq!(out["name"], json!({"givenName": "Barbara"}));
    }

    #[test]
    fn excluded_attributes_remove_extension_attribute_but_not_id() {
        let reg = SchemaRegistry::new();
        let ps = paths(&["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "id", "emails.type"]);
        let out = project(&reg, "User", user(), Selection::Excluding(&ps));
        assert_eq!(out["id"], "2819c223");
        assert_eq!(out["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], json!({"costCenter": "4130"}));
        assert_eq!(out["emails"], json!([{"value": "bjensen@example.com", "primary": true}]));
    }

    proptest::proptest! {
        #[test]
        fn projection_never_drops_id_or_schemas(names in proptest::collection::vec("[a-zA-Z]{1,8}", 0..4), exclude: bool) {
            let reg = SchemaRegistry::new();
            let ps: Vec<AttrPath> = names.iter().filter_map(|n| AttrPath::parse(n).ok()).collect();
            let sel = if exclude { Selection::Excluding(&ps) } else { Selection::Only(&ps) };
            let out = project(&reg, "User", user(), sel);
            proptest::prop_assert_eq!(out.get("id"), Some(&json!("2819c223")));
            proptest::prop_assert!(out.contains_key("schemas"));
            proptest::prop_assert_eq!(out.get("password"), None);
        }
    }
}
