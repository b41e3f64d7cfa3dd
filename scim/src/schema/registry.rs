//! The per-directory schema registry (RFC 7643 §6, §7): resource types, their core schema
//! and extensions, including custom extension schemas defined at runtime from the
//! RFC 7643 §7 JSON representation and validated on definition.

use serde_json::{Value, json};

use super::builtin::{self, AGENT, AGENTIC_APPLICATION, ENTERPRISE_USER, GROUP, NONHUMAN_USER, USER};
use super::{AttrType, AttributeDef, Mutability, Returned, SchemaDef, Uniqueness};
use crate::error::ScimError;

/// A resource type (RFC 7643 §6): its name, endpoint, core schema and extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTypeDef {
    name: String,
    endpoint: String,
    schema: String,
    extensions: Vec<(String, bool)>,
}

impl ResourceTypeDef {
    /// The resource type name (`User`, `Group`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The endpoint, e.g. `/Users`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
    /// The core schema URN.
    pub fn schema(&self) -> &str {
        &self.schema
    }
    /// The extension URNs with whether each is required.
    pub fn extensions(&self) -> &[(String, bool)] {
        &self.extensions
    }

    /// The RFC 7643 §6 representation, with `meta.location` at `location`.
    pub fn to_json(&self, location: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "schema": self.schema,
            "schemaExtensions": self.extensions.iter()
                .map(|(s, r)| json!({"schema": s, "required": r}))
                .collect::<Vec<_>>(),
            "meta": {"resourceType": "ResourceType", "location": location},
        })
    }
}

/// The schemas and resource types of one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRegistry {
    schemas: Vec<SchemaDef>,
    resource_types: Vec<ResourceTypeDef>,
    common: Vec<AttributeDef>,
}

impl Default for SchemaRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl SchemaRegistry {
    /// The registry with User (+ EnterpriseUser) and Group, as RFC 7643 defines them,
    /// User's optional non-human identity extension, and the Agent and AgenticApplication
    /// resource types of draft-abbey-scim-agent-extension-00.
    pub fn new() -> Self {
        Self {
            schemas: vec![
                builtin::user(),
                builtin::group(),
                builtin::enterprise_user(),
                builtin::nonhuman_user(),
                builtin::agent(),
                builtin::agentic_application(),
            ],
            resource_types: vec![
                ResourceTypeDef {
                    name: "User".to_owned(),
                    endpoint: "/Users".to_owned(),
                    schema: USER.to_owned(),
                    extensions: vec![(ENTERPRISE_USER.to_owned(), false), (NONHUMAN_USER.to_owned(), false)],
                },
                ResourceTypeDef {
                    name: "Group".to_owned(),
                    endpoint: "/Groups".to_owned(),
                    schema: GROUP.to_owned(),
                    extensions: Vec::new(),
                },
                ResourceTypeDef {
                    name: "Agent".to_owned(),
                    endpoint: "/Agents".to_owned(),
                    schema: AGENT.to_owned(),
                    extensions: Vec::new(),
                },
                ResourceTypeDef {
                    name: "AgenticApplication".to_owned(),
                    endpoint: "/AgenticApplications".to_owned(),
                    schema: AGENTIC_APPLICATION.to_owned(),
                    extensions: Vec::new(),
                },
            ],
            common: builtin::common_attributes(),
        }
    }

    /// The registry of a directory that does not offer non-human identities (neither the
    /// extension nor the agentic resource types): RFC 7643's User (with EnterpriseUser)
    /// and Group only.
    pub fn without_nonhuman() -> Self {
        let mut registry = Self::new();
        registry.schemas.retain(|schema| ![NONHUMAN_USER, AGENT, AGENTIC_APPLICATION].contains(&schema.id.as_str()));
        registry
            .resource_types
            .retain(|resource_type| ![AGENT, AGENTIC_APPLICATION].contains(&resource_type.schema.as_str()));
        for resource_type in &mut registry.resource_types {
            resource_type.extensions.retain(|(urn, _)| urn != NONHUMAN_USER);
        }
        registry
    }

    /// Whether `resource_type` offers the non-human identity extension.
    pub fn offers_nonhuman(&self, resource_type: &str) -> bool {
        self.resource_type(resource_type).is_some_and(|rt| rt.extensions.iter().any(|(urn, _)| urn == NONHUMAN_USER))
    }

    /// All schemas.
    pub fn schemas(&self) -> &[SchemaDef] {
        &self.schemas
    }
    /// All resource types.
    pub fn resource_types(&self) -> &[ResourceTypeDef] {
        &self.resource_types
    }
    /// The common attributes (`id`, `externalId`, `meta`) of RFC 7643 §3.1.
    pub fn common_attributes(&self) -> &[AttributeDef] {
        &self.common
    }
    /// The schema with URN `id`, ignoring case.
    pub fn schema(&self, id: &str) -> Option<&SchemaDef> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(id))
    }
    /// The resource type named `name`, ignoring case.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceTypeDef> {
        self.resource_types.iter().find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// Resolves `[uri:]name[.sub]` for `resource_type`, names ignoring case. Without a URI,
    /// the common attributes, then the core schema, then each extension is searched.
    pub fn resolve_parts(
        &self,
        resource_type: &str,
        uri: Option<&str>,
        name: &str,
        sub: Option<&str>,
    ) -> Option<&AttributeDef> {
        let rt = self.resource_type(resource_type)?;
        let top = match uri {
            Some(uri) => {
                let known = rt.schema.eq_ignore_ascii_case(uri)
                    || rt.extensions.iter().any(|(e, _)| e.eq_ignore_ascii_case(uri));
                if !known {
                    return None;
                }
                self.schema(uri)?.attribute(name).or_else(|| {
                    rt.schema
                        .eq_ignore_ascii_case(uri)
                        .then(|| self.common.iter().find(|a| a.name.eq_ignore_ascii_case(name)))
                        .flatten()
                })?
            }
            None => self
                .common
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name))
                .or_else(|| self.schema(&rt.schema)?.attribute(name))
                .or_else(|| rt.extensions.iter().find_map(|(e, _)| self.schema(e)?.attribute(name)))?,
        };
        match sub {
            Some(sub) => top.sub_attribute(sub),
            None => Some(top),
        }
    }

    /// Defines a custom extension schema from its RFC 7643 §7 JSON and attaches it to
    /// `resource_type`. The id must be a `urn:` URN not already registered; attribute names
    /// must be valid ATTRNAMEs, unique, and must not clash with the core schema's or the
    /// common attributes; types and characteristics must be RFC keywords; complex
    /// attributes need sub-attributes and may not nest further.
    pub fn define_extension(
        &mut self,
        resource_type: &str,
        schema: &Value,
        required: bool,
    ) -> Result<&SchemaDef, ScimError> {
        let bad = |m: String| ScimError::InvalidValue(m);
        let obj = schema.as_object().ok_or_else(|| bad("a schema must be a JSON object".to_owned()))?;
        let id =
            obj.get("id").and_then(Value::as_str).ok_or_else(|| bad("a schema needs a string \"id\"".to_owned()))?;
        let valid_urn = id.len() > 4
            && id[..4].eq_ignore_ascii_case("urn:")
            && id.split(':').count() >= 3
            && id.split(':').all(|p| !p.is_empty())
            && !id.chars().any(char::is_whitespace);
        if !valid_urn {
            return Err(bad(format!("schema id {id:?} is not a URN")));
        }
        if self.schema(id).is_some() {
            return Err(ScimError::Uniqueness(format!("schema {id} is already defined")));
        }
        // A directory without the built-in non-human identity extension still may not
        // define its own schema under that URN: the store and the sweeper read it.
        if id.eq_ignore_ascii_case(NONHUMAN_USER) {
            return Err(ScimError::Uniqueness(format!("schema {id} is built in and cannot be redefined")));
        }
        let rt_schema = self
            .resource_type(resource_type)
            .ok_or_else(|| ScimError::NotFound(format!("resource type {resource_type}")))?
            .schema
            .clone();
        let attrs = obj
            .get("attributes")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("a schema needs an \"attributes\" array".to_owned()))?;
        let mut defs: Vec<AttributeDef> = Vec::with_capacity(attrs.len());
        for attr in attrs {
            let def = parse_attribute(attr, true)?;
            let clash = self.resolve_parts(resource_type, Some(&rt_schema), &def.name, None).is_some();
            if clash {
                return Err(bad(format!("attribute {} clashes with a core attribute of {resource_type}", def.name)));
            }
            if defs.iter().any(|d| d.name.eq_ignore_ascii_case(&def.name)) {
                return Err(bad(format!("attribute {} is defined twice", def.name)));
            }
            defs.push(def);
        }
        let def = SchemaDef {
            id: id.to_owned(),
            name: str_field(obj.get("name")).to_owned(),
            description: str_field(obj.get("description")).to_owned(),
            attributes: defs,
        };
        for rt in &mut self.resource_types {
            if rt.name.eq_ignore_ascii_case(resource_type) {
                rt.extensions.push((id.to_owned(), required));
            }
        }
        self.schemas.push(def);
        self.schemas.last().ok_or_else(|| ScimError::Internal("schema not stored".to_owned()))
    }
}

fn str_field(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or_default()
}

fn is_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn keyword<T>(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    default: T,
    parse: fn(&str) -> Option<T>,
) -> Result<T, ScimError> {
    match obj.get(key) {
        None => Ok(default),
        Some(Value::String(s)) => parse(s).ok_or_else(|| ScimError::InvalidValue(format!("{key} {s:?} is not valid"))),
        Some(_) => Err(ScimError::InvalidValue(format!("{key} must be a string"))),
    }
}

fn flag(obj: &serde_json::Map<String, Value>, key: &str) -> Result<bool, ScimError> {
    match obj.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ScimError::InvalidValue(format!("{key} must be a boolean"))),
    }
}

fn strings(obj: &serde_json::Map<String, Value>, key: &str) -> Result<Vec<String>, ScimError> {
    match obj.get(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| ScimError::InvalidValue(format!("{key} must hold strings")))
            })
            .collect(),
        Some(_) => Err(ScimError::InvalidValue(format!("{key} must be an array"))),
    }
}

fn parse_attribute(v: &Value, top_level: bool) -> Result<AttributeDef, ScimError> {
    let bad = |m: String| ScimError::InvalidValue(m);
    let obj = v.as_object().ok_or_else(|| bad("an attribute must be a JSON object".to_owned()))?;
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("an attribute needs a string \"name\"".to_owned()))?;
    if !is_attr_name(name) {
        return Err(bad(format!("{name:?} is not a valid attribute name")));
    }
    let ty_s = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("attribute {name} needs a string \"type\"")))?;
    let ty = AttrType::parse(ty_s).ok_or_else(|| bad(format!("attribute {name} has unknown type {ty_s:?}")))?;
    let mut def = AttributeDef::new(name, ty);
    def.multi_valued = flag(obj, "multiValued")?;
    def.required = flag(obj, "required")?;
    def.case_exact = flag(obj, "caseExact")?;
    str_field(obj.get("description")).clone_into(&mut def.description);
    def.mutability = keyword(obj, "mutability", Mutability::ReadWrite, Mutability::parse)?;
    def.returned = keyword(obj, "returned", Returned::Default, Returned::parse)?;
    def.uniqueness = keyword(obj, "uniqueness", Uniqueness::None, Uniqueness::parse)?;
    def.canonical_values = strings(obj, "canonicalValues")?;
    def.reference_types = strings(obj, "referenceTypes")?;
    if !def.reference_types.is_empty() && ty != AttrType::Reference {
        return Err(bad(format!("attribute {name} has referenceTypes but is not a reference")));
    }
    let subs = match obj.get("subAttributes") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(|s| parse_attribute(s, false)).collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(bad("subAttributes must be an array".to_owned())),
    };
    match (ty, subs.is_empty()) {
        (AttrType::Complex, true) => {
            return Err(bad(format!("complex attribute {name} needs subAttributes")));
        }
        (AttrType::Complex, false) if !top_level => {
            return Err(bad(format!("complex attribute {name} may not nest")));
        }
        (t, false) if t != AttrType::Complex => {
            return Err(bad(format!("only complex attributes have subAttributes ({name})")));
        }
        _ => {}
    }
    def.sub_attributes = subs;
    Ok(def)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const ACME: &str = "urn:acme:params:scim:schemas:extension:2.0:User";

    fn acme() -> Value {
        json!({
            "id": ACME,
            "name": "AcmeUser",
            "attributes": [
                {"name": "costCenter", "type": "string"},
                {"name": "clearanceLevel", "type": "integer"}
            ]
        })
    }

    #[test]
    fn resolve_without_uri_finds_core_then_extension() {
        let reg = SchemaRegistry::new();
        let user_name = reg.resolve_parts("User", None, "username", None);
        assert_eq!(user_name.map(AttributeDef::name), Some("userName"));
        let dept = reg.resolve_parts("User", None, "department", None);
        assert_eq!(dept.map(AttributeDef::name), Some("department"));
        let given = reg.resolve_parts("user", None, "NAME", Some("givenname"));
        assert_eq!(given.map(AttributeDef::name), Some("givenName"));
    }

    #[test]
    fn resolve_with_uri_only_looks_in_that_schema() {
        let reg = SchemaRegistry::new();
        assert_eq!(reg.resolve_parts("User", Some(ENTERPRISE_USER), "userName", None), None);
        let mgr = reg.resolve_parts("User", Some(ENTERPRISE_USER), "manager", Some("value"));
        assert_eq!(mgr.map(AttributeDef::name), Some("value"));
        assert_eq!(reg.resolve_parts("Group", Some(ENTERPRISE_USER), "manager", None), None);
    }

    #[test]
    fn custom_extension_is_resolvable_after_definition() {
        let mut reg = SchemaRegistry::new();
        assert!(reg.define_extension("User", &acme(), false).is_ok());
        let level = reg.resolve_parts("User", Some(ACME), "clearancelevel", None);
        assert_eq!(level.map(AttributeDef::ty), Some(AttrType::Integer));
        let cc = reg.resolve_parts("User", Some(ACME), "costCenter", None);
        assert_eq!(cc.map(AttributeDef::ty), Some(AttrType::String));
    }

    #[test]
    fn custom_extension_clashing_with_core_attribute_is_rejected() {
        let mut reg = SchemaRegistry::new();
        let schema = json!({"id": ACME, "attributes": [{"name": "userName", "type": "string"}]});
        let err = reg.define_extension("User", &schema, false).err();
        assert_eq!(err.map(|e| e.scim_type()), Some(Some("invalidValue")));
    }

    #[test]
    fn custom_extension_with_non_urn_id_or_bad_type_is_rejected() {
        let mut reg = SchemaRegistry::new();
        let not_urn = json!({"id": "acme-ext", "attributes": []});
        assert!(reg.define_extension("User", &not_urn, false).is_err());
        let bad_type = json!({"id": ACME, "attributes": [{"name": "x", "type": "float"}]});
        assert!(reg.define_extension("User", &bad_type, false).is_err());
    }

    #[test]
    fn defining_the_same_extension_twice_is_a_uniqueness_error() {
        let mut reg = SchemaRegistry::new();
        assert!(reg.define_extension("User", &acme(), false).is_ok());
        let err = reg.define_extension("User", &acme(), false).err();
        assert_eq!(err.map(|e| e.status()), Some(409));
    }

    #[test]
    fn user_resource_type_serializes_its_extensions() {
        let reg = SchemaRegistry::new();
        let json = reg.resource_type("User").map(|r| r.to_json("/v2/ResourceTypes/User"));
        let json = json.unwrap_or_default();
        assert_eq!(json["endpoint"], "/Users");
        assert_eq!(json["schemaExtensions"][0]["schema"], ENTERPRISE_USER);
        assert_eq!(json["schemaExtensions"][0]["required"], false);
        assert_eq!(json["schemaExtensions"][1]["schema"], NONHUMAN_USER);
        assert_eq!(json["schemaExtensions"][1]["required"], false);
    }

    #[test]
    fn a_registry_without_the_nonhuman_extension_offers_only_rfc_7643() {
        let reg = SchemaRegistry::without_nonhuman();
        assert!(reg.schema(NONHUMAN_USER).is_none());
        assert!(!reg.offers_nonhuman("User"));
        assert!(SchemaRegistry::new().offers_nonhuman("User"));
        let json = reg.resource_type("User").map(|r| r.to_json("/v2/ResourceTypes/User")).unwrap_or_default();
        assert_eq!(json["schemaExtensions"], serde_json::json!([{"schema": ENTERPRISE_USER, "required": false}]));
        assert!(reg.resolve_parts("User", Some(NONHUMAN_USER), "kind", None).is_none());
        let ids: Vec<&str> = reg.schemas().iter().map(SchemaDef::id).collect();
        assert_eq!(ids, [USER, GROUP, ENTERPRISE_USER]);
        let names: Vec<&str> = reg.resource_types().iter().map(ResourceTypeDef::name).collect();
        assert_eq!(names, ["User", "Group"]);
    }

    #[test]
    fn agents_and_applications_are_resource_types_of_their_own() {
        let reg = SchemaRegistry::new();
        let agent = reg.resource_type("agent").map(|r| r.to_json("/v2/ResourceTypes/Agent")).unwrap_or_default();
        assert_eq!(agent["endpoint"], "/Agents");
        assert_eq!(agent["schema"], AGENT);
        assert_eq!(agent["schemaExtensions"], serde_json::json!([]));
        let app = reg.resource_type("AgenticApplication").map(ResourceTypeDef::endpoint);
        assert_eq!(app, Some("/AgenticApplications"));
        let name = reg.resolve_parts("Agent", None, "NAME", None);
        assert_eq!(name.map(AttributeDef::required), Some(true));
        // An agent has no userName; the User schema is not searched for it.
        assert!(reg.resolve_parts("Agent", None, "userName", None).is_none());
    }

    #[test]
    fn the_nonhuman_urn_cannot_be_defined_as_a_custom_extension() {
        let mut reg = SchemaRegistry::without_nonhuman();
        let schema = serde_json::json!({"id": NONHUMAN_USER.to_uppercase(), "attributes": []});
        let err = reg.define_extension("User", &schema, false).err();
        assert_eq!(err.map(|e| e.status()), Some(409));
    }

    #[test]
    fn nonhuman_attributes_resolve_by_their_full_path() {
        let reg = SchemaRegistry::new();
        let kind = reg.resolve_parts("User", Some(NONHUMAN_USER), "KIND", None);
        assert_eq!(kind.map(AttributeDef::name), Some("kind"));
        let owner = reg.resolve_parts("User", Some(NONHUMAN_USER), "owner", Some("value"));
        assert_eq!(owner.map(AttributeDef::name), Some("value"));
    }
}
