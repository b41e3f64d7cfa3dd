//! Resolving a PATCH path against the schema: which attribute (and where it is stored),
//! which sub-attribute, and, for a value path, the checked filter that selects elements.

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::filter::check::{CheckedNode, UnknownAttributes, check};
use crate::filter::{CompValue, CompareOp, Filter, eval};
use crate::path::{AttrPath, PatchPath};
use crate::schema::{AttrType, AttributeDef, ResourceTypeDef, SchemaRegistry};

/// A top-level attribute and where it lives in the stored resource.
#[derive(Debug, Clone, Copy)]
pub(super) struct Attr<'r> {
    /// The extension URN (canonical) whose object holds the attribute; `None` for core and
    /// common attributes, which sit at the top of the resource.
    pub(super) ext: Option<&'r str>,
    /// The attribute's definition (its `name` is the canonical spelling).
    pub(super) def: &'r AttributeDef,
}

impl Attr<'_> {
    /// The attribute's name for messages, URN-qualified for extension attributes.
    pub(super) fn label(&self) -> String {
        match self.ext {
            Some(ext) => format!("{ext}:{}", self.def.name()),
            None => self.def.name().to_owned(),
        }
    }
}

/// What a PATCH path designates.
#[derive(Debug, Clone)]
pub(super) enum Target<'r> {
    /// A whole extension (a bare schema URN).
    Extension(&'r str),
    /// An attribute, or one sub-attribute of it (of every element, if it is multi-valued).
    Attr {
        /// The top-level attribute.
        attr: Attr<'r>,
        /// The sub-attribute, if the path names one.
        sub: Option<&'r AttributeDef>,
    },
    /// The elements of a multi-valued complex attribute that a filter selects, or one
    /// sub-attribute of them.
    Elements {
        /// The multi-valued attribute.
        attr: Attr<'r>,
        /// Evaluated on one element at a time.
        filter: CheckedNode,
        /// The element the filter describes, when it is made of `eq` comparisons only and
        /// the element satisfies it: what `add` creates when nothing matches.
        seed: Option<Map<String, Value>>,
        /// The filter as written, for messages.
        text: String,
        /// The sub-attribute after the brackets, if any.
        sub: Option<&'r AttributeDef>,
    },
}

/// Parses a path, recognising a bare URN of one of `resource_type`'s extensions.
pub(super) fn parse_path(text: &str, registry: &SchemaRegistry, resource_type: &str) -> Result<PatchPath, ScimError> {
    let rt = resource_type_def(registry, resource_type)?;
    Ok(PatchPath::parse_with_schemas(text, |urn| extension_urn(rt, urn).is_some())?)
}

/// Resolves `path` for `resource_type`: unknown names are `invalidPath`, a filter that does
/// not fit the schema is `invalidFilter`.
pub(super) fn resolve<'r>(
    path: &PatchPath,
    registry: &'r SchemaRegistry,
    resource_type: &str,
) -> Result<Target<'r>, ScimError> {
    match path {
        PatchPath::Schema(urn) => {
            let rt = resource_type_def(registry, resource_type)?;
            extension_urn(rt, urn)
                .map(Target::Extension)
                .ok_or_else(|| ScimError::InvalidPath(format!("{urn} is not an extension of {resource_type}")))
        }
        PatchPath::Attr(p) => {
            let attr = resolve_attr(&p.parent(), registry, resource_type)?;
            let sub = match p.sub_attr() {
                Some(name) => Some(sub_attribute(attr, name, &p.to_string())?),
                None => None,
            };
            Ok(Target::Attr { attr, sub })
        }
        PatchPath::Value { attr: attr_path, filter, sub_attr } => {
            if attr_path.sub_attr().is_some() {
                return Err(ScimError::InvalidPath(format!("a value filter follows an attribute, not '{attr_path}'")));
            }
            let attr = resolve_attr(attr_path, registry, resource_type)?;
            if !attr.def.multi_valued() || attr.def.ty() != AttrType::Complex {
                return Err(ScimError::InvalidPath(format!(
                    "'{attr_path}' is not a multi-valued complex attribute, so it takes no value filter"
                )));
            }
            let whole = Filter::ValuePath { path: attr_path.clone(), filter: Box::new(filter.clone()) };
            let checked = check(&whole, &registry.for_resource_type(resource_type), UnknownAttributes::Reject)?;
            let CheckedNode::ValuePath { filter: inner, .. } = checked.root() else {
                return Err(ScimError::Internal("a checked value path lost its brackets".to_owned()));
            };
            let inner = (**inner).clone();
            let sub = match sub_attr {
                Some(name) => Some(sub_attribute(attr, name, &path.to_string())?),
                None => None,
            };
            let seed = seed(filter, attr.def).filter(|s| eval::node_matches(&inner, &Value::Object(s.clone())));
            Ok(Target::Elements { attr, filter: inner, seed, text: filter.to_string(), sub })
        }
    }
}

/// The resource type's definition, or `404` for a type the directory does not have.
pub(super) fn resource_type_def<'r>(
    registry: &'r SchemaRegistry,
    resource_type: &str,
) -> Result<&'r ResourceTypeDef, ScimError> {
    registry.resource_type(resource_type).ok_or_else(|| ScimError::NotFound(format!("resource type {resource_type}")))
}

/// The canonical spelling of `urn` if it is one of the resource type's extensions.
pub(super) fn extension_urn<'r>(rt: &'r ResourceTypeDef, urn: &str) -> Option<&'r str> {
    rt.extensions().iter().find(|(e, _)| e.eq_ignore_ascii_case(urn)).map(|(e, _)| e.as_str())
}

/// Resolves a top-level attribute path (no sub-attribute).
fn resolve_attr<'r>(path: &AttrPath, registry: &'r SchemaRegistry, resource_type: &str) -> Result<Attr<'r>, ScimError> {
    let def = registry
        .resolve(resource_type, path)
        .ok_or_else(|| ScimError::InvalidPath(format!("unknown attribute '{path}' for {resource_type}")))?;
    Ok(Attr { ext: registry.extension_of(resource_type, path), def })
}

fn sub_attribute<'r>(attr: Attr<'r>, name: &str, written: &str) -> Result<&'r AttributeDef, ScimError> {
    if attr.def.ty() != AttrType::Complex {
        return Err(ScimError::InvalidPath(format!("'{written}': {} has no sub-attributes", attr.label())));
    }
    attr.def.sub_attribute(name).ok_or_else(|| ScimError::InvalidPath(format!("unknown attribute '{written}'")))
}

/// The element described by a filter of `eq` comparisons on sub-attributes joined by `and`
/// (`type eq "work"`), with canonical names; `None` for any other filter.
fn seed(filter: &Filter, def: &AttributeDef) -> Option<Map<String, Value>> {
    fn collect(filter: &Filter, def: &AttributeDef, out: &mut Map<String, Value>) -> Option<()> {
        match filter {
            Filter::Compare { path, op: CompareOp::Eq, value } if path.uri().is_none() && path.sub_attr().is_none() => {
                let sub = def.sub_attribute(path.name())?;
                let literal = match value {
                    CompValue::String(s) => Value::String(s.clone()),
                    CompValue::Bool(b) => Value::Bool(*b),
                    CompValue::Number(n) => Value::Number(n.clone()),
                    CompValue::Null => return None,
                };
                out.insert(sub.name().to_owned(), literal);
                Some(())
            }
            Filter::And(children) => children.iter().try_for_each(|c| collect(c, def, out)),
            _ => None,
        }
    }
    let mut out = Map::new();
    collect(filter, def, &mut out).map(|()| out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(text: &str) -> Result<Target<'static>, ScimError> {
        let registry: &'static SchemaRegistry = Box::leak(Box::new(SchemaRegistry::new()));
        let path = parse_path(text, registry, "User")?;
        resolve(&path, registry, "User")
    }

    #[test]
    fn names_resolve_ignoring_case_to_the_schema_spelling() {
        let Target::Attr { attr, sub } = target("NAME.GIVENNAME").unwrap() else { panic!("expected an attribute") };
        assert_eq!(attr.def.name(), "name");
        assert_eq!(sub.map(AttributeDef::name), Some("givenName"));
    }

    #[test]
    fn an_extension_attribute_knows_its_extension() {
        let Target::Attr { attr, .. } = target("department").unwrap() else { panic!("expected an attribute") };
        assert_eq!(attr.ext, Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    }

    #[test]
    fn a_bare_extension_urn_is_the_whole_extension() {
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user";
        let Target::Extension(canonical) = target(urn).unwrap() else { panic!("expected an extension") };
        assert_eq!(canonical, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
    }

    #[test]
    fn an_unknown_attribute_is_invalid_path_naming_it() {
        let err = target("shoeSize").unwrap_err();
        assert_eq!(err, ScimError::InvalidPath("unknown attribute 'shoeSize' for User".to_owned()));
        assert_eq!(target("name.shoeSize").unwrap_err().scim_type(), Some("invalidPath"));
        assert_eq!(target("userName.x").unwrap_err().scim_type(), Some("invalidPath"));
    }

    #[test]
    fn a_filter_on_a_single_valued_attribute_is_invalid_path() {
        assert_eq!(target(r#"name[givenName eq "x"]"#).unwrap_err().scim_type(), Some("invalidPath"));
    }

    #[test]
    fn a_filter_on_an_unknown_sub_attribute_is_invalid_filter() {
        assert_eq!(target(r#"emails[kind eq "work"]"#).unwrap_err().scim_type(), Some("invalidFilter"));
    }

    #[test]
    fn an_eq_filter_seeds_the_element_it_describes() {
        let Target::Elements { seed, .. } = target(r#"emails[TYPE eq "work" and primary eq true].value"#).unwrap()
        else {
            panic!("expected elements")
        };
        assert_eq!(seed.map(Value::Object), Some(json!({"type": "work", "primary": true})));
    }

    #[test]
    fn other_filters_seed_nothing() {
        for text in [r#"emails[type ne "work"]"#, r#"emails[type eq "a" or type eq "b"]"#, r#"emails[value co "x"]"#] {
            let Target::Elements { seed, .. } = target(text).unwrap() else { panic!("expected elements") };
            assert_eq!(seed, None, "{text}");
        }
    }

    #[test]
    fn a_contradictory_filter_seeds_nothing() {
        let Target::Elements { seed, .. } = target(r#"emails[type eq "a" and type eq "b"].value"#).unwrap() else {
            panic!("expected elements")
        };
        assert_eq!(seed, None);
    }
}
