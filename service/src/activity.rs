//! The audit trail in words: what a record says happened, to whom and by whom, as people
//! name them ("Deactivated Bob Jones (bob@globex.example)", by "Microsoft Entra ID (token
//! ‘Entra prod’)") instead of the request line and the ids the record keeps. The portal's
//! live feed, dashboard and audit trail show these lines, with the raw record one click
//! away.
//!
//! [`describe`] is pure; [`describe_records`] and [`describe_requests`] describe a page of
//! records, reading in a few statements the names they refer to by id (tokens, admins, users
//! and groups: [`Names::for_records`]).

use std::collections::HashMap;

use serde_json::Value;
use store::{
    AuditOutcome, AuditRecord, DirectoryId, DirectoryRequest, ResourceKind, SELF_TEST_ID_PREFIX, Store, TenantId,
};

use crate::ServiceError;

/// What a record is about, as [`describe`] reads it: an audit record's fields with its
/// detail parsed.
#[derive(Debug, Clone, Copy)]
pub struct RecordFacts<'a> {
    pub action: &'a str,
    pub actor: &'a str,
    pub directory: Option<DirectoryId>,
    pub method: Option<&'a str>,
    /// The request's path and query.
    pub path: Option<&'a str>,
    pub status: Option<i32>,
    pub resource_id: Option<&'a str>,
    pub succeeded: bool,
    pub detail: &'a Value,
}

impl<'a> RecordFacts<'a> {
    /// The facts of `record`, whose detail the caller parsed into `detail`.
    pub fn of(record: &'a AuditRecord, detail: &'a Value) -> Self {
        Self {
            action: &record.action,
            actor: &record.actor,
            directory: record.directory,
            method: record.method.as_deref(),
            path: record.path.as_deref(),
            status: record.status,
            resource_id: record.resource_id.as_deref(),
            succeeded: record.outcome == AuditOutcome::Success,
            detail,
        }
    }

    /// The facts of a directory's SCIM request as the live feeds read it.
    pub fn of_request(request: &'a DirectoryRequest, directory: DirectoryId, detail: &'a Value) -> Self {
        Self {
            action: "scim.request",
            actor: &request.actor,
            directory: Some(directory),
            method: Some(&request.method),
            path: Some(&request.path),
            status: Some(request.status),
            resource_id: request.resource_id.as_deref(),
            succeeded: request.outcome == AuditOutcome::Success,
            detail,
        }
    }

    fn changes(&self) -> &'a [Value] {
        self.detail["changes"].as_array().map_or(&[], Vec::as_slice)
    }
}

/// A record in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// What happened: "Created user alice@globex.example".
    pub summary: String,
    /// Who did it: an admin's email, "Okta (token ‘Okta prod’)", "This service".
    pub by: String,
    /// The user or group it was about, when it is still stored: pages link to it.
    pub subject: Option<Subject>,
}

/// A stored user or group a record was about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: ResourceKind,
    pub id: String,
    /// Its userName or displayName.
    pub name: String,
}

/// The names records refer to by id, read once for a page of records.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Admin id → email.
    admins: HashMap<String, String>,
    /// Token id → (label, the directory's identity provider).
    tokens: HashMap<String, (String, &'static str)>,
    /// Resource id → (kind, userName or displayName), for those still stored.
    resources: HashMap<String, (ResourceKind, String)>,
}

/// Members named one by one in a sentence; more are counted.
const MEMBERS_NAMED: usize = 3;

impl Names {
    /// Reads the names `records` refer to: the tenant's admins and tokens, and the users
    /// and groups the records are about or add to and remove from groups.
    pub async fn for_records(
        store: &Store,
        tenant: TenantId,
        records: &[RecordFacts<'_>],
    ) -> Result<Self, ServiceError> {
        let scope = store.tenant(tenant);
        let mut names = Names::default();
        if records.iter().any(|record| record.actor.starts_with("admin:")) {
            names.admins =
                scope.tenant_admins().await?.into_iter().map(|admin| (admin.id.to_string(), admin.email)).collect();
        }
        // Tokens are named by the identity provider of their directory and their label; a
        // tenant has a handful of directories, so all their tokens are read at once.
        let names_tokens =
            records.iter().any(|record| record.actor.starts_with("token:") || record.detail["token"].is_string());
        if names_tokens {
            for directory in scope.directories().await? {
                let provider = directory.idp.display_name();
                for token in scope.directory_tokens(directory.id).await? {
                    names.tokens.insert(token.id.to_string(), (token.label, provider));
                }
            }
        }
        let mut ids: Vec<String> = Vec::new();
        for record in records {
            ids.extend(record.resource_id.map(str::to_owned));
            for change in record.changes() {
                if change.get("name").is_none() {
                    ids.extend(change["id"].as_str().map(str::to_owned));
                }
                for delta in change["members"].as_array().into_iter().flatten() {
                    let members = delta["ids"].as_array().into_iter().flatten();
                    ids.extend(members.take(MEMBERS_NAMED).filter_map(Value::as_str).map(str::to_owned));
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        names.resources =
            scope.resource_names(&ids).await?.into_iter().map(|(id, kind, name)| (id, (kind, name))).collect();
        Ok(names)
    }

    fn resource(&self, id: &str) -> Option<&(ResourceKind, String)> {
        self.resources.get(id)
    }
}

/// Each of `records` in words, with its detail parsed (the JSON the record keeps).
pub async fn describe_records(
    store: &Store,
    tenant: TenantId,
    records: &[AuditRecord],
) -> Result<Vec<(Value, Activity)>, ServiceError> {
    let details: Vec<Value> = records.iter().map(|record| parsed_detail(&record.detail)).collect();
    let facts: Vec<RecordFacts<'_>> =
        records.iter().zip(&details).map(|(record, detail)| RecordFacts::of(record, detail)).collect();
    let activities = describe_all(store, tenant, &facts).await?;
    Ok(details.into_iter().zip(activities).collect())
}

/// Each of a directory's SCIM requests (the live feeds' rows) in words.
pub async fn describe_requests(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    requests: &[DirectoryRequest],
) -> Result<Vec<Activity>, ServiceError> {
    let details: Vec<Value> = requests.iter().map(|request| parsed_detail(&request.detail)).collect();
    let facts: Vec<RecordFacts<'_>> = requests
        .iter()
        .zip(&details)
        .map(|(request, detail)| RecordFacts::of_request(request, directory, detail))
        .collect();
    describe_all(store, tenant, &facts).await
}

/// A record's detail as JSON; an unreadable one reads as nothing kept.
fn parsed_detail(detail: &str) -> Value {
    serde_json::from_str(detail).unwrap_or_default()
}

async fn describe_all(
    store: &Store,
    tenant: TenantId,
    facts: &[RecordFacts<'_>],
) -> Result<Vec<Activity>, ServiceError> {
    let names = Names::for_records(store, tenant, facts).await?;
    Ok(facts.iter().map(|facts| describe(facts, &names)).collect())
}

/// The record in words.
pub fn describe(record: &RecordFacts<'_>, names: &Names) -> Activity {
    let subject = record.resource_id.and_then(|id| {
        names.resource(id).map(|(kind, name)| Subject { kind: *kind, id: id.to_owned(), name: name.clone() })
    });
    let summary = if record.action == "scim.request" {
        let request = scim_request(record, names);
        if record.resource_id.is_some_and(|id| id.starts_with(SELF_TEST_ID_PREFIX)) {
            format!("Self-test: {}", lower_first(&request))
        } else {
            request
        }
    } else {
        other_action(record, names)
    };
    Activity { summary, by: actor(record, names), subject }
}

/// Who an audit name (`admin:<id>`, `operator:<id>`, `cli`…) is, as the tenant's people
/// know them, inside a sentence: for pages that keep only the name, such as who suspended
/// a user or asked for a sync. Vendor staff are named by email and role, as the trail names
/// them.
pub async fn actor_in_words(store: &Store, tenant: TenantId, audit_name: &str) -> Result<String, ServiceError> {
    let (kind, id) = audit_name.split_once(':').unwrap_or((audit_name, ""));
    Ok(match kind {
        "admin" => {
            let admins = store.tenant(tenant).tenant_admins().await?;
            admins
                .into_iter()
                .find(|admin| admin.id.to_string() == id)
                .map_or_else(|| "an admin since removed".to_owned(), |admin| admin.email)
        }
        "operator" => match id.parse() {
            Ok(id) => match store.operator(id).await? {
                Some(operator) if operator.role == store::OperatorRole::Support => {
                    format!("{} (vendor support)", operator.email)
                }
                Some(operator) => format!("{} (vendor operator)", operator.email),
                None => "vendor staff since removed".to_owned(),
            },
            Err(_) => "vendor staff".to_owned(),
        },
        "cli" => "the server's command line".to_owned(),
        "system" => "this service".to_owned(),
        _ => audit_name.to_owned(),
    })
}

/// Who acted, as people know them.
fn actor(record: &RecordFacts<'_>, names: &Names) -> String {
    let (kind, id) = record.actor.split_once(':').unwrap_or((record.actor, ""));
    match kind {
        "token" => match names.tokens.get(id) {
            Some((label, _)) if label == crate::self_test::TOKEN_LABEL => "The setup wizard's self-test".to_owned(),
            Some((label, provider)) => format!("{provider} (token ‘{label}’)"),
            None => "An identity provider (with a token since deleted)".to_owned(),
        },
        "unauthenticated" => "An unidentified caller".to_owned(),
        "admin" => names.admins.get(id).cloned().unwrap_or_else(|| "An admin since removed".to_owned()),
        "operator" => {
            let email = record.detail["viewer_email"].as_str().unwrap_or("Vendor staff");
            match record.detail["viewer_role"].as_str() {
                Some("support") => format!("{email} (vendor support)"),
                _ => format!("{email} (vendor operator)"),
            }
        }
        "api-key" => "The vendor's product (API key)".to_owned(),
        "portal-link" => match record.detail["portal_link_user"].as_str() {
            Some(user) => format!("{user} (signed in by the vendor's product)"),
            None => "Someone the vendor's product signed in".to_owned(),
        },
        "cli" => "The server's command line".to_owned(),
        "system" => "This service".to_owned(),
        _ => record.actor.to_owned(),
    }
}

/// A SCIM request in words: what it wrote, or what it read, or why it failed.
fn scim_request(record: &RecordFacts<'_>, names: &Names) -> String {
    let changes = record.changes();
    if let Some(refusal) = record.detail["explanation"].as_str().filter(|_| record.detail.get("refusal").is_some()) {
        return format!("Refused a request: {}", lower_first(refusal));
    }
    let wrote = match changes {
        [] => None,
        [change] => Some(change_sentence(change, names)),
        several => Some(bulk_sentence(several)),
    };
    if record.succeeded {
        return wrote.unwrap_or_else(|| read_sentence(record, names));
    }
    let status = record.status.map(|status| status.to_string()).unwrap_or_default();
    let said = record.detail["response"]["detail"].as_str().map(|text| format!(": {text}")).unwrap_or_default();
    let failed = format!("Could not {} ({status}{said})", attempted(record, names));
    match wrote {
        // A Bulk request with failed operations still wrote the others.
        Some(wrote) => format!("{wrote}; some operations failed ({status})"),
        None => failed,
    }
}

/// "create user alice@…", "update group Sales": what a failed request tried.
fn attempted(record: &RecordFacts<'_>, names: &Names) -> String {
    let (kind, _) = addressed(record.path.unwrap_or(""));
    let verb = match record.method.unwrap_or("") {
        "POST" if kind.is_some() => "create",
        "POST" => "send",
        "PUT" => "replace",
        "PATCH" => "update",
        "DELETE" => "delete",
        _ => "read",
    };
    let Some(kind) = kind else {
        return format!("{verb} {}", endpoint_name(record.path.unwrap_or("")));
    };
    // The name it has here, else the one the request carried.
    let name = record.resource_id.and_then(|id| names.resource(id).map(|(_, name)| name.clone())).or_else(|| {
        let body = &record.detail["request"];
        body["userName"].as_str().or_else(|| body["displayName"].as_str()).map(str::to_owned)
    });
    match (name, record.resource_id) {
        (Some(name), _) => format!("{verb} {} {name}", kind_word(kind)),
        (None, Some(_)) => format!("{verb} a {} that is not stored", kind_word(kind)),
        (None, None) => format!("{verb} a {}", kind_word(kind)),
    }
}

/// A successful request that wrote nothing: a read, a search, a write that changed nothing.
fn read_sentence(record: &RecordFacts<'_>, names: &Names) -> String {
    let path = record.path.unwrap_or("");
    let (kind, one) = addressed(path);
    let name = record.resource_id.and_then(|id| names.resource(id)).map(|(_, name)| name.as_str());
    match (record.method.unwrap_or(""), kind, one) {
        ("GET", Some(kind), true) => match name {
            Some(name) => format!("Read {} {name}", kind_word(kind)),
            None => format!("Read a {} since deleted", kind_word(kind)),
        },
        ("GET", Some(kind), false) | ("POST", Some(kind), false) => match list_filter(path) {
            Some(filter) => format!("Looked up {}s where {filter}", kind_word(kind)),
            None => format!("Listed {}s", kind_word(kind)),
        },
        ("PUT" | "PATCH", Some(kind), _) => match name {
            Some(name) => format!("Updated {} {name} (nothing changed)", kind_word(kind)),
            None => format!("Updated a {} (nothing changed)", kind_word(kind)),
        },
        ("GET", None, _) => format!("Read {}", endpoint_name(path)),
        (method, _, _) => format!("{method} {}", endpoint_name(path)),
    }
}

/// The resource kind a SCIM path addresses, and whether it names one resource.
fn addressed(path: &str) -> (Option<ResourceKind>, bool) {
    let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
    let mut segments = path.rsplit('/');
    let last = segments.next().unwrap_or("");
    let before = segments.next().unwrap_or("");
    let kind = |segment: &str| ResourceKind::ALL.into_iter().find(|kind| kind.endpoint() == segment);
    match (kind(before), kind(last)) {
        (Some(kind), _) if last != ".search" => (Some(kind), true),
        (Some(kind), _) => (Some(kind), false),
        (None, Some(kind)) => (Some(kind), false),
        (None, None) => (None, false),
    }
}

/// The `filter` of a list request's query, decoded.
fn list_filter(path: &str) -> Option<String> {
    let query = path.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "filter")
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.trim().is_empty())
}

/// What a non-resource endpoint is, for people.
fn endpoint_name(path: &str) -> String {
    let last = path.split('?').next().unwrap_or(path).trim_end_matches('/').rsplit('/').next().unwrap_or("");
    match last {
        "ServiceProviderConfig" => "the service's capabilities (ServiceProviderConfig)".to_owned(),
        "Schemas" => "the schemas".to_owned(),
        "ResourceTypes" => "the resource types".to_owned(),
        "Bulk" => "a bulk request".to_owned(),
        ".search" => "a search".to_owned(),
        "" => "the endpoint".to_owned(),
        other => format!("/{other}"),
    }
}

fn kind_word(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::User => "user",
        ResourceKind::Group => "group",
        ResourceKind::Agent => "agent",
        ResourceKind::AgenticApplication => "agentic application",
    }
}

/// How a written resource is named: "Bob Jones (bob@globex.example)", "Sales".
fn written_name(change: &Value, names: &Names) -> String {
    let name = change["name"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| change["id"].as_str().and_then(|id| names.resource(id)).map(|(_, name)| name.clone()));
    match (name, change["displayName"].as_str()) {
        (Some(name), Some(display)) if display != name && change["resourceType"] == "User" => {
            format!("{display} ({name})")
        }
        (Some(name), _) => name,
        (None, _) => "an unnamed resource".to_owned(),
    }
}

/// What a written resource is, in words: "user", "group", "agent", "agentic application".
fn written_kind(change: &Value) -> &'static str {
    let resource_type = change["resourceType"].as_str().unwrap_or("");
    ResourceKind::ALL.into_iter().find(|kind| kind.as_str() == resource_type).map_or("resource", kind_word)
}

/// One written resource in words.
fn change_sentence(change: &Value, names: &Names) -> String {
    let is_group = change["resourceType"] == "Group";
    let kind = written_kind(change);
    let name = written_name(change, names);
    let attributes: Vec<&Value> = change["attributes"].as_array().map(|list| list.iter().collect()).unwrap_or_default();
    match change["write"].as_str().unwrap_or("") {
        "created" => {
            let members = added_members(change);
            if !is_group || members == 0 {
                format!("Created {kind} {name}")
            } else {
                format!("Created group {name} with {}", count(members, "member"))
            }
        }
        "deleted" => format!("Deleted {kind} {name}"),
        _ => {
            let mut parts = Vec::new();
            let active = attributes.iter().find(|attribute| attribute["attribute"] == "active");
            let mut others: Vec<&str> = attributes
                .iter()
                .filter(|attribute| attribute["attribute"] != "active")
                .filter_map(|attribute| attribute["attribute"].as_str())
                .collect();
            let renamed = attributes.iter().find(|attribute| {
                is_group && attribute["attribute"] == "displayName" && attribute["before"].is_string()
            });
            if let Some(renamed) = renamed {
                parts.push(format!("Renamed group {} to {name}", renamed["before"].as_str().unwrap_or("")));
                others.retain(|attribute| *attribute != "displayName");
            }
            match active.map(|attribute| attribute["after"].as_bool()) {
                Some(Some(false)) => parts.push(format!("Deactivated {name}")),
                Some(Some(true)) => parts.push(format!("Reactivated {name}")),
                _ => {}
            }
            if !others.is_empty() {
                let listed = listed(&others, 4);
                if parts.is_empty() {
                    parts.push(format!("Updated {kind} {name}: changed {listed}"));
                } else {
                    parts.push(format!("changed {listed}"));
                }
            }
            for delta in change["members"].as_array().into_iter().flatten() {
                parts.push(member_sentence(delta, &name, names));
            }
            if parts.is_empty() {
                return format!("Updated {kind} {name} (nothing changed)");
            }
            let mut sentence = parts.join("; ");
            // Later parts continue the sentence begun by the first.
            if let Some(first) = sentence.get(..1) {
                sentence = format!("{}{}", first.to_uppercase(), &sentence[1..]);
            }
            sentence
        }
    }
}

/// A group's membership change in words.
fn member_sentence(delta: &Value, group: &str, names: &Names) -> String {
    let ids: Vec<&str> = delta["ids"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let who = if ids.len() == 1 {
        ids.first().and_then(|id| names.resource(id)).map_or_else(|| count(1, "member"), |(_, name)| name.clone())
    } else {
        count(ids.len(), "member")
    };
    match delta["op"].as_str().unwrap_or("") {
        "add" => format!("added {who} to {group}"),
        "remove" => format!("removed {who} from {group}"),
        "removeAll" => format!("removed every member from {group}"),
        _ => format!("set the members of {group} to {}", count(ids.len(), "member")),
    }
}

fn added_members(change: &Value) -> usize {
    change["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|delta| matches!(delta["op"].as_str(), Some("add" | "replace")))
        .map(|delta| delta["ids"].as_array().map_or(0, Vec::len))
        .sum()
}

/// A Bulk request's writes counted: "Bulk request: created 3 users, updated 1 group".
fn bulk_sentence(changes: &[Value]) -> String {
    let mut counts: Vec<((&str, &str), usize)> = Vec::new();
    for change in changes {
        let write = change["write"].as_str().unwrap_or("updated");
        let kind = written_kind(change);
        match counts.iter_mut().find(|(key, _)| *key == (write, kind)) {
            Some((_, n)) => *n += 1,
            None => counts.push(((write, kind), 1)),
        }
    }
    let parts: Vec<String> =
        counts.into_iter().map(|((write, kind), n)| format!("{write} {}", count(n, kind))).collect();
    format!("Bulk request: {}", parts.join(", "))
}

/// An admin, operator or system action in words: its name, what it named, and the user
/// or group it was about.
fn other_action(record: &RecordFacts<'_>, names: &Names) -> String {
    let detail = record.detail;
    // Vendor staff reading the tenant's data: what they looked at, in the words recorded.
    if record.action.starts_with("support.viewed")
        && let Some(viewed) = detail["viewed"].as_str().or_else(|| detail["reason"].as_str())
    {
        let mut sentence = format!("Looked at {viewed}");
        if let Some((kind, name)) = record.resource_id.and_then(|id| names.resource(id)) {
            sentence = format!("{sentence} ({} {name})", kind_word(*kind));
        }
        return sentence;
    }
    let mut sentence = sentence_case(&record.action.replace(['.', '_'], " "));
    let token = detail["token"].as_str().and_then(|id| names.tokens.get(id)).map(|(label, _)| label.as_str());
    if let Some(label) =
        token.or_else(|| ["label", "name", "email", "idp"].iter().find_map(|key| detail[*key].as_str()))
    {
        sentence = format!("{sentence}: ‘{label}’");
    }
    if let Some((kind, name)) = record.resource_id.and_then(|id| names.resource(id)) {
        sentence = format!("{sentence} ({} {name})", kind_word(*kind));
    }
    sentence
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// "a, b and c", or "a, b, c, d and 2 more".
fn listed(items: &[&str], at_most: usize) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        _ if items.len() > at_most => {
            format!("{} and {} more", items[..at_most].join(", "), items.len() - at_most)
        }
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scim<'a>(method: &'a str, path: &'a str, status: i32, detail: &'a Value) -> RecordFacts<'a> {
        RecordFacts {
            action: "scim.request",
            actor: "token:t1",
            directory: None,
            method: Some(method),
            path: Some(path),
            status: Some(status),
            resource_id: None,
            succeeded: status < 400,
            detail,
        }
    }

    fn names() -> Names {
        let mut names = Names::default();
        names.tokens.insert("t1".into(), ("Entra prod".into(), "Microsoft Entra ID"));
        names.tokens.insert("t2".into(), (crate::self_test::TOKEN_LABEL.into(), "Okta"));
        names.admins.insert("a1".into(), "it-admin@globex.example".into());
        names.resources.insert("u1".into(), (ResourceKind::User, "alice@globex.example".into()));
        names.resources.insert("u2".into(), (ResourceKind::User, "bob@globex.example".into()));
        names.resources.insert("g1".into(), (ResourceKind::Group, "Globex Engineering".into()));
        names
    }

    #[test]
    fn a_created_user_is_named_and_the_identity_provider_by_its_token() {
        let detail = json!({"changes": [{"resourceType": "User", "id": "u1", "write": "created", "name": "alice@globex.example",
            "attributes": [{"attribute": "userName", "before": null, "after": "alice@globex.example"}]}]});
        let activity = describe(&scim("POST", "/scim/v2/d/Users", 201, &detail), &names());
        assert_eq!(activity.summary, "Created user alice@globex.example");
        assert_eq!(activity.by, "Microsoft Entra ID (token ‘Entra prod’)");
    }

    #[test]
    fn a_deactivation_names_the_person() {
        let detail = json!({"changes": [{"resourceType": "User", "id": "u2", "write": "updated",
            "name": "bob@globex.example", "displayName": "Bob Jones",
            "attributes": [{"attribute": "active", "before": true, "after": false}]}]});
        let mut record = scim("PATCH", "/scim/v2/d/Users/u2", 200, &detail);
        record.resource_id = Some("u2");
        let activity = describe(&record, &names());
        assert_eq!(activity.summary, "Deactivated Bob Jones (bob@globex.example)");
        assert_eq!(activity.subject.map(|subject| subject.name), Some("bob@globex.example".to_owned()));
    }

    #[test]
    fn membership_changes_count_members_and_name_a_single_one() {
        let detail = json!({"changes": [{"resourceType": "Group", "id": "g1", "write": "updated", "attributes": [],
            "members": [{"op": "remove", "ids": ["u1", "u2"]}]}]});
        assert_eq!(
            describe(&scim("PATCH", "/scim/v2/d/Groups/g1", 204, &detail), &names()).summary,
            "Removed 2 members from Globex Engineering"
        );
        let detail = json!({"changes": [{"resourceType": "Group", "id": "g1", "write": "updated", "attributes": [],
            "members": [{"op": "add", "ids": ["u1"]}]}]});
        assert_eq!(
            describe(&scim("PATCH", "/scim/v2/d/Groups/g1", 204, &detail), &names()).summary,
            "Added alice@globex.example to Globex Engineering"
        );
    }

    #[test]
    fn an_update_lists_what_changed_and_a_rename_says_so() {
        let detail = json!({"changes": [{"resourceType": "User", "id": "u1", "write": "updated", "name": "alice@globex.example",
            "attributes": [{"attribute": "title"}, {"attribute": "name.givenName"}]}]});
        assert_eq!(
            describe(&scim("PUT", "/scim/v2/d/Users/u1", 200, &detail), &names()).summary,
            "Updated user alice@globex.example: changed title and name.givenName"
        );
        let detail = json!({"changes": [{"resourceType": "Group", "id": "g1", "write": "updated", "name": "Sales EMEA",
            "attributes": [{"attribute": "displayName", "before": "Sales", "after": "Sales EMEA"}]}]});
        assert_eq!(
            describe(&scim("PATCH", "/scim/v2/d/Groups/g1", 200, &detail), &names()).summary,
            "Renamed group Sales to Sales EMEA"
        );
    }

    #[test]
    fn reads_and_lookups_read_as_such() {
        let none = json!({});
        let mut read = scim("GET", "/scim/v2/d/Users/u1", 200, &none);
        read.resource_id = Some("u1");
        assert_eq!(describe(&read, &names()).summary, "Read user alice@globex.example");
        let lookup = scim("GET", "/scim/v2/d/Users?filter=userName%20eq%20%22ann%40x.example%22", 200, &none);
        assert_eq!(describe(&lookup, &names()).summary, "Looked up users where userName eq \"ann@x.example\"");
        assert_eq!(describe(&scim("GET", "/scim/v2/d/Groups", 200, &none), &names()).summary, "Listed groups");
        assert_eq!(
            describe(&scim("GET", "/scim/v2/d/ServiceProviderConfig", 200, &none), &names()).summary,
            "Read the service's capabilities (ServiceProviderConfig)"
        );
    }

    #[test]
    fn a_failure_says_what_was_tried_and_what_the_server_said() {
        let detail = json!({"request": {"userName": "carol@globex.example"},
            "response": {"detail": "userName carol@globex.example is taken", "scimType": "uniqueness"}});
        assert_eq!(
            describe(&scim("POST", "/scim/v2/d/Users", 409, &detail), &names()).summary,
            "Could not create user carol@globex.example (409: userName carol@globex.example is taken)"
        );
    }

    #[test]
    fn a_refused_request_gives_the_reason_and_no_caller_name() {
        let detail = json!({"refusal": "unknown", "explanation": "The token is not one of this directory's."});
        let mut record = scim("GET", "/scim/v2/d/Users", 401, &detail);
        record.actor = "unauthenticated";
        let activity = describe(&record, &names());
        assert_eq!(activity.summary, "Refused a request: the token is not one of this directory's.");
        assert_eq!(activity.by, "An unidentified caller");
    }

    #[test]
    fn the_self_test_is_called_the_self_test() {
        let none = json!({});
        let mut record = scim("GET", "/scim/v2/d/Users/selftest-1", 404, &none);
        record.resource_id = Some("selftest-1");
        record.actor = "token:t2";
        let activity = describe(&record, &names());
        assert_eq!(activity.summary, "Self-test: could not read a user that is not stored (404)");
        assert_eq!(activity.by, "The setup wizard's self-test");
    }

    #[test]
    fn bulk_requests_are_counted_and_admin_actions_named() {
        let detail = json!({"changes": [
            {"resourceType": "User", "id": "a", "write": "created"},
            {"resourceType": "User", "id": "b", "write": "created"},
            {"resourceType": "Group", "id": "g", "write": "updated"}]});
        assert_eq!(
            describe(&scim("POST", "/scim/v2/d/Bulk", 200, &detail), &names()).summary,
            "Bulk request: created 2 users, updated 1 group"
        );
        let detail = json!({"token": "t1"});
        let record = RecordFacts {
            action: "token.revoked",
            actor: "admin:a1",
            method: None,
            path: None,
            ..scim("", "", 0, &detail)
        };
        let activity = describe(&record, &names());
        assert_eq!(activity.summary, "Token revoked: ‘Entra prod’");
        assert_eq!(activity.by, "it-admin@globex.example");
        let detail =
            json!({"viewed": "directory activity", "viewer_email": "ann@vendor.example", "viewer_role": "support"});
        let record = RecordFacts { action: "support.viewed_directory", actor: "operator:o1", ..record };
        let record = RecordFacts { detail: &detail, ..record };
        let activity = describe(&record, &names());
        assert_eq!(activity.summary, "Looked at directory activity");
        assert_eq!(activity.by, "ann@vendor.example (vendor support)");
    }
}
