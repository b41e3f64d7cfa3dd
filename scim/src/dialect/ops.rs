//! Quirks in the form of PATCH operations (RFC 7644 §3.5.2): the `op` keyword, path-less
//! values keyed by attribute paths, read-only attributes in path-less values, and group
//! member removal expressed as a value list instead of a filter.

use serde_json::{Map, Value, json};

use super::walk::{BodyKind, Cx, OpView, get_ci_mut, key_ci, operations_mut};
use crate::filter::{CompValue, CompareOp, Filter, ParseLimits};
use crate::path::{AttrPath, PatchPath};
use crate::schema::AttrType;

/// The three operations of RFC 7644 §3.5.2, in the spelling the RFC uses.
const OPS: [&str; 3] = ["add", "remove", "replace"];

/// `Add`, `Replace`, `Remove` become `add`, `replace`, `remove`. Anything else is left for
/// the PATCH engine to reject, so an unknown operation is never turned into a known one.
pub(super) fn op_name_case(_cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    if kind != BodyKind::Patch {
        return false;
    }
    let Some(ops) = operations_mut(body) else {
        return false;
    };
    let mut changed = false;
    for op in ops.iter_mut().filter_map(Value::as_object_mut) {
        let Some(Value::String(name)) = get_ci_mut(op, "op") else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        if lower != *name && OPS.contains(&lower.as_str()) {
            *name = lower;
            changed = true;
        }
    }
    changed
}

/// Drops the read-only `id` from the value of a path-less `replace`: the resource is
/// addressed by the URL, and the service compares ids itself.
pub(super) fn readonly_id_in_pathless_replace(_cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    if kind != BodyKind::Patch {
        return false;
    }
    let Some(ops) = operations_mut(body) else {
        return false;
    };
    let mut changed = false;
    for op in ops.iter_mut().filter_map(Value::as_object_mut) {
        let view = OpView::of(op);
        if !view.is("replace") || view.path.is_some() {
            continue;
        }
        let Some(Value::Object(value)) = get_ci_mut(op, "value") else {
            continue;
        };
        if let Some(key) = key_ci(value, "id") {
            value.remove(&key);
            changed = true;
        }
    }
    changed
}

/// Expands the keys of a path-less `add`/`replace` value that are attribute paths
/// (`name.givenName`, `urn:…:enterprise:2.0:User:department`) into the nested and extension
/// objects RFC 7644 §3.5.2.1 and §3.5.2.3 describe. For a complex attribute, sub-attributes
/// absent from the value are left unchanged by both operations, so `{"name": {"givenName":
/// x}}` means exactly what `"name.givenName": x` meant. Keys that do not resolve in the
/// schema are kept as they are for validation to report; if two keys would set the same
/// place to different values the operation is left untouched.
pub(super) fn attribute_paths_as_value_keys(cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    if kind != BodyKind::Patch {
        return false;
    }
    let Some(ops) = operations_mut(body) else {
        return false;
    };
    let mut changed = false;
    for op in ops.iter_mut().filter_map(Value::as_object_mut) {
        let view = OpView::of(op);
        if !(view.is("add") || view.is("replace")) || view.path.is_some() {
            continue;
        }
        let Some(value) = get_ci_mut(op, "value") else {
            continue;
        };
        let Some(expanded) = value.as_object().and_then(|obj| expand_path_keys(cx, obj)) else {
            continue;
        };
        *value = Value::Object(expanded);
        changed = true;
    }
    changed
}

/// Where a path-shaped key belongs: the extension container (`None` for the top level) and
/// the canonical attribute and sub-attribute names. `None` if the key is not a path the
/// schema knows.
fn placement<'a>(cx: &Cx<'a>, key: &str) -> Option<(Option<&'a str>, String, Option<String>)> {
    if !(key.contains('.') || key.contains(':')) || cx.extension_urn(key).is_some() {
        return None;
    }
    let path = AttrPath::parse(key).ok()?;
    let (container, top) = match path.uri() {
        None => (None, cx.top_level(path.name())?),
        Some(uri) if cx.core_urn().is_some_and(|core| core.eq_ignore_ascii_case(uri)) => {
            (None, cx.top_level(path.name())?)
        }
        Some(uri) => {
            let urn = cx.extension_urn(uri)?;
            (Some(urn), cx.extension_attr(urn, path.name())?)
        }
    };
    let sub = match path.sub_attr() {
        None => None,
        // `emails.value` cannot say which element it means: leave it for validation.
        Some(_) if top.multi_valued() || top.ty() != AttrType::Complex => return None,
        Some(sub) => Some(top.sub_attribute(sub)?.name().to_owned()),
    };
    Some((container, top.name().to_owned(), sub))
}

fn expand_path_keys(cx: &Cx<'_>, obj: &Map<String, Value>) -> Option<Map<String, Value>> {
    if !obj.keys().any(|k| placement(cx, k).is_some()) {
        return None;
    }
    let mut out = Map::new();
    for (key, value) in obj {
        let Some((container, name, sub)) = placement(cx, key) else {
            merge(&mut out, key, value.clone())?;
            continue;
        };
        // `name.givenName: x` is `name: {givenName: x}`, merged with whatever else sets `name`.
        let attribute_value = match sub {
            Some(sub) => json!({ sub: value.clone() }),
            None => value.clone(),
        };
        let target = match container {
            None => &mut out,
            Some(urn) => {
                let key = key_ci(&out, urn).unwrap_or_else(|| urn.to_owned());
                let slot = out.entry(key).or_insert_with(|| Value::Object(Map::new()));
                slot.as_object_mut()?
            }
        };
        merge(target, &name, attribute_value)?;
    }
    Some(out)
}

/// Puts `value` under `key` (matched ignoring case), merging objects; `None` on a conflict.
fn merge(target: &mut Map<String, Value>, key: &str, value: Value) -> Option<()> {
    let Some(existing_key) = key_ci(target, key) else {
        target.insert(key.to_owned(), value);
        return Some(());
    };
    let existing = target.get_mut(&existing_key)?;
    match (existing, value) {
        (Value::Object(existing), Value::Object(incoming)) => {
            for (k, v) in incoming {
                merge(existing, &k, v)?;
            }
            Some(())
        }
        (existing, incoming) if *existing == incoming => Some(()),
        _ => None,
    }
}

/// The sub-attributes that describe a group member rather than add data to it; a removal
/// by value list carrying anything else is not understood and is left alone.
const MEMBER_KEYS: [&str; 4] = ["value", "$ref", "display", "type"];

/// `{"op":"remove","path":"members","value":[{"value":"a"},{"value":"b"}]}` asks to remove
/// exactly members `a` and `b`; read by RFC 7644 §3.5.2.2 it would remove every member. It
/// becomes `{"op":"remove","path":"members[value eq \"a\" or value eq \"b\"]"}`, split into
/// several operations only if one filter would exceed the parser's length limit.
pub(super) fn remove_members_by_value_list(cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    if kind != BodyKind::Patch || !cx.is("Group") {
        return false;
    }
    let Some(ops) = operations_mut(body) else {
        return false;
    };
    let mut changed = false;
    let mut out = Vec::with_capacity(ops.len());
    for op in ops.drain(..) {
        match member_removal(cx, &op) {
            Some(rewritten) => {
                out.extend(rewritten);
                changed = true;
            }
            None => out.push(op),
        }
    }
    *ops = out;
    changed
}

/// The filtered removals equivalent to `op`, if it is a removal of members by value list.
fn member_removal(cx: &Cx<'_>, op: &Value) -> Option<Vec<Value>> {
    let obj = op.as_object()?;
    let view = OpView::of(obj);
    if !view.is("remove") || !obj.keys().all(|k| ["op", "path", "value"].iter().any(|o| k.eq_ignore_ascii_case(o))) {
        return None;
    }
    let members = members_path(cx, view.path_str()?)?;
    let items = view.value?.as_array()?;
    if items.is_empty() {
        // "Remove none of the members" has no RFC spelling; leave it for the PATCH engine.
        return None;
    }
    let ids = items.iter().map(member_id).collect::<Option<Vec<_>>>()?;
    let op_name = view.op?;
    let paths = member_filters(&members, &ids)?;
    Some(paths.into_iter().map(|path| json!({ "op": op_name, "path": path })).collect())
}

/// `members` (optionally qualified with the Group schema URN), without filter or sub-attribute.
fn members_path(cx: &Cx<'_>, text: &str) -> Option<AttrPath> {
    let PatchPath::Attr(path) = cx.patch_path(text)? else {
        return None;
    };
    let core_ok = path.uri().is_none_or(|uri| cx.core_urn().is_some_and(|core| core.eq_ignore_ascii_case(uri)));
    (core_ok && path.name().eq_ignore_ascii_case("members") && path.sub_attr().is_none()).then_some(path)
}

/// The `value` of one listed member; `None` if the element is not a plain member reference.
fn member_id(item: &Value) -> Option<String> {
    let obj = item.as_object()?;
    let known = obj.keys().all(|k| MEMBER_KEYS.iter().any(|m| k.eq_ignore_ascii_case(m)));
    let id = obj.iter().find(|(k, _)| k.eq_ignore_ascii_case("value")).and_then(|(_, v)| v.as_str())?;
    (known && !id.is_empty()).then(|| id.to_owned())
}

/// `members[value eq "a" or value eq "b" …]` paths covering `ids`, each within the parser's
/// length limit. The rendered length of a chain is the sum of its terms plus the ` or `
/// separators and the brackets, so chunks are sized in one pass; every rendered path is
/// still measured and parsed back, so the output is always accepted by the PATCH engine.
fn member_filters(members: &AttrPath, ids: &[String]) -> Option<Vec<String>> {
    const SEPARATOR: usize = " or ".len();
    let max = ParseLimits::DEFAULT.max_len;
    let value = AttrPath::new(None, "value", None).ok()?;
    let terms: Vec<Filter> = ids
        .iter()
        .map(|id| Filter::Compare { path: value.clone(), op: CompareOp::Eq, value: CompValue::String(id.clone()) })
        .collect();
    let brackets = members.to_string().len() + "[]".len();
    let mut chunks: Vec<Vec<Filter>> = Vec::new();
    let mut chunk: Vec<Filter> = Vec::new();
    let mut len = brackets;
    for term in terms {
        let term_len = term.to_string().len();
        let added = if chunk.is_empty() { term_len } else { SEPARATOR + term_len };
        if !chunk.is_empty() && len + added > max {
            chunks.push(std::mem::take(&mut chunk));
            len = brackets;
        }
        len += if chunk.is_empty() { term_len } else { SEPARATOR + term_len };
        chunk.push(term);
    }
    chunks.push(chunk);
    let mut paths = Vec::with_capacity(chunks.len());
    for mut chunk in chunks {
        let filter = if chunk.len() == 1 { chunk.pop()? } else { Filter::Or(chunk) };
        let path = PatchPath::Value { attr: members.clone(), filter, sub_attr: None }.to_string();
        // A single id longer than the limit has no equivalent path: leave the operation alone.
        if path.len() > max || PatchPath::parse(&path).is_err() {
            return None;
        }
        paths.push(path);
    }
    Some(paths)
}

/// Drops null sub-attributes from the elements of an `add` to `members`: an element being
/// added has no previous state, so null and absent mean the same (RFC 7643 §2.5).
pub(super) fn null_in_added_members(cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
    if kind != BodyKind::Patch || !cx.is("Group") {
        return false;
    }
    let Some(ops) = operations_mut(body) else {
        return false;
    };
    let mut changed = false;
    for op in ops.iter_mut().filter_map(Value::as_object_mut) {
        let view = OpView::of(op);
        if !view.is("add") || view.path_str().and_then(|p| members_path(cx, p)).is_none() {
            continue;
        }
        let Some(Value::Array(items)) = get_ci_mut(op, "value") else {
            continue;
        };
        for element in items.iter_mut().filter_map(Value::as_object_mut) {
            let before = element.len();
            element.retain(|_, v| !v.is_null());
            changed |= element.len() != before;
        }
    }
    changed
}
