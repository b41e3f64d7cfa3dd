//! The wizard's self-test: a scripted provisioning cycle against a directory's own SCIM
//! endpoint, over HTTP, shaped the way the chosen identity provider sends its requests
//! (create, find, update, group push, deactivate, delete).
//!
//! It goes through the public base URL, the same way the identity provider comes in, so
//! it also proves the address and any proxy in front of the server. It authenticates with
//! a token of its own (labelled [`TOKEN_LABEL`], valid for ten minutes, revoked at the
//! end) and removes what it made. Its writes are real: they are in the audit trail and
//! the event feed like any other, under a `userName` that says what they were.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::{DirectoryId, IdentityProvider, SetupCompletion, Store, TenantId};

use crate::actor::Actor;
use crate::directories::{self, TokenRequest};
use crate::onboarding::{self, OnboardingError};
use crate::scim_client::ScimClient;
use crate::{Effects, ServiceError};

/// The label of the tokens the self-test issues for itself.
pub const TOKEN_LABEL: &str = "Setup self-test";

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// One step of the cycle and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutcome {
    pub name: String,
    /// `POST /Users` and so on.
    pub request: String,
    pub status: Option<u16>,
    pub passed: bool,
    /// What was checked, or in plain words what went wrong.
    pub detail: String,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfTestReport {
    pub steps: Vec<StepOutcome>,
    pub passed: bool,
}

/// Which shape of requests to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    /// Microsoft Entra ID: capitalised PATCH ops, booleans as strings, path-per-attribute.
    Entra,
    /// Okta and the RFC-shaped clients: PUT of the whole user for updates, `active: false`
    /// in a path-less replace to deactivate.
    Okta,
}

struct Run {
    scim: ScimClient,
    steps: Vec<StepOutcome>,
}

struct Answer {
    status: u16,
    body: Value,
}

impl Run {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<Answer, String> {
        let (status, body) =
            self.scim.send(method, path, body).await.map_err(|error| unreachable_message(self.scim.base(), &error))?;
        Ok(Answer { status, body })
    }

    /// Sends one request and records the step: passed when the status is one of `expected` and
    /// `check` accepts the body (it returns what it checked, or what is wrong).
    async fn step(
        &mut self,
        name: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        expected: &[u16],
        check: impl FnOnce(&Value) -> Result<String, String>,
    ) -> Option<Value> {
        let request = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let (status, passed, detail, answer) = match self.send(method, path, body.as_ref()).await {
            Err(message) => (None, false, message, None),
            Ok(answer) if !expected.contains(&answer.status) => {
                let detail =
                    failure_message(expected.first().copied().unwrap_or_default(), answer.status, &answer.body);
                (Some(answer.status), false, detail, None)
            }
            Ok(answer) => match check(&answer.body) {
                Ok(checked) => (Some(answer.status), true, checked, Some(answer.body)),
                Err(problem) => (Some(answer.status), false, problem, None),
            },
        };
        self.steps.push(StepOutcome { name: name.to_owned(), request, status, passed, detail });
        answer
    }
}

fn unreachable_message(base: &str, error: &reqwest::Error) -> String {
    format!(
        "The endpoint {base} could not be reached from the server ({error}). Check that the public address \
         the server is configured with leads back to it."
    )
}

fn failure_message(expected: u16, status: u16, body: &Value) -> String {
    let detail = body.get("detail").and_then(Value::as_str).unwrap_or("no detail");
    let kind = body.get("scimType").and_then(Value::as_str).map(|t| format!(" ({t})")).unwrap_or_default();
    format!("Expected HTTP {expected}, got {status}{kind}: {detail}")
}

fn id_of(body: &Value) -> Result<String, String> {
    body.get("id").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| "The answer has no id".to_owned())
}

/// Runs the cycle for a directory of the tenant, through `public_base` (the deployment's
/// public URL). When every step passes, the directory's setup is complete.
pub async fn run(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    public_base: &str,
    actor: &Actor,
    effects: &Effects,
) -> Result<SelfTestReport, OnboardingError> {
    let now = effects.now();
    let setup = onboarding::directory_setup(store, tenant, directory).await?;
    let flavour = match setup.directory.idp {
        IdentityProvider::Entra => Flavour::Entra,
        _ => Flavour::Okta,
    };
    let request =
        TokenRequest { label: TOKEN_LABEL.to_owned(), read_only: false, expires_at: Some(now + Duration::minutes(10)) };
    let issued = directories::mint_token(store, tenant, directory, request, effects).await?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .map_err(|error| ServiceError::Internal(format!("building the self-test client: {error}")))?;
    let base = format!("{}/scim/v2/{directory}", public_base.trim_end_matches('/'));
    let mut run = Run { scim: ScimClient::new(client, base, issued.secret), steps: Vec::new() };
    let (user, group) = cycle(&mut run, flavour, &directory.to_string()[..8]).await;
    // Clean up whatever the cycle left when it stopped early.
    if let Some(group) = group {
        let _ = run.send(reqwest::Method::DELETE, &format!("/Groups/{group}"), None).await;
    }
    if let Some(user) = user {
        let _ = run.send(reqwest::Method::DELETE, &format!("/Users/{user}"), None).await;
    }
    // The run's token, its revocation, the completion and the record commit together.
    let passed = run.steps.iter().all(|step| step.passed);
    let mut action = store.tenant(tenant).begin_action().await?;
    action.revoke_token(directory, issued.id, now).await?;
    if passed {
        let by = SetupCompletion::SelfTest;
        crate::directory_lifecycle::complete_setup(&mut action, tenant, &setup.directory, by, actor, now).await?;
    }
    let detail = json!({ "passed": passed, "steps": run.steps.len() });
    action.commit(actor.record("directory.self_test", Some(directory), detail, now)).await?;
    Ok(SelfTestReport { steps: run.steps, passed })
}

/// The scripted steps; returns the ids of a user and group still to delete.
async fn cycle(run: &mut Run, flavour: Flavour, tag: &str) -> (Option<String>, Option<String>) {
    use reqwest::Method;
    let user_name = format!("scim-self-test-{tag}@example.invalid");
    let create = match flavour {
        // Okta's "Create User" request from its SCIM 2.0 guide.
        Flavour::Okta => json!({
            "schemas": [USER], "userName": user_name,
            "name": {"givenName": "Self", "familyName": "Test"},
            "emails": [{"primary": true, "value": user_name, "type": "work"}],
            "displayName": "Self Test", "locale": "en-US", "externalId": format!("00uselftest{tag}"),
            "groups": [], "active": true
        }),
        // Entra ID's create from its SCIM provisioning tutorial.
        Flavour::Entra => json!({
            "schemas": [USER, ENTERPRISE], "externalId": format!("selftest{tag}"), "userName": user_name,
            "active": true, "displayName": "Self Test",
            "emails": [{"primary": true, "type": "work", "value": user_name}],
            "meta": {"resourceType": "User"}, "name": {"formatted": "Self Test", "familyName": "Test", "givenName": "Self"},
            "roles": [], ENTERPRISE: {"department": "IT"}
        }),
    };
    let expected_name = user_name.clone();
    let Some(created) = run
        .step("Create a user", Method::POST, "/Users", Some(create.clone()), &[201], |body| {
            let id = id_of(body)?;
            match body.get("userName").and_then(Value::as_str) {
                Some(name) if name == expected_name => Ok(format!("Created user {name} with id {id}")),
                other => Err(format!("The created user's userName is {other:?}, not {expected_name:?}")),
            }
        })
        .await
    else {
        return (None, None);
    };
    let Ok(user) = id_of(&created) else { return (None, None) };

    let filter = format!("/Users?filter=userName%20eq%20%22{}%22", user_name.replace('@', "%40"));
    let wanted = user.clone();
    run.step("Find the user by userName", Method::GET, &filter, None, &[200], |body| {
        let ids: Vec<&str> =
            body["Resources"].as_array().into_iter().flatten().filter_map(|r| r["id"].as_str()).collect();
        if ids == [wanted.as_str()] {
            Ok("The filter found exactly this user".to_owned())
        } else {
            Err(format!("The filter found {ids:?}"))
        }
    })
    .await;

    let (method, update) = match flavour {
        Flavour::Okta => {
            let mut replaced = create.clone();
            replaced["title"] = json!("Chief Self-Tester");
            replaced["id"] = json!(user);
            (Method::PUT, replaced)
        }
        Flavour::Entra => (
            Method::PATCH,
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "Replace", "path": "title", "value": "Chief Self-Tester"},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"}
            ]}),
        ),
    };
    run.step("Update the user", method, &format!("/Users/{user}"), Some(update), &[200], |body| {
        match body.get("title").and_then(Value::as_str) {
            Some("Chief Self-Tester") => Ok("The new title was stored".to_owned()),
            other => Err(format!("The title after the update is {other:?}")),
        }
    })
    .await;

    let group_body = json!({"schemas": [GROUP], "displayName": format!("Self-test group {tag}"), "members": []});
    let group = run
        .step("Push a group", Method::POST, "/Groups", Some(group_body), &[201], |body| {
            id_of(body).map(|id| format!("Created group {id}"))
        })
        .await
        .and_then(|body| id_of(&body).ok());
    if let Some(group) = &group {
        let op = if flavour == Flavour::Entra { "Add" } else { "add" };
        let add =
            json!({"schemas": [PATCH_OP], "Operations": [{"op": op, "path": "members", "value": [{"value": user}]}]});
        // A membership change is answered 204 without the group (RFC 7644 §3.5.2 allows
        // it, and a group of 100,000 members is not sent back); both IdPs accept 204.
        let path = format!("/Groups/{group}");
        run.step("Add the user to the group", Method::PATCH, &path, Some(add), &[200, 204], |_| {
            Ok("The membership change was accepted".to_owned())
        })
        .await;
        run.step("The group lists the user", Method::GET, &path, None, &[200], |body| {
            let members: Vec<&str> =
                body["members"].as_array().into_iter().flatten().filter_map(|m| m["value"].as_str()).collect();
            if members.contains(&user.as_str()) {
                Ok("The group's members include the user".to_owned())
            } else {
                Err(format!("The group's members are {members:?}"))
            }
        })
        .await;
    }

    let deactivate = match flavour {
        Flavour::Okta => json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]}),
        Flavour::Entra => {
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
        }
    };
    run.step("Deactivate the user", Method::PATCH, &format!("/Users/{user}"), Some(deactivate), &[200], |body| {
        match body.get("active") {
            Some(Value::Bool(false)) => Ok("The user is inactive".to_owned()),
            other => Err(format!("active is {other:?} after deactivation")),
        }
    })
    .await;

    if let Some(group) = &group {
        let path = format!("/Groups/{group}");
        if run
            .step("Delete the group", Method::DELETE, &path, None, &[204], |_| Ok("Deleted".to_owned()))
            .await
            .is_none()
        {
            return (Some(user), Some(group.clone()));
        }
    }
    let path = format!("/Users/{user}");
    if run.step("Delete the user", Method::DELETE, &path, None, &[204], |_| Ok("Deleted".to_owned())).await.is_none() {
        return (Some(user), None);
    }
    run.step("The deleted user is gone", Method::GET, &path, None, &[404], |_| Ok("Answered 404".to_owned())).await;
    (None, None)
}
