//! Validation of POST and PUT bodies against the registry (RFC 7643 §2, §3, §7;
//! RFC 7644 §3.3, §3.5.1): `schemas` consistency, required attributes, data types,
//! `readOnly` attributes ignored, `immutable` enforced on replace, attribute names
//! normalised to the schema's case, at most one `primary: true`, and unknown attributes
//! rejected or preserved (and reported) per [`UnknownPolicy`], and the non-human identity
//! extension's `kind` held to its canonical values ([`crate::nonhuman`]).

use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::schema::{AttrType, AttributeDef, Mutability, SchemaRegistry};

/// What to do with attributes the schemas do not define.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownPolicy {
    /// Reject with `invalidSyntax`, naming the attribute path.
    #[default]
    Strict,
    /// Keep them in the output and list them in the report.
    Preserve,
}

/// A resource body that passed validation, with names in canonical case.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedResource(Map<String, Value>);

impl ValidatedResource {
    /// The normalised JSON object.
    pub fn as_object(&self) -> &Map<String, Value> {
        &self.0
    }
    /// Consumes the wrapper.
    pub fn into_object(self) -> Map<String, Value> {
        self.0
    }
}

/// What validation noticed but did not reject.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationReport {
    /// Unknown attribute paths kept under [`UnknownPolicy::Preserve`].
    pub unmapped: Vec<String>,
}

struct Ctx<'a> {
    policy: UnknownPolicy,
    report: ValidationReport,
    existing: Option<&'a Map<String, Value>>,
}

fn syntax(m: String) -> ScimError {
    ScimError::InvalidSyntax(m)
}

/// Whether one value (an element, for a multi-valued attribute) has the type `def` declares.
pub(crate) fn check_scalar(def: &AttributeDef, path: &str, v: &Value) -> Result<(), ScimError> {
    let ok = match def.ty() {
        AttrType::String | AttrType::Reference => v.is_string(),
        AttrType::Boolean => v.is_boolean(),
        AttrType::Integer => v.is_i64() || v.is_u64(),
        AttrType::Decimal => v.is_number(),
        AttrType::DateTime => v.as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        AttrType::Binary => v.as_str().is_some_and(is_base64),
        AttrType::Complex => v.is_object(),
    };
    if ok { Ok(()) } else { Err(ScimError::InvalidValue(format!("{path} must be of type {}", def.ty().as_str()))) }
}

fn is_base64(s: &str) -> bool {
    let t = s.trim_end_matches('=');
    s.len() - t.len() <= 2 && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
}

impl Ctx<'_> {
    fn unknown(&mut self, path: String) -> Result<bool, ScimError> {
        match self.policy {
            UnknownPolicy::Strict => Err(syntax(format!("unknown attribute {path}"))),
            UnknownPolicy::Preserve => {
                self.report.unmapped.push(path);
                Ok(true)
            }
        }
    }

    /// Validates the attributes of one schema level, returning the normalised object.
    fn attrs(
        &mut self,
        defs: &dyn Fn(&str) -> Option<AttributeDef>,
        all: &[AttributeDef],
        prefix: &str,
        obj: &Map<String, Value>,
        existing: Option<&Map<String, Value>>,
    ) -> Result<Map<String, Value>, ScimError> {
        let mut out = Map::new();
        for (key, value) in obj {
            let path = format!("{prefix}{key}");
            let Some(def) = defs(key) else {
                if self.unknown(path)? {
                    out.insert(key.clone(), value.clone());
                }
                continue;
            };
            if def.mutability() == Mutability::ReadOnly || value.is_null() {
                continue;
            }
            let v = self.value(&def, &format!("{prefix}{}", def.name()), value)?;
            out.insert(def.name().to_owned(), v);
        }
        for def in all {
            if def.required() && def.mutability() != Mutability::ReadOnly && !out.contains_key(def.name()) {
                return Err(ScimError::InvalidValue(format!("required attribute {prefix}{} is missing", def.name())));
            }
            if def.mutability() == Mutability::Immutable
                && let Some(old) = existing.and_then(|e| e.get(def.name()))
                && out.get(def.name()).is_some_and(|new| new != old)
            {
                return Err(ScimError::Mutability(format!("{prefix}{} is immutable", def.name())));
            }
        }
        Ok(out)
    }

    fn value(&mut self, def: &AttributeDef, path: &str, v: &Value) -> Result<Value, ScimError> {
        if def.multi_valued() {
            let Value::Array(items) = v else {
                return Err(ScimError::InvalidValue(format!("{path} is multi-valued and must be an array")));
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(self.single(def, path, item)?);
            }
            let primaries = out.iter().filter(|i| i.get("primary") == Some(&Value::Bool(true))).count();
            if primaries > 1 {
                return Err(ScimError::InvalidValue(format!("{path} has more than one primary value")));
            }
            Ok(Value::Array(out))
        } else if v.is_array() {
            Err(ScimError::InvalidValue(format!("{path} is single-valued")))
        } else {
            self.single(def, path, v)
        }
    }

    fn single(&mut self, def: &AttributeDef, path: &str, v: &Value) -> Result<Value, ScimError> {
        check_scalar(def, path, v)?;
        let Value::Object(obj) = v else {
            return Ok(v.clone());
        };
        let subs = def.sub_attributes().to_vec();
        let lookup = |k: &str| subs.iter().find(|s| s.name().eq_ignore_ascii_case(k)).cloned();
        let existing = None;
        self.attrs(&lookup, &subs, &format!("{path}."), obj, existing).map(Value::Object)
    }
}

/// Validates a create (POST) body, or with `existing` a replace (PUT) body, of
/// `resource_type`.
pub fn validate(
    registry: &SchemaRegistry,
    resource_type: &str,
    body: &Value,
    existing: Option<&Map<String, Value>>,
    policy: UnknownPolicy,
) -> Result<(ValidatedResource, ValidationReport), ScimError> {
    let obj = body.as_object().ok_or_else(|| syntax("the body must be a JSON object".to_owned()))?;
    let rt = registry
        .resource_type(resource_type)
        .ok_or_else(|| ScimError::NotFound(format!("resource type {resource_type}")))?;
    let schemas: Vec<&str> = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .and_then(|(_, v)| v.as_array())
        .ok_or_else(|| syntax("\"schemas\" must be an array of URNs".to_owned()))?
        .iter()
        .map(|v| v.as_str().ok_or_else(|| syntax("\"schemas\" must hold strings".to_owned())))
        .collect::<Result<_, _>>()?;
    if !schemas.iter().any(|s| s.eq_ignore_ascii_case(rt.schema())) {
        return Err(syntax(format!("\"schemas\" must contain {}", rt.schema())));
    }
    let mut canonical_schemas = vec![Value::String(rt.schema().to_owned())];
    for s in &schemas {
        if s.eq_ignore_ascii_case(rt.schema()) {
            continue;
        }
        let ext = rt.extensions().iter().find(|(e, _)| e.eq_ignore_ascii_case(s));
        match ext {
            Some((e, _)) => canonical_schemas.push(Value::String(e.clone())),
            None => {
                return Err(syntax(format!("schema {s} is not registered for {resource_type}")));
            }
        }
    }
    let mut ctx = Ctx { policy, report: ValidationReport::default(), existing };
    let core = registry.schema(rt.schema()).map(|s| s.attributes().to_vec()).unwrap_or_default();
    let mut all = registry.common_attributes().to_vec();
    all.extend(core);
    let lookup = |k: &str| all.iter().find(|a| a.name().eq_ignore_ascii_case(k)).cloned();
    let mut core_body = Map::new();
    let mut out = Map::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some((urn, _)) = rt.extensions().iter().find(|(e, _)| e.eq_ignore_ascii_case(key)) {
            if !canonical_schemas.iter().any(|s| s.as_str() == Some(urn.as_str())) {
                return Err(syntax(format!("{urn} is present but not listed in \"schemas\"")));
            }
            let ext_obj = value.as_object().ok_or_else(|| syntax(format!("{urn} must be an object")))?;
            let attrs = registry.schema(urn).map(|s| s.attributes().to_vec()).unwrap_or_default();
            let ext_lookup = |k: &str| attrs.iter().find(|a| a.name().eq_ignore_ascii_case(k)).cloned();
            let old = ctx.existing.and_then(|e| e.get(urn)).and_then(Value::as_object);
            let v = ctx.attrs(&ext_lookup, &attrs, &format!("{urn}:"), ext_obj, old)?;
            out.insert(urn.clone(), Value::Object(v));
        } else {
            core_body.insert(key.clone(), value.clone());
        }
    }
    for (urn, required) in rt.extensions() {
        if *required && !out.contains_key(urn) {
            return Err(ScimError::InvalidValue(format!("required extension {urn} is missing")));
        }
    }
    let old = ctx.existing;
    let core_out = ctx.attrs(&lookup, &all, "", &core_body, old)?;
    out.extend(core_out);
    // Held to the extension's rules only where the directory offers it; elsewhere its URN
    // is an attribute like any other undeclared one.
    if registry.offers_nonhuman(resource_type) {
        crate::nonhuman::NonHuman::of(&out)?;
    }
    out.insert("schemas".to_owned(), Value::Array(canonical_schemas));
    Ok((ValidatedResource(out), ctx.report))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn user(extra: &Value) -> Value {
        let mut base = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "bjensen"
        });
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }

    fn run(body: &Value, policy: UnknownPolicy) -> Result<(ValidatedResource, ValidationReport), ScimError> {
        validate(&SchemaRegistry::new(), "User", body, None, policy)
    }

    #[test]
    fn names_are_normalised_and_read_only_attributes_ignored() {
        let body = user(&json!({"DISPLAYNAME": "Babs", "id": "x", "meta": {"version": "1"}}));
        let (v, _) = run(&body, UnknownPolicy::Strict).unwrap();
        assert_eq!(v.as_object().get("displayName"), Some(&json!("Babs")));
        assert_eq!(v.as_object().get("id"), None);
        assert_eq!(v.as_object().get("meta"), None);
    }

    #[test]
    fn missing_user_name_is_invalid_value() {
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]});
        assert_eq!(run(&body, UnknownPolicy::Strict).err().and_then(|e| e.scim_type()), Some("invalidValue"));
    }

    #[test]
    fn unknown_attribute_is_rejected_when_strict_and_reported_when_preserved() {
        let body = user(&json!({"shoeSize": 42}));
        let err = run(&body, UnknownPolicy::Strict).err().unwrap();
        assert_eq!(err.scim_type(), Some("invalidSyntax"));
        assert_eq!(err.detail(), "unknown attribute shoeSize");
        let (v, report) = run(&body, UnknownPolicy::Preserve).unwrap();
        assert_eq!(report.unmapped, ["shoeSize"]);
        assert_eq!(v.as_object().get("shoeSize"), Some(&json!(42)));
    }

    #[test]
    fn single_value_for_multi_valued_attribute_is_an_error() {
        let body = user(&json!({"emails": {"value": "b@x"}}));
        assert_eq!(run(&body, UnknownPolicy::Strict).err().map(|e| e.status()), Some(400));
    }

    #[test]
    fn two_primary_emails_are_rejected() {
        let body = user(&json!({"emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}));
        assert!(run(&body, UnknownPolicy::Strict).is_err());
    }

    #[test]
    fn extension_object_must_be_listed_in_schemas() {
        let body = user(&json!({ENT: {"department": "Eng"}}));
        assert_eq!(run(&body, UnknownPolicy::Strict).err().and_then(|e| e.scim_type()), Some("invalidSyntax"));
    }

    #[test]
    fn wrong_type_is_invalid_value() {
        let body = user(&json!({"active": "yes"}));
        assert_eq!(run(&body, UnknownPolicy::Strict).err().and_then(|e| e.scim_type()), Some("invalidValue"));
    }

    #[test]
    fn immutable_sub_attributes_are_not_yet_checked_on_replace() {
        let reg = SchemaRegistry::new();
        let old = json!({"displayName": "g", "members": [{"value": "1"}]});
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "g", "members": [{"value": "2"}]});
        let res = validate(&reg, "Group", &body, old.as_object(), UnknownPolicy::Strict);
        // Known gap: immutability is enforced for top-level attributes only.
        assert!(res.is_ok());
    }

    #[test]
    fn rfc_7643_section_8_2_style_user_with_enterprise_extension_validates() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "userName": "bjensen@example.com",
            "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "active": true,
            "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}],
            ENT: {"employeeNumber": "701984", "manager": {"value": "26118915", "displayName": "John Smith"}}
        });
        let (v, report) = run(&body, UnknownPolicy::Strict).unwrap();
        assert_eq!(report.unmapped.len(), 0);
        assert_eq!(v.as_object()[ENT]["manager"], json!({"value": "26118915"}));
    }

    const NHI: &str = crate::schema::builtin::NONHUMAN_USER;

    fn nonhuman(extension: Value) -> Value {
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", NHI], "userName": "ci-bot", NHI: extension})
    }

    #[test]
    fn a_service_account_with_owner_and_expiry_validates_with_canonical_names() {
        let body = nonhuman(json!({
            "KIND": "serviceAccount",
            "Owner": {"value": "2819c223", "$ref": "../Users/2819c223", "DISPLAY": "Babs"},
            "expiresat": "2027-01-01T00:00:00Z"
        }));
        let (v, _) = run(&body, UnknownPolicy::Strict).unwrap();
        assert_eq!(
            v.as_object()[NHI],
            json!({"kind": "serviceAccount", "owner": {"value": "2819c223", "$ref": "../Users/2819c223",
                "display": "Babs"}, "expiresAt": "2027-01-01T00:00:00Z"})
        );
    }

    #[test]
    fn nonhuman_kind_outside_its_canonical_values_is_invalid_value() {
        for kind in ["robot", "Agent"] {
            let err = run(&nonhuman(json!({"kind": kind})), UnknownPolicy::Preserve).err();
            assert_eq!(err.and_then(|e| e.scim_type()), Some("invalidValue"), "{kind}");
        }
    }

    #[test]
    fn without_the_nonhuman_extension_its_urn_is_an_undeclared_attribute() {
        let registry = SchemaRegistry::without_nonhuman();
        let validate = |body: &Value, policy| super::validate(&registry, "User", body, None, policy);
        // Listed in `schemas`, it names a schema the directory does not have.
        let err = validate(&nonhuman(json!({"kind": "robot"})), UnknownPolicy::Preserve).err();
        assert_eq!(err.and_then(|e| e.scim_type()), Some("invalidSyntax"));
        // Sent without being listed, it is kept and reported (not held to the extension's
        // rules), or refused under the strict policy.
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ci-bot",
            NHI: {"kind": "robot"}});
        let (v, report) = validate(&body, UnknownPolicy::Preserve).unwrap();
        assert_eq!(v.as_object()[NHI], json!({"kind": "robot"}));
        assert_eq!(report.unmapped, [NHI]);
        let err = validate(&body, UnknownPolicy::Strict).err();
        assert_eq!(err.and_then(|e| e.scim_type()), Some("invalidSyntax"));
    }

    #[test]
    fn nonhuman_extension_without_kind_is_invalid_value() {
        let err = run(&nonhuman(json!({"expiresAt": "2027-01-01T00:00:00Z"})), UnknownPolicy::Strict).err();
        assert_eq!(err.and_then(|e| e.scim_type()), Some("invalidValue"));
    }

    #[test]
    fn nonhuman_expiry_that_is_not_a_date_time_is_invalid_value() {
        let err = run(&nonhuman(json!({"kind": "agent", "expiresAt": "next week"})), UnknownPolicy::Strict).err();
        assert_eq!(err.and_then(|e| e.scim_type()), Some("invalidValue"));
    }

    #[test]
    fn custom_extension_attributes_are_type_checked_like_core_ones() {
        let acme = "urn:acme:params:scim:schemas:extension:2.0:User";
        let mut reg = SchemaRegistry::new();
        let schema = json!({"id": acme, "attributes": [
            {"name": "costCenter", "type": "string"},
            {"name": "clearanceLevel", "type": "integer"}
        ]});
        assert!(reg.define_extension("User", &schema, false).is_ok());
        let ok = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", acme],
            "userName": "b", acme: {"COSTCENTER": "4130", "clearanceLevel": 3}});
        let (v, _) = validate(&reg, "User", &ok, None, UnknownPolicy::Strict).unwrap();
        assert_eq!(v.as_object()[acme], json!({"costCenter": "4130", "clearanceLevel": 3}));
        let bad = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", acme],
            "userName": "b", acme: {"clearanceLevel": "3"}});
        let err = validate(&reg, "User", &bad, None, UnknownPolicy::Strict).err();
        assert_eq!(err.and_then(|e| e.scim_type()), Some("invalidValue"));
    }
}
