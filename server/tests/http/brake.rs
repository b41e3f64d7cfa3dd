//! The safety brake: a mass deactivation past the directory's threshold, and members added
//! to a privileged group, are accepted from the identity provider but held back from the
//! vendor's product until the tenant's admin releases them (delivered then, in order) or
//! discards them (the directory is put back as it was).

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use service::alerts::{AlertChannels, AlertSettings, evaluate};
use service::clock::ManualClock;
use service::directories::TokenRequest;
use store::testing::TestDatabase;
use store::{IdentityProvider, TenantSlug};

use crate::TestServer;
use crate::onboarding::{Visitor, admin_of};
use crate::operator_api::{api_key, events};

store::backend_tests!(
    an_entra_mass_deactivation_is_held_until_the_admin_releases_it,
    a_discarded_batch_puts_the_directory_back_and_never_reaches_the_product,
    the_operator_api_sets_a_directorys_brake_and_a_brake_turned_off_holds_nothing,
    a_mass_deactivation_in_one_bulk_request_is_held_from_the_threshold_on,
);

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn now() -> chrono::DateTime<chrono::Utc> {
    #[allow(clippy::disallowed_methods)] // the server reads the real clock too
    chrono::Utc::now()
}

/// Microsoft Entra ID's side of a directory.
pub(crate) struct Entra {
    tenant: store::Tenant,
    pub(crate) directory: String,
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Entra {
    pub(crate) async fn new(db: &TestDatabase, server: &TestServer, slug: &str) -> Self {
        let request = TokenRequest { label: "Entra prod".into(), read_only: false, expires_at: None };
        let (tenant, directory, token) = crate::provisioned(db, slug, IdentityProvider::Entra, request, now()).await;
        Self {
            tenant,
            directory: directory.id.to_string(),
            base: server.url(&format!("/scim/v2/{}", directory.id)),
            token: token.secret,
            client: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.header("content-type", "application/scim+json; charset=utf-8").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Creates a user as Entra does (string booleans, an email); answers its id.
    async fn create_user(&self, n: usize) -> String {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "externalId": format!("entra-{n}"),
            "userName": format!("user{n}@fabrikam.example"),
            "active": "True",
            "emails": [{"primary": true, "type": "work", "value": format!("user{n}@fabrikam.example")}],
            "name": {"givenName": "User", "familyName": format!("Number {n}")},
        });
        let (status, user) = self.call(Method::POST, "/Users", Some(body)).await;
        assert_eq!(status, 201, "{user}");
        user["id"].as_str().unwrap().to_owned()
    }

    /// Creates a user for each number; answers their ids in that order.
    pub(crate) async fn create_users(&self, numbers: impl IntoIterator<Item = usize>) -> Vec<String> {
        let mut users = Vec::new();
        for n in numbers {
            users.push(self.create_user(n).await);
        }
        users
    }

    pub(crate) async fn create_group(&self, name: &str, members: &[&String]) -> String {
        let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "members": members,
        });
        let (status, group) = self.call(Method::POST, "/Groups", Some(body)).await;
        assert_eq!(status, 201, "{group}");
        group["id"].as_str().unwrap().to_owned()
    }

    /// Entra's deactivation: a capitalised op and a string boolean.
    pub(crate) async fn deactivate(&self, user: &str) {
        let body =
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let (status, answer) = self.call(Method::PATCH, &format!("/Users/{user}"), Some(body)).await;
        assert_eq!(status, 200, "the identity provider's request succeeds, held or not: {answer}");
    }

    async fn rename(&self, user: &str, family_name: &str) {
        let body = json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Replace", "path": "name.familyName", "value": family_name}
        ]});
        let (status, answer) = self.call(Method::PATCH, &format!("/Users/{user}"), Some(body)).await;
        assert_eq!(status, 200, "{answer}");
    }

    async fn add_member(&self, group: &str, user: &str) {
        let body = json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "Add", "path": "members", "value": [{"value": user}]}
        ]});
        let (status, answer) = self.call(Method::PATCH, &format!("/Groups/{group}"), Some(body)).await;
        assert!(status == 200 || status == 204, "{status}: {answer}");
    }
}

/// Every event of the directory's feed the product can read.
async fn feed(server: &TestServer, key: &str, directory: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut query = "?limit=500".to_owned();
    loop {
        let (status, page) = events(server, key, directory, &query).await;
        assert_eq!(status, 200, "{page}");
        let batch = page["events"].as_array().unwrap().clone();
        if batch.is_empty() {
            return all;
        }
        query = format!("?limit=500&after={}", batch.last().unwrap()["cursor"].as_str().unwrap());
        all.extend(batch);
    }
}

async fn read_api(server: &TestServer, key: &str, path: &str) -> Value {
    let response = reqwest::Client::new().get(server.url(path)).bearer_auth(key).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

fn of_kind<'e>(events: &'e [Value], kind: &str) -> Vec<&'e Value> {
    events.iter().filter(|event| event["type"] == kind).collect()
}

async fn an_entra_mass_deactivation_is_held_until_the_admin_releases_it(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "fabrikam", "it@fabrikam.example").await;
    let entra = Entra::new(&db, &server, "fabrikam").await;
    let key = api_key(&db).await;
    let users = entra.create_users(1..=100).await;

    // A scoping mistake: Entra deactivates 40 of the 100. With the defaults (more than 10 %
    // and at least 25 within 10 minutes) the 25th crosses the threshold: it and the 15
    // after it are held.
    for user in &users[..40] {
        entra.deactivate(user).await;
    }
    // The identity provider sees its change made.
    let (_, held_user) = entra.call(Method::GET, &format!("/Users/{}", users[30]), None).await;
    assert_eq!(held_user["active"], false);
    // A later change of a held user is held behind it; other users' changes flow.
    entra.rename(&users[30], "Renamed while held").await;
    entra.rename(&users[80], "Renamed").await;

    let published = feed(&server, &key, &entra.directory).await;
    let deactivated: Vec<&str> =
        of_kind(&published, "user.deactivated").iter().map(|e| e["resource_id"].as_str().unwrap()).collect();
    let first_24: Vec<&str> = users[..24].iter().map(String::as_str).collect();
    assert_eq!(deactivated, first_24, "the product sees none of the held deactivations");
    let updated: Vec<&str> =
        of_kind(&published, "user.updated").iter().map(|e| e["resource_id"].as_str().unwrap()).collect();
    assert_eq!(updated, [users[80].as_str()]);

    // The read API answers with what the product last received, too.
    let workos_user = service::directory_sync::ids::user_id(entra.directory.parse().unwrap(), &users[30]);
    assert_eq!(read_api(&server, &key, &format!("/directory_users/{workos_user}")).await["state"], "active");

    // The admin sees the batch: who, what, sent by which token.
    let directory = entra.directory.clone();
    let page = admin.json("/api/brake_page", &[("directory", &directory)]).await;
    let open = &page["open"];
    assert_eq!((open["changes"].as_i64(), open["revocations"].as_i64()), (Some(17), Some(16)), "{page}");
    let changes = page["open_changes"].as_array().unwrap();
    assert_eq!(changes[0]["summary"], "Deactivated user25@fabrikam.example");
    assert_eq!(changes[0]["by"], "Microsoft Entra ID (token ‘Entra prod’)");
    assert_eq!(changes[16]["summary"], "Updated user31@fabrikam.example");
    let banner = admin.get(&format!("/admin/directories/{directory}/brake")).await;
    assert_eq!(banner.status(), 200);

    // The tenant's admins and support are alerted.
    let clock = Arc::new(ManualClock::starting_at(now()));
    let effects = service::Effects::new(clock);
    let round = evaluate(&db.store, &AlertSettings::default(), &AlertChannels::default(), &effects).await.unwrap();
    assert_eq!(round.opened, 1);
    let alerts = admin.json("/api/open_alerts", &[("directory", &directory)]).await;
    assert_eq!(alerts[0]["kind"], "changes_held");
    let summary = alerts[0]["summary"].as_str().unwrap();
    assert!(summary.starts_with("A mass deactivation in ‘"), "{summary}");
    assert!(summary.contains("17 changes are held for review, 16 of them deactivations or deletions"), "{summary}");

    // Another tenant's admin cannot see or decide it.
    let other = admin_of(&server, "initech", "it@initech.example").await;
    let refused = other.call("/api/brake_page", &[("directory", &directory)]).await;
    assert_eq!(refused.status(), 404);
    let refused =
        other.call("/api/decide_held", &[("directory", &directory), ("number", "1"), ("decision", "release")]).await;
    assert_eq!(refused.status(), 404);

    // Released: the product receives the held changes in the order they were made, with
    // the times they were made.
    let released =
        admin.json("/api/decide_held", &[("directory", &directory), ("number", "1"), ("decision", "release")]).await;
    assert_eq!(released, "Released: 17 changes were sent to the product, in the order they were made.");
    let after = feed(&server, &key, &entra.directory).await;
    let deactivated: Vec<&str> =
        of_kind(&after, "user.deactivated").iter().map(|e| e["resource_id"].as_str().unwrap()).collect();
    let all_40: Vec<&str> = users[..40].iter().map(String::as_str).collect();
    assert_eq!(deactivated, all_40);
    let tail: Vec<(&str, &str)> = after[published.len()..]
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["resource_id"].as_str().unwrap()))
        .collect();
    assert_eq!(tail.len(), 17);
    assert_eq!(tail[16], ("user.updated", users[30].as_str()), "the rename follows the deactivation");
    assert_eq!(after[published.len()]["normalized"]["state"], "inactive");
    let user = read_api(&server, &key, &format!("/directory_users/{workos_user}")).await;
    assert_eq!((user["state"].as_str(), user["last_name"].as_str()), (Some("inactive"), Some("Renamed while held")));
    // Each revocation now has its record, from the time of Entra's request.
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("fabrikam").unwrap()).await.unwrap().unwrap();
    let query = store::RevocationQuery { limit: 100, ..store::RevocationQuery::default() };
    let revocations = db.store.tenant(tenant.id).revocations(&query).await.unwrap();
    assert_eq!(revocations.len(), 40);
    // Deciding twice is refused in words.
    let again =
        admin.call("/api/decide_held", &[("directory", &directory), ("number", "1"), ("decision", "release")]).await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("already released or discarded"));

    // The decision is in the tenant's chained trail; the alert resolves.
    let trail = db.store.tenant(tenant.id).audit_records(0, 10_000).await.unwrap();
    let decided: Vec<_> = trail.iter().filter(|r| r.action == "held_changes.released").collect();
    assert_eq!(decided.len(), 1);
    assert!(decided[0].detail.contains("\"changes\":17"), "{}", decided[0].detail);
    let effects = service::Effects::new(Arc::new(ManualClock::starting_at(now())));
    let round = evaluate(&db.store, &AlertSettings::default(), &AlertChannels::default(), &effects).await.unwrap();
    assert_eq!(round.resolved, 1);

    // The window starts again at the decision: the next deactivation flows.
    entra.deactivate(&users[40]).await;
    let last = feed(&server, &key, &entra.directory).await;
    assert_eq!(last.last().unwrap()["resource_id"], users[40].as_str());
    assert_eq!(entra.tenant.id, tenant.id);
}

/// A Bulk request's operations share one transaction, which keeps the brake's state from
/// one operation to the next: the one that crosses the threshold opens the held batch, the
/// later ones join it (one batch, not one each), and an operation that fails in between
/// changes nothing.
async fn a_mass_deactivation_in_one_bulk_request_is_held_from_the_threshold_on(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "contoso", "it@contoso.example").await;
    let entra = Entra::new(&db, &server, "contoso").await;
    let key = api_key(&db).await;
    let users = entra.create_users(1..=100).await;

    let deactivate = |n: usize, user: &str| {
        json!({"method": "PATCH", "path": format!("/Users/{user}"), "bulkId": format!("d{n}"), "data": {
            "schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]
        }})
    };
    let mut operations: Vec<Value> = users[..30].iter().enumerate().map(|(n, user)| deactivate(n, user)).collect();
    // After the threshold: one that fails (its version is stale), then ten more.
    operations.push(json!({"method": "PATCH", "path": format!("/Users/{}", users[30]), "version": "W/\"999\"",
        "data": {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]}}));
    operations.extend(users[31..41].iter().enumerate().map(|(n, user)| deactivate(100 + n, user)));
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations});
    let (status, answer) = entra.call(Method::POST, "/Bulk", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    let statuses: Vec<&str> =
        answer["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "200").count(), 40, "{answer}");
    assert_eq!(statuses[30], "412", "{answer}");

    let published = feed(&server, &key, &entra.directory).await;
    let deactivated: Vec<&str> =
        of_kind(&published, "user.deactivated").iter().map(|e| e["resource_id"].as_str().unwrap()).collect();
    let first_24: Vec<&str> = users[..24].iter().map(String::as_str).collect();
    assert_eq!(deactivated, first_24, "the product sees none of the held deactivations");
    let directory = entra.directory.clone();
    let page = admin.json("/api/brake_page", &[("directory", &directory)]).await;
    assert_eq!((page["open"]["number"].as_i64(), page["open"]["revocations"].as_i64()), (Some(1), Some(16)), "{page}");

    let released =
        admin.json("/api/decide_held", &[("directory", &directory), ("number", "1"), ("decision", "release")]).await;
    assert_eq!(released, "Released: 16 changes were sent to the product, in the order they were made.");
    let after = feed(&server, &key, &entra.directory).await;
    let deactivated: Vec<&str> =
        of_kind(&after, "user.deactivated").iter().map(|e| e["resource_id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = users[..30].iter().chain(&users[31..41]).map(String::as_str).collect();
    assert_eq!(deactivated, expected);
    // Numbered without a gap, the Bulk request's records as the single writes' before them.
    let numbers: Vec<i64> = db
        .store
        .tenant(entra.tenant.id)
        .directory_data(directory.parse().unwrap())
        .changes_after(0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(numbers, (1..=numbers.len() as i64).collect::<Vec<_>>());
}

async fn a_discarded_batch_puts_the_directory_back_and_never_reaches_the_product(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin: Visitor<'_> = admin_of(&server, "fabrikam", "it@fabrikam.example").await;
    let entra = Entra::new(&db, &server, "fabrikam").await;
    let key = api_key(&db).await;
    let directory = entra.directory.clone();
    let users = entra.create_users(1..=10).await;
    let admins = entra.create_group("Admins", &[&users[0], &users[1]]).await;
    let staff = entra.create_group("Staff", &[&users[6]]).await;

    // Settings: refused in words when wrong; a threshold of 3 users.
    let wrong = admin
        .call("/api/save_brake", &[("directory", &directory), ("enabled", "true"), ("percent", "0"), ("minimum", "3")])
        .await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("The percentage is a whole number from 1 to 100"));
    let saved = admin
        .call("/api/save_brake", &[("directory", &directory), ("enabled", "true"), ("percent", "10"), ("minimum", "3")])
        .await;
    assert!(saved.status().is_success(), "{}", saved.status());
    let marked = admin
        .call("/api/set_privileged_group", &[("directory", &directory), ("group", &admins), ("privileged", "true")])
        .await;
    assert!(marked.status().is_success(), "{}", marked.status());
    let page = admin.json("/api/brake_page", &[("directory", &directory)]).await;
    assert_eq!((page["percent"].as_i64(), page["minimum"].as_i64()), (Some(10), Some(3)));
    let groups: Vec<(&str, bool)> = page["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap(), g["privileged"].as_bool().unwrap()))
        .collect();
    assert_eq!(groups, [("Admins", true), ("Staff", false)]);
    let before = feed(&server, &key, &directory).await;

    // Someone is added to the privileged group: held at once.
    entra.add_member(&admins, &users[2]).await;
    // Two deactivations flow; the third crosses the threshold (3 of 10) and is held, as is
    // the deletion after it, with its removal from Staff.
    entra.deactivate(&users[3]).await;
    entra.deactivate(&users[4]).await;
    entra.deactivate(&users[5]).await;
    let (status, _) = entra.call(Method::DELETE, &format!("/Users/{}", users[6]), None).await;
    assert_eq!(status, 204);
    let (_, gone) = entra.call(Method::GET, &format!("/Users/{}", users[6]), None).await;
    assert_eq!(gone["status"], "404");

    let published = feed(&server, &key, &directory).await;
    let new: Vec<(&str, &str)> = published[before.len()..]
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["resource_id"].as_str().unwrap()))
        .collect();
    assert_eq!(new, [("user.deactivated", users[3].as_str()), ("user.deactivated", users[4].as_str())]);
    let page = admin.json("/api/brake_page", &[("directory", &directory)]).await;
    let summaries: Vec<&str> =
        page["open_changes"].as_array().unwrap().iter().map(|c| c["summary"].as_str().unwrap()).collect();
    assert_eq!(
        summaries,
        [
            "Added user3@fabrikam.example to ‘Admins’",
            "Deactivated user6@fabrikam.example",
            "Removed user7@fabrikam.example from ‘Staff’",
            "Deleted user7@fabrikam.example",
        ]
    );
    let (_, version_held) = entra.call(Method::GET, &format!("/Users/{}", users[5]), None).await;
    // The read API shows what the product last received: no new member of Admins yet.
    let dsync = |user: &str| service::directory_sync::ids::user_id(directory.parse().unwrap(), user);
    let granted = read_api(&server, &key, &format!("/directory_users/{}", dsync(&users[2]))).await;
    assert_eq!(granted["groups"], json!([]), "{granted}");
    let admin_before = read_api(&server, &key, &format!("/directory_users/{}", dsync(&users[0]))).await;
    assert_eq!(admin_before["groups"][0]["name"], "Admins", "{admin_before}");

    // Discarded: the directory is as it was before the batch, and the product never hears
    // of it.
    let discarded =
        admin.json("/api/decide_held", &[("directory", &directory), ("number", "1"), ("decision", "discard")]).await;
    assert!(discarded.as_str().unwrap().starts_with("Discarded: 3 users and groups were put back"), "{discarded}");
    let (_, restored) = entra.call(Method::GET, &format!("/Users/{}", users[5]), None).await;
    assert_eq!(restored["active"], true);
    assert_ne!(restored["meta"]["version"], version_held["meta"]["version"], "a held state's ETag no longer matches");
    let (status, deleted) = entra.call(Method::GET, &format!("/Users/{}", users[6]), None).await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["groups"][0]["value"], staff.as_str());
    let filter = "/Users?filter=emails%5Bvalue%20eq%20%22user7%40fabrikam.example%22%5D";
    let (_, found) = entra.call(Method::GET, filter, None).await;
    assert_eq!(found["totalResults"], 1, "its lookup values are back");
    let (_, group) = entra.call(Method::GET, &format!("/Groups/{admins}"), None).await;
    let mut members: Vec<&str> =
        group["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
    members.sort_unstable();
    let mut expected = vec![users[0].as_str(), users[1].as_str()];
    expected.sort_unstable();
    assert_eq!(members, expected);

    let after = feed(&server, &key, &directory).await;
    assert_eq!(after.len(), published.len(), "nothing of the batch was published");
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("fabrikam").unwrap()).await.unwrap().unwrap();
    let query = store::RevocationQuery { limit: 100, ..store::RevocationQuery::default() };
    assert_eq!(db.store.tenant(tenant.id).revocations(&query).await.unwrap().len(), 2);
    let trail = db.store.tenant(tenant.id).audit_records(0, 10_000).await.unwrap();
    for action in ["directory.brake_set", "group.marked_privileged", "held_changes.discarded"] {
        assert_eq!(trail.iter().filter(|r| r.action == action).count(), 1, "{action}");
    }
    let page = admin.json("/api/brake_page", &[("directory", &directory)]).await;
    assert!(page["open"].is_null());
    assert_eq!(page["past"][0]["state"], "discarded");
    assert!(page["past"][0]["decided"].as_str().unwrap().starts_with("Discarded by it@fabrikam.example on "));

    // The identity provider's next sync, with the scope fixed, goes through as usual.
    entra.rename(&users[5], "Still here").await;
    let last = feed(&server, &key, &directory).await;
    assert_eq!(last.last().unwrap()["type"], "user.updated");
}

async fn the_operator_api_sets_a_directorys_brake_and_a_brake_turned_off_holds_nothing(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let key = api_key(&db).await;
    let entra = Entra::new(&db, &server, "brakeapi").await;
    let path = format!("/api/v1/tenants/brakeapi/directories/{}/safety-brake", entra.directory);
    let client = reqwest::Client::new();
    let put = |key: String, body: Value| {
        let request = client.put(server.url(&path)).bearer_auth(key).json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };

    // The default, then bounds, another area's key, an unknown directory.
    assert_eq!(read_api(&server, &key, &path).await, json!({"enabled": true, "percent": 10, "minimum": 25}));
    let (status, problem) = put(key.clone(), json!({"enabled": true, "percent": 0, "minimum": 25})).await;
    assert_eq!((status, problem["detail"].as_str()), (400, Some("the percentage is a whole number from 1 to 100")));
    let (status, problem) = put(key.clone(), json!({"enabled": true, "percent": 10, "minimum": 0})).await;
    assert_eq!(status, 400, "{problem}");
    let webhooks_only = crate::api_keys::issue(&db, "webhooks", &[service::api_keys::ApiArea::Webhooks], false).await;
    let off = json!({"enabled": false, "percent": 10, "minimum": 25});
    assert_eq!(put(webhooks_only, off.clone()).await.0, 403);
    let elsewhere = client
        .put(server.url("/api/v1/tenants/brakeapi/directories/00000000-0000-0000-0000-000000000000/safety-brake"))
        .bearer_auth(&key)
        .json(&off)
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 404);
    assert_eq!(read_api(&server, &key, &path).await["enabled"], true, "nothing refused was saved");

    // Off: a deactivation of every user goes to the product, none is held.
    let (status, saved) = put(key.clone(), off.clone()).await;
    assert_eq!((status, saved), (200, off.clone()));
    assert_eq!(read_api(&server, &key, &path).await, off);
    let users = entra.create_users(0..30).await;
    for user in &users {
        entra.deactivate(user).await;
    }
    let events = feed(&server, &key, &entra.directory).await;
    assert_eq!(of_kind(&events, "user.deactivated").len(), 30, "a brake turned off holds nothing");
    let batches = service::brake::overview(&db.store, entra.tenant.id, entra.directory.parse().unwrap()).await;
    assert!(batches.unwrap().unwrap().batches.is_empty());

    // The change is in the tenant's audit trail, by the key.
    let trail = client
        .get(server.url("/api/v1/tenants/brakeapi/audit?operation=directory.brake_set"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let records: Vec<Value> = trail.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(records.len(), 1, "{trail}");
    assert_eq!(records[0]["detail"], json!({"enabled": false, "percent": 10, "minimum": 25}), "{trail}");
}
