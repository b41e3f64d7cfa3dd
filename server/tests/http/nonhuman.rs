//! Non-human identities over HTTP: service accounts and agents provisioned with the
//! extension, the expiry sweeper, and the flags for identities whose owner is deactivated
//! on the admin's dashboard and in the support console.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use service::directories::{self, TokenRequest};
use service::nonhuman::{
    EXPIRED_ACTION, EXTENSION_CHANGED, NonhumanExtensionError, OWNER_POLICY_ACTION, OWNER_POLICY_ACTOR,
    OWNER_POLICY_CHANGED, SWEEPER_ACTOR, apply_owner_policies, deactivate_expired, set_nonhuman_extension,
};
use store::testing::TestDatabase;
use store::{IdentityProvider, TenantSlug, backend_tests};

use crate::TestServer;
use crate::onboarding::{admin_of, start_directory};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const NHI: &str = "urn:ietf:params:scim:schemas:extension:nonhuman:2.0:User";

backend_tests!(
    discovery_lists_the_nonhuman_identity_extension,
    service_accounts_and_agents_are_provisioned_with_owner_and_expiry,
    an_unknown_owner_a_self_owner_or_another_kind_is_400_invalid_value,
    the_sweeper_deactivates_exactly_the_expired_active_identities_once,
    an_expired_identity_is_made_active_again_only_with_a_later_expiry,
    identities_of_a_deactivated_owner_are_flagged_on_the_dashboard_and_in_support,
    one_tenants_backlog_of_expired_identities_does_not_hold_back_anothers,
    the_owner_policy_deactivates_an_ownerless_identity_once_and_audits_it,
    the_owner_policy_reassigns_identities_of_a_deleted_owner_to_the_fallback,
    an_owner_policy_needs_an_active_person_as_fallback,
    a_directory_without_the_extension_offers_rfc_7643_only_and_has_no_identities,
    the_admin_chooses_the_extension_on_the_dashboard,
);

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    text.parse().unwrap()
}

/// An identity provider holding a token of one directory.
pub(crate) struct Scim {
    base: String,
    token: String,
    client: reqwest::Client,
    pub(crate) tenant: store::TenantId,
    pub(crate) directory: store::DirectoryId,
}

impl Scim {
    /// A new directory of tenant `slug` (made if missing) and a token for it.
    pub(crate) async fn new(db: &TestDatabase, server: &TestServer, slug: &str) -> Self {
        let request = TokenRequest { label: "test".into(), read_only: false, expires_at: None };
        let now = at("2026-11-25T09:00:00Z");
        let (tenant, directory, token) = crate::provisioned(db, slug, IdentityProvider::Okta, request, now).await;
        Self::with_token(server, tenant.id, directory.id, token.secret)
    }

    fn with_token(server: &TestServer, tenant: store::TenantId, directory: store::DirectoryId, token: String) -> Self {
        Self {
            base: server.url(&format!("/scim/v2/{directory}")),
            token,
            client: reqwest::Client::new(),
            tenant,
            directory,
        }
    }

    pub(crate) async fn for_directory(
        db: &TestDatabase,
        server: &TestServer,
        tenant: store::TenantId,
        directory: store::DirectoryId,
    ) -> Self {
        let request = TokenRequest { label: "test".into(), read_only: false, expires_at: None };
        let now = at("2026-11-25T09:00:00Z");
        let token = directories::issue_token(
            &db.store,
            tenant,
            directory,
            request,
            &service::Actor::Cli,
            &service::Effects::stopped_at(now),
        )
        .await
        .unwrap()
        .unwrap();
        Self::with_token(server, tenant, directory, token.secret)
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    pub(crate) async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header("content-type", "application/scim+json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        let (status, body) = self.send(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// Creates a user; returns its id.
    pub(crate) async fn create(&self, body: &Value) -> String {
        let (status, created) = self.send(Method::POST, "/Users", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn patch(&self, id: &str, operations: Value) -> (StatusCode, Value) {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
        self.send(Method::PATCH, &format!("/Users/{id}"), Some(&body)).await
    }

    /// The userNames of the users a filter finds, sorted.
    async fn found(&self, filter: &str) -> Vec<String> {
        let encoded: String = filter
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        let listed = self.get(&format!("/Users?filter={encoded}")).await;
        let mut names: Vec<String> = listed["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| user["userName"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }
}

fn human(user_name: &str) -> Value {
    json!({"schemas": [USER_SCHEMA], "userName": user_name, "active": true})
}

/// A non-human identity: `extension` is the extension's object.
fn identity(user_name: &str, extension: Value) -> Value {
    json!({"schemas": [USER_SCHEMA, NHI], "userName": user_name, NHI: extension})
}

async fn discovery_lists_the_nonhuman_identity_extension(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Scim::new(&db, &server, "acme").await;

    let user_type = idp.get("/ResourceTypes/User").await;
    let schemas = idp.get("/Schemas").await;
    let schema = idp.get(&format!("/Schemas/{NHI}")).await;

    assert!(
        user_type["schemaExtensions"].as_array().unwrap().contains(&json!({"schema": NHI, "required": false})),
        "{user_type}"
    );
    let ids: Vec<&str> = schemas["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&NHI), "{ids:?}");
    let attributes = schema["attributes"].as_array().unwrap();
    let names: Vec<&str> = attributes.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["kind", "owner", "expiresAt"]);
    assert_eq!(attributes[0]["canonicalValues"], json!(["serviceAccount", "agent"]));
    assert_eq!((&attributes[0]["required"], &attributes[0]["caseExact"]), (&json!(true), &json!(true)));
    assert_eq!(attributes[2]["type"], "dateTime");
}

async fn service_accounts_and_agents_are_provisioned_with_owner_and_expiry(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Scim::new(&db, &server, "acme").await;
    let ada = idp.create(&human("ada")).await;

    let ci = idp
        .create(&identity(
            "ci-deployer",
            json!({"kind": "serviceAccount", "owner": {"value": ada}, "expiresAt": "2026-12-31T00:00:00Z"}),
        ))
        .await;
    let agent = idp
        .create(&identity(
            "triage-agent",
            json!({"kind": "agent", "owner": {"value": ada}, "expiresAt": "2027-06-30T00:00:00Z"}),
        ))
        .await;
    idp.create(&identity("backup-agent", json!({"kind": "agent"}))).await;

    let read = idp.get(&format!("/Users/{ci}")).await;
    assert_eq!(read["schemas"], json!([USER_SCHEMA, NHI]));
    assert_eq!(read[NHI]["kind"], "serviceAccount");
    assert_eq!(read[NHI]["owner"]["value"], ada);
    assert_eq!(read[NHI]["expiresAt"], "2026-12-31T00:00:00Z");
    assert_eq!(idp.get(&format!("/Users/{agent}")).await[NHI]["kind"], "agent");
    assert_eq!(idp.found(&format!(r#"{NHI}:kind eq "agent""#)).await, ["backup-agent", "triage-agent"]);
    assert_eq!(idp.found(&format!(r#"{NHI}:expiresAt lt "2027-01-01T00:00:00Z""#)).await, ["ci-deployer"]);
    assert_eq!(idp.found(&format!(r#"{NHI}:owner.value eq "{ada}""#)).await, ["ci-deployer", "triage-agent"]);
    assert_eq!(idp.found(&format!("{NHI}:kind pr")).await.len(), 3);
}

async fn an_unknown_owner_a_self_owner_or_another_kind_is_400_invalid_value(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Scim::new(&db, &server, "acme").await;
    let elsewhere = Scim::new(&db, &server, "globex").await;
    let stranger = elsewhere.create(&human("stranger")).await;
    let bot = idp.create(&identity("bot", json!({"kind": "agent"}))).await;

    let refusals = [
        idp.send(Method::POST, "/Users", Some(&identity("a", json!({"kind": "agent", "owner": {"value": "nobody"}}))))
            .await,
        idp.send(Method::POST, "/Users", Some(&identity("b", json!({"kind": "agent", "owner": {"value": stranger}}))))
            .await,
        idp.send(Method::POST, "/Users", Some(&identity("c", json!({"kind": "robot"})))).await,
        idp.send(Method::POST, "/Users", Some(&identity("d", json!({"kind": "Agent"})))).await,
        idp.send(Method::POST, "/Users", Some(&identity("e", json!({"owner": {"value": bot}})))).await,
        idp.patch(&bot, json!([{"op": "replace", "path": format!("{NHI}:owner.value"), "value": bot}])).await,
        idp.patch(&bot, json!([{"op": "replace", "path": format!("{NHI}:kind"), "value": "human"}])).await,
    ];

    for (n, (status, body)) in refusals.iter().enumerate() {
        assert_eq!((n, status.as_u16(), body["scimType"].as_str()), (n, 400, Some("invalidValue")), "{body}");
    }
    assert!(refusals[0].1["detail"].as_str().unwrap().contains("nobody"), "{}", refusals[0].1);
    let (status, body) = idp.send(Method::GET, "/Users?filter=userName%20eq%20%22a%22", None).await;
    assert_eq!((status, &body["totalResults"]), (StatusCode::OK, &json!(0)));
    assert_eq!(idp.get(&format!("/Users/{bot}")).await["meta"]["version"], "\"1\"");
}

async fn the_sweeper_deactivates_exactly_the_expired_active_identities_once(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Scim::new(&db, &server, "acme").await;
    let other = Scim::new(&db, &server, "globex").await;
    let expiring = |user_name: &str, kind: &str, at: &str| identity(user_name, json!({"kind": kind, "expiresAt": at}));
    let expired_ci = idp.create(&expiring("ci", "serviceAccount", "2026-12-01T08:00:00Z")).await;
    let expired_agent = idp.create(&expiring("agent", "agent", "2026-12-01T09:00:00Z")).await;
    let mut off = expiring("already-off", "agent", "2026-11-30T00:00:00Z");
    off["active"] = json!(false);
    idp.create(&off).await;
    idp.create(&expiring("later", "agent", "2026-12-01T09:00:01Z")).await;
    idp.create(&identity("forever", json!({"kind": "serviceAccount"}))).await;
    idp.create(&human("ada")).await;
    let globex_agent = other.create(&expiring("globex-agent", "agent", "2026-12-01T00:00:00Z")).await;
    let data = db.store.tenant(idp.tenant).directory_data(idp.directory);
    let changes_before = data.changes_after(0, 1000).await.unwrap().len();
    let now = at("2026-12-01T09:00:00Z");
    let public_base = server.url("");

    // Two sweeps at once, as two server processes would run them.
    let (first, second) = tokio::join!(
        deactivate_expired(&db.store, &public_base, now, 100),
        deactivate_expired(&db.store, &public_base, now, 100)
    );

    let mut swept: Vec<String> = first.unwrap().into_iter().chain(second.unwrap()).map(|expired| expired.id).collect();
    swept.sort();
    let mut expected = vec![expired_ci.clone(), expired_agent.clone(), globex_agent.clone()];
    expected.sort();
    assert_eq!(swept, expected);
    assert_eq!(idp.found("active eq false").await, ["agent", "already-off", "ci"]);
    assert_eq!(idp.found("not (active eq false)").await, ["ada", "forever", "later"]);
    // In the change feed, one user.deactivated each, by the sweeper.
    let changes = data.changes_after(0, 1000).await.unwrap();
    let new: Vec<(&str, &str, &str)> = changes[changes_before..]
        .iter()
        .map(|change| (change.kind.as_str(), change.resource_id.as_str(), change.actor.as_str()))
        .collect();
    let mut sorted = new.clone();
    sorted.sort();
    let mut wanted = vec![
        ("user.deactivated", expired_ci.as_str(), SWEEPER_ACTOR),
        ("user.deactivated", expired_agent.as_str(), SWEEPER_ACTOR),
    ];
    wanted.sort();
    assert_eq!(sorted, wanted);
    let event = &changes[changes_before].data;
    assert_eq!(event["active"], false);
    assert!(event["meta"]["location"].as_str().unwrap().starts_with(&idp.base), "{event}");
    // In the tenant's audit trail, one record each with the expiry. (The reads above are
    // recorded too, without being waited for: everything queued is appended first.)
    server.audit.flush().await;
    let records = db.store.tenant(idp.tenant).audit_records(0, 100).await.unwrap();
    let expired: Vec<&store::AuditRecord> = records.iter().filter(|r| r.action == EXPIRED_ACTION).collect();
    assert_eq!(expired.len(), 2);
    assert!(expired.iter().all(|r| r.actor == SWEEPER_ACTOR && r.directory == Some(idp.directory)));
    let ci_record = expired.iter().find(|r| r.resource_id.as_deref() == Some(expired_ci.as_str())).unwrap();
    let detail: Value = serde_json::from_str(&ci_record.detail).unwrap();
    assert_eq!((&detail["expiresAt"], &detail["kind"]), (&json!("2026-12-01T08:00:00.000Z"), &json!("serviceAccount")));
    assert_eq!(db.store.tenant(idp.tenant).verify_audit_chain().await.unwrap().first_break, None);

    // A second run changes nothing more.
    let again = deactivate_expired(&db.store, &public_base, now, 100).await.unwrap();

    assert_eq!(again, vec![]);
    assert_eq!(data.changes_after(0, 1000).await.unwrap().len(), changes.len());
    server.audit.flush().await;
    let records_after = db.store.tenant(idp.tenant).audit_records(0, 100).await.unwrap();
    assert_eq!(records_after.len(), records.len());
    let globex = db.store.tenant_by_slug(&TenantSlug::parse("globex").unwrap()).await.unwrap().unwrap();
    let globex_records = db.store.tenant(globex.id).audit_records(0, 100).await.unwrap();
    assert_eq!(globex_records.iter().filter(|r| r.action == EXPIRED_ACTION).count(), 1);
}

/// Expiry holds on writes: once the sweeper has deactivated an expired identity, the
/// identity provider's next cycle re-sending `active: true` (PATCH or PUT) is refused with
/// 400 invalidValue until the expiry moves; with a later expiry in the same request it is
/// active again.
async fn an_expired_identity_is_made_active_again_only_with_a_later_expiry(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Scim::new(&db, &server, "acme").await;
    let expired = json!({"kind": "serviceAccount", "expiresAt": "2026-12-01T08:00:00Z"});
    let id = idp.create(&identity("ci", expired.clone())).await;
    let swept = deactivate_expired(&db.store, &server.url(""), at("2026-12-01T09:00:00Z"), 100).await.unwrap();
    assert_eq!(swept.len(), 1);

    let (status, refused) = idp.patch(&id, json!([{"op": "replace", "path": "active", "value": true}])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["scimType"], "invalidValue");
    assert!(refused["detail"].as_str().unwrap().contains("expiresAt 2026-12-01T08:00:00Z has passed"), "{refused}");
    let mut put = identity("ci", expired);
    put["active"] = json!(true);
    let (status, refused) = idp.send(Method::PUT, &format!("/Users/{id}"), Some(&put)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(idp.found("active eq false").await, ["ci"]);

    // Moving the expiry with the reactivation: accepted.
    let later = json!([
        {"op": "replace", "path": "active", "value": true},
        {"op": "replace", "path": format!("{NHI}:expiresAt"), "value": "2099-01-01T00:00:00Z"},
    ]);
    let (status, reactivated) = idp.patch(&id, later).await;
    assert_eq!(status, StatusCode::OK, "{reactivated}");
    assert_eq!(reactivated["active"], true);
    assert_eq!(idp.found("active eq true").await, ["ci"]);
}

async fn identities_of_a_deactivated_owner_are_flagged_on_the_dashboard_and_in_support(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let directory = start_directory(&admin, "okta").await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    let idp = Scim::for_directory(&db, &server, tenant.id, directory.parse().unwrap()).await;
    let ada = idp.create(&human("ada")).await;
    let ci = idp
        .create(&identity(
            "ci-deployer",
            json!({"kind": "serviceAccount", "owner": {"value": ada}, "expiresAt": "2027-01-01T00:00:00Z"}),
        ))
        .await;
    idp.create(&identity("triage-agent", json!({"kind": "agent"}))).await;
    let form = [("directory", directory.as_str())];
    let dashboard = || admin.json("/api/directory_identities", &form);

    let before = dashboard().await;
    let support_before = server.json_call("/api/support_flagged_identities", &[]).await;
    let (status, _) = idp.patch(&ada, json!([{"op": "replace", "path": "active", "value": false}])).await;
    assert_eq!(status, StatusCode::OK);
    let after = dashboard().await;
    let support_after = server.json_call("/api/support_flagged_identities", &[]).await;

    let flags = |rows: &Value| {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|row| (row["user_name"].as_str().unwrap().to_owned(), row["flagged"].as_bool().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(flags(&before), [("ci-deployer".to_owned(), false), ("triage-agent".to_owned(), false)]);
    assert_eq!(before[0]["owner"], "ada");
    assert_eq!(before[0]["kind"], "Service account");
    assert_eq!(before[0]["expires"], "2027-01-01 00:00 UTC");
    assert_eq!(support_before, json!([]));
    assert_eq!(flags(&after), [("ci-deployer".to_owned(), true), ("triage-agent".to_owned(), false)]);
    assert_eq!((after[0]["id"].as_str(), after[0]["owner_state"].as_str()), (Some(ci.as_str()), Some("deactivated")));
    assert_eq!(
        support_after,
        json!([{"tenant": "acme", "directory": "Okta", "identity": "ci-deployer", "kind": "Service account",
            "owner": "ada", "owner_state": "deactivated"}])
    );
    // Another tenant's admin cannot read this directory's identities; tenant admins are not support.
    let stranger = admin_of(&server, "globex", "it@globex.example").await;
    let refused = stranger.call("/api/directory_identities", &[("directory", directory.as_str())]).await;
    assert_eq!(refused.status(), 404);
    assert_eq!(admin.call("/api/support_flagged_identities", &[]).await.status(), 401);
}

/// The sweeper shares a run between tenants: a tenant with a backlog of expired identities
/// gets its share, and another tenant's expired agent is deactivated in the same run, not
/// after the backlog.
async fn one_tenants_backlog_of_expired_identities_does_not_hold_back_anothers(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Scim::new(&db, &server, "acme").await;
    let globex = Scim::new(&db, &server, "globex").await;
    let expired = |name: String| identity(&name, json!({"kind": "agent", "expiresAt": "2026-12-01T00:00:00Z"}));
    for n in 0..25 {
        acme.create(&expired(format!("acme-agent-{n}"))).await;
    }
    let lone = globex.create(&expired("globex-agent".to_owned())).await;
    let now = at("2026-12-01T09:00:00Z");
    let public_base = server.url("");

    let run = deactivate_expired(&db.store, &public_base, now, 20).await.unwrap();
    let of = |tenant: store::TenantId| run.iter().filter(|e| e.tenant == tenant).count();
    assert_eq!((of(acme.tenant), of(globex.tenant)), (10, 1), "each tenant's share of a run of 20");
    assert!(run.iter().any(|e| e.id == lone));
    // The backlog goes on in the next runs.
    let second = deactivate_expired(&db.store, &public_base, now, 20).await.unwrap();
    let third = deactivate_expired(&db.store, &public_base, now, 20).await.unwrap();
    assert_eq!((second.len(), third.len()), (10, 5));
    assert!(deactivate_expired(&db.store, &public_base, now, 20).await.unwrap().is_empty());
}

/// An admin's directory with an identity provider's token: `ada` owns `ci-deployer` (a
/// service account) and `triage-agent` (an agent); `grace` owns nothing.
struct OwnedIdentities<'a> {
    admin: crate::onboarding::Visitor<'a>,
    directory: String,
    idp: Scim,
    ada: String,
    grace: String,
    ci: String,
    agent: String,
}

async fn owned_identities<'a>(db: &TestDatabase, server: &'a TestServer) -> OwnedIdentities<'a> {
    let admin = admin_of(server, "acme", "it@acme.example").await;
    let directory = start_directory(&admin, "okta").await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    let idp = Scim::for_directory(db, server, tenant.id, directory.parse().unwrap()).await;
    let ada = idp.create(&human("ada")).await;
    let grace = idp.create(&human("Grace")).await;
    let ci = idp.create(&identity("ci-deployer", json!({"kind": "serviceAccount", "owner": {"value": ada}}))).await;
    let agent = idp.create(&identity("triage-agent", json!({"kind": "agent", "owner": {"value": ada}}))).await;
    OwnedIdentities { admin, directory, idp, ada, grace, ci, agent }
}

impl OwnedIdentities<'_> {
    async fn set_policy(&self, policy: &str, fallback: &str) -> reqwest::Response {
        let form = [("directory", self.directory.as_str()), ("policy", policy), ("fallback_user_name", fallback)];
        self.admin.call("/api/set_owner_policy", &form).await
    }

    async fn choose_extension(&self, offered: &str) -> reqwest::Response {
        let form = [("directory", self.directory.as_str()), ("offered", offered)];
        self.admin.call("/api/set_nonhuman_extension", &form).await
    }

    async fn records(&self, db: &TestDatabase, action: &str) -> Vec<store::AuditRecord> {
        let records = db.store.tenant(self.idp.tenant).audit_records(0, 1000).await.unwrap();
        records.into_iter().filter(|record| record.action == action).collect()
    }
}

async fn the_owner_policy_deactivates_an_ownerless_identity_once_and_audits_it(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let setup = owned_identities(&db, &server).await;
    let public_base = server.url("");
    let now = at("2026-12-01T09:00:00Z");
    let form = [("directory", setup.directory.as_str())];
    let policy = setup.admin.json("/api/owner_policy", &form).await;
    assert_eq!(policy, json!({"policy": "flag", "fallback_user_name": null}));

    let chosen = setup.set_policy("deactivate", "").await;
    assert_eq!(chosen.status(), 200);
    let changed = setup.records(&db, OWNER_POLICY_CHANGED).await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].actor.split(':').next(), Some("admin"));
    assert_eq!(serde_json::from_str::<Value>(&changed[0].detail).unwrap()["policy"], "deactivate");
    // While the owner is active, nothing happens.
    assert_eq!(apply_owner_policies(&db.store, &public_base, now, 100).await.unwrap(), vec![]);

    let (status, _) = setup.idp.patch(&setup.ada, json!([{"op": "replace", "path": "active", "value": false}])).await;
    assert_eq!(status, StatusCode::OK);
    let data = db.store.tenant(setup.idp.tenant).directory_data(setup.idp.directory);
    let changes_before = data.changes_after(0, 1000).await.unwrap().len();
    // Two sweeps at once, as two server processes would run them: each identity once.
    let (first, second) = tokio::join!(
        apply_owner_policies(&db.store, &public_base, now, 100),
        apply_owner_policies(&db.store, &public_base, now, 100)
    );
    let mut applied: Vec<String> = first.unwrap().into_iter().chain(second.unwrap()).map(|a| a.id).collect();
    applied.sort();
    let mut expected = vec![setup.ci.clone(), setup.agent.clone()];
    expected.sort();
    assert_eq!(applied, expected);
    assert_eq!(setup.idp.found("active eq false").await, ["ada", "ci-deployer", "triage-agent"]);
    let changes = data.changes_after(0, 1000).await.unwrap();
    let kinds: Vec<(&str, &str)> =
        changes[changes_before..].iter().map(|c| (c.kind.as_str(), c.actor.as_str())).collect();
    assert_eq!(kinds, [("user.deactivated", OWNER_POLICY_ACTOR); 2]);
    let records = setup.records(&db, OWNER_POLICY_ACTION).await;
    assert_eq!(records.len(), 2);
    let ci_record = records.iter().find(|r| r.resource_id.as_deref() == Some(setup.ci.as_str())).unwrap();
    let detail: Value = serde_json::from_str(&ci_record.detail).unwrap();
    assert_eq!(detail["policy"], "deactivate");
    assert_eq!(detail["owner"], json!(setup.ada));
    assert_eq!(detail["owner_state"], "deactivated");
    assert_eq!(db.store.tenant(setup.idp.tenant).verify_audit_chain().await.unwrap().first_break, None);

    // Nothing more to do on the next run.
    assert_eq!(apply_owner_policies(&db.store, &public_base, now, 100).await.unwrap(), vec![]);
    assert_eq!(data.changes_after(0, 1000).await.unwrap().len(), changes.len());
    // Back to flagging: the dashboard says so, and the sweeper leaves the directory alone.
    assert_eq!(setup.set_policy("flag", "").await.status(), 200);
    assert_eq!(setup.admin.json("/api/owner_policy", &form).await["policy"], "flag");
}

async fn the_owner_policy_reassigns_identities_of_a_deleted_owner_to_the_fallback(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let setup = owned_identities(&db, &server).await;
    let public_base = server.url("");
    let now = at("2026-12-01T09:00:00Z");
    // The fallback is named as the admin knows them, in any case.
    let chosen = setup.set_policy("reassign", " grace ").await;
    assert_eq!(chosen.status(), 200);
    let chosen: Value = chosen.json().await.unwrap();
    assert_eq!(chosen, json!({"policy": "reassign", "fallback_user_name": "Grace"}));

    let (status, _) = setup.idp.send(Method::DELETE, &format!("/Users/{}", setup.ada), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let applied = apply_owner_policies(&db.store, &public_base, now, 100).await.unwrap();
    assert_eq!(applied.len(), 2);
    for id in [&setup.ci, &setup.agent] {
        let identity = setup.idp.get(&format!("/Users/{id}")).await;
        assert_eq!(identity[NHI]["owner"]["value"], json!(setup.grace), "{identity}");
        assert_eq!(identity["active"], json!(null), "reassigned, not deactivated: {identity}");
    }
    let records = setup.records(&db, OWNER_POLICY_ACTION).await;
    let detail: Value = serde_json::from_str(&records[0].detail).unwrap();
    assert_eq!((&detail["owner_state"], &detail["new_owner"]), (&json!("gone"), &json!(setup.grace)));
    // No longer flagged; nothing more on the next run.
    let rows = setup.admin.json("/api/directory_identities", &[("directory", setup.directory.as_str())]).await;
    assert!(rows.as_array().unwrap().iter().all(|row| row["flagged"] == false && row["owner"] == "Grace"), "{rows}");
    assert_eq!(apply_owner_policies(&db.store, &public_base, now, 100).await.unwrap(), vec![]);
}

async fn an_owner_policy_needs_an_active_person_as_fallback(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let setup = owned_identities(&db, &server).await;
    let refusal = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 422);
        response.text().await.unwrap()
    };
    assert!(refusal(setup.set_policy("reassign", "").await).await.contains("Reassigning needs the userName"));
    assert!(refusal(setup.set_policy("reassign", "nobody").await).await.contains("No user of this directory"));
    assert!(refusal(setup.set_policy("reassign", "ci-deployer").await).await.contains("must be a person"));
    let (status, _) = setup.idp.patch(&setup.grace, json!([{"op": "replace", "path": "active", "value": false}])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(refusal(setup.set_policy("reassign", "grace").await).await.contains("must be an active user"));
    assert!(refusal(setup.set_policy("archive", "").await).await.contains("flag, deactivate or reassign"));
    assert!(setup.records(&db, OWNER_POLICY_CHANGED).await.is_empty(), "nothing refused is recorded");
    // Another tenant's admin cannot set this directory's policy.
    let stranger = admin_of(&server, "globex", "it@globex.example").await;
    let form = [("directory", setup.directory.as_str()), ("policy", "deactivate")];
    assert_eq!(stranger.call("/api/set_owner_policy", &form).await.status(), 404);
}

/// The extension is a per-directory choice. Off, discovery offers RFC 7643's schemas only,
/// a body listing the extension's URN is refused, and one carrying it unlisted keeps it as
/// an undeclared attribute (or is refused under the strict policy): no identity, no expiry.
/// Turned on, the users that carry it become identities the sweeper sees; turning it off
/// again is refused while any is left. Each change is audited; another tenant cannot make one.
async fn a_directory_without_the_extension_offers_rfc_7643_only_and_has_no_identities(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let idp = Scim::new(&db, &server, "acme").await;
    let other = Scim::new(&db, &server, "globex").await;
    let (actor, now) = (service::Actor::Cli, at("2026-12-01T09:00:00Z"));
    let scope = db.store.tenant(idp.tenant);

    let indexed = set_nonhuman_extension(&db.store, idp.tenant, idp.directory, false, &actor, now).await.unwrap();

    assert_eq!(indexed, 0);
    let user_type = idp.get("/ResourceTypes/User").await;
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    assert_eq!(user_type["schemaExtensions"], json!([{"schema": enterprise, "required": false}]));
    let schemas = idp.get("/Schemas").await;
    let ids: Vec<&str> = schemas["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(!ids.contains(&NHI), "{ids:?}");
    assert_eq!(idp.send(Method::GET, &format!("/Schemas/{NHI}"), None).await.0, StatusCode::NOT_FOUND);
    assert_eq!(other.get("/ResourceTypes/User").await["schemaExtensions"].as_array().unwrap().len(), 2);
    let expired = json!({"kind": "serviceAccount", "expiresAt": "2026-12-01T08:00:00Z"});
    let (status, refused) = idp.send(Method::POST, "/Users", Some(&identity("listed", expired.clone()))).await;
    assert_eq!((status, &refused["scimType"]), (StatusCode::BAD_REQUEST, &json!("invalidSyntax")), "{refused}");
    let unlisted = json!({"schemas": [USER_SCHEMA], "userName": "ci", "active": true, NHI: expired.clone()});
    let id = idp.create(&unlisted).await;
    assert_eq!(idp.get(&format!("/Users/{id}")).await[NHI], expired);
    assert_eq!(scope.nonhuman_identities(idp.directory, 100).await.unwrap(), vec![]);
    assert_eq!(deactivate_expired(&db.store, &server.url(""), now, 100).await.unwrap(), vec![]);
    assert_eq!(idp.found("active eq true").await, ["ci"]);
    let strict = directories::SettingsChange { strict_attributes: Some(true), ..Default::default() };
    directories::configure_directory(&db.store, idp.tenant, idp.directory, strict, &actor, now).await.unwrap();
    let mut strictly_refused = unlisted.clone();
    strictly_refused["userName"] = json!("ci-2");
    let (status, refused) = idp.send(Method::POST, "/Users", Some(&strictly_refused)).await;
    assert_eq!((status, &refused["scimType"]), (StatusCode::BAD_REQUEST, &json!("invalidSyntax")), "{refused}");

    // On again: the user that carried it is an identity, and the sweeper expires it.
    let indexed = set_nonhuman_extension(&db.store, idp.tenant, idp.directory, true, &actor, now).await.unwrap();

    assert_eq!(indexed, 1);
    assert_eq!(idp.get("/ResourceTypes/User").await["schemaExtensions"].as_array().unwrap().len(), 2);
    let identities = scope.nonhuman_identities(idp.directory, 100).await.unwrap();
    assert_eq!(identities.iter().map(|identity| identity.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    let swept = deactivate_expired(&db.store, &server.url(""), now, 100).await.unwrap();
    assert_eq!(swept.into_iter().map(|expired| expired.id).collect::<Vec<_>>(), std::slice::from_ref(&id));

    // Off is refused while an identity is left, and allowed once it is gone.
    let refused = set_nonhuman_extension(&db.store, idp.tenant, idp.directory, false, &actor, now).await;
    assert!(matches!(refused, Err(NonhumanExtensionError::InUse(1))), "{refused:?}");
    assert!(
        refused.unwrap_err().to_string().contains("still has service accounts, agents or agentic applications (1)")
    );
    assert_eq!(idp.get("/ResourceTypes/User").await["schemaExtensions"].as_array().unwrap().len(), 2);
    assert_eq!(idp.send(Method::DELETE, &format!("/Users/{id}"), None).await.0, StatusCode::NO_CONTENT);
    set_nonhuman_extension(&db.store, idp.tenant, idp.directory, false, &actor, now).await.unwrap();
    let stranger = set_nonhuman_extension(&db.store, other.tenant, idp.directory, true, &actor, now).await;
    assert!(matches!(stranger, Err(NonhumanExtensionError::NoSuchDirectory)), "{stranger:?}");

    let records = scope.audit_records(0, 100).await.unwrap();
    let changes: Vec<Value> = records
        .iter()
        .filter(|record| record.action == EXTENSION_CHANGED)
        .map(|record| serde_json::from_str(&record.detail).unwrap())
        .collect();
    assert_eq!(
        changes,
        [
            json!({"offered": false, "identities_indexed": 0}),
            json!({"offered": true, "identities_indexed": 1}),
            json!({"offered": false, "identities_indexed": 0}),
        ]
    );
    assert!(!scope.directory(idp.directory).await.unwrap().unwrap().settings.nonhuman_extension);
}

/// The tenant admin's dashboard: the extension cannot be turned off while the directory has
/// identities (422 with the reason, nothing changed or recorded); once they are gone it
/// can, and the identity provider sees RFC 7643's schemas only. Another tenant's admin gets
/// 404, and an answer other than on or off is refused.
async fn the_admin_chooses_the_extension_on_the_dashboard(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let setup = owned_identities(&db, &server).await;
    let directory = [("directory", setup.directory.as_str())];
    assert_eq!(setup.admin.json("/api/nonhuman_extension", &directory).await, json!(true));

    let refused = setup.choose_extension("off").await;

    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("still has service accounts, agents or agentic applications (2)"));
    assert_eq!(setup.admin.json("/api/nonhuman_extension", &directory).await, json!(true));
    assert!(setup.records(&db, EXTENSION_CHANGED).await.is_empty(), "nothing refused is recorded");
    for id in [&setup.ci, &setup.agent] {
        assert_eq!(setup.idp.send(Method::DELETE, &format!("/Users/{id}"), None).await.0, StatusCode::NO_CONTENT);
    }

    let turned_off = setup.choose_extension("off").await;

    assert_eq!(turned_off.status(), 200);
    assert_eq!(setup.admin.json("/api/nonhuman_extension", &directory).await, json!(false));
    assert_eq!(setup.idp.get("/ResourceTypes/User").await["schemaExtensions"].as_array().unwrap().len(), 1);
    let records = setup.records(&db, EXTENSION_CHANGED).await;
    assert_eq!(records.len(), 1);
    assert!(records[0].actor.starts_with("admin:"), "{}", records[0].actor);
    assert_eq!(setup.choose_extension("maybe").await.status(), 422);
    let stranger = admin_of(&server, "globex", "it@globex.example").await;
    let form = [("directory", setup.directory.as_str()), ("offered", "on")];
    assert_eq!(stranger.call("/api/set_nonhuman_extension", &form).await.status(), 404);
    assert_eq!(stranger.call("/api/nonhuman_extension", &directory).await.status(), 404);
    assert_eq!(setup.admin.json("/api/nonhuman_extension", &directory).await, json!(false));
}
