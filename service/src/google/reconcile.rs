//! One full reconciliation of a directory with what Google lists: the same SCIM writes an
//! identity provider pushing to the directory would send, through the directory's own
//! endpoint (so the dialect pipeline, validation, audit, change records, webhooks, roles
//! and the safety brake see them as they see any provider's). It only starts writing once
//! Google's whole listing has been read: a run that could not read everything deactivates
//! nobody.
//!
//! The connector owns the resources it can match to Google by `externalId` (Google's
//! immutable id). A user Google no longer lists is deactivated, not deleted (Google lists
//! neither deleted users nor, here, anything to say why); a group it no longer lists is
//! deleted. A user already in the directory with the same userName but no `externalId`
//! (provisioned before the connector) is adopted: it gets Google's id and data.

use std::collections::{BTreeSet, HashMap, HashSet};

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::api::{GoogleDirectory, GoogleUser};
use crate::scim_client::ScimClient;

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The SCIM page size the connector reads the directory with (the endpoint's maximum).
const SCIM_PAGE: usize = 1000;
/// Failed writes kept in a run's report (all are counted).
pub const FAILURES_KEPT: usize = 20;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncCounts {
    pub users_seen: u64,
    pub groups_seen: u64,
    pub users_created: u64,
    pub users_updated: u64,
    pub users_deactivated: u64,
    pub users_unchanged: u64,
    pub groups_created: u64,
    pub groups_updated: u64,
    pub groups_deleted: u64,
    /// Members Google lists that a directory cannot hold (a whole customer, an address
    /// outside the domain).
    pub members_skipped: u64,
    pub writes_failed: u64,
}

/// A write the directory refused, as support reads it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncFailure {
    /// `POST /Users (ada@acme.example)`.
    pub request: String,
    pub status: u16,
    pub detail: String,
}

/// A run's outcome when it got as far as writing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub counts: SyncCounts,
    /// The first [`FAILURES_KEPT`] refused writes.
    pub failures: Vec<SyncFailure>,
}

/// Why a run could not reconcile at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconcileError {
    #[error("the directory's SCIM endpoint could not be read ({status}): {detail}")]
    Unreadable { status: u16, detail: String },
    #[error("the directory's SCIM endpoint could not be reached: {0}")]
    Unreachable(String),
}

/// The SCIM user a Google user is.
pub fn scim_user(user: &GoogleUser) -> Value {
    let mut doc = Map::new();
    doc.insert("schemas".into(), json!([USER_SCHEMA, ENTERPRISE]));
    doc.insert("userName".into(), json!(user.primary_email));
    doc.insert("externalId".into(), json!(user.id));
    doc.insert("active".into(), json!(!user.suspended && !user.archived));
    let mut name = Map::new();
    for (key, value) in [
        ("givenName", &user.name.given_name),
        ("familyName", &user.name.family_name),
        ("formatted", &user.name.full_name),
    ] {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            name.insert(key.into(), json!(value));
        }
    }
    if !name.is_empty() {
        doc.insert("name".into(), Value::Object(name));
    }
    if let Some(full) = user.name.full_name.as_ref().filter(|v| !v.is_empty()) {
        doc.insert("displayName".into(), json!(full));
    }
    let mut emails = vec![json!({"value": user.primary_email, "type": "work", "primary": true})];
    for email in &user.emails {
        if !email.address.eq_ignore_ascii_case(&user.primary_email)
            && !emails.iter().any(|e| e["value"].as_str().is_some_and(|v| v.eq_ignore_ascii_case(&email.address)))
        {
            let kind = match email.kind.as_deref() {
                Some("home") => "home",
                Some("work") => "work",
                _ => "other",
            };
            emails.push(json!({"value": email.address, "type": kind}));
        }
    }
    doc.insert("emails".into(), Value::Array(emails));
    let phones: Vec<Value> = user
        .phones
        .iter()
        .filter(|phone| !phone.value.is_empty())
        .map(|phone| {
            let kind = match phone.kind.as_deref() {
                Some("work" | "work_mobile") => "work",
                Some("mobile") => "mobile",
                Some("home") => "home",
                Some("work_fax" | "home_fax" | "other_fax") => "fax",
                Some("pager" | "work_pager") => "pager",
                _ => "other",
            };
            json!({"value": phone.value, "type": kind})
        })
        .collect();
    if !phones.is_empty() {
        doc.insert("phoneNumbers".into(), Value::Array(phones));
    }
    let organization = user.organizations.iter().find(|org| org.primary).or_else(|| user.organizations.first());
    if let Some(title) = organization.and_then(|org| org.title.as_ref()).filter(|v| !v.is_empty()) {
        doc.insert("title".into(), json!(title));
    }
    let mut enterprise = Map::new();
    if let Some(org) = organization {
        for (key, value) in
            [("department", &org.department), ("costCenter", &org.cost_center), ("organization", &org.name)]
        {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                enterprise.insert(key.into(), json!(value));
            }
        }
    }
    let employee = user.external_ids.iter().find(|id| id.kind.as_deref() == Some("organization"));
    if let Some(employee) = employee.filter(|id| !id.value.is_empty()) {
        enterprise.insert("employeeNumber".into(), json!(employee.value));
    }
    if !enterprise.is_empty() {
        doc.insert(ENTERPRISE.into(), Value::Object(enterprise));
    }
    Value::Object(doc)
}

/// The attributes the connector writes: a stored user whose values for these differ from
/// Google's is replaced.
const MAPPED: [&str; 9] =
    ["userName", "externalId", "active", "name", "displayName", "emails", "phoneNumbers", "title", ENTERPRISE];

/// Whether the stored representation `current` differs from `desired` in what the
/// connector maps.
fn differs(desired: &Value, current: &Value) -> bool {
    MAPPED.iter().any(|key| {
        let (want, have) = (desired.get(*key).unwrap_or(&Value::Null), current.get(*key).unwrap_or(&Value::Null));
        match *key {
            // Absent `active` is active (as the service reads it).
            "active" => want.as_bool().unwrap_or(true) != have.as_bool().unwrap_or(true),
            _ => want != have,
        }
    })
}

/// Reconciles the directory behind `scim` with `google`.
pub(crate) async fn reconcile(scim: &ScimClient, google: &GoogleDirectory) -> Result<Reconciled, ReconcileError> {
    let mut run = Run { scim, out: Reconciled::default() };
    run.out.counts.users_seen = google.users.len() as u64;
    run.out.counts.groups_seen = google.groups.len() as u64;

    // Users: what the directory holds, by Google id (and by userName, for adoption).
    let stored = run.read_all("/Users?excludedAttributes=groups").await?;
    let mut by_google_id: HashMap<String, Value> = HashMap::new();
    let mut unowned_by_name: HashMap<String, Value> = HashMap::new();
    for user in stored {
        match user.get("externalId").and_then(Value::as_str) {
            Some(external) if !external.is_empty() => {
                by_google_id.insert(external.to_owned(), user);
            }
            _ => {
                let name = user["userName"].as_str().unwrap_or_default().to_lowercase();
                unowned_by_name.insert(name, user);
            }
        }
    }
    // The SCIM id of each Google user, once written.
    let mut scim_ids: HashMap<String, String> = HashMap::new();
    for user in &google.users {
        let desired = scim_user(user);
        let label = format!("({})", user.primary_email);
        let current =
            by_google_id.remove(&user.id).or_else(|| unowned_by_name.remove(&user.primary_email.to_lowercase()));
        match current {
            Some(current) => {
                let id = current["id"].as_str().unwrap_or_default().to_owned();
                if differs(&desired, &current) {
                    let path = format!("/Users/{id}");
                    if run.write(Method::PUT, &path, &desired, &label).await.is_some() {
                        run.out.counts.users_updated += 1;
                    }
                } else {
                    run.out.counts.users_unchanged += 1;
                }
                scim_ids.insert(user.id.clone(), id);
            }
            None => {
                if let Some(created) = run.write(Method::POST, "/Users", &desired, &label).await {
                    run.out.counts.users_created += 1;
                    if let Some(id) = created["id"].as_str() {
                        scim_ids.insert(user.id.clone(), id.to_owned());
                    }
                }
            }
        }
    }
    // Owned users Google no longer lists: deactivated (once).
    let deactivate =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let mut gone: Vec<&Value> = by_google_id.values().filter(|user| user["active"].as_bool().unwrap_or(true)).collect();
    gone.sort_by_key(|user| user["userName"].as_str().unwrap_or_default().to_owned());
    for user in gone {
        let (id, name) = (user["id"].as_str().unwrap_or_default(), user["userName"].as_str().unwrap_or_default());
        if run.write(Method::PATCH, &format!("/Users/{id}"), &deactivate, &format!("({name})")).await.is_some() {
            run.out.counts.users_deactivated += 1;
        }
    }

    // Groups: created first (nested groups refer to each other), then their members.
    let stored = run.read_all("/Groups").await?;
    let mut groups_by_google_id: HashMap<String, Value> = HashMap::new();
    for group in stored {
        if let Some(external) = group.get("externalId").and_then(Value::as_str).filter(|e| !e.is_empty()) {
            groups_by_google_id.insert(external.to_owned(), group);
        }
    }
    let mut group_ids: HashMap<String, (String, Value)> = HashMap::new();
    // Made by this run: their first members are part of their creation, not an update.
    let mut made: HashSet<String> = HashSet::new();
    for (group, _) in &google.groups {
        let display = group.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| group.email.clone());
        match groups_by_google_id.remove(&group.id) {
            Some(current) => {
                let id = current["id"].as_str().unwrap_or_default().to_owned();
                group_ids.insert(group.id.clone(), (id, current));
            }
            None => {
                let body = json!({"schemas": [GROUP_SCHEMA], "displayName": display, "externalId": group.id});
                if let Some(created) = run.write(Method::POST, "/Groups", &body, &format!("({display})")).await {
                    run.out.counts.groups_created += 1;
                    let id = created["id"].as_str().unwrap_or_default().to_owned();
                    made.insert(id.clone());
                    group_ids.insert(group.id.clone(), (id, created));
                }
            }
        }
    }
    for (group, members) in &google.groups {
        let Some((id, current)) = group_ids.get(&group.id) else { continue };
        let display = group.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| group.email.clone());
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        for member in members {
            let google_id = member.id.as_deref().unwrap_or_default();
            let scim_id = match member.kind.as_str() {
                "USER" => scim_ids.get(google_id).cloned(),
                "GROUP" => group_ids.get(google_id).map(|(id, _)| id.clone()),
                _ => None,
            };
            match scim_id {
                Some(scim_id) => {
                    wanted.insert(scim_id);
                }
                None => run.out.counts.members_skipped += 1,
            }
        }
        let have: BTreeSet<String> = current["members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|member| member["value"].as_str().map(str::to_owned))
            .collect();
        let renamed = current["displayName"].as_str() != Some(display.as_str());
        if wanted != have || renamed {
            let members: Vec<Value> = wanted.iter().map(|id| json!({"value": id})).collect();
            let body =
                json!({"schemas": [GROUP_SCHEMA], "displayName": display, "externalId": group.id, "members": members});
            if run.write(Method::PUT, &format!("/Groups/{id}"), &body, &format!("({display})")).await.is_some()
                && !made.contains(id)
            {
                run.out.counts.groups_updated += 1;
            }
        }
    }
    // Owned groups Google no longer lists.
    let mut gone: Vec<&Value> = groups_by_google_id.values().collect();
    gone.sort_by_key(|group| group["displayName"].as_str().unwrap_or_default().to_owned());
    for group in gone {
        let (id, name) = (group["id"].as_str().unwrap_or_default(), group["displayName"].as_str().unwrap_or_default());
        if run.delete(&format!("/Groups/{id}"), &format!("({name})")).await {
            run.out.counts.groups_deleted += 1;
        }
    }
    Ok(run.out)
}

/// One run's SCIM traffic and what it came to.
struct Run<'a> {
    scim: &'a ScimClient,
    out: Reconciled,
}

impl Run<'_> {
    /// Every resource a list path returns, page by page.
    async fn read_all(&self, path: &str) -> Result<Vec<Value>, ReconcileError> {
        let mut all = Vec::new();
        let separator = if path.contains('?') { '&' } else { '?' };
        loop {
            let page = format!("{path}{separator}startIndex={}&count={SCIM_PAGE}", all.len() + 1);
            let (status, body) = self
                .scim
                .send(Method::GET, &page, None)
                .await
                .map_err(|error| ReconcileError::Unreachable(error.to_string()))?;
            if status != 200 {
                let detail = body["detail"].as_str().unwrap_or("no detail").to_owned();
                return Err(ReconcileError::Unreadable { status, detail });
            }
            let resources = body["Resources"].as_array().cloned().unwrap_or_default();
            let total = body["totalResults"].as_u64().unwrap_or(0) as usize;
            let empty = resources.is_empty();
            all.extend(resources);
            if empty || all.len() >= total {
                return Ok(all);
            }
        }
    }

    /// Sends a write; answers the body of a success, records a refusal.
    async fn write(&mut self, method: Method, path: &str, body: &Value, label: &str) -> Option<Value> {
        let request = format!("{method} {} {label}", path.split('/').take(2).collect::<Vec<_>>().join("/"));
        match self.scim.send(method, path, Some(body)).await {
            Ok((200 | 201 | 204, answer)) => Some(answer),
            Ok((status, answer)) => {
                let detail = answer["detail"].as_str().unwrap_or("no detail").to_owned();
                self.failed(request, status, detail);
                None
            }
            Err(error) => {
                self.failed(request, 0, error.to_string());
                None
            }
        }
    }

    async fn delete(&mut self, path: &str, label: &str) -> bool {
        let request = format!("DELETE /Groups {label}");
        match self.scim.send(Method::DELETE, path, None).await {
            Ok((204 | 404, _)) => true,
            Ok((status, answer)) => {
                let detail = answer["detail"].as_str().unwrap_or("no detail").to_owned();
                self.failed(request, status, detail);
                false
            }
            Err(error) => {
                self.failed(request, 0, error.to_string());
                false
            }
        }
    }

    fn failed(&mut self, request: String, status: u16, detail: String) {
        self.out.counts.writes_failed += 1;
        if self.out.failures.len() < FAILURES_KEPT {
            self.out.failures.push(SyncFailure { request, status, detail });
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ada() -> GoogleUser {
        serde_json::from_value(json!({
            "id": "104", "primaryEmail": "ada@acme.example",
            "name": {"givenName": "Ada", "familyName": "Lovelace", "fullName": "Ada Lovelace"},
            "suspended": false,
            "emails": [{"address": "ada@acme.example", "primary": true}, {"address": "ada@home.example", "type": "home"}],
            "organizations": [{"title": "Engineer", "department": "R&D", "costCenter": "42", "primary": true}],
            "phones": [{"value": "+44 20 7946 0000", "type": "work"}],
            "externalIds": [{"value": "E-7", "type": "organization"}]
        }))
        .unwrap()
    }

    #[test]
    fn a_google_user_becomes_a_core_and_enterprise_scim_user() {
        let user = scim_user(&ada());
        assert_eq!(user["userName"], "ada@acme.example");
        assert_eq!(user["externalId"], "104");
        assert_eq!(user["active"], true);
        assert_eq!(user["name"], json!({"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"}));
        assert_eq!(user["emails"][1], json!({"value": "ada@home.example", "type": "home"}));
        assert_eq!(user["title"], "Engineer");
        assert_eq!(user["phoneNumbers"], json!([{"value": "+44 20 7946 0000", "type": "work"}]));
        assert_eq!(user[ENTERPRISE], json!({"department": "R&D", "costCenter": "42", "employeeNumber": "E-7"}));
        let mut suspended = ada();
        suspended.suspended = true;
        assert_eq!(scim_user(&suspended)["active"], false);
    }

    #[test]
    fn only_a_change_of_a_mapped_attribute_is_a_difference() {
        let desired = scim_user(&ada());
        let mut stored = desired.clone();
        stored["id"] = json!("scim-1");
        stored["meta"] = json!({"version": "W/\"1\""});
        stored.as_object_mut().unwrap().remove("active");
        assert!(!differs(&desired, &stored), "ids, meta and an absent active (true) are no difference");
        stored["title"] = json!("Manager");
        assert!(differs(&desired, &stored));
        stored["title"] = desired["title"].clone();
        stored.as_object_mut().unwrap().remove(ENTERPRISE);
        assert!(differs(&desired, &stored), "a removed enterprise attribute is a difference");
    }
}
