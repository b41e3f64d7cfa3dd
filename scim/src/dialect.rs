//! What identity providers actually send, turned into RFC 7643/7644 form before validation
//! and PATCH parsing. A directory's dialect follows the identity provider chosen for it;
//! each quirk is one named function, documented in [`Dialect::quirks`] with its source, and
//! exercised by a request body of the shape that provider sends (see the tests).
//!
//! A normaliser rewrites into an equivalent canonical form or leaves the input alone for
//! validation to reject with a clear error: nothing is dropped silently. Some deviations are
//! accepted in every dialect by the protocol core itself, because reading them is never
//! ambiguous: `op` names in any case, attribute paths (`name.givenName`,
//! `urn:…:User:department`) as keys of a PATCH value object, read-only `id`/`meta` in such
//! an object, and `remove` of members by value list.

use serde_json::{Map, Value};

use crate::path::{AttrPath, PatchPath};
use crate::schema::{AttrType, AttributeDef, SchemaRegistry};

/// The dialect of a directory, named after its identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Okta,
    Entra,
    Google,
    OneLogin,
    JumpCloud,
    Ping,
    Rippling,
    /// Strict RFC 7644: no rewriting at all.
    Generic,
}

/// One documented deviation of an identity provider from RFC 7643/7644.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirk {
    pub name: &'static str,
    /// One line: what is sent and what it becomes.
    pub description: &'static str,
    /// Where the behaviour is documented.
    pub source: &'static str,
}

/// A rewritten body and the quirks that changed something in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    pub body: Value,
    pub applied: Vec<&'static str>,
}

const ENTRA_KNOWN_ISSUES: &str = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility";
const ENTRA_SCIM_TUTORIAL: &str =
    "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups";
const OKTA_SCIM_GUIDE: &str = "https://developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20/";

pub const ENTRA_CAPITALISED_OPS: Quirk = Quirk {
    name: "entra-capitalised-ops",
    description: "PATCH `op` values `Add`, `Replace`, `Remove` become `add`, `replace`, `remove`",
    source: ENTRA_KNOWN_ISSUES,
};
pub const ENTRA_BOOLEAN_STRINGS: Quirk = Quirk {
    name: "entra-boolean-strings",
    description: "`\"True\"`/`\"False\"` for a boolean attribute (`active`, `emails[].primary`, …) become `true`/`false`",
    source: ENTRA_KNOWN_ISSUES,
};
pub const ENTRA_DOTTED_VALUE_KEYS: Quirk = Quirk {
    name: "entra-dotted-value-keys",
    description: "`replace`/`add` without `path` whose value has keys `name.givenName` or `urn:…:User:department` become nested objects",
    source: ENTRA_KNOWN_ISSUES,
};
pub const ENTRA_MANAGER_STRING: Quirk = Quirk {
    name: "entra-manager-string",
    description: "the enterprise `manager` sent as the manager's id string becomes `{\"value\": id}`",
    source: ENTRA_KNOWN_ISSUES,
};
pub const ENTRA_STRING_FOR_MULTI_VALUED: Quirk = Quirk {
    name: "entra-string-for-multi-valued",
    description: "a plain string where a multi-valued complex attribute is expected (`\"emails\": \"a@b.c\"`) becomes `[{\"value\": \"a@b.c\"}]`",
    source: ENTRA_SCIM_TUTORIAL,
};
pub const ENTRA_REMOVE_MEMBERS_BY_VALUE: Quirk = Quirk {
    name: "entra-remove-members-by-value",
    description: "`remove` of `members` with a value list (which RFC 7644 reads as \"remove all\") becomes `members[value eq \"…\" or …]`",
    source: ENTRA_KNOWN_ISSUES,
};
pub const OKTA_ID_IN_REPLACE_VALUE: Quirk = Quirk {
    name: "okta-id-in-replace-value",
    description: "group `replace` without `path` carrying the read-only `id` in its value: `id` is dropped",
    source: OKTA_SCIM_GUIDE,
};

const ENTRA_QUIRKS: &[Quirk] = &[
    ENTRA_CAPITALISED_OPS,
    ENTRA_BOOLEAN_STRINGS,
    ENTRA_DOTTED_VALUE_KEYS,
    ENTRA_MANAGER_STRING,
    ENTRA_STRING_FOR_MULTI_VALUED,
    ENTRA_REMOVE_MEMBERS_BY_VALUE,
];
const OKTA_QUIRKS: &[Quirk] = &[OKTA_ID_IN_REPLACE_VALUE];

impl Dialect {
    /// The dialect of an identity provider key as directories store it.
    pub fn from_idp(idp: &str) -> Option<Self> {
        Some(match idp {
            "okta" => Self::Okta,
            "entra" => Self::Entra,
            "google" => Self::Google,
            "onelogin" => Self::OneLogin,
            "jumpcloud" => Self::JumpCloud,
            "ping" => Self::Ping,
            "rippling" => Self::Rippling,
            "generic" => Self::Generic,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Okta => "okta",
            Self::Entra => "entra",
            Self::Google => "google",
            Self::OneLogin => "onelogin",
            Self::JumpCloud => "jumpcloud",
            Self::Ping => "ping",
            Self::Rippling => "rippling",
            Self::Generic => "generic",
        }
    }

    /// The quirks this dialect rewrites. For Google Workspace, OneLogin, JumpCloud,
    /// PingFederate and Rippling no deviation has been sourced yet: they get the tolerant
    /// reading every dialect has (see the module documentation) and no invented rules.
    pub fn quirks(self) -> &'static [Quirk] {
        match self {
            Self::Entra => ENTRA_QUIRKS,
            Self::Okta => OKTA_QUIRKS,
            _ => &[],
        }
    }

    fn has(self, quirk: Quirk) -> bool {
        self.quirks().contains(&quirk)
    }
}

/// A Markdown table of every dialect's quirks, for the README.
pub fn quirks_markdown() -> String {
    let mut table = String::from("| IdP | quirk | what is rewritten | source |\n|---|---|---|---|\n");
    for dialect in [Dialect::Entra, Dialect::Okta] {
        for quirk in dialect.quirks() {
            table.push_str(&format!(
                "| {} | `{}` | {} | [doc]({}) |\n",
                dialect.as_str(),
                quirk.name,
                quirk.description.replace('|', "\\|"),
                quirk.source
            ));
        }
    }
    table
}

/// Rewrites a POST or PUT body of `resource_type`.
pub fn normalize_resource(dialect: Dialect, registry: &SchemaRegistry, resource_type: &str, body: Value) -> Normalized {
    let mut normalizer = Normalizer { dialect, registry, resource_type, applied: Vec::new() };
    let body = match body {
        Value::Object(object) => Value::Object(normalizer.resource_object(object, None)),
        other => other,
    };
    normalizer.finish(body)
}

/// Rewrites a PatchOp body for `resource_type`.
pub fn normalize_patch(dialect: Dialect, registry: &SchemaRegistry, resource_type: &str, body: Value) -> Normalized {
    let mut normalizer = Normalizer { dialect, registry, resource_type, applied: Vec::new() };
    let Value::Object(mut body) = body else {
        return normalizer.finish(body);
    };
    let key = body.keys().find(|k| k.eq_ignore_ascii_case("Operations")).cloned();
    if let Some(key) = key
        && let Some(Value::Array(operations)) = body.remove(&key)
    {
        let operations = operations.into_iter().map(|operation| normalizer.operation(operation)).collect();
        body.insert(key, Value::Array(operations));
    }
    normalizer.finish(Value::Object(body))
}

struct Normalizer<'r> {
    dialect: Dialect,
    registry: &'r SchemaRegistry,
    resource_type: &'r str,
    applied: Vec<&'static str>,
}

impl Normalizer<'_> {
    fn finish(self, body: Value) -> Normalized {
        let mut applied = self.applied;
        applied.sort_unstable();
        applied.dedup();
        Normalized { body, applied }
    }

    fn applies(&mut self, quirk: Quirk) -> bool {
        self.dialect.has(quirk)
    }

    fn mark(&mut self, quirk: Quirk) {
        self.applied.push(quirk.name);
    }

    fn is_extension(&self, key: &str) -> bool {
        self.registry
            .resource_type(self.resource_type)
            .is_some_and(|rt| rt.extensions().iter().any(|(e, _)| e.eq_ignore_ascii_case(key)))
    }

    fn definition(&self, path: &AttrPath) -> Option<&AttributeDef> {
        self.registry.resolve(self.resource_type, path)
    }

    /// The attributes of a resource (or of one extension, `extension`), each value
    /// rewritten by its definition.
    fn resource_object(&mut self, object: Map<String, Value>, extension: Option<&str>) -> Map<String, Value> {
        object
            .into_iter()
            .map(|(key, value)| {
                if extension.is_none() && self.is_extension(&key) {
                    let value = match value {
                        Value::Object(inner) => Value::Object(self.resource_object(inner, Some(&key))),
                        other => other,
                    };
                    return (key, value);
                }
                let path = match extension {
                    Some(urn) => AttrPath::parse(&format!("{urn}:{key}")),
                    None => AttrPath::parse(&key),
                };
                let value = match path.ok().and_then(|p| self.definition(&p).cloned()) {
                    Some(def) => self.value(&def, value),
                    None => value,
                };
                (key, value)
            })
            .collect()
    }

    /// A value of the attribute `def` (whole, multi-valued or not).
    fn value(&mut self, def: &AttributeDef, value: Value) -> Value {
        let value = self.manager_string(def, value);
        let value = self.string_for_multi_valued(def, value);
        match value {
            Value::Array(items) if def.multi_valued() => {
                Value::Array(items.into_iter().map(|item| self.single(def, item)).collect())
            }
            other => self.single(def, other),
        }
    }

    /// One value (an element of a multi-valued attribute, or the value itself).
    fn single(&mut self, def: &AttributeDef, value: Value) -> Value {
        match value {
            Value::Object(object) if def.ty() == AttrType::Complex => Value::Object(
                object
                    .into_iter()
                    .map(|(key, value)| match def.sub_attribute(&key).cloned() {
                        Some(sub) => {
                            let value = self.single(&sub, value);
                            (key, value)
                        }
                        None => (key, value),
                    })
                    .collect(),
            ),
            Value::String(text) if def.ty() == AttrType::Boolean && self.applies(ENTRA_BOOLEAN_STRINGS) => {
                match boolean_string(&text) {
                    Some(flag) => {
                        self.mark(ENTRA_BOOLEAN_STRINGS);
                        Value::Bool(flag)
                    }
                    None => Value::String(text),
                }
            }
            other => other,
        }
    }

    fn manager_string(&mut self, def: &AttributeDef, value: Value) -> Value {
        match value {
            Value::String(id)
                if def.name() == "manager" && def.ty() == AttrType::Complex && self.applies(ENTRA_MANAGER_STRING) =>
            {
                self.mark(ENTRA_MANAGER_STRING);
                let mut manager = Map::new();
                manager.insert("value".to_owned(), Value::String(id));
                Value::Object(manager)
            }
            other => other,
        }
    }

    fn string_for_multi_valued(&mut self, def: &AttributeDef, value: Value) -> Value {
        match value {
            Value::String(text)
                if def.multi_valued()
                    && def.ty() == AttrType::Complex
                    && def.sub_attribute("value").is_some()
                    && self.applies(ENTRA_STRING_FOR_MULTI_VALUED) =>
            {
                self.mark(ENTRA_STRING_FOR_MULTI_VALUED);
                let mut element = Map::new();
                element.insert("value".to_owned(), Value::String(text));
                Value::Array(vec![Value::Object(element)])
            }
            other => other,
        }
    }

    fn operation(&mut self, operation: Value) -> Value {
        let Value::Object(mut operation) = operation else {
            return operation;
        };
        let op_key = operation.keys().find(|k| k.eq_ignore_ascii_case("op")).cloned();
        if let Some(op_key) = &op_key
            && let Some(Value::String(op)) = operation.get_mut(op_key)
            && op.chars().any(|c| c.is_ascii_uppercase())
            && self.applies(ENTRA_CAPITALISED_OPS)
        {
            *op = op.to_ascii_lowercase();
            self.mark(ENTRA_CAPITALISED_OPS);
        }
        let op =
            op_key.and_then(|k| operation.get(&k)).and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
        let path_key = operation.keys().find(|k| k.eq_ignore_ascii_case("path")).cloned();
        let path = path_key.as_ref().and_then(|k| operation.get(k)).and_then(Value::as_str).map(str::to_owned);
        let value_key = operation.keys().find(|k| k.eq_ignore_ascii_case("value")).cloned();
        let Some(value_key) = value_key else {
            return Value::Object(operation);
        };
        let value = operation.remove(&value_key).unwrap_or(Value::Null);
        // Entra: remove of members by value list.
        if op == "remove"
            && let (Some(path), Some(path_key)) = (&path, &path_key)
            && path.eq_ignore_ascii_case("members")
            && self.applies(ENTRA_REMOVE_MEMBERS_BY_VALUE)
            && let Some(filter) = members_filter(&value)
        {
            self.mark(ENTRA_REMOVE_MEMBERS_BY_VALUE);
            operation.insert(path_key.clone(), Value::String(filter));
            return Value::Object(operation);
        }
        let value = match path {
            None => match value {
                Value::Object(object) => Value::Object(self.no_path_value(object)),
                other => other,
            },
            Some(path) => self.path_value(&path, value),
        };
        operation.insert(value_key, value);
        Value::Object(operation)
    }

    /// The value of an operation without `path`: an object of attributes.
    fn no_path_value(&mut self, object: Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, value) in object {
            if key.eq_ignore_ascii_case("id") && self.resource_type == "Group" && self.applies(OKTA_ID_IN_REPLACE_VALUE)
            {
                self.mark(OKTA_ID_IN_REPLACE_VALUE);
                continue;
            }
            if self.is_extension(&key) {
                let value = match value {
                    Value::Object(inner) => Value::Object(self.resource_object(inner, Some(&key))),
                    other => other,
                };
                merge(&mut out, key, value);
                continue;
            }
            let Ok(path) = AttrPath::parse(&key) else {
                out.insert(key, value);
                continue;
            };
            let value = match self.definition(&path).cloned() {
                Some(def) => self.value(&def, value),
                None => value,
            };
            let dotted = path.sub_attr().is_some() || path.uri().is_some_and(|uri| self.is_extension(uri));
            if dotted && self.applies(ENTRA_DOTTED_VALUE_KEYS) {
                self.mark(ENTRA_DOTTED_VALUE_KEYS);
                let (outer, inner) = match (path.uri().filter(|uri| self.is_extension(uri)), path.sub_attr()) {
                    (Some(uri), Some(sub)) => (uri.to_owned(), nest(path.name(), Some(sub), value)),
                    (Some(uri), None) => (uri.to_owned(), nest(path.name(), None, value)),
                    (None, Some(sub)) => (path.name().to_owned(), nest(sub, None, value)),
                    // Not reached: `dotted` means a sub-attribute or an extension URI.
                    (None, None) => (key, value),
                };
                merge(&mut out, outer, inner);
            } else {
                out.insert(key, value);
            }
        }
        out
    }

    /// The value of an operation with a path: typed by what the path names.
    fn path_value(&mut self, path: &str, value: Value) -> Value {
        let is_schema = |urn: &str| self.is_extension(urn);
        let Ok(parsed) = PatchPath::parse_with_schemas(path, is_schema) else {
            return value;
        };
        match parsed {
            PatchPath::Attr(attr) => {
                let top = AttrPath::new(attr.uri(), attr.name(), None).ok();
                let top_def = top.as_ref().and_then(|t| self.definition(t)).cloned();
                match (top_def, attr.sub_attr()) {
                    (Some(def), None) => self.value(&def, value),
                    (Some(def), Some(sub)) => match def.sub_attribute(sub).cloned() {
                        Some(sub) => self.single(&sub, value),
                        None => value,
                    },
                    (None, _) => value,
                }
            }
            PatchPath::Value { attr, sub_attr, .. } => {
                let Some(def) = self.definition(&attr).cloned() else {
                    return value;
                };
                match sub_attr.and_then(|sub| def.sub_attribute(&sub).cloned()) {
                    Some(sub) => self.single(&sub, value),
                    None => self.single(&def, value),
                }
            }
            PatchPath::Schema(urn) => match value {
                Value::Object(inner) => Value::Object(self.resource_object(inner, Some(&urn))),
                other => other,
            },
        }
    }
}

/// `"True"`/`"False"` in any case.
fn boolean_string(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// `{name: value}` or `{name: {sub: value}}`.
fn nest(name: &str, sub: Option<&str>, value: Value) -> Value {
    let inner = match sub {
        Some(sub) => {
            let mut object = Map::new();
            object.insert(sub.to_owned(), value);
            Value::Object(object)
        }
        None => value,
    };
    let mut object = Map::new();
    object.insert(name.to_owned(), inner);
    Value::Object(object)
}

/// Inserts `value` at `key`, merging objects (so `name.givenName` and `name.familyName`
/// both land in `name`).
fn merge(out: &mut Map<String, Value>, key: String, value: Value) {
    match (out.get_mut(&key), value) {
        (Some(Value::Object(existing)), Value::Object(new)) => {
            for (k, v) in new {
                merge(existing, k, v);
            }
        }
        (_, value) => {
            out.insert(key, value);
        }
    }
}

/// `members[value eq "a" or value eq "b"]` for a list of `{"value": id}`.
fn members_filter(value: &Value) -> Option<String> {
    let items = value.as_array().filter(|items| !items.is_empty())?;
    let ids: Option<Vec<String>> = items
        .iter()
        .map(|item| item.get("value").and_then(Value::as_str).map(|id| Value::String(id.to_owned()).to_string()))
        .collect();
    let clauses: Vec<String> = ids?.into_iter().map(|id| format!("value eq {id}")).collect();
    Some(format!("members[{}]", clauses.join(" or ")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[path = "dialect_tests.rs"]
mod tests;
