//! Attribute-path resolution against the registry (RFC 7644 §3.10 attribute notation), and
//! the bridge to the filter checker's [`AttrResolver`].

use super::{AttributeDef, SchemaRegistry};
use crate::filter::check::{AttrInfo, AttrResolver};
use crate::path::AttrPath;

impl SchemaRegistry {
    /// The definition `path` names for `resource_type` (names ignoring case; a path without
    /// URI resolves in the common attributes, the core schema, then the extensions).
    pub fn resolve(&self, resource_type: &str, path: &AttrPath) -> Option<&AttributeDef> {
        self.resolve_parts(resource_type, path.uri(), path.name(), path.sub_attr())
    }

    /// The extension URN under which the top-level attribute `path` is stored, if it lives
    /// in an extension schema of `resource_type`.
    pub fn extension_of(&self, resource_type: &str, path: &AttrPath) -> Option<&str> {
        let rt = self.resource_type(resource_type)?;
        if let Some(uri) = path.uri() {
            return rt.extensions().iter().find(|(e, _)| e.eq_ignore_ascii_case(uri)).map(|(e, _)| e.as_str());
        }
        let in_core = self.resolve_parts(resource_type, Some(rt.schema()), path.name(), None).is_some();
        if in_core {
            return None;
        }
        rt.extensions()
            .iter()
            .find(|(e, _)| self.schema(e).is_some_and(|s| s.attribute(path.name()).is_some()))
            .map(|(e, _)| e.as_str())
    }

    /// A view of this registry for one resource type, usable by the filter checker.
    pub fn for_resource_type<'a>(&'a self, resource_type: &'a str) -> ResourceSchema<'a> {
        ResourceSchema { registry: self, resource_type }
    }
}

/// The registry seen from one resource type; implements the filter checker's resolver.
#[derive(Debug, Clone, Copy)]
pub struct ResourceSchema<'a> {
    registry: &'a SchemaRegistry,
    resource_type: &'a str,
}

impl AttrResolver for ResourceSchema<'_> {
    fn resolve(&self, path: &AttrPath) -> Option<AttrInfo> {
        let def = self.registry.resolve(self.resource_type, path)?;
        Some(AttrInfo {
            name: def.name().to_owned(),
            ty: def.ty(),
            multi_valued: def.multi_valued(),
            case_exact: def.case_exact(),
            extension: self.registry.extension_of(self.resource_type, path).map(str::to_owned),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::schema::builtin::ENTERPRISE_USER;

    fn path(s: &str) -> AttrPath {
        AttrPath::parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
    }

    #[test]
    fn fully_qualified_enterprise_path_resolves_with_its_extension() {
        let reg = SchemaRegistry::new();
        let view = reg.for_resource_type("User");
        let p = path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
        let info = view.resolve(&p);
        assert_eq!(info.as_ref().map(|i| i.name.as_str()), Some("value"));
        assert_eq!(info.and_then(|i| i.extension), Some(ENTERPRISE_USER.to_owned()));
    }

    #[test]
    fn core_path_resolves_without_extension() {
        let reg = SchemaRegistry::new();
        let info = reg.for_resource_type("User").resolve(&path("emails.VALUE"));
        assert_eq!(info.as_ref().map(|i| i.extension.clone()), Some(None));
        assert_eq!(info.map(|i| i.ty), Some(crate::schema::AttrType::String));
    }

    #[test]
    fn unqualified_extension_attribute_names_its_extension() {
        let reg = SchemaRegistry::new();
        let p = path("department");
        assert_eq!(reg.extension_of("User", &p), Some(ENTERPRISE_USER));
    }
}
