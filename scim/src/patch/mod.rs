//! PATCH (RFC 7644 §3.5.2): parsing a `PatchOp` body and applying its operations to a copy
//! of a stored resource, all or nothing.
//!
//! [`PatchRequest::parse`] checks the message (`schemas`, a non-empty `Operations` array,
//! `op` read ignoring case) and resolves every `path` against the schema. [`apply`] runs the
//! operations in order on a copy: "Each operation in the sequence is applied to the target
//! resource; the resulting resource becomes the target for the next operation", and "a
//! patch request, regardless of the number of operations, SHALL be treated as atomic". The
//! first failing operation fails the request and its detail names it (1-based index).
//!
//! The rules, per operation (§3.5.2.1–3, RFC 7643 §2.4, §2.5):
//!
//! | target                          | `add`                                    | `replace`                               | `remove`                         |
//! |---------------------------------|------------------------------------------|-----------------------------------------|----------------------------------|
//! | none (the resource)             | each key of the object as an `add`       | each key of the object as a `replace`   | `noTarget` (§3.5.2.2)            |
//! | single-valued attribute         | set                                      | set                                     | unassign                         |
//! | complex single-valued attribute | merge sub-attributes                     | merge sub-attributes (§3.5.2.3)         | unassign                         |
//! | multi-valued attribute          | append (an array or one value)           | the new list                            | unassign all values              |
//! | `attr.sub`                      | set in the object, or in every element   | as `add`                                | unassign in the object/elements  |
//! | `attr[filter]`                  | merge into matches; none: see below      | replace matches whole; none: `noTarget` | drop matches; none: no change    |
//! | `attr[filter].sub`              | set on matches; none: see below          | as `add`                                | unassign on matches              |
//! | bare extension URN              | each attribute of the object as an `add` | each attribute as a `replace`           | drop the extension               |
//!
//! Further rules:
//! - Names resolve ignoring case and are stored in the schema's spelling; an unknown
//!   attribute in a path (or a key of a path-less value) is `invalidPath`. Unknown
//!   sub-attributes *inside* values are kept as sent: whether they are allowed is the
//!   directory's policy, which `validate` applies to the result.
//! - `readOnly` attributes (`id`, `meta`, `groups`) cannot be targeted (`mutability`);
//!   `readOnly` sub-attributes inside a value are dropped, as RFC 7644 §3.3 has servers
//!   ignore them in a body. An `immutable` attribute may be given a value when it has none,
//!   never changed (`mutability`, §3.5.2).
//! - Removing or unassigning a `required` attribute is `mutability`: "If an attribute is
//!   removed or becomes unassigned and is defined as a required attribute or a read-only
//!   attribute, the server SHALL return ... a "scimType" error code of "mutability""
//!   (§3.5.2.2).
//! - A `null` value unassigns, as RFC 7643 §2.5 makes null and unassigned the same state.
//! - Multi-valued attributes never hold two values that differ only in `primary`: a value
//!   that is "already contained" is not added twice (§3.5.2.1). When an operation sets
//!   `primary: true` on a value, the other values lose it: "a PATCH operation that sets a
//!   value's "primary" sub-attribute to "true" SHALL cause the server to automatically set
//!   "primary" to "false" for any other values in the array" (§3.5.2); of several set in one
//!   operation, the last wins.
//! - Deliberate choice for Microsoft Entra: `add` or `replace` on `attr[filter].sub` (and
//!   `add` on `attr[filter]`) whose filter matches no element, when the filter is an `eq`
//!   comparison or an `and` of them, such as `emails[type eq "work"].value`, creates the
//!   element the filter describes (`{"type": "work", "value": …}`) instead of failing with
//!   `noTarget`. Entra sends such paths to set a user's first work email or phone number.
//!   Any other filter that matches nothing is `noTarget` for `add` and `replace`.
//! - Deliberate choice for Entra's older PATCH form: `remove` of a multi-valued attribute
//!   *with* a `value` removes the listed values, not all of them.
//! - Adding or replacing extension data lists the extension's URN in `schemas`; when an
//!   operation leaves an extension empty, its object and its URN are removed.
//! - Every operation is idempotent: applied to its own result it changes nothing, so a
//!   retried request is harmless when its operations touch different attributes. (A request
//!   whose later operation adds a value that an earlier operation's filter selects is not:
//!   the second run finds that value.)
//!
//! Groups: [`PatchRequest::take_member_operations`] takes the operations on `members` out of
//! a request as [`MemberOperation`]s, so that the service can apply them to its member table
//! without loading every member.

mod engine;
mod members;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod proptests;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod rfc_examples;
mod target;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;

use std::fmt;

use serde_json::{Map, Value};

pub use members::MemberOperation;

use crate::error::ScimError;
use crate::path::PatchPath;
use crate::schema::SchemaRegistry;

/// The URN of the PATCH request message (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The `op` of a PATCH operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    /// `add` (RFC 7644 §3.5.2.1).
    Add,
    /// `remove` (RFC 7644 §3.5.2.2).
    Remove,
    /// `replace` (RFC 7644 §3.5.2.3).
    Replace,
}

impl PatchOpKind {
    /// The keyword, in the RFC's lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Remove => "remove",
            Self::Replace => "replace",
        }
    }

    /// Reads an `op` value ignoring case: Microsoft Entra sends `"Add"` and `"Replace"`.
    pub fn parse(op: &str) -> Option<Self> {
        [Self::Add, Self::Remove, Self::Replace].into_iter().find(|k| k.as_str().eq_ignore_ascii_case(op))
    }
}

impl fmt::Display for PatchOpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One element of `Operations`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// What to do.
    pub op: PatchOpKind,
    /// The target; `None` means the resource itself (`add` and `replace` only).
    pub path: Option<PatchPath>,
    /// The value (required for `add` and `replace`).
    pub value: Option<Value>,
}

impl fmt::Display for PatchOperation {
    /// `replace emails[type eq "work"].value`, or just `add` without a path: for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{} {path}", self.op),
            None => write!(f, "{}", self.op),
        }
    }
}

/// A PATCH request: a non-empty list of operations, applied in order.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    operations: Vec<PatchOperation>,
    /// The 1-based position of each operation in the request as the client sent it, so that
    /// errors still name the right one after [`PatchRequest::take_member_operations`].
    numbers: Vec<usize>,
}

impl PatchRequest {
    /// Parses a `PatchOp` body: `schemas` must contain [`PATCH_OP_SCHEMA`], `Operations` must
    /// be a non-empty array; `op` is read ignoring case; paths are parsed with the registry,
    /// so a bare extension URN becomes [`PatchPath::Schema`], and resolved against
    /// `resource_type`'s schemas. Errors (`invalidSyntax`, `invalidPath`, `invalidFilter`,
    /// `invalidValue`, and `noTarget` for a `remove` without `path`) name the operation.
    pub fn parse(body: &Value, registry: &SchemaRegistry, resource_type: &str) -> Result<Self, ScimError> {
        target::resource_type_def(registry, resource_type)?;
        let syntax = |m: &str| ScimError::InvalidSyntax(m.to_owned());
        let obj = body.as_object().ok_or_else(|| syntax("a PATCH body must be a JSON object"))?;
        let schemas = get_ignore_case(obj, "schemas")
            .and_then(Value::as_array)
            .ok_or_else(|| syntax("\"schemas\" must be an array holding the PatchOp URN"))?;
        if !schemas.iter().filter_map(Value::as_str).any(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA)) {
            return Err(ScimError::InvalidSyntax(format!("\"schemas\" must contain {PATCH_OP_SCHEMA}")));
        }
        let raw = get_ignore_case(obj, "Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| syntax("\"Operations\" must be an array of operations"))?;
        if raw.is_empty() {
            return Err(syntax("\"Operations\" must hold at least one operation"));
        }
        let operations = raw
            .iter()
            .enumerate()
            .map(|(i, op)| {
                parse_operation(op, registry, resource_type)
                    .map_err(|e| e.map_detail(|d| format!("operation {}: {d}", i + 1)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(operations)
    }

    /// A request of already-built operations (at least one). Their paths are resolved
    /// against the schema when the request is applied.
    pub fn new(operations: Vec<PatchOperation>) -> Result<Self, ScimError> {
        if operations.is_empty() {
            return Err(ScimError::InvalidSyntax("\"Operations\" must hold at least one operation".to_owned()));
        }
        let numbers = (1..=operations.len()).collect();
        Ok(Self { operations, numbers })
    }

    /// The operations, in order. Empty only after [`PatchRequest::take_member_operations`]
    /// took every one.
    pub fn operations(&self) -> &[PatchOperation] {
        &self.operations
    }

    /// For Group resources, whose members live in a table of their own (a group may have
    /// 100,000 members, so the service never loads them all): removes every operation on
    /// `members` from the request and returns them, in order, as member deltas.
    ///
    /// Supported: `add` of `members` (a list of `{"value": id}`), `remove` of
    /// `members[value eq "a"]` or `members[value eq "a" or value eq "b"]`, `remove` of
    /// `members` (all; with a value list, Entra's older form, only those), `replace` of
    /// `members` (the new full list), and `add`/`replace` without path whose value has a
    /// `members` key (that key becomes a member operation, the rest stays). Anything else
    /// on `members` (`members[display eq "x"]`, `members[value eq "x"].display`) is
    /// `invalidPath` or `invalidFilter`; a member without a string `value` is
    /// `invalidValue`. On error the request is left unchanged.
    pub fn take_member_operations(&mut self) -> Result<Vec<MemberOperation>, ScimError> {
        let mut kept = Vec::with_capacity(self.operations.len());
        let mut numbers = Vec::with_capacity(self.operations.len());
        let mut taken = Vec::new();
        for (op, &number) in self.operations.iter().zip(&self.numbers) {
            let split = members::split(op).map_err(|e| in_operation(e, number, op))?;
            if let Some(member_op) = split.members {
                taken.push(member_op);
            }
            if let Some(rest) = split.rest {
                kept.push(rest);
                numbers.push(number);
            }
        }
        self.operations = kept;
        self.numbers = numbers;
        Ok(taken)
    }
}

/// Applies every operation of `request` to a copy of `resource` (the stored JSON object of
/// a `resource_type` resource, canonical attribute names, without `id` and `meta`) and
/// returns the new object, or the first error, whose detail names the operation. The input
/// is never changed, so a failed request changes nothing.
pub fn apply(
    resource: &Map<String, Value>,
    request: &PatchRequest,
    registry: &SchemaRegistry,
    resource_type: &str,
) -> Result<Map<String, Value>, ScimError> {
    engine::apply(resource, request, registry, resource_type)
}

/// Prefixes an error's detail with the operation it came from.
fn in_operation(error: ScimError, number: usize, op: &PatchOperation) -> ScimError {
    error.map_detail(|d| format!("operation {number} ({op}): {d}"))
}

fn parse_operation(raw: &Value, registry: &SchemaRegistry, resource_type: &str) -> Result<PatchOperation, ScimError> {
    let obj =
        raw.as_object().ok_or_else(|| ScimError::InvalidSyntax("an operation must be a JSON object".to_owned()))?;
    let op = match get_ignore_case(obj, "op") {
        Some(Value::String(s)) => PatchOpKind::parse(s).ok_or_else(|| {
            ScimError::InvalidSyntax(format!("unknown op {s:?}; expected \"add\", \"remove\" or \"replace\""))
        })?,
        _ => return Err(ScimError::InvalidSyntax("\"op\" must be \"add\", \"remove\" or \"replace\"".to_owned())),
    };
    let path = match get_ignore_case(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            let path = target::parse_path(text, registry, resource_type)?;
            target::resolve(&path, registry, resource_type)?;
            Some(path)
        }
        Some(_) => return Err(ScimError::InvalidSyntax("\"path\" must be a string".to_owned())),
    };
    let value = get_ignore_case(obj, "value").cloned();
    let operation = PatchOperation { op, path, value };
    check_shape(&operation)?;
    Ok(operation)
}

/// The presence rules of RFC 7644 §3.5.2: `remove` needs a path, `add` and `replace` need a
/// value, and without a path that value is an object of attributes.
fn check_shape(op: &PatchOperation) -> Result<(), ScimError> {
    match (op.op, &op.path, &op.value) {
        (PatchOpKind::Remove, None, _) => Err(ScimError::NoTarget(
            "remove needs a \"path\" (RFC 7644 §3.5.2.2: if \"path\" is unspecified, the operation fails)".to_owned(),
        )),
        (PatchOpKind::Add | PatchOpKind::Replace, _, None) => {
            Err(ScimError::InvalidValue(format!("{} needs a \"value\"", op.op)))
        }
        (PatchOpKind::Add | PatchOpKind::Replace, None, Some(value)) if !value.is_object() => Err(
            ScimError::InvalidValue(format!("{} without a \"path\" needs an object of attributes as its value", op.op)),
        ),
        _ => Ok(()),
    }
}

/// A member of a JSON object by key, ignoring ASCII case (SCIM names are case-insensitive).
fn get_ignore_case<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}
